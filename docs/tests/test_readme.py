"""The READMEs' commands and pasted runs stay true to what the code prints today.

The pasted runs of `vc6-bench sgemm --size 1024` (README.md, packages/vc6-bench/README.md)
take a minute to reproduce, too long for this suite, so their *shape* is checked instead: the
same command run at a small size must print the same lines with only the figures differing
(every figure and its unit is masked on both sides). A label, a unit, a note or a line that the code no longer
prints, or prints twice ("QPU clock: QPU clock"), fails here. The figures themselves are real
runs, dated by the text around them.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest
from vc6_bench.cli import main

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
# a figure, with its unit when it has one (a small run prints us where the big one prints ms)
FIGURE = re.compile(r"\d+(\.\d+)?(e[+-]\d+)?(x\d+)*( ?(s|ms|us|ns|B|kB|MB|GB)\b)?")


def _blocks(path: Path, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", path.read_text(), flags=re.DOTALL)


# What vc6-bench writes to stderr on a first run (a pasted terminal session shows it; the
# shape check compares standard output).
STDERR_NOTES = ("compiling the emulator (one time", "compiled the emulator in ")
# Lines printed only at the pasted size: the py-videocore6 comparison exists at its record
# sizes (1024^3 for sgemm), not at the small size this test runs.
SIZE_DEPENDENT = ("  py-videocore6 ",)


def _pasted_run(path: Path, command: str) -> list[str]:
    """The standard output printed under `$ <command>` in a text block of `path`."""
    for block in _blocks(path, "text"):
        lines = block.splitlines()
        if lines and lines[0].startswith("$ ") and lines[0].endswith(command):
            return [line for line in lines[1:]
                    if line != "..." and not line.startswith(STDERR_NOTES + SIZE_DEPENDENT)]
    raise AssertionError(f"{path.name} has no pasted run of {command!r}")


def _shape(lines: list[str]) -> list[str]:
    return [FIGURE.sub("#", line.rstrip()) for line in lines]


@pytest.mark.parametrize("readme", [README, ROOT / "packages" / "vc6-bench" / "README.md"],
                         ids=["README", "vc6-bench README"])
def test_the_pasted_main_job_has_the_shape_of_todays_output(readme: Path) -> None:
    pasted = _pasted_run(readme, "vc6-bench sgemm --size 1024")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["sgemm", "--size", "64", "--no-progress"]) == 0
    assert _shape(pasted) == _shape(out.getvalue().splitlines())


def test_readme_commands_name_the_packages_that_exist() -> None:
    first = _blocks(README, "sh")[0]
    for path in re.findall(r"\./packages/([\w-]+)", first):
        assert (ROOT / "packages" / path / "pyproject.toml").is_file(), path
    assert "vc6-bench sgemm --size 1024" in first
    getting_started = (ROOT / "docs" / "getting-started.md").read_text()
    install = re.search(r"pip install -q (?:--[\w-]+ )*(\./packages.*?) &&", first).group(1)
    assert install in getting_started, "getting-started installs other packages than the README"


def test_the_first_command_installs_the_build_backend_the_packages_ask_for() -> None:
    # The first command builds the packages without build isolation, so it installs their
    # backend itself: with another version range it could build with a backend they reject.
    first = _blocks(README, "sh")[0]
    assert "--no-build-isolation" in first
    for pyproject in sorted((ROOT / "packages").glob("*/pyproject.toml")):
        requires = re.search(r"^requires = \[(.*)\]$", pyproject.read_text(), re.MULTILINE).group(1)
        for spec in re.findall(r'"([^"]+)"', requires):
            quoted = re.escape(f"'{spec}'")
            assert re.search(rf"pip install -q (?:--[\w-]+ )*{quoted} &&", first), (pyproject.parent.name, spec)

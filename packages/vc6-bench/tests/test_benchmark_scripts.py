"""Every script under benchmarks/ still starts: `--help` imports it and parses its options.

The benchmarks are run by hand (their figures go into issue notes), so nothing else notices when
a change elsewhere breaks one: job_control.py imported a helper that emulator_speed.py no longer
had, and failed on its first line for a whole session. The benchmarks also leave numba caches
in the tree (`emulator_speed.py --against` compiles each tree into its own cache folder), and two
of those compiled machines were committed by accident once: the last test keeps them out.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[3] / "benchmarks"
SCRIPTS = sorted(BENCHMARKS.glob("*.py"))


def test_the_benchmarks_folder_is_found():
    assert len(SCRIPTS) >= 5, f"no benchmark scripts under {BENCHMARKS}"


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_benchmark_script_starts(script: Path):
    done = subprocess.run([sys.executable, str(script), "--help"], check=False, capture_output=True,
                          text=True, timeout=120, cwd=BENCHMARKS)  # fmt: skip
    assert done.returncode == 0, f"{script.name} --help failed:\n{done.stderr[-2000:]}"
    assert done.stdout.strip(), f"{script.name} --help printed nothing"


@pytest.mark.skipif(shutil.which("git") is None or not (BENCHMARKS.parent / ".git").exists(),
                    reason="needs git and a git checkout of the repository")
def test_no_compiled_machine_is_tracked():
    tracked = subprocess.run(["git", "ls-files", "*.nbi", "*.nbc"], check=True, capture_output=True,
                             text=True, cwd=BENCHMARKS.parent).stdout.split()  # fmt: skip
    assert not tracked, f"numba cache files are committed (git rm --cached them): {tracked}"

"""Every script under benchmarks/ still starts: `--help` imports it and parses its options.

The benchmarks are run by hand (their figures go into issue notes), so nothing else notices when
a change elsewhere breaks one: job_control.py imported a helper that emulator_speed.py no longer
had, and failed on its first line for a whole session.
"""

from __future__ import annotations

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

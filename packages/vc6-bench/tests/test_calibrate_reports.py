"""benchmarks/calibrate.py --report: selftest reports as extra ground truth of the cycle model.

The report is made without a Pi, by a selftest whose "hardware" is the emulator with a memory 1.5x
slower (perturb.slow_memory): re-modelled with today's model its kernels must show measured /
modelled > 1, and such a report must only count in the verdict when it claims to come from a Pi.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from vc6_bench import cli

SCRIPT = Path(__file__).resolve().parents[3] / "benchmarks" / "calibrate.py"


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("reports") / "slow.json"
    code = cli.main(["selftest", "--fake-hardware", "vc6_bench.selftest.perturb:slow_memory", "--sizes", "small",
                     "--only", "kernel.scopy:small,kernel.sgemm:small", "--report", str(path), "--no-progress"],
                    stdout=io.StringIO(), stderr=io.StringIO())
    assert code == 1  # the timing differs: that is the perturbation
    return path


def calibrate(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), "--no-pv6", *argv], check=False, capture_output=True,
                          text=True, timeout=120)


def test_an_emulated_report_is_shown_with_its_slowdown_but_never_counted(report):
    document = json.loads(report.read_text())
    done = calibrate("--json", "--include-emulated", "--report", str(report))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    rows = {r["program"]: r for r in result["reports"]}
    assert set(rows) == {"vc6_kernels.scopy", "vc6_kernels.sgemm"}
    for truth in document["ground_truth"]:
        row = rows[truth["program"]]
        assert row["from_hardware"] is False and row["counted"] is False
        # re-modelled with today's model (the one that made the report): the same cycles
        assert row["modelled_cycles"] == truth["modelled_cycles"]
        assert row["ratio"] == pytest.approx(truth["measured_cycles"] / truth["modelled_cycles"])
        assert row["ratio"] > 1.1  # the slower memory shows
    assert result["within_band"]  # nothing counted
    skipped = json.loads(calibrate("--json", "--report", str(report)).stdout)
    assert skipped["reports"] == []  # without --include-emulated an emulated "GPU" is no ground truth


def test_a_pis_entry_outside_the_band_fails_the_calibration(report, tmp_path):
    document = json.loads(report.read_text())
    document["hardware"]["emulated"] = False  # as if a Pi with that slower memory had made it
    for truth in document["ground_truth"]:
        truth["from_hardware"] = True
    pi = tmp_path / "pi.json"
    pi.write_text(json.dumps(document))
    done = calibrate("--report", str(pi))
    assert done.returncode == 1, done.stderr
    assert "OUTSIDE the quoted band" in done.stdout and "2 counted figure(s)" in done.stdout
    assert "(emulated)" not in done.stdout
    for name in ("vc6_kernels.scopy", "vc6_kernels.sgemm"):
        assert name in done.stdout


def test_a_file_that_is_no_report_is_refused(tmp_path):
    other = tmp_path / "other.json"
    other.write_text('{"format": "something-else"}')
    done = calibrate("--report", str(other))
    assert done.returncode != 0 and "is not 'vc6-bench-selftest/1'" in done.stderr

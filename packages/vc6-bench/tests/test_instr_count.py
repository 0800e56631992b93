"""benchmarks/instr_count.py: reading callgrind's dumps and turning counts into figures.

The parts that need no valgrind are tested on hand-written callgrind files: a function's own
cost excludes the inclusive cost of the calls it makes, compressed names resolve, addresses land
in the machine function that holds them, and a shape's figure is the difference of its two jobs.
One test runs the script itself under valgrind; it is skipped where valgrind or a C compiler is
missing (CI), and a skip is not a pass.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from benchmark_scripts import BENCHMARKS, load_script

#: A callgrind dump as callgrind writes one (positions `line`): run (at 0x1000) costs 100 itself
#: and calls the lookup (0x2000, 40 of its own) once; Python's code (a named function) 7.
DUMP = """# callgrind format
version: 1
creator: callgrind-3.19.0
desc: Trigger: Client Request: shape:nop:20
positions: line
events: Ir
summary: 0

ob=(1) ???
fl=(1) ???
fn=(1) 0x0000000000001000
0 60
+3 40
cob=(1)
cfi=(1)
cfn=(2) 0x0000000000002000
calls=1 0
0 999
fn=(2)
0 40
fn=(3) 0x0000000000001800'2
0 5
ob=(2) /usr/lib/libpython3.11.so
fl=(2) ceval.c
fn=(4) _PyEval_EvalFrameDefault
0 7

totals: 152
"""

FUNCTIONS = [
    (0x1000, 0x1000, "_ZN7vc6_isa8emulator7machine3run3runB2v1B64i3fLSUyHBSM8Rdi"),
    (0x2000, 0x100, "_ZN7vc6_isa8emulator7machine3tmu10tmu_lookupB4v134B62i3fLSU"),
]


@pytest.fixture(scope="module")
def instr_count():
    return load_script("instr_count")


@pytest.fixture
def dumps(tmp_path):
    (tmp_path / "callgrind.out.1").write_text(DUMP)
    (tmp_path / "callgrind.out").write_text(DUMP.replace("Client Request: shape:nop:20", "Program termination"))
    return tmp_path


def test_own_costs_by_function_leave_out_the_calls_inclusive_cost(instr_count, dumps):
    split = instr_count.function_split(dumps, "shape:nop:20", FUNCTIONS)
    # 0x1800'2 (a recursive copy's name) is inside run's range
    assert split == {"run.run": 105, "tmu.tmu_lookup": 40, instr_count.OUTSIDE: 7}


def test_dumps_are_read_by_the_job_that_triggered_them(instr_count, dumps):
    assert instr_count.read_dumps(dumps) == {"shape:nop:20": 152}


def test_a_shape_figure_is_the_difference_of_its_two_jobs(instr_count):
    specs = instr_count.job_specs([64], ["nop"], 20)
    assert specs == ["sgemm:64", "shape:nop:20", "shape:nop:40"]
    counts = {"sgemm:64": 4_000, "shape:nop:20": 1_300, "shape:nop:40": 2_300}
    n = {"sgemm:64": 10, "shape:nop:20": 110, "shape:nop:40": 210}
    figures = instr_count.figures(counts, n, [64], ["nop"], 20)
    assert figures == {"sgemm 64": 400.0, "nop": 10.0}  # (2300 - 1300) / (210 - 110), not 2300 / 210


#: The same costs as `--dump-instr=yes` writes them (positions `instr line`): absolute and relative
#: instruction addresses, the call's line moving the address too.
DUMP_INSTR = """positions: instr line
events: Ir
desc: Trigger: Client Request: sgemm:64
fn=(1) 0x0000000000001000
0x1000 0 3
+4 0 3
cfn=(2) 0x0000000000002000
calls=3 0x2000 0
+2 0 900
+5 0 3
fn=(2)
0x2000 0 6
-0x10 0 1
"""


def test_per_instruction_costs_follow_relative_addresses(instr_count, tmp_path):
    (tmp_path / "callgrind.out.1").write_text(DUMP_INSTR)
    costs = list(instr_count.own_costs(tmp_path / "callgrind.out.1"))
    assert costs == [("0x0000000000001000", 0x1000, 3), ("0x0000000000001000", 0x1004, 3),
                     ("0x0000000000001000", 0x100B, 3), ("0x0000000000002000", 0x2000, 6),
                     ("0x0000000000002000", 0x1FF0, 1)]


@pytest.mark.skipif(shutil.which("valgrind") is None or shutil.which("cc") is None,
                    reason="needs valgrind and a C compiler")
def test_counts_under_valgrind_repeat_exactly(tmp_path):
    """The script end to end on one small shape, twice: the same figure both times (slow: the
    first run compiles the AVX2 machine, ~30 s)."""
    env = dict(os.environ)
    figures = []
    for _ in range(2):
        out = subprocess.run([sys.executable, str(BENCHMARKS / "instr_count.py"), "--no-sgemm", "--shape", "nop",
                              "--iterations", "4", "--json"], env=env, capture_output=True, text=True, check=True)
        figures.append(json.loads(out.stdout)["figures"]["this tree"]["nop"])
    assert 50 < figures[0] < 1000  # host instructions per emulated nop row: tens to hundreds
    assert abs(figures[0] - figures[1]) < 1e-6 * figures[0]

"""Hardware-behaviour cases: small QPU programs, with seeded inputs, that pin down one behaviour
each (ALU, SFU, flags, branches, signals, TMU, unifa, threads, barriers), and a sweep of every ALU op of the
encoding table over corner-case operands (`vc6_isa.cases.ops`). The emulator tests assert their documented
results; `vc6-bench selftest` runs them on a Pi and on the emulator and compares word for word.

    from vc6_isa.cases import CASES, run_case
    with v3d_drm.open() as dev:
        result = run_case(dev, CASES["alu.float_ops"])
"""

from . import alu, control, dispatch, ops
from .case import POISON, Case, CaseRun, run_case
from .probe import end_program, epilogue, load_rows, prologue, store

#: Every case by name, in a stable order (the groups, then the cases within each).
CASES: dict[str, Case] = {case.name: case for case in (*alu.CASES, *control.CASES, *dispatch.CASES, *ops.CASES)}

__all__ = ["CASES", "POISON", "Case", "CaseRun", "end_program", "epilogue", "load_rows", "prologue",
           "run_case", "store"]

# ruff: noqa: F811  (pytest fixtures imported from test_emulator_support)
"""Emulator ALU semantics checked lane by lane against numpy: integer and float ops, pack and
unpack, flags (push, update, conditional writes), small immediates, r5 broadcast, rotation,
multop/umul24, SFU latency. The programs and their expected values are the shared cases of
:mod:`vc6_isa.cases.alu` (``vc6-bench selftest`` runs the same programs on a Pi)."""

from __future__ import annotations

import pytest
from test_emulator_support import dev  # noqa: F401
from vc6_isa.cases import alu, run_case


@pytest.mark.parametrize("case", alu.CASES, ids=lambda case: case.name)
def test_alu_case_gives_its_documented_values(dev, case):
    result = run_case(dev, case)
    case.verify(result.outputs, result.inputs)


def test_legacy_sfu_write_counts_one_sfu_operation(dev):
    case = next(c for c in alu.CASES if c.name == "sfu.recip_r4")
    assert run_case(dev, case).job.stats.sfu_operations == 1

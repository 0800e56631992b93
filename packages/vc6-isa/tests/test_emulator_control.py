# ruff: noqa: F811  (pytest fixtures imported from test_emulator_support)
"""Emulator control flow, signals and memory: every branch condition (incl. msfign), delay
slots, link register, uniform-stream branches, signal timing, TMU vector/typed reads and writes,
per-lane masking, unifa/ldunifa. The programs and their expected values are the shared cases of
:mod:`vc6_isa.cases.control` (``vc6-bench selftest`` runs the same programs on a Pi)."""

from __future__ import annotations

import pytest
from test_emulator_support import dev  # noqa: F401
from vc6_isa.cases import CASES, control, run_case


@pytest.mark.parametrize("case", control.CASES, ids=lambda case: case.name)
def test_control_case_gives_its_documented_values(dev, case):
    result = run_case(dev, case)
    case.verify(result.outputs, result.inputs)


def test_branch_cases_cover_every_condition_pattern_and_msfign():
    names = [c.name for c in control.CASES if c.name.startswith("branch.conditions")]
    assert len(names) == len(control.BRANCH_PATTERNS) * 3 == len(set(names))


def test_link_register_points_after_the_delay_slots(dev):
    result = run_case(dev, CASES["branch.delay_slots_link"])
    link = int(result.outputs["out"][1, 0])
    code_base = link - 8 * result.program.labels["back"]
    assert code_base % 8 == 0
    # the code was staged into a BO of this device: the link lies inside the program
    assert 0 <= link - code_base < 8 * len(result.program.words)

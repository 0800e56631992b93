# ruff: noqa: F811  (pytest fixtures imported from test_emulator_support)
"""Dispatch on the emulated machine: 8 QPUs, 2 and 4 threads per QPU, payload (rf0/rf2), tidx,
MSF of partial batches, barriers across a supergroup, single- vs multi-segment programs. The
programs and their expected values are the shared cases of :mod:`vc6_isa.cases.dispatch`
(``vc6-bench selftest`` runs the same programs on a Pi)."""

from __future__ import annotations

import pytest
from test_emulator_support import dev  # noqa: F401
from vc6_isa.cases import CASES, dispatch, run_case


@pytest.mark.parametrize("case", dispatch.CASES, ids=lambda case: case.name)
def test_dispatch_case_gives_its_documented_values(dev, case):
    result = run_case(dev, case)
    case.verify(result.outputs, result.inputs)


def test_each_batch_is_one_emulated_batch(dev):
    assert run_case(dev, CASES["thread.two_threads_payload"]).job.stats.batches == 16
    assert run_case(dev, CASES["thread.four_threads_switches"]).job.stats.batches == 32

"""Helpers shared by the emulator tests: a device fixture and store-every-lane probes.

A probe kernel starts with :func:`prologue` (rf10 = out + 4 * lane, rf11 = 64), writes each
16-lane value it wants to check with :func:`store` (row k of a (rows, 16) uint32 output) and
ends with :func:`epilogue` (tmuwt + the multi-segment program end of reference section 14).
Those helpers live in :mod:`vc6_isa.cases.probe` (shared with the hardware-behaviour cases).
"""

from __future__ import annotations

import numpy as np
import pytest
import v3d_drm
from vc6_isa.asm import *
from vc6_isa.cases.probe import end_program, epilogue, prologue, store  # noqa: F401 - re-exported to the tests


@pytest.fixture(scope="session")
def dev():
    with v3d_drm.open("emulator") as d:
        yield d


def probe(dev, kernel, rows: int, uniforms=(), *, options=None, **dispatch) -> tuple[np.ndarray, object]:
    """Run a probe kernel (first uniform = output address); returns ((rows, 16) uint32, job)."""
    out = dev.array((rows, 16), np.uint32)
    out[:] = 0xCCCCCCCC
    prog = assemble(kernel)
    job = dev.dispatch(prog, [out.address, *uniforms], bos=[out, *dispatch.pop("bos", ())],
                       executor_options=options, **dispatch)  # fmt: skip
    job.wait()
    result = np.array(out)
    out.close()
    return result, job


def test_probe_harness_stores_every_lane(dev):
    @qpu
    def kernel(asm):
        prologue()
        eidx(r0)
        store(r0)
        epilogue()

    out, job = probe(dev, kernel, 1)
    assert out[0].tolist() == list(range(16))
    assert job.stats.thread_instructions > 0

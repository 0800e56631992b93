# ruff: noqa: F811, B018  (pytest fixtures imported from test_emulator_support; DSL labels)
"""The emulator's choices that follow the hardware evidence of reference Appendix G, each checked
on a small program (the ports in test_hw_*.py check them on the programs that ran on a Pi 4)."""

from __future__ import annotations

import numpy as np
import pytest
import v3d_drm
from test_emulator_support import dev, epilogue, probe, prologue, store  # noqa: F401
from vc6_isa.asm import *
from vc6_isa.emulator import QPUError


def test_lanes_of_batches_past_the_workgroups_are_active(dev):
    # one workgroup of 16, 8 batches: batches 1-7 have no invocation by Mesa's count, yet
    # their lanes take part in per-pixel TMU writes (G.1)
    @qpu
    def kernel(asm):
        prologue()
        msf(r0)
        tidx(r1)
        shr(r1, r1, 2)  # QPU = batch number here (one batch per QPU)
        shl(r1, r1, 6)
        add(rf[10], rf[10], r1)
        store(r0)
        epilogue()

    out, job = probe(dev, kernel, 8, batches=8)
    assert job.stats.batches == 8
    assert (out != 0xCCCCCCCC).all()
    assert (out != 0).all()  # MSF nonzero in every lane of every batch


def test_partial_batch_of_a_real_workgroup_keeps_inactive_lanes(dev):
    # a workgroup of 8: lanes 8-15 of its batch carry no invocation (MSF = 0, no TMU access)
    @qpu
    def kernel(asm):
        prologue()
        msf(r0)
        store(r0)
        epilogue()

    out, _ = probe(dev, kernel, 1, local_size=(8, 1, 1))
    assert (out[0, :8] != 0).all()
    assert (out[0, 8:] == 0xCCCCCCCC).all()


def test_prefetch_with_config_0x80_has_no_result(dev):
    # G.6: per-lookup config byte 0x80 = per-pixel, op 0 (prefetch), type 0, no data
    @qpu
    def kernel(asm):
        prologue()
        mov(r0, -1)
        shl(r0, r0, 7)  # 0xffffff80: 0x80 for this lookup, then 0xff
        mov(tmuc, r0)
        mov(tmua, rf[10])  # a prefetch: nothing to pop
        mov(r1, 5)
        store(r1)
        epilogue()

    out, _ = probe(dev, kernel, 1)
    assert (out[0] == 5).all()


def _write_then_read_uniform(through_unifa):
    # uniforms: output, data (, data again: the branch's absolute uniform address).
    # data[0] <- 2 by TMU, then data[0] is read through a uniform stream
    @qpu
    def kernel(asm):
        prologue()
        nop(sig=ldunifrf(rf[12]))
        mov(tmud, 2)
        mov(tmua, rf[12])
        tmuwt()
        if through_unifa:
            mov(unifa, rf[12])
            nop()
            nop()
            nop()
            nop(sig=ldunifarf(r1))
        else:
            b(R.there, cond="always").unif_addr(absolute=True)
            nop()
            nop()
            nop()
            L.there
            nop(sig=ldunifrf(r1))
        store(r1)
        epilogue()

    return kernel


@pytest.mark.parametrize("through_unifa", [False, True])
def test_uniform_streams_do_not_see_tmu_writes_of_the_job(dev, through_unifa):
    # G.5: the uniform cache does not see TMU writes of the same job (for unifa inferred:
    # reference 11.3); the next job sees them
    data = dev.array(1024, np.uint32)
    data[:] = 1
    try:
        for expected in (1, 2):
            out, _ = probe(dev, _write_then_read_uniform(through_unifa), 1,
                           [data.address, data.address], bos=[data])  # fmt: skip
            assert (out[0] == expected).all()
            assert data[0] == 2
    finally:
        data.close()


def test_strict_option_values(dev):
    @qpu
    def kernel(asm):
        prologue()
        epilogue()

    for level in (True, "hardware", "mesa", False):
        probe(dev, kernel, 1, options={"strict": level})
    with pytest.raises(v3d_drm.V3DError, match="strict='bogus'"):
        probe(dev, kernel, 1, options={"strict": "bogus"})


def test_thrsw_two_apart_makes_two_switches(dev):
    # G.3 runs on hardware; modelled as two switches. With a second thread on the QPU (9
    # batches: QPU 0 holds batches 0 and 8) the first thread's r1, written between the two
    # switches, was replaced by the other thread's: reading it afterwards is flagged.
    @qpu
    def kernel(asm):
        prologue()
        nop(sig=thrsw)
        nop()
        nop(sig=thrsw)
        tidx(r1)  # differs between the two threads of QPU 0
        nop()
        mov(r2, r1)
        epilogue()

    probe(dev, kernel, 1)  # alone on each QPU: fine
    with pytest.raises(QPUError, match="rule 1.2") as info:
        probe(dev, kernel, 1, batches=9)
    assert "r1" in info.value.disassembly

# ruff: noqa: F811  (pytest fixtures imported from test_emulator_support; DSL labels are expressions)
"""Dispatch on the emulated machine: 8 QPUs, 2 and 4 threads per QPU, payload (rf0/rf2), tidx,
MSF of partial batches, barriers across a supergroup, single- vs multi-segment programs."""

from __future__ import annotations

import numpy as np
from test_emulator_support import dev, end_program, epilogue, store  # noqa: F401
from vc6_isa.asm import *


def per_batch_kernel(threaded_switches: int = 0):
    """Store tidx, rf0, rf2, msf of each batch at out + 256 * batch_index + 4 * lane, where
    the batch index is given by rf0's workgroup X (one workgroup per batch of 16)."""

    @qpu
    def kernel(asm):
        mov(rf[20], rf[0])
        mov(rf[21], rf[2])
        eidx(r0, sig=ldunif)
        shl(r0, r0, 2)
        band(r1, rf[20], 0xFF if False else -1)  # whole rf0
        mov(r2, 1)
        shl(r2, r2, 8)
        umul24(r1, rf[20], r2)  # batch (= workgroup X, small) * 256
        add(r0, r0, r1)
        add(rf[10], r5, r0)
        mov(rf[11], 1)
        shl(rf[11], rf[11], 6)
        for _ in range(threaded_switches):
            nop(sig=thrsw)
            nop()
            nop()
        tidx(r0)
        store(r0)
        store(rf[20])
        store(rf[21])
        msf(r0)
        store(r0)
        epilogue()

    return kernel


def run_batches(dev, nbatch, **kw):
    out = dev.array((nbatch, 4, 16), np.uint32)
    prog = assemble(per_batch_kernel(kw.pop("switches", 0)))
    job = dev.dispatch(prog, [out.address], bos=[out], workgroups=(nbatch, 1, 1), local_size=(16, 1, 1), **kw)
    job.wait()
    result = np.array(out)
    out.close()
    return result, job


def test_8_qpus_2_threads_payload_and_tidx(dev):
    out, job = run_batches(dev, 16)
    lanes = np.arange(16)
    for batch in range(16):
        assert (out[batch, 1] == batch).all()  # rf0 = workgroup X | Y << 16
        local = out[batch, 2] >> 26  # rf2 top L=6 bits = local index
        np.testing.assert_array_equal(local, lanes)
        assert (out[batch, 2] & 0xFFFF == 0).all()  # Z = 0
        assert (out[batch, 3] != 0).all()  # every lane active
    tids = out[:, 0, 0]
    qpus = tids >> 2
    threads = tids & 3
    assert sorted(set(qpus.tolist())) == list(range(8))  # all 8 QPUs used
    assert set(threads.tolist()) == {0, 2}  # 2-thread mode: thread numbers 0 and 2 (UNCERTAIN)
    assert len(set(tids.tolist())) == 16
    assert job.stats.batches == 16


def test_4_threads_and_thread_switches(dev):
    out, _ = run_batches(dev, 32, threading=True, switches=2)
    tids = out[:, 0, 0]
    assert len(set(tids.tolist())) == 32
    assert set((tids & 3).tolist()) == {0, 1, 2, 3}
    for batch in range(32):
        assert (out[batch, 1] == batch).all()


def test_partial_batches_have_msf_zero_in_unused_lanes(dev):
    out = dev.array((2, 4, 16), np.uint32)
    out[:] = 0
    prog = assemble(per_batch_kernel())
    # 2 workgroups of 24 invocations in one supergroup: batches 0 (16 lanes of WG 0) and
    # 1 (8 lanes of WG 0, 8 lanes of WG 1), no partial batch; then check wg 3 of size 12.
    job = dev.dispatch(prog, [out.address], bos=[out], workgroups=(1, 1, 1), local_size=(12, 1, 1))
    job.wait()
    res = np.array(out)
    # one batch: lanes 0-11 active; per-pixel stores skip lanes 12-15 (left 0)
    assert (res[0, 3, :12] != 0).all()
    assert (res[0, 3, 12:] == 0).all()
    out.close()


def test_barrier_synchronises_the_supergroup(dev):
    """Every batch of a 4-batch workgroup writes its id, waits at a barrier, then reads what the
    other batches wrote: only correct if the barrier orders the writes before the reads."""
    n = 64  # one workgroup of 64 invocations = 4 batches, one supergroup
    buf = dev.array((n,), np.uint32)
    buf[:] = 0
    res = dev.array((n,), np.uint32)

    @qpu
    def kernel(asm):
        # local index = rf2 >> 26 (L = 6)
        shr(rf[20], rf[2], -6)  # shift counts use 5 bits: -6 = 26
        nop(sig=ldunif)
        shl(r0, rf[20], 2)
        add(rf[21], r5, r0, sig=ldunif)  # &buf[local]
        mov(rf[22], r5)  # res base
        add(r1, rf[20], 1)
        mov(tmud, r1)
        mov(tmua, rf[21])
        tmuwt()
        barrierid(syncb, sig=thrsw)
        nop()
        nop()
        # read buf[(local + 16) % 64]
        add(r0, rf[20], 15)
        add(r0, r0, 1)
        mov(r3, -1)
        shr(r3, r3, -6)  # 63
        band(r0, r0, r3)
        shl(r0, r0, 2)
        sub(r1, rf[21], rf[20])
        sub(r1, r1, rf[20])
        sub(r1, r1, rf[20])
        sub(r1, r1, rf[20])  # r1 = buf base
        add(tmua, r1, r0)
        nop(sig=ldtmu(r2))
        shl(r0, rf[20], 2)
        add(r0, rf[22], r0)
        mov(tmud, r2)
        mov(tmua, r0)
        tmuwt()
        end_program()

    job = dev.dispatch(assemble(kernel), [buf.address, res.address], bos=[buf, res], workgroups=(1, 1, 1),
                       local_size=(n, 1, 1), threading=True)  # fmt: skip
    job.wait()
    expected = (np.arange(n) + 16) % n + 1
    np.testing.assert_array_equal(np.array(res), expected)
    buf.close()
    res.close()


def test_single_segment_program_ends_at_first_thrsw(dev):
    @qpu
    def kernel(asm):
        eidx(r0, sig=ldunif)
        shl(r0, r0, 2)
        add(r1, r5, r0)
        mov(tmud, 7)
        mov(tmua, r1)
        tmuwt()
        nop(sig=thrsw)
        nop()
        nop()

    out = dev.array((16,), np.uint32)
    job = dev.dispatch(assemble(kernel), [out.address], bos=[out], single_seg=True)
    job.wait()
    assert (np.array(out) == 7).all()
    out.close()

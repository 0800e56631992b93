"""Dispatch, thread and barrier cases: 8 QPUs, 2 and 4 threads per QPU, the payload (rf0/rf2),
tidx, the MSF of a partial batch, a barrier across a supergroup, a single-segment program end.

Which QPU and thread slot runs a batch is the hardware's choice, so the rows holding `tidx` are
left out of device-to-device comparisons; their `verify` checks what must hold whatever the
choice (every QPU used, the thread numbers of 2- and 4-thread mode: reference 1.2, UNCERTAIN).
"""

from __future__ import annotations

import numpy as np

from ..asm import (
    add,
    band,
    barrierid,
    eidx,
    ldtmu,
    ldunif,
    mov,
    msf,
    nop,
    qpu,
    r0,
    r1,
    r2,
    r3,
    r5,
    rf,
    shl,
    shr,
    sub,
    syncb,
    thrsw,
    tidx,
    tmua,
    tmud,
    tmuwt,
    umul24,
)
from .case import Buffers, Case
from .probe import end_program, epilogue, store

__all__ = ["BARRIER_INVOCATIONS", "CASES", "ROWS_PER_BATCH"]

#: Rows each batch of the per-batch cases stores: tidx, rf0, rf2, msf.
ROWS_PER_BATCH = 4
_TIDX_VARIES = "which QPU and thread runs a batch is the hardware's choice"


def _per_batch_kernel(switches: int):
    """Each batch stores tidx, rf0, rf2 and msf at out + 256 * batch + 64 * row, the batch being
    rf0's workgroup X (one workgroup of 16 per batch)."""

    @qpu
    def kernel(asm) -> None:
        mov(rf[20], rf[0])
        mov(rf[21], rf[2])
        eidx(r0, sig=ldunif)
        shl(r0, r0, 2)
        mov(r2, 1)
        shl(r2, r2, 8)
        umul24(r1, rf[20], r2)  # batch (= workgroup X, small) * 256
        add(r0, r0, r1)
        add(rf[10], r5, r0)
        mov(rf[11], 1)
        shl(rf[11], rf[11], 6)
        for _ in range(switches):
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


def _batches(out: np.ndarray) -> np.ndarray:
    return out.reshape(-1, ROWS_PER_BATCH, 16)


def _verify_two_threads(outputs: Buffers, inputs: Buffers) -> None:
    out = _batches(outputs["out"])
    lanes = np.arange(16)
    for batch in range(out.shape[0]):
        assert (out[batch, 1] == batch).all()  # rf0 = workgroup X | Y << 16
        np.testing.assert_array_equal(out[batch, 2] >> 26, lanes)  # rf2's top 6 bits: local index
        assert (out[batch, 2] & 0xFFFF == 0).all()  # Z = 0
        assert (out[batch, 3] != 0).all()  # every lane active
    tids = out[:, 0, 0]
    assert sorted(set((tids >> 2).tolist())) == list(range(8)), "all 8 QPUs used"
    assert set((tids & 3).tolist()) == {0, 2}, "2-thread mode numbers its threads 0 and 2"
    assert len(set(tids.tolist())) == out.shape[0]


def _verify_four_threads(outputs: Buffers, inputs: Buffers) -> None:
    out = _batches(outputs["out"])
    tids = out[:, 0, 0]
    assert len(set(tids.tolist())) == out.shape[0]
    assert set((tids & 3).tolist()) == {0, 1, 2, 3}
    for batch in range(out.shape[0]):
        assert (out[batch, 1] == batch).all()


def _verify_partial(outputs: Buffers, inputs: Buffers) -> None:
    msf_row = outputs["out"][3]
    assert (msf_row[:12] != 0).all()  # lanes 0-11 active
    assert (msf_row[12:] == 0xCCCCCCCC).all()  # per-pixel stores skip lanes 12-15


def _per_batch_case(name: str, summary: str, batches: int, verify, switches: int = 0, **dispatch) -> Case:
    dispatch.setdefault("workgroups", (batches, 1, 1))
    dispatch.setdefault("local_size", (16, 1, 1))
    return Case(name, summary, _per_batch_kernel(switches), rows=ROWS_PER_BATCH * batches, dispatch=dispatch,
                verify=verify, device_dependent={ROWS_PER_BATCH * b: _TIDX_VARIES for b in range(batches)})


#: Invocations of the barrier case: one workgroup of four batches, one supergroup.
BARRIER_INVOCATIONS = 64


@qpu
def _barrier(asm) -> None:
    shr(rf[20], rf[2], -6)  # local index = rf2 >> 26 (shift counts use 5 bits: -6 = 26)
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
    # read buf[(local + 16) % 64], written by another batch before the barrier
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


def _verify_barrier(outputs: Buffers, inputs: Buffers) -> None:
    n = BARRIER_INVOCATIONS
    np.testing.assert_array_equal(outputs["res"], (np.arange(n) + 16) % n + 1)


@qpu
def _single_segment(asm) -> None:
    eidx(r0, sig=ldunif)
    shl(r0, r0, 2)
    add(r1, r5, r0)
    mov(tmud, 7)
    mov(tmua, r1)
    tmuwt()
    nop(sig=thrsw)  # a single-segment program ends at its first thrsw
    nop()
    nop()


def _verify_single_segment(outputs: Buffers, inputs: Buffers) -> None:
    assert (outputs["out"] == 7).all()


CASES = (
    _per_batch_case("thread.two_threads_payload", "16 batches on 8 QPUs x 2 threads: payload rf0/rf2, tidx, msf",
                    16, _verify_two_threads),
    _per_batch_case("thread.four_threads_switches", "32 batches on 8 QPUs x 4 threads, two thread switches each",
                    32, _verify_four_threads, switches=2, threading=True),
    _per_batch_case("thread.partial_batch_msf", "a batch of 12 invocations: MSF is zero in lanes 12-15",
                    1, _verify_partial, workgroups=(1, 1, 1), local_size=(12, 1, 1)),
    Case("barrier.supergroup", "each batch writes, waits at a barrier, reads what another batch wrote",
         _barrier, rows=0,
         buffers=lambda: {"buf": np.zeros(BARRIER_INVOCATIONS, np.uint32), "res": np.zeros(BARRIER_INVOCATIONS, np.uint32)},
         uniforms=lambda addresses: [addresses["buf"], addresses["res"]],
         dispatch={"workgroups": (1, 1, 1), "local_size": (BARRIER_INVOCATIONS, 1, 1), "threading": True},
         verify=_verify_barrier),
    Case("program.single_segment", "a single-segment program ends at its first thrsw", _single_segment, rows=1,
         dispatch={"single_seg": True}, verify=_verify_single_segment),
)

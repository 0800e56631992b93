"""Control-flow, signal and memory cases: every branch condition (incl. msfign), delay slots and
the link register, uniform-stream branches, signal timing, TMU vector and typed reads and writes,
per-lane masking, unifa/ldunifa.
"""

from __future__ import annotations

import numpy as np

from ..asm import (
    L,
    R,
    add,
    b,
    band,
    bor,
    bu,
    eidx,
    ldtmu,
    ldunif,
    ldunifa,
    ldunifarf,
    ldunifrf,
    link,
    lr,
    mov,
    nop,
    null,
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
    tmua,
    tmuc,
    tmud,
    unifa,
)
from .case import POISON, Buffers, Case
from .probe import epilogue, prologue, store

__all__ = ["BRANCH_CONDS", "BRANCH_PATTERNS", "CASES", "branch_taken"]

BRANCH_CONDS = ("always", "a0", "na0", "alla", "anyna", "anya", "allna")
#: Flag-A patterns (bit i = lane i) the branch cases run with.
BRANCH_PATTERNS = (0x0000, 0xFFFF, 0x0001, 0xFFFE, 0x00F0, 0x0100)
#: Invocations of the branch cases: a partial batch, so that msfign matters.
BRANCH_LOCAL_SIZE = 6


def branch_taken(cond: str, flags: np.ndarray, active: np.ndarray, msfign: str | None) -> bool:
    """Whether a branch with `cond` is taken, given flag A per lane and the active lanes."""
    keep = np.ones(16, bool)
    if msfign == "p":
        keep = active
    elif msfign == "q":
        keep = np.repeat(active.reshape(4, 4).any(axis=1), 4)
    f = flags[keep]
    return {
        "always": True, "a0": bool(flags[0]), "na0": not flags[0], "alla": bool(f.all()),
        "anyna": bool((~f).any()), "anya": bool(f.any()), "allna": bool((~f).all()),
    }[cond]  # fmt: skip


def _branch_case(pattern: int, msfign: str | None) -> Case:
    @qpu
    def kernel(asm) -> None:
        prologue()
        nop(sig=ldunif)
        eidx(r0)
        shr(r1, r5, r0)
        band(r1, r1, 1)  # r1 = bit lane of the pattern
        mov(r3, 0)
        for k, cond in enumerate(BRANCH_CONDS):
            sub(null, r1, 1, cond="pushz")  # A = bit set
            b(getattr(R, f"skip{k}"), cond=cond, msfign=msfign)
            nop()
            nop()
            nop()
            mov(r0, 1)  # reached only when not taken
            shl(r0, r0, k)
            bor(r3, r3, r0)
            getattr(L, f"skip{k}")
        store(r3)
        epilogue()

    def verify(outputs: Buffers, inputs: Buffers) -> None:
        out = outputs["out"]
        flags = np.array([(pattern >> i) & 1 for i in range(16)], bool)
        active = np.arange(16) < BRANCH_LOCAL_SIZE
        expected = sum(1 << k for k, cond in enumerate(BRANCH_CONDS) if not branch_taken(cond, flags, active, msfign))
        assert (out[0, :BRANCH_LOCAL_SIZE] == expected).all(), f"{out[0, 0]:#x} != {expected:#x}"
        assert (out[0, BRANCH_LOCAL_SIZE:] == POISON).all()  # per-pixel TMU store: inactive lanes skipped

    return Case(
        name=f"branch.conditions[{pattern:#06x}/msfign={msfign or '-'}]",
        summary="every branch condition on one flag pattern, in a partial batch",
        kernel=kernel, rows=1, uniforms=(pattern,), dispatch={"local_size": (BRANCH_LOCAL_SIZE, 1, 1)},
        verify=verify,
    )


@qpu
def _delay_slots(asm) -> None:
    prologue()
    mov(r0, 0)
    b(R.sub, set_link=True)
    add(r0, r0, 1)  # three delay slots always run
    add(r0, r0, 2)
    add(r0, r0, 4)
    L.back  # noqa: B018
    add(r0, r0, 8)  # returned here
    store(r0)
    lr(r1)
    store(r1)
    epilogue()
    L.sub  # noqa: B018
    add(r0, r0, 8)
    b(link)
    add(r0, r0, 8)
    nop()
    nop()


def _delay_slots_verify(outputs: Buffers, inputs: Buffers) -> None:
    out = outputs["out"]
    assert (out[0] == 1 + 2 + 4 + 16 + 8).all()
    assert len(set(out[1].tolist())) == 1
    assert out[1, 0] % 8 == 0  # a byte address of an instruction


@qpu
def _uniform_branch(asm) -> None:
    prologue()
    bu(R.target, None)
    nop()
    nop()
    nop()
    L.target  # noqa: B018
    nop(sig=ldunif)
    mov(r0, r5)
    store(r0)
    epilogue()


def _uniform_branch_verify(outputs: Buffers, inputs: Buffers) -> None:
    assert (outputs["out"][0] == 333).all()


@qpu
def _signal_timing(asm) -> None:
    prologue()
    nop(sig=ldunif)
    mov(r0, r5, sig=ldunifrf(rf[20]))  # r5 from the previous ldunif is visible now
    mov(r1, rf[20])  # rf20 from ldunifrf visible at t+1
    store(r0)
    store(r1)
    mov(tmua, rf[10])  # a read of the next (poisoned) row
    nop(sig=ldtmu(r2))
    store(r2)
    epilogue()


def _signal_timing_verify(outputs: Buffers, inputs: Buffers) -> None:
    out = outputs["out"]
    assert (out[0] == 5).all() and (out[1] == 6).all()


def _tmu_data() -> Buffers:
    return {"data": np.arange(256, dtype=np.uint32) * 0x01010101 + 0x80}


@qpu
def _tmu_vector_typed(asm) -> None:
    prologue()
    nop(sig=ldunif)  # r5 = data address
    eidx(r0)
    shl(r1, r0, 4)  # 16 bytes per lane
    add(r1, r1, r5)
    add(rf[30], r1, 4)  # start one word into each 16-byte block: the vec4 wraps
    mov(tmuc, -4)  # 0xfffffffc: next lookup vec4, then default 32-bit
    mov(tmua, rf[30])
    nop(sig=ldtmu(rf[31]))
    nop(sig=ldtmu(rf[32]))
    nop(sig=ldtmu(rf[33]))
    nop(sig=ldtmu(rf[34]))
    for k in range(4):
        store(rf[31 + k])
    # 8-bit signed and 16-bit unsigned typed reads at byte/halfword addresses
    add(r2, r5, r0)  # byte address data + lane
    mov(tmuc, -8)  # 0xfffffff8 -> byte 0xf8: per-pixel regular 8-bit signed
    mov(tmua, r2)
    nop(sig=ldtmu(rf[35]))
    store(rf[35])
    shl(r3, r0, 1)
    add(r3, r3, r5)
    mov(tmuc, -2)  # 0xfe: 16-bit unsigned
    mov(tmua, r3)
    nop(sig=ldtmu(rf[36]))
    store(rf[36])
    # vec2 write of (lane, lane+15) at data + 512 + 8*lane, masked to even lanes
    shl(r1, r0, 3)
    add(r1, r1, r5)
    mov(r2, 1)
    shl(r2, r2, 9)
    add(r1, r1, r2)
    band(null, r0, 1, cond="pushz")
    mov(tmuc, -6)  # 0xfa vec2
    mov(tmud, r0)
    add(tmud, r0, 15)
    mov(tmua, r1, cond="ifa")
    epilogue()


def _tmu_verify(outputs: Buffers, inputs: Buffers) -> None:
    out, src, after = outputs["out"], inputs["data"], outputs["data"]
    lanes = np.arange(16)
    for k in range(4):
        addr = 16 * lanes + ((4 + 4 * k) & 15)
        np.testing.assert_array_equal(out[k], src.view(np.uint8)[addr[:, None] + np.arange(4)].copy().view("<u4")[:, 0])
    np.testing.assert_array_equal(out[4].view(np.int32), src.view(np.int8)[lanes].astype(np.int32))
    np.testing.assert_array_equal(out[5], src.view(np.uint16)[lanes].astype(np.uint32))
    for lane in range(16):
        pair = after[128 + 2 * lane : 130 + 2 * lane]
        if lane % 2 == 0:
            assert pair.tolist() == [lane, lane + 15]
        else:
            assert pair.tolist() == src[128 + 2 * lane : 130 + 2 * lane].tolist()


@qpu
def _unifa_stream(asm) -> None:
    prologue()
    nop(sig=ldunif)
    mov(unifa, r5)
    nop()
    nop()
    nop()
    nop(sig=ldunifa)
    mov(r0, r5, sig=ldunifarf(rf[40]))
    store(r0)
    store(rf[40])
    epilogue()


def _unifa_verify(outputs: Buffers, inputs: Buffers) -> None:
    out = outputs["out"]
    assert (out[0] == 3).all() and (out[1] == 14).all()


CASES = (
    *(_branch_case(pattern, msfign) for msfign in (None, "p", "q") for pattern in BRANCH_PATTERNS),
    Case("branch.delay_slots_link", "three delay slots always run; the link register returns after them",
         _delay_slots, rows=2, verify=_delay_slots_verify,
         device_dependent={1: "the link register holds a code address, which depends on where the code BO lands"}),
    Case("branch.uniform_stream", "bu with a relative uniform target redirects the uniform stream",
         _uniform_branch, rows=1, uniforms=(8, 111, 222, 333), verify=_uniform_branch_verify),
    Case("signal.timing", "ldunif, ldunifrf and ldtmu results are visible when documented",
         _signal_timing, rows=3, uniforms=(5, 6), verify=_signal_timing_verify),
    Case("tmu.vector_typed", "vec4 reads that wrap in a 16-byte block, 8/16-bit typed reads, masked vec2 write",
         _tmu_vector_typed, rows=6, buffers=_tmu_data, verify=_tmu_verify),
    Case("unifa.stream", "unifa then ldunifa/ldunifarf read a table through the second uniform stream",
         _unifa_stream, rows=2, buffers=lambda: {"table": (np.arange(8) * 11 + 3).astype(np.uint32)},
         verify=_unifa_verify),
)

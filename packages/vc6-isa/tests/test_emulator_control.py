# ruff: noqa: F811, B018  (pytest fixtures imported from test_emulator_support; DSL labels are expressions)
"""Emulator control flow, signals and memory: every branch condition (incl. msfign), delay
slots, link register, uniform-stream branches, signal timing, TMU vector/typed reads and writes,
per-lane masking, unifa/ldunifa."""

from __future__ import annotations

import numpy as np
import pytest
from test_emulator_support import dev, end_program, epilogue, probe, prologue, store  # noqa: F401
from vc6_isa.asm import *

CONDS = ["always", "a0", "na0", "alla", "anyna", "anya", "allna"]


def taken(cond: str, flags: np.ndarray, active: np.ndarray, msfign: str | None) -> bool:
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


@pytest.mark.parametrize("msfign", [None, "p", "q"])
@pytest.mark.parametrize("pattern", [0x0000, 0xFFFF, 0x0001, 0xFFFE, 0x00F0, 0x0100])
def test_every_branch_condition(dev, pattern, msfign):
    """Flag A = bit lane of pattern; a partial batch (local size 6) makes msfign matter."""
    flags = np.array([(pattern >> i) & 1 for i in range(16)], bool)

    @qpu
    def kernel(asm):
        prologue()
        nop(sig=ldunif)
        eidx(r0)
        shr(r1, r5, r0)
        band(r1, r1, 1)  # r1 = bit lane of the pattern
        mov(r3, 0)
        for k, cond in enumerate(CONDS):
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

    out, _ = probe(dev, kernel, 1, [pattern], local_size=(6, 1, 1))
    active = np.arange(16) < 6
    expected = 0
    for k, cond in enumerate(CONDS):
        if not taken(cond, flags, active, msfign):
            expected |= 1 << k
    assert out[0, 0] == expected, f"{out[0, 0]:#x} != {expected:#x}"
    assert (out[0, :6] == expected).all()
    assert (out[0, 6:] == 0xCCCCCCCC).all()  # per-pixel TMU store: inactive lanes (MSF 0) skipped


def test_branch_delay_slots_link_register_and_register_target(dev):
    @qpu
    def kernel(asm):
        prologue()
        mov(r0, 0)
        b(R.sub, set_link=True)
        add(r0, r0, 1)  # three delay slots always run
        add(r0, r0, 2)
        add(r0, r0, 4)
        L.back
        add(r0, r0, 8)  # returned here
        store(r0)
        lr(r1)
        store(r1)
        epilogue()
        L.sub
        add(r0, r0, 8)
        b(link)
        add(r0, r0, 8)
        nop()
        nop()

    out, _ = probe(dev, kernel, 2)
    assert (out[0] == 1 + 2 + 4 + 16 + 8).all()
    prog = assemble(kernel)
    assert len(set(out[1].tolist())) == 1
    assert out[1, 0] % 8 == 0 and (out[1, 0] // 8) % 1 == 0  # a byte address
    # the link register points at the instruction after the last delay slot ("back")
    code_base = out[1, 0] - 8 * prog.labels["back"]
    assert code_base % 8 == 0


def test_uniform_stream_branch_relative(dev):
    """bu with r:unif: the uniform pointer is redirected when the branch lands."""

    @qpu
    def kernel(asm):
        prologue()
        bu(R.target, None)
        nop()
        nop()
        nop()
        L.target
        nop(sig=ldunif)
        mov(r0, r5)
        store(r0)
        epilogue()

    # uniforms: out, [branch word U], 111, 222, 333 ; U = 8 skips two words
    out, _ = probe(dev, kernel, 1, [8, 111, 222, 333])
    assert (out[0] == 333).all()


def test_signal_timing_ldunif_ldunifrf_ldtmu(dev):
    @qpu
    def kernel(asm):
        prologue()
        nop(sig=ldunif)
        mov(r0, r5, sig=ldunifrf(rf[20]))  # r5 from the previous ldunif is visible now
        mov(r1, rf[20])  # rf20 from ldunifrf visible at t+1
        store(r0)
        store(r1)
        mov(tmua, rf[10])  # read back the row we just wrote? no: wait for writes first
        epilogue_reads()

    def epilogue_reads():
        nop(sig=ldtmu(r2))
        store(r2)
        epilogue()

    out, _ = probe(dev, kernel, 3, [5, 6])
    assert (out[0] == 5).all() and (out[1] == 6).all()


def test_tmu_vector_and_typed_accesses(dev):
    data = dev.array((256,), np.uint32)
    data[:] = np.arange(256, dtype=np.uint32) * 0x01010101 + 0x80
    src = np.array(data).copy()

    @qpu
    def kernel(asm):
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
        # vec2 write of (lane, lane+100) at data + 512 + 8*lane, masked to even lanes
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

    out, _ = probe(dev, kernel, 6, [data.address], bos=[data])
    lanes = np.arange(16)
    for k in range(4):
        addr = 16 * lanes + ((4 + 4 * k) & 15)
        np.testing.assert_array_equal(out[k], src.view(np.uint8)[addr[:, None] + np.arange(4)].copy().view("<u4")[:, 0])
    np.testing.assert_array_equal(out[4].view(np.int32), src.view(np.int8)[lanes].astype(np.int32))
    np.testing.assert_array_equal(out[5], src.view(np.uint16)[lanes].astype(np.uint32))
    after = np.array(data)
    for lane in range(16):
        pair = after[128 + 2 * lane : 130 + 2 * lane]
        if lane % 2 == 0:
            assert pair.tolist() == [lane, lane + 15]
        else:
            assert pair.tolist() == src[128 + 2 * lane : 130 + 2 * lane].tolist()
    data.close()


def test_unifa_stream(dev):
    table = dev.array((8,), np.uint32)
    table[:] = np.arange(8) * 11 + 3

    @qpu
    def kernel(asm):
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

    out, _ = probe(dev, kernel, 2, [table.address], bos=[table])
    assert (out[0] == 3).all() and (out[1] == 14).all()
    table.close()

# ruff: noqa: F811  (pytest fixtures imported from test_emulator_support; DSL labels are expressions)
"""Emulator ALU semantics checked lane by lane against numpy: integer and float ops, pack and
unpack, flags (push, update, conditional writes), small immediates, r5 broadcast, rotation,
multop/umul24, SFU latency. Each kernel stores every lane through the TMU (probe helpers)."""

from __future__ import annotations

import numpy as np
from test_emulator_support import dev, end_program, epilogue, probe, prologue, store  # noqa: F401
from vc6_isa import encoding
from vc6_isa.asm import *
from vc6_isa.instruction import AluInstruction, AluOp

RNG = np.random.default_rng(1234)


def load_inputs(rows: int) -> None:
    """rf0.. rf<rows-1> = rows of the (rows, 16) input array whose address is uniform 1."""
    nop(sig=ldunif)
    eidx(r0)
    shl(r0, r0, 2)
    add(rf[12], r5, r0)
    for k in range(rows):
        mov(tmua, rf[12])
        add(rf[12], rf[12], rf[11])
        nop(sig=ldtmu(rf[k]))


def run_with_inputs(dev, body, inputs: np.ndarray, rows_out: int, **kw):
    arr = dev.array(inputs.shape, np.uint32)
    arr[:] = inputs

    @qpu
    def kernel(asm):
        prologue()
        load_inputs(inputs.shape[0])
        body()
        epilogue()

    try:
        return probe(dev, kernel, rows_out, [arr.address], bos=[arr], **kw)
    finally:
        arr.close()


INT_OPS = {
    "add": (lambda a, b: a + b, add),
    "sub": (lambda a, b: a - b, sub),
    "min": (lambda a, b: np.minimum(a.view(np.int32), b.view(np.int32)).view(np.uint32), min_),
    "max": (lambda a, b: np.maximum(a.view(np.int32), b.view(np.int32)).view(np.uint32), max_),
    "umin": (np.minimum, umin),
    "umax": (np.maximum, umax),
    "shl": (lambda a, b: a << (b & 31), shl),
    "shr": (lambda a, b: a >> (b & 31), shr),
    "asr": (lambda a, b: (a.view(np.int32) >> (b & 31).astype(np.int32)).view(np.uint32), asr),
    "ror": (lambda a, b: (a >> (b & 31)) | (a << ((32 - (b & 31)) & 31)) * ((b & 31) != 0), ror),
    "and": (np.bitwise_and, band),
    "or": (np.bitwise_or, bor),
    "xor": (np.bitwise_xor, bxor),
}


def test_integer_ops_lane_by_lane(dev):
    a = RNG.integers(0, 2**32, 16, dtype=np.uint64).astype(np.uint32)
    b = RNG.integers(0, 2**32, 16, dtype=np.uint64).astype(np.uint32)
    b[:4] = [0, 1, 31, 32]

    def body():
        for _, fn in INT_OPS.values():
            fn(r0, rf[0], rf[1])
            store(r0)
        not_(r0, rf[0])
        store(r0)
        neg(r0, rf[0])
        store(r0)
        clz(r0, rf[0])
        store(r0)
        smul24(r0, rf[0], rf[1])
        store(r0)
        umul24(r0, rf[0], rf[1])
        store(r0)

    out, _ = run_with_inputs(dev, body, np.stack([a, b]), len(INT_OPS) + 5)
    with np.errstate(over="ignore"):
        for k, (name, (ref, _)) in enumerate(INT_OPS.items()):
            np.testing.assert_array_equal(out[k], ref(a, b).astype(np.uint32), err_msg=name)
        n = len(INT_OPS)
        np.testing.assert_array_equal(out[n], ~a)
        np.testing.assert_array_equal(out[n + 1], (0 - a.astype(np.uint64)).astype(np.uint32))
        leading = np.array([32 - int(x).bit_length() for x in a], np.uint32)
        np.testing.assert_array_equal(out[n + 2], leading)
        s24 = lambda x: ((x.astype(np.int64) & 0xFFFFFF) ^ 0x800000) - 0x800000
        np.testing.assert_array_equal(out[n + 3], (s24(a) * s24(b)).astype(np.uint32))
        u = (a.astype(np.uint64) & 0xFFFFFF) * (b.astype(np.uint64) & 0xFFFFFF)
        np.testing.assert_array_equal(out[n + 4], u.astype(np.uint32))


def test_multop_umul24_pair_is_a_32bit_multiply(dev):
    a = RNG.integers(0, 2**32, 16, dtype=np.uint64).astype(np.uint32)
    b = RNG.integers(0, 2**32, 16, dtype=np.uint64).astype(np.uint32)

    def body():
        multop(null, rf[0], rf[1])
        umul24(r0, rf[0], rf[1])
        store(r0)

    out, _ = run_with_inputs(dev, body, np.stack([a, b]), 1)
    np.testing.assert_array_equal(out[0], (a.astype(np.uint64) * b.astype(np.uint64)).astype(np.uint32))


def test_float_ops_and_modifiers(dev):
    x = RNG.normal(0, 10, 16).astype(np.float32)
    y = RNG.normal(0, 10, 16).astype(np.float32)

    def body():
        fadd(r0, rf[0], rf[1])
        store(r0)
        fsub(r0, rf[0], rf[1])
        store(r0)
        fmul(r0, rf[0], rf[1])
        store(r0)
        fmin(r0, rf[0], rf[1])
        store(r0)
        fmax(r0, rf[0], rf[1])
        store(r0)
        fadd(r0, rf[0].unpack('abs'), rf[1])
        store(r0)
        ftoiz(r0, rf[0])
        store(r0)
        itof(r1, r0)
        store(r1)
        fmov(r0, rf[0])
        fmov(r0.pack('l'), rf[1])  # pack: f16 of y into bits 15:0, bits 31:16 keep x's
        store(r0)

    out, _ = run_with_inputs(dev, body, np.stack([x.view(np.uint32), y.view(np.uint32)]), 9)
    f = out.view(np.float32)
    np.testing.assert_array_equal(f[0], x + y)
    np.testing.assert_array_equal(f[1], x - y)
    np.testing.assert_array_equal(f[2], x * y)
    np.testing.assert_array_equal(f[3], np.minimum(x, y))
    np.testing.assert_array_equal(f[4], np.maximum(x, y))
    np.testing.assert_array_equal(f[5], np.abs(x) + y)
    np.testing.assert_array_equal(out[6].view(np.int32), np.trunc(x).astype(np.int32))
    np.testing.assert_array_equal(f[7], np.trunc(x))
    packed = (x.view(np.uint32) & 0xFFFF0000) | y.astype(np.float16).view(np.uint16).astype(np.uint32)
    np.testing.assert_array_equal(out[8], packed)


def test_flag_pushes_updates_and_conditional_writes(dev):
    a = RNG.integers(-3, 4, 16).astype(np.int32)
    b = RNG.integers(-3, 4, 16).astype(np.int32)
    a[:3] = [1, 0, -2]
    b[:3] = [1, 0, 5]

    def body():
        sub(null, rf[0], rf[1], cond="pushz")  # A = (a == b)
        vfla(r0)
        store(r0)
        sub(null, rf[0], rf[1], cond="pushn")  # B = old A, A = (a - b < 0)
        vfla(r0)
        store(r0)
        vflb(r0)
        store(r0)
        mov(r0, 0)
        mov(r0, 1, cond="ifa")
        mov(r0, 2, cond="ifnb")
        store(r0)
        sub(null, rf[0], rf[1], cond="pushc")  # A = borrow (a < b unsigned)
        vfla(r0)
        store(r0)
        mov(null, rf[0], cond="andnz")  # A = A & (a != 0)
        vflna(r0)
        store(r0)
        mov(null, rf[0], cond="norn")  # A = !(A | a < 0)
        vfla(r0)
        store(r0)
        mov(r1, 7)
        mov(r1, rf[0], cond="ifna")
        store(r1)

    out, _ = run_with_inputs(dev, body, np.stack([a.view(np.uint32), b.view(np.uint32)]), 8)
    bit = lambda m: np.where(m, 0x10001, 0).astype(np.uint32)
    z = a == b
    n = (a - b) < 0
    np.testing.assert_array_equal(out[0], bit(z))
    np.testing.assert_array_equal(out[1], bit(n))
    np.testing.assert_array_equal(out[2], bit(z))
    r = np.where(n, 1, 0)
    r = np.where(~z, 2, r)
    np.testing.assert_array_equal(out[3], r)
    c = a.view(np.uint32) < b.view(np.uint32)
    np.testing.assert_array_equal(out[4], bit(c))
    c2 = c & (a != 0)
    np.testing.assert_array_equal(out[5], bit(~c2))
    c3 = ~(c2 | (a < 0))
    np.testing.assert_array_equal(out[6], bit(c3))
    np.testing.assert_array_equal(out[7], np.where(c3, 7, a.view(np.uint32)))


def test_small_immediates_r5_broadcasts_and_rotation(dev):
    a = RNG.integers(0, 1000, 16).astype(np.uint32)

    def body():
        add(r0, rf[0], -16)  # small immediate -16
        store(r0)
        fmul(r0, rf[0], 2.0)  # 2.0 as small immediate on an int pattern: check against semantics
        mov(r5, rf[0])  # quad broadcast
        nop()
        store(r5)
        mov(r5rep, rf[0])  # full broadcast of lane 0
        nop()
        store(r5)
        mov(r1, rf[0])
        nop()
        rotate(r2, r1, 3)
        store(r2)
        quad_rotate(r2, rf[0], 1)
        store(r2)
        rotate(r2, r1, -5)
        store(r2)

    out, _ = run_with_inputs(dev, body, a[None, :], 6)
    np.testing.assert_array_equal(out[0], a - np.uint32(16))
    np.testing.assert_array_equal(out[1], np.repeat(a[::4], 4))
    np.testing.assert_array_equal(out[2], np.full(16, a[0]))
    lanes = np.arange(16)
    np.testing.assert_array_equal(out[3], a[(lanes - 3) % 16])
    np.testing.assert_array_equal(out[4], a[(lanes & 12) | ((lanes - 1) & 3)])
    np.testing.assert_array_equal(out[5], a[(lanes + 5) % 16])


def test_legacy_sfu_result_lands_in_r4_at_t_plus_2(dev):
    x = (RNG.random(16) * 4 + 0.5).astype(np.float32)

    def body():
        mov(recip, rf[0])
        nop()
        store(r4)

    out, job = run_with_inputs(dev, body, x.view(np.uint32)[None, :], 1)
    np.testing.assert_allclose(out[0].view(np.float32), 1 / x, rtol=1e-6)
    assert job.stats.sfu_operations == 1


def test_sfu_alu_form_writes_its_destination(dev):
    x = (RNG.random(16) * 4 + 0.5).astype(np.float32)
    word = encoding.encode(AluInstruction(add=AluOp("rsqrt", waddr=3, magic=False, a=6), raddr_a=0))

    def body():
        raw(word)
        store(rf[3])

    out, _ = run_with_inputs(dev, body, x.view(np.uint32)[None, :], 1)
    np.testing.assert_allclose(out[0].view(np.float32), 1 / np.sqrt(x), rtol=1e-6)


def test_both_alus_read_before_either_writes(dev):
    a = RNG.integers(0, 100, 16).astype(np.uint32)

    def body():
        mov(r0, rf[0])
        add(r0, r0, 1).mov(r1, r0)  # mul reads the old r0
        store(r1)
        store(r0)

    out, _ = run_with_inputs(dev, body, a[None, :], 2)
    np.testing.assert_array_equal(out[0], a)
    np.testing.assert_array_equal(out[1], a + 1)

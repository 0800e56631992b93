"""ALU and SFU cases: integer and float ops, pack and unpack, flags (push, update, conditional
writes), small immediates, r5 broadcasts, rotation, multop/umul24, SFU results.

Each case loads seeded 16-lane inputs into rf0.. (`vc6_isa.cases.probe.load_rows`), computes,
and stores one result per row; `verify` holds the expected values, lane by lane, in numpy.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .. import encoding
from ..asm import (
    add,
    asr,
    band,
    bor,
    bxor,
    clz,
    fadd,
    fmax,
    fmin,
    fmov,
    fmul,
    fsub,
    ftoiz,
    itof,
    max_,
    min_,
    mov,
    multop,
    neg,
    nop,
    not_,
    null,
    qpu,
    quad_rotate,
    r0,
    r1,
    r2,
    r4,
    r5,
    r5rep,
    raw,
    recip,
    rf,
    ror,
    rotate,
    shl,
    shr,
    smul24,
    sub,
    umax,
    umin,
    umul24,
    vfla,
    vflb,
    vflna,
)
from ..instruction import AluInstruction, AluOp
from .case import Buffers, Case
from .probe import epilogue, load_rows, prologue, store

__all__ = ["CASES", "INT_OPS"]

assert_equal = np.testing.assert_array_equal


def _rng(name: str) -> np.random.Generator:
    """A generator seeded by the case name: each case's inputs are fixed and independent."""
    return np.random.default_rng(int.from_bytes(name.encode(), "little") % 2**32)


def _u32(values: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(values).view(np.uint32)


def _rows_case(name: str, summary: str, rows_in: Callable[[np.random.Generator], np.ndarray],
               body: Callable[[], None], rows_out: int, verify: Callable[[np.ndarray, np.ndarray], None]) -> Case:
    """A case whose inputs are rows of 16 lanes in rf0.. and whose outputs are `rows_out` rows."""

    def buffers() -> Buffers:
        return {"rows": np.atleast_2d(rows_in(_rng(name)))}

    @qpu
    def kernel(asm) -> None:
        prologue()
        load_rows(buffers()["rows"].shape[0])
        body()
        epilogue()

    kernel.__name__ = name.replace(".", "_")

    def check(outputs: Buffers, inputs: Buffers) -> None:
        verify(outputs["out"], inputs["rows"])

    return Case(name=name, summary=summary, kernel=kernel, rows=rows_out, buffers=buffers, verify=check)


# ---- integer ops -------------------------------------------------------------------------------

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


def _two_words(rng: np.random.Generator) -> np.ndarray:
    a = rng.integers(0, 2**32, 16, dtype=np.uint64).astype(np.uint32)
    b = rng.integers(0, 2**32, 16, dtype=np.uint64).astype(np.uint32)
    b[:4] = [0, 1, 31, 32]
    return np.stack([a, b])


def _integer_body() -> None:
    for _, op in INT_OPS.values():
        op(r0, rf[0], rf[1])
        store(r0)
    for unary in (not_, neg, clz):
        unary(r0, rf[0])
        store(r0)
    smul24(r0, rf[0], rf[1])
    store(r0)
    umul24(r0, rf[0], rf[1])
    store(r0)


def _integer_verify(out: np.ndarray, rows: np.ndarray) -> None:
    a, b = rows
    with np.errstate(over="ignore"):
        for k, (name, (ref, _)) in enumerate(INT_OPS.items()):
            assert_equal(out[k], ref(a, b).astype(np.uint32), err_msg=name)
        n = len(INT_OPS)
        assert_equal(out[n], ~a)
        assert_equal(out[n + 1], (0 - a.astype(np.uint64)).astype(np.uint32))
        assert_equal(out[n + 2], np.array([32 - int(x).bit_length() for x in a], np.uint32))
        s24 = lambda x: ((x.astype(np.int64) & 0xFFFFFF) ^ 0x800000) - 0x800000
        assert_equal(out[n + 3], (s24(a) * s24(b)).astype(np.uint32))
        u = (a.astype(np.uint64) & 0xFFFFFF) * (b.astype(np.uint64) & 0xFFFFFF)
        assert_equal(out[n + 4], u.astype(np.uint32))


def _multop_body() -> None:
    multop(null, rf[0], rf[1])
    umul24(r0, rf[0], rf[1])
    store(r0)


def _multop_verify(out: np.ndarray, rows: np.ndarray) -> None:
    a, b = rows.astype(np.uint64)
    assert_equal(out[0], (a * b).astype(np.uint32))


# ---- float ops ---------------------------------------------------------------------------------


def _two_floats(rng: np.random.Generator) -> np.ndarray:
    return _u32(rng.normal(0, 10, (2, 16)).astype(np.float32))


def _float_body() -> None:
    for op in (fadd, fsub, fmul, fmin, fmax):
        op(r0, rf[0], rf[1])
        store(r0)
    fadd(r0, rf[0].unpack("abs"), rf[1])
    store(r0)
    ftoiz(r0, rf[0])
    store(r0)
    itof(r1, r0)
    store(r1)
    fmov(r0, rf[0])
    fmov(r0.pack("l"), rf[1])  # pack: f16 of y into bits 15:0, bits 31:16 keep x's
    store(r0)


def _float_verify(out: np.ndarray, rows: np.ndarray) -> None:
    x, y = rows.view(np.float32)
    f = out.view(np.float32)
    assert_equal(f[0], x + y)
    assert_equal(f[1], x - y)
    assert_equal(f[2], x * y)
    assert_equal(f[3], np.minimum(x, y))
    assert_equal(f[4], np.maximum(x, y))
    assert_equal(f[5], np.abs(x) + y)
    assert_equal(out[6].view(np.int32), np.trunc(x).astype(np.int32))
    assert_equal(f[7], np.trunc(x))
    packed = (x.view(np.uint32) & 0xFFFF0000) | y.astype(np.float16).view(np.uint16).astype(np.uint32)
    assert_equal(out[8], packed)


# ---- flags -------------------------------------------------------------------------------------


def _small_ints(rng: np.random.Generator) -> np.ndarray:
    a = rng.integers(-3, 4, 16).astype(np.int32)
    b = rng.integers(-3, 4, 16).astype(np.int32)
    a[:3] = [1, 0, -2]
    b[:3] = [1, 0, 5]
    return _u32(np.stack([a, b]))


def _flags_body() -> None:
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


def _flags_verify(out: np.ndarray, rows: np.ndarray) -> None:
    a, b = rows.view(np.int32)
    bit = lambda m: np.where(m, 0x10001, 0).astype(np.uint32)
    z = a == b
    n = (a - b) < 0
    assert_equal(out[0], bit(z))
    assert_equal(out[1], bit(n))
    assert_equal(out[2], bit(z))
    assert_equal(out[3], np.where(~z, 2, np.where(n, 1, 0)))
    c = a.view(np.uint32) < b.view(np.uint32)
    assert_equal(out[4], bit(c))
    c2 = c & (a != 0)
    assert_equal(out[5], bit(~c2))
    c3 = ~(c2 | (a < 0))
    assert_equal(out[6], bit(c3))
    assert_equal(out[7], np.where(c3, 7, a.view(np.uint32)))


# ---- immediates, broadcasts, rotation ----------------------------------------------------------


def _broadcast_body() -> None:
    add(r0, rf[0], -16)  # small immediate -16
    store(r0)
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


def _broadcast_verify(out: np.ndarray, rows: np.ndarray) -> None:
    a = rows[0]
    lanes = np.arange(16)
    assert_equal(out[0], a - np.uint32(16))
    assert_equal(out[1], np.repeat(a[::4], 4))
    assert_equal(out[2], np.full(16, a[0]))
    assert_equal(out[3], a[(lanes - 3) % 16])
    assert_equal(out[4], a[(lanes & 12) | ((lanes - 1) & 3)])
    assert_equal(out[5], a[(lanes + 5) % 16])


# ---- SFU ---------------------------------------------------------------------------------------


def _positive_floats(rng: np.random.Generator) -> np.ndarray:
    return _u32((rng.random(16) * 4 + 0.5).astype(np.float32))[None, :]


def _recip_body() -> None:
    mov(recip, rf[0])
    nop()
    store(r4)


def _recip_verify(out: np.ndarray, rows: np.ndarray) -> None:
    # The SFU's exact bits are not documented (reference 10.6): py-videocore6 checks 1e-4 relative.
    np.testing.assert_allclose(out[0].view(np.float32), 1 / rows[0].view(np.float32), rtol=1e-6)


def _rsqrt_alu_body() -> None:
    raw(encoding.encode(AluInstruction(add=AluOp("rsqrt", waddr=3, magic=False, a=6), raddr_a=0)))
    store(rf[3])


def _rsqrt_verify(out: np.ndarray, rows: np.ndarray) -> None:
    np.testing.assert_allclose(out[0].view(np.float32), 1 / np.sqrt(rows[0].view(np.float32)), rtol=1e-6)


# ---- dual issue --------------------------------------------------------------------------------


def _dual_issue_body() -> None:
    mov(r0, rf[0])
    add(r0, r0, 1).mov(r1, r0)  # the mul ALU reads the old r0
    store(r1)
    store(r0)


def _dual_issue_verify(out: np.ndarray, rows: np.ndarray) -> None:
    assert_equal(out[0], rows[0])
    assert_equal(out[1], rows[0] + 1)


CASES = (
    _rows_case("alu.integer_ops", "every integer add/mul op, lane by lane, on random words",
               _two_words, _integer_body, len(INT_OPS) + 5, _integer_verify),
    _rows_case("alu.multop_umul24", "multop then umul24 is a 32-bit multiply",
               _two_words, _multop_body, 1, _multop_verify),
    _rows_case("alu.float_ops", "fadd/fsub/fmul/fmin/fmax, abs unpack, ftoiz, itof, f16 pack",
               _two_floats, _float_body, 9, _float_verify),
    _rows_case("alu.flags", "flag pushes and updates, conditional writes",
               _small_ints, _flags_body, 8, _flags_verify),
    _rows_case("alu.broadcast_rotate", "small immediates, r5 quad/full broadcast, rotate, quad_rotate",
               lambda rng: rng.integers(0, 1000, 16).astype(np.uint32)[None, :], _broadcast_body, 6,
               _broadcast_verify),
    _rows_case("sfu.recip_r4", "legacy SFU write: the result lands in r4 two instructions later",
               _positive_floats, _recip_body, 1, _recip_verify),
    _rows_case("sfu.rsqrt_alu", "SFU as an ALU op writes its own destination",
               _positive_floats, _rsqrt_alu_body, 1, _rsqrt_verify),
    _rows_case("alu.dual_issue_reads", "both ALUs read their operands before either writes",
               lambda rng: rng.integers(0, 100, 16).astype(np.uint32)[None, :], _dual_issue_body, 2,
               _dual_issue_verify),
)

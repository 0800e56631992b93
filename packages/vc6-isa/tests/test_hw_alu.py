"""Port of py-videocore6 tests/test_alu.py (ran on a Pi 4): ALU ops with pack/unpack modifiers.

One program per group of cases (test_asm_pyvc6's qpu_binary_ops / qpu_unary_ops, py-videocore6's
programs): load one (or two) 16-lane input vectors (the two loads issued with thrsw's two
instructions apart, reference Appendix G.3), then for each case apply the op to r1 (and r2) into
r0 with the modifiers and store r0 as one output row. Float
results are compared with numpy models at the tolerance the hardware tests used (rtol 1e-2),
integer results exactly.
"""

from __future__ import annotations

import itertools

import numpy as np
from hw_support import pi, run, seeded
from test_asm_pyvc6 import qpu_binary_ops, qpu_unary_ops

F32, F16, I32, U32 = np.float32, np.float16, np.int32, np.uint32


def _ror(a, b):
    s = b.astype(np.uint64) % 32
    a64 = a.astype(np.uint64)
    return (((a64 << (32 - s)) | (a64 >> s)) & 0xFFFFFFFF).astype(np.uint32)


def _clz(a):
    return np.array([32 - int(v).bit_length() for v in a], np.uint32)


def _fdx(x):
    lanes = np.arange(x.size)
    return x[lanes | 1] - x[lanes & ~1]


def _fdy(x):
    lanes = np.arange(x.size)
    return x[(lanes & ~3) | 2 | (lanes & 1)] - x[(lanes & ~3) | (lanes & 1)]


def _ftouz(x):
    return np.array([np.uint32(np.float32(v)) if v > -1 else 0 for v in x], np.uint32)


#: What each op computes, as the hardware tests modelled it (fcmp's result is a - b).
MODEL = {
    "fadd": np.add, "faddnf": np.add, "fsub": np.subtract, "fmin": np.minimum,
    "fmax": np.maximum, "fmul": np.multiply, "fcmp": np.subtract,
    "vfpack": lambda a, b: np.column_stack([a, b]).ravel(),
    "vfmin": np.minimum, "vfmax": np.maximum, "vfmul": np.multiply,
    "add": np.add, "sub": np.subtract, "imin": np.minimum, "imax": np.maximum,
    "umin": np.minimum, "umax": np.maximum,
    "shl": lambda a, b: a << (b % 32), "shr": lambda a, b: a >> (b % 32),
    "asr": lambda a, b: a.astype(np.int32) >> (b % 32), "ror": _ror,
    "band": np.bitwise_and, "bor": np.bitwise_or, "bxor": np.bitwise_xor,
    "fmov": lambda x: x, "fround": np.round, "ftrunc": np.trunc, "ffloor": np.floor,
    "fceil": np.ceil, "fdx": _fdx, "fdy": _fdy,
    "ftoin": lambda x: x.round().astype(np.int32),
    "ftoiz": lambda x: x.astype(np.float32).astype(np.int32), "ftouz": _ftouz,
    "bnot": np.invert, "neg": np.negative, "itof": lambda x: x.astype(np.float32),
    "utof": lambda x: x.astype(np.float32), "clz": _clz,
}  # fmt: skip

#: How a source unpack or destination pack selects values from a 64-byte row.
SELECT = {
    None: lambda x: x, "none": lambda x: x, "abs": np.abs,
    "l": lambda x: x[0::2], "h": lambda x: x[1::2],
    "r32": lambda x: x.repeat(2), "rl2h": lambda x: x[0::2].repeat(2),
    "rh2l": lambda x: x[1::2].repeat(2), "swap": lambda x: x.reshape(-1, 2)[:, ::-1].ravel(),
}  # fmt: skip


def _row_of(dtype):
    return 64 // np.dtype(dtype).itemsize


def _random(rng, dtype, low=None, high=None):
    n = _row_of(dtype)
    if np.dtype(dtype).kind == "f":
        lo, hi = (-(2**7), 2**7) if low is None else (low, high)
        return rng.uniform(lo, hi, n).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max - 1, n, endpoint=True, dtype=np.int64).astype(dtype)


def _check(op, want, got, dst_dtype, label):
    if np.dtype(dst_dtype).kind == "f":
        assert np.allclose(got, want, rtol=1e-2), label
    else:
        assert (got == want).all(), label


def _binary_group(rng, ops, dst, src_a, src_b):
    (dt_out, packs), (dt_a, mods_a), (dt_b, mods_b) = dst, src_a, src_b
    cases = list(itertools.product(ops, packs, mods_a, mods_b))
    with pi() as drv:
        code = drv.program(qpu_binary_ops, ops, packs, mods_a, mods_b)
        a = drv.alloc(_row_of(dt_a), dtype=dt_a)
        b = drv.alloc(_row_of(dt_b), dtype=dt_b)
        out = drv.alloc((len(cases), _row_of(dt_out)), dtype=dt_out)
        unif = drv.alloc(3, dtype=np.uint32)
        a[:] = _random(rng, dt_a)
        b[:] = _random(rng, dt_b)
        out[:] = 0
        unif[:] = [a.address, b.address, out.address]
        run(drv, code, unif)
        for row, (op, pack, ma, mb) in zip(out, cases):
            want = MODEL[op](SELECT[ma](np.array(a)), SELECT[mb](np.array(b)))
            _check(op, want, SELECT[pack](np.array(row)), dt_out, f"{op}({pack}, {ma}, {mb})")


def _unary_group(rng, ops, dst, src):
    (dt_out, packs), (dt_in, mods) = dst, src
    cases = list(itertools.product(ops, packs, mods))
    with pi() as drv:
        code = drv.program(qpu_unary_ops, ops, packs, mods)
        x = drv.alloc(_row_of(dt_in), dtype=dt_in)
        out = drv.alloc((len(cases), _row_of(dt_out)), dtype=dt_out)
        unif = drv.alloc(2, dtype=np.uint32)
        if np.dtype(dt_in).kind == "u":
            # the hardware test converted floats in [-2^15, 2^15) to uint32; use the same
            # integers, negative ones wrapped (a conversion numpy leaves undefined)
            x[:] = (rng.integers(-(2**15), 2**15, x.size) & 0xFFFFFFFF).astype(np.uint32)
        else:
            x[:] = rng.uniform(-(2**15), 2**15, x.size).astype(dt_in)
        out[:] = 0
        unif[:] = [x.address, out.address]
        run(drv, code, unif)
        for row, (op, pack, mod) in zip(out, cases):
            want = MODEL[op](SELECT[mod](np.array(x)))
            _check(op, want, SELECT[pack](np.array(row)), dt_out, f"{op}({pack}, {mod})")


def test_binary_ops():
    rng = seeded("test_binary_ops")
    packs = [(F32, [None, "none"]), (F16, ["l", "h"])]
    unpacks = [(F32, [None, "none", "abs"]), (F16, ["l", "h"])]
    for dst, a, b in itertools.product(packs, unpacks, unpacks):
        _binary_group(rng, ["fadd", "faddnf", "fsub", "fmin", "fmax", "fmul", "fcmp"], dst, a, b)
    unpacks = [(F32, [None, "none"]), (F16, ["l", "h"])]
    for a, b in itertools.product(unpacks, unpacks):
        _binary_group(rng, ["vfpack"], (F16, [None, "none"]), a, b)
    f16_pair = (F16, [None, "none"])
    for a in [(F32, ["r32"]), (F16, ["rl2h", "rh2l", "swap"])]:
        _binary_group(rng, ["vfmin", "vfmax", "vfmul"], f16_pair, a, f16_pair)
    i32, u32 = (I32, [None]), (U32, [None])
    _binary_group(rng, ["add", "sub", "imin", "imax", "asr"], i32, i32, i32)
    _binary_group(rng, ["add", "sub", "umin", "umax"], u32, u32, u32)
    _binary_group(rng, ["shl", "shr", "ror"], u32, u32, u32)
    _binary_group(rng, ["band", "bor", "bxor"], u32, u32, u32)


def test_unary_ops():
    rng = seeded("test_unary_ops")
    f32_f16_out = [(F32, [None, "none"]), (F16, ["l", "h"])]
    for dst, src in itertools.product(f32_f16_out, [(F32, [None, "none", "abs"]), (F16, ["l", "h"])]):
        _unary_group(rng, ["fmov"], dst, src)
    plain_in = [(F32, [None, "none"]), (F16, ["l", "h"])]
    for dst, src in itertools.product(f32_f16_out, plain_in):
        _unary_group(rng, ["fround", "ftrunc", "ffloor", "fceil", "fdx", "fdy"], dst, src)
    for src in plain_in:
        _unary_group(rng, ["ftoin", "ftoiz"], (I32, [None, "none"]), src)
        _unary_group(rng, ["ftouz"], (U32, [None, "none"]), src)
    _unary_group(rng, ["bnot", "neg"], (I32, [None]), (I32, [None]))
    _unary_group(rng, ["itof"], (F32, [None]), (I32, [None]))
    _unary_group(rng, ["clz"], (U32, [None]), (U32, [None]))
    _unary_group(rng, ["utof"], (F32, [None]), (U32, [None]))

"""Per-lane op semantics, lane by lane against numpy on random and corner-case inputs.

Each op is called one lane at a time (as the emulator does) and compared bit for bit
with a vectorised numpy reference. NaN results are compared against the documented NaN
policy (fp.py) rather than numpy's host-dependent NaN bits. Runs with numba and, with
VC6_NO_JIT=1, as plain Python (smaller random samples then).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from vc6_isa.emulator import semantics as S

# the numpy references below compute inf - inf, casts of NaN, ... on purpose
pytestmark = pytest.mark.filterwarnings("ignore:.*encountered in:RuntimeWarning")

RNG = np.random.default_rng(4242)
N = 6000 if S.JIT_ENABLED else 1500
M32 = 0xFFFFFFFF

F32_CORNERS = np.array(
    [
        0x00000000, 0x80000000,  # +-0
        0x00000001, 0x80000001, 0x007FFFFF, 0x807FFFFF,  # denormals
        0x00800000, 0x80800000,  # smallest normals
        0x3F800000, 0xBF800000, 0x3FC00000, 0x40000000, 0x3F000000, 0xBF000000,
        0x3EFFFFFF, 0x3FBFFFFF, 0x40200000, 0x40600000, 0xC0200000,  # around 0.5/1.5/2.5
        0x4B000000, 0x4B000001, 0x4B7FFFFF, 0xCB000001,  # 2**23 .. (integral region)
        0x4EFFFFFF, 0x4F000000, 0xCF000000, 0xCF000001, 0x4F800000, 0x4F7FFFFF,  # 2**31, 2**32
        0x7F7FFFFF, 0xFF7FFFFF,  # max finite
        0x7F800000, 0xFF800000,  # inf
        0x7FC00000, 0x7F800001, 0xFFFFFFFF, 0xFFFFFFF0, 0x7FBFFFFF,  # NaNs (quiet, signalling)
        0x3B800000, 0x43000000, 0x0000000F,  # small immediates
    ],
    dtype=np.uint32,
)  # fmt: skip

INT_CORNERS = np.array(
    [0, 1, 2, 15, 16, 31, 32, 33, 63, 0x7FFFFFFF, 0x80000000, 0x80000001, 0xFFFFFFFF,
     0xFFFFFFFE, 0xFFFFFFF0, 0x00FFFFFF, 0x01000000, 0x00800000, 0x7FFFFF, 0xFFFF, 0x10000,
     0x8000, 0x7FFF, 0x12345678],
    dtype=np.uint32,
)  # fmt: skip


def lanes(fn, *cols):
    """Apply a per-lane (bits, carry) op to uint32 columns -> (results, carries)."""
    out = [fn(*map(int, vals)) for vals in zip(*cols)]
    res = np.array([r for r, _ in out], dtype=np.uint64)
    assert np.all(res <= M32), "results must be 32-bit patterns"
    car = np.array([c for _, c in out], dtype=np.int64)
    assert np.all((car == 0) | (car == 1)), "carry must be 0 or 1"
    return res.astype(np.uint32), car


def f32(bits):
    return np.asarray(bits, dtype=np.uint32).view(np.float32)


def bits(x):
    return np.asarray(x, dtype=np.float32).view(np.uint32)


def isnan(b):
    return (np.asarray(b, dtype=np.uint32) & 0x7FFFFFFF) > 0x7F800000


def rand_f32(n):
    """Random patterns: half uniform over all bits, half moderate-magnitude floats."""
    raw = RNG.integers(0, 1 << 32, n // 2, dtype=np.uint64).astype(np.uint32)
    vals = (
        RNG.standard_normal(n - n // 2) * 10.0 ** RNG.integers(-3, 4, n - n // 2)
    ).astype(np.float32)
    return np.concatenate([raw, bits(vals)])


def float_pairs():
    a, b = zip(*itertools.product(F32_CORNERS, repeat=2))
    r1, r2 = rand_f32(N), rand_f32(N)
    return np.concatenate([np.array(a, np.uint32), r1]), np.concatenate(
        [np.array(b, np.uint32), r2]
    )


def expected_nan2(a, b):
    """The documented NaN result of a two-operand op (only meaningful where it is NaN)."""
    return np.where(
        isnan(a), a | 0x400000, np.where(isnan(b), b | 0x400000, 0x7FC00000)
    ).astype(np.uint32)


def float_carry(r):
    r = np.asarray(r, np.uint32)
    return ((~isnan(r)) & (((r & 0x7FFFFFFF) == 0) | ((r >> 31) == 1))).astype(np.int64)


def assert_float_result(got, want_f32, a, b=None):
    """Bitwise match where numpy is not NaN; the NaN policy where it is."""
    want = bits(want_f32)
    nan = isnan(want)
    assert np.array_equal(got[~nan], want[~nan])
    want_nan = expected_nan2(a, a if b is None else b)
    assert np.array_equal(got[nan], want_nan[nan])


# ------------------------------------------------------------------------- f32 binary ops

BINARY = {"fadd": np.add, "faddnf": np.add, "fsub": np.subtract, "fmul": np.multiply}


@pytest.mark.parametrize("name", sorted(BINARY))
def test_f32_arithmetic(name):
    a, b = float_pairs()
    got, car = lanes(S.SEMANTICS[name], a, b)
    with np.errstate(all="ignore"):
        want = BINARY[name](f32(a), f32(b))
    assert_float_result(got, want, a, b)
    assert np.array_equal(car, float_carry(got))


def test_denormals_are_preserved():
    tiny = 0x00000001  # 2**-149
    assert S.fadd(tiny, tiny) == (0x00000002, 0)
    assert S.fsub(0x00800000, 0x00000001) == (0x007FFFFF, 0)
    assert S.fmul(0x00800000, 0x3F000000) == (0x00400000, 0)  # normal * 0.5 -> denormal
    assert S.fmul(0x00000001, 0x3F000000) == (0x00000000, 1)  # 2**-150 ties to even 0


def test_invalid_ops_give_canonical_nan():
    assert S.fadd(0x7F800000, 0xFF800000)[0] == 0x7FC00000
    assert S.fmul(0x00000000, 0xFF800000)[0] == 0x7FC00000
    assert (
        S.fsub(0xFFFFFFF0, 0x7F800001)[0] == 0xFFFFFFF0
    )  # a's NaN wins, already quiet
    assert S.fsub(0x3F800000, 0x7F800001)[0] == 0x7FC00001  # b's NaN, quieted


@pytest.mark.parametrize("name", ["fmin", "fmax"])
def test_fmin_fmax(name):
    a, b = float_pairs()
    got, car = lanes(S.SEMANTICS[name], a, b)
    fa, fb = f32(a), f32(b)
    pick_min = (fa < fb) | ((fa == fb) & ((a >> 31) == 1))  # -0 < +0
    want = np.where(pick_min, a, b) if name == "fmin" else np.where(pick_min, b, a)
    nan = isnan(a) | isnan(b)
    assert np.array_equal(got[~nan], want[~nan])
    assert np.array_equal(got[nan], expected_nan2(a, b)[nan])
    a_gt_b = (fa > fb) | ((fa == fb) & ((a >> 31) == 0) & ((b >> 31) == 1))
    assert np.array_equal(car, (a_gt_b & ~nan).astype(np.int64))
    # numpy agrees wherever the zero sign does not matter
    npf = np.minimum if name == "fmin" else np.maximum
    plain = ~nan & ~((fa == 0) & (fb == 0))
    assert np.array_equal(got[plain], bits(npf(fa, fb))[plain])


def test_fmin_fmax_signed_zero():
    assert S.fmin(0x00000000, 0x80000000)[0] == 0x80000000
    assert S.fmin(0x80000000, 0x00000000)[0] == 0x80000000
    assert S.fmax(0x80000000, 0x00000000)[0] == 0x00000000
    assert S.fmax(0x00000000, 0x80000000)[0] == 0x00000000


def test_fcmp_flags_are_the_comparisons():
    a, b = float_pairs()
    got, car = lanes(S.fcmp, a, b)
    zn = np.array([S.flag_z_n(int(r), True) for r in got])
    fa, fb = f32(a), f32(b)
    assert np.array_equal(zn[:, 0], (fa == fb).astype(int))  # Z: a == b (false on NaN)
    assert np.array_equal(zn[:, 1], (fa < fb).astype(int))  # N: a < b
    assert np.array_equal(car, (fa <= fb).astype(np.int64))  # C: a <= b
    with np.errstate(all="ignore"):
        diff = fa - fb
    regular = ~((fa == fb) & np.isinf(fa))  # fcmp(inf, inf) is +0, not NaN
    assert_float_result(got[regular], diff[regular], a[regular], b[regular])
    assert S.fcmp(0x7F800000, 0x7F800000) == (0, 1)


def test_fmov_and_mov_are_bit_copies():
    x = np.concatenate([F32_CORNERS, rand_f32(500)])
    got, car = lanes(S.fmov, x)
    assert np.array_equal(got, x)
    assert np.array_equal(car, float_carry(x))
    assert np.array_equal(lanes(S.mov, x)[0], x)


@pytest.mark.parametrize("name", ["fadd", "fsub", "fcmp", "fmul", "fmin", "fmax"])
@pytest.mark.parametrize(
    "ua,ub,pack", list(itertools.product(range(4), range(4), range(3)))
)
def test_every_pack_unpack_form(name, ua, ub, pack):
    """op(unpack(a), unpack(b)) then pack, against numpy float16/float32 as PyVC6 does."""
    n = 64
    src = (RNG.standard_normal(2 * n) * 4).astype(np.float32)
    half = (RNG.standard_normal(4 * n) * 4).astype(np.float16).view(np.uint32)
    a = np.where(np.arange(n) % 2 == 0, bits(src[:n]), half[:n]) if ua < 2 else half[:n]
    b = np.where(np.arange(n) % 2 == 0, bits(src[n:]), half[n:]) if ub < 2 else half[n:]
    old = RNG.integers(0, 1 << 32, n, dtype=np.uint64).astype(np.uint32)

    def lane(x, y, o):
        r, _ = S.SEMANTICS[name](S.unpack_f32(x, ua), S.unpack_f32(y, ub))
        return S.pack_f32(r, o, pack), 0

    got, _ = lanes(lane, a, b, old)

    npop = {
        "fadd": np.add,
        "fsub": np.subtract,
        "fcmp": np.subtract,
        "fmul": np.multiply,
        "fmin": np.minimum,
        "fmax": np.maximum,
    }
    want = np_pack(bits(npop[name](np_unpack(a, ua), np_unpack(b, ub))), old, pack)
    assert np.array_equal(got, want)


def np_unpack(v, code):
    """numpy version of the f32 input unpack (0 .abs, 1 none, 2 .l, 3 .h)."""
    if code == 0:
        return np.abs(f32(v))
    if code == 1:
        return f32(v)
    h = (v & 0xFFFF) if code == 2 else (v >> 16)
    return h.astype(np.uint16).view(np.float16).astype(np.float32)


def np_pack(r, old, code):
    """numpy version of the f32 output pack (0 none, 1 .l, 2 .h) of f32 patterns r."""
    if code == 0:
        return r
    with np.errstate(all="ignore"):
        h = r.view(np.float32).astype(np.float16).view(np.uint16).astype(np.uint32)
    return (old & 0xFFFF0000) | h if code == 1 else (old & 0xFFFF) | (h << 16)


def _unpack_inputs(n, code):
    """Operands suited to an unpack code: f32 values for none/.abs, f16 pairs for .l/.h."""
    if code < 2:
        return bits((RNG.standard_normal(n) * 6).astype(np.float32))
    return (RNG.standard_normal(2 * n) * 6).astype(np.float16).view(np.uint32)


UNARY_F32 = {
    "fmov": (lambda x: x, range(4)),
    "fround": (np.rint, range(1, 4)),
    "ftrunc": (np.trunc, range(1, 4)),
    "ffloor": (np.floor, range(1, 4)),
    "fceil": (np.ceil, range(1, 4)),
}


@pytest.mark.parametrize(
    "name,unpack,pack",
    [(n, u, p) for n, (_, us) in UNARY_F32.items() for u in us for p in range(3)],
)
def test_every_pack_unpack_form_unary(name, unpack, pack):
    a = _unpack_inputs(64, unpack)
    old = RNG.integers(0, 1 << 32, a.size, dtype=np.uint64).astype(np.uint32)
    got, _ = lanes(
        lambda x, o: (
            S.pack_f32(S.SEMANTICS[name](S.unpack_f32(x, unpack))[0], o, pack),
            0,
        ),
        a,
        old,
    )
    want = np_pack(bits(UNARY_F32[name][0](np_unpack(a, unpack))), old, pack)
    assert np.array_equal(got, want)


@pytest.mark.parametrize("name", ["ftoin", "ftoiz", "ftouz"])
@pytest.mark.parametrize("unpack", [1, 2, 3])
def test_float_to_int_with_each_unpack(name, unpack):
    a = _unpack_inputs(64, unpack)
    got, _ = lanes(lambda x: S.SEMANTICS[name](S.unpack_f32(x, unpack)), a)
    x = np_unpack(a, unpack)
    want = {
        "ftoin": np.rint(x).astype(np.int32).view(np.uint32),
        "ftoiz": np.trunc(x).astype(np.int32).view(np.uint32),
        "ftouz": np.maximum(np.trunc(x), 0).astype(np.uint32),
    }[name]
    assert np.array_equal(got, want)


@pytest.mark.parametrize("name,dtype", [("itof", np.int32), ("utof", np.uint32)])
@pytest.mark.parametrize("pack", [0, 1, 2])
def test_int_to_float_with_each_pack(name, dtype, pack):
    a = RNG.integers(-70000, 70000, 64).astype(dtype).view(np.uint32)
    old = RNG.integers(0, 1 << 32, a.size, dtype=np.uint64).astype(np.uint32)
    got, _ = lanes(
        lambda x, o: (S.pack_f32(S.SEMANTICS[name](x)[0], o, pack), 0), a, old
    )
    assert np.array_equal(
        got, np_pack(bits(a.view(dtype).astype(np.float32)), old, pack)
    )


@pytest.mark.parametrize("name", ["fdx", "fdy"])
@pytest.mark.parametrize("unpack,pack", list(itertools.product((1, 2, 3), range(3))))
def test_derivatives_with_each_pack_unpack(name, unpack, pack):
    a = _unpack_inputs(16, unpack)
    old = RNG.integers(0, 1 << 32, 16, dtype=np.uint64).astype(np.uint32)
    values = np.array([S.unpack_f32(int(v), unpack) for v in a], dtype=np.uint32)
    got = np.array(
        [
            S.pack_f32(int(r), int(o), pack)
            for r, o in zip(S.SEMANTICS[name](values), old)
        ]
    )
    x = np_unpack(a, unpack)
    if name == "fdx":
        diff = (x[1::2] - x[0::2]).repeat(2)
    else:
        quads = x.reshape(-1, 2).repeat(2, axis=0).reshape(-1, 4)
        diff = (quads[1::2] - quads[0::2]).ravel()
    assert np.array_equal(got.astype(np.uint32), np_pack(bits(diff), old, pack))


# ------------------------------------------------------------------ rounding, conversions

ROUNDING = {"fround": np.rint, "ftrunc": np.trunc, "ffloor": np.floor, "fceil": np.ceil}


@pytest.mark.parametrize("name", sorted(ROUNDING))
def test_rounding_ops(name):
    x = np.concatenate([F32_CORNERS, rand_f32(N)])
    got, car = lanes(S.SEMANTICS[name], x)
    want = ROUNDING[name](f32(x))  # numpy keeps -0 (e.g. ceil(-0.5) = -0)
    assert_float_result(got, want, x)
    assert np.array_equal(car, float_carry(got))


def _np_to_int(x, rounder, lo, hi):
    v = rounder(f32(x).astype(np.float64))
    v = np.where(np.isnan(v), 0, np.clip(v, lo, hi))
    return v.astype(np.int64).astype(np.uint32)


@pytest.mark.parametrize(
    "name,rounder,lo,hi",
    [
        ("ftoin", np.rint, -(2**31), 2**31 - 1),
        ("ftoiz", np.trunc, -(2**31), 2**31 - 1),
        ("ftouz", np.trunc, 0, 2**32 - 1),
    ],
)
def test_float_to_int_saturates(name, rounder, lo, hi):
    x = np.concatenate(
        [
            F32_CORNERS,
            rand_f32(N),
            bits(np.float32([3e9, -3e9, 2.5, -2.5, 0.5, -0.5, 1.5, -1.7])),
        ]
    )
    got, car = lanes(S.SEMANTICS[name], x)
    assert np.array_equal(got, _np_to_int(x, rounder, lo, hi))
    assert not car.any()


def test_float_to_int_corner_values():
    assert S.ftoin(0x4EFFFFFF)[0] == 2147483520  # largest f32 below 2**31
    assert S.ftoiz(0xCF000000)[0] == 0x80000000  # -2**31 exactly
    assert S.ftoiz(0x4F000000)[0] == 0x7FFFFFFF  # 2**31 saturates
    assert S.ftoiz(0x7F800000)[0] == 0x7FFFFFFF and S.ftoiz(0xFF800000)[0] == 0x80000000
    assert S.ftoin(0x7FC00000)[0] == 0 and S.ftouz(0xFFFFFFFF)[0] == 0
    assert S.ftouz(0x4F7FFFFF)[0] == 0xFFFFFF00 and S.ftouz(0x4F800000)[0] == 0xFFFFFFFF
    assert (
        S.ftoin(0x40200000)[0] == 2 and S.ftoin(0xC0200000)[0] == 0xFFFFFFFE
    )  # +-2.5 -> even


@pytest.mark.parametrize("name,dtype", [("itof", np.int32), ("utof", np.uint32)])
def test_int_to_float_rounds_to_nearest_even(name, dtype):
    x = np.concatenate(
        [INT_CORNERS, RNG.integers(0, 1 << 32, N, dtype=np.uint64).astype(np.uint32),
         np.array([(1 << 24) + 1, (1 << 24) + 3, (1 << 25) + 2, (1 << 25) + 6, 0x7FFFFFC0, 0xFFFFFF80], np.uint32)]
    )  # fmt: skip
    got, car = lanes(S.SEMANTICS[name], x)
    want = bits(x.view(dtype).astype(np.float32))
    assert np.array_equal(got, want)
    assert np.array_equal(car, float_carry(got))


def test_ftoc_is_a_coverage_mask():
    assert S.ftoc(0x00000000)[0] == 0 and S.ftoc(0x3F800000)[0] == 0xF
    assert S.ftoc(0x3F000000)[0] == 0x3 and S.ftoc(0x7FC00000)[0] == 0


# --------------------------------------------------------------------------- integer ops


def int_pairs():
    a, b = zip(*itertools.product(INT_CORNERS, repeat=2))
    r = RNG.integers(0, 1 << 32, (2, N), dtype=np.uint64).astype(np.uint32)
    return np.concatenate([np.array(a, np.uint32), r[0]]), np.concatenate(
        [np.array(b, np.uint32), r[1]]
    )


def _ror(a, b):
    n = (b & 31).astype(np.uint64)
    a = a.astype(np.uint64)
    return ((a >> n) | (a << ((32 - n) % 32))).astype(np.uint64) & M32


INT_BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a.astype(np.uint64) + b > M32),
    "sub": (lambda a, b: a - b, lambda a, b: a < b),
    "min": (
        lambda a, b: np.minimum(a.view(np.int32), b.view(np.int32)),
        lambda a, b: a.view(np.int32) > b.view(np.int32),
    ),
    "max": (
        lambda a, b: np.maximum(a.view(np.int32), b.view(np.int32)),
        lambda a, b: a.view(np.int32) > b.view(np.int32),
    ),
    "umin": (np.minimum, lambda a, b: a > b),
    "umax": (np.maximum, lambda a, b: a > b),
    "shl": (lambda a, b: a << (b & 31), None),
    "shr": (lambda a, b: a >> (b & 31), None),
    "asr": (lambda a, b: a.view(np.int32) >> (b & 31).astype(np.int32), None),
    "ror": (_ror, None),
    "and": (np.bitwise_and, None),
    "or": (np.bitwise_or, None),
    "xor": (np.bitwise_xor, None),
    "vadd": (
        lambda a, b: (a.view(np.uint16) + b.view(np.uint16)).view(np.uint32),
        None,
    ),
    "vsub": (
        lambda a, b: (a.view(np.uint16) - b.view(np.uint16)).view(np.uint32),
        None,
    ),
    "smul24": (
        lambda a, b: (
            (
                (a.view(np.int32) << 8 >> 8).astype(np.int64)
                * (b.view(np.int32) << 8 >> 8)
            )
            & M32
        ),
        None,
    ),
}


@pytest.mark.parametrize("name", sorted(INT_BINARY))
def test_integer_binary_ops(name):
    a, b = int_pairs()
    got, car = lanes(S.SEMANTICS[name], a, b)
    value, carry = INT_BINARY[name]
    with np.errstate(all="ignore"):
        want = np.asarray(value(a, b)).astype(np.int64).astype(np.uint64) & M32
    assert np.array_equal(got, want.astype(np.uint32))
    want_c = carry(a, b).astype(np.int64) if carry else np.zeros_like(car)
    assert np.array_equal(car, want_c)


def test_shift_counts_use_low_five_bits():
    assert (
        S.shl(1, 32) == (1, 0)
        and S.shl(1, 33) == (2, 0)
        and S.shr(0x80000000, 0xFFFFFFFF) == (1, 0)
    )
    assert S.asr(0x80000000, 31) == (0xFFFFFFFF, 0) and S.ror(0x12345678, 36) == (
        0x81234567,
        0,
    )


@pytest.mark.parametrize("name", ["not", "neg", "clz", "mov"])
def test_integer_unary_ops(name):
    x = np.concatenate(
        [INT_CORNERS, RNG.integers(0, 1 << 32, N, dtype=np.uint64).astype(np.uint32)]
    )
    x = np.concatenate(
        [x, x >> RNG.integers(0, 32, x.size).astype(np.uint32)]
    )  # spread clz
    got, car = lanes(S.SEMANTICS[name], x)
    want = {
        "not": ~x,
        "neg": (0 - x.astype(np.int64)) & M32,
        "clz": np.array([32 - int(v).bit_length() for v in x]),
        "mov": x,
    }[name]
    assert np.array_equal(got, np.asarray(want).astype(np.uint32))
    assert np.array_equal(
        car, (x != 0).astype(np.int64) if name == "neg" else np.zeros_like(car)
    )


def test_multop_then_umul24_is_a_full_32_bit_multiply():
    a, b = int_pairs()
    rtop, _ = lanes(S.multop, a, b)
    got, _ = lanes(S.umul24, a, b, rtop)
    want = (a.astype(object) * b.astype(object)) % (1 << 32)
    assert np.array_equal(got, want.astype(np.uint32))
    lone, _ = lanes(lambda x, y: S.umul24(x, y, 0), a, b)
    want24 = ((a & 0xFFFFFF).astype(np.uint64) * (b & 0xFFFFFF)) & M32
    assert np.array_equal(lone, want24.astype(np.uint32))


# ----------------------------------------------------------------------- f16 pair ops


def _halves(n):
    h = (RNG.standard_normal(2 * n) * 8).astype(np.float16).view(np.uint16)
    corners = np.array([0, 0x8000, 1, 0x8001, 0x3FF, 0x400, 0x7BFF, 0xFBFF, 0x7C00, 0xFC00, 0x3C00, 0x3555,
                        0x7E00, 0x7C01, 0xFFFF], np.uint16)  # fmt: skip
    pairs = np.array(list(itertools.product(corners, repeat=2)), np.uint16).reshape(-1)
    return np.concatenate([h, pairs]).view(np.uint32)


def _np_unpack16(a, code):
    lo, hi = a & 0xFFFF, a >> 16
    if code == 0:
        return a
    if code == 1:  # .ff applies to an f32 operand
        with np.errstate(all="ignore"):
            h = f32(a).astype(np.float16).view(np.uint16).astype(np.uint32)
        return (h << 16) | h
    return {2: (lo << 16) | lo, 3: (hi << 16) | hi, 4: (lo << 16) | hi}[code]


VF = {"vfmin": np.minimum, "vfmax": np.maximum, "vfmul": np.multiply}


@pytest.mark.parametrize("name", sorted(VF))
@pytest.mark.parametrize("code", range(5))
def test_f16_pair_ops(name, code):
    b = _halves(600)
    a = (
        bits((RNG.standard_normal(b.size) * 8).astype(np.float32))
        if code == 1
        else np.roll(b, 7)
    )
    got, car = lanes(lambda x, y: S.SEMANTICS[name](S.unpack_f16x2(x, code), y), a, b)
    ua = _np_unpack16(a, code)
    with np.errstate(all="ignore"):
        want = VF[name](ua.view(np.float16), b.view(np.float16)).view(np.uint16)
    g16, a16, b16 = got.view(np.uint16), ua.view(np.uint16), b.view(np.uint16)
    nan = (want & 0x7FFF) > 0x7C00
    zeros = ((a16 & 0x7FFF) == 0) & ((b16 & 0x7FFF) == 0)
    plain = ~nan & ~(zeros & (name != "vfmul"))
    assert np.array_equal(g16[plain], want[plain])
    a_nan, b_nan = (a16 & 0x7FFF) > 0x7C00, (b16 & 0x7FFF) > 0x7C00
    want_nan = np.where(
        a_nan, a16 | 0x200, np.where(b_nan, b16 | 0x200, 0x7E00)
    ).astype(np.uint16)
    assert np.array_equal(g16[nan], want_nan[nan])
    if name != "vfmul":  # -0 < +0
        neg_a = (a16 >> 15) == 1
        pick_a = neg_a if name == "vfmin" else ~neg_a
        assert np.array_equal(g16[zeros], np.where(pick_a, a16, b16)[zeros])
    assert not car.any()


@pytest.mark.parametrize("ua,ub", list(itertools.product((1, 2, 3), repeat=2)))
def test_vfpack(ua, ub):
    a = np.concatenate([F32_CORNERS, rand_f32(300)])
    b = np.roll(a, 3)
    got, _ = lanes(
        lambda x, y: S.vfpack(S.unpack_f32(x, ua), S.unpack_f32(y, ub)), a, b
    )
    fa = np.array([S.unpack_f32(int(v), ua) for v in a], np.uint32)
    fb = np.array([S.unpack_f32(int(v), ub) for v in b], np.uint32)
    ok = ~isnan(fa) & ~isnan(fb)
    with np.errstate(all="ignore"):
        lo = f32(fa).astype(np.float16).view(np.uint16).astype(np.uint32)
        hi = f32(fb).astype(np.float16).view(np.uint16).astype(np.uint32)
    assert np.array_equal(got[ok], ((hi << 16) | lo)[ok])


# --------------------------------------------------------------------------------- SFU

SFU = {
    "recip": lambda x: 1.0 / x,
    "rsqrt": lambda x: 1.0 / np.sqrt(x),
    "rsqrt2": lambda x: 1.0 / np.sqrt(x),
    "exp": np.exp2,
    "log": np.log2,
    "sin": lambda x: np.sin(np.pi * np.clip(x, -0.5, 0.5)),
}


@pytest.mark.parametrize("name", sorted(SFU))
def test_sfu_ops_within_one_f32_ulp_of_float64(name):
    x = np.concatenate(
        [F32_CORNERS, rand_f32(N), bits(RNG.uniform(-3, 3, 500).astype(np.float32))]
    )
    got, car = lanes(S.SEMANTICS[name], x)
    with np.errstate(all="ignore"):
        ref64 = SFU[name](f32(x).astype(np.float64))
        ref32 = ref64.astype(np.float32)
    g = f32(got).astype(np.float64)
    nan = np.isnan(ref32)
    assert np.array_equal(np.isnan(g), nan)
    # within one f32 ulp of float64 rounded to f32 (libm exp2/log2/sin may differ in the
    # last float64 bit between numpy and numba), same sign
    ulps = np.abs(got[~nan].astype(np.int64) - bits(ref32[~nan]).astype(np.int64))
    assert ulps.max() <= 1
    normal = np.isfinite(ref32) & (np.abs(ref32) >= np.finfo(np.float32).tiny)
    assert np.allclose(
        g[normal], ref64[normal], rtol=1e-4, atol=0
    )  # PyVC6's hardware tolerance
    assert np.array_equal(car, float_carry(got))


def test_sfu_special_values():
    assert S.recip(0x80000000)[0] == 0xFF800000 and S.recip(0xFF800000)[0] == 0x80000000
    assert S.rsqrt(0x00000000)[0] == 0x7F800000 and S.rsqrt(0x80000000)[0] == 0xFF800000
    assert S.rsqrt(0xBF800000)[0] == 0x7FC00000 and S.rsqrt(0x7F800000)[0] == 0
    assert S.log(0x00000000)[0] == 0xFF800000 and S.log(0xBF800000)[0] == 0x7FC00000
    assert S.exp(0xFF800000)[0] == 0 and S.exp(0x7F800000)[0] == 0x7F800000
    assert S.exp(0x43000000)[0] == 0x7F800000  # 2**128 overflows
    assert (
        S.sin(0x3F400000)[0] == 0x3F800000 and S.sin(0xC0400000)[0] == 0xBF800000
    )  # +-1 beyond 0.5
    assert S.sin(0x7F800001)[0] == 0x7FC00001  # NaN propagates, quieted
    for name in SFU:
        assert S.SEMANTICS[name](0xFFFFFFF0)[0] == 0xFFFFFFF0


# ------------------------------------------------------------- flags, flag ops, derivatives


def test_flag_z_n_rules():
    assert S.flag_z_n(0, False) == (1, 0) and S.flag_z_n(0x80000000, False) == (0, 1)
    assert S.flag_z_n(0x80000000, True) == (1, 0)  # -0.0: zero, not negative
    assert S.flag_z_n(0xBF800000, True) == (0, 1) and S.flag_z_n(0xFF800000, True) == (
        0,
        1,
    )
    assert S.flag_z_n(0xFFFFFFFF, True) == (0, 0)  # NaN: neither
    assert S.flag_z_n(0xFFFFFFFF, False) == (0, 1)
    assert S.FLOAT_RESULT <= set(S.SEMANTICS)


def _sampled(name):
    """(results, carries) of op `name` over every pair of f32 corner values and random words."""
    rand = RNG.integers(0, 1 << 32, 300, dtype=np.uint64).astype(np.uint32)
    a = np.concatenate([np.repeat(F32_CORNERS, len(F32_CORNERS)), rand])
    b = np.concatenate([np.tile(F32_CORNERS, len(F32_CORNERS)), rand[::-1]])
    fn = S.SEMANTICS[name]
    return lanes(fn, *((a, b) if fn.py_func.__code__.co_argcount == 2 else (a,)))


def test_carry_from_result_ops():
    """The machine's op dispatch leaves these ops' C out of the lane loop and derives it from
    the result with float_carry when flags are updated: that must be the op's own C."""
    assert S.CARRY_FROM_RESULT <= S.FLOAT_RESULT
    for name in sorted(S.CARRY_FROM_RESULT):
        res, car = _sampled(name)
        derived = np.array([S.float_carry(int(r)) for r in res])
        assert np.array_equal(car, derived), name


def test_zero_carry_ops():
    """The machine's op dispatch vectorises these ops' lane loops; their C must be 0."""
    for name in sorted(S.ZERO_CARRY):
        _, car = _sampled(name)
        assert not car.any(), name


def test_flag_stack_ops():
    x = RNG.integers(0, 1 << 32, 200, dtype=np.uint64).astype(np.uint32)
    for flag in (0, 1):
        for fn in (S.flapush, S.flbpush):
            got, _ = lanes(lambda v, fn=fn, flag=flag: fn(v, flag), x)
            assert np.array_equal(
                got, ((x.astype(np.uint64) << 2) & M32 | (3 * flag)).astype(np.uint32)
            )
    assert np.array_equal(lanes(S.flpop, x)[0], x >> 2)


def test_derivatives_match_pyvc6_reference():
    v = bits((RNG.standard_normal(16) * 5).astype(np.float32))
    x = f32(v)
    want_dx = (x[1::2] - x[0::2]).repeat(2)
    quads = x.reshape(-1, 2).repeat(2, axis=0).reshape(-1, 4)
    want_dy = (quads[1::2] - quads[0::2]).ravel()
    # the same rule as reference 10.5 states it: lane 4q+j gets v[4q + 2 + j%2] - v[4q + j%2]
    restated = np.array(
        [x[(i & 12) + 2 + (i & 1)] - x[(i & 12) + (i & 1)] for i in range(16)],
        np.float32,
    )
    assert np.array_equal(bits(want_dy), bits(restated))
    assert np.array_equal(S.fdx(v), bits(want_dx))
    assert np.array_equal(S.fdy(v), bits(want_dy))
    assert all(S.fdx_lane(v, i)[0] == bits(want_dx)[i] for i in range(16))
    assert all(S.fdy_lane(v, i)[0] == bits(want_dy)[i] for i in range(16))


# ------------------------------------------------------------------------- table coverage


def test_every_semantic_is_an_isa_op_with_matching_arity():
    import inspect

    from vc6_isa import encoding

    specs = {**encoding.ADD_OPS, **encoding.MUL_OPS}
    extra = {"umul24": 1, "flapush": 1, "flbpush": 1}  # rtop / flag inputs
    for name, fn in S.SEMANTICS.items():
        assert name in specs, f"{name} is not an op of the ISA table"
        nargs = len(inspect.signature(getattr(fn, "py_func", fn)).parameters)
        want = specs[name].nsrc + extra.get(name, 0)
        assert nargs == want, f"{name}: {nargs} arguments, ISA table says {want}"


def _arity(fn):
    import inspect

    return len(inspect.signature(getattr(fn, "py_func", fn)).parameters)


@pytest.mark.parametrize(
    "name", sorted(n for n in S.SEMANTICS if n not in ("fdx", "fdy"))
)
def test_compiled_and_plain_python_agree(name):
    """The numba build and the plain-Python source give the same bits (VC6_NO_JIT=1 is safe)."""
    if not S.JIT_ENABLED:
        pytest.skip("numba is not in use: there is only one implementation")
    fn = S.SEMANTICS[name]
    cols = [np.concatenate([F32_CORNERS, rand_f32(400)]) for _ in range(_arity(fn))]
    cols = [np.roll(c, 5 * i) for i, c in enumerate(cols)]
    for args in zip(*cols):
        args = tuple(map(int, args))
        assert fn(*args) == fn.py_func(*args), (name, [hex(v) for v in args])

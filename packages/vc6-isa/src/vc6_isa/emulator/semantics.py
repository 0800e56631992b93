"""Per-lane semantics of the V3D 4.2 ALU ops, bit-exact, one function per Mesa op name.

Each op function takes one lane's operands as 32-bit patterns (int / int64 / uint32 in
0 .. 2**32-1) *after* the input unpack and returns `(result_bits, carry)`: the 32-bit
result before any output pack, and the op's C flag source (0 or 1). The Z and N flag
sources come from the result: `flag_z_n` (float rules for ops in `FLOAT_RESULT`).
Everything is decorated with `jit`, so the machine's numba interpreter loop calls these
directly; without numba (or with VC6_NO_JIT=1) they are plain Python.

How one ALU op is evaluated (reference vc6-isa.md 10.1):

```python
a = unpack_f32(a, unpack_a)          # or unpack_f16x2 for vfmin/vfmax/vfmul
r, c = SEMANTICS[name](a, b)         # umul24 also takes rtop; multop returns it
z, n = flag_z_n(r, name in FLOAT_RESULT)   # flags from the f32 result, before the pack
r = pack_f32(r, old_destination, pack)
```

Choices for behaviour the references mark UNCERTAIN, each made once, here or in fp.py:

* NaN results: see fp.py (propagate the first NaN operand, quieted; invalid ops give
  0x7fc00000; f16 0x7e00). Denormals are preserved everywhere, inputs and outputs
  (Vulkan driver advertises denorm-preserve, no flush-to-zero; reference 10.3).
* C flag (reference 10.2/10.3, Appendix F #13), see `float_carry` and each op:
    add: carry out of bit 31; sub: borrow (a < b unsigned, observed on hardware);
    neg: borrow of 0 - a; min/max: a > b signed and umin/umax: a > b unsigned (Mesa-cc
    ilt = MIN(y, x).pushc); fmin/fmax: a > b as floats, 0 if either is NaN;
    float-result ops (fadd, fsub, fmul, fcmp, fmov, rounding, itof, SFU, fdx, ...):
    C = the f32 result is zero or negative and not NaN. For fcmp (result a - b) that is
    a <= b, the documented meaning (Mesa-cc fge = fcmp(y, x).pushc); the other float ops
    are assumed to share the same flag logic. Every other op: C = 0.
* Z/N of f32 results (reference 10.7): Z = +0 or -0; N = sign set, not zero, not NaN
  (Mesa's fsign/flt need -0 not negative and NaN not less than anything).
* fcmp returns a - b (observed on hardware), except that fcmp(inf, inf) gives +0 rather
  than NaN, so Z is "a == b" exactly as Mesa's feq = fcmp.pushz requires.
* fmin/fmax: -0 < +0; a NaN operand is propagated (propagate-NaN mode).
* faddnf is numerically fadd (PyVC6 test_binary_ops; the "nf" difference is unknown).
* ftoin/ftoiz/ftouz: out-of-range values saturate (int32: 0x7fffffff / 0x80000000;
  uint32: 0xffffffff / 0), NaN gives 0, as ARM's float-to-int conversions do; PyVC6
  observed ftouz(negative) = 0 on hardware, which fits saturation (not wrap-around).
  Mesa-cc assumes nothing beyond range (GLSL leaves it undefined). itof/utof: RTE.
* vadd/vsub: two independent 16-bit wrap-around halves (by name; never used anywhere).
* umul24/multop: rtop = ((a>>24)*(b & 0xffffff) + (b>>24)*(a & 0xffffff)) << 24 mod
  2**32, so multop then umul24 gives a*b mod 2**32; multop's own result is rtop.
* Output pack .l/.h keeps the other 16 bits of the old destination (Mesa qpu_instr.h
  intent; reference 3.1).
* SFU ops compute in float64 and round to f32 (hardware bits are UNCERTAIN; PyVC6 checks
  1e-4 relative error). sin(pi*x) saturates to +-1 for |x| > 0.5, as observed on
  hardware (reference 10.6).
* ftoc (fragment-only) returns a 4-sample coverage mask of round(4 * clamp(x, 0, 1))
  lowest samples — a guess; compute shaders never use it.
"""

from __future__ import annotations

import math

import numpy as np

from .fp import (
    F16_SIGN,
    F32_ABS,
    F32_CANONICAL_NAN,
    F32_INF,
    F32_QUIET,
    F32_SIGN,
    MASK32,
    bits_from_f32,
    f16_to_f32_bits,
    f32_from_bits,
    f32_to_f16_bits,
    is_nan16,
    is_nan32,
    nan_policy1,
    nan_policy2,
    nan_policy2_f16,
    order_key,
)
from .jit import JIT_ENABLED, jit

# --------------------------------------------------------------------------------------
# Flags
# --------------------------------------------------------------------------------------


@jit
def flag_z_n(result, is_float):
    """(Z, N) flag sources of a 32-bit result; float rules when `is_float`."""
    r = int(result) & MASK32
    if is_float:
        mag = r & F32_ABS
        z = 1 if mag == 0 else 0
        n = 1 if (r & F32_SIGN) and mag != 0 and mag <= F32_INF else 0
        return z, n
    return (1 if r == 0 else 0), (1 if r & F32_SIGN else 0)


@jit
def float_carry(r) -> int:
    """C of a float-result op: the f32 result is zero or negative, and not NaN."""
    mag = r & F32_ABS
    if mag > F32_INF:
        return 0
    return 1 if (mag == 0 or (r & F32_SIGN)) else 0


@jit
def _float_out(r):
    """Result tuple of a float-result op: (bits, C)."""
    return r, float_carry(r)


# --------------------------------------------------------------------------------------
# Input unpack and output pack modifiers (reference 3.1), encoded codes as ints
# --------------------------------------------------------------------------------------

UNPACK_ABS, UNPACK_NONE, UNPACK_L, UNPACK_H = 0, 1, 2, 3
UNPACK16_NONE, UNPACK16_FF, UNPACK16_LL, UNPACK16_HH, UNPACK16_SWP = 0, 1, 2, 3, 4
PACK_NONE, PACK_L, PACK_H = 0, 1, 2


@jit
def unpack_f32(x, code) -> int:
    """f32 input unpack: 0 .abs, 1 none, 2 .l (f16 bits 15:0 -> f32), 3 .h (bits 31:16)."""
    x = int(x) & MASK32
    if code == UNPACK_NONE:
        return x
    if code == UNPACK_ABS:
        return x & F32_ABS
    if code == UNPACK_L:
        return f16_to_f32_bits(x & 0xFFFF)
    return f16_to_f32_bits(x >> 16)


@jit
def unpack_f16x2(x, code) -> int:
    """f16-pair input unpack: 0 none, 1 .ff (f32 -> f16 in both halves), 2 .ll, 3 .hh, 4 .swp."""
    x = int(x) & MASK32
    if code == UNPACK16_NONE:
        return x
    if code == UNPACK16_FF:
        h = f32_to_f16_bits(x)
        return (h << 16) | h
    if code == UNPACK16_LL:
        lo = x & 0xFFFF
        return (lo << 16) | lo
    if code == UNPACK16_HH:
        hi = x >> 16
        return (hi << 16) | hi
    return ((x & 0xFFFF) << 16) | (x >> 16)


@jit
def pack_f32(result, old, code) -> int:
    """f32 output pack: 0 none, 1 .l, 2 .h.

    .l/.h round the f32 result to f16 (RTE) and write it into that half of the old
    destination value, keeping the other half (UNCERTAIN, reference 3.1 / F #4).
    """
    result = int(result) & MASK32
    if code == PACK_NONE:
        return result
    h = f32_to_f16_bits(result)
    old = int(old) & MASK32
    if code == PACK_L:
        return (old & 0xFFFF0000) | h
    return (old & 0x0000FFFF) | (h << 16)


# --------------------------------------------------------------------------------------
# f32 arithmetic (IEEE binary32, RTE, denormals preserved; host float32 arithmetic)
# --------------------------------------------------------------------------------------


@jit
def fadd(a, b):
    a = int(a) & MASK32
    b = int(b) & MASK32
    r = bits_from_f32(f32_from_bits(a) + f32_from_bits(b))
    return _float_out(nan_policy2(r, a, b))


@jit
def faddnf(a, b):
    """Numerically fadd (UNCERTAIN what "nf" changes; Mesa never emits it)."""
    return fadd(a, b)


@jit
def fsub(a, b):
    a = int(a) & MASK32
    b = int(b) & MASK32
    r = bits_from_f32(f32_from_bits(a) - f32_from_bits(b))
    return _float_out(nan_policy2(r, a, b))


@jit
def fmul(a, b):
    a = int(a) & MASK32
    b = int(b) & MASK32
    r = bits_from_f32(f32_from_bits(a) * f32_from_bits(b))
    return _float_out(nan_policy2(r, a, b))


@jit
def fcmp(a, b):
    """a - b, for the flags: Z a == b, N a < b, C a <= b; all 0 if either is NaN."""
    a = int(a) & MASK32
    b = int(b) & MASK32
    if a == b and (a & F32_ABS) == F32_INF:
        return 0, 1  # inf == inf: +0 (Z set) instead of the NaN that inf - inf gives
    return fsub(np.uint32(a), np.uint32(b))  # uint32 as the ALU's callers: one compiled fsub


@jit
def _fminmax(a, b, want_max):
    """fmin/fmax: -0 < +0; a NaN operand propagates (a's first), quieted, with C = 0; otherwise
    C = a > b. Written as selects, without early returns, so that the machine's loop over the
    16 lanes compiles to vector code (checked with numba's inspect_asm: AVX-512 on x86-64)."""
    a = int(a) & MASK32
    b = int(b) & MASK32
    a_nan = is_nan32(a)
    b_nan = is_nan32(b)
    gt = order_key(a, F32_SIGN) > order_key(b, F32_SIGN)
    r = a if gt == want_max else b
    r = (b | F32_QUIET) if b_nan else r
    r = (a | F32_QUIET) if a_nan else r
    c = 0 if (a_nan | b_nan) else int(gt)
    return r, c


@jit
def fmin(a, b):
    """Minimum with -0 < +0; a NaN operand propagates. C = a > b."""
    return _fminmax(a, b, False)


@jit
def fmax(a, b):
    """Maximum with -0 < +0; a NaN operand propagates. C = a > b."""
    return _fminmax(a, b, True)


@jit
def fmov(a):
    """The operand after its unpack (bit copy; the pack, if any, is applied after)."""
    return _float_out(int(a) & MASK32)


@jit
def mov(a):
    return int(a) & MASK32, 0


# --------------------------------------------------------------------------------------
# Rounding to integral values (results f32) and conversions
# --------------------------------------------------------------------------------------


@jit
def _round_op(a, mode):
    """Round f32 `a` to an integral f32: mode 0 nearest-even, 1 trunc, 2 floor, 3 ceil."""
    a = int(a) & MASK32
    if is_nan32(a):
        return a | F32_QUIET, 0
    x = np.float64(f32_from_bits(a))  # exact; every integral result fits in f32
    if mode == 0:
        y = np.rint(x)
    elif mode == 1:
        y = np.trunc(x)
    elif mode == 2:
        y = np.floor(x)
    else:
        y = np.ceil(x)
    # float32 and int64 (the mask: the same value) as the other callers of bits_from_f32 and
    # _float_out: each compiled once
    return _float_out(bits_from_f32(np.float32(y)) & MASK32)


@jit
def fround(a):
    return _round_op(a, 0)


@jit
def ftrunc(a):
    return _round_op(a, 1)


@jit
def ffloor(a):
    return _round_op(a, 2)


@jit
def fceil(a):
    return _round_op(a, 3)


@jit
def _f32_to_int32(x) -> int:
    """Saturating float64 (integral or not) -> int32 pattern; NaN -> 0."""
    if np.isnan(x):
        return 0
    if x >= 2147483648.0:
        return 0x7FFFFFFF
    if x < -2147483648.0:
        return 0x80000000
    return int(x) & MASK32


@jit
def ftoin(a):
    """f32 -> int32, round to nearest even, saturating (UNCERTAIN out of range)."""
    return _f32_to_int32(np.rint(np.float64(f32_from_bits(np.int64(a))))), 0  # int64: compiled once


@jit
def ftoiz(a):
    """f32 -> int32, round toward zero, saturating (UNCERTAIN out of range)."""
    return _f32_to_int32(np.trunc(np.float64(f32_from_bits(np.int64(a))))), 0  # as ftoin


@jit
def ftouz(a):
    """f32 -> uint32, toward zero; negatives give 0 (observed), too large 0xffffffff."""
    x = np.trunc(np.float64(f32_from_bits(np.int64(a))))  # as ftoin
    if np.isnan(x) or x <= 0.0:
        return 0, 0
    if x >= 4294967296.0:
        return MASK32, 0
    return int(x), 0


@jit
def ftoc(a):
    """Alpha to 4-sample coverage mask (fragment only; mapping UNCERTAIN, a guess)."""
    x = np.float64(f32_from_bits(np.int64(a)))  # as ftoin
    if not x > 0.0:  # also NaN
        return 0, 0
    n = int(np.rint(min(x, 1.0) * 4.0))
    return (1 << n) - 1, 0


@jit
def itof(a):
    """int32 -> f32, round to nearest even."""
    a = int(a) & MASK32
    v = a - 0x100000000 if a & F32_SIGN else a
    return _float_out(bits_from_f32(np.float32(v)) & MASK32)  # as _round_op


@jit
def utof(a):
    """uint32 -> f32, round to nearest even."""
    return _float_out(bits_from_f32(np.float32(int(a) & MASK32)) & MASK32)  # as _round_op


# --------------------------------------------------------------------------------------
# Integer ops (32-bit two's complement, wrap-around; shift counts use b & 31)
# --------------------------------------------------------------------------------------


@jit
def _signed(x) -> int:
    return x - 0x100000000 if x & F32_SIGN else x


@jit
def add(a, b):
    """a + b; C = carry out of bit 31 (Mesa-cc uadd_carry = ADD.pushc)."""
    s = (int(a) & MASK32) + (int(b) & MASK32)
    return s & MASK32, s >> 32


@jit
def sub(a, b):
    """a - b; C = borrow, a < b unsigned (observed on hardware, PyVC6 test_cond_push_a)."""
    a = int(a) & MASK32
    b = int(b) & MASK32
    return (a - b) & MASK32, 1 if a < b else 0


@jit
def neg(a):
    """-a; C = borrow of 0 - a."""
    return sub(np.uint32(0), a)  # uint32 as the ALU's callers: one compiled sub


@jit
def min_(a, b):
    """Signed minimum; C = a > b (Mesa-cc: ilt(x, y) = MIN(y, x).pushc)."""
    a = int(a) & MASK32
    b = int(b) & MASK32
    if _signed(a) > _signed(b):
        return b, 1
    return a, 0


@jit
def max_(a, b):
    """Signed maximum; C = a > b (UNCERTAIN, the same comparator as min assumed)."""
    a = int(a) & MASK32
    b = int(b) & MASK32
    if _signed(a) > _signed(b):
        return a, 1
    return b, 0


@jit
def umin(a, b):
    """Unsigned minimum; C = a > b unsigned (UNCERTAIN)."""
    a = int(a) & MASK32
    b = int(b) & MASK32
    if a > b:
        return b, 1
    return a, 0


@jit
def umax(a, b):
    """Unsigned maximum; C = a > b unsigned (UNCERTAIN)."""
    a = int(a) & MASK32
    b = int(b) & MASK32
    if a > b:
        return a, 1
    return b, 0


@jit
def shl(a, b):
    return ((int(a) & MASK32) << (int(b) & 31)) & MASK32, 0


@jit
def shr(a, b):
    return (int(a) & MASK32) >> (int(b) & 31), 0


@jit
def asr(a, b):
    return (_signed(int(a) & MASK32) >> (int(b) & 31)) & MASK32, 0


@jit
def ror(a, b):
    a = int(a) & MASK32
    n = int(b) & 31
    return ((a >> n) | (a << (32 - n))) & MASK32, 0


@jit
def and_(a, b):
    return int(a) & int(b) & MASK32, 0


@jit
def or_(a, b):
    return (int(a) | int(b)) & MASK32, 0


@jit
def xor(a, b):
    return (int(a) ^ int(b)) & MASK32, 0


@jit
def not_(a):
    return ~int(a) & MASK32, 0


@jit
def clz(a):
    """Leading zero bits of a; clz(0) = 32."""
    x = int(a) & MASK32
    if x == 0:
        return 32, 0
    n = 0
    if x <= 0x0000FFFF:
        n += 16
        x <<= 16
    if x <= 0x00FFFFFF:
        n += 8
        x <<= 8
    if x <= 0x0FFFFFFF:
        n += 4
        x <<= 4
    if x <= 0x3FFFFFFF:
        n += 2
        x <<= 2
    if x <= 0x7FFFFFFF:
        n += 1
    return n, 0


@jit
def vadd(a, b):
    """Per-16-bit-half wrap-around add (UNCERTAIN, reference 10.2)."""
    a = int(a) & MASK32
    b = int(b) & MASK32
    lo = (a + b) & 0xFFFF
    hi = ((a >> 16) + (b >> 16)) & 0xFFFF
    return (hi << 16) | lo, 0


@jit
def vsub(a, b):
    """Per-16-bit-half wrap-around subtract (UNCERTAIN, reference 10.2)."""
    a = int(a) & MASK32
    b = int(b) & MASK32
    lo = (a - b) & 0xFFFF
    hi = ((a >> 16) - (b >> 16)) & 0xFFFF
    return (hi << 16) | lo, 0


# --------------------------------------------------------------------------------------
# Integer multiply (mul ALU, reference 10.11)
# --------------------------------------------------------------------------------------


@jit
def multop(a, b):
    """The rtop value multop sets (also its result): the high partial products of a*b."""
    a = int(a) & MASK32
    b = int(b) & MASK32
    cross = (a >> 24) * (b & 0xFFFFFF) + (b >> 24) * (a & 0xFFFFFF)
    return (cross << 24) & MASK32, 0


@jit
def umul24(a, b, rtop):
    """(a & 0xffffff) * (b & 0xffffff) + rtop mod 2**32; the machine then clears rtop."""
    p = (int(a) & 0xFFFFFF) * (int(b) & 0xFFFFFF) + (int(rtop) & MASK32)
    return p & MASK32, 0


@jit
def smul24(a, b):
    """sext24(a) * sext24(b) mod 2**32."""
    x = int(a) & 0xFFFFFF
    y = int(b) & 0xFFFFFF
    if x & 0x800000:
        x -= 0x1000000
    if y & 0x800000:
        y -= 0x1000000
    return (x * y) & MASK32, 0


# --------------------------------------------------------------------------------------
# f16-pair ops (operand a already through unpack_f16x2; operand b a plain pair)
# --------------------------------------------------------------------------------------


@jit
def _half_min(x, y) -> int:
    if is_nan16(x):
        return x | 0x200
    if is_nan16(y):
        return y | 0x200
    return y if order_key(x, F16_SIGN) > order_key(y, F16_SIGN) else x


@jit
def _half_max(x, y) -> int:
    if is_nan16(x):
        return x | 0x200
    if is_nan16(y):
        return y | 0x200
    return x if order_key(x, F16_SIGN) > order_key(y, F16_SIGN) else y


@jit
def _half_mul(x, y) -> int:
    # the product of two f16 is exact in f32, so one rounding to f16 follows
    p = f32_from_bits(f16_to_f32_bits(x)) * f32_from_bits(f16_to_f32_bits(y))
    # int64 as pack_f32's and unpack_f16x2's: one compiled f32_to_f16_bits
    return nan_policy2_f16(f32_to_f16_bits(bits_from_f32(p) & MASK32), x, y)


@jit
def vfmin(a, b):
    a = int(a) & MASK32
    b = int(b) & MASK32
    lo = _half_min(a & 0xFFFF, b & 0xFFFF)
    hi = _half_min(a >> 16, b >> 16)
    return (hi << 16) | lo, 0


@jit
def vfmax(a, b):
    a = int(a) & MASK32
    b = int(b) & MASK32
    lo = _half_max(a & 0xFFFF, b & 0xFFFF)
    hi = _half_max(a >> 16, b >> 16)
    return (hi << 16) | lo, 0


@jit
def vfmul(a, b):
    a = int(a) & MASK32
    b = int(b) & MASK32
    lo = _half_mul(a & 0xFFFF, b & 0xFFFF)
    hi = _half_mul(a >> 16, b >> 16)
    return (hi << 16) | lo, 0


@jit
def vfpack(a, b):
    """Low half = f16(a), high half = f16(b), a and b f32 after their f32 unpack."""
    return (f32_to_f16_bits(np.int64(b)) << 16) | f32_to_f16_bits(np.int64(a)), 0  # as _half_mul


# --------------------------------------------------------------------------------------
# SFU (computed in float64, rounded once to f32; hardware bits UNCERTAIN, 10.6).
# The math module, not numpy: numba and plain Python then call the same C libm, so the
# results do not depend on whether numba is in use (numpy has its own SIMD versions).
# --------------------------------------------------------------------------------------


@jit
def _sfu_result(y, a):
    """f64 SFU result -> (f32 bits, C) with the NaN policy for input a."""
    return _float_out(nan_policy1(bits_from_f32(np.float32(y)), a))  # rounded as bits_from_f32 does


@jit
def recip(a):
    """1 / x; recip(+-0) = +-inf."""
    a = int(a) & MASK32
    if (a & F32_ABS) == 0:
        return _float_out((a & F32_SIGN) | F32_INF)
    return _sfu_result(1.0 / np.float64(f32_from_bits(a)), a)


@jit
def rsqrt(a):
    """1 / sqrt(x); +0 -> +inf, -0 -> -inf, negative -> NaN, +inf -> +0."""
    a = int(a) & MASK32
    if (a & F32_ABS) == 0:
        return _float_out((a & F32_SIGN) | F32_INF)
    x = np.float64(f32_from_bits(a))
    if x < 0.0:
        return _float_out(F32_CANONICAL_NAN)
    return _sfu_result(1.0 / math.sqrt(x), a)


@jit
def rsqrt2(a):
    """Second reciprocal-square-root variant; modelled identical to rsqrt (UNCERTAIN)."""
    return rsqrt(a)


@jit
def exp(a):
    """2 ** x."""
    a = int(a) & MASK32
    x = np.float64(f32_from_bits(a))
    if x > 200.0:  # beyond f32 range either way; keeps the float64 finite
        x = 200.0
    elif x < -200.0:
        x = -200.0
    return _sfu_result(math.exp2(x), a)


@jit
def log(a):
    """log2 x; +-0 -> -inf, negative -> NaN, +inf -> +inf."""
    a = int(a) & MASK32
    if (a & F32_ABS) == 0:
        return _float_out(F32_SIGN | F32_INF)
    x = np.float64(f32_from_bits(a))
    if x < 0.0:
        return _float_out(F32_CANONICAL_NAN)
    return _sfu_result(math.log2(x), a)


@jit
def sin(a):
    """sin(pi * x) for |x| <= 0.5, +-1 beyond (observed on hardware, reference 10.6)."""
    a = int(a) & MASK32
    x = np.float64(f32_from_bits(a))
    if x > 0.5:
        x = 0.5
    elif x < -0.5:
        x = -0.5
    return _sfu_result(math.sin(math.pi * x), a)


# --------------------------------------------------------------------------------------
# Flag stack ops (reference 10.7) and cross-lane derivatives (10.5)
# --------------------------------------------------------------------------------------


@jit
def flapush(a, flag):
    """(a << 2) | (flag A ? 3 : 0) — observed on hardware."""
    return ((int(a) << 2) | (3 if flag else 0)) & MASK32, 0


@jit
def flbpush(a, flag):
    """(a << 2) | (flag B ? 3 : 0) — observed on hardware."""
    return ((int(a) << 2) | (3 if flag else 0)) & MASK32, 0


@jit
def flpop(a):
    """a >> 2, logical (observed). Its effect on the flags is the machine's (UNCERTAIN)."""
    return (int(a) & MASK32) >> 2, 0


@jit
def fdx_lane(values, lane):
    """fdx for one lane: right minus left of the lane's horizontal pair."""
    left = lane & 14
    return fsub(values[left + 1], values[left])


@jit
def fdy_lane(values, lane):
    """fdy for one lane: bottom minus top of the lane's column within its quad."""
    top = (lane & 12) | (lane & 1)
    return fsub(values[top + 2], values[top])


@jit
def fdx(values):
    """fdx over a 16-lane uint32 array (operand a after unpack) -> 16 f32 patterns."""
    out = np.empty(16, dtype=np.uint32)
    for lane in range(16):
        out[lane] = fdx_lane(values, lane)[0]
    return out


@jit
def fdy(values):
    """fdy over a 16-lane uint32 array (operand a after unpack) -> 16 f32 patterns."""
    out = np.empty(16, dtype=np.uint32)
    for lane in range(16):
        out[lane] = fdy_lane(values, lane)[0]
    return out


# --------------------------------------------------------------------------------------
# Tables for the machine
# --------------------------------------------------------------------------------------

#: Mesa op name -> per-lane function. Arity follows the ISA table (OpSpec.nsrc) except:
#: umul24(a, b, rtop); flapush/flbpush(a, flag); fdx/fdy take the 16-lane array.
SEMANTICS: dict = {
    "fadd": fadd,
    "faddnf": faddnf,
    "fsub": fsub,
    "fmin": fmin,
    "fmax": fmax,
    "fcmp": fcmp,
    "vfpack": vfpack,
    "vfmin": vfmin,
    "vfmax": vfmax,
    "fround": fround,
    "ftrunc": ftrunc,
    "ffloor": ffloor,
    "fceil": fceil,
    "ftoin": ftoin,
    "ftoiz": ftoiz,
    "ftouz": ftouz,
    "ftoc": ftoc,
    "itof": itof,
    "utof": utof,
    "clz": clz,
    "add": add,
    "sub": sub,
    "min": min_,
    "max": max_,
    "umin": umin,
    "umax": umax,
    "shl": shl,
    "shr": shr,
    "asr": asr,
    "ror": ror,
    "and": and_,
    "or": or_,
    "xor": xor,
    "not": not_,
    "neg": neg,
    "vadd": vadd,
    "vsub": vsub,
    "umul24": umul24,
    "smul24": smul24,
    "multop": multop,
    "vfmul": vfmul,
    "fmul": fmul,
    "fmov": fmov,
    "mov": mov,
    "recip": recip,
    "rsqrt": rsqrt,
    "rsqrt2": rsqrt2,
    "exp": exp,
    "log": log,
    "sin": sin,
    "flapush": flapush,
    "flbpush": flbpush,
    "flpop": flpop,
    "fdx": fdx,
    "fdy": fdy,
}

#: Ops whose result is an f32, so Z/N use the float rules of `flag_z_n`.
FLOAT_RESULT: frozenset = frozenset(
    {
        "fadd", "faddnf", "fsub", "fmin", "fmax", "fcmp", "fmul", "fmov",
        "fround", "ftrunc", "ffloor", "fceil", "itof", "utof",
        "recip", "rsqrt", "rsqrt2", "exp", "log", "sin", "fdx", "fdy",
    }
)  # fmt: skip

#: Ops whose C flag is `float_carry` of their result (every float-result op but fmin/fmax,
#: whose C compares the operands, and fdx/fdy, which the machine evaluates with C = 0). The
#: machine's op dispatch leaves their carry out of the lane loop and the flag update derives
#: it from the result, only when the instruction updates flags (test_semantics checks the
#: identity for every op listed).
CARRY_FROM_RESULT: frozenset = FLOAT_RESULT - {"fmin", "fmax", "fdx", "fdy"}

#: Ops without input unpack whose C is always 0 (bit operations, shifts, moves, ...). The
#: machine's op dispatch runs their lane loops to a count LLVM cannot see, so that LLVM
#: vectorises them instead of unrolling them into 16 scalar lanes (dispatch._opaque_count;
#: test_semantics checks C = 0 for every op listed).
ZERO_CARRY: frozenset = frozenset(
    {"and", "or", "xor", "not", "mov", "shl", "shr", "asr", "ror", "clz", "vadd", "vsub", "smul24"}
)

__all__ = [
    "CARRY_FROM_RESULT",
    "FLOAT_RESULT",
    "JIT_ENABLED",
    "SEMANTICS",
    "ZERO_CARRY",
    "f16_to_f32_bits",
    "f32_to_f16_bits",
    "fdx_lane",
    "fdy_lane",
    "flag_z_n",
    "float_carry",
    "pack_f32",
    "unpack_f16x2",
    "unpack_f32",
]

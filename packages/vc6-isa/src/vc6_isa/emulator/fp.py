"""Bit-level float helpers for the emulator: f32 <-> bits, f16 <-> f32, NaN policy.

Every value is a 32-bit pattern held in a Python int / int64 in 0 .. 2**32-1. The
helpers compile with numba (see `jit`) and run unchanged as plain Python.

NaN policy (reference vc6-isa.md 10.3 and Appendix F #14 leave it UNCERTAIN; chosen
here, in one place):

* An op with a NaN operand returns that NaN, quieted (quiet bit set, payload and sign
  kept); operand a wins over operand b. This is the "propagate NaNs" mode that the
  CSD cfg[5] bit selects and that Mesa always sets, so the emulator always applies it.
* An invalid op on non-NaN operands (inf - inf, 0 * inf, sqrt of a negative, ...)
  returns the canonical quiet NaN 0x7fc00000 (f16: 0x7e00).
* Conversions between f16 and f32 keep sign and payload and set the quiet bit.

The host's own NaN choice (x86 returns a negative "indefinite" NaN, ARM the positive
default NaN) therefore never leaks into results.
"""

from __future__ import annotations

import numpy as np

from .jit import jit

MASK32 = 0xFFFFFFFF

F32_SIGN = 0x80000000
F32_ABS = 0x7FFFFFFF
F32_INF = 0x7F800000
F32_QUIET = 0x00400000
#: The NaN produced by invalid operations on non-NaN inputs.
F32_CANONICAL_NAN = 0x7FC00000

F16_SIGN = 0x8000
F16_ABS = 0x7FFF
F16_INF = 0x7C00
F16_QUIET = 0x0200
F16_CANONICAL_NAN = 0x7E00


@jit
def u32(x) -> int:
    """The low 32 bits of an integer, as a non-negative int."""
    return int(x) & MASK32


@jit
def f32_from_bits(bits):
    """The np.float32 whose IEEE binary32 pattern is `bits`."""
    return np.uint32(int(bits) & MASK32).view(np.float32)


@jit
def bits_from_f32(x) -> int:
    """The binary32 pattern of a float (converted to float32 first, RTE)."""
    return int(np.float32(x).view(np.uint32))


@jit
def is_nan32(bits) -> bool:
    return (bits & F32_ABS) > F32_INF


@jit
def is_nan16(bits) -> bool:
    return (bits & F16_ABS) > F16_INF


@jit
def nan_policy2(result, a, b) -> int:
    """Apply the NaN policy to the f32 result of a two-operand op on a, b."""
    if (result & F32_ABS) <= F32_INF:
        return result
    if (a & F32_ABS) > F32_INF:
        return a | F32_QUIET
    if (b & F32_ABS) > F32_INF:
        return b | F32_QUIET
    return F32_CANONICAL_NAN


@jit
def nan_policy1(result, a) -> int:
    """Apply the NaN policy to the f32 result of a one-operand op on a."""
    if (result & F32_ABS) <= F32_INF:
        return result
    if (a & F32_ABS) > F32_INF:
        return a | F32_QUIET
    return F32_CANONICAL_NAN


@jit
def nan_policy2_f16(result, a, b) -> int:
    """Apply the NaN policy to the f16 result of a two-operand op on f16 a, b."""
    if (result & F16_ABS) <= F16_INF:
        return result
    if (a & F16_ABS) > F16_INF:
        return a | F16_QUIET
    if (b & F16_ABS) > F16_INF:
        return b | F16_QUIET
    return F16_CANONICAL_NAN


@jit
def order_key(bits, sign_bit) -> int:
    """A signed integer that orders non-NaN sign-magnitude floats, with -0 < +0.

    `sign_bit` is 0x80000000 for f32 and 0x8000 for f16. Used by fmin/fmax/vfmin/vfmax
    so they compare exactly, without going through host float compares.
    """
    if bits & sign_bit:
        return -1 - (bits & (sign_bit - 1))
    return bits


@jit
def f16_to_f32_bits(h) -> int:
    """Exact conversion of an f16 pattern (low 16 bits of `h`) to an f32 pattern."""
    h = int(h) & 0xFFFF
    sign = (h & F16_SIGN) << 16
    exp = (h >> 10) & 0x1F
    man = h & 0x3FF
    if exp == 0x1F:  # inf or NaN: keep the payload, quiet a NaN
        if man == 0:
            return sign | F32_INF
        return sign | F32_INF | F32_QUIET | (man << 13)
    if exp == 0:
        if man == 0:
            return sign
        # f16 denormal man * 2**-24: normalise; p = index of the leading one (0..9)
        p = 9
        while (man >> p) == 0:
            p -= 1
        return sign | ((p + 103) << 23) | ((man << (23 - p)) & 0x7FFFFF)
    return sign | ((exp + 112) << 23) | (man << 13)


@jit
def _round_shift_rte(value, shift) -> int:
    """value / 2**shift rounded to nearest, ties to even (shift >= 1)."""
    q = value >> shift
    rem = value & ((1 << shift) - 1)
    half = 1 << (shift - 1)
    if rem > half or (rem == half and (q & 1)):
        q += 1
    return q


@jit
def f32_to_f16_bits(f) -> int:
    """Round an f32 pattern to the nearest f16 pattern, ties to even.

    Overflow gives infinity, tiny values give f16 denormals or signed zero, NaNs keep
    their sign and top payload bits and become quiet (reference 10.3: the hardware's
    f32->f16 rounding is RTE, Mesa-cc f2f16_rtz comment).
    """
    f = int(f) & MASK32
    sign = (f >> 16) & F16_SIGN
    exp = (f >> 23) & 0xFF
    man = f & 0x7FFFFF
    if exp == 0xFF:
        if man == 0:
            return sign | F16_INF
        return sign | F16_CANONICAL_NAN | (man >> 13)
    exp16 = exp - 112  # f16 biased exponent of the same power of two
    if exp16 >= 31:
        return sign | F16_INF
    if exp16 >= 1:
        # normal f16 candidate; a carry out of the mantissa bumps the exponent (and
        # 0x7bff + 1 = 0x7c00 is the correct overflow to infinity)
        return sign | _round_shift_rte((exp16 << 23) | man, 13)
    if exp == 0:  # f32 zero or denormal: far below half the smallest f16 denormal
        return sign
    # f16 denormal range: value = (man | 2**23) * 2**(exp-150); unit 2**-24
    shift = 126 - exp  # >= 14
    if shift > 25:  # below a quarter of the smallest denormal
        return sign
    return sign | _round_shift_rte(man | 0x800000, shift)

"""f16 <-> f32 conversions and the unpack/pack modifiers, checked against numpy's float16.

numpy's float32 -> float16 cast rounds to nearest even with denormals and overflow to
infinity, which is what the hardware does (reference vc6-isa.md 10.3), so every non-NaN
pattern must match it bit for bit. NaNs follow the emulator's policy (fp.py): sign and
payload kept, quiet bit set.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from vc6_isa.emulator import semantics as S
from vc6_isa.emulator.fp import f16_to_f32_bits, f32_to_f16_bits

RNG = np.random.default_rng(20261123)
ALL_F16 = np.arange(1 << 16, dtype=np.uint32)
F16_IS_NAN = (ALL_F16 & 0x7FFF) > 0x7C00


def lanes(fn, *cols):
    """Apply a per-lane function to columns of uint32 values -> uint32 array."""
    return np.array(
        [fn(*map(int, vals)) for vals in zip(*cols)], dtype=np.uint64
    ).astype(np.uint32)


def np_f16_to_f32(h: np.ndarray) -> np.ndarray:
    return h.astype(np.uint16).view(np.float16).astype(np.float32).view(np.uint32)


def np_f32_to_f16(f: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return (
            f.astype(np.uint32)
            .view(np.float32)
            .astype(np.float16)
            .view(np.uint16)
            .astype(np.uint32)
        )


def test_f16_to_f32_all_values():
    got = lanes(f16_to_f32_bits, ALL_F16)
    want = np_f16_to_f32(ALL_F16)
    ok = ~F16_IS_NAN
    assert np.array_equal(got[ok], want[ok])
    # NaN: sign kept, payload moved up 13 bits, quiet bit set
    h = ALL_F16[F16_IS_NAN]
    want_nan = ((h & 0x8000) << 16) | 0x7F800000 | 0x00400000 | ((h & 0x3FF) << 13)
    assert np.array_equal(got[F16_IS_NAN], want_nan)


def test_f16_round_trip_all_values():
    back = lanes(lambda h: f32_to_f16_bits(f16_to_f32_bits(h)), ALL_F16)
    ok = ~F16_IS_NAN
    assert np.array_equal(back[ok], ALL_F16[ok])
    assert np.array_equal(back[F16_IS_NAN], ALL_F16[F16_IS_NAN] | 0x200)


def _halfway_cases() -> np.ndarray:
    """f32 values exactly halfway between adjacent f16 values, and one f32 ulp either side."""
    h = np.arange(
        0x7BFF, dtype=np.uint32
    )  # every finite non-negative f16 below the max ...
    lo = np_f16_to_f32(h).view(np.float32).astype(np.float64)
    hi = (
        np_f16_to_f32(h + 1).view(np.float32).astype(np.float64)
    )  # ... and its successor
    mid = ((lo + hi) / 2).astype(np.float32).view(np.uint32)  # exact: needs 12 bits
    cases = np.concatenate([mid, mid - 1, mid + 1])
    return np.concatenate([cases, cases | 0x80000000])


def test_f32_to_f16_halfway_cases_round_to_even():
    f = _halfway_cases()
    got = lanes(f32_to_f16_bits, f)
    assert np.array_equal(got, np_f32_to_f16(f))


def test_f32_to_f16_random_and_edges():
    n = 60000 if S.JIT_ENABLED else 8000
    rand_bits = RNG.integers(0, 1 << 32, n, dtype=np.uint64).astype(np.uint32)
    # values concentrated in and around the f16 range (exponents 100..150)
    near = (RNG.integers(100, 150, n) << 23 | RNG.integers(0, 1 << 23, n)).astype(
        np.uint32
    )
    edges = np.array(
        [0, 0x80000000, 1, 0x80000001, 0x007FFFFF, 0x00800000, 0x33000000, 0x33000001,
         0x337FFFFF, 0x33800000, 0x387FC000, 0x38800000, 0x477FE000, 0x477FEFFF,
         0x477FF000, 0x477FF001, 0x47800000, 0x7F7FFFFF, 0x7F800000, 0xFF800000],
        dtype=np.uint32,
    )  # fmt: skip
    f = np.concatenate([rand_bits, near, near | 0x80000000, edges])
    f = f[(f & 0x7FFFFFFF) <= 0x7F800000]
    assert np.array_equal(lanes(f32_to_f16_bits, f), np_f32_to_f16(f))


def test_f32_to_f16_nan_policy():
    nans = np.array(
        [0x7F800001, 0x7FC00000, 0xFFFFFFFF, 0xFFFFFFF0, 0x7FBFE000, 0x7F802000],
        np.uint32,
    )
    got = lanes(f32_to_f16_bits, nans)
    want = ((nans >> 16) & 0x8000) | 0x7E00 | ((nans & 0x7FFFFF) >> 13)
    assert np.array_equal(got, want)
    assert np.all((got & 0x7FFF) > 0x7C00)


# ------------------------------------------------------------------------------ modifiers


def _random_words(n: int) -> np.ndarray:
    words = RNG.integers(0, 1 << 32, n, dtype=np.uint64).astype(np.uint32)
    specials = np.array([0, 0x80000000, 0x3C00BC00, 0x7C00FC00, 0x7E017D00, 0x00010001,
                         0x03FF8400, 0x7BFF0001, 0x3F800000, 0xFFFFFFFF], np.uint32)  # fmt: skip
    return np.concatenate([words, specials])


def test_unpack_f32_codes():
    x = _random_words(3000)
    assert np.array_equal(lanes(lambda v: S.unpack_f32(v, 1), x), x)
    assert np.array_equal(lanes(lambda v: S.unpack_f32(v, 0), x), x & 0x7FFFFFFF)
    for code, half in ((2, x & 0xFFFF), (3, x >> 16)):
        got = lanes(lambda v, code=code: S.unpack_f32(v, code), x)
        ok = (half & 0x7FFF) <= 0x7C00
        assert np.array_equal(got[ok], np_f16_to_f32(half[ok]))
        assert np.all((got[~ok] & 0x7FFFFFFF) > 0x7F800000)


def test_unpack_f16x2_codes():
    x = _random_words(3000)
    lo, hi = x & 0xFFFF, x >> 16
    assert np.array_equal(lanes(lambda v: S.unpack_f16x2(v, 0), x), x)
    assert np.array_equal(lanes(lambda v: S.unpack_f16x2(v, 2), x), (lo << 16) | lo)
    assert np.array_equal(lanes(lambda v: S.unpack_f16x2(v, 3), x), (hi << 16) | hi)
    assert np.array_equal(lanes(lambda v: S.unpack_f16x2(v, 4), x), (lo << 16) | hi)
    ok = (x & 0x7FFFFFFF) <= 0x7F800000
    h = np_f32_to_f16(x[ok])
    assert np.array_equal(lanes(lambda v: S.unpack_f16x2(v, 1), x[ok]), (h << 16) | h)


def test_pack_f32_codes_keep_the_other_half():
    r = _random_words(3000)
    r = r[(r & 0x7FFFFFFF) <= 0x7F800000]
    old = RNG.integers(0, 1 << 32, r.size, dtype=np.uint64).astype(np.uint32)
    h = np_f32_to_f16(r)
    assert np.array_equal(lanes(lambda v, o: S.pack_f32(v, o, 0), r, old), r)
    assert np.array_equal(
        lanes(lambda v, o: S.pack_f32(v, o, 1), r, old), (old & 0xFFFF0000) | h
    )
    assert np.array_equal(
        lanes(lambda v, o: S.pack_f32(v, o, 2), r, old), (old & 0xFFFF) | (h << 16)
    )


@pytest.mark.parametrize("code", [1, 2])
def test_pack_then_unpack_is_f16_quantisation(code):
    """fmov.l then fmov with .l unpack == numpy float32 -> float16 -> float32 (Mesa f2f16/f2f32)."""
    r = _random_words(2000)
    r = r[(r & 0x7FFFFFFF) <= 0x7F800000]
    packed = lanes(lambda v: S.pack_f32(S.fmov(v)[0], 0, code), r)
    back = lanes(lambda v: S.unpack_f32(v, code + 1), packed)
    with np.errstate(all="ignore"):
        want = r.view(np.float32).astype(np.float16).astype(np.float32).view(np.uint32)
    assert np.array_equal(back, want)


# ---------------------------------------------------------------------- property checks

WORDS = st.integers(min_value=0, max_value=0xFFFFFFFF)
EXAMPLES = 3000 if S.JIT_ENABLED else 300


@settings(max_examples=EXAMPLES, deadline=None)
@given(WORDS)
def test_f32_to_f16_matches_numpy_for_any_pattern(word):
    want = np_f32_to_f16(np.array([word], np.uint32))[0]
    got = f32_to_f16_bits(word)
    if (word & 0x7FFFFFFF) > 0x7F800000:
        assert (got & 0x7FFF) > 0x7C00 and got >> 15 == word >> 31
    else:
        assert got == want


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    WORDS,
    st.integers(min_value=0, max_value=4),
    st.integers(min_value=0, max_value=2),
    WORDS,
)
def test_unpack_pack_round_trip_of_halves(word, code16, pack, old):
    """Packing an f16 that came from a half (via .l/.h unpack) restores that half exactly."""
    half = word & 0xFFFF
    if (half & 0x7FFF) > 0x7C00:
        half |= 0x200  # NaNs come back quiet
    f = S.unpack_f32(word, 2)
    packed = S.pack_f32(f, old, 1)
    assert packed == (old & 0xFFFF0000) | half
    pair = S.unpack_f16x2(word, code16)
    lo, hi = word & 0xFFFF, word >> 16
    if code16 >= 2:
        assert pair == {2: lo | lo << 16, 3: hi | hi << 16, 4: hi | lo << 16}[code16]

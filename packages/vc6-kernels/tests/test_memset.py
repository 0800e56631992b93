import numpy as np
import pytest
import vc6_kernels
from vc6_kernels import memset

SIZES = [1, 2, 15, 16, 17, 63, 64, 65, 257, 1031, 4099]
DTYPES = [
    np.uint8,
    np.int8,
    np.bool_,
    np.int16,
    np.uint16,
    np.float16,
    np.int32,
    np.uint32,
    np.float32,
]


def value_for(dtype):
    return {
        np.bool_: True,
        np.float16: -1.5,
        np.float32: 3.25,
        np.int8: -7,
        np.int16: -300,
    }.get(dtype, 90)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", SIZES)
def test_fill_numpy_array(dtype, n):
    out = np.zeros(n, dtype)
    got = memset(out, value_for(dtype))
    want = np.full(n, value_for(dtype), dtype)
    assert np.array_equal(got, want) and np.array_equal(out, want)


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.float32])
@pytest.mark.parametrize("offset", [0, 1, 3, 5])
def test_views_at_any_alignment_touch_nothing_outside(dev, dtype, offset):
    n = 1100
    buf = dev.array((n + 16,), dtype)
    buf[...] = 0
    memset(buf[offset : offset + n], value_for(dtype))
    assert np.all(buf[offset : offset + n] == np.array(value_for(dtype), dtype))
    assert not buf[:offset].any() and not buf[offset + n :].any()


def test_multidimensional(dev):
    a = dev.array((7, 9), np.int16)
    memset(a, -2)
    assert np.all(np.asarray(a) == -2)


@pytest.mark.parametrize(
    "out,value,exc,match",
    [
        (np.zeros(4, np.uint8), 256, ValueError, "out of bounds"),
        (np.zeros(4, np.int16), 1.5, ValueError, "not an integer"),
        (np.zeros(4, np.float64), 1.0, TypeError, "1-, 2- or 4-byte"),
        (np.zeros(4, np.float32), [1.0], TypeError, "scalar"),
        ([0, 0], 1, TypeError, "numpy array"),
    ],
)
def test_bad_arguments(out, value, exc, match):
    with vc6_kernels.record() as rec, pytest.raises(exc, match=match):
        memset(out, value)
    assert rec.jobs == []

import numpy as np
import pytest
import vc6_kernels
from vc6_kernels import scopy

SIZES = [1, 2, 15, 16, 17, 63, 64, 65, 1021, 1024, 1025, 5003]


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.uint32])
def test_copy_is_bit_exact(rng, n, dtype):
    x = rng.integers(0, 2**32, size=n, dtype=np.uint32).view(
        dtype
    )  # NaN patterns included
    got = scopy(x)
    assert (
        got.dtype == x.dtype
        and got.view(np.uint32).tolist() == x.view(np.uint32).tolist()
    )


@pytest.mark.parametrize("src_off,dst_off", [(0, 0), (1, 1), (3, 3), (0, 1), (2, 3)])
def test_device_views_touch_nothing_outside(dev, src_off, dst_off):
    n = 1500
    src = dev.array((n + 8,), np.uint32)
    dst = dev.array((n + 8,), np.uint32)
    src[...] = np.arange(1, n + 9, dtype=np.uint32)
    dst[...] = 0
    got = scopy(src[src_off : src_off + n], dst[dst_off : dst_off + n])
    assert np.array_equal(got, src[src_off : src_off + n])
    assert np.array_equal(dst[dst_off : dst_off + n], src[src_off : src_off + n])
    assert not dst[:dst_off].any() and not dst[dst_off + n :].any()


def test_numpy_out_is_filled():
    x = np.arange(100, dtype=np.float32)
    out = np.zeros(100, np.float32)
    assert scopy(x, out) is out
    assert np.array_equal(out, x)


@pytest.mark.parametrize(
    "args,exc,match",
    [
        ((np.ones(4, np.float64),), TypeError, "4-byte"),
        ((np.ones(4, np.float32), np.ones(5, np.float32)), ValueError, "shape"),
        ((np.ones((2, 2), np.float32),), ValueError, "1-D"),
    ],
)
def test_bad_arguments(args, exc, match):
    with vc6_kernels.record() as rec, pytest.raises(exc, match=match):
        scopy(*args)
    assert rec.jobs == []


def test_overlapping_out_is_refused(dev):
    buf = dev.array((40,), np.float32)
    with pytest.raises(ValueError, match="overlaps"):
        scopy(buf[:20], buf[10:30])

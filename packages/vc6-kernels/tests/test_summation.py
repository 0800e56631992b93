import numpy as np
import pytest
import vc6_kernels
from vc6_kernels import summation
from vc6_kernels.summation import error_bound, program

SIZES = [1, 2, 15, 16, 17, 63, 64, 65, 127, 1021, 1024, 1025, 2048 + 64 * 3 + 5, 9973]


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("dtype", [np.int32, np.uint32])
def test_integer_sums_wrap_like_numpy(rng, n, dtype):
    info = np.iinfo(dtype)
    x = rng.integers(info.min, info.max, size=n, dtype=dtype, endpoint=True)
    got = summation(x)
    assert type(got) is np.dtype(dtype).type
    assert got == x.sum(dtype=dtype)


@pytest.mark.parametrize("n", SIZES)
def test_float_sum_within_bound(rng, n):
    x = rng.standard_normal(n).astype(np.float32) * 100
    got = summation(x)
    assert type(got) is np.float32
    exact = float(np.sum(x.astype(np.float64)))
    assert abs(float(got) - exact) <= error_bound(x)


def test_float_sum_exact_for_small_integers():
    x = np.arange(5000, dtype=np.float32)
    assert summation(x) == np.float32(5000 * 4999 // 2)


@pytest.mark.parametrize("offset", [0, 1, 2, 3])
@pytest.mark.parametrize("n", [5, 1100, 4100])
def test_device_array_views_at_every_alignment(dev, offset, n):
    buf = dev.array((n + 8,), np.uint32)
    buf[...] = np.arange(n + 8, dtype=np.uint32) * 2654435761
    view = buf[offset : offset + n]
    assert summation(view) == np.asarray(view).sum(dtype=np.uint32)


def test_empty_and_record():
    assert summation(np.zeros(0, np.float32)) == 0
    with vc6_kernels.record() as rec:
        summation(np.ones(3000, np.int32))
    assert len(rec.jobs) == 1 and rec.jobs[0].stats.tmu_requests > 0


def test_programs_per_kind():
    assert program(np.float32) is program(np.float32)
    assert "fadd" in program(np.float32).disassembly()
    assert "fadd" not in program(np.int32).disassembly()


@pytest.mark.parametrize(
    "x,exc,match",
    [
        (np.ones(4, np.float64), TypeError, "dtype float64"),
        (np.ones((2, 2), np.float32), ValueError, "1-D"),
        ([1, 2, 3], TypeError, "numpy array"),
        (np.ones(4, np.int16), TypeError, "int16"),
    ],
)
def test_bad_arguments(x, exc, match):
    with pytest.raises(exc, match=match):
        summation(x)


def test_record_attaches_a_perfmon(dev):
    pm = dev.perfmon(["cycle-count"])
    try:
        with vc6_kernels.record(perfmon=pm) as rec:
            summation(np.ones(3000, np.float32))
        assert len(rec.jobs) == 1
        assert pm.values()["cycle-count"] > 0
    finally:
        pm.close()

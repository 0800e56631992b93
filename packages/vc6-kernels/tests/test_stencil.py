import numpy as np
import pytest
import vc6_kernels
from vc6_kernels import stencil
from vc6_kernels.stencil import reference

SHAPES = [(3, 3), (3, 17), (4, 18), (16, 16), (17, 19), (13, 65), (31, 7)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("steps", [1, 4])
def test_bit_exact_against_reference(rng, shape, steps):
    g = rng.standard_normal(shape).astype(np.float32)
    got = stencil(g, steps)
    assert np.array_equal(got, reference(g, steps))
    assert np.array_equal(got[0], g[0]) and np.array_equal(got[:, -1], g[:, -1])


def test_reference_is_the_heat_flow_step(rng):
    g = rng.standard_normal((5, 6)).astype(np.float64)
    want = g.copy()
    for y in range(1, 4):
        for x in range(1, 5):
            s = g[y - 1 : y + 2, x - 1 : x + 2].sum() - g[y, x]
            want[y, x] = g[y, x] - 0.3 * (g[y, x] - s / 8)
    assert np.allclose(
        reference(g.astype(np.float32), 1, k=0.3), want, rtol=1e-5, atol=1e-6
    )


def test_k_steps_zero_and_device_input(dev, rng):
    g = dev.array((9, 21), np.float32)
    g[...] = rng.standard_normal((9, 21))
    before = np.array(g)
    with vc6_kernels.record() as rec:
        got = stencil(g, 3, k=0.5)
    assert len(rec.jobs) == 3  # one job per step, no copies in between
    assert np.array_equal(got, reference(before, 3, k=0.5))
    assert np.array_equal(np.asarray(g), before)  # the input is not modified
    assert np.array_equal(stencil(before, 0), before)


@pytest.mark.parametrize(
    "args,kwargs,exc,match",
    [
        ((np.ones((2, 5), np.float32), 1), {}, ValueError, "3x3"),
        ((np.ones((4, 4), np.float64), 1), {}, TypeError, "float64"),
        ((np.ones((4, 4), np.float32), -1), {}, ValueError, ">= 0"),
        ((np.ones((4, 4), np.float32), 1.5), {}, TypeError, "int"),
        ((np.ones((4, 4), np.float32), 1), {"k": "x"}, TypeError, "real number"),
    ],
)
def test_bad_arguments(args, kwargs, exc, match):
    with vc6_kernels.record() as rec, pytest.raises(exc, match=match):
        stencil(*args, **kwargs)
    assert rec.jobs == []

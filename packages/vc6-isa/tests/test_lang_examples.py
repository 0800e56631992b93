"""QPULib's three examples in vc6_isa.lang on the emulator (strict mode) against numpy: GCD
(plain and unrolled), rot3D versions 1-3 on 1 and 8 QPUs, and the heat-flow step with cursors
on a 512x512 grid for several steps, bit-identical to a numpy reference in the same order."""

from __future__ import annotations

import numpy as np
import pytest
from vc6_isa.lang import examples as ex


@pytest.mark.parametrize("k", [ex.gcd, ex.gcd_unrolled])
def test_gcd_of_16_pairs(k):
    rng = np.random.default_rng(5)
    common = rng.integers(1, 30, 16)
    a = (common * rng.integers(1, 60, 16)).astype(np.int32)
    b = (common * rng.integers(1, 60, 16)).astype(np.int32)
    r = np.zeros(16, np.int32)
    k(a, b, r)
    assert np.array_equal(r, np.gcd(a, b))
    ri = np.zeros(16, np.int32)
    k.interpret(a, b, ri)
    assert np.array_equal(ri, r)


@pytest.mark.parametrize(
    ("k", "nq"),
    [(ex.rot3d_1, 1), (ex.rot3d_2, 1), (ex.rot3d_3, 1), (ex.rot3d_3, 8)],
)
def test_rot3d(k, nq):
    n, theta = 1024, np.pi / 6
    slack = ex.rot3d_slack(nq)
    x = np.zeros(n + slack, np.float32)
    y = np.zeros(n + slack, np.float32)
    x[:n] = np.linspace(-1, 1, n)
    y[:n] = np.linspace(2, 0, n)
    c, s = np.float32(np.cos(theta)), np.float32(np.sin(theta))
    want_x, want_y = x[:n] * c - y[:n] * s, y[:n] * c + x[:n] * s
    k(n, np.cos(theta), np.sin(theta), x, y, num_qpus=nq)
    assert np.array_equal(x[:n], want_x)
    assert np.array_equal(y[:n], want_y)


def _grid(h, w, seed=0):
    g = np.zeros(
        (h + 1, w), np.float32
    )  # one spare row: the cursors read one block ahead
    g[:h] = np.random.default_rng(seed).random((h, w), dtype=np.float32) * 100
    return g


def test_heat_step_512_bit_identical_over_several_steps():
    h = w = 512
    steps, k = 3, 0.25
    bufs = [_grid(h, w), _grid(h, w)]
    want = bufs[0][:h].copy()
    for s in range(steps):
        ex.heat_step(bufs[s % 2], bufs[(s + 1) % 2], w, h, k, num_qpus=8)
        want = ex.heat_reference(want, k)
    assert np.array_equal(bufs[steps % 2][:h], want)


def test_heat_step_interpreter_matches_on_a_small_grid():
    h, w = 20, 48
    a, b = _grid(h, w, 1), _grid(h, w, 1)
    ex.heat_step.interpret(a, b, w, h, 0.25, num_qpus=3)
    assert np.array_equal(b[:h], ex.heat_reference(a[:h], 0.25))


@pytest.mark.parametrize(("threads", "nq"), [(2, 16), (4, 32), (4, 5)])
def test_rot3d_with_thread_switches(threads, nq):
    from vc6_isa.lang import kernel

    k = kernel(ex.rot3d_3.func, threads=threads)
    n = 2048
    x = np.zeros(n + ex.rot3d_slack(nq), np.float32)
    y = np.zeros_like(x)
    x[:n] = np.linspace(-1, 1, n)
    y[:n] = np.linspace(2, 0, n)
    want = x[:n] * np.float32(0.5) - y[:n] * np.float32(0.25)
    k(n, 0.5, 0.25, x, y, num_qpus=nq)
    assert np.array_equal(x[:n], want)
    text = k.disassemble()
    assert text.count("thrsw") >= 4  # switches in the loop, the last-switch marker, the end


@pytest.mark.parametrize(("threads", "nq"), [(2, 16), (4, 32)])
def test_heat_step_with_thread_switches(threads, nq):
    from vc6_isa.lang import kernel

    k = kernel(ex.heat_step.func, threads=threads)
    h, w = 40, 48
    a, b = _grid(h, w, 2), _grid(h, w, 2)
    k(a, b, w, h, 0.25, num_qpus=nq)
    assert np.array_equal(b[:h], ex.heat_reference(a[:h], 0.25))

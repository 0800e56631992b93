"""Port of py-videocore6 tests/test_signals.py (ran on a Pi 4): ldtmu into the register file in
a dual-issue instruction, the rot signal (a full rotation for accumulators, within each quad for
the register file), and r5 / r5rep broadcasts, with py-videocore6's alias spellings. The programs are
py-videocore6's (re-typed in test_asm_pyvc6)."""

from __future__ import annotations

import numpy as np
from hw_support import pi, run, seeded
from test_asm_pyvc6 import (
    broadcast_program,
    qpu_full_rotate,
    qpu_quad_rotate,
    qpu_quad_rotate_alias,
    qpu_rotate_alias,
    qpu_signal_ldtmu,
)
from vc6_isa.asm import broadcast, quad_broadcast, r5, r5rep

AMOUNTS = range(-15, 16)
LANES = np.arange(16)


def _run(program, shape, dtype=np.int32, x_values=None, args=()):
    """Run a program of uniforms x, y; x = 0..15 unless given. Returns x, y."""
    with pi() as drv:
        code = drv.program(program, *args)
        x = drv.alloc(16, dtype=dtype)
        y = drv.alloc(shape, dtype=dtype)
        unif = drv.alloc(3, dtype=np.uint32)
        x[:] = np.arange(16) if x_values is None else x_values
        y[:] = 0
        unif[:2] = [x.address, y.addresses().flat[0]]
        run(drv, code, unif)
        return np.array(x), np.array(y)


def test_signal_ldtmu():
    rng = seeded("test_signal_ldtmu")
    x, y = _run(qpu_signal_ldtmu, (3, 16), np.float32, rng.standard_normal(16))
    assert (y[0] == x).all()
    assert (y[1] == 2).all()
    assert (y[2] == 4).all()


def _rotated(x, n):
    """Lane i receives lane (i - n) mod 16."""
    return x[(LANES - n) % 16]


def _quad_rotated(x, n):
    """Lane i receives lane (i - n) mod 4 of its own quad."""
    return x[(LANES & 12) | ((LANES - n) & 3)]


def test_full_rotate():
    x, y = _run(qpu_full_rotate, (2, len(AMOUNTS), 16))
    for k, n in enumerate(AMOUNTS):
        assert (y[:, k] == _rotated(2 * x, n)).all(), n


def test_rotate_alias():
    x, y = _run(qpu_rotate_alias, (4, len(AMOUNTS), 16))
    for k, n in enumerate(AMOUNTS):
        assert (y[:, k] == _rotated(x, n)).all(), n


def test_quad_rotate():
    x, y = _run(qpu_quad_rotate, (2, len(AMOUNTS), 16))
    for k, n in enumerate(AMOUNTS):
        assert (y[:, k] == _quad_rotated(2 * x, n)).all(), n


def test_quad_rotate_alias():
    x, y = _run(qpu_quad_rotate_alias, (4, len(AMOUNTS), 16))
    for k, n in enumerate(AMOUNTS):
        assert (y[:, k] == _quad_rotated(x, n)).all(), n


def _check_full_broadcast(target):
    # a write to r5rep gives every lane the (rotated) value of lane 0
    x, y = _run(broadcast_program, (len(AMOUNTS), 16), args=(target,))
    for k, n in enumerate(AMOUNTS):
        assert (y[k] == _rotated(x, n)[0]).all(), n


def _check_quad_broadcast(target):
    # a write to r5 gives each quad the (rotated) value of its first lane
    x, y = _run(broadcast_program, (len(AMOUNTS), 16), args=(target,))
    for k, n in enumerate(AMOUNTS):
        assert (y[k] == _rotated(x, n)[LANES & 12]).all(), n


def test_full_broadcast():
    _check_full_broadcast(r5rep)


def test_broadcast_alias():
    _check_full_broadcast(broadcast)


def test_quad_broadcast():
    _check_quad_broadcast(r5)


def test_quad_broadcast_alias():
    _check_quad_broadcast(quad_broadcast)

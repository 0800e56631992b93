"""Port of py-videocore6 tests/test_sfu.py (ran on a Pi 4): the special functions, through the
legacy magic registers (result in r4 two instructions later) and as add-ALU ops (whose
result the next instruction reads). The programs are py-videocore6's (re-typed in
test_asm_pyvc6)."""

from __future__ import annotations

import numpy as np
from hw_support import pi, run, seeded
from test_asm_pyvc6 import qpu_sfu_ops, qpu_sfu_regs


def _sin_of_half_turns(x):
    """sin(pi * x) for |x| <= 0.5, saturated to -1 / 1 beyond (what the hardware test models)."""
    return np.where(x < -0.5, -1.0, np.where(x > 0.5, 1.0, np.sin(x * np.pi)))


MODEL = {
    "recip": lambda x: 1 / x,
    "rsqrt": lambda x: 1 / np.sqrt(x),
    "rsqrt2": lambda x: 1 / np.sqrt(x),
    "exp": np.exp2,
    "log": np.log2,
    "sin": _sin_of_half_turns,
}


def _check(program, names, domain, rng):
    with pi() as drv:
        code = drv.program(program, names)
        x = drv.alloc(16, dtype=np.float32)
        y = drv.alloc((len(names), 16), dtype=np.float32)
        unif = drv.alloc(3, dtype=np.uint32)
        x[:] = domain(rng.standard_normal(16).astype(np.float32))
        y[:] = 0
        unif[:2] = [x.address, y.address]
        run(drv, code, unif)
        for row, name in zip(y, names):
            assert np.allclose(row, MODEL[name](np.array(x)), rtol=1e-4), name


def _squares(x):
    return x**2 + np.float32(1e-6)


def test_sfu_regs():
    rng = seeded("test_sfu_regs")
    _check(qpu_sfu_regs, ["recip", "exp", "sin"], lambda x: x, rng)
    _check(qpu_sfu_regs, ["rsqrt", "log", "rsqrt2"], _squares, rng)


def test_sfu_ops():
    rng = seeded("test_sfu_ops")
    _check(qpu_sfu_ops, ["recip", "exp", "sin"], lambda x: x, rng)
    _check(qpu_sfu_ops, ["rsqrt", "log", "rsqrt2"], _squares, rng)

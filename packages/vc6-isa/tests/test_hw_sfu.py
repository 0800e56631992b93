"""Port of py-videocore6 tests/test_sfu.py (ran on a Pi 4): the special functions, through the
legacy magic registers (result in r4 two instructions later) and as add-ALU ops."""

from __future__ import annotations

import numpy as np
import vc6_isa.asm as dsl
from hw_support import finish, pi, run, seeded
from vc6_isa.asm import *


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


def _load_input():
    """uniforms: input, output. r1 = input[lane], rf1 = output + 4 * lane, r3 = 64."""
    eidx(r0, sig=ldunif)
    mov(rf0, r5, sig=ldunif)
    shl(r3, 4, 4).mov(rf1, r5)
    shl(r0, r0, 2)
    add(rf0, rf0, r0)
    add(rf1, rf1, r0)
    mov(tmua, rf0, sig=thrsw).add(rf0, rf0, r3)
    nop()
    nop()
    nop(sig=ldtmu(r1))


def _store(value):
    mov(tmud, value)
    mov(tmua, rf1)
    tmuwt().add(rf1, rf1, r3)


@qpu
def through_magic_registers(asm, names):
    _load_input()
    for name in names:
        mov(getattr(dsl, name), r1)
        nop()  # r4 is written two instructions after the SFU write
        _store(r4)
    finish()


@qpu
def as_alu_ops(asm, names):
    _load_input()
    for name in names:
        getattr(dsl, name)(rf2, r1)  # the next instruction reads rf2 (it waits for the SFU)
        _store(rf2)
    finish()


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
    _check(through_magic_registers, ["recip", "exp", "sin"], lambda x: x, rng)
    _check(through_magic_registers, ["rsqrt", "log", "rsqrt2"], _squares, rng)


def test_sfu_ops():
    rng = seeded("test_sfu_ops")
    _check(as_alu_ops, ["recip", "exp", "sin"], lambda x: x, rng)
    _check(as_alu_ops, ["rsqrt", "log", "rsqrt2"], _squares, rng)

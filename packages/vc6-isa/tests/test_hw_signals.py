"""Port of py-videocore6 tests/test_signals.py (ran on a Pi 4): ldtmu into the register file in
a dual-issue instruction, the rot signal (a full rotation for accumulators, within each quad for
the register file), and r5 / r5rep broadcasts, with py-videocore6's alias spellings."""

from __future__ import annotations

import numpy as np
from hw_support import finish, pi, run, seeded
from vc6_isa.asm import *

AMOUNTS = range(-15, 16)
LANES = np.arange(16)


def _load_input(dst):
    """uniforms: input, output. dst = input[lane], rf1 = output + 4 * lane, r3 = 64."""
    eidx(r0, sig=ldunif)
    mov(rf0, r5, sig=ldunif)
    shl(r3, 4, 4).mov(rf1, r5)
    shl(r0, r0, 2)
    add(rf0, rf0, r0)
    add(rf1, rf1, r0)
    mov(tmua, rf0, sig=thrsw).add(rf0, rf0, r3)
    nop()
    nop()
    nop(sig=ldtmu(dst))
    nop()  # the rotated source must not be written by the previous instruction (13.2/10)


def _store(value):
    mov(tmud, value)
    mov(tmua, rf1)
    tmuwt().add(rf1, rf1, r3)


def _run(program, shape, dtype=np.int32, x_values=None):
    with pi() as drv:
        code = drv.program(program)
        x = drv.alloc(16, dtype=dtype)
        y = drv.alloc(shape, dtype=dtype)
        unif = drv.alloc(3, dtype=np.uint32)
        x[:] = np.arange(16) if x_values is None else x_values
        y[:] = 0
        unif[:2] = [x.address, y.addresses().flat[0]]
        run(drv, code, unif)
        return np.array(x), np.array(y)


@qpu
def ldtmu_beside_alu_work(asm):
    eidx(r0, sig=ldunif)
    mov(rf0, r5, sig=ldunif)
    shl(r3, 4, 4).mov(rf1, r5)
    shl(r0, r0, 2)
    add(rf0, rf0, r0)
    add(rf1, rf1, r0)
    mov(tmua, rf0, sig=thrsw).add(rf0, rf0, r3)
    mov(r0, 1.0)
    mov(r1, 2.0)
    fadd(r0, r0, r0).fmul(r1, r1, r1, sig=ldtmu(rf31))  # both ALUs and the load at once
    _store(rf31)
    _store(r0)
    _store(r1)
    finish()


def test_signal_ldtmu():
    rng = seeded("test_signal_ldtmu")
    x, y = _run(ldtmu_beside_alu_work, (3, 16), np.float32, rng.standard_normal(16))
    assert (y[0] == x).all()
    assert (y[1] == 2).all()
    assert (y[2] == 4).all()


def _rotated(x, n):
    """Lane i receives lane (i - n) mod 16."""
    return x[(LANES - n) % 16]


def _quad_rotated(x, n):
    """Lane i receives lane (i - n) mod 4 of its own quad."""
    return x[(LANES & 12) | ((LANES - n) & 3)]


def _by_r5(n):
    mov(r5, n)
    nop()  # r5 written the instruction before a rotation by r5 is not allowed (13.2/10)


@qpu
def rot_signal_on_accumulator(asm):
    _load_input(r0)
    for n in AMOUNTS:
        nop().add(r1, r0, r0, sig=rot(n))
        _store(r1)
    for n in AMOUNTS:
        _by_r5(n)
        nop().add(r1, r0, r0, sig=rot(n))  # the mul op's rot reads its amount from r5
        _store(r1)
    finish()


def test_full_rotate():
    x, y = _run(rot_signal_on_accumulator, (2, len(AMOUNTS), 16))
    for k, n in enumerate(AMOUNTS):
        assert (y[:, k] == _rotated(2 * x, n)).all(), n


@qpu
def rotate_spellings(asm):
    _load_input(r0)
    for n in AMOUNTS:
        rotate(r1, r0, n)
        _store(r1)
    for n in AMOUNTS:
        nop().rotate(r1, r0, n)
        _store(r1)
    for n in AMOUNTS:
        _by_r5(n)
        rotate(r1, r0, r5)
        _store(r1)
    for n in AMOUNTS:
        _by_r5(n)
        nop().rotate(r1, r0, r5)
        _store(r1)
    finish()


def test_rotate_alias():
    x, y = _run(rotate_spellings, (4, len(AMOUNTS), 16))
    for k, n in enumerate(AMOUNTS):
        assert (y[:, k] == _rotated(x, n)).all(), n


@qpu
def rot_signal_on_register_file(asm):
    _load_input(rf32)
    for n in AMOUNTS:
        nop().add(r1, rf32, rf32, sig=rot(n))
        _store(r1)
    for n in AMOUNTS:
        _by_r5(n)
        nop().add(r1, rf32, rf32, sig=rot(r5))
        _store(r1)
    finish()


def test_quad_rotate():
    x, y = _run(rot_signal_on_register_file, (2, len(AMOUNTS), 16))
    for k, n in enumerate(AMOUNTS):
        assert (y[:, k] == _quad_rotated(2 * x, n)).all(), n


@qpu
def quad_rotate_spellings(asm):
    _load_input(rf32)
    for n in AMOUNTS:
        quad_rotate(r1, rf32, n)
        _store(r1)
    for n in AMOUNTS:
        nop().quad_rotate(r1, rf32, n)
        _store(r1)
    for n in AMOUNTS:
        _by_r5(n)
        quad_rotate(r1, rf32, r5)
        _store(r1)
    for n in AMOUNTS:
        _by_r5(n)
        nop().quad_rotate(r1, rf32, r5)
        _store(r1)
    finish()


def test_quad_rotate_alias():
    x, y = _run(quad_rotate_spellings, (4, len(AMOUNTS), 16))
    for k, n in enumerate(AMOUNTS):
        assert (y[:, k] == _quad_rotated(x, n)).all(), n


def _rot_unless_zero(n):
    return [rot(n)] if n else []


def _broadcast_program(target):
    @qpu
    def program(asm):
        _load_input(r0)
        for n in AMOUNTS:
            nop().mov(target, r0, sig=_rot_unless_zero(n))
            _store(r5)
        finish()

    return program


def _check_full_broadcast(target):
    # a write to r5rep gives every lane the (rotated) value of lane 0
    x, y = _run(_broadcast_program(target), (len(AMOUNTS), 16))
    for k, n in enumerate(AMOUNTS):
        assert (y[k] == _rotated(x, n)[0]).all(), n


def _check_quad_broadcast(target):
    # a write to r5 gives each quad the (rotated) value of its first lane
    x, y = _run(_broadcast_program(target), (len(AMOUNTS), 16))
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

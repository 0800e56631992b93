# ruff: noqa: B018  (DSL labels are expressions: `L.name` places a label)
"""Port of py-videocore6 tests/test_branch.py (ran on a Pi 4): branch targets (relative and
absolute immediates, labels, a register, the link register) and uniform-stream branches."""

from __future__ import annotations

import numpy as np
import pytest
from hw_support import finish, pi, run, seeded
from vc6_isa.asm import *


def _load_x_to(dst):
    """uniforms x, y: rf0 = x + 4 * lane, rf1 = y + 4 * lane; dst <- x[lane]."""
    eidx(r0, sig=ldunifrf(rf0))
    nop(sig=ldunifrf(rf1))
    shl(r0, r0, 2)
    add(rf0, rf0, r0)
    add(rf1, rf1, r0)
    mov(tmua, rf0, sig=thrsw)
    nop()
    nop()
    nop(sig=ldtmu(dst))


def _store_to_y(value):
    mov(tmud, value)
    mov(tmua, rf1)
    tmuwt()


def _three_delay_slots():
    nop()
    nop()
    nop()


def _counted_adds(land_label=None):
    """Four `r1 += 1`, the branch landing on the third (the first two are skipped)."""
    add(r1, r1, 1)
    add(r1, r1, 1)
    if land_label:
        getattr(L, land_label)
    add(r1, r1, 1)
    add(r1, r1, 1)


@qpu
def jump_by(asm, how, where):
    _load_x_to(r1)
    if how == "relative":
        b(where, cond="always")  # byte offset from the end of the delay slots
    else:
        b(where, absolute=True, cond="always")
    _three_delay_slots()
    _counted_adds()
    _store_to_y(r1)
    finish()


def _x_plus(drv, code, extra):
    x = drv.alloc(16, dtype=np.uint32)
    y = drv.alloc(16, dtype=np.uint32)
    unif = drv.alloc(3, dtype=np.uint32)
    x[:] = np.arange(16)
    y[:] = 0
    unif[:2] = [x.address, y.address]
    run(drv, code, unif)
    assert (y == x + extra).all()


def test_branch_rel_imm():
    with pi() as drv:
        _x_plus(drv, drv.program(jump_by, "relative", 2 * 8), 2)


def test_branch_abs_imm():
    with pi() as drv:
        placeholder = drv.program(qpu(lambda asm: nop()))
        # the program lands right after the one-word placeholder; its 16th word is the third add
        target = int(placeholder.address) + 16 * 8
        _x_plus(drv, drv.program(jump_by, "absolute", target), 2)


@qpu
def jump_to_label(asm):
    _load_x_to(r1)
    b(R.land, cond="always")
    _three_delay_slots()
    add(r1, r1, 1)
    L.land
    add(r1, r1, 1)
    L.unused_a
    add(r1, r1, 1)
    L.unused_b
    add(r1, r1, 1)
    _store_to_y(r1)
    finish()


def test_branch_rel_label():
    with pi() as drv:
        _x_plus(drv, drv.program(jump_to_label), 3)


@qpu
def jump_to_register(asm):
    _load_x_to(rf2)  # every lane holds the target address
    mov(r1, 0)
    b(rf2, cond="always")
    _three_delay_slots()
    for _ in range(4):
        add(r1, r1, 1)  # instruction 14 ... 17; the target is 17
    _store_to_y(r1)
    finish()


def test_branch_abs_reg():
    with pi() as drv:
        code = drv.program(jump_to_register)
        x = drv.alloc(16, dtype=np.uint32)
        y = drv.alloc(16, dtype=np.uint32)
        unif = drv.alloc(3, dtype=np.uint32)
        x[:] = int(code.address) + 17 * 8
        y[:] = 0
        unif[:2] = [x.address, y.address]
        run(drv, code, unif)
        assert (y == 1).all()


@qpu
def call_and_return(asm, link_at_call, return_with_lr_op):
    _load_x_to(r2)
    mov(rf2, 0)  # 0 until the subroutine ran once
    mov(rf3, 0)  # counts passes over `after_setup`
    b(R.after_setup, cond="always", set_link=True)  # link = after_setup
    _three_delay_slots()
    L.after_setup
    add(rf3, rf3, 1)
    mov(null, rf2, cond="pushz")
    b(R.subroutine, cond="alla", set_link=link_at_call)
    mov(rf2, 1)  # delay slot
    nop()
    nop()
    # with link_at_call the subroutine returns here (rf3 = 1), else to after_setup (rf3 = 2)
    shl(r1, 4, 4)
    mov(tmud, rf3)
    mov(tmua, rf1).add(rf1, rf1, r1)
    tmuwt()
    finish()
    L.subroutine
    shl(r1, 4, 4)
    mov(tmud, r2)
    mov(tmua, rf1).add(rf1, rf1, r1)
    tmuwt()
    if return_with_lr_op:
        lr(rf32)
        b(rf32, cond="always")
    else:
        b(link, cond="always")
    _three_delay_slots()


@pytest.mark.parametrize("return_with_lr_op", [False, True])
def test_branch_link_reg(return_with_lr_op):
    rng = seeded("test_branch_link_reg")
    for link_at_call, passes in [(False, 2), (True, 1)]:
        with pi() as drv:
            code = drv.program(call_and_return, link_at_call, return_with_lr_op)
            x = drv.alloc(16, dtype=np.uint32)
            y = drv.alloc((2, 16), dtype=np.uint32)
            unif = drv.alloc(2, dtype=np.uint32)
            x[:] = rng.integers(0, 2**32, 16, dtype=np.uint64).astype(np.uint32)
            y[:] = 0
            unif[:] = [x.address, y.address]
            run(drv, code, unif)
            assert (y[0] == x).all()
            assert (y[1] == passes).all()


@qpu
def branch_uniforms(asm, source):
    eidx(r0, sig=ldunifrf(rf0))
    shl(r0, r0, 2)
    add(rf0, rf0, r0)
    if source == "relative":
        b(R.land, cond="always").unif_addr()  # next uniform: byte offset for the stream
    else:
        b(R.land, cond="always").unif_addr(absolute=True)  # next uniform: new address
    _three_delay_slots()
    L.land
    nop(sig=ldunifrf(tmud))
    mov(tmua, rf0)
    tmuwt()
    finish()


def _uniform_after_branch(source, second_uniform) -> np.ndarray:
    with pi() as drv:
        code = drv.program(branch_uniforms, source)
        y = drv.alloc(16, dtype=np.uint32)
        unif = drv.alloc(5, dtype=np.uint32)
        y[:] = 0
        unif[:] = [y.address, second_uniform(unif), 5, 6, 7]
        run(drv, code, unif)
        return np.array(y)


def test_uniform_branch_rel():
    # the offset counts from the word after the offset: 8 bytes on lands on unif[4]
    assert (_uniform_after_branch("relative", lambda unif: 8) == 7).all()


def test_uniform_branch_abs():
    assert (_uniform_after_branch("absolute", lambda unif: unif.addresses()[3]) == 6).all()


@qpu
def branch_uniforms_from_register(asm):
    eidx(r0, sig=ldunifrf(rf0))
    nop(sig=ldunifrf(rf1))
    shl(r0, r0, 2)
    add(rf0, rf0, r0)
    add(rf1, rf1, r0)
    mov(tmua, rf0, sig=thrsw)
    nop()
    nop()
    nop(sig=ldtmu(rf2))
    b(R.land, cond="always").unif_addr(rf2)
    _three_delay_slots()
    L.land
    nop(sig=ldunifrf(rf3))
    mov(tmud, rf3)
    mov(tmua, rf1)
    tmuwt()
    finish()


def test_uniform_branch_reg():
    # Only lane 1 of the register holds the address, and the stream continues there: the
    # branch takes lane 1 (reference 9.2, Appendix G.8).
    with pi() as drv:
        code = drv.program(branch_uniforms_from_register)
        x = drv.alloc(16, dtype=np.uint32)
        y = drv.alloc(16, dtype=np.uint32)
        unif = drv.alloc(6, dtype=np.uint32)
        x[1] = unif.addresses()[4]
        y[:] = 0
        unif[:] = [x.address, y.address, 3, 4, 5, 6]
        run(drv, code, unif)
        assert (y == 5).all()

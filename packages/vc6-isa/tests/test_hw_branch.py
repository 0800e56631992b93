"""Port of py-videocore6 tests/test_branch.py (ran on a Pi 4): branch targets (relative and
absolute immediates, labels, a register, the link register) and uniform-stream branches.
The programs are py-videocore6's (re-typed in test_asm_pyvc6)."""

from __future__ import annotations

import numpy as np
import pytest
from hw_support import pi, run, seeded
from test_asm_pyvc6 import (
    qpu_branch_abs_imm,
    qpu_branch_abs_reg,
    qpu_branch_link_reg,
    qpu_branch_rel_imm,
    qpu_branch_rel_label,
    qpu_uniform_branch,
)
from vc6_isa.asm import nop, qpu


@qpu
def one_nop(asm):
    nop()


def _x_plus(drv, code, extra):
    """Run a program that loads x, adds 1 for each add the branch did not skip, stores y."""
    x = drv.alloc(16, dtype=np.uint32)
    y = drv.alloc(16, dtype=np.uint32)
    unif = drv.alloc(3, dtype=np.uint32)
    x[:] = np.arange(16)
    y[:] = 0
    unif[:2] = [x.address, y.address]
    run(drv, code, unif)
    assert (y == x + extra).all()


def test_branch_rel_imm():
    # 16 bytes past the delay slots: the first two of the four adds are skipped
    with pi() as drv:
        _x_plus(drv, drv.program(qpu_branch_rel_imm), 2)


def test_branch_abs_imm():
    with pi() as drv:
        placeholder = drv.program(one_nop)
        # the program follows the one-word placeholder: its word 15 (the third add) is at
        # placeholder + 16 words
        target = int(placeholder.address) + 16 * 8
        _x_plus(drv, drv.program(qpu_branch_abs_imm, target), 2)


def test_branch_rel_label():
    with pi() as drv:
        _x_plus(drv, drv.program(qpu_branch_rel_label), 3)


def test_branch_abs_reg():
    with pi() as drv:
        code = drv.program(qpu_branch_abs_reg)
        x = drv.alloc(16, dtype=np.uint32)
        y = drv.alloc(16, dtype=np.uint32)
        unif = drv.alloc(3, dtype=np.uint32)
        x[:] = int(code.address) + 17 * 8  # every lane: the last of the four adds
        y[:] = 0
        unif[:2] = [x.address, y.address]
        run(drv, code, unif)
        assert (y == 1).all()


@pytest.mark.parametrize("return_with_lr_op", [False, True])
def test_branch_link_reg(return_with_lr_op):
    # The subroutine returns through the link register (read directly, or by the lr op): to
    # the call when the call set the link, else to where the earlier branch set it, which runs
    # the counting instruction a second time.
    rng = seeded("test_branch_link_reg")
    for link_at_call, passes in [(False, 2), (True, 1)]:
        with pi() as drv:
            code = drv.program(qpu_branch_link_reg, link_at_call, not return_with_lr_op)
            x = drv.alloc(16, dtype=np.uint32)
            y = drv.alloc((2, 16), dtype=np.uint32)
            unif = drv.alloc(2, dtype=np.uint32)
            x[:] = rng.integers(0, 2**32, 16, dtype=np.uint64).astype(np.uint32)
            y[:] = 0
            unif[:] = [x.address, y.address]
            run(drv, code, unif)
            assert (y[0] == x).all()
            assert (y[1] == passes).all()


def _uniform_after_branch(kind, second_uniform) -> np.ndarray:
    with pi() as drv:
        code = drv.program(qpu_uniform_branch, kind)
        y = drv.alloc(16, dtype=np.uint32)
        unif = drv.alloc(5, dtype=np.uint32)
        y[:] = 0
        unif[:] = [y.address, second_uniform(unif), 5, 6, 7]
        run(drv, code, unif)
        return np.array(y)


def test_uniform_branch_rel():
    # the offset counts from the word after the offset: 8 bytes on is unif[4]
    assert (_uniform_after_branch("rel", lambda unif: 8) == 7).all()


def test_uniform_branch_abs():
    assert (_uniform_after_branch("abs", lambda unif: unif.addresses()[3]) == 6).all()


def test_uniform_branch_reg():
    # Only lane 1 of the register holds the address, and the stream continues there: the
    # branch takes lane 1 (reference 9.2, Appendix G.8).
    with pi() as drv:
        code = drv.program(qpu_uniform_branch, "reg")
        x = drv.alloc(16, dtype=np.uint32)
        y = drv.alloc(16, dtype=np.uint32)
        unif = drv.alloc(6, dtype=np.uint32)
        x[1] = unif.addresses()[4]
        y[:] = 0
        unif[:] = [x.address, y.address, 3, 4, 5, 6]
        run(drv, code, unif)
        assert (y == 5).all()

"""The machine's 16-lane row moves (`machine.lanes`): compiled (vector loads and stores) when numba
is present, numpy slices otherwise; both must move exactly the 16 lanes of the rows they name."""

from __future__ import annotations

import numpy as np
import pytest
from vc6_isa.emulator.jit import JIT_ENABLED
from vc6_isa.emulator.machine.lanes import copy_row, fill_row, select_row


def _moves(regs, sc):
    copy_row(sc[0], regs[1, 3])  # a register row into a scratch row
    fill_row(sc[1], -16)  # a small immediate (negative: its 32-bit pattern)
    select_row(regs[0, 2], sc[2], sc[3])  # a conditional write: lanes where sc[3] is set


if JIT_ENABLED:
    import numba

    _moves = numba.njit(_moves)


def test_row_moves_touch_the_16_lanes_they_name_and_nothing_else():
    rng = np.random.default_rng(13)
    regs = rng.integers(0, 1 << 32, (2, 5, 16), dtype=np.uint64).astype(np.uint32)
    sc = rng.integers(0, 1 << 32, (4, 16), dtype=np.uint64).astype(np.uint32)
    sc[3] = np.arange(16) % 3 == 0
    want_regs, want_sc = regs.copy(), sc.copy()
    want_sc[0] = regs[1, 3]
    want_sc[1] = 0xFFFFFFF0
    want_regs[0, 2] = np.where(sc[3] != 0, sc[2], regs[0, 2])
    _moves(regs, sc)
    assert np.array_equal(regs, want_regs)
    assert np.array_equal(sc, want_sc)


@pytest.mark.skipif(not JIT_ENABLED, reason="type checks of the compiled intrinsics")
def test_row_moves_take_only_uint32_rows():
    import numba
    from numba.core.errors import TypingError

    @numba.njit
    def copy_int64(a, b):
        copy_row(a[0], b[0])

    with pytest.raises(TypingError):
        copy_int64(np.zeros((1, 16), np.int64), np.zeros((1, 16), np.int64))

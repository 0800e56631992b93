"""Port of py-videocore6 tests/test_condition_codes.py (ran on a Pi 4): flag pushes, updates,
conditional writes on both ALUs in one instruction, and the flag-reading ops. The programs are
py-videocore6's (re-typed in test_asm_pyvc6)."""

from __future__ import annotations

import numpy as np
from hw_support import pi, run, seeded
from test_asm_pyvc6 import (
    UPDATE_FLAGS,
    qpu_cond_combination,
    qpu_cond_flx,
    qpu_cond_push_a,
    qpu_cond_push_b,
    qpu_cond_update,
    qpu_cond_vflx,
)

LANES = np.arange(16)


def _run_rows(program, rows, *args, dtype=np.uint32, width=16):
    """Run a program whose only uniform is the address of its (rows, width) output."""
    with pi() as drv:
        code = drv.program(program, *args)
        data = drv.alloc((rows, width), dtype=dtype)
        unif = drv.alloc(1, dtype=np.uint32)
        data[:] = 0
        unif[0] = data.address
        run(drv, code, unif)
        return np.array(data)


def test_cond_push_a():
    # lane - 10 pushed as Z, N, C; each tested once on the add ALU, once on the mul ALU
    data = _run_rows(qpu_cond_push_a, 6)
    zero = (LANES == 10).astype(np.uint32)
    not_negative = (LANES >= 10).astype(np.uint32)  # tested with ifna
    carry = (LANES < 10).astype(np.uint32)  # the subtraction borrows
    for k, want in enumerate([zero, zero, not_negative, not_negative, carry, carry]):
        assert (data[k] == want).all()


def test_cond_push_b():
    def zeroed_at(lane):
        row = LANES.astype(np.uint32)
        row[lane] = 0
        return row

    data = _run_rows(qpu_cond_push_b, 5)
    # pushz(lane == 10) -> A; pushz(lane == 5): A, old A in B; pushz(lane == 1): A, old A in B
    want = [zeroed_at(10), zeroed_at(5), zeroed_at(10), zeroed_at(1), zeroed_at(5)]
    assert (data == np.array(want)).all()


def _updated(update, a, value):
    """New flag A for an update condition: and/nor of A with (not) Z/N/C of ``value``."""
    tested = {"z": value == 0, "n": value < 0, "c": value < 0}[update[-1]]
    if update[3:-1] == "n":
        tested = ~tested
    return (a & tested) if update.startswith("and") else ~(a | tested)


def test_cond_update():
    data = _run_rows(qpu_cond_update, 2 * len(UPDATE_FLAGS), UPDATE_FLAGS)
    even = LANES % 2 == 0  # flag A before the update
    value = LANES - 5  # the flags come from lane - 5 (C: the subtraction borrows)
    for k, update in enumerate(UPDATE_FLAGS):
        # the hardware test checks the first half (updates on the add ALU)
        assert (data[k] == _updated(update, even, value)).all(), update


def test_cond_combination():
    def row(*values):
        return np.array(values + tuple(range(len(values), 16)), np.uint32)

    data = _run_rows(qpu_cond_combination, 8)
    first_ten = LANES.astype(np.uint32)
    first_ten[10:] = 0
    want = [
        row(*range(10), 5),  # the mul ALU's push used r0 before the add ALU overwrote it
        row(0, 0, 0, 0, 0),
        row(*range(10), 5),
        row(0, 0, 0, 0, 0),
        first_ten,
        first_ten,
        row(0, 0, 0, 0, 0),
        row(5, 5, 5, 5, 5, 5, 5, 5, 5, 5),
    ]
    assert (data == np.array(want)).all()


def test_cond_vflx():
    ops = ["vfla", "vflna", "vflb", "vflnb"]
    data = _run_rows(qpu_cond_vflx, len(ops), ops, dtype=np.int16, width=32)
    a = ((LANES & 2) == 0).astype(np.int16)  # the second push: bit 1 of the lane clear
    b = ((LANES & 1) == 0).astype(np.int16)  # the first push, moved to B
    # each flag becomes 1 in both 16-bit halves of the lane's word
    for k, flag in enumerate([a, 1 - a, b, 1 - b]):
        assert (data[k] == flag.repeat(2)).all(), ops[k]


def test_cond_flx():
    ops = ["flapush", "flbpush", "flpop"]
    rng = seeded("test_cond_flx")
    with pi() as drv:
        code = drv.program(qpu_cond_flx, ops)
        x1 = drv.alloc(16, dtype=np.uint32)
        x2 = drv.alloc(16, dtype=np.int32)
        y = drv.alloc((len(ops), 16), dtype=np.uint32)
        unif = drv.alloc(3, dtype=np.uint32)
        x1[:] = rng.integers(0, 2**32, 16, dtype=np.uint64).astype(np.uint32)
        x2[:] = rng.integers(-3, 3, 16)
        y[:] = 0
        unif[:] = [x1.address, x2.address, y.address]
        run(drv, code, unif)
        a = (1 - (x2 & 1)).astype(np.uint32)  # A = x2 even, B = x2 < 0
        b = (x2 < 0).astype(np.uint32)
        assert (y[0] == (x1 << 2) | (3 * a)).all()
        assert (y[1] == (x1 << 2) | (3 * b)).all()
        assert (y[2] == x1 >> 2).all()

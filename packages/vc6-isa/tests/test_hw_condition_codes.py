"""Port of py-videocore6 tests/test_condition_codes.py (ran on a Pi 4): flag pushes, updates,
conditional writes on both ALUs in one instruction, and the flag-reading ops."""

from __future__ import annotations

import numpy as np
import vc6_isa.asm as dsl
from hw_support import finish, pi, run, seeded
from vc6_isa.asm import *

LANES = np.arange(16)


def _rows_at_r2():
    """uniform: output address. r2 = output + 4 * lane, r1 = 64 (row stride)."""
    eidx(r0, sig=ldunif)
    mov(r2, r5)
    shl(r0, r0, 2)
    add(r2, r2, r0)
    shl(r1, 4, 4)


def _emit(value):
    mov(tmud, value)
    mov(tmua, r2)
    tmuwt().add(r2, r2, r1)


def _run_rows(program, rows, *args, dtype=np.uint32, width=16):
    with pi() as drv:
        code = drv.program(program, *args)
        data = drv.alloc((rows, width), dtype=dtype)
        unif = drv.alloc(1, dtype=np.uint32)
        data[:] = 0
        unif[0] = data.address
        run(drv, code, unif)
        return np.array(data)


@qpu
def push_then_test_a(asm):
    _rows_at_r2()
    for push, test in [("pushz", "ifa"), ("pushn", "ifna"), ("pushc", "ifa")]:
        eidx(r0)
        sub(r0, r0, 10, cond=push)
        mov(r0, 0)
        mov(r0, 1, cond=test)  # add ALU
        _emit(r0)
        mov(r0, 0)
        nop().mov(r0, 1, cond=test)  # mul ALU
        _emit(r0)
    finish()


def test_cond_push_a():
    data = _run_rows(push_then_test_a, 6)
    zero = (LANES == 10).astype(np.uint32)  # lane - 10 == 0
    not_negative = (LANES >= 10).astype(np.uint32)
    carry = (LANES < 10).astype(np.uint32)  # the subtraction borrows
    for k, want in enumerate([zero, zero, not_negative, not_negative, carry, carry]):
        assert (data[k] == want).all()


@qpu
def push_moves_a_to_b(asm):
    _rows_at_r2()
    for k, value in enumerate([10, 5, 1]):
        eidx(r0)
        sub(null, r0, value, cond="pushz")
        tests = ["ifa"] if k == 0 else ["ifa", "ifb"]
        for test in tests:
            if test == "ifa":
                mov(r0, 0, cond="ifa")
            else:
                mov(r0, 0, cond="ifb")
            eidx(r0).mov(tmud, r0)
            mov(tmua, r2)
            tmuwt().add(r2, r2, r1)
    finish()


def test_cond_push_b():
    def zeroed_at(lane):
        row = LANES.astype(np.uint32)
        row[lane] = 0
        return row

    data = _run_rows(push_moves_a_to_b, 5)
    # pushz(lane == 10) -> A; pushz(lane == 5): A, old A in B; pushz(lane == 1): A, old A in B
    want = [zeroed_at(10), zeroed_at(5), zeroed_at(10), zeroed_at(1), zeroed_at(5)]
    assert (data == np.array(want)).all()


UPDATES = ["andz", "andnz", "nornz", "norz", "andn", "andnn", "nornn", "norn", "andc", "andnc",
           "nornc", "norc"]  # fmt: skip


@qpu
def update_a(asm):
    _rows_at_r2()
    for on_mul in (False, True):
        for update in UPDATES:
            eidx(r0)
            band(r0, r0, 1, cond="pushz")  # A = even lanes
            eidx(r0)
            if on_mul:
                add(r3, r0, r0).sub(r0, r0, 5, cond=update)
            else:
                sub(null, r0, 5, cond=update)
            mov(r0, 0)
            mov(r0, 1, cond="ifa")
            _emit(r0)
    finish()


def _updated(update, a, value):
    """New flag A for an update condition: and/nor of A with (not) Z/N/C of ``value``."""
    tested = {"z": value == 0, "n": value < 0, "c": value < 0}[update[-1]]
    if update[3:-1] == "n":
        tested = ~tested
    return (a & tested) if update.startswith("and") else ~(a | tested)


def test_cond_update():
    data = _run_rows(update_a, 2 * len(UPDATES))
    even = LANES % 2 == 0
    value = LANES - 5  # the flags come from lane - 5 (C: the subtraction borrows)
    for k, update in enumerate(UPDATES):
        # the hardware test checks the add-ALU rows
        assert (data[k] == _updated(update, even, value)).all(), update


@qpu
def two_conditions(asm):
    _rows_at_r2()
    # a condition on the add ALU, a push on the mul ALU, same instruction
    eidx(r0)
    sub(r0, r0, 10, cond="pushz")
    eidx(r0)
    mov(r0, 5, cond="ifa").sub(r3, r0, 5, cond="pushn")
    _emit(r0)
    eidx(r0)
    mov(r0, 0, cond="ifa")
    _emit(r0)
    # a push on the add ALU, a condition on the mul ALU
    eidx(r0)
    sub(r0, r0, 10, cond="pushz")
    eidx(r0)
    sub(null, r0, 5, cond="pushn").mov(r0, 5, cond="ifa")
    _emit(r0)
    eidx(r0)
    mov(r0, 0, cond="ifa")
    _emit(r0)
    # conditions on both
    eidx(r0)
    sub(null, r0, 10, cond="pushn")
    eidx(r3)
    mov(r0, 0, cond="ifna").mov(r3, 0, cond="ifna")
    _emit(r0)
    _emit(r3)
    # an update on the add ALU, a condition on the mul ALU
    eidx(r0)
    sub(null, r0, 10, cond="pushn")
    eidx(r3)
    sub(null, r0, 5, cond="andn").mov(r3, 5, cond="ifa")
    eidx(r0)
    mov(r0, 0, cond="ifa")
    _emit(r0)
    _emit(r3)
    finish()


def test_cond_combination():
    def row(*values):
        return np.array(values + tuple(range(len(values), 16)), np.uint32)

    data = _run_rows(two_conditions, 8)
    first_ten = LANES.astype(np.uint32)
    first_ten[10:] = 0
    want = [
        row(*range(10), 5),  # the mul ALU read r0 before the add ALU overwrote it
        row(0, 0, 0, 0, 0),
        row(*range(10), 5),
        row(0, 0, 0, 0, 0),
        first_ten,
        first_ten,
        row(0, 0, 0, 0, 0),
        row(5, 5, 5, 5, 5, 5, 5, 5, 5, 5),
    ]
    assert (data == np.array(want)).all()


@qpu
def flags_as_values(asm, ops):
    _rows_at_r2()
    bxor(rf0, rf0, rf0).sub(rf1, rf1, rf1)
    eidx(r0)
    band(null, r0, 1, cond="pushz")  # A = even lanes
    band(null, r0, 2, cond="pushz")  # A = lanes with bit 1 clear, B = even lanes
    for op in ops:
        getattr(dsl, op)(r0)
        _emit(r0)
    finish()


def test_cond_vflx():
    ops = ["vfla", "vflna", "vflb", "vflnb"]
    data = _run_rows(flags_as_values, len(ops), ops, dtype=np.int16, width=32)
    a = ((LANES & 2) == 0).astype(np.int16)
    b = ((LANES & 1) == 0).astype(np.int16)
    # each flag becomes 1 in both 16-bit halves of the lane's word
    for k, flag in enumerate([a, 1 - a, b, 1 - b]):
        assert (data[k] == flag.repeat(2)).all(), ops[k]


@qpu
def flag_stack_ops(asm, ops):
    eidx(r0, sig=ldunif)
    mov(rf0, r5, sig=ldunif)
    mov(rf1, r5, sig=ldunif)
    shl(r3, 4, 4).mov(rf2, r5)
    shl(r0, r0, 2)
    add(rf0, rf0, r0)
    add(rf1, rf1, r0)
    add(rf2, rf2, r0)
    mov(tmua, rf0, sig=thrsw).add(rf0, rf0, r3)
    nop()
    mov(tmua, rf1, sig=thrsw).add(rf1, rf1, r3)  # two apart again (Appendix G.3)
    nop(sig=ldtmu(r1))
    nop()
    nop(sig=ldtmu(r2))
    mov(null, r2, cond="pushn")
    band(null, r2, 1, cond="pushz")  # A = (x2 even), B = (x2 < 0)
    for op in ops:
        getattr(dsl, op)(tmud, r1)
        mov(tmua, rf2)
        tmuwt().add(rf2, rf2, r3)
    finish()


def test_cond_flx():
    ops = ["flapush", "flbpush", "flpop"]
    rng = seeded("test_cond_flx")
    with pi() as drv:
        code = drv.program(flag_stack_ops, ops)
        x1 = drv.alloc(16, dtype=np.uint32)
        x2 = drv.alloc(16, dtype=np.int32)
        y = drv.alloc((len(ops), 16), dtype=np.uint32)
        unif = drv.alloc(3, dtype=np.uint32)
        x1[:] = rng.integers(0, 2**32, 16, dtype=np.uint64).astype(np.uint32)
        x2[:] = rng.integers(-3, 3, 16)
        y[:] = 0
        unif[:] = [x1.address, x2.address, y.address]
        run(drv, code, unif)
        a = (1 - (x2 & 1)).astype(np.uint32)
        b = (x2 < 0).astype(np.uint32)
        assert (y[0] == (x1 << 2) | (3 * a)).all()
        assert (y[1] == (x1 << 2) | (3 * b)).all()
        assert (y[2] == x1 >> 2).all()

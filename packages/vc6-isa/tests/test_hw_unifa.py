# ruff: noqa: B018  (DSL labels are expressions: `L.name` places a label)
"""Port of py-videocore6 tests/test_unifa.py (ran on a Pi 4): the second uniform stream (unifa)
next to the ordinary one, including a unifa write in a branch's delay slots and branches right
after unifa writes (reference Appendix G.4, G.8)."""

from __future__ import annotations

import numpy as np
from hw_support import finish, pi, run, seeded
from vc6_isa.asm import *

N, SRC0, SRC1, DST, STEP = rf0, rf1, rf2, rf3, rf4


def _emit_r5():
    mov(tmud, r5)
    mov(tmua, DST).add(DST, DST, STEP)


@qpu
def two_uniform_streams(asm):
    for reg in (N, SRC0, SRC1, DST):
        nop(sig=ldunifrf(reg))
    eidx(r0)
    shl(r0, r0, 2)
    add(SRC0, SRC0, r0)
    add(SRC1, SRC1, r0)
    add(DST, DST, r0)
    shl(STEP, 4, 4)

    # part 1: src0 through unifa alone (the address comes from lane 0)
    mov(unifa, SRC0)
    nop()
    nop()
    sub(r0, N, 1, cond="pushz")  # the first ldunifa is the fourth instruction after the write
    L.part1
    nop(sig=ldunifa)
    b(R.part1, cond="na0")
    mov(tmud, r5)
    mov(tmua, DST).add(DST, DST, STEP)
    sub(r0, r0, 1, cond="pushz")

    # part 2: the ordinary stream redirected to src0 by a branch, and unifa set to src1 in the
    # branch's first delay slot; the two streams interleave
    b(R.part2, cond="always").unif_addr(SRC0)
    mov(unifa, SRC1)
    sub(r0, N, 1, cond="pushz")
    nop()
    L.part2
    nop(sig=ldunif)
    mov(tmud, r5, sig=ldunifa)
    mov(tmua, DST).add(DST, DST, STEP)
    b(R.part2, cond="na0")
    _emit_r5()
    sub(r0, r0, 1, cond="pushz")

    # part 3: each pass moves the ordinary stream (by a branch reading lane 1 of src1, rotated
    # so that lane 1 holds src1's address) and the unifa stream, alternating their loads
    quad_rotate(SRC1, SRC1, 1)
    shr(r0, N, 1)
    mov(unifa, SRC0).add(SRC0, SRC0, 4)
    L.part3
    b(R.part3_body, cond="always").unif_addr(SRC1)
    add(SRC1, SRC1, 8)
    sub(r0, r0, 1, cond="pushz")
    nop()
    L.part3_body
    nop(sig=ldunif)
    mov(tmud, r5)
    mov(tmua, DST, sig=ldunifa).mov(unifa, SRC0)
    mov(tmud, r5)
    add(DST, DST, STEP)
    add(SRC0, SRC0, 8)
    mov(tmua, DST, sig=ldunifa).add(DST, DST, STEP)
    mov(tmud, r5, sig=ldunif)
    b(R.part3, cond="na0")
    mov(tmua, DST).add(DST, DST, STEP)
    mov(tmud, r5)
    mov(tmua, DST).add(DST, DST, STEP)
    finish()  # no tmuwt: the hardware completes the writes with the job


def test_unifa():
    n = 548  # even: part 3 makes two loads of each stream per pass
    rng = seeded("test_unifa")
    with pi() as drv:
        code = drv.program(two_uniform_streams)
        unif = drv.alloc(4, dtype=np.uint32)
        src0 = drv.alloc(n, dtype=np.uint32)
        src1 = drv.alloc(n, dtype=np.uint32)
        dst = drv.alloc((n * 5, 16), dtype=np.uint32)
        src0[:] = rng.integers(1, 2**32 - 1, n, dtype=np.uint64)
        src1[:] = rng.integers(1, 2**32 - 1, n, dtype=np.uint64)
        dst[:] = 0
        unif[:] = [n, src0.address, src1.address, dst.address]
        run(drv, code, unif)
        rows = np.array(dst)
        assert (rows[:n] == np.array(src0)[:, None]).all()  # part 1
        part2 = rows[n : 3 * n].reshape(n, 2, 16)
        assert (part2[:, 0] == np.array(src0)[:, None]).all()  # from the branch's lane 0 (G.8)
        assert (part2[:, 1] == np.array(src1)[:, None]).all()
        part3 = rows[3 * n :].reshape(n, 2, 16)
        for i in range(n):
            first, second = (src1[i], src0[i]) if i % 2 == 0 else (src0[i], src1[i])
            assert (part3[i, 0] == first).all() and (part3[i, 1] == second).all(), i

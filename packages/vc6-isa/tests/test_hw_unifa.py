"""Port of py-videocore6 tests/test_unifa.py (ran on a Pi 4): the second uniform stream (unifa)
next to the ordinary one, including a unifa write in a branch's delay slots and branches right
after unifa writes (reference Appendix G.4, G.8). The program is py-videocore6's (re-typed in
test_asm_pyvc6): part 1 reads src0 through unifa alone; part 2 redirects the ordinary stream to
src0 by a branch from a register while a unifa write in the branch's first delay slot points
unifa at src1, and the two streams interleave; part 3 moves both streams every pass (the branch
reading lane 1, which a quad rotation loaded with src1's address), alternating their loads. It
ends without waiting for its TMU writes (tmuwt), which works on hardware."""

from __future__ import annotations

import numpy as np
from hw_support import pi, run, seeded
from test_asm_pyvc6 import qpu_unifa


def test_unifa():
    n = 548  # even: part 3 makes two loads of each stream per pass
    rng = seeded("test_unifa")
    with pi() as drv:
        code = drv.program(qpu_unifa)
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

# ruff: noqa: F811  (the pytest fixture imported from test_emulator_support)
"""TMU lookups of 16 lanes on consecutive words take a short path in the machine
(`lanes.word_run`: one vector load or store instead of a gather or scatter, no lane reductions);
it must read and write exactly the words the lane-by-lane lookup does. Each case loads lane l's
word at `src + 4 (l ^ swap)` and stores it at `dst + 4 (l ^ swap)` for the lanes below `count`:
consecutive (the short path), misaligned low bits (ignored when not strict), lanes swapped or
disabled (the general path)."""

from __future__ import annotations

import numpy as np
import pytest
from test_emulator_support import dev  # noqa: F401
from vc6_isa.asm import *


@qpu
def copy_lanes(asm):
    eidx(r0, sig=ldunif)  # r5 = lane-order xor
    bxor(r0, r0, r5, sig=ldunif)  # r5 = source address
    shl(r0, r0, 2)
    add(r1, r5, r0, sig=ldunif)  # r1 = source + 4 lane'; r5 = destination address
    add(r2, r5, r0, sig=ldunif)  # r2 = destination + 4 lane'; r5 = lanes taking part
    eidx(r3)
    sub(null, r3, r5, cond="pushn")  # flag A: lane < count
    mov(tmua, r1, cond="ifa")
    nop(sig=ldtmu(r4))
    mov(tmud, r4)
    mov(tmua, r2, cond="ifa")
    tmuwt()
    program_end()


@pytest.mark.parametrize(
    ("low", "swap", "count"),
    [(0, 0, 16), (2, 0, 16), (3, 0, 16), (0, 1, 16), (0, 5, 16), (0, 0, 15), (1, 0, 9), (0, 3, 4)],
)
def test_consecutive_word_lookups_move_the_words_of_the_lane_by_lane_lookup(dev, low, swap, count):
    src = dev.array((64,), np.uint32)
    dst = dev.array((64,), np.uint32)
    src[:] = np.arange(64, dtype=np.uint32) * 0x01010101 + 7
    dst[:] = 0xDEADBEEF
    base_src, base_dst = src.address + 16 + low, dst.address + 32 + low
    job = dev.dispatch(assemble(copy_lanes), [swap, base_src, base_dst, count], workgroups=(1, 1, 1),
                       bos=[src, dst], executor_options={"strict": False})  # fmt: skip
    job.wait()
    want = np.full(64, 0xDEADBEEF, np.uint32)
    for lane in range(count):
        k = lane ^ swap
        want[(base_dst + 4 * k - dst.address) // 4] = src[(base_src + 4 * k - src.address) // 4]
    assert np.array(dst).tolist() == want.tolist()

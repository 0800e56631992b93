"""Port of py-videocore6 tests/test_driver.py (ran on a Pi 4): arrays allocated one after
another in the driver's data area keep their own contents."""

from __future__ import annotations

import itertools

import numpy as np
from hw_support import pi


def test_mem():
    count, offset = 4, 42
    with pi() as drv:
        arrays = [drv.alloc(256 * 1024, dtype=np.uint32) for _ in range(count)]
        for k, a in enumerate(arrays):
            a[:] = np.arange(k, a.size * count, count) + offset  # interleaved sequences
        for k, a in enumerate(arrays):
            assert (a == np.arange(k + offset, a.size * count + offset, count)).all()
        assert all(b.address == a.address + a.nbytes for a, b in itertools.pairwise(arrays))

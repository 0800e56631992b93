"""The BO of a fast-path uniform read (`machine.issue.uniform_region`): over any walk of
addresses, and whatever BO an earlier read left as its hint (ts T_UNIF_BO), the one
`memory.find_region` finds (or none), so that reads, faults and their addresses stay those of
the general path."""

from __future__ import annotations

import numpy as np
import pytest
from vc6_isa.emulator import layout as L
from vc6_isa.emulator.machine import issue, memory

# BOs at 0 (the hint a thread starts with), adjacent ones, one word, one too small for a
# word, one whose end passes the next base, a gap, the last one
BASES = np.array([0, 0x1000, 0x1100, 0x1104, 0x1200, 0x1240, 0x3000], np.int64)
SIZES = np.array([0x40, 0x100, 4, 3, 0x80, 0x800, 0x40], np.int64)


def _addresses(rng):
    """Streams of consecutive words from random starts near the BOs' edges, and lone jumps."""
    edges = np.concatenate([BASES, BASES + SIZES, [0x2000, 0x4000]])
    for _ in range(400):
        start = int(rng.choice(edges)) + int(rng.integers(-12, 13))
        for k in range(int(rng.integers(1, 24))):
            yield max(0, start + 4 * k)
        if rng.random() < 0.3:
            yield int(rng.integers(0, 0x4000))


def _plain(func):
    """The Python function of a compiled one (VC6_NO_JIT=1: it is one already)."""
    return getattr(func, "py_func", func)


@pytest.mark.parametrize("seed", range(3))
def test_uniform_region_is_the_search(monkeypatch, seed):
    # as plain Python (the compiled copies are the same source)
    monkeypatch.setattr(issue, "find_region", _plain(memory.find_region))
    uniform_region = _plain(issue.uniform_region)
    ts = np.zeros((2, L.T_NCOLS), np.int64)
    slot = 1
    hits = 0
    for addr in _addresses(np.random.default_rng(seed)):
        hint = ts[slot, L.T_UNIF_BO]
        got = uniform_region(slot, addr, ts, BASES, SIZES)
        assert got == issue.find_region(addr, 4, BASES, SIZES), hex(addr)
        hits += got == hint
    assert hits > 1000  # the hint was the answer for most reads
    assert not ts[0].any()  # another thread's columns untouched

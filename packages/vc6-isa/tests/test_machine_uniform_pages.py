"""The uniform streams read memory as at the start of the job (`machine.memory.load_uniform`),
whatever the TMU wrote since (`memory.store`, which copies a page aside before its first write):
over random writes of 1, 2 and 4 bytes, many across a page boundary, every word reads as before
the job, and only the pages written are flagged as copied."""

from __future__ import annotations

import numpy as np
import pytest
from vc6_isa.emulator import layout as L
from vc6_isa.emulator.machine import memory

PAGE = 1 << L.UNIFORM_PAGE_SHIFT
# GPU addresses and sizes: a BO of three pages and a bit, a small one, one never written
BASES = np.array([0x10000, 0x20000, 0x30000], np.int64)
SIZES = np.array([3 * PAGE + 12, 100, 2 * PAGE], np.int64)
WRITTEN = (0, 1)


def _job(rng):
    """The BOs' bytes (random), their copies and page flags, and `hosts` as the executor
    builds it (the addresses of the three parts)."""
    mem = [rng.integers(0, 256, int(n), np.uint8) for n in SIZES]
    copies = [np.empty(a.size, np.uint8) for a in mem]
    flags = [np.zeros((a.size >> L.UNIFORM_PAGE_SHIFT) + 1, np.uint8) for a in mem]
    regions = mem + copies + flags
    hosts = np.array([a.ctypes.data for a in regions], np.int64)
    return mem, flags, regions, hosts


def _word(data, off):
    return int.from_bytes(bytes(data[off:off + 4]), "little")


@pytest.mark.parametrize("seed", range(3))
def test_uniform_reads_see_the_job_start(seed):
    rng = np.random.default_rng(seed)
    mem, flags, regions, hosts = _job(rng)
    before = [a.copy() for a in mem]
    n = len(mem)
    written = [set() for _ in mem]  # pages written so far, per BO
    for _ in range(300):
        r = int(rng.choice(WRITTEN))
        size = int(rng.choice([1, 2, 4]))
        if rng.random() < 0.3 and SIZES[r] > PAGE:
            off = PAGE * int(rng.integers(1, SIZES[r] // PAGE + 1)) - int(rng.integers(1, size + 1))
        else:
            off = int(rng.integers(0, SIZES[r] - size + 1))
        off = min(off, int(SIZES[r]) - size)
        value = int(rng.integers(0, 1 << 32))
        assert memory.store(BASES[r] + off, size, value, hosts, BASES, SIZES)
        assert int.from_bytes(bytes(mem[r][off:off + size]), "little") == value & ((1 << (8 * size)) - 1)
        written[r].update({off // PAGE, (off + size - 1) // PAGE})
        for _ in range(8):
            b = int(rng.integers(0, n))
            off = int(rng.integers(0, SIZES[b] - 3))
            assert memory.load_uniform(BASES[b] + off, hosts, BASES, SIZES) == _word(before[b], off)
    for b in range(n):
        assert set(np.flatnonzero(flags[b])) == written[b], b
    assert not all(np.array_equal(a, b) for a, b in zip(mem, before))  # the writes landed
    del regions

"""The memory model's calendars (`machine.memory_model.cal_book`): the pointers over used-up
buckets must leave every booking where the plain bucket-by-bucket walk puts it. Its L2T
(`machine.memory_model.l2_access`): the sets kept in order of last use must hit and miss as
least-recently-used replacement by last-use stamps does."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from vc6_isa.emulator import CycleModel
from vc6_isa.emulator import layout as L
from vc6_isa.emulator.executor import _memory_model_state
from vc6_isa.emulator.machine import memory_model
from vc6_isa.emulator.machine.memory_model import l2_access


def _walk(cap, base, t, demand, bsz, n):
    """The calendar booking without pointers: bucket by bucket from `t`'s (reference).
    `cap`: one resource's n capacities (slot = bucket mod n); `base`: [first bucket held]."""
    b = max(t // bsz, base[0])
    rem = float(demand)
    while True:
        if b >= base[0] + n:
            newbase = b - n + 1
            for k in range(base[0], min(newbase, base[0] + n)):
                cap[k % n] = bsz
            base[0] = newbase
        i = b % n
        start = b * bsz + (bsz - cap[i])
        usable = cap[i]
        if start < t:
            start = float(t)
            usable = min(usable, (b + 1) * bsz - t)
        if usable >= rem:
            cap[i] -= rem
            return int(start + rem + 0.999999)
        if usable > 0:
            cap[i] -= usable
            rem -= usable
        b += 1


@pytest.mark.parametrize("book", ["cal_book", "cal_book_first"])
@pytest.mark.parametrize("bucket, buckets", [(16, 32), (10, 12)])  # powers of two, and not
def test_bookings_land_where_the_bucket_by_bucket_walk_puts_them(bucket, buckets, book):
    cm = dataclasses.replace(CycleModel(), calendar_bucket_cycles=bucket, calendar_buckets=buckets)
    jp = np.zeros(L.J_NCOLS, np.int64)
    fp = _memory_model_state(cm, 8, jp)
    nres = 3
    caps = [np.full(buckets, float(bucket)) for _ in range(nres)]
    bases = [[0] for _ in range(nres)]
    rng = np.random.default_rng(3)
    clocks = np.zeros(8, np.int64)  # 8 QPUs out of step, as the scheduler runs them
    for _ in range(20000):
        q = int(rng.integers(8))
        clocks[q] += int(rng.integers(0, 12))
        res = int(rng.integers(nres))
        demand = float(rng.choice([4.0, 8.49, 16.0, 33.95, 0.25]))
        got = getattr(memory_model, book)(fp, jp, res, int(clocks[q]), demand)
        want = _walk(caps[res], bases[res], int(clocks[q]), demand, bucket, buckets)
        assert got == want
        off = int(jp[L.J_F_CAL]) + res * buckets
        assert np.array_equal(fp[off : off + buckets], caps[res])
        assert fp[L.F_CAL_BASE + res] == bases[res][0]


# demands that leave capacities with low bits which `b * bsz + (bsz - cap)` rounds away at large
# modelled times (13 - 2^-40 leaves 3 + 2^-40: the free part then starts at `t` = 13 into the
# bucket, 2^-40 before it exactly, and a booking of 3 + 2^-41 fits only by the rounded start,
# which `cal_book_first`'s bound refuses and leaves to the loop), inexact decimals, whole buckets
EDGE_DEMANDS = [13.0 - 2.0**-40, 3.0 + 2.0**-41, 2.0**-40, 0.1, 0.3, 15.999999, 4.0, 16.0, 24.5, 64 * 0.1234567]


@pytest.mark.parametrize("book", ["cal_book", "cal_book_first"])
@pytest.mark.parametrize("seed", range(2))
def test_edge_bookings_land_where_the_walk_puts_them(book, seed):
    # bookings in the same bucket as the last (clocks that stay put or step by less than a
    # bucket), at bucket boundaries, and jumps past the window; floats compared to the last bit
    bucket, buckets = 16, 32
    cm = dataclasses.replace(CycleModel(), calendar_bucket_cycles=bucket, calendar_buckets=buckets)
    jp = np.zeros(L.J_NCOLS, np.int64)
    fp = _memory_model_state(cm, 8, jp)
    caps = [np.full(buckets, float(bucket)) for _ in range(2)]
    bases = [[0] for _ in range(2)]
    rng = np.random.default_rng(seed)
    clocks = np.full(4, 1 << 32, np.int64)  # float64 holds a bucket's start to 2^-20 here
    fn = getattr(memory_model, book)
    t0 = int(clocks[0])
    for t, demand in [(t0, 13.0 - 2.0**-40), (t0 + 13, 3.0 + 2.0**-41)]:  # the rounding case above
        assert fn(fp, jp, 0, t, demand) == _walk(caps[0], bases[0], t, demand, bucket, buckets)
    off = int(jp[L.J_F_CAL])
    assert np.array_equal(fp[off : off + buckets], caps[0])
    for _ in range(20000):
        q = int(rng.integers(4))
        step = rng.random()
        if step < 0.4:
            pass
        elif step < 0.7:
            clocks[q] += int(rng.integers(0, 4))
        elif step < 0.95:
            clocks[q] = (clocks[q] // bucket + int(rng.integers(0, 2))) * bucket + int(rng.choice([0, 13, 15]))
        else:
            clocks[q] += int(rng.integers(bucket * buckets // 2, 2 * bucket * buckets))
        res = int(rng.integers(2))
        demand = float(rng.choice(EDGE_DEMANDS))
        got = fn(fp, jp, res, int(clocks[q]), demand)
        want = _walk(caps[res], bases[res], int(clocks[q]), demand, bucket, buckets)
        assert got == want
        off = int(jp[L.J_F_CAL]) + res * buckets
        assert np.array_equal(fp[off : off + buckets], caps[res])


def _stamped_lru(tags, stamps, clock, line, ways):
    """L2T with last-use stamps (reference): True on a hit; a miss replaces the way with the
    oldest stamp, the first of equals (never-used ways: stamp 0). `tags`/`stamps`: one set's."""
    clock[0] += 1
    for w in range(ways):
        if tags[w] == line:
            stamps[w] = clock[0]
            return True
    victim = min(range(ways), key=lambda w: (stamps[w], w))
    tags[victim] = line
    stamps[victim] = clock[0]
    return False


def test_l2t_hits_and_misses_as_stamped_lru():
    ways, sets = 4, 8
    cm = dataclasses.replace(CycleModel(), l2_ways=ways, l2_bytes=sets * ways * CycleModel().line_bytes)
    jp = np.zeros(L.J_NCOLS, np.int64)
    fp = _memory_model_state(cm, 8, jp)
    assert jp[L.J_L2_SETS] == sets
    ref = {}  # set index -> (tags, stamps)
    clock = [0]
    rng = np.random.default_rng(5)
    hits = 0
    for k in range(20000):
        # a drifting window of lines: reuse at every distance, so each way position gets hits
        line = int(rng.integers(k // 50, k // 50 + 60))
        s = (line ^ (line >> 7) ^ (line >> 14)) & (sets - 1)
        tags, stamps = ref.setdefault(s, ([-1] * ways, [0] * ways))
        want = _stamped_lru(tags, stamps, clock, line, ways)
        assert l2_access(fp, jp, line) == want
        hits += want
        off = int(jp[L.J_F_L2]) + s * ways
        assert sorted(fp[off : off + ways]) == sorted(float(t) for t in tags)
    assert 0.2 < hits / 20000 < 0.9  # the stream exercises both hits and replacements

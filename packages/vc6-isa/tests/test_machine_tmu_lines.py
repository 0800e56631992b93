"""The cache lines of a TMU lookup (`machine.tmu.count_lines`): the distinct lines of the active
lanes' addresses, each looked up in L2T once, in the order of the lanes that first touch them
(the L2T model's LRU state depends on that order), whatever shortcut finds them."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from vc6_isa.emulator import layout as L
from vc6_isa.emulator.machine import tmu

SHIFT = 6  # 64-byte lines


def _lines_in_lookup_order(addrs, act, reads, monkeypatch):
    """(nlines, misses, lines looked up in L2T) from `count_lines` run as plain Python (the
    compiled copy is the same source), with an L2T that records its lookups and misses on odd
    lines."""
    looked_up = []

    def l2_access(fp, jp, line):
        looked_up.append(int(line))
        return line % 2 == 0

    monkeypatch.setattr(tmu, "l2_access", l2_access)
    monkeypatch.setattr(tmu, "line_seen", getattr(tmu.line_seen, "py_func", tmu.line_seen))
    slot = 1
    m = SimpleNamespace(
        lanes=np.zeros((2, L.L_NROWS, 16), np.uint32),
        fp=np.zeros(1),
        jp=np.zeros(L.J_LINE_SHIFT + 1, np.int64),
    )
    m.jp[L.J_LINE_SHIFT] = SHIFT
    sc = np.zeros((2, 16), np.uint32)
    sc[0] = addrs
    m.lanes[slot, L.L_ACT] = act
    on = [int(a) for a, a_on in zip(addrs, act) if a_on]
    span = (len(on), min(on, default=0), max(on, default=0), 0)  # as lanes.active_lanes: count, min, max
    count_lines = getattr(tmu.count_lines, "py_func", tmu.count_lines)
    nlines, misses = count_lines(m, slot, sc, 0, reads, span)
    return nlines, misses, looked_up


def _patterns():
    rng = np.random.default_rng(8)
    lane = np.arange(16)
    yield lane * 64  # a gather of 16 lines, rising
    yield (15 - lane) * 64 + 4  # falling
    yield np.minimum(lane, 9) * 4096  # clamped columns: the last line repeats
    yield (lane % 4) * 128 + (lane // 4) * 4  # 4 lines, revisited
    yield lane * 4  # one line
    yield lane * 4 + 32  # two lines
    for _ in range(200):
        span = int(rng.choice([2, 5, 40, 4000]))
        yield rng.integers(0, span, 16) * 64 + rng.integers(0, 64, 16)
    for _ in range(50):  # mostly monotonic, with a few steps back
        yield np.maximum(0, 640 + np.cumsum(rng.choice([64, 128, -64, 0], 16)))


@pytest.mark.parametrize("reads", [True, False])
def test_count_lines_finds_the_distinct_lines_in_first_touch_order(reads, monkeypatch):
    rng = np.random.default_rng(13)
    for addrs in _patterns():
        act = (rng.random(16) < 0.8).astype(np.uint32)
        lines = [int(a) >> SHIFT for a, on in zip(addrs, act) if on]
        want = list(dict.fromkeys(lines))  # first-touch order
        nlines, misses, looked_up = _lines_in_lookup_order(np.asarray(addrs, np.uint32), act, reads, monkeypatch)
        assert nlines == len(want)
        if reads:
            assert looked_up == want
            assert misses == sum(line % 2 for line in want)
        else:
            assert looked_up == [] and misses == 0

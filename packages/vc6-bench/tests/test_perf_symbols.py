"""benchmarks/perf_symbols.py `--annotate`: each profile sample lands at its offset in the one
dumped function whose bytes hold it, and samples outside every dumped function are left out.

Issue 13's profiles are read as shares of these counts, per instruction and per function, so a
sample counted in the wrong function (or at the first byte past one) would move a piece's share.
"""

from __future__ import annotations

import pytest
from benchmark_scripts import load_script


@pytest.fixture(scope="module")
def perf_symbols():
    return load_script("perf_symbols")


def test_samples_land_at_their_offset_in_their_function(perf_symbols):
    index = [(0x1000, 0x10, "run"), (0x1010, 0x20, "tmu_lookup"), (0x2000, 0x8, "add_alu")]
    ips = [0x1000, 0x100F, 0x100F, 0x1010, 0x102F, 0x2004]
    placed = perf_symbols.place_samples(index, ips)
    assert placed[0x1000] == {0x0: 1, 0xF: 2}
    assert placed[0x1010] == {0x0: 1, 0x1F: 1}  # 0x1010 is tmu_lookup's first byte, not run's
    assert placed[0x2000] == {0x4: 1}


def test_samples_outside_every_function_are_left_out(perf_symbols):
    index = [(0x1000, 0x10, "run"), (0x2000, 0x8, "add_alu")]
    placed = perf_symbols.place_samples(index, [0xFFF, 0x1010, 0x1FFF, 0x2008, 0x1008])
    assert placed[0x1000] == {0x8: 1}
    assert sum(placed[0x2000].values()) == 0

"""benchmarks/emulator_speed.py `--pairs`: the summary's arithmetic on fixed figures; `--at-once`: both trees warmed first.

The lead reads these medians, ratios and win counts instead of computing them by hand from 8-14
runs, so each is checked against figures worked out here: an odd and an even number of pairs, a
rate (higher is faster) and seconds (lower is faster), and a ratio median that differs from the
ratio of the medians.
"""

from __future__ import annotations

import pytest
from benchmark_scripts import load_script


@pytest.fixture(scope="module")
def speed():
    return load_script("emulator_speed")


def test_rates_odd_number_of_pairs(speed):
    # ratios 40/30, 36/40, 39/30 = 1.333, 0.9, 1.3: median 1.3; the wins count only the pairs where
    # this tree's rate is higher.
    fig = speed.summarize([40.0, 36.0, 39.0], [30.0, 40.0, 30.0], "M/s")
    assert fig["this_tree"] == {"median": 39.0, "min": 36.0, "max": 40.0, "values": [40.0, 36.0, 39.0]}
    assert fig["against"]["median"] == 30.0
    assert (fig["against"]["min"], fig["against"]["max"]) == (30.0, 40.0)
    assert fig["ratio_median"] == pytest.approx(1.3)
    assert (fig["faster"], fig["pairs"]) == (2, 3)


def test_ratio_median_is_not_the_ratio_of_medians(speed):
    # ratios 2.0, 1.0, 0.5, 1.5: median (1.0 + 1.5) / 2 = 1.25, while both medians are 3.5 (ratio 1).
    fig = speed.summarize([2.0, 3.0, 4.0, 6.0], [1.0, 3.0, 8.0, 4.0], "M/s")
    assert fig["ratio_median"] == pytest.approx(1.25)
    assert fig["this_tree"]["median"] == pytest.approx(3.5)
    assert fig["against"]["median"] == pytest.approx(3.5)
    assert fig["faster"] == 2  # 2 > 1 and 6 > 4; 3 == 3 is no win


def test_seconds_are_faster_when_lower(speed):
    # ratios 0.778, 1.033, 0.744: median 2.8 / 3.6; faster (fewer seconds) in the first and last pair.
    fig = speed.summarize([2.8, 3.1, 2.9], [3.6, 3.0, 3.9], "s")
    assert fig["faster"] == 2
    assert fig["ratio_median"] == pytest.approx(2.8 / 3.6)


def test_pairs_must_match(speed):
    with pytest.raises(ValueError):
        speed.summarize([1.0, 2.0], [1.0], "M/s")


def test_at_once_warms_both_trees_before_measuring(speed, monkeypatch, tmp_path):
    # `--at-once` without `--pairs`: both trees get their tiny warm-up run, one after the other,
    # before the two measuring processes start together (a tree with an empty numba cache would
    # otherwise compile its machine inside the measurement).
    events = []

    def fake_run(cmd, env=None, **kwargs):
        events.append(("warm", env.get("NUMBA_CACHE_DIR", "")))

    class FakePopen:
        def __init__(self, cmd, env=None, **kwargs):
            events.append(("measure", (env or {}).get("NUMBA_CACHE_DIR", "")))
            self.stdout = iter(["figure 1\n"])

        def wait(self):
            return 0

    monkeypatch.setattr(speed.subprocess, "run", fake_run)
    monkeypatch.setattr(speed.subprocess, "Popen", FakePopen)
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    speed.side_by_side_at_once(["--no-cold"], str(tmp_path))
    kinds = [kind for kind, _ in events]
    assert kinds == ["warm", "warm", "measure", "measure"]
    assert {cache for _, cache in events[:2]} == {str(tmp_path / ".numba-cache"), ""}

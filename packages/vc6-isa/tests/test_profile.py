# ruff: noqa: B018  (DSL labels are expressions)
"""The profiler: totals equal the job's stats, profiling does not change the modelled cycles,
and the views (annotated listing, trace-event timeline) are well formed."""

import itertools
import json

import numpy as np
import pytest
import v3d_drm
from vc6_isa.asm import *
from vc6_isa.emulator.profile import (
    STALL_CAUSES,
    TIMELINE_STATES,
    annotate,
    loops,
    trace_events,
)


@qpu
def summation(asm, iterations):
    """Each lane sums `iterations` words read through the TMU, one load in flight."""
    eidx(r0, sig=ldunif)  # r5 = address
    shl(r0, r0, 2)
    add(rf[1], r5, r0, sig=ldunif)  # r5 = iterations
    mov(rf[2], r5)
    mov(rf[3], 0)
    mov(rf[4], 1)
    shl(rf[4], rf[4], 6)  # 64 bytes: the next 16 words
    L.loop
    mov(tmua, rf[1])
    add(rf[1], rf[1], rf[4])
    sub(rf[2], rf[2], 1, cond="pushz")
    nop(sig=ldtmu(r1))
    b(R.loop, cond="na0")
    add(rf[3], rf[3], r1)
    nop()
    nop()
    program_end()


def _run(dev, profile, n=8):
    src = dev.array((16 * n * 8,), np.uint32)
    src[:] = np.arange(src.size)
    prog = assemble(summation, iterations=n)
    job = dev.dispatch(prog, [src.address, n], workgroups=(8, 1, 1), bos=[src],
                       executor_options={"profile": profile})
    job.wait()
    return job


@pytest.fixture(scope="module")
def dev():
    with v3d_drm.open("emulator") as d:
        yield d


def test_profile_totals_equal_the_stats(dev):
    job = _run(dev, True)
    p, st = job.profile, job.stats
    assert p is not None and p.cycles == st.cycles
    assert int(p.executions.sum()) == st.thread_instructions
    assert int(p.tmu_requests.sum()) == st.tmu_requests
    assert int(p.stalls[:, STALL_CAUSES.index("tmu")].sum()) == st.tmu_stall_cycles
    assert int(p.issue_cycles.sum()) == int(p.qpu_busy.sum())
    assert int(p.stalls[:, STALL_CAUSES.index("switched")].sum()) == int(p.qpu_idle.sum())
    # every modelled cycle of every QPU is charged to exactly one pc
    assert int(p.pc_cycles.sum()) == int(p.qpu_end.sum())
    assert int(p.qpu_end.max()) == st.cycles
    assert len(p.disassembly) == len(p.executions)


def test_profiling_changes_no_modelled_figure(dev):
    on, off = _run(dev, True), _run(dev, False)
    assert off.profile is None
    for name in ("cycles", "thread_instructions", "tmu_requests", "tmu_stall_cycles", "alu_utilisation"):
        assert getattr(on.stats, name) == getattr(off.stats, name), name


def test_annotate_marks_the_loop_and_the_hot_lines(dev):
    p = _run(dev, True).profile
    text = annotate(p)
    first, last = loops(p.disassembly)[0]
    assert p.disassembly[last - 3].startswith("b.na0")
    assert "┌ loop 0" in text and f"branch back to pc {first}" in text
    hottest = int(np.argmax(p.pc_cycles))
    assert f"pc {hottest:4d}" in text.split("\n\n")[0]
    assert all(p.executions[first:last + 1] == p.executions[first])  # the body runs as often


def test_trace_events_are_well_formed(dev):
    p = _run(dev, True).profile
    doc = json.loads(json.dumps(trace_events(p)))
    tracks: dict = {}
    for ev in doc["traceEvents"]:
        assert {"name", "ph", "pid", "tid"} <= ev.keys()
        if ev["ph"] == "X":
            assert ev["dur"] > 0 and ev["ts"] >= 0
            tracks.setdefault((ev["pid"], ev["tid"]), []).append((ev["ts"], ev["ts"] + ev["dur"]))
    assert len(tracks) == len(p.qpu_end)
    for (q, _), spans in tracks.items():
        spans.sort()
        assert all(a[1] <= b[0] + 1e-9 for a, b in itertools.pairwise(spans))  # no overlap
        assert spans[-1][1] == pytest.approx(p.qpu_end[q] / p.clock_mhz)  # they tile the QPU's time
    assert p.timeline_dropped == 0
    for q in range(len(p.qpu_end)):
        rows = p.timeline[p.timeline[:, 0] == q]
        assert rows[0, 2] == 0 and rows[-1, 3] == p.qpu_end[q]
        assert (rows[1:, 2] == rows[:-1, 3]).all()  # contiguous: every cycle in exactly one slice
        busy = rows[rows[:, 1] == TIMELINE_STATES.index("issuing")]
        assert int((busy[:, 3] - busy[:, 2]).sum()) == p.qpu_busy[q]
        tmu = rows[rows[:, 1] == TIMELINE_STATES.index("waiting TMU")]
        assert int((tmu[:, 3] - tmu[:, 2]).sum()) == p.qpu_tmu_stall[q]

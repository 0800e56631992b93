# ruff: noqa: B018  (DSL labels are expressions)
"""The profiler: totals equal the job's stats, profiling does not change the modelled cycles,
every QPU's and thread's timeline track tiles its time, TMU lookups pair with their ldtmu, and
the views (annotated listing, trace-event timeline) are well formed."""

import itertools
import json

import jsonschema
import numpy as np
import pytest
import v3d_drm
from vc6_isa import cases
from vc6_isa.asm import *
from vc6_isa.emulator import layout
from vc6_isa.emulator.profile import (
    STALL_CAUSES,
    TIMELINE_STATES,
    TRACE_EVENT_SCHEMA,
    annotate,
    bytes_in_flight,
    loops,
    trace_events,
    trace_ids,
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


@qpu
def prefetch(asm, depth):
    """Each lane sums 16-word blocks with `depth` loads in flight (the summation recipe's loop);
    batch w reads blocks w, w + 8, ... (all different lines: nothing for L2T to catch)."""
    shl(r1, rf[0], 6)  # payload: 64 * workgroup id
    eidx(r0, sig=ldunif)
    shl(r0, r0, 2)
    add(r0, r0, r1)
    add(rf[1], r5, r0, sig=ldunif)
    sub(rf[2], r5, depth)
    mov(rf[3], 0)
    mov(rf[4], 1)
    shl(rf[4], rf[4], 9)  # 8 blocks of 64 bytes
    for _ in range(depth):
        mov(tmua, rf[1])
        add(rf[1], rf[1], rf[4])
    L.loop
    sub(rf[2], rf[2], 1, cond="pushz")
    nop(sig=ldtmu(r1))
    mov(tmua, rf[1])
    b(R.loop, cond="na0")
    add(rf[3], rf[3], r1)
    add(rf[1], rf[1], rf[4])
    nop()
    for _ in range(depth):
        nop(sig=ldtmu(r1))
        add(rf[3], rf[3], r1)
    program_end()


def _prefetch(dev, depth, n=48):
    src = dev.array((16 * n * 8,), np.uint32)
    job = dev.dispatch(assemble(prefetch, depth=depth), [src.address, n], workgroups=(8, 1, 1), bos=[src],
                       executor_options={"profile": True})
    job.wait()
    return job


def _case(dev, name):
    return cases.run_case(dev, cases.CASES[name], executor_options={"profile": True}).job


@pytest.fixture(scope="module")
def jobs(dev):
    """Profiled jobs that reach every stall cause the model charges and every timeline state."""
    return {
        "one load in flight": _run(dev, True),
        "depth 8, 8 QPUs (bus-bound)": _prefetch(dev, 8),
        "barrier": _case(dev, "barrier.supergroup"),
        "4 threads, switching": _case(dev, "thread.four_threads_switches"),
    }


def _check_totals(job):
    p, st = job.profile, job.stats
    cause = {c: int(p.stalls[:, n].sum()) for n, c in enumerate(STALL_CAUSES)}
    assert p is not None and p.cycles == st.cycles
    assert int(p.executions.sum()) == st.thread_instructions
    assert int(p.tmu_requests.sum()) == st.tmu_requests
    assert int(p.sfu_operations.sum()) == st.sfu_operations
    assert cause["tmu"] + cause["roof"] + cause["unifa"] == st.tmu_stall_cycles
    assert int(p.issue_cycles.sum()) == int(p.qpu_busy.sum())
    assert cause["switched"] + cause["barrier"] == int(p.qpu_idle.sum())
    # every modelled cycle of every QPU is charged to exactly one pc
    assert int(p.pc_cycles.sum()) == int(p.qpu_end.sum())
    assert int(p.qpu_end.max()) == st.cycles
    assert len(p.disassembly) == len(p.executions)
    assert p.lookups_dropped == 0 and len(p.lookups) == st.tmu_requests
    assert int(p.lookups[:, layout.LK_BYTES].sum()) == st.tmu_bytes


def test_profile_totals_equal_the_stats_exactly(jobs):
    for name, job in jobs.items():
        try:
            _check_totals(job)
        except AssertionError as exc:
            raise AssertionError(f"{name}: {exc}") from exc


def test_each_cause_is_charged_where_the_model_charges_it(jobs):
    def total(name, cause):
        return int(jobs[name].profile.stalls[:, STALL_CAUSES.index(cause)].sum())

    assert total("one load in flight", "tmu") > 0 and total("one load in flight", "roof") == 0
    assert total("depth 8, 8 QPUs (bus-bound)", "roof") > 0  # eight QPUs saturate the read bus
    assert total("barrier", "barrier") > 0  # batches on other QPUs arrive later
    assert total("4 threads, switching", "barrier") == 0
    p = jobs["barrier"].profile
    barrier_pc = next(pc for pc, t in enumerate(p.disassembly) if "syncb" in t)
    # charged to the instruction that resumed after the barrier: the one after its delay slots
    assert p.stalls[barrier_pc + 3, STALL_CAUSES.index("barrier")] == total("barrier", "barrier")


def _tracks(p):
    for track in sorted(set(p.timeline[:, 0].tolist())):
        yield track, p.timeline[p.timeline[:, 0] == track]


def test_every_qpu_and_thread_track_tiles_its_time(jobs):
    for name, job in jobs.items():
        p = job.profile
        assert p.timeline_dropped == 0
        seen_threads = 0
        for track, rows in _tracks(p):
            q, t = p.track_name(track)
            assert rows[0, 2] == 0 and rows[-1, 3] == p.qpu_end[q], (name, q, t)
            assert (rows[1:, 2] == rows[:-1, 3]).all(), (name, q, t)  # contiguous, no overlap
            assert (rows[:, 3] > rows[:, 2]).all()
            seen_threads += t >= 0
        assert seen_threads == len(p.qpu_end[p.qpu_end > 0]) * p.threads, name


def test_thread_tracks_add_up_to_their_qpu(jobs):
    issuing = TIMELINE_STATES.index("issuing")
    for name, job in jobs.items():
        p = job.profile
        busy = np.zeros(len(p.qpu_end), np.int64)
        states = {}
        for track, rows in _tracks(p):
            q, t = p.track_name(track)
            spans = rows[:, 3] - rows[:, 2]
            if t >= 0:
                busy[q] += spans[rows[:, 1] == issuing].sum()
            for state, span in zip(rows[:, 1].tolist(), spans.tolist(), strict=True):
                states[(q, t >= 0, state)] = states.get((q, t >= 0, state), 0) + span
        assert (busy == p.qpu_busy).all(), name  # one thread issues at a time
        for q in range(len(p.qpu_end)):
            assert states.get((q, False, issuing), 0) == p.qpu_busy[q]
            tmu = sum(states.get((q, False, TIMELINE_STATES.index(s)), 0)
                      for s in ("waiting TMU", "waiting memory roof", "waiting unifa"))
            assert tmu == p.qpu_tmu_stall[q], name
            idle = sum(states.get((q, False, TIMELINE_STATES.index(s)), 0) for s in ("no runnable thread", "at barrier"))
            assert idle == p.qpu_idle[q], name


def test_thread_states_show_switches_barriers_and_empty_slots(jobs):
    def thread_states(job):
        p = job.profile
        return {TIMELINE_STATES[s] for track, s, _, _ in p.timeline.tolist() if p.track_name(track)[1] >= 0}

    assert {"switched out", "idle", "issuing"} <= thread_states(jobs["4 threads, switching"])
    assert "at barrier" in thread_states(jobs["barrier"])
    assert "waiting memory roof" in thread_states(jobs["depth 8, 8 QPUs (bus-bound)"])


def test_lookups_pair_with_the_ldtmu_that_pops_them(jobs):
    p = jobs["depth 8, 8 QPUs (bus-bound)"].profile
    lk = p.lookups
    assert (lk[:, layout.LK_READY] >= lk[:, layout.LK_READY_IDLE]).all()
    assert (lk[:, layout.LK_READY_IDLE] > lk[:, layout.LK_ISSUE_T]).all()
    reads = lk[lk[:, layout.LK_WRITE] == 0]
    assert (reads[:, layout.LK_POP_PC] >= 0).all()  # every load was popped
    assert (reads[:, layout.LK_POP_T] > reads[:, layout.LK_ISSUE_T]).all()
    assert all("ldtmu" in p.disassembly[pc] for pc in reads[:, layout.LK_POP_PC].tolist())
    assert all("tmua" in p.disassembly[pc] for pc in lk[:, layout.LK_PC].tolist())
    # the barrier case's stores are writes, never popped
    w = jobs["barrier"].profile.lookups
    assert (w[w[:, layout.LK_WRITE] == 1, layout.LK_POP_PC] == -1).all() and (w[:, layout.LK_WRITE] == 1).any()


def test_bytes_in_flight_rise_and_fall_to_zero(jobs):
    for name, job in jobs.items():
        rows = bytes_in_flight(job.profile)
        assert rows, name
        for q, series in itertools.groupby(rows, key=lambda r: r[0]):
            series = list(series)
            assert all(v >= 0 for _, _, v in series) and series[-1][2] == 0, (name, q)
            assert [t for _, t, _ in series] == sorted({t for _, t, _ in series})


def test_trace_json_follows_the_trace_event_format(jobs):
    for name, job in jobs.items():
        doc = json.loads(json.dumps(trace_events(job.profile)))
        jsonschema.validate(doc, TRACE_EVENT_SCHEMA)
        flows: dict = {}
        slices: dict = {}
        for ev in doc["traceEvents"]:
            if ev["ph"] in "sf":
                flows.setdefault(ev["id"], {})[ev["ph"]] = ev
            if ev["ph"] == "X":
                slices.setdefault((ev["pid"], ev["tid"]), []).append((ev["ts"], ev["ts"] + ev["dur"]))
        p = job.profile
        assert len(flows) == int((p.lookups[:, layout.LK_POP_PC] >= 0).sum()), name
        for pair in flows.values():
            s, f = pair["s"], pair["f"]
            assert (s["pid"], s["tid"]) == (f["pid"], f["tid"]) and s["ts"] < f["ts"]
            for ev in (s, f):  # each end lies inside a slice of its thread's track
                spans = slices[(ev["pid"], ev["tid"])]
                assert any(a < ev["ts"] < b for a, b in spans)
        assert len(slices) == len(set(p.timeline[:, 0].tolist())), name
        for spans in slices.values():
            spans.sort()
            assert all(a[1] <= b[0] + 1e-9 for a, b in itertools.pairwise(spans))


def test_trace_schema_rejects_what_perfetto_would_not_read():
    good = {"traceEvents": [{"name": "issuing", "ph": "X", "pid": 1, "tid": 101, "ts": 0.0, "dur": 1.0}]}
    jsonschema.validate(good, TRACE_EVENT_SCHEMA)
    for bad in ({"name": "issuing", "ph": "X", "pid": 1, "tid": 101, "ts": 0.0},  # no dur
                {"name": "issuing", "ph": "X", "pid": 0, "tid": 1, "ts": 0.0, "dur": 1.0},  # Perfetto: idle process
                {"name": "TMU lookup", "ph": "f", "pid": 1, "tid": 101, "ts": 1.0, "id": 1},  # no binding point
                {"name": "TMU lookup", "ph": "s", "pid": 1, "tid": 101, "ts": 1.0, "id": "j1"},  # Perfetto: hex digits
                {"name": "TMU bytes in flight", "ph": "C", "pid": 1, "tid": 100, "ts": 1.0, "args": {"bytes": "64"}}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({"traceEvents": [bad]}, TRACE_EVENT_SCHEMA)


def test_trace_ids_give_every_track_its_own_tid():
    ids = [trace_ids(q, t) for q in range(8) for t in range(-1, 4)]
    assert len({tid for _, tid in ids}) == len(ids) and min(pid for pid, _ in ids) == 1
    assert all(tid // 100 == pid for pid, tid in ids)


#: The modelled figures of a job, for comparing two runs of it.
FIGURES = ("cycles", "thread_instructions", "alu_utilisation", "tmu_requests", "tmu_bytes", "tmu_stall_cycles",
           "batches", "sfu_operations")


def test_profiling_changes_no_modelled_figure(dev):
    on, off = _run(dev, True), _run(dev, False)
    assert off.profile is None
    for name in FIGURES:
        assert getattr(on.stats, name) == getattr(off.stats, name), name


@pytest.mark.parametrize("name", sorted(n for n in cases.CASES if not n.startswith("op.")))
def test_stretches_count_what_single_instructions_count(dev, name):
    """The fast path checks once per stretch what a stretch cannot change
    (`machine.issue.fast_run`), and a profiled job issues one instruction per call of it with the
    same scheduling: both give the same modelled figures and the same memory, for every case of
    `vc6_isa.cases` but the one-op ones (ALU, SFU, branches, thread switches, TMU, unifa,
    barriers)."""
    on = cases.run_case(dev, cases.CASES[name], executor_options={"profile": True})
    off = cases.run_case(dev, cases.CASES[name])
    for figure in FIGURES:
        assert getattr(on.job.stats, figure) == getattr(off.job.stats, figure), figure
    assert on.outputs.keys() == off.outputs.keys()
    for buffer in on.outputs:
        np.testing.assert_array_equal(on.outputs[buffer], off.outputs[buffer], err_msg=buffer)


def test_annotate_marks_the_loop_and_the_hot_lines(dev):
    p = _run(dev, True).profile
    text = annotate(p)
    first, last = loops(p.disassembly)[0]
    assert p.disassembly[last - 3].startswith("b.na0")
    assert "┌ loop 0" in text and f"branch back to pc {first}" in text
    hottest = int(np.argmax(p.pc_cycles))
    assert f"pc {hottest:4d}" in text.split("\n\n")[0]
    assert all(p.executions[first:last + 1] == p.executions[first])  # the body runs as often


def test_a_full_timeline_is_cut_short_and_says_so(dev, monkeypatch):
    import vc6_isa.emulator.profile as profile_module

    monkeypatch.setattr(profile_module, "TIMELINE_ROWS", 16)
    monkeypatch.setattr(profile_module, "LOOKUP_ROWS", 4)
    job = _run(dev, True)
    p = job.profile
    assert len(p.lookups) == 4 and p.lookups_dropped == job.stats.tmu_requests - 4
    assert p.timeline_dropped > 0 and len(p.timeline) < 16 + 3 * len(p.qpu_end) * (1 + p.threads)
    assert "timeline incomplete" in annotate(p)
    assert int(p.executions.sum()) == job.stats.thread_instructions  # the per-pc counts stay whole
    jsonschema.validate(trace_events(p), TRACE_EVENT_SCHEMA)

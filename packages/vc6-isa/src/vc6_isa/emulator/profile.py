"""Profiles of emulated jobs (`executor_options={"profile": True}`) and their views.

`Profile` holds what the machine recorded per instruction (layout.PF_*) and per QPU; the views
are functions of it: `annotate` (a listing like `perf annotate`) and `trace_events` (a timeline
in the Chrome trace-event format that Perfetto opens). Every cycle figure is the cycle model's
(modelled, not measured).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import layout as L
from .cycle_model import modelled_label

#: Stall causes, in the order of `Profile.stalls`' columns, with the `layout.PF_*` column each
#: comes from: a TMU result, queue or tmuwt wait (`tmu`), the part of a TMU result or queue wait
#: due to the memory bus being booked by other lookups (`roof`), the unifa stream's line fetch
#: (`unifa`), no runnable thread on the QPU (`switched`), every thread of the QPU at a barrier
#: (`barrier`), anything else (`other`: a thread end waiting for its TMU writes).
STALL_CAUSES = ("tmu", "roof", "unifa", "switched", "barrier", "other")
_PF_OF_CAUSE = (L.PF_TMU_STALL, L.PF_ROOF, L.PF_UNIFA, L.PF_SWITCHED, L.PF_BARRIER, L.PF_OTHER)
#: What the cycle model does not charge, so the profile shows no cycles for it.
NOT_MODELLED = (
    "the model charges no SFU stall (strict mode refuses reading an SFU result early), no "
    "uniform-cache miss for ldunif, and no cost of thread switches and barriers beyond their waits"
)
#: The timeline's states, indexed by `layout.TL_*` (the second column of `Profile.timeline`).
#: A QPU's track uses issuing, the waits, no runnable thread, at barrier and other stall; a
#: thread's track also switched out (alive, not issuing) and idle (no thread in the slot).
TIMELINE_STATES = ("issuing", "waiting TMU", "no runnable thread", "other stall", "switched out",
                   "at barrier", "idle", "waiting memory roof", "waiting unifa")
#: Most timeline slices a profiled job keeps (each track's consecutive instructions in one state
#: make one slice); later ones are counted in `Profile.timeline_dropped`.
TIMELINE_ROWS = 1 << 18
#: Most TMU lookups a profiled job logs; later ones are counted in `Profile.lookups_dropped`.
LOOKUP_ROWS = 1 << 18


def _event(ph: str, required: list[str], extra: dict | None = None) -> dict:
    return {"if": {"properties": {"ph": {"const": ph}}},
            "then": {"required": required, "properties": extra or {}}}


#: JSON Schema (draft 2020-12) of the trace-event documents `trace_events` writes: the JSON Object
#: Format of the Trace Event Format (Google's "Trace Event Format" document, which Perfetto's and
#: chrome://tracing's JSON importers follow) restricted to the phases used here: "X" complete
#: slices, "s"/"f" flow events, "C" counters and "M" metadata, and to what Perfetto's importer
#: (trace_processor's json_trace_parser) reads as meant: integer flow ids (it parses a string id
#: as hexadecimal digits), "f" bound to its enclosing slice (`"bp": "e"`), numeric counter values.
#: Tests check documents against it (`jsonschema`), offline.
TRACE_EVENT_SCHEMA: dict = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["traceEvents"],
    "properties": {
        "displayTimeUnit": {"enum": ["ms", "ns"]},
        "traceEvents": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "ph", "pid", "tid"],
                "properties": {
                    "name": {"type": "string"},
                    "cat": {"type": "string"},
                    "ph": {"enum": ["X", "s", "f", "C", "M"]},
                    "pid": {"type": "integer", "minimum": 1},
                    "tid": {"type": "integer", "minimum": 1},
                    "ts": {"type": "number", "minimum": 0},
                    "args": {"type": "object"},
                },
                "allOf": [
                    _event("X", ["ts", "dur"], {"dur": {"type": "number", "exclusiveMinimum": 0}}),
                    _event("s", ["ts", "id"], {"id": {"type": "integer", "minimum": 0}}),
                    _event("f", ["ts", "id", "bp"], {"id": {"type": "integer", "minimum": 0}, "bp": {"const": "e"}}),
                    _event("C", ["ts", "args"], {"args": {"type": "object", "minProperties": 1,
                                                          "additionalProperties": {"type": "number"}}}),
                    _event("M", ["args"], {"name": {"enum": ["process_name", "process_sort_index", "thread_name",
                                                             "thread_sort_index"]}}),
                ],
            },
        },
    },
}


def profile_arrays(pcs: int, nq: int, nslots: int, on: bool) -> dict[str, np.ndarray]:
    """The machine's profiling arrays (`machine.state.Machine`): sized when `on`, with no rows
    (so the machine skips every profiling step) when not.

    Args:
        pcs: Instructions in the program.
        nq: QPUs.
        nslots: Thread slots (QPUs x threads per QPU).
        on: Whether the job is profiled.

    Returns:
        `prof`, `tl`, `tl_open`, `lk` and `lk_pend`, by name.
    """
    tl_open = np.zeros((nq + nslots, 4), np.int64)
    tl_open[:, L.TLO_GAP] = L.TL_IDLE  # a thread slot is idle until its batch starts
    return {
        "prof": np.zeros((pcs if on else 0, L.PF_NCOLS), np.int64),
        "tl": np.zeros((TIMELINE_ROWS if on else 0, 4), np.int64),
        "tl_open": tl_open,
        "lk": np.zeros((LOOKUP_ROWS if on else 0, L.LK_NCOLS), np.int64),
        "lk_pend": np.full((nslots, L.FIFO_CAP), -1, np.int64),
    }


@dataclass
class Profile:
    """Where the modelled cycles of one emulated job went, per instruction, QPU and thread.

    Attributes:
        disassembly: Mesa-style disassembly of each instruction (index = pc).
        executions: int64 (pcs,): thread-instructions issued at each pc.
        issue_cycles: int64 (pcs,): cycles spent issuing each pc.
        stalls: int64 (pcs, 6): stall cycles charged to each pc by cause (`STALL_CAUSES`).
        tmu_requests: int64 (pcs,): TMU lookups each pc issued.
        sfu_operations: int64 (pcs,): SFU operations each pc started.
        qpu_busy: int64 (QPUs,): cycles each QPU spent issuing.
        qpu_tmu_stall: int64 (QPUs,): cycles each QPU stalled on the TMU or the unifa stream.
        qpu_idle: int64 (QPUs,): cycles each QPU had no runnable thread.
        qpu_end: int64 (QPUs,): each QPU's modelled time when it finished.
        cycles: The job's modelled cycles (`job.stats.cycles`).
        clock_mhz: The modelled clock.
        threads: Thread slots per QPU.
        timeline: int64 (slices, 4): rows (track, state index into `TIMELINE_STATES`, start
            cycle, end cycle). Track q < QPUs is QPU q; track QPUs + s is thread slot s (QPU
            s // threads, thread s % threads). Each track's slices tile 0 to its QPU's end.
        timeline_dropped: Slices past `TIMELINE_ROWS`, not kept.
        lookups: int64 (lookups, `layout.LK_NCOLS`): each TMU lookup's QPU, thread slot, pc,
            issue cycle, ready cycle, ready cycle on an idle bus, bytes, write flag, and the pc and
            cycle of the ldtmu that popped its first result (-1 for none).
        lookups_dropped: Lookups past `LOOKUP_ROWS`, not kept.
    """

    disassembly: tuple[str, ...]
    executions: np.ndarray
    issue_cycles: np.ndarray
    stalls: np.ndarray
    tmu_requests: np.ndarray
    sfu_operations: np.ndarray
    qpu_busy: np.ndarray
    qpu_tmu_stall: np.ndarray
    qpu_idle: np.ndarray
    qpu_end: np.ndarray
    cycles: int
    clock_mhz: float = 500.0
    threads: int = 1
    timeline: np.ndarray | None = None
    timeline_dropped: int = 0
    lookups: np.ndarray | None = None
    lookups_dropped: int = 0

    @classmethod
    def from_machine(cls, prog, m, cycles: int, clock_mhz: float) -> Profile:
        """Build the profile from the machine's arrays after a job (used by the executor).

        Args:
            prog: The job's `LoweredProgram`.
            m: The machine's state (`machine.state.Machine`) after the job.
            cycles: The job's modelled cycles.
            clock_mhz: The modelled clock.

        Returns:
            The `Profile`.
        """
        from .executor import _disasm

        words = [int(w) for w in prog.words]
        prof, qs = m.prof, m.qs
        nq = len(qs)
        threads = (len(m.tl_open) - nq) // nq
        text = tuple(_disasm(i, w) for i, w in zip(prog.instructions, words, strict=False))
        lk_rows = int(m.gs[L.G_LK_ROWS])
        return cls(
            disassembly=text,
            executions=prof[:, L.PF_EXECS].copy(),
            issue_cycles=prof[:, L.PF_ISSUE].copy(),
            stalls=prof[:, list(_PF_OF_CAUSE)].copy(),
            tmu_requests=prof[:, L.PF_TMU_REQ].copy(),
            sfu_operations=prof[:, L.PF_SFU].copy(),
            qpu_busy=qs[:, L.Q_BUSY].copy(),
            qpu_tmu_stall=qs[:, L.Q_TMU_STALL].copy(),
            qpu_idle=qs[:, L.Q_IDLE].copy(),
            qpu_end=qs[:, L.Q_TIME].copy(),
            cycles=int(cycles),
            clock_mhz=clock_mhz,
            threads=threads,
            timeline=_closed_timeline(m, threads),
            timeline_dropped=max(0, int(m.gs[L.G_TL_ROWS]) - len(m.tl)),
            lookups=m.lk[: min(lk_rows, len(m.lk))].copy(),
            lookups_dropped=max(0, lk_rows - len(m.lk)),
        )

    @property
    def pc_cycles(self) -> np.ndarray:
        """int64 (pcs,): all cycles charged to each pc (issue + every stall)."""
        return self.issue_cycles + self.stalls.sum(axis=1)

    def track_name(self, track: int) -> tuple[int, int]:
        """The QPU and thread of a timeline track.

        Args:
            track: A track number (the first column of `timeline`).

        Returns:
            (QPU, thread slot on that QPU), the thread -1 for the QPU's own track.
        """
        nq = len(self.qpu_end)
        if track < nq:
            return track, -1
        return (track - nq) // self.threads, (track - nq) % self.threads


def _closed_timeline(m, threads: int) -> np.ndarray:
    """The machine's timeline rows with every track's open slice closed and each thread track
    carried on in its last state (idle, once its thread ended) up to its QPU's end."""
    qs, tl_open = m.qs, m.tl_open
    nq = len(qs)
    rows = int(m.gs[L.G_TL_ROWS])
    extra = []
    for track in range(len(tl_open)):
        state, start, end, gap = (int(x) for x in tl_open[track])
        if end > start:
            extra.append((track, state, start, end))
        q = track if track < nq else (track - nq) // threads
        if track >= nq and end < qs[q, L.Q_TIME]:
            extra.append((track, gap, end, int(qs[q, L.Q_TIME])))
    tl = np.concatenate([m.tl[: min(rows, len(m.tl))], np.array(extra, np.int64).reshape(-1, 4)])
    return tl[np.lexsort((tl[:, 2], tl[:, 0]))]


def loops(disassembly: tuple[str, ...] | list[str]) -> list[tuple[int, int]]:
    """The loops of a program: (first pc, last pc) of each backward relative branch, the last
    being the branch's third delay slot (the loop body runs through it).

    Args:
        disassembly: Mesa-style disassembly per pc (`b.xxx  -N` means N bytes back from pc + 4).

    Returns:
        (target pc, last pc) pairs, in program order of the branch.
    """
    out = []
    for pc, text in enumerate(disassembly):
        parts = text.split()
        if not parts or not parts[0].startswith("b") or not parts[0].replace(".", "").isalnum():
            continue
        for tok in parts[1:]:
            tok = tok.rstrip(",")
            if tok.lstrip("-").isdigit() and int(tok) < 0:
                target = pc + 4 + int(tok) // 8  # branch targets count from the 4th instruction
                if 0 <= target <= pc:
                    out.append((target, min(pc + 3, len(disassembly) - 1)))
                break
    return out


def annotate(profile: Profile, top: int = 5) -> str:
    """An annotated disassembly like `perf annotate`: per pc its executions, share of cycles,
    stall cycles by cause and disassembly, with loops marked, after a summary of the hottest pcs.

    Args:
        profile: The job's `Profile`.
        top: How many of the hottest pcs to list in the summary.

    Returns:
        The listing, one line per instruction.
    """
    cyc = profile.pc_cycles
    total = max(1, int(cyc.sum()))
    starts, ends = {}, {}
    found = loops(profile.disassembly)
    for n, (first, last) in enumerate(found):
        starts.setdefault(first, []).append(n)
        ends.setdefault(last, []).append(n)
    by_cause = profile.stalls.sum(axis=0)
    lines = [
        f"{profile.cycles} cycles ({modelled_label()}); {int(profile.executions.sum())} thread-instructions",
        "stall cycles by cause: " + ", ".join(f"{c} {int(n)}" for c, n in zip(STALL_CAUSES, by_cause, strict=True)),
        f"not modelled: {NOT_MODELLED}",
        f"hottest pcs (share of {total} QPU cycles, modelled):",
    ]
    if profile.timeline_dropped or profile.lookups_dropped:
        lines.insert(3, f"timeline incomplete: {profile.timeline_dropped} slices past TIMELINE_ROWS and "
                        f"{profile.lookups_dropped} TMU lookups past LOOKUP_ROWS not kept (the counts above are whole)")
    for pc in np.argsort(-cyc, kind="stable")[:top]:
        if cyc[pc] > 0:
            lines.append(f"  pc {int(pc):4d} {100 * cyc[pc] / total:5.1f}%  {profile.disassembly[pc]}")
    lines.append("")
    head = " ".join(f"{c:>{_WIDTH[c]}}" for c in STALL_CAUSES)
    lines.append(f"{'pc':>5} {'execs':>7} {'cycles%':>7} {head}  disassembly")
    indent = 5 + 1 + 7 + 1 + 7 + 1 + len(head)
    for pc, text in enumerate(profile.disassembly):
        if text.startswith("<word") and profile.executions[pc] == 0:
            continue  # padding after the program's end, never run
        for n in starts.get(pc, []):
            lines.append(f"{'':>{indent}}  ┌ loop {n}")
        cells = " ".join(f"{int(x):{_WIDTH[c]}d}" for c, x in zip(STALL_CAUSES, profile.stalls[pc], strict=True))
        lines.append(f"{pc:5d} {int(profile.executions[pc]):7d} {100 * cyc[pc] / total:6.1f}% {cells}  {text}")
        for n in ends.get(pc, []):
            lines.append(f"{'':>{indent}}  └ loop {n} (branch back to pc {found[n][0]})")
    return "\n".join(lines)


_WIDTH = {"tmu": 7, "roof": 6, "unifa": 6, "switched": 8, "barrier": 7, "other": 6}


def trace_ids(qpu: int, thread: int) -> tuple[int, int]:
    """The trace-event `pid` and `tid` of a QPU's track (`thread` -1) or of one of its thread
    slots' tracks.

    Perfetto's JSON importer treats pid 0 as the idle process and names threads by `tid` alone
    (its `thread_name` metadata carries no pid), so ids start at 1 and no two tracks share a tid.

    Args:
        qpu: The QPU.
        thread: The thread slot on it, or -1 for the QPU's own track.

    Returns:
        `(pid, tid)`: `(1 + qpu, 100 * (1 + qpu) + 1 + thread)`.
    """
    return 1 + qpu, 100 * (1 + qpu) + 1 + thread


def trace_events(profile: Profile, start_us: float = 0.0, job: int | None = None) -> dict:
    """The profile as a Chrome trace-event timeline (Perfetto opens it), times in modelled
    microseconds.

    One process per QPU, `pid` = 1 + QPU; in it the QPU's own track, `tid` = 100 x `pid`, and
    one track per thread slot t, `tid` = 100 x `pid` + 1 + t (`trace_ids`), each tiled by
    complete ("X") slices of its states (`TIMELINE_STATES`). Each TMU lookup whose result an ldtmu popped is a flow from the
    issuing instruction to that ldtmu ("s" and "f" events sharing an `id`); each QPU has a
    counter ("C") of the bytes its lookups have in flight (issued, data not yet arrived).

    Args:
        profile: The job's `Profile`.
        start_us: Where the job starts on the trace's time axis (several jobs in one trace).
        job: The job's number, put in every event's `args` and the flow ids (several jobs).

    Returns:
        A dict with `traceEvents` (json.dumps it to a file).
    """
    def at(cycle: float) -> float:  # microseconds; 4 decimals keep every cycle (2 ns at 500 MHz) apart
        return round(start_us + cycle / profile.clock_mhz, 4)

    tag = {} if job is None else {"job": job}
    events: list[dict] = []
    for q in range(len(profile.qpu_end)):
        pid, qtid = trace_ids(q, -1)
        events.append({"name": "process_name", "ph": "M", "pid": pid, "tid": qtid, "args": {"name": f"QPU {q}"}})
        events.append({"name": "process_sort_index", "ph": "M", "pid": pid, "tid": qtid, "args": {"sort_index": q}})
        for t in range(-1, profile.threads):
            tid = trace_ids(q, t)[1]
            name = f"QPU {q}" if t < 0 else f"QPU {q} thread {t}"
            events.append({"name": "thread_name", "ph": "M", "pid": pid, "tid": tid, "args": {"name": name}})
            events.append({"name": "thread_sort_index", "ph": "M", "pid": pid, "tid": tid, "args": {"sort_index": t + 1}})
    rows = profile.timeline if profile.timeline is not None else np.zeros((0, 4), np.int64)
    for track, state, start, end in rows.tolist():
        q, t = profile.track_name(track)
        events.append({"name": TIMELINE_STATES[state], "cat": "qpu" if t < 0 else "thread", "ph": "X",
                       "pid": q + 1, "tid": trace_ids(q, t)[1], "ts": at(start), "dur": round(at(end) - at(start), 4),
                       "args": {"cycles": end - start, "modelled": True, **tag}})
    lookups = profile.lookups if profile.lookups is not None else np.zeros((0, L.LK_NCOLS), np.int64)
    # integer ids: Perfetto's JSON importer reads a string id as hexadecimal digits; unique per job
    flow = (job or 0) * LOOKUP_ROWS
    for n, row in enumerate(lookups.tolist()):
        if row[L.LK_POP_PC] < 0:
            continue
        pid, tid = trace_ids(row[L.LK_QPU], row[L.LK_SLOT] % profile.threads)
        args = {"pc": row[L.LK_PC], "bytes": row[L.LK_BYTES], "ldtmu pc": row[L.LK_POP_PC], **tag}
        # one cycle into each instruction, so each end lies inside the slice of its instruction
        events.append({"name": "TMU lookup", "cat": "tmu", "ph": "s", "id": flow + n, "pid": pid, "tid": tid,
                       "ts": at(row[L.LK_ISSUE_T] + 1), "args": args})
        events.append({"name": "TMU lookup", "cat": "tmu", "ph": "f", "bp": "e", "id": flow + n, "pid": pid,
                       "tid": tid, "ts": at(row[L.LK_POP_T] + 1)})
    for q, t, value in bytes_in_flight(profile):
        events.append({"name": "TMU bytes in flight", "ph": "C", "pid": q + 1, "tid": trace_ids(q, -1)[1], "ts": at(t),
                       "args": {"bytes": value}})
    return {"traceEvents": events, "displayTimeUnit": "ns"}


def bytes_in_flight(profile: Profile) -> list[tuple[int, int, int]]:
    """Each QPU's TMU bytes in flight over time: (QPU, cycle, bytes from that cycle on), one
    row per change, from the lookup log (a lookup is in flight from its instruction's start
    until its data or write completion arrives).

    Args:
        profile: The job's `Profile`.

    Returns:
        The rows, by QPU then cycle; each QPU's last value is 0.
    """
    lookups = profile.lookups if profile.lookups is not None else np.zeros((0, L.LK_NCOLS), np.int64)
    out = []
    for q in range(len(profile.qpu_end)):
        mine = lookups[lookups[:, L.LK_QPU] == q]
        if not len(mine):
            continue
        times = np.concatenate([mine[:, L.LK_ISSUE_T], mine[:, L.LK_READY]])
        deltas = np.concatenate([mine[:, L.LK_BYTES], -mine[:, L.LK_BYTES]])
        order = np.argsort(times, kind="stable")
        times, level = times[order], np.cumsum(deltas[order])
        last = np.r_[times[1:] != times[:-1], True]  # one value per cycle: after all its changes
        out += [(q, int(t), int(v)) for t, v in zip(times[last], level[last], strict=True)]
    return out

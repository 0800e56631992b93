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

#: Stall causes, in the order of `Profile.stalls`' columns.
STALL_CAUSES = ("tmu", "switched", "other")
#: The timeline's states, indexed by `layout.TL_*` (the second column of `Profile.timeline`).
TIMELINE_STATES = ("issuing", "waiting TMU", "no runnable thread", "other stall")
#: Most timeline slices a profiled job keeps (each QPU's consecutive instructions in one state
#: make one slice); later ones are counted in `Profile.timeline_dropped`.
TIMELINE_ROWS = 1 << 18


@dataclass
class Profile:
    """Where the modelled cycles of one emulated job went, per instruction and per QPU.

    Attributes:
        disassembly: Mesa-style disassembly of each instruction (index = pc).
        executions: int64 (pcs,): thread-instructions issued at each pc.
        issue_cycles: int64 (pcs,): cycles spent issuing each pc.
        stalls: int64 (pcs, 3): stall cycles charged to each pc by cause (`STALL_CAUSES`): waiting
            for a TMU result or the TMU queue (`tmu`), no runnable thread on the QPU before this
            instruction resumed (`switched`), anything else while it issued (`other`: a thread end
            waiting for its TMU writes).
        tmu_requests: int64 (pcs,): TMU lookups each pc issued.
        sfu_operations: int64 (pcs,): SFU operations each pc started.
        qpu_busy: int64 (QPUs,): cycles each QPU spent issuing.
        qpu_tmu_stall: int64 (QPUs,): cycles each QPU stalled on the TMU.
        qpu_idle: int64 (QPUs,): cycles each QPU had no runnable thread.
        qpu_end: int64 (QPUs,): each QPU's modelled time when it finished.
        cycles: The job's modelled cycles (`job.stats.cycles`).
        clock_mhz: The modelled clock.
        timeline: int64 (slices, 4): each QPU's states over time as rows (QPU, state index into
            `TIMELINE_STATES`, start cycle, end cycle); a QPU's slices tile its time from 0.
        timeline_dropped: Slices past `TIMELINE_ROWS`, not kept.
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
    timeline: np.ndarray | None = None
    timeline_dropped: int = 0

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
        rows = int(m.gs[L.G_TL_ROWS])
        kept = m.tl[: min(rows, len(m.tl))]
        still_open = [(q, *m.tl_open[q]) for q in range(len(qs)) if m.tl_open[q, 2] > m.tl_open[q, 1]]
        tl = np.concatenate([kept, np.array(still_open, np.int64).reshape(-1, 4)])
        tl = tl[np.lexsort((tl[:, 2], tl[:, 0]))]
        text = tuple(_disasm(i, w) for i, w in zip(prog.instructions, words, strict=False))
        return cls(
            disassembly=text,
            executions=prof[:, L.PF_EXECS].copy(),
            issue_cycles=prof[:, L.PF_ISSUE].copy(),
            stalls=prof[:, [L.PF_TMU_STALL, L.PF_SWITCHED, L.PF_OTHER]].copy(),
            tmu_requests=prof[:, L.PF_TMU_REQ].copy(),
            sfu_operations=prof[:, L.PF_SFU].copy(),
            qpu_busy=qs[:, L.Q_BUSY].copy(),
            qpu_tmu_stall=qs[:, L.Q_TMU_STALL].copy(),
            qpu_idle=qs[:, L.Q_IDLE].copy(),
            qpu_end=qs[:, L.Q_TIME].copy(),
            cycles=int(cycles),
            clock_mhz=clock_mhz,
            timeline=tl,
            timeline_dropped=max(0, rows - len(m.tl)),
        )

    @property
    def pc_cycles(self) -> np.ndarray:
        """int64 (pcs,): all cycles charged to each pc (issue + every stall)."""
        return self.issue_cycles + self.stalls.sum(axis=1)


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
    lines = [
        f"{profile.cycles} cycles ({modelled_label()}); {int(profile.executions.sum())} thread-instructions",
        f"hottest pcs (share of {total} QPU cycles, modelled):",
    ]
    for pc in np.argsort(-cyc, kind="stable")[:top]:
        if cyc[pc] > 0:
            lines.append(f"  pc {int(pc):4d} {100 * cyc[pc] / total:5.1f}%  {profile.disassembly[pc]}")
    lines.append("")
    lines.append(f"{'pc':>5} {'execs':>9} {'cycles%':>7} {'tmu':>9} {'switched':>9} {'other':>7}  disassembly")
    for pc, text in enumerate(profile.disassembly):
        if text.startswith("<word") and profile.executions[pc] == 0:
            continue  # padding after the program's end, never run
        for n in starts.get(pc, []):
            lines.append(f"{'':>52}  ┌ loop {n}")
        tmu, sw, other = (int(x) for x in profile.stalls[pc])
        lines.append(
            f"{pc:5d} {int(profile.executions[pc]):9d} {100 * cyc[pc] / total:6.1f}% "
            f"{tmu:9d} {sw:9d} {other:7d}  {text}"
        )
        for n in ends.get(pc, []):
            lines.append(f"{'':>52}  └ loop {n} (branch back to pc {found[n][0]})")
    return "\n".join(lines)


def trace_events(profile: Profile) -> dict:
    """The profile as a Chrome trace-event timeline (Perfetto opens it): one process per QPU with
    complete ("X") slices for its states (`TIMELINE_STATES`) over modelled time, in microseconds.

    Args:
        profile: The job's `Profile`.

    Returns:
        A dict with `traceEvents` (json.dumps it to a file).
    """
    us = 1.0 / profile.clock_mhz
    events: list[dict] = [
        {"name": "process_name", "ph": "M", "pid": q, "tid": 0, "args": {"name": f"QPU {q}"}}
        for q in range(len(profile.qpu_end))
    ]
    rows = profile.timeline if profile.timeline is not None else np.zeros((0, 4), np.int64)
    for q, state, start, end in rows.tolist():
        events.append({"name": TIMELINE_STATES[state], "ph": "X", "pid": q, "tid": 0, "ts": start * us,
                       "dur": (end - start) * us, "args": {"cycles": end - start, "modelled": True}})
    return {"traceEvents": events, "displayTimeUnit": "ns"}

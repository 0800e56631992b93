# ruff: noqa: F811, B018  (pytest fixtures imported from test_emulator_support; DSL labels are expressions)
"""Debugging aids: per-instruction trace and breakpoints with read-only snapshots."""

from __future__ import annotations

import io

import numpy as np
import pytest
from test_emulator_support import dev, end_program  # noqa: F401
from vc6_isa.asm import *
from vc6_isa.emulator import Breakpoint, Snapshot, TraceRecord


@qpu
def kernel(asm):
    eidx(r0)
    shl(r1, r0, 2)
    L.here
    add(rf[5], r1, 1)
    end_program()


def test_trace_records_every_instruction_with_written_values(dev):
    prog = assemble(kernel)
    job = dev.dispatch(prog, [], executor_options={"trace": True})
    job.wait()
    trace = job.stats.trace
    assert len(trace) == job.stats.thread_instructions == len(prog.words)
    rec = trace[1]
    assert isinstance(rec, TraceRecord)
    assert (rec.qpu, rec.thread, rec.pc) == (0, 0, 1)
    assert rec.disassembly.startswith("shl r1, r0, 2")
    np.testing.assert_array_equal(rec.writes["r1"], np.arange(16) * 4)
    assert "rf5" in trace[2].writes and "pc 2" in str(trace[2])
    lines = io.StringIO()
    dev.dispatch(prog, [], executor_options={"trace": lines}).wait()
    assert lines.getvalue().count("\n") == len(prog.words)


def test_breakpoint_raises_with_snapshot_or_calls_back(dev):
    prog = assemble(kernel)
    here = prog.labels["here"]
    with pytest.raises(Breakpoint) as info:
        dev.dispatch(prog, [], executor_options={"breakpoints": [here]}).wait()
    snap = info.value.snapshot
    assert isinstance(snap, Snapshot) and snap.pc == here
    np.testing.assert_array_equal(snap.register("r1"), np.arange(16) * 4)
    assert not snap.acc.flags.writeable
    seen = []
    job = dev.dispatch(prog, [], workgroups=(2, 1, 1), executor_options={"breakpoints": [here], "on_break": seen.append})
    job.wait()
    assert [(s.qpu, s.pc) for s in seen] == [(0, here), (1, here)]


def test_breakpoint_predicate(dev):
    prog = assemble(kernel)
    hits = []
    opts = {"breakpoints": lambda s: s.pc == 3, "on_break": hits.append}
    dev.dispatch(prog, [], executor_options=opts).wait()
    assert len(hits) == 1
    np.testing.assert_array_equal(hits[0].rf[5], np.arange(16) * 4 + 1)

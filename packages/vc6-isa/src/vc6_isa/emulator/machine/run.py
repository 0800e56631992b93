"""The scheduler: all QPUs and threads of a job until an event."""

import types

import numpy as np

from ..hazards import H_BARRIER_DEADLOCK
from ..jit import compile_split, jit_entry
from ..layout import (
    EV_BREAK,
    EV_DONE,
    EV_NONE,
    EV_SLICE,
    EV_STEP,
    EV_TIMER,
    G_EV_PC,
    G_EV_SLOT,
    G_EVENT,
    G_HANG_AT,
    G_INSTRS,
    G_LIVE,
    G_SLICE_END,
    G_STEP,
    J_CHUNK,
    J_NQPU,
    J_NROWS,
    P_FAST,
    Q_CUR,
    Q_IDLE,
    Q_TIME,
    T_BP_SKIP,
    T_PC,
    T_READY,
    T_SG,
    T_STATUS,
    TS_BARRIER,
)
from .issue import fast_run, step
from .memory import hazard
from .profiling import charge, charge_switched, snapshot
from .threads import fill_free_slots, pick_thread

#: Whether the scheduler has the profiler's hooks: False in `run`, True in `run_profiled` (below).
PROFILING = False


@jit_entry
def run(m):
    """Run the job whose state is `m` (a `state.Machine`) until it ends (EV_DONE) or something
    needs Python (hazard, MMU fault, step, breakpoint, the end of a bounded slice, the hang
    timer). Resumable: all state is in the arrays, and a slice or the timer returns between
    scheduling rounds, where stopping changes nothing about what runs next."""
    prog, ts, qs, gs, jp, bp = m.prog, m.ts, m.qs, m.gs, m.jp, m.bp
    # profiling (`run_profiled` only): one instruction per fast_run call, charged to its pc
    profiling = PROFILING
    before = np.zeros(12, np.int64)
    nq = jp[J_NQPU]
    nrows = jp[J_NROWS]
    single = gs[G_STEP] != 0
    gs[G_EVENT] = EV_NONE
    while True:
        fill_free_slots(m)
        if gs[G_LIVE] == 0:
            gs[G_EVENT] = EV_DONE
            return EV_DONE
        # the QPU that is furthest behind in modelled time and has a runnable thread goes next
        best_q = np.int64(-1)  # np.int64: a literal would make numba compile callees twice
        best_t = np.int64(1) << 62
        best_slot = np.int64(-1)
        for q in range(nq):
            slot = pick_thread(m, q)
            if slot < 0:
                continue
            t = qs[q, Q_TIME]
            t = max(t, ts[slot, T_READY])
            if t < best_t:
                best_t = t
                best_q = q
                best_slot = slot
        if best_q < 0:
            # every live thread waits at a barrier that cannot complete
            for s in range(ts.shape[0]):
                if ts[s, T_STATUS] == TS_BARRIER:
                    return hazard(gs, H_BARRIER_DEADLOCK, s, ts[s, T_PC], ts[s, T_SG])
            return hazard(gs, H_BARRIER_DEADLOCK, 0, 0, 0)
        if gs[G_INSTRS] >= gs[G_SLICE_END] or best_t > gs[G_HANG_AT]:
            # one test for both (measured: two cost the hot loop ~8%)
            gs[G_EVENT] = EV_SLICE if gs[G_INSTRS] >= gs[G_SLICE_END] else EV_TIMER
            gs[G_EV_SLOT] = best_slot
            gs[G_EV_PC] = ts[best_slot, T_PC]
            return gs[G_EVENT]
        q = best_q
        slot = best_slot
        qs[q, Q_CUR] = slot
        if best_t > qs[q, Q_TIME]:
            if profiling:
                charge_switched(m, ts[slot, T_PC], q, slot, qs[q, Q_TIME], best_t)
            qs[q, Q_IDLE] += best_t - qs[q, Q_TIME]
            qs[q, Q_TIME] = best_t
        n = 0
        while n < jp[J_CHUNK]:
            if bp.shape[0] > 0:
                pc = ts[slot, T_PC]
                if pc >= 0 and pc < bp.shape[0] and bp[pc] != 0:
                    if ts[slot, T_BP_SKIP] != 0:
                        ts[slot, T_BP_SKIP] = 0
                    else:
                        ts[slot, T_BP_SKIP] = 1
                        gs[G_EVENT] = EV_BREAK
                        gs[G_EV_SLOT] = slot
                        gs[G_EV_PC] = pc
                        return EV_BREAK
            pc0 = ts[slot, T_PC]
            if pc0 >= 0 and pc0 < nrows and prog[pc0, P_FAST] != 0:
                # one instruction at a time when stepping or watching breakpoints
                limit = 1 if (single or bp.shape[0] > 0 or profiling) else jp[J_CHUNK] - n
                if profiling:
                    snapshot(m, q, slot, before)
                k = fast_run(m, slot, limit)
                if k > 0:
                    n += k
                    if profiling:
                        charge(m, pc0, q, slot, before)
                    if gs[G_EVENT] != EV_NONE:
                        return gs[G_EVENT]
                    if single:
                        gs[G_EVENT] = EV_STEP
                        gs[G_EV_SLOT] = slot
                        gs[G_EV_PC] = pc0
                        return EV_STEP
                    continue
            if profiling:
                snapshot(m, q, slot, before)
            ev = step(m, slot)
            n += 1
            if profiling:
                charge(m, pc0, q, slot, before)
            if ev > 0:
                return ev
            if single:
                gs[G_EVENT] = EV_STEP
                gs[G_EV_SLOT] = slot
                gs[G_EV_PC] = pc0
                return EV_STEP
            if ev < 0:
                break


# A cold compile of `run` in two processes when a core is idle (jit.py, `compile_split`): this one
# compiles the fast path, a forked one the general path and the scheduler's thread functions
# (docs/emulator-internals.md, "The second core"). The types are those `run` passes: `m` is its
# argument 0, the slot and the other counts int64.
compile_split(run, here=((fast_run, 0, np.int64, np.int64),),
              forked=((step, 0, np.int64), (fill_free_slots, 0), (pick_thread, 0, np.int64)))


def _profiled(entry):
    """`entry` compiled once more with `PROFILING` true, as the entry point of profiled jobs.

    `PROFILING` is a constant of the compiled code, so numba drops the branches it rules out
    before it types anything: `run` compiles none of profiling.py (the one-time compile of the
    default entry is that much shorter) and `run_profiled` is compiled, and cached, only when a
    job asks for a profile (executor option `profile=True`).
    """
    plain = entry.py_func
    scope = dict(plain.__globals__, PROFILING=True)
    func = types.FunctionType(plain.__code__, scope, "run_profiled", plain.__defaults__, plain.__closure__)
    func.__qualname__ = "run_profiled"  # the name its cache files are kept under
    func.__doc__ = plain.__doc__
    return jit_entry(func)


#: `run` with the profiler's hooks: the entry point of jobs with the executor option `profile=True`.
run_profiled = _profiled(run)

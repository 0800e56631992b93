"""Profiling (`executor_options={"profile": True}`): what one instruction added, charged to its
pc, its QPU's and its thread's timeline tracks and the TMU lookup log.

The run loop calls `snapshot` before and `charge` after each instruction, and `charge_switched`
when a QPU had no runnable thread; nothing here runs when profiling is off. Stall causes are
split only where the cycle model charges them (`cycle_model.CycleModel`): an instruction's TMU
wait is its ldtmu's result wait, its TMU-queue wait or its tmuwt; the part of a result or queue
wait that comes from the memory bus being booked by other lookups is the memory roof's; an
ldunifa's wait for a new line of the unifa stream is the unifa's. The model charges no SFU
stall and no barrier or thread-switch cost beyond the waits themselves, so none is invented.
"""

from ..jit import jit_lean
from ..layout import (
    FIFO_CAP,
    G_LK_ROWS,
    G_SFU,
    G_TL_ROWS,
    G_TMU_RBYTES,
    G_TMU_REQ,
    G_TMU_WBYTES,
    J_F_TQ,
    J_F_TQ_IDLE,
    J_TMU_QUEUE,
    LK_BYTES,
    LK_ISSUE_T,
    LK_PC,
    LK_POP_PC,
    LK_POP_T,
    LK_QPU,
    LK_READY,
    LK_READY_IDLE,
    LK_SLOT,
    LK_WRITE,
    P_SIG,
    PF_BARRIER,
    PF_EXECS,
    PF_ISSUE,
    PF_OTHER,
    PF_ROOF,
    PF_SFU,
    PF_SWITCHED,
    PF_TMU_REQ,
    PF_TMU_STALL,
    PF_UNIFA,
    Q_BUSY,
    Q_TIME,
    Q_TMU_QUEUE,
    Q_TMU_STALL,
    SIG_LDTMU,
    SIG_LDUNIFA,
    SIG_LDUNIFARF,
    T_FIFO_COUNT,
    T_FIFO_HEAD,
    T_READY,
    T_STATUS,
    TL_BARRIER,
    TL_IDLE,
    TL_ISSUING,
    TL_OTHER,
    TL_ROOF,
    TL_SWITCHED,
    TL_SWITCHED_OUT,
    TL_TMU,
    TL_UNIFA,
    TLO_GAP,
    TS_BARRIER,
    TS_FREE,
)

# what `snapshot` records (indices into the run loop's `before` array)
_B_TIME, _B_BUSY, _B_STALL, _B_REQ, _B_SFU, _B_BYTES = 0, 1, 2, 3, 4, 5
_B_HEAD, _B_COUNT, _B_RING, _B_READY, _B_OLD, _B_OLD_IDLE = 6, 7, 8, 9, 10, 11


@jit_lean
def snapshot(m, q, slot, before):
    """QPU `q`'s time and counters, and thread `slot`'s TMU queues, before one instruction."""
    qs, gs, ts, jp, fp = m.qs, m.gs, m.ts, m.jp, m.fp
    before[_B_TIME] = qs[q, Q_TIME]
    before[_B_BUSY] = qs[q, Q_BUSY]
    before[_B_STALL] = qs[q, Q_TMU_STALL]
    before[_B_REQ] = gs[G_TMU_REQ]
    before[_B_SFU] = gs[G_SFU]
    before[_B_BYTES] = gs[G_TMU_RBYTES] + gs[G_TMU_WBYTES]
    before[_B_HEAD] = ts[slot, T_FIFO_HEAD]
    before[_B_COUNT] = ts[slot, T_FIFO_COUNT]
    ring = jp[J_F_TQ] + q * jp[J_TMU_QUEUE] + qs[q, Q_TMU_QUEUE]
    before[_B_RING] = ring
    before[_B_READY] = ts[slot, T_READY]
    # the ring entry a new lookup would take: the oldest outstanding one, which a full queue waits for
    before[_B_OLD] = fp[ring]
    before[_B_OLD_IDLE] = fp[ring - jp[J_F_TQ] + jp[J_F_TQ_IDLE]]


@jit_lean
def timeline(m, track, state, start, end):
    """Track `track` was in `state` from `start` to `end`: extend its open slice or close that
    into `m.tl` (rows past the array's end are counted in G_TL_ROWS, not written)."""
    if end <= start:
        return
    tl, tl_open, gs = m.tl, m.tl_open, m.gs
    if tl_open[track, 0] == state and tl_open[track, 2] == start:
        tl_open[track, 2] = end
        return
    if tl_open[track, 2] > tl_open[track, 1]:
        n = gs[G_TL_ROWS]
        if n < tl.shape[0]:
            tl[n, 0] = track
            tl[n, 1] = tl_open[track, 0]
            tl[n, 2] = tl_open[track, 1]
            tl[n, 3] = tl_open[track, 2]
        gs[G_TL_ROWS] = n + 1
    tl_open[track, 0] = state
    tl_open[track, 1] = start
    tl_open[track, 2] = end


@jit_lean
def _phases(m, track, t, issue, tmu, roof, unifa, end):
    """One instruction on one track: issuing, then its waits (TMU, roof, unifa), then the rest."""
    timeline(m, track, TL_ISSUING, t, t + issue)
    t += issue
    timeline(m, track, TL_TMU, t, t + tmu)
    t += tmu
    timeline(m, track, TL_ROOF, t, t + roof)
    t += roof
    timeline(m, track, TL_UNIFA, t, t + unifa)
    timeline(m, track, TL_OTHER, t + unifa, end)


@jit_lean
def _thread_resumes(m, track, t0, ready):
    """Thread track `track` issues again at `t0`: until then it was in its gap state (idle, at a
    barrier, switched out) up to `ready`, the time it could issue, and switched out after."""
    last = m.tl_open[track, 2]
    if t0 <= last:
        return
    r = min(max(ready, last), t0)
    timeline(m, track, m.tl_open[track, TLO_GAP], last, r)
    timeline(m, track, TL_SWITCHED_OUT, r, t0)


@jit_lean
def _log_lookup(m, pc, q, slot, before, t0, popped):
    """Record the TMU lookup the instruction at `pc` issued (its ring entry holds its times)."""
    lk, gs, fp, jp, ts = m.lk, m.gs, m.fp, m.jp, m.ts
    row = gs[G_LK_ROWS]
    gs[G_LK_ROWS] = row + 1
    ring = before[_B_RING]
    pushed = ts[slot, T_FIFO_COUNT] - before[_B_COUNT] + (1 if popped else 0)
    for k in range(pushed):
        m.lk_pend[slot, (before[_B_HEAD] + before[_B_COUNT] + k) % FIFO_CAP] = row
    if row >= lk.shape[0]:
        return
    lk[row, LK_QPU] = q
    lk[row, LK_SLOT] = slot
    lk[row, LK_PC] = pc
    lk[row, LK_ISSUE_T] = t0
    lk[row, LK_READY] = fp[ring]
    lk[row, LK_READY_IDLE] = fp[ring - jp[J_F_TQ] + jp[J_F_TQ_IDLE]]
    lk[row, LK_BYTES] = gs[G_TMU_RBYTES] + gs[G_TMU_WBYTES] - before[_B_BYTES]
    lk[row, LK_WRITE] = 1 if pushed == 0 else 0
    lk[row, LK_POP_PC] = -1
    lk[row, LK_POP_T] = -1


@jit_lean
def charge(m, pc, q, slot, before):
    """Charge what one instruction of thread `slot` at `pc` added since `snapshot` to its row of
    `m.prof`, its QPU's and thread's timeline tracks and the lookup log."""
    qs, gs, ts, prof, prog = m.qs, m.gs, m.ts, m.prof, m.prog
    t0 = before[_B_TIME]
    t1 = qs[q, Q_TIME]
    issue = qs[q, Q_BUSY] - before[_B_BUSY]
    wait = qs[q, Q_TMU_STALL] - before[_B_STALL]
    sig = prog[pc, P_SIG] if 0 <= pc < prog.shape[0] else 0
    reqs = gs[G_TMU_REQ] - before[_B_REQ]
    popped = (sig & SIG_LDTMU) != 0 and before[_B_COUNT] > 0
    roof = 0
    unifa = 0
    if (sig & (SIG_LDUNIFA | SIG_LDUNIFARF)) != 0:
        unifa = wait  # the unifa stream's line fetch (memory_model.unifa_line_fetch)
    elif popped:
        row = m.lk_pend[slot, before[_B_HEAD]]
        if 0 <= row < m.lk.shape[0]:
            roof = min(wait, max(0, m.lk[row, LK_READY] - m.lk[row, LK_READY_IDLE]))
            if m.lk[row, LK_POP_PC] < 0:
                m.lk[row, LK_POP_PC] = pc
                m.lk[row, LK_POP_T] = t0
    elif reqs > 0:
        roof = min(wait, max(0, before[_B_OLD] - before[_B_OLD_IDLE]))  # a full queue's wait
    tmu = wait - roof - unifa
    nq = qs.shape[0]
    _thread_resumes(m, nq + slot, t0, before[_B_READY])
    _phases(m, q, t0, issue, tmu, roof, unifa, t1)
    _phases(m, nq + slot, t0, issue, tmu, roof, unifa, t1)
    status = ts[slot, T_STATUS]
    if status == TS_FREE:
        m.tl_open[nq + slot, TLO_GAP] = TL_IDLE
    elif status == TS_BARRIER:
        m.tl_open[nq + slot, TLO_GAP] = TL_BARRIER
    else:
        m.tl_open[nq + slot, TLO_GAP] = TL_SWITCHED_OUT
    if reqs > 0:
        _log_lookup(m, pc, q, slot, before, t0, popped)
    if pc < 0 or pc >= prof.shape[0]:
        return
    prof[pc, PF_EXECS] += 1
    prof[pc, PF_ISSUE] += issue
    prof[pc, PF_TMU_STALL] += tmu
    prof[pc, PF_ROOF] += roof
    prof[pc, PF_UNIFA] += unifa
    prof[pc, PF_OTHER] += t1 - t0 - issue - wait
    prof[pc, PF_TMU_REQ] += reqs
    prof[pc, PF_SFU] += gs[G_SFU] - before[_B_SFU]


@jit_lean
def charge_switched(m, pc, q, slot, start, end):
    """QPU `q` had no runnable thread from `start` to `end`, until thread `slot` resumed at `pc`:
    a barrier wait when that thread was released from one, otherwise a switch that hid nothing
    (or a batch starting), charged to the instruction that resumed."""
    at_barrier = m.tl_open[m.qs.shape[0] + slot, TLO_GAP] == TL_BARRIER
    timeline(m, q, TL_BARRIER if at_barrier else TL_SWITCHED, start, end)
    if 0 <= pc < m.prof.shape[0]:
        m.prof[pc, PF_BARRIER if at_barrier else PF_SWITCHED] += end - start

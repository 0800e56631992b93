"""Batches and threads: starting a batch, picking, switching out and ending threads."""

from ..hazards import (
    H_END_RESULTS,
    H_END_WRITES,
    H_SWITCH_IN_SEQUENCE,
    H_UNIFA_ACROSS_SWITCH,
    STRICT_MESA,
)
from ..jit import jit_lean
from ..layout import (
    G_ENDED,
    G_LIVE,
    G_NEXT_BATCH,
    J_BATCH_START,
    J_BATCHES_PER_SG,
    J_LOCAL_SHIFT,
    J_NBATCHES,
    J_NQPU,
    J_NTHREADS,
    J_OFF_X,
    J_OFF_Y,
    J_OFF_Z,
    J_SINGLE_SEG,
    J_STRICT,
    J_UNIF,
    J_WG_SIZE,
    J_WG_X,
    J_WG_Y,
    J_WG_Z,
    J_WGS_PER_SG,
    L_FA,
    L_FB,
    L_MSF,
    L_RTOP,
    Q_CUR,
    Q_TIME,
    R_ACC,
    T_BARRIER,
    T_BATCH,
    T_BP_SKIP,
    T_BR_AGE,
    T_BR_CD,
    T_BR_UNIF,
    T_BR_UNIF_ALT,
    T_END_AGE,
    T_FIFO_COUNT,
    T_FIFO_HEAD,
    T_FINAL,
    T_INSTRS,
    T_LINK,
    T_MARKERS,
    T_PC,
    T_PREV_ACC,
    T_PREV_RF0,
    T_PREV_RF1,
    T_PREV_RF2,
    T_QPU,
    T_R4_CD,
    T_READY,
    T_SG,
    T_STATUS,
    T_THRSW_AGE,
    T_THRSW_CD,
    T_THRSW_END,
    T_THRSW_NEXT,
    T_TMU_CFG,
    T_TMU_NDATA,
    T_TMU_SEQ,
    T_UNIF,
    T_UNIFA,
    T_UNIFA_AGE,
    T_UNIFA_LINE,
    T_VALID,
    T_WRITE_DONE,
    T_WRITES,
    TS_BARRIER,
    TS_FREE,
    TS_RUN,
    V_FLAGS,
    V_RTOP,
)
from .memory import MASK32, hazard
from .ops import MSF_ACTIVE


@jit_lean
def start_batch(m, slot, batch, t0):
    """Start `batch` on thread slot `slot` at modelled time `t0`: payload rf0/rf2, MSF, uniform
    pointer (ref. 15.3)."""
    regs, lanes, ts, jp = m.regs, m.lanes, m.ts, m.jp
    bps = jp[J_BATCHES_PER_SG]
    sg = batch // bps
    within = batch - sg * bps
    wg_size = jp[J_WG_SIZE]
    wgs_per_sg = jp[J_WGS_PER_SG]
    nx = jp[J_WG_X]
    ny = jp[J_WG_Y]
    nz = jp[J_WG_Z]
    num_wgs = nx * ny * nz
    # Batches past the ones the workgroup counts imply (Mesa's formula, reference 15.2) still
    # run, cfg[4] + 1 of them, and all their lanes are active (hardware evidence, Appendix G.1:
    # py-videocore6 runs one 16-invocation workgroup as 8 or 16 batches split by tidx).
    whole = num_wgs // wgs_per_sg
    implied = bps * whole + (((num_wgs - whole * wgs_per_sg) * wg_size + 15) >> 4)
    extra = batch >= implied
    for lane in range(16):
        inv = within * 16 + lane
        wg_in_sg = inv // wg_size
        local = inv - wg_in_sg * wg_size
        wg = sg * wgs_per_sg + wg_in_sg
        active = extra or (wg_in_sg < wgs_per_sg and wg < num_wgs)
        if wg >= num_wgs:
            wg = num_wgs - 1  # the payload repeats the last workgroup
        if not active:
            local = 0  # lanes without an invocation: MSF = 0
        x = wg % nx
        y = (wg // nx) % ny
        z = wg // (nx * ny)
        x = (x + jp[J_OFF_X]) & 0xFFFF
        y = (y + jp[J_OFF_Y]) & 0xFFFF
        z = (z + jp[J_OFF_Z]) & 0xFFFF
        regs[slot, 0, lane] = (x | (y << 16)) & MASK32
        regs[slot, 2, lane] = (
            z | ((wg_in_sg & 0xFFFF) << 16) | (local << jp[J_LOCAL_SHIFT])
        ) & MASK32
        lanes[slot, L_MSF, lane] = MSF_ACTIVE if active else 0
        # r0-r5 and the flags belong to the QPU (Appendix G.2): a new batch finds whatever the
        # QPU's last thread left (the strict checks treat them as undefined, T_VALID below).
        lanes[slot, L_RTOP, lane] = 0
    ts[slot, T_STATUS] = TS_RUN
    ts[slot, T_PC] = 0
    ts[slot, T_UNIF] = jp[J_UNIF]
    ts[slot, T_UNIFA] = 0
    ts[slot, T_LINK] = 0
    ts[slot, T_BATCH] = batch
    ts[slot, T_SG] = sg
    ts[slot, T_FINAL] = jp[J_SINGLE_SEG]
    ts[slot, T_THRSW_CD] = 0
    ts[slot, T_THRSW_END] = 0
    ts[slot, T_THRSW_AGE] = 1000
    ts[slot, T_MARKERS] = 0
    ts[slot, T_BR_CD] = 0
    ts[slot, T_BR_UNIF] = -1
    ts[slot, T_BR_AGE] = 1000
    ts[slot, T_R4_CD] = 0
    ts[slot, T_UNIFA_AGE] = 1000
    ts[slot, T_TMU_CFG] = MASK32
    ts[slot, T_TMU_NDATA] = 0
    ts[slot, T_TMU_SEQ] = 0
    ts[slot, T_FIFO_HEAD] = 0
    ts[slot, T_FIFO_COUNT] = 0
    ts[slot, T_WRITES] = 0
    ts[slot, T_WRITE_DONE] = 0
    ts[slot, T_VALID] = V_RTOP
    ts[slot, T_PREV_ACC] = 0
    ts[slot, T_PREV_RF0] = -1
    ts[slot, T_PREV_RF1] = -1
    ts[slot, T_PREV_RF2] = -1
    ts[slot, T_BARRIER] = 0
    ts[slot, T_READY] = t0 + jp[J_BATCH_START]
    ts[slot, T_INSTRS] = 0
    ts[slot, T_END_AGE] = -1
    ts[slot, T_BP_SKIP] = 0
    ts[slot, T_UNIFA_LINE] = -1
    ts[slot, T_THRSW_NEXT] = 0
    ts[slot, T_BR_UNIF_ALT] = -1


@jit_lean
def fill_free_slots(m):
    """Give every free thread slot of the job `m` (a `state.Machine`) the next batch, QPU by QPU
    within each thread number, so that batch b of a fresh dispatch lands on QPU b mod 8 (round
    robin over the QPUs)."""
    ts, qs, gs, jp = m.ts, m.qs, m.gs, m.jp
    nq = jp[J_NQPU]
    nt = jp[J_NTHREADS]
    for t in range(nt):
        for q in range(nq):
            if gs[G_NEXT_BATCH] >= jp[J_NBATCHES]:
                return
            slot = q * nt + t
            if ts[slot, T_STATUS] == TS_FREE:
                start_batch(m, slot, gs[G_NEXT_BATCH], qs[q, Q_TIME])
                gs[G_NEXT_BATCH] += 1
                gs[G_LIVE] += 1


@jit_lean
def next_runnable(ts, q, nt, after):
    """The first runnable thread slot of QPU `q` (`nt` threads each) in round-robin order after
    its thread `after` (that thread itself last; `after` -1: from thread 0), or -1 when none is
    runnable."""
    for k in range(1, nt + 1):
        slot = q * nt + (after + k) % nt
        if ts[slot, T_STATUS] == TS_RUN:
            return slot
    return -1


@jit_lean
def pick_thread(m, q):
    """The slot QPU `q` issues from next: its current thread if still runnable, otherwise the
    next runnable one in round-robin order; -1 when none is runnable."""
    ts = m.ts
    nt = m.jp[J_NTHREADS]
    cur = m.qs[q, Q_CUR]
    if cur >= 0 and ts[cur, T_STATUS] == TS_RUN:
        return cur
    return next_runnable(ts, q, nt, -1 if cur < 0 else cur - q * nt)


@jit_lean
def hand_over(m, slot):
    """Thread `slot` stops issuing (switch or end): the QPU's accumulators r0-r5 and flags are
    what it left, for whichever thread of the QPU issues next.

    The accumulators belong to the QPU, not to the thread (hardware evidence, reference 1.2 and
    Appendix G.2: after a `thrsw` with no other thread on the QPU, r0-r3 keep their values);
    the flags are treated the same way. Each slot keeps a copy that is valid while it issues,
    so the hand-over copies them to the QPU's other slots. Where that changes what another
    thread left there, the value it will read was clobbered: strict mode reports the read
    (`T_VALID`) until the thread writes it again. Equal values (say, both threads keep the
    same constant in r3) are not clobbered.
    """
    regs, lanes, ts = m.regs, m.lanes, m.ts
    nt = m.jp[J_NTHREADS]
    base = ts[slot, T_QPU] * nt
    for k in range(nt):
        other = base + k
        if other == slot:
            continue
        for r in range(6):
            changed = False
            for lane in range(16):
                if regs[other, R_ACC + r, lane] != regs[slot, R_ACC + r, lane]:
                    regs[other, R_ACC + r, lane] = regs[slot, R_ACC + r, lane]
                    changed = True
            if changed:
                ts[other, T_VALID] &= ~(1 << r)
        changed = False
        for lane in range(16):
            if (lanes[other, L_FA, lane] != lanes[slot, L_FA, lane]
                    or lanes[other, L_FB, lane] != lanes[slot, L_FB, lane]):
                lanes[other, L_FA, lane] = lanes[slot, L_FA, lane]
                lanes[other, L_FB, lane] = lanes[slot, L_FB, lane]
                changed = True
        if changed:
            ts[other, T_VALID] &= ~V_FLAGS


@jit_lean
def switch_out(m, slot, pc):
    """A thread switch of thread `slot` of the job `m` (a `state.Machine`) takes effect: hand the
    QPU's accumulators and flags over (reference 1.2, Appendix G.2) and block the thread at a
    barrier if it wrote syncb (12.4). Returns a hazard event or 0."""
    lanes, ts, qs, gs, jp = m.lanes, m.ts, m.qs, m.gs, m.jp
    sg_arrive, sg_need, sg_time = m.sg_arrive, m.sg_need, m.sg_time
    q = ts[slot, T_QPU]
    if jp[J_STRICT] != 0:
        if ts[slot, T_TMU_SEQ] != 0:
            return hazard(gs, H_SWITCH_IN_SEQUENCE, slot, pc, 0)
        if ts[slot, T_UNIFA_AGE] < 3:
            return hazard(gs, H_UNIFA_ACROSS_SWITCH, slot, pc, 0)
    hand_over(m, slot)
    # rtop only matters when a multop is waiting for its umul24 (a lone umul24 reads 0)
    pending = False
    for lane in range(16):
        if lanes[slot, L_RTOP, lane] != 0:
            pending = True
    keep = ts[slot, T_VALID] & (63 | V_FLAGS)
    if jp[J_STRICT] == STRICT_MESA:
        keep = 0  # Mesa's convention: nothing of r0-r5 and the flags survives a switch
    ts[slot, T_VALID] = keep | (0 if pending else V_RTOP)
    ts[slot, T_READY] = qs[q, Q_TIME]
    nt = jp[J_NTHREADS]
    qs[q, Q_CUR] = slot
    if ts[slot, T_BARRIER] != 0:
        ts[slot, T_BARRIER] = 0
        sg = ts[slot, T_SG]
        ts[slot, T_STATUS] = TS_BARRIER
        sg_arrive[sg] += 1
        sg_time[sg] = max(sg_time[sg], qs[q, Q_TIME])
        if sg_arrive[sg] >= sg_need[sg]:
            sg_arrive[sg] = 0
            for s in range(ts.shape[0]):
                if ts[s, T_STATUS] == TS_BARRIER and ts[s, T_SG] == sg:
                    ts[s, T_STATUS] = TS_RUN
                    ts[s, T_READY] = sg_time[sg]
    if nt == 1:
        return 0
    # Round robin: the next thread of this QPU gets the issue slot.
    qs[q, Q_CUR] = next_runnable(ts, q, nt, slot - q * nt)
    return 0


@jit_lean
def end_thread(m, slot, pc):
    """The thread-end thrsw's delay slots of thread `slot` of the job `m` (a `state.Machine`) are
    done: check the program-end rules (13.5, 13.6) and free the slot."""
    ts, qs, gs, jp = m.ts, m.qs, m.gs, m.jp
    if jp[J_STRICT] != 0:
        if ts[slot, T_FIFO_COUNT] != 0:
            return hazard(gs, H_END_RESULTS, slot, pc, ts[slot, T_FIFO_COUNT])
        if ts[slot, T_WRITES] != 0 and jp[J_STRICT] >= STRICT_MESA:
            return hazard(gs, H_END_WRITES, slot, pc, ts[slot, T_WRITES])
        if ts[slot, T_TMU_SEQ] != 0:
            return hazard(gs, H_SWITCH_IN_SEQUENCE, slot, pc, 0)
    hand_over(m, slot)
    q = ts[slot, T_QPU]
    # Outstanding TMU writes still occupy the thread slot until they complete.
    qs[q, Q_TIME] = max(qs[q, Q_TIME], ts[slot, T_WRITE_DONE])
    ts[slot, T_STATUS] = TS_FREE
    m.sg_need[ts[slot, T_SG]] -= 1  # an ended batch never arrives at a barrier again
    gs[G_LIVE] -= 1
    gs[G_ENDED] += 1
    nt = jp[J_NTHREADS]
    qs[q, Q_CUR] = next_runnable(ts, q, nt, slot - q * nt)
    return 0

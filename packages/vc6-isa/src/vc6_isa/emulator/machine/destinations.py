"""Destinations: writing results to registers, accumulators and magic addresses."""

from ..hazards import H_RF_4THREAD, H_TMUD_TOO_MANY, H_UNSUPPORTED_MAGIC
from ..jit import jit_lean
from ..layout import (
    EV_MMU,
    G_SFU,
    J_NTHREADS,
    J_STRICT,
    L_R4PEND,
    L_TMUD,
    R_ACC,
    T_BARRIER,
    T_BR_CD,
    T_BR_UNIF,
    T_BR_UNIF_ALT,
    T_R4_CD,
    T_TMU_CFG,
    T_TMU_NDATA,
    T_TMU_SEQ,
    T_UNIFA,
    T_UNIFA_AGE,
    T_UNIFA_LINE,
    T_VALID,
)
from .lanes import copy_row
from .memory import hazard, next_uniform
from .ops import (
    MAGIC_SFU_FIRST,
    MAGIC_SFU_LAST,
    WADDR_NOP,
    WADDR_R5,
    WADDR_R5REP,
    WADDR_SYNCB,
    WADDR_TMUA,
    WADDR_TMUAU,
    WADDR_TMUC,
    WADDR_TMUD,
    WADDR_UNIFA,
    sfu_eval,
)
from .tmu import tmu_lookup


@jit_lean
def write_dest(m, slot, pc, w, magic, sc, vrow, mrow, from_alu):
    """Write the 16 lane values sc[vrow] of thread `slot` of the job `m` (a `state.Machine`) to
    a destination (rf, accumulator or magic address, reference 8). sc[mrow] holds the lanes the
    write's condition enables. Returns an event or 0."""
    regs, lanes, ts, gs, jp = m.regs, m.lanes, m.ts, m.gs, m.jp
    if magic == 0:
        if w >= 32 and jp[J_NTHREADS] == 4 and jp[J_STRICT] != 0:
            return hazard(gs, H_RF_4THREAD, slot, pc, w)
        for i in range(16):
            if sc[mrow, i] != 0:
                regs[slot, w, i] = sc[vrow, i]
        return 0
    if w < WADDR_R5:
        for i in range(16):
            if sc[mrow, i] != 0:
                regs[slot, R_ACC + w, i] = sc[vrow, i]
        ts[slot, T_VALID] |= 1 << w
        return 0
    if w == WADDR_R5:
        # ALU writes to r5 broadcast lane 4q to quad q (reference 10.9); signals fill every lane.
        for i in range(16):
            if sc[mrow, i] != 0:
                regs[slot, R_ACC + 5, i] = sc[vrow, (i >> 2) << 2] if from_alu else sc[vrow, i]
        ts[slot, T_VALID] |= 32
        return 0
    if w == WADDR_NOP:
        return 0
    if w == WADDR_R5REP:
        for i in range(16):
            if sc[mrow, i] != 0:
                regs[slot, R_ACC + 5, i] = sc[vrow, 0]
        ts[slot, T_VALID] |= 32
        return 0
    if w == WADDR_UNIFA:
        # unifa: the pointer comes from lane 0 (reference 12.2)
        ts[slot, T_UNIFA] = sc[vrow, 0]
        ts[slot, T_UNIFA_AGE] = 0
        ts[slot, T_UNIFA_LINE] = -1  # the new stream starts with a fetch (CycleModel)
        if ts[slot, T_BR_CD] > 0 and ts[slot, T_BR_UNIF_ALT] >= 0:
            ts[slot, T_BR_UNIF] = ts[slot, T_BR_UNIF_ALT]  # see exec_branch (Appendix G.8)
        return 0
    if w == WADDR_TMUD:
        k = ts[slot, T_TMU_NDATA]
        if k >= 4:
            return hazard(gs, H_TMUD_TOO_MANY, slot, pc, k + 1)
        copy_row(lanes[slot, L_TMUD + k], sc[vrow])
        ts[slot, T_TMU_NDATA] = k + 1
        ts[slot, T_TMU_SEQ] = 1
        return 0
    if w == WADDR_TMUC:
        # tmuc: configuration register for the following lookups (one byte each)
        ts[slot, T_TMU_CFG] = sc[vrow, 0]
        ts[slot, T_TMU_SEQ] = 1
        return 0
    if w == WADDR_TMUA or w == WADDR_TMUAU:
        if w == WADDR_TMUAU:
            u = next_uniform(slot, pc, ts, gs, m.hosts, m.bases, m.sizes)
            if u < 0:
                return EV_MMU
            ts[slot, T_TMU_CFG] = u
        cfgreg = ts[slot, T_TMU_CFG]
        cfg = cfgreg & 0xFF
        ts[slot, T_TMU_CFG] = (cfgreg >> 8) | 0xFF000000
        return tmu_lookup(m, slot, pc, sc, vrow, mrow, cfg)
    if w == WADDR_SYNCB:
        # syncb: barrier at the next thread switch (reference 12.4)
        ts[slot, T_BARRIER] = 1
        return 0
    if MAGIC_SFU_FIRST <= w <= MAGIC_SFU_LAST:
        # legacy SFU: r4 receives the result at t+2 (reference 11.1)
        for i in range(16):
            lanes[slot, L_R4PEND, i] = sfu_eval(w - MAGIC_SFU_FIRST, sc[vrow, i])
        ts[slot, T_R4_CD] = 2
        gs[G_SFU] += 1
        return 0
    return hazard(gs, H_UNSUPPORTED_MAGIC, slot, pc, w)

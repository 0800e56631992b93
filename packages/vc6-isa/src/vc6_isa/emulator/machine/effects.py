"""Effects of issuing an instruction that the general path (`issue.step`, `alu.exec_alu`) and the
fast path (`issue.fast_step`) share: counters, ages, the TMU result FIFO, the
previous-instruction record and the PC. Each effect is written once, here."""

import numpy as np

from ..hazards import H_BUDGET
from ..jit import jit_lean_inline
from ..layout import (
    FIFO_CAP,
    G_INSTRS,
    G_USEFUL,
    J_BUDGET,
    J_ISSUE,
    P_ACARRY,
    P_AFLOAT,
    P_APF,
    P_AUF,
    P_MCARRY,
    P_MFLOAT,
    P_MPF,
    P_MUF,
    P_USEFUL,
    Q_BUSY,
    Q_TIME,
    Q_TMU_STALL,
    T_BR_AGE,
    T_BR_CD,
    T_BR_PC,
    T_BR_UNIF,
    T_END_AGE,
    T_FIFO_COUNT,
    T_FIFO_HEAD,
    T_INSTRS,
    T_PC,
    T_PREV_ACC,
    T_PREV_RF0,
    T_PREV_RF1,
    T_PREV_RF2,
    T_THRSW_AGE,
    T_UNIF,
    T_UNIFA_AGE,
)
from ..semantics import float_carry
from .memory import hazard
from .operands import write_flags


@jit_lean_inline
def begin_issue(m, slot, q):
    """Count one issued instruction of thread `slot` on QPU `q` of the job `m` (a
    `state.Machine`) and age its delay counters."""
    ts, qs, gs, jp = m.ts, m.qs, m.gs, m.jp
    ts[slot, T_THRSW_AGE] += 1
    ts[slot, T_BR_AGE] += 1
    ts[slot, T_UNIFA_AGE] += 1
    if ts[slot, T_END_AGE] >= 0:
        ts[slot, T_END_AGE] += 1
    qs[q, Q_TIME] += jp[J_ISSUE]
    qs[q, Q_BUSY] += jp[J_ISSUE]
    gs[G_INSTRS] += 1
    ts[slot, T_INSTRS] += 1


@jit_lean_inline
def pop_tmu_result(m, slot, q):
    """ldtmu: wait (stalling QPU `q`) for the oldest TMU result of thread `slot`; returns its
    FIFO row."""
    ts, qs, fifo_ready = m.ts, m.qs, m.fifo_ready
    head = ts[slot, T_FIFO_HEAD]
    ready = fifo_ready[slot, head]
    if ready > qs[q, Q_TIME]:
        qs[q, Q_TMU_STALL] += ready - qs[q, Q_TIME]
        qs[q, Q_TIME] = ready
    ts[slot, T_FIFO_HEAD] = (head + 1) % FIFO_CAP
    ts[slot, T_FIFO_COUNT] -= 1
    return head


@jit_lean_inline
def retire_alu(m, slot, pc, prev_acc, rf0, rf1, rf2):
    """Record what an ALU instruction wrote (for the next one's checks) and its useful ops."""
    record_writes(m.ts, slot, prev_acc, rf0, rf1, rf2)
    count_useful(m, pc)


@jit_lean_inline
def record_writes(ts, slot, prev_acc, rf0, rf1, rf2):
    """The previous-write record of thread `slot`: the accumulators (a bit set) and the
    register-file entries (-1: none) its last instruction wrote, which the next one's checks
    read."""
    ts[slot, T_PREV_ACC] = prev_acc
    ts[slot, T_PREV_RF0] = rf0
    ts[slot, T_PREV_RF1] = rf1
    ts[slot, T_PREV_RF2] = rf2


@jit_lean_inline
def count_useful(m, pc):
    """Count the useful ops (not a nop) of the ALU instruction at `pc`."""
    m.gs[G_USEFUL] += m.prog[pc, P_USEFUL]


@jit_lean_inline
def update_flags(m, slot, pc, sc):
    """Push or update the flags of thread `slot` as the instruction at `pc` asks (its pf/uf
    fields), from the ALU results in sc[4] (add) and sc[5] (mul), carries in sc[6] and sc[7].
    Returns whether either ALU wrote them."""
    prog = m.prog
    apf = prog[pc, P_APF]
    auf = prog[pc, P_AUF]
    mpf = prog[pc, P_MPF]
    muf = prog[pc, P_MUF]
    wrote = False
    for which in range(2):
        pf = apf if which == 0 else mpf
        uf = auf if which == 0 else muf
        if pf != 0 or uf != 0:
            if prog[pc, P_ACARRY if which == 0 else P_MCARRY] != 0:
                # the op's dispatch left the carry out (semantics.CARRY_FROM_RESULT)
                for i in range(16):
                    # int64 as semantics._float_out passes it: one compiled float_carry
                    sc[6 + which, i] = float_carry(np.int64(sc[4 + which, i]))
            fl = prog[pc, P_AFLOAT] if which == 0 else prog[pc, P_MFLOAT]
            write_flags(slot, pf, uf, fl, sc, 4 + which, 6 + which, m.lanes)
            wrote = True
    return wrote


@jit_lean_inline
def over_budget(m, slot, pc, q):
    """The cycle-budget hazard when QPU `q` has run past the job's budget, else 0."""
    if m.qs[q, Q_TIME] > m.jp[J_BUDGET]:
        return hazard(m.gs, H_BUDGET, slot, pc, m.jp[J_BUDGET])
    return 0


@jit_lean_inline
def advance_pc(slot, pc, ts):
    """Move thread `slot` past `pc`, landing a pending branch after its third delay slot."""
    nxt = pc + 1
    if ts[slot, T_BR_CD] > 0:
        ts[slot, T_BR_CD] -= 1
        if ts[slot, T_BR_CD] == 0:
            nxt = ts[slot, T_BR_PC]
            if ts[slot, T_BR_UNIF] >= 0:
                ts[slot, T_UNIF] = ts[slot, T_BR_UNIF]
                ts[slot, T_BR_UNIF] = -1
    ts[slot, T_PC] = nxt

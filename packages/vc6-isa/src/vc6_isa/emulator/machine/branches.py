"""Branches: conditions, targets, link and the delay slots."""

import numpy as np

from ..hazards import (
    H_BRANCH_AFTER_UNIFA,
    H_BRANCH_IN_DELAY,
    H_BRANCH_IN_THRSW_DELAY,
    H_BRANCH_TARGET,
    H_FLAGS_UNDEFINED,
    STRICT_MESA,
)
from ..jit import jit_lean
from ..layout import (
    EV_MMU,
    J_CODE,
    J_NROWS,
    J_STRICT,
    L_FA,
    L_MSF,
    P_BCOND,
    P_BDI,
    P_BDU,
    P_LINK,
    P_MSFIGN,
    P_OFFSET,
    P_RADDR_A,
    P_UB,
    T_BR_AGE,
    T_BR_CD,
    T_BR_PC,
    T_BR_UNIF,
    T_BR_UNIF_ALT,
    T_LINK,
    T_THRSW_CD,
    T_UNIF,
    T_UNIFA_AGE,
    T_VALID,
    V_FLAGS,
)
from .memory import MASK32, hazard, next_uniform


@jit_lean
def exec_branch(m, slot, pc):
    """Execute the branch at `pc` of thread `slot` of the job `m` (a `state.Machine`; reference
    9): evaluate the condition now, land after 3 delay slots."""
    prog, regs, lanes, ts, gs, jp = m.prog, m.regs, m.lanes, m.ts, m.gs, m.jp
    strict = jp[J_STRICT] != 0
    if strict:
        if ts[slot, T_BR_AGE] <= 3:
            return hazard(gs, H_BRANCH_IN_DELAY, slot, pc, 0)
        if ts[slot, T_THRSW_CD] > 0:
            return hazard(gs, H_BRANCH_IN_THRSW_DELAY, slot, pc, 0)
        if ts[slot, T_UNIFA_AGE] <= 3 and jp[J_STRICT] >= STRICT_MESA:
            return hazard(gs, H_BRANCH_AFTER_UNIFA, slot, pc, 0)
    cond = prog[pc, P_BCOND]
    msfign = prog[pc, P_MSFIGN]
    if cond != 0 and strict and (ts[slot, T_VALID] & V_FLAGS) == 0:
        return hazard(gs, H_FLAGS_UNDEFINED, slot, pc, 0)
    taken = True
    if cond == 2:
        taken = lanes[slot, L_FA, 0] != 0
    elif cond == 3:
        taken = lanes[slot, L_FA, 0] == 0
    elif cond >= 4:
        # all/any over the lanes that msfign keeps (UNCERTAIN when none is kept: vacuous truth)
        want_set = cond == 4 or cond == 6
        is_all = cond == 4 or cond == 7
        result = is_all
        for i in range(16):
            if msfign == 1 and lanes[slot, L_MSF, i] == 0:
                continue
            if msfign == 2:
                qb = i & 12
                if (
                    lanes[slot, L_MSF, qb]
                    | lanes[slot, L_MSF, qb + 1]
                    | lanes[slot, L_MSF, qb + 2]
                    | lanes[slot, L_MSF, qb + 3]
                ) == 0:
                    continue
            f = (lanes[slot, L_FA, i] != 0) == want_set
            if is_all and not f:
                result = False
            if not is_all and f:
                result = True
        taken = result
    code = jp[J_CODE]
    if prog[pc, P_LINK] != 0:
        # link register: the address after the last delay slot (UNCERTAIN for not-taken branches)
        ts[slot, T_LINK] = code + (pc + 4) * 8
    # uniform stream redirection (consumes a uniform for abs/rel whether or not taken)
    new_unif = -1
    alt_unif = -1
    if prog[pc, P_UB] != 0:
        bdu = prog[pc, P_BDU]
        if bdu == 0 or bdu == 1:
            u = next_uniform(slot, pc, ts, gs, m.hosts, m.bases, m.sizes)
            if u < 0:
                return EV_MMU
            if bdu == 0:
                new_unif = u
            else:
                su = u - (1 << 32) if u >= (1 << 31) else u
                new_unif = (ts[slot, T_UNIF] + su) & MASK32
        elif bdu == 3:
            # From a register: lane 1 (observed on hardware, 9.2; py-videocore6
            # test_uniform_branch_reg, test_unifa part 3). But with a unifa write in the branch's
            # delay slots, test_unifa part 2 reads from lane 0's address on hardware (Appendix
            # G.8). Inferred rule, consistent with all three: such a unifa write makes the branch
            # take lane 0 (write_dest switches to T_BR_UNIF_ALT). UNCERTAIN; an equally consistent
            # alternative is that the low 3 bits of the register's lane-1 address are ignored.
            new_unif = regs[slot, prog[pc, P_RADDR_A], 1]
            alt_unif = regs[slot, prog[pc, P_RADDR_A], 0]
        elif bdu == 2:
            new_unif = ts[slot, T_LINK]
    ts[slot, T_BR_AGE] = 0
    if not taken:
        return 0
    bdi = prog[pc, P_BDI]
    if bdi == 1:
        target = code + (pc + 4) * 8 + prog[pc, P_OFFSET]
    elif bdi == 0:
        target = prog[pc, P_OFFSET]
    elif bdi == 2:
        target = ts[slot, T_LINK]
    else:
        target = np.int64(regs[slot, prog[pc, P_RADDR_A], 0])
    idx = (target - code) // 8
    if target < code or (target - code) % 8 != 0 or idx >= jp[J_NROWS]:
        return hazard(gs, H_BRANCH_TARGET, slot, pc, target)
    ts[slot, T_BR_CD] = 4  # decremented at the end of this instruction too
    ts[slot, T_BR_PC] = idx
    ts[slot, T_BR_UNIF] = new_unif
    ts[slot, T_BR_UNIF_ALT] = alt_unif
    return 0

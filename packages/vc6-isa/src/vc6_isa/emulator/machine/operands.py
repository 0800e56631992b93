"""Operands and flags: source rows, operand reads, conditions and flag updates."""

from ..hazards import H_ACC_UNDEFINED, H_R4_EARLY, H_RF_4THREAD
from ..jit import jit_lean, jit_lean_inline
from ..layout import J_NTHREADS, L_FA, L_FB, R_ACC, T_R4_CD, T_VALID, operand_row
from ..semantics import flag_z_n
from .memory import hazard

#: Row of `regs` an operand mux reads; -2 for the small immediate (layout.operand_row).
source_row = jit_lean_inline(operand_row)


@jit_lean
def check_read(slot, rrow, regs, ts, gs, jp, pc):
    """Strict-mode checks for reading register row `rrow` (reference 1.2, 1.3, 13.2/6)."""
    if rrow < 0:
        return 0
    if rrow >= R_ACC:
        acc = rrow - R_ACC
        if acc == 4 and ts[slot, T_R4_CD] == 1:
            return hazard(gs, H_R4_EARLY, slot, pc, 4)
        if (ts[slot, T_VALID] >> acc) & 1 == 0:
            return hazard(gs, H_ACC_UNDEFINED, slot, pc, acc)
    elif rrow >= 32 and jp[J_NTHREADS] == 4:
        return hazard(gs, H_RF_4THREAD, slot, pc, rrow)
    return 0


@jit_lean_inline
def load_operand(slot, rrow, imm, regs, sc, k):
    if rrow == -2:
        for i in range(16):
            sc[k, i] = imm
    else:
        for i in range(16):
            sc[k, i] = regs[slot, rrow, i]


@jit_lean_inline
def cond_mask(cond, slot, lanes, sc, k):
    """Lanes an `ifa`/`ifb`/`ifna`/`ifnb` write reaches, from the flags before this
    instruction (reference 10.1 step 6)."""
    for i in range(16):
        if cond == 0:
            sc[k, i] = 1
        elif cond == 1:
            sc[k, i] = lanes[slot, L_FA, i]
        elif cond == 2:
            sc[k, i] = lanes[slot, L_FB, i]
        elif cond == 3:
            sc[k, i] = 1 - lanes[slot, L_FA, i]
        else:
            sc[k, i] = 1 - lanes[slot, L_FB, i]


@jit_lean_inline
def write_flags(slot, pf, uf, is_float, sc, kres, kcarry, lanes):
    """Flag push (B <- A, A <- Z/N/C) or update of A (reference 10.7)."""
    for i in range(16):
        r = sc[kres, i]
        z, n = flag_z_n(r, is_float)
        c = sc[kcarry, i] != 0
        if pf != 0:
            x = z if pf == 1 else (n if pf == 2 else c)
            lanes[slot, L_FB, i] = lanes[slot, L_FA, i]
            lanes[slot, L_FA, i] = 1 if x else 0
        else:
            grp = (uf - 4) >> 2
            x = z if grp == 0 else (n if grp == 1 else c)
            a = lanes[slot, L_FA, i] != 0
            k = uf & 3
            if k == 0:
                na = a and x
            elif k == 1:
                na = a and not x
            elif k == 2:
                na = not (a or not x)
            else:
                na = not (a or x)
            lanes[slot, L_FA, i] = 1 if na else 0

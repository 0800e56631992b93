"""Operands and flags: source rows, operand reads, conditions and flag updates."""

from ..hazards import (
    H_ACC_UNDEFINED,
    H_R4_EARLY,
    H_RF_4THREAD,
    H_ROT_R5_WRITTEN,
    H_ROT_SOURCE_WRITTEN,
)
from ..jit import jit_lean, jit_lean_inline
from ..layout import (
    J_NTHREADS,
    L_FA,
    L_FB,
    P_MA,
    P_RADDR_A,
    P_RADDR_B,
    R_ACC,
    T_PREV_ACC,
    T_PREV_RF0,
    T_PREV_RF1,
    T_PREV_RF2,
    T_R4_CD,
    T_VALID,
    operand_row,
)
from ..semantics import flag_z_n
from .lanes import copy_row, fill_row
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
    """sc[k] <- register row `rrow` of thread `slot`, or the small immediate `imm` (rrow -2)."""
    if rrow == -2:
        fill_row(sc[k], imm)
    else:
        copy_row(sc[k], regs[slot, rrow])


@jit_lean_inline
def rot_hazard(slot, pc, prog, ts):
    """The strict-mode rule the `rot` instruction at `pc` breaks in thread `slot`, as (hazard
    code, argument), or (0, 0): the rotation amount from r5 or a rotated source written by the
    previous instruction (reference 10.10)."""
    ra = prog[pc, P_RADDR_A]
    if prog[pc, P_RADDR_B] == 0 and (ts[slot, T_PREV_ACC] & 32) != 0:
        return H_ROT_R5_WRITTEN, 5
    for k in range(2):
        mux = prog[pc, P_MA + k]
        if mux < 0:
            continue
        if mux < 6 and (ts[slot, T_PREV_ACC] >> mux) & 1 != 0:
            return H_ROT_SOURCE_WRITTEN, R_ACC + mux
        if mux == 6 and (ts[slot, T_PREV_RF0] == ra or ts[slot, T_PREV_RF1] == ra or ts[slot, T_PREV_RF2] == ra):
            return H_ROT_SOURCE_WRITTEN, ra
    return 0, 0


@jit_lean_inline
def rotate_mul_operands(slot, pc, prog, regs, sc):
    """rot: both mul operands (sc[2], sc[3]) rotate across the lanes by raddr_b, or by r5 when
    raddr_b is 0 (reference 10.10); an accumulator operand rotates over all 16 lanes, a
    register-file operand within each quad. sc[8] is scratch."""
    rb = prog[pc, P_RADDR_B]
    n = rb & 15
    if rb == 0:
        n = regs[slot, R_ACC + 5, 0] & 15
    for k in range(2, 4):
        mux = prog[pc, P_MA + k - 2]
        if mux < 0:
            continue
        for i in range(16):
            sc[8, i] = sc[k, i]
        if mux < 6:
            for i in range(16):
                sc[k, i] = sc[8, (i - n) & 15]
        else:
            for i in range(16):
                sc[k, i] = sc[8, (i & 12) | ((i - n) & 3)]


@jit_lean_inline
def cond_mask(cond, slot, lanes, sc, k):
    """Lanes an `ifa`/`ifb`/`ifna`/`ifnb` write reaches, from the flags before this
    instruction (reference 10.1 step 6). Into sc[k]: 1 where the write lands, else 0."""
    if cond == 0:
        fill_row(sc[k], 1)
        return
    src = L_FA if cond == 1 or cond == 3 else L_FB
    if cond <= 2:
        copy_row(sc[k], lanes[slot, src])
    else:
        for i in range(16):
            sc[k, i] = 1 - lanes[slot, src, i]


@jit_lean_inline
def write_flags(slot, pf, uf, is_float, sc, kres, kcarry, lanes):
    """Flag push (B <- A, A <- Z/N/C) or update of A (reference 10.7), from the results in
    sc[kres] and the carries in sc[kcarry].

    Every lane takes the same branch, so the lane loop is written without branches (LLVM
    vectorises it): the source x is Z, N or C; a push sets A to x; an update (uf: andz, andnz,
    nornz, norz, then the same for N and C) sets A to (A xor inv_a) and (x xor inv_x), with
    inv_a set for the nor forms (uf bit 1) and inv_x for the n forms (uf bit 0):
    nor(A, not x) = not A and x, nor(A, x) = not A and not x."""
    push = pf != 0
    sel = pf - 1 if push else (uf - 4) >> 2  # 0 Z, 1 N, 2 C
    inv_a = 0 if push else (uf >> 1) & 1
    inv_x = 0 if push else uf & 1
    if push:
        copy_row(lanes[slot, L_FB], lanes[slot, L_FA])
    for i in range(16):
        z, n = flag_z_n(sc[kres, i], is_float)
        c = 1 if sc[kcarry, i] != 0 else 0
        x = z if sel == 0 else (n if sel == 1 else c)
        a = 1 if lanes[slot, L_FA, i] != 0 else 0
        lanes[slot, L_FA, i] = x if push else (a ^ inv_a) & (x ^ inv_x)

"""The ALUs: operand fetch, stateful ops, one ALU instruction with its signals."""

import numpy as np

from ..hazards import (
    H_FLAGS_UNDEFINED,
    H_LDTMU_EMPTY,
    H_R4_WRITE_EARLY,
    H_RTOP_UNDEFINED,
    H_SFU_IN_THRSW_DELAY,
    H_UNIFA_TOO_CLOSE,
    H_UNSUPPORTED_OP,
    H_UNSUPPORTED_SIGNAL,
)
from ..jit import jit_lean
from ..layout import (
    EV_MMU,
    G_SFU,
    J_LINE_SHIFT,
    J_STRICT,
    L_FA,
    L_FB,
    L_MSF,
    L_RTOP,
    P_AA,
    P_AAU,
    P_ABU,
    P_ACOND,
    P_AM,
    P_AOP,
    P_APACK,
    P_AW,
    P_IMM,
    P_MA,
    P_MAU,
    P_MBU,
    P_MCOND,
    P_MM,
    P_MOP,
    P_MPACK,
    P_MW,
    P_RADDR_A,
    P_RADDR_B,
    P_SIG,
    P_SIGADDR,
    P_SIGMAGIC,
    P_STATIC,
    Q_TIME,
    Q_TMU_STALL,
    R_ACC,
    SIG_LDTLB,
    SIG_LDTLBU,
    SIG_LDTMU,
    SIG_LDUNIF,
    SIG_LDUNIFA,
    SIG_LDUNIFARF,
    SIG_LDUNIFRF,
    SIG_LDVARY,
    SIG_ROT,
    SIG_SMIMM,
    SIG_WRTMUC,
    T_FIFO_COUNT,
    T_LINK,
    T_QPU,
    T_R4_CD,
    T_THREAD,
    T_THRSW_CD,
    T_THRSW_END,
    T_UNIFA,
    T_UNIFA_AGE,
    T_UNIFA_LINE,
    T_VALID,
    T_WRITE_DONE,
    T_WRITES,
    V_FLAGS,
    V_RTOP,
)
from ..semantics import pack_f32, unpack_f32
from .destinations import write_dest
from .effects import pop_tmu_result, retire_alu, update_flags
from .lanes import scratch_row
from .memory import MASK32, hazard, load_uniform_cold, mmu_fault, next_uniform
from .memory_model import unifa_line_fetch
from .operands import (
    check_read,
    cond_mask,
    load_operand,
    rot_hazard,
    rotate_mul_operands,
    source_row,
)
from .ops import (
    A_BARRIERID,
    A_EIDX,
    A_EXP,
    A_FDX,
    A_FDY,
    A_FLAFIRST,
    A_FLAPUSH,
    A_FLBPUSH,
    A_FLNAFIRST,
    A_FLPOP,
    A_LOG,
    A_LR,
    A_MSF,
    A_NOP,
    A_RECIP,
    A_RSQRT,
    A_RSQRT2,
    A_SETMSF,
    A_SETREVF,
    A_SIN,
    A_TIDX,
    A_TMUWT,
    A_VFLA,
    A_VFLB,
    A_VFLNA,
    A_VFLNB,
    M_MULTOP,
    M_NOP,
    M_UMUL24,
    MAGIC_SFU_FIRST,
    MAGIC_SFU_LAST,
    WADDR_R4,
    WADDR_R5REP,
    add_alu,
    derivative,
    mul_alu,
    multop_rtop,
    sfu_eval,
    umul24_rtop,
)


@jit_lean
def read_operands(m, slot, pc, smimm, rot, sc):
    """Fill sc[0..3] with add a, add b, mul a, mul b (after rotation of the mul operands)."""
    prog, regs, ts, gs, jp = m.prog, m.regs, m.ts, m.gs, m.jp
    strict = jp[J_STRICT] != 0
    ra = prog[pc, P_RADDR_A]
    rb = prog[pc, P_RADDR_B]
    imm = prog[pc, P_IMM]
    for k in range(4):
        mux = prog[pc, P_AA + k] if k < 2 else prog[pc, P_MA + k - 2]
        if mux < 0:
            continue
        srow = source_row(mux, ra, rb, smimm)
        if rot and k >= 2 and mux == 7:
            srow = rb  # not encodable by Mesa; read raddr_b as a register
        if strict:
            ev = check_read(slot, srow, regs, ts, gs, jp, pc)
            if ev != 0:
                return ev
        load_operand(slot, srow, imm, regs, sc, k)
    if rot:
        if strict:
            code, arg = rot_hazard(slot, pc, prog, ts)
            if code != 0:
                return hazard(gs, code, slot, pc, arg)
        rotate_mul_operands(slot, pc, prog, regs, sc)
    return 0


@jit_lean
def special_add(m, op, slot, pc, sc):
    """Add-ALU ops that need machine state (reference 10.7, 10.8, 10.5, 10.6). Result in sc[4],
    carry in sc[6]. Returns an event or 0."""
    prog, lanes, ts, qs, gs, jp = m.prog, m.lanes, m.ts, m.qs, m.gs, m.jp
    q = ts[slot, T_QPU]
    for i in range(16):
        sc[6, i] = 0
    if op == A_TIDX:
        v = (q << 2) | ts[slot, T_THREAD]
        for i in range(16):
            sc[4, i] = v
    elif op == A_EIDX:
        for i in range(16):
            sc[4, i] = i
    elif op == A_LR:
        for i in range(16):
            sc[4, i] = ts[slot, T_LINK] & MASK32
    elif op == A_MSF:
        for i in range(16):
            sc[4, i] = lanes[slot, L_MSF, i]
    elif op == A_VFLA or op == A_VFLNA or op == A_VFLB or op == A_VFLNB:
        if jp[J_STRICT] != 0 and (ts[slot, T_VALID] & V_FLAGS) == 0:
            return hazard(gs, H_FLAGS_UNDEFINED, slot, pc, 0)
        src = L_FA if (op == A_VFLA or op == A_VFLNA) else L_FB
        neg = op == A_VFLNA or op == A_VFLNB
        for i in range(16):
            f = lanes[slot, src, i] != 0
            sc[4, i] = 0x00010001 if (f != neg) else 0
    elif op == A_FLAFIRST or op == A_FLNAFIRST:
        if jp[J_STRICT] != 0 and (ts[slot, T_VALID] & V_FLAGS) == 0:
            return hazard(gs, H_FLAGS_UNDEFINED, slot, pc, 0)
        want = 1 if op == A_FLAFIRST else 0
        found = False
        for i in range(16):
            sc[4, i] = 0
            if not found and lanes[slot, L_FA, i] == want:
                sc[4, i] = 1
                found = True
    elif op == A_FLAPUSH or op == A_FLBPUSH:
        if jp[J_STRICT] != 0 and (ts[slot, T_VALID] & V_FLAGS) == 0:
            return hazard(gs, H_FLAGS_UNDEFINED, slot, pc, 0)
        src = L_FA if op == A_FLAPUSH else L_FB
        for i in range(16):
            sc[4, i] = (
                (np.int64(sc[0, i]) << 2) | (3 if lanes[slot, src, i] != 0 else 0)
            ) & MASK32
    elif op == A_FLPOP:
        # Result x >> 2 (observed on hardware); the effect on the flags is UNCERTAIN (reference
        # 10.7): the flags are left unchanged.
        for i in range(16):
            sc[4, i] = np.int64(sc[0, i]) >> 2
    elif op == A_BARRIERID:
        # The value is UNCERTAIN (reference 10.8); only writing it to syncb matters.
        for i in range(16):
            sc[4, i] = 0
    elif op == A_TMUWT:
        # stall until this thread's TMU writes are done (reference 12.1)
        done = ts[slot, T_WRITE_DONE]
        if done > qs[q, Q_TIME]:
            qs[q, Q_TMU_STALL] += done - qs[q, Q_TIME]
            qs[q, Q_TIME] = done
        ts[slot, T_WRITES] = 0
        for i in range(16):
            sc[4, i] = 0
    elif op == A_SETMSF:
        for i in range(16):
            if sc[10, i] != 0:
                lanes[slot, L_MSF, i] = sc[0, i]
            sc[4, i] = sc[0, i]
    elif op == A_SETREVF:
        for i in range(16):
            sc[4, i] = sc[0, i]
    elif op == A_FDX or op == A_FDY:
        for i in range(16):
            sc[8, i] = unpack_f32(sc[0, i], prog[pc, P_AAU])
        derivative(op == A_FDY, sc, 8, 4)
    elif sfu_index(op) >= 0:
        k = sfu_index(op)
        for i in range(16):
            sc[4, i] = sfu_eval(k, sc[0, i])
        gs[G_SFU] += 1
    elif op == A_NOP:
        pass
    else:
        return hazard(gs, H_UNSUPPORTED_OP, slot, pc, op)
    return 0


@jit_lean
def sfu_index(op):
    if op == A_RECIP:
        return 0
    if op == A_RSQRT:
        return 1
    if op == A_EXP:
        return 2
    if op == A_LOG:
        return 3
    if op == A_SIN:
        return 4
    if op == A_RSQRT2:
        return 5
    return -1


@jit_lean
def special_mul(m, op, slot, pc, sc):
    """Mul-ALU ops that need machine state: the rtop pair multop/umul24 (reference 10.11)."""
    lanes, ts, gs, jp = m.lanes, m.ts, m.gs, m.jp
    for i in range(16):
        sc[7, i] = 0
    if op == M_MULTOP:
        for i in range(16):
            r = multop_rtop(sc[2, i], sc[3, i])
            lanes[slot, L_RTOP, i] = r
            sc[5, i] = r
        ts[slot, T_VALID] |= V_RTOP
    elif op == M_UMUL24:
        if jp[J_STRICT] != 0 and (ts[slot, T_VALID] & V_RTOP) == 0:
            return hazard(gs, H_RTOP_UNDEFINED, slot, pc, 0)
        for i in range(16):
            sc[5, i] = umul24_rtop(sc[2, i], sc[3, i], lanes[slot, L_RTOP, i])
            lanes[slot, L_RTOP, i] = 0
    elif op == M_NOP:
        pass
    else:
        return hazard(gs, H_UNSUPPORTED_OP, slot, pc, op)
    return 0


@jit_lean
def exec_alu(m, slot, pc, sc):
    """Execute one ALU instruction of thread `slot` of the job `m` (a `state.Machine`;
    reference 10.1, 11)."""
    prog, regs, lanes, ts, qs, gs, jp = m.prog, m.regs, m.lanes, m.ts, m.qs, m.gs, m.jp
    hosts, bases, sizes = m.hosts, m.bases, m.sizes
    strict = jp[J_STRICT] != 0
    q = ts[slot, T_QPU]
    sig = prog[pc, P_SIG]
    smimm = (sig & SIG_SMIMM) != 0
    rot = (sig & SIG_ROT) != 0
    if strict:
        if prog[pc, P_STATIC] != 0:
            return hazard(gs, prog[pc, P_STATIC], slot, pc, 0)
        if ts[slot, T_R4_CD] == 1:
            # 13.2/6: nothing may write r4 or start another SFU at t+1
            for which in range(2):
                w = prog[pc, P_AW] if which == 0 else prog[pc, P_MW]
                mg = prog[pc, P_AM] if which == 0 else prog[pc, P_MM]
                if w >= 0 and mg != 0 and (w == WADDR_R4 or MAGIC_SFU_FIRST <= w <= MAGIC_SFU_LAST):
                    return hazard(gs, H_R4_WRITE_EARLY, slot, pc, w)
        if ts[slot, T_THRSW_CD] > 0 and ts[slot, T_THRSW_END] == 0:
            for which in range(2):
                w = prog[pc, P_AW] if which == 0 else prog[pc, P_MW]
                mg = prog[pc, P_AM] if which == 0 else prog[pc, P_MM]
                if MAGIC_SFU_FIRST <= w <= MAGIC_SFU_LAST and mg != 0:
                    return hazard(gs, H_SFU_IN_THRSW_DELAY, slot, pc, w)
    if (sig & (SIG_LDVARY | SIG_LDTLB | SIG_LDTLBU)) != 0:
        return hazard(gs, H_UNSUPPORTED_SIGNAL, slot, pc, sig)
    # 1-2: operands (everything reads the state before this instruction's writes)
    ev = read_operands(m, slot, pc, smimm, rot, sc)
    if ev != 0:
        return ev
    acond = prog[pc, P_ACOND]
    mcond = prog[pc, P_MCOND]
    if strict and (acond != 0 or mcond != 0) and (ts[slot, T_VALID] & V_FLAGS) == 0:
        return hazard(gs, H_FLAGS_UNDEFINED, slot, pc, 0)
    for which in range(2):
        cond_mask(acond if which == 0 else mcond, slot, lanes, sc, 10 + which)
    # 3-4: the two ALUs
    aop = prog[pc, P_AOP]
    if add_alu(aop, prog[pc, P_AAU], prog[pc, P_ABU], scratch_row(sc, 0), scratch_row(sc, 1), scratch_row(sc, 4),
               scratch_row(sc, 6), sc, 16):
        if sfu_index(aop) >= 0:
            gs[G_SFU] += 1
    else:
        ev = special_add(m, aop, slot, pc, sc)
        if ev != 0:
            return ev
    mop = prog[pc, P_MOP]
    if not mul_alu(mop, prog[pc, P_MAU], prog[pc, P_MBU], scratch_row(sc, 2), scratch_row(sc, 3), scratch_row(sc, 5),
                   scratch_row(sc, 7), sc, 16):
        ev = special_mul(m, mop, slot, pc, sc)
        if ev != 0:
            return ev
    # signal reads (before any write of this instruction)
    sigval_row = 12
    sig_writes = False
    if (sig & (SIG_LDUNIF | SIG_LDUNIFRF)) != 0:
        u = next_uniform(slot, pc, ts, gs, hosts, bases, sizes)
        if u < 0:
            return EV_MMU
        for i in range(16):
            sc[sigval_row, i] = u
        sig_writes = True
    if (sig & (SIG_LDUNIFA | SIG_LDUNIFARF)) != 0:
        if strict and ts[slot, T_UNIFA_AGE] < 4:
            return hazard(gs, H_UNIFA_TOO_CLOSE, slot, pc, ts[slot, T_UNIFA_AGE])
        addr = ts[slot, T_UNIFA]
        u = load_uniform_cold(addr, hosts, bases, sizes)
        if u < 0:
            return mmu_fault(gs, slot, pc, addr, 4)
        if (addr >> jp[J_LINE_SHIFT]) != ts[slot, T_UNIFA_LINE]:
            unifa_line_fetch(slot, addr >> jp[J_LINE_SHIFT], ts, qs, jp, m.fp)
        ts[slot, T_UNIFA] = addr + 4
        for i in range(16):
            sc[sigval_row, i] = u
        sig_writes = True
    if (sig & SIG_LDTMU) != 0:
        if ts[slot, T_FIFO_COUNT] == 0:
            return hazard(gs, H_LDTMU_EMPTY, slot, pc, 0)
        head = pop_tmu_result(m, slot, q)
        for i in range(16):
            sc[sigval_row, i] = m.fifo[slot, head, i]
        sig_writes = True
    if (sig & SIG_WRTMUC) != 0:
        # Texture configuration word (reference 11.4); general accesses take their
        # configuration from tmuc/tmuau, so the word is consumed and otherwise ignored.
        u = next_uniform(slot, pc, ts, gs, hosts, bases, sizes)
        if u < 0:
            return EV_MMU
    # 5-7: flags, then writes
    if update_flags(m, slot, pc, sc):
        ts[slot, T_VALID] |= V_FLAGS
    # The add ALU's result (`which` 0), the mul ALU's (1), then the signal's load (2), through
    # one call site of write_dest: each call site is a whole inlined copy of it (with its TMU
    # lookup), which costs compile time (issue 13; fast_step has one call site too).
    prev_acc = 0
    rf0 = -1
    rf1 = -1
    rf2 = -1
    for which in range(3):
        if which < 2:
            w = prog[pc, P_AW] if which == 0 else prog[pc, P_MW]
            if w < 0:
                continue
            magic = prog[pc, P_AM] if which == 0 else prog[pc, P_MM]
            pack = prog[pc, P_APACK] if which == 0 else prog[pc, P_MPACK]
            vrow = 4 + which
            mrow = 10 + which
            if pack != 0:
                # output pack: f32 -> f16 into one half, the other half keeps the destination's
                # old bits (reference 3.1)
                old_row = w if magic == 0 else (R_ACC + w if w <= 5 else -1)
                for i in range(16):
                    old = regs[slot, old_row, i] if old_row >= 0 else 0
                    sc[9, i] = pack_f32(sc[vrow, i], old, pack)
                vrow = 9
        else:
            if not sig_writes:
                break
            if (sig & (SIG_LDUNIF | SIG_LDUNIFA)) != 0:
                w = 5
                magic = 1
            else:
                w = prog[pc, P_SIGADDR]
                magic = prog[pc, P_SIGMAGIC]
            vrow = sigval_row
            mrow = 11  # every lane (the mul's mask is used by now)
            for i in range(16):
                sc[mrow, i] = 1
        ev = write_dest(m, slot, pc, w, magic, sc, vrow, mrow, which < 2)
        if ev != 0:
            return ev
        if magic == 0:
            if which == 0:
                rf0 = w
            elif which == 1:
                rf1 = w
            else:
                rf2 = w
        elif w <= 5:
            prev_acc |= 1 << w
        elif w == WADDR_R5REP and which < 2:  # (a signal's r5rep write is not recorded)
            prev_acc |= 32
    retire_alu(m, slot, pc, prev_acc, rf0, rf1, rf2)
    return 0

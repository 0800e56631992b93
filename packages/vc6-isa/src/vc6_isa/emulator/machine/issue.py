"""Issue: one instruction of one thread (general path) and the fast path for the common shape."""

from ..hazards import (
    H_END_RF_WRITE,
    H_END_TMUWT,
    H_PAST_END,
    H_SECOND_MARKER,
    H_THRSW_IN_BRANCH_DELAY,
    H_THRSW_TOO_CLOSE,
    STRICT_MESA,
)
from ..jit import jit_lean, jit_lean_inline, jit_out_of_line
from ..layout import (
    DST_NONE,
    DST_PERIPHERAL,
    FAST_PLAIN,
    FAST_SHAPE,
    J_LINE_SHIFT,
    J_NROWS,
    J_NTHREADS,
    J_STRICT,
    K_BRANCH,
    K_INVALID,
    L_R4PEND,
    P_AAU,
    P_ABU,
    P_ACC_READS,
    P_ACOND,
    P_ADST,
    P_AOP,
    P_AW,
    P_FAST,
    P_HIGH_RF,
    P_IMM,
    P_KIND,
    P_MCOND,
    P_MDST,
    P_MOP,
    P_MW,
    P_SDST,
    P_SIG,
    P_SRC,
    P_WACC,
    R_ACC,
    R_IMM,
    SIG_LDTMU,
    SIG_LDUNIF,
    SIG_LDUNIFA,
    SIG_LDUNIFARF,
    SIG_LDUNIFRF,
    SIG_LOADS,
    SIG_ROT,
    SIG_SMIMM,
    SIG_THRSW,
    T_BR_AGE,
    T_END_AGE,
    T_FIFO_COUNT,
    T_FINAL,
    T_MARKERS,
    T_PC,
    T_PREV_ACC,
    T_PREV_RF0,
    T_PREV_RF1,
    T_PREV_RF2,
    T_QPU,
    T_R4_CD,
    T_THRSW_AGE,
    T_THRSW_CD,
    T_THRSW_END,
    T_THRSW_NEXT,
    T_UNIF,
    T_UNIF_BO,
    T_UNIFA,
    T_UNIFA_AGE,
    T_UNIFA_LINE,
    T_VALID,
    V_FLAGS,
)
from .alu import exec_alu
from .branches import exec_branch
from .destinations import write_dest
from .effects import (
    advance_pc,
    begin_issue,
    count_useful,
    over_budget,
    pop_tmu_result,
    record_writes,
    update_flags,
)
from .lanes import copy_row, fill_row, register_row, scratch_row, select_row
from .memory import (
    consumed_uniform,
    find_region,
    hazard,
    uniform_in,
    uniform_line_ahead,
)
from .memory_model import unifa_line_fetch
from .operands import cond_mask, rot_hazard, rotate_mul_operands
from .ops import A_NOP, A_TMUWT, M_NOP, add_alu, add_alu_inline, mul_alu, mul_alu_inline
from .threads import end_thread, switch_out


@jit_lean_inline
def issue_branch(m, slot, pc):
    """The branch at `pc`, issued (begin_issue done): its effects, and no register written for
    the next instruction's checks. Returns 0 or an event."""
    ts = m.ts
    ev = exec_branch(m, slot, pc)
    if ev != 0:
        return ev
    ts[slot, T_PREV_ACC] = 0
    ts[slot, T_PREV_RF0] = -1
    ts[slot, T_PREV_RF1] = -1
    ts[slot, T_PREV_RF2] = -1
    return 0


@jit_out_of_line
def step(m, slot):
    """Issue one instruction of thread `slot` of the job `m` (a `state.Machine`). Returns 0, an
    event (EV_*), or -1 when the thread switched out or ended (the scheduler must pick again)."""
    prog, regs, lanes, ts, gs, jp = m.prog, m.regs, m.lanes, m.ts, m.gs, m.jp
    q = ts[slot, T_QPU]
    pc = ts[slot, T_PC]
    strict = jp[J_STRICT] != 0
    if pc < 0 or pc >= jp[J_NROWS]:
        return hazard(gs, H_PAST_END, slot, pc, 0)
    kind = prog[pc, P_KIND]
    if kind == K_INVALID:
        return hazard(gs, H_PAST_END, slot, pc, 0)
    # delayed legacy SFU result lands in r4 at t+2 (reference 11.1)
    if ts[slot, T_R4_CD] > 0:
        ts[slot, T_R4_CD] -= 1
        if ts[slot, T_R4_CD] == 0:
            for i in range(16):
                regs[slot, R_ACC + 4, i] = lanes[slot, L_R4PEND, i]
            ts[slot, T_VALID] |= 16
    begin_issue(m, slot, q)
    if kind == K_BRANCH:
        ev = issue_branch(m, slot, pc)
        if ev != 0:
            return ev
    else:
        sig = prog[pc, P_SIG]
        if (sig & SIG_THRSW) != 0:
            age = ts[slot, T_THRSW_AGE]
            if strict and ts[slot, T_BR_AGE] <= 3:
                return hazard(gs, H_THRSW_IN_BRANCH_DELAY, slot, pc, 0)
            if age == 1 and ts[slot, T_THRSW_END] == 0:
                # Second of two consecutive thrsw: the last-thread-switch marker (11.2). The
                # switch happens after this instruction's two delay slots (UNCERTAIN: after the
                # first thrsw's) and the thread is then in its final section.
                if strict and ts[slot, T_MARKERS] > 0:
                    return hazard(gs, H_SECOND_MARKER, slot, pc, 0)
                ts[slot, T_MARKERS] += 1
                ts[slot, T_FINAL] = 1
                ts[slot, T_THRSW_CD] = 3
            elif age == 2 and ts[slot, T_THRSW_END] == 0:
                # A thrsw in the last delay slot of a pending switch runs on hardware
                # (Appendix G.3; Mesa keeps them 3 apart). Model: the pending switch happens
                # after this instruction, this one two instructions after the thread resumes.
                if jp[J_STRICT] >= STRICT_MESA:
                    return hazard(gs, H_THRSW_TOO_CLOSE, slot, pc, age)
                ts[slot, T_THRSW_NEXT] = 1
            else:
                if strict and age <= 2:
                    return hazard(gs, H_THRSW_TOO_CLOSE, slot, pc, age)
                ts[slot, T_THRSW_CD] = (
                    3  # decremented at the end of this instruction too
                )
                if ts[slot, T_FINAL] != 0:
                    ts[slot, T_THRSW_END] = 1
                    ts[slot, T_END_AGE] = 0
            ts[slot, T_THRSW_AGE] = 0
        ev = exec_alu(m, slot, pc, m.sc)
        if ev != 0:
            return ev
        if strict and ts[slot, T_END_AGE] >= 0:
            # 13.5: no register-file writes at t, t+1, t+2 of the thread end; no tmuwt at t+2
            if (
                ts[slot, T_PREV_RF0] >= 0
                or ts[slot, T_PREV_RF1] >= 0
                or ts[slot, T_PREV_RF2] >= 0
            ):
                return hazard(gs, H_END_RF_WRITE, slot, pc, 0)
            if ts[slot, T_END_AGE] == 2 and prog[pc, P_AOP] == A_TMUWT:
                return hazard(gs, H_END_TMUWT, slot, pc, 0)
    ev = over_budget(m, slot, pc, q)
    if ev != 0:
        return ev
    advance_pc(slot, pc, ts)
    if ts[slot, T_THRSW_CD] > 0:
        ts[slot, T_THRSW_CD] -= 1
        if ts[slot, T_THRSW_CD] == 0:
            if ts[slot, T_THRSW_END] != 0:
                ev = end_thread(m, slot, pc)
            else:
                ev = switch_out(m, slot, pc)
                if ts[slot, T_THRSW_NEXT] != 0:
                    ts[slot, T_THRSW_NEXT] = 0
                    ts[slot, T_THRSW_CD] = 2
                    if ts[slot, T_FINAL] != 0:
                        ts[slot, T_THRSW_END] = 1
                        ts[slot, T_END_AGE] = 0  # the thrsw was the previous instruction
            if ev != 0:
                return ev
            return -1
    return 0




@jit_lean_inline
def fast_alu(m, slot, pc, which, plain, rot):
    """The op of the add (`which` 0) or mul (1) ALU of the row at `pc` over its operand rows
    (program.fast_columns; `rot`: the mul operands rotated into sc[2]/sc[3]) into sc[4 + which],
    its carry into sc[6 + which]. `plain` (as for `fast_step`): the dispatch copies LLVM inlines
    there first (dispatch.INLINED_IN_PLAIN: sgemm's fadd and fmul), then the called copy for the
    ops they leave out. `which` is a constant at each call: LLVM keeps one ALU's code in each."""
    prog, regs, sc = m.prog, m.regs, m.sc
    col = which * (P_MOP - P_AOP)  # the mul ALU's columns follow the add ALU's (layout)
    op = prog[pc, P_AOP + col]
    if op == (A_NOP if which == 0 else M_NOP):
        return
    if rot and which == 1:
        a = scratch_row(sc, 2)
        b = scratch_row(sc, 3)
    else:
        a = register_row(regs, slot, prog[pc, P_SRC + 2 * which])
        b = register_row(regs, slot, prog[pc, P_SRC + 2 * which + 1])
    au = prog[pc, P_AAU + col]
    bu = prog[pc, P_ABU + col]
    res = scratch_row(sc, 4 + which)
    car = scratch_row(sc, 6 + which)
    if which == 0:
        if not plain or not add_alu_inline(op, au, bu, a, b, res, car, sc, 16):
            add_alu(op, au, bu, a, b, res, car, sc, 16)
    elif not plain or not mul_alu_inline(op, au, bu, a, b, res, car, sc, 16):
        mul_alu(op, au, bu, a, b, res, car, sc, 16)


@jit_lean_inline
def fast_result(m, slot, which, row, cond, plain):
    """Write the result of the add (`which` 0) or mul (1) ALU, in sc[4 + which], to its register
    row (program.fast_columns): every lane, or those of the condition's mask sc[10 + which] when
    `cond` is set (`plain`: as for `fast_step`). Nothing for DST_NONE and DST_PERIPHERAL (a TMU
    register: `fast_step` calls the general path's writer)."""
    if row < 0:
        return
    sc = m.sc
    if plain or cond == 0:
        copy_row(m.regs[slot, row], sc[4 + which])
    else:
        select_row(m.regs[slot, row], sc[4 + which], sc[10 + which])


@jit_lean_inline
def uniform_region(slot, addr, ts, bases, sizes):
    """`memory.find_region(addr, 4, ...)`, the BO holding the uniform word at `addr` (-1: none),
    without the search when it is the BO of the thread's previous fast-path uniform read (ts
    T_UNIF_BO; a uniform stream stays in one BO): that BO holds the word and is the last one
    based at or below `addr`, which is exactly what the search finds."""
    n = bases.shape[0]
    r = ts[slot, T_UNIF_BO]
    if 0 <= r < n and bases[r] <= addr and addr + 4 <= bases[r] + sizes[r] and (r + 1 == n or bases[r + 1] > addr):
        return r
    r = find_region(addr, 4, bases, sizes)
    if r >= 0:
        ts[slot, T_UNIF_BO] = r
    return r


@jit_lean_inline
def acc_bit(row):
    """The valid bit of the accumulator a destination row (program.fast_columns) is, else 0."""
    return (1 << (row - R_ACC)) if row >= R_ACC else 0


@jit_lean_inline
def rf_row(row):
    """The register-file entry a destination row (program.fast_columns) is, else -1."""
    return row if 0 <= row < R_ACC else -1


@jit_lean_inline
def fast_writes(m, slot, pc):
    """The previous-write record (`effects.record_writes`) of the fast-path row at `pc`, from
    its destination rows (program.fast_columns: P_SDST is DST_NONE without a load)."""
    prog = m.prog
    record_writes(m.ts, slot, prog[pc, P_WACC], rf_row(prog[pc, P_ADST]), rf_row(prog[pc, P_MDST]),
                  rf_row(prog[pc, P_SDST]))


@jit_lean_inline
def fast_step(m, slot, pc, plain, q, four):
    """Issue one instruction of the common shape (program.fast_path_shape: pure ALU ops into
    rf/r0-r4 or a TMU register, optional ldunif/ldunifa/ldtmu) with the same effects as
    :func:`step`.

    `plain` (a constant at each call, so LLVM compiles one copy of this function for each
    value): the row is `layout.FAST_PLAIN` (program.fast_kind), and the copy for it leaves out
    the checks and effects of conditions, flag updates, TMU writes and `rot`, which such an
    instruction has none of. Its signals are at most the loads (`layout.PLAIN_SIGNALS`:
    ldunif, ldunifa, ldtmu, their rf forms); measured (issue 13), the other copy's checks cost
    ~5 ns per instruction, and 13 of sgemm's 17 non-plain inner-loop rows had only a load. The
    plain copy also leaves its previous-write record (`fast_writes`) to :func:`fast_run`.

    `q`: the thread's QPU; `four`: whether the job runs 4 threads per QPU (both constant over a
    stretch, read once by :func:`fast_run`, as are the delay slots that keep a thread off the
    fast path).

    Returns -1 when it did nothing because the general path must run (a check of :func:`step`
    might fire), 0 when the instruction was issued, or an event (EV_HAZARD for the cycle budget,
    as step; a hazard or MMU fault of a TMU write, raised by `write_dest` as under step).
    Everything else that could raise a hazard is checked before any state changes, so falling
    back to :func:`step` reproduces every message exactly; a TMU write runs at the point of the
    instruction where `alu.exec_alu` runs it, so its events leave the same state.
    """
    prog, regs, lanes, ts, gs, jp, sc = m.prog, m.regs, m.lanes, m.ts, m.gs, m.jp, m.sc
    hosts, bases, sizes = m.hosts, m.bases, m.sizes
    valid = ts[slot, T_VALID]
    # the reads and writes the strict checks of read_operands and step would question (the
    # operand and destination rows come from program.fast_columns)
    if (prog[pc, P_ACC_READS] & ~valid) != 0:
        return -1
    if prog[pc, P_HIGH_RF] != 0 and four:
        return -1
    sig = prog[pc, P_SIG]
    acond = 0
    mcond = 0
    uaddr = -1
    ureg = -1  # the BO holding the uniform word
    if not plain:
        acond = prog[pc, P_ACOND]
        mcond = prog[pc, P_MCOND]
        if (acond != 0 or mcond != 0) and (valid & V_FLAGS) == 0:
            return -1
    if (sig & SIG_LOADS) != 0:  # one test for the rows without a load (most plain rows)
        if (sig & (SIG_LDUNIF | SIG_LDUNIFRF)) != 0:
            uaddr = ts[slot, T_UNIF]
        elif (sig & (SIG_LDUNIFA | SIG_LDUNIFARF)) != 0:
            if ts[slot, T_UNIFA_AGE] + 1 < 4:
                return -1
            uaddr = ts[slot, T_UNIFA]
        if uaddr >= 0:
            ureg = uniform_region(slot, uaddr, ts, bases, sizes)
            if ureg < 0:
                return -1
        if uaddr < 0 and (sig & (SIG_LDUNIF | SIG_LDUNIFRF | SIG_LDUNIFA | SIG_LDUNIFARF)) != 0:
            return -1
        if (sig & SIG_LDTMU) != 0 and ts[slot, T_FIFO_COUNT] == 0:
            return -1
    if not plain and (sig & SIG_ROT) != 0 and jp[J_STRICT] != 0 and rot_hazard(slot, pc, prog, ts)[0] != 0:
        return -1
    # ---- from here on nothing can fail except the cycle budget, checked where step does
    begin_issue(m, slot, q)
    # every operand is a row of regs (P_SRC, program.fast_columns), the small immediate R_IMM;
    # the ALUs read them in place (nothing writes a register before both ALUs have read their
    # operands: fast_result runs after them), but for rot's, rotated in sc[2]/sc[3]
    if (sig & SIG_SMIMM) != 0:
        fill_row(regs[slot, R_IMM], prog[pc, P_IMM])
    rot = not plain and (sig & SIG_ROT) != 0
    if rot:
        copy_row(sc[2], regs[slot, prog[pc, P_SRC + 2]])
        copy_row(sc[3], regs[slot, prog[pc, P_SRC + 3]])
        rotate_mul_operands(slot, pc, prog, regs, sc)
    adst = prog[pc, P_ADST]
    mdst = prog[pc, P_MDST]
    if not plain:
        # write masks from the flags before this instruction (for conditional writes, and for
        # TMU writes, whose lookups take their lanes from the mask)
        if acond != 0 or adst == DST_PERIPHERAL:
            cond_mask(acond, slot, lanes, sc, 10)
        if mcond != 0 or mdst == DST_PERIPHERAL:
            cond_mask(mcond, slot, lanes, sc, 11)
    # the add ALU, then the mul ALU (written out as two calls: the machine is compiled without
    # LLVM's loop unrolling, jit._EntryLibrary, and a loop would pick its columns at run time)
    fast_alu(m, slot, pc, 0, plain, rot)
    fast_alu(m, slot, pc, 1, plain, rot)
    u = 0
    # a TMU write of this instruction (at most one: program.static_hazard, 13.1 rule 1)
    tmu_write = not plain and (adst == DST_PERIPHERAL or mdst == DST_PERIPHERAL)
    head = -1
    sdst = DST_NONE  # the signal's destination: only a load has one
    if (sig & SIG_LOADS) != 0:
        sdst = prog[pc, P_SDST]
        if uaddr >= 0:
            u = uniform_in(ureg, uaddr, hosts, bases)
            if (sig & (SIG_LDUNIF | SIG_LDUNIFRF)) != 0:
                consumed_uniform(slot, uaddr, ts, gs)
            else:
                # as exec_alu: a new line of the unifa stream is fetched (the thread stalls)
                # before the ldtmu below waits
                line = uaddr >> jp[J_LINE_SHIFT]
                if line != ts[slot, T_UNIFA_LINE]:
                    unifa_line_fetch(slot, line, ts, m.qs, jp, m.fp)
                    uniform_line_ahead(ureg, uaddr, hosts, bases)
                ts[slot, T_UNIFA] = uaddr + 4
        if (sig & SIG_LDTMU) != 0:
            head = pop_tmu_result(m, slot, q)
            if tmu_write:
                # the result is read now (as by exec_alu): the TMU write below may reuse its
                # FIFO row
                copy_row(sc[12], m.fifo[slot, head])
    if not plain and update_flags(m, slot, pc, sc):
        valid |= V_FLAGS
    # the results in exec_alu's order (add, then mul): a TMU write's events leave the same state
    fast_result(m, slot, 0, adst, acond, plain)
    if tmu_write:
        # one call site of the general path's writer (its inlined copies cost compile time)
        which = 0 if adst == DST_PERIPHERAL else 1
        ts[slot, T_VALID] = valid | acc_bit(adst)
        ev = write_dest(m, slot, pc, prog[pc, P_AW if which == 0 else P_MW], 1, sc, 4 + which, 10 + which, True)
        if ev != 0:
            return ev
    fast_result(m, slot, 1, mdst, mcond, plain)
    if sdst != DST_NONE:  # the signal's load
        if head >= 0 and tmu_write:
            copy_row(regs[slot, sdst], sc[12])
        elif head >= 0:
            # straight from the FIFO row (one row copy less): nothing has written it since the pop
            copy_row(regs[slot, sdst], m.fifo[slot, head])
        else:
            fill_row(regs[slot, sdst], u)
    # the accumulators written (P_WACC, from program.fast_columns) are defined from now on
    ts[slot, T_VALID] = valid | prog[pc, P_WACC]
    if not plain:
        fast_writes(m, slot, pc)
    # else fast_run records them once it leaves the stretch of plain rows
    count_useful(m, pc)
    ev = over_budget(m, slot, pc, q)
    if ev != 0:
        return ev
    advance_pc(slot, pc, ts)
    return 0


@jit_lean_inline
def fast_branch(m, slot, pc, q):
    """A branch within a stretch of fast-path instructions (thread `slot` on QPU `q`), with the
    same effects as :func:`step`."""
    ts = m.ts
    begin_issue(m, slot, q)
    ev = issue_branch(m, slot, pc)
    if ev != 0:
        return ev
    ev = over_budget(m, slot, pc, q)
    if ev != 0:
        return ev
    advance_pc(slot, pc, ts)
    return 0


@jit_lean
def fast_run(m, slot, limit):
    """Issue up to `limit` consecutive fast-path instructions of thread `slot` of the job `m`
    (a `state.Machine`; one call for a whole stretch of them). Returns how many were issued; stops at the first instruction that
    needs :func:`step`, or at an event (then recorded in gs[G_EVENT], as for step).

    It issues none while step's delay-slot countdowns run (an SFU result, a thread switch or the thread's
    end): only step changes them, so they are checked once per stretch, as is everything else a
    stretch cannot change (the QPU, the thread mode). Measured: sgemm 1024 ~10% faster than with
    them read per instruction (issue 13; docs/emulator-internals.md has the figures).

    The previous-write record of a plain row depends only on the row, and within a stretch only
    a row that is not plain reads it (its checks, `rot`'s): it is stored for the last plain row
    issued before such a row and when the stretch ends, not per plain row (a nop row ~0.8 ns
    faster, measured)."""
    prog, ts = m.prog, m.ts
    if ts[slot, T_R4_CD] != 0 or ts[slot, T_THRSW_CD] != 0 or ts[slot, T_END_AGE] >= 0:
        return 0
    q = ts[slot, T_QPU]
    four = m.jp[J_NTHREADS] == 4
    nrows = m.jp[J_NROWS]
    k = 0
    last = -1  # the plain row issued last while its previous-write record is not stored yet
    while k < limit:
        pc = ts[slot, T_PC]
        if pc < 0 or pc >= nrows:
            break
        fast = prog[pc, P_FAST]
        if fast == FAST_PLAIN:
            ev = fast_step(m, slot, pc, True, q, four)
            if ev >= 0:
                last = pc
        else:
            if last >= 0:  # the checks of what follows read it
                fast_writes(m, slot, last)
                last = -1
            if fast == FAST_SHAPE:
                ev = fast_step(m, slot, pc, False, q, four)
            elif prog[pc, P_KIND] == K_BRANCH:
                ev = fast_branch(m, slot, pc, q)
            else:
                break
        if ev < 0:
            break
        k += 1
        if ev > 0:
            break
    if last >= 0:
        fast_writes(m, slot, last)
    return k

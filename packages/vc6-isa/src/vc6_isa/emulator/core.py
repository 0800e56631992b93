# ruff: noqa: F821, PLR1730, SIM102
"""The emulator's run loop: all QPUs, threads, the batch scheduler, TMU queues and cycle counts.

This file is a *template*: `vc6_isa.emulator.dispatch` pastes it after the op dispatch it
generates from the ISA table (`add_alu`/`mul_alu` and the `A_*`/`M_*` op ids used below)
and compiles the result with numba (or runs it as plain Python when numba is missing). Do not
import it directly.

Everything here works on flat arrays (layout.py) so that numba compiles it to machine code;
there is no Python object per lane or per instruction. `run` executes until the job ends or
something needs Python: a broken rule (hazard code), an MMU fault, or, in trace/breakpoint mode,
after every instruction. All state lives in the arrays, so calling `run` again resumes.

Conventions: register values are uint32 stored in uint32 arrays; arithmetic is done on Python /
int64 integers and masked with `& MASK32` before storing.

Speed (benchmarks/emulator_speed.py): every function but `run` is compiled without numba's
reference counting (`jit_lean`: array arguments cost nothing per call), memory is reached by
host address (hostmem.py), and the common instruction shape (program.fast_path_shape) runs in
`fast_run`, many instructions per call, with the general `step` as the fallback for
everything else. Compile time: `inline='always'` (`*_inline`) only for small helpers of the
fast path, since numba types every inlined copy again; functions whose callers pass literal
constants get an explicit signature (`jit_sig`) so that numba compiles them once.
"""

MASK32 = 0xFFFFFFFF


# ----------------------------------------------------------------------------------------------
# memory


@jit_lean_inline
def find_region(addr, nbytes, bases, sizes):
    """Index of the BO holding [addr, addr+nbytes), or -1 (binary search over sorted bases)."""
    lo = 0
    hi = bases.shape[0] - 1
    while lo <= hi:
        mid = (lo + hi) >> 1
        if bases[mid] <= addr:
            lo = mid + 1
        else:
            hi = mid - 1
    idx = hi
    if idx < 0:
        return -1
    if addr + nbytes <= bases[idx] + sizes[idx]:
        return idx
    return -1


@jit_sig("int64(int64[::1], int64, int64, int64, int64)")
def mmu_fault(gs, slot, pc, addr, nbytes):
    gs[G_EVENT] = EV_MMU
    gs[G_EV_SLOT] = slot
    gs[G_EV_PC] = pc
    gs[G_EV_ARG] = addr
    gs[G_EV_ARG2] = nbytes
    return EV_MMU


@jit_lean_inline
def load(addr, size, hosts, bases, sizes):
    """Read a little-endian value of 1, 2 or 4 bytes; -1 when outside every BO.

    `hosts[r]` is the host address of BO `r`'s bytes (the executor keeps the arrays
    alive while the job runs), so memory is reached without passing arrays of arrays.
    """
    r = find_region(addr, size, bases, sizes)
    if r < 0:
        return -1
    host = hosts[r] + (addr - bases[r])
    if size == 4:
        return peek32(host)
    if size == 2:
        return peek8(host) | (peek8(host + 1) << 8)
    return peek8(host)


#: the same reader as a called function, for the general path (each inlined copy costs compile time)
load_cold = jit_sig("int64(int64, int64, int64[::1], int64[::1], int64[::1])")(load.py_func)


# The uniform streams do not see TMU writes of the same job (hardware evidence, reference 11.3
# and Appendix G.5: a uniform read after a TMU write and tmuwt returns the old value). Model:
# they read memory as it was when the job started. Before the TMU first writes into a page of
# a BO, the page is copied aside; uniform reads of copied pages read the copy. ``hosts`` has
# three parts (built by Executor._prepare): hosts[r] BO r's bytes, hosts[n + r] the copies (same
# offsets), hosts[2n + r] one flag byte per page of BO r (1 = copied). ldunifa reads the same
# way: Mesa (nir_to_vir.c, ntq_emit_load_unifa) uses unifa for SSBOs only when they are
# read-only, since "ldunifa won't see the shader writes to that address (possibly because
# ldunifa doesn't read from the L2T cache)". Not modelled: L2T evictions that would make a
# write visible to the uniform streams earlier.


@jit_lean
def keep_old_page(r, off, hosts, bases, sizes):
    """Copy the page of BO `r` holding byte offset `off` aside, once per job."""
    n = bases.shape[0]
    page = off >> UNIFORM_PAGE_SHIFT
    flag = hosts[2 * n + r] + page
    if peek8(flag) != 0:
        return
    start = page << UNIFORM_PAGE_SHIFT
    end = min(start + (1 << UNIFORM_PAGE_SHIFT), sizes[r])
    src = hosts[r]
    dst = hosts[n + r]
    k = start
    while k + 4 <= end:
        poke32(dst + k, peek32(src + k))
        k += 4
    while k < end:
        poke8(dst + k, peek8(src + k))
        k += 1
    poke8(flag, 1)


@jit_lean_inline
def load_uniform(addr, hosts, bases, sizes):
    """The 32-bit word a uniform stream (ldunif*, ldunifa*, tmuau, branch) reads at `addr`:
    memory as at the start of the job; -1 when outside every BO."""
    r = find_region(addr, 4, bases, sizes)
    if r < 0:
        return -1
    n = bases.shape[0]
    off = addr - bases[r]
    if peek8(hosts[2 * n + r] + (off >> UNIFORM_PAGE_SHIFT)) != 0:
        return peek32(hosts[n + r] + off)
    return peek32(hosts[r] + off)


load_uniform_cold = jit_sig("int64(int64, int64[::1], int64[::1], int64[::1])")(load_uniform.py_func)


@jit_sig("boolean(int64, int64, int64, int64[::1], int64[::1], int64[::1])")
def store(addr, size, value, hosts, bases, sizes):
    """TMU write of 1, 2 or 4 bytes little-endian; False when outside every BO."""
    r = find_region(addr, size, bases, sizes)
    if r < 0:
        return False
    off = addr - bases[r]
    keep_old_page(r, off, hosts, bases, sizes)
    keep_old_page(r, off + size - 1, hosts, bases, sizes)
    host = hosts[r] + off
    if size == 4:
        poke32(host, value & MASK32)
        return True
    for k in range(size):
        poke8(host + k, (value >> (8 * k)) & 0xFF)
    return True


# ----------------------------------------------------------------------------------------------
# events


@jit_sig("int64(int64[::1], int64, int64, int64, int64)")
def hazard(gs, code, slot, pc, arg):
    gs[G_EVENT] = EV_HAZARD
    gs[G_EV_CODE] = code
    gs[G_EV_SLOT] = slot
    gs[G_EV_PC] = pc
    gs[G_EV_ARG] = arg
    return EV_HAZARD


@jit_sig("int64(int64, int64, int64[:, ::1], int64[::1], int64[::1], int64[::1], int64[::1])")
def next_uniform(slot, pc, ts, gs, hosts, bases, sizes):
    """Consume one word of the uniform stream; -1 on an MMU fault (event already set)."""
    addr = ts[slot, T_UNIF]
    v = load_uniform_cold(addr, hosts, bases, sizes)
    if v < 0:
        mmu_fault(gs, slot, pc, addr, 4)
        return -1
    ts[slot, T_UNIF] = addr + 4
    gs[G_UNIF_READS] += 1
    return v


# ----------------------------------------------------------------------------------------------
# batches and threads


@jit_lean
def start_batch(slot, batch, t0, regs, lanes, ts, jp):
    """Start `batch` on thread slot `slot`: payload rf0/rf2, MSF, uniform pointer (ref. 15.3)."""
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
def fill_free_slots(regs, lanes, ts, qs, gs, jp):
    """Give every free thread slot the next batch, QPU by QPU within each thread number, so that
    batch b of a fresh dispatch lands on QPU b mod 8 (round robin over the QPUs)."""
    nq = jp[J_NQPU]
    nt = jp[J_NTHREADS]
    for t in range(nt):
        for q in range(nq):
            if gs[G_NEXT_BATCH] >= jp[J_NBATCHES]:
                return
            slot = q * nt + t
            if ts[slot, T_STATUS] == TS_FREE:
                start_batch(slot, gs[G_NEXT_BATCH], qs[q, Q_TIME], regs, lanes, ts, jp)
                gs[G_NEXT_BATCH] += 1
                gs[G_LIVE] += 1


@jit_lean
def pick_thread(q, ts, qs, jp):
    """The slot QPU `q` issues from next: its current thread if still runnable, otherwise the
    next runnable one in round-robin order; -1 when none is runnable."""
    nt = jp[J_NTHREADS]
    cur = qs[q, Q_CUR]
    if cur >= 0 and ts[cur, T_STATUS] == TS_RUN:
        return cur
    start = 0 if cur < 0 else cur - q * nt + 1
    for k in range(nt):
        t = (start + k) % nt
        slot = q * nt + t
        if ts[slot, T_STATUS] == TS_RUN:
            return slot
    return -1


@jit_lean
def hand_over(slot, regs, lanes, ts, jp):
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
    nt = jp[J_NTHREADS]
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
def switch_out(slot, pc, regs, lanes, ts, qs, gs, jp, sg_arrive, sg_need, sg_time):
    """A thread switch takes effect: hand the QPU's accumulators and flags over (reference 1.2,
    Appendix G.2) and block the thread at a barrier if it wrote syncb (12.4). Returns a hazard
    event or 0."""
    q = ts[slot, T_QPU]
    if jp[J_STRICT] != 0:
        if ts[slot, T_TMU_SEQ] != 0:
            return hazard(gs, H_SWITCH_IN_SEQUENCE, slot, pc, 0)
        if ts[slot, T_UNIFA_AGE] < 3:
            return hazard(gs, H_UNIFA_ACROSS_SWITCH, slot, pc, 0)
    hand_over(slot, regs, lanes, ts, jp)
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
        if qs[q, Q_TIME] > sg_time[sg]:
            sg_time[sg] = qs[q, Q_TIME]
        if sg_arrive[sg] >= sg_need[sg]:
            sg_arrive[sg] = 0
            for s in range(ts.shape[0]):
                if ts[s, T_STATUS] == TS_BARRIER and ts[s, T_SG] == sg:
                    ts[s, T_STATUS] = TS_RUN
                    ts[s, T_READY] = sg_time[sg]
    if nt == 1:
        return 0
    # Round robin: the next thread of this QPU gets the issue slot.
    qs[q, Q_CUR] = -1
    nxt = -1
    base = q * nt
    me = slot - base
    for k in range(1, nt + 1):
        cand = base + (me + k) % nt
        if ts[cand, T_STATUS] == TS_RUN:
            nxt = cand
            break
    qs[q, Q_CUR] = nxt
    return 0


@jit_lean
def end_thread(slot, pc, regs, lanes, ts, qs, gs, jp, sg_need):
    """The thread-end thrsw's delay slots are done: check the program-end rules (13.5, 13.6) and
    free the slot."""
    if jp[J_STRICT] != 0:
        if ts[slot, T_FIFO_COUNT] != 0:
            return hazard(gs, H_END_RESULTS, slot, pc, ts[slot, T_FIFO_COUNT])
        if ts[slot, T_WRITES] != 0 and jp[J_STRICT] >= STRICT_MESA:
            return hazard(gs, H_END_WRITES, slot, pc, ts[slot, T_WRITES])
        if ts[slot, T_TMU_SEQ] != 0:
            return hazard(gs, H_SWITCH_IN_SEQUENCE, slot, pc, 0)
    hand_over(slot, regs, lanes, ts, jp)
    q = ts[slot, T_QPU]
    # Outstanding TMU writes still occupy the thread slot until they complete.
    if ts[slot, T_WRITE_DONE] > qs[q, Q_TIME]:
        qs[q, Q_TIME] = ts[slot, T_WRITE_DONE]
    ts[slot, T_STATUS] = TS_FREE
    sg_need[ts[slot, T_SG]] -= 1  # an ended batch never arrives at a barrier again
    gs[G_LIVE] -= 1
    gs[G_ENDED] += 1
    qs[q, Q_CUR] = -1
    nt = jp[J_NTHREADS]
    base = q * nt
    me = slot - base
    for k in range(1, nt + 1):
        cand = base + (me + k) % nt
        if ts[cand, T_STATUS] == TS_RUN:
            qs[q, Q_CUR] = cand
            break
    return 0


# ----------------------------------------------------------------------------------------------
# operands and flags


@jit_lean_inline
def source_row(mux, raddr_a, raddr_b, smimm):
    """Row of `regs` an operand mux reads; -2 for the small immediate."""
    if mux < 6:
        return R_ACC + mux
    if mux == 6:
        return raddr_a
    if smimm:
        return -2
    return raddr_b


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


# ----------------------------------------------------------------------------------------------
# memory model (parameters and their sources: executor.CycleModel)


@jit_lean
def cal_book(fp, jp, res, t, demand):
    """Book ``demand`` cycles of shared resource ``res`` from modelled time ``t`` on; returns the
    time at which the booking ends.

    A resource (the memory bus, a slice's TMU) is a calendar of buckets of remaining capacity, so
    a request from a QPU that the scheduler runs behind the others still finds the capacity
    that was free at its own time (QPUs are simulated out of step, a chunk at a time).
    """
    bsz = jp[J_CAL_BUCKET]
    n = jp[J_CAL_N]
    off = jp[J_F_CAL] + res * n
    base = np.int64(fp[F_CAL_BASE + res])
    b = t // bsz
    if b < base:
        b = base  # older than the calendar's window: booked at its start
    rem = float(demand)
    while True:
        if b >= base + n:
            # slide the window: the buckets that fall out are reused, full, for the new ones
            newbase = b - n + 1
            stop = newbase if newbase - base < n else base + n
            k = base
            while k < stop:
                fp[off + k % n] = bsz
                k += 1
            base = newbase
            fp[F_CAL_BASE + res] = base
        i = off + b % n
        cap = fp[i]
        start = b * bsz + (bsz - cap)
        usable = cap
        if start < t:
            start = float(t)
            end_b = (b + 1) * bsz - t
            if end_b < usable:
                usable = end_b
        if usable >= rem:
            fp[i] = cap - rem
            return np.int64(start + rem + 0.999999)
        if usable > 0:
            fp[i] = cap - usable
            rem -= usable
        b += 1


@jit_lean
def l2_access(fp, jp, line):
    """Look ``line`` up in the L2T model (set-associative, LRU, hashed set index); True on a hit,
    otherwise the line is installed."""
    sets = jp[J_L2_SETS]
    ways = jp[J_L2_WAYS]
    s = (line ^ (line >> 7) ^ (line >> 14)) & (sets - 1)
    tag = jp[J_F_L2] + s * ways
    use = jp[J_F_L2] + sets * ways + s * ways
    fp[F_L2_CLOCK] += 1.0
    stamp = fp[F_L2_CLOCK]
    victim = 0
    oldest = fp[use]
    for w in range(ways):
        if fp[tag + w] == line:
            fp[use + w] = stamp
            return True
        if fp[use + w] < oldest:
            oldest = fp[use + w]
            victim = w
    fp[tag + victim] = line
    fp[use + victim] = stamp
    return False


@jit_lean
def tmu_queue_wait(q, qs, jp, fp):
    """Stall QPU ``q`` while its oldest outstanding lookup (of J_TMU_QUEUE) is not done; returns
    the ring entry the new lookup takes."""
    e = jp[J_F_TQ] + q * jp[J_TMU_QUEUE] + qs[q, Q_TMU_QUEUE]
    oldest = np.int64(fp[e])
    if oldest > qs[q, Q_TIME]:
        qs[q, Q_TMU_STALL] += oldest - qs[q, Q_TIME]
        qs[q, Q_TIME] = oldest
    qs[q, Q_TMU_QUEUE] = (qs[q, Q_TMU_QUEUE] + 1) % jp[J_TMU_QUEUE]
    return e


@jit_lean
def unifa_line_fetch(slot, line, ts, qs, jp, fp):
    """The unifa stream moved to a new cache line: the thread stalls until the line is read
    from memory (conservative: no prefetch, no L2T hit; see CycleModel)."""
    q = ts[slot, T_QPU]
    ts[slot, T_UNIFA_LINE] = line
    now = qs[q, Q_TIME]
    done = cal_book(fp, jp, 0, now, (1 << jp[J_LINE_SHIFT]) * fp[F_READ_COST]) + jp[J_UNIFA_LAT]
    if done > now:
        qs[q, Q_TMU_STALL] += done - now
        qs[q, Q_TIME] = done


# ----------------------------------------------------------------------------------------------
# TMU


@jit_lean
def tmu_lookup(
    slot,
    pc,
    sc,
    arow,
    mrow,
    cfg,
    regs,
    lanes,
    ts,
    qs,
    gs,
    jp,
    fp,
    fifo,
    fifo_ready,
    hosts,
    bases,
    sizes,
):
    """Issue one general-memory TMU lookup (reference 12.1): `addrs` are the per-lane byte
    addresses, `mask` the lanes enabled by the tmua write's condition, `cfg` the lookup's
    configuration byte. Writes go to memory at once; read results are queued in the thread's
    output FIFO with the modelled time at which they arrive."""
    strict = jp[J_STRICT] != 0
    q = ts[slot, T_QPU]
    per_pixel = (cfg >> 7) & 1
    op = (cfg >> 3) & 15
    typ = cfg & 7
    ndata = ts[slot, T_TMU_NDATA]
    ts[slot, T_TMU_NDATA] = 0
    ts[slot, T_TMU_SEQ] = 0
    # which lanes take part
    for quad in range(4):
        any_msf = False
        for j in range(4):
            if lanes[slot, L_MSF, 4 * quad + j] != 0:
                any_msf = True
        for j in range(4):
            i = 4 * quad + j
            if per_pixel != 0:
                lanes[slot, L_ACT, i] = 1 if (sc[mrow, i] != 0 and lanes[slot, L_MSF, i] != 0) else 0
            else:
                lanes[slot, L_ACT, i] = 1 if (sc[mrow, i] != 0 and any_msf) else 0
    if typ >= 2 and typ <= 4:
        nvec = typ
        esize = 4
    elif typ == 7:
        nvec = 1
        esize = 4
    elif typ == 0 or typ == 5:
        nvec = 1
        esize = 1
    else:
        nvec = 1
        esize = 2
    signed = typ == 0 or typ == 1
    nact = 0
    for i in range(16):
        nact += lanes[slot, L_ACT, i]
    gs[G_TMU_REQ] += 1
    wbytes0 = gs[G_TMU_WBYTES]
    nbytes = 0
    results = 0  # result words pushed to the FIFO
    if op == 15:
        if ndata > 0:
            # regular store
            n = nvec
            if ndata != nvec:
                if strict:
                    return hazard(gs, H_TMU_DATA_COUNT, slot, pc, ndata)
                n = min(ndata, nvec)
            for i in range(16):
                if lanes[slot, L_ACT, i] == 0:
                    continue
                a = np.int64(sc[arow, i])
                if strict and (a & (esize - 1)) != 0:
                    return hazard(gs, H_MISALIGNED, slot, pc, a)
                a = a & ~np.int64(esize - 1)
                for k in range(n):
                    ea = a if nvec == 1 else ((a & ~np.int64(15)) | ((a + 4 * k) & 15))
                    if not store(
                        ea,
                        esize,
                        np.int64(lanes[slot, L_TMUD + k, i]),
                        hosts,
                        bases,
                        sizes,
                    ):
                        return mmu_fault(gs, slot, pc, ea, esize)
            nbytes = nact * n * esize
            gs[G_TMU_WBYTES] += nbytes
        else:
            # regular load: nvec result words
            results = nvec
    elif ndata == 0 and op < 8:
        # cache operations (prefetch, clear, flush): no data, no result, whatever the type
        # field says (hardware evidence, Appendix G.6: scopy's config byte 0x80 prefetches)
        results = 0
    else:
        if esize != 4 or nvec != 1:
            return hazard(gs, H_TMU_OP, slot, pc, cfg)
        results = 1
    if results > 0:
        if ts[slot, T_FIFO_COUNT] + results > jp[J_FIFO]:
            if strict or ts[slot, T_FIFO_COUNT] + results > FIFO_CAP:
                return hazard(
                    gs, H_FIFO_OVERFLOW, slot, pc, ts[slot, T_FIFO_COUNT] + results
                )
        head = ts[slot, T_FIFO_HEAD]
        count = ts[slot, T_FIFO_COUNT]
        for k in range(results):
            e = (head + count + k) % FIFO_CAP
            for i in range(16):
                fifo[slot, e, i] = 0
        for i in range(16):
            if lanes[slot, L_ACT, i] == 0:
                continue
            a = np.int64(sc[arow, i])
            if strict and (a & (esize - 1)) != 0:
                return hazard(gs, H_MISALIGNED, slot, pc, a)
            a = a & ~np.int64(esize - 1)
            if op == 15:
                for k in range(nvec):
                    ea = a if nvec == 1 else ((a & ~np.int64(15)) | ((a + 4 * k) & 15))
                    v = load_cold(ea, esize, hosts, bases, sizes)
                    if v < 0:
                        return mmu_fault(gs, slot, pc, ea, esize)
                    if signed:
                        if esize == 1 and v >= 0x80:
                            v -= 0x100
                        elif esize == 2 and v >= 0x8000:
                            v -= 0x10000
                    e = (head + count + k) % FIFO_CAP
                    fifo[slot, e, i] = v & MASK32
            else:
                old = load_cold(a, 4, hosts, bases, sizes)
                if old < 0:
                    return mmu_fault(gs, slot, pc, a, 4)
                d0 = np.int64(lanes[slot, L_TMUD, i])
                d1 = np.int64(lanes[slot, L_TMUD + 1, i])
                new = tmu_atomic(op, ndata, old, d0, d1)
                if not store(a, 4, new, hosts, bases, sizes):
                    return mmu_fault(gs, slot, pc, a, 4)
                e = (head + count) % FIFO_CAP
                fifo[slot, e, i] = old & MASK32
                gs[G_TMU_WBYTES] += 4
        nbytes = nact * results * esize
        gs[G_TMU_RBYTES] += nbytes
    # cycle model (executor.CycleModel): the lookup waits for a place in the QPU's queue of
    # outstanding lookups, occupies its slice's TMU per distinct cache line, and moves the lines
    # that miss L2T (reads) or the bytes written over the shared memory bus; its data arrives
    # the TMU latency after the later of the two.
    shift = jp[J_LINE_SHIFT]
    reads = results > 0 or (op != 15 and ndata == 0)
    nlines = 0
    misses = 0
    for i in range(16):
        if lanes[slot, L_ACT, i] == 0:
            continue
        line = np.int64(sc[arow, i]) >> shift
        seen = False
        for j in range(i):
            if lanes[slot, L_ACT, j] != 0 and (np.int64(sc[arow, j]) >> shift) == line:
                seen = True
                break
        if seen:
            continue
        nlines += 1
        if reads and not l2_access(fp, jp, line):
            misses += 1
    entry = tmu_queue_wait(q, qs, jp, fp)
    now = qs[q, Q_TIME]
    tmu_done = cal_book(fp, jp, 1 + q // jp[J_QPUS_PER_SLICE], now, max(nlines, 1) * jp[J_TMU_LINE_CYCLES])
    bus_cycles = misses * (1 << shift) * fp[F_READ_COST] + (gs[G_TMU_WBYTES] - wbytes0) * fp[F_WRITE_COST]
    ready = tmu_done
    if bus_cycles > 0:
        bus_done = cal_book(fp, jp, 0, now, bus_cycles)
        if bus_done > ready:
            ready = bus_done
    ready += jp[J_TMU_LAT]
    fp[entry] = ready
    if results > 0:
        head = ts[slot, T_FIFO_HEAD]
        count = ts[slot, T_FIFO_COUNT]
        for k in range(results):
            fifo_ready[slot, (head + count + k) % FIFO_CAP] = ready
        ts[slot, T_FIFO_COUNT] = count + results
    if ndata > 0:
        ts[slot, T_WRITES] += 1
        if ready > ts[slot, T_WRITE_DONE]:
            ts[slot, T_WRITE_DONE] = ready
    return 0


@jit_lean
def tmu_atomic(op, ndata, old, d0, d1):
    """New memory value of a 32-bit TMU atomic (reference 12.1 op codes); the FIFO gets `old`."""
    if ndata == 0:
        if op == 8:
            return (old + 1) & MASK32
        if op == 9:
            return (old - 1) & MASK32
        if op == 10:
            return (~old) & MASK32
        return old
    if op == 0:
        return (old + d0) & MASK32
    if op == 1:
        return (old - d0) & MASK32
    if op == 2:
        return d0
    if op == 3:
        return d1 if old == d0 else old
    if op == 4:
        return min(old, d0)
    if op == 5:
        return max(old, d0)
    if op == 6 or op == 7:
        so = old - (1 << 32) if old >= (1 << 31) else old
        sd = d0 - (1 << 32) if d0 >= (1 << 31) else d0
        r = min(so, sd) if op == 6 else max(so, sd)
        return r & MASK32
    if op == 8:
        return old & d0
    if op == 9:
        return old | d0
    if op == 10:
        return old ^ d0
    return old


# ----------------------------------------------------------------------------------------------
# destinations


@jit_lean
def magic_class(w):
    """0 register-like (r0-r5, null, r5rep), 1 TMU, 2 SFU, 3 TSY, 4 TLB, 5 VPM, 6 unifa, 7 other."""
    if w <= 6 or w == 55:
        return 0
    if w == 9:
        return 6
    if w == 11 or w == 12 or w == 13 or w == 10 or (w >= 32 and w <= 46):
        return 1
    if w >= 19 and w <= 24:
        return 2
    if w >= 16 and w <= 18:
        return 3
    if w == 7 or w == 8:
        return 4
    if w == 14 or w == 15:
        return 5
    return 7


@jit_sig(
    "int64(int64, int64, int64, int64, uint32[:, ::1], int64, int64, boolean, boolean, uint32[:, :, ::1], uint32[:, :, ::1], int64[:, ::1], int64[:, ::1], "
    "int64[::1], int64[::1], float64[::1], uint32[:, :, ::1], int64[:, ::1], int64[::1], int64[::1], int64[::1])"
)  # explicit: exec_alu passes literal True/False
def write_dest(
    slot,
    pc,
    w,
    magic,
    sc,
    vrow,
    mrow,
    from_alu,
    cond_active,
    regs,
    lanes,
    ts,
    qs,
    gs,
    jp,
    fp,
    fifo,
    fifo_ready,
    hosts,
    bases,
    sizes,
):
    """Write 16 lane values to a destination (rf, accumulator or magic address, reference 8).
    `mask` holds the lanes the write's condition enables. Returns an event or 0."""
    if magic == 0:
        if w >= 32 and jp[J_NTHREADS] == 4 and jp[J_STRICT] != 0:
            return hazard(gs, H_RF_4THREAD, slot, pc, w)
        for i in range(16):
            if sc[mrow, i] != 0:
                regs[slot, w, i] = sc[vrow, i]
        return 0
    if w <= 4:
        for i in range(16):
            if sc[mrow, i] != 0:
                regs[slot, R_ACC + w, i] = sc[vrow, i]
        ts[slot, T_VALID] |= 1 << w
        return 0
    if w == 5:
        # ALU writes to r5 broadcast lane 4q to quad q (reference 10.9); signals fill every lane.
        for i in range(16):
            if sc[mrow, i] != 0:
                regs[slot, R_ACC + 5, i] = sc[vrow, (i >> 2) << 2] if from_alu else sc[vrow, i]
        ts[slot, T_VALID] |= 32
        return 0
    if w == 6:
        return 0
    if w == 55:
        for i in range(16):
            if sc[mrow, i] != 0:
                regs[slot, R_ACC + 5, i] = sc[vrow, 0]
        ts[slot, T_VALID] |= 32
        return 0
    if w == 9:
        # unifa: the pointer comes from lane 0 (reference 12.2)
        ts[slot, T_UNIFA] = sc[vrow, 0]
        ts[slot, T_UNIFA_AGE] = 0
        ts[slot, T_UNIFA_LINE] = -1  # the new stream starts with a fetch (CycleModel)
        if ts[slot, T_BR_CD] > 0 and ts[slot, T_BR_UNIF_ALT] >= 0:
            ts[slot, T_BR_UNIF] = ts[slot, T_BR_UNIF_ALT]  # see exec_branch (Appendix G.8)
        return 0
    if w == 11:
        k = ts[slot, T_TMU_NDATA]
        if k >= 4:
            return hazard(gs, H_TMUD_TOO_MANY, slot, pc, k + 1)
        for i in range(16):
            lanes[slot, L_TMUD + k, i] = sc[vrow, i]
        ts[slot, T_TMU_NDATA] = k + 1
        ts[slot, T_TMU_SEQ] = 1
        return 0
    if w == 32:
        # tmuc: configuration register for the following lookups (one byte each)
        ts[slot, T_TMU_CFG] = sc[vrow, 0]
        ts[slot, T_TMU_SEQ] = 1
        return 0
    if w == 12 or w == 13:
        if w == 13:
            u = next_uniform(slot, pc, ts, gs, hosts, bases, sizes)
            if u < 0:
                return EV_MMU
            ts[slot, T_TMU_CFG] = u
        cfgreg = ts[slot, T_TMU_CFG]
        cfg = cfgreg & 0xFF
        ts[slot, T_TMU_CFG] = (cfgreg >> 8) | 0xFF000000
        return tmu_lookup(
            slot,
            pc,
            sc,
            vrow,
            mrow,
            cfg,
            regs,
            lanes,
            ts,
            qs,
            gs,
            jp,
            fp,
            fifo,
            fifo_ready,
            hosts,
            bases,
            sizes,
        )
    if w == 18:
        # syncb: barrier at the next thread switch (reference 12.4)
        ts[slot, T_BARRIER] = 1
        return 0
    if w >= 19 and w <= 24:
        # legacy SFU: r4 receives the result at t+2 (reference 11.1)
        for i in range(16):
            lanes[slot, L_R4PEND, i] = sfu_eval(w - 19, sc[vrow, i])
        ts[slot, T_R4_CD] = 2
        gs[G_SFU] += 1
        return 0
    return hazard(gs, H_UNSUPPORTED_MAGIC, slot, pc, w)


@jit_lean
def read_operands(slot, pc, prog, smimm, rot, regs, lanes, ts, gs, jp, sc):
    """Fill sc[0..3] with add a, add b, mul a, mul b (after rotation of the mul operands)."""
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
        # rot signal: both mul operands rotate across lanes (reference 10.10)
        n = rb & 15
        if rb == 0:
            if strict and (ts[slot, T_PREV_ACC] & 32) != 0:
                return hazard(gs, H_ROT_R5_WRITTEN, slot, pc, 5)
            n = regs[slot, R_ACC + 5, 0] & 15
        for k in range(2, 4):
            mux = prog[pc, P_MA + k - 2]
            if mux < 0:
                continue
            if strict:
                if mux < 6 and (ts[slot, T_PREV_ACC] >> mux) & 1 != 0:
                    return hazard(gs, H_ROT_SOURCE_WRITTEN, slot, pc, R_ACC + mux)
                if mux == 6 and (
                    ts[slot, T_PREV_RF0] == ra
                    or ts[slot, T_PREV_RF1] == ra
                    or ts[slot, T_PREV_RF2] == ra
                ):
                    return hazard(gs, H_ROT_SOURCE_WRITTEN, slot, pc, ra)
            for i in range(16):
                sc[8, i] = sc[k, i]
            if mux < 6:
                for i in range(16):
                    sc[k, i] = sc[8, (i - n) & 15]
            else:
                for i in range(16):
                    sc[k, i] = sc[8, (i & 12) | ((i - n) & 3)]
    return 0


@jit_lean
def special_add(op, slot, pc, prog, regs, lanes, ts, qs, gs, jp, sc):
    """Add-ALU ops that need machine state (reference 10.7, 10.8, 10.5, 10.6). Result in sc[4],
    carry in sc[6]. Returns an event or 0."""
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
def special_mul(op, slot, pc, prog, lanes, ts, gs, jp, sc):
    """Mul-ALU ops that need machine state: the rtop pair multop/umul24 (reference 10.11)."""
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
def exec_alu(
    slot,
    pc,
    prog,
    regs,
    lanes,
    ts,
    qs,
    gs,
    jp,
    fp,
    fifo,
    fifo_ready,
    hosts,
    bases,
    sizes,
    sc,
):
    """Execute one ALU instruction of one thread (reference 10.1, 11)."""
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
                m = prog[pc, P_AM] if which == 0 else prog[pc, P_MM]
                if w >= 0 and m != 0 and (w == 4 or (w >= 19 and w <= 24)):
                    return hazard(gs, H_R4_WRITE_EARLY, slot, pc, w)
        if ts[slot, T_THRSW_CD] > 0 and ts[slot, T_THRSW_END] == 0:
            for which in range(2):
                w = prog[pc, P_AW] if which == 0 else prog[pc, P_MW]
                m = prog[pc, P_AM] if which == 0 else prog[pc, P_MM]
                if w >= 19 and w <= 24 and m != 0:
                    return hazard(gs, H_SFU_IN_THRSW_DELAY, slot, pc, w)
    if (sig & (SIG_LDVARY | SIG_LDTLB | SIG_LDTLBU)) != 0:
        return hazard(gs, H_UNSUPPORTED_SIGNAL, slot, pc, sig)
    # 1-2: operands (everything reads the state before this instruction's writes)
    ev = read_operands(slot, pc, prog, smimm, rot, regs, lanes, ts, gs, jp, sc)
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
    if add_alu(aop, prog[pc, P_AAU], prog[pc, P_ABU], sc, 0, 1, 4, 6):
        if sfu_index(aop) >= 0:
            gs[G_SFU] += 1
    else:
        ev = special_add(aop, slot, pc, prog, regs, lanes, ts, qs, gs, jp, sc)
        if ev != 0:
            return ev
    mop = prog[pc, P_MOP]
    if not mul_alu(mop, prog[pc, P_MAU], prog[pc, P_MBU], sc, 2, 3, 5, 7):
        ev = special_mul(mop, slot, pc, prog, lanes, ts, gs, jp, sc)
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
            unifa_line_fetch(slot, addr >> jp[J_LINE_SHIFT], ts, qs, jp, fp)
        ts[slot, T_UNIFA] = addr + 4
        for i in range(16):
            sc[sigval_row, i] = u
        sig_writes = True
    if (sig & SIG_LDTMU) != 0:
        if ts[slot, T_FIFO_COUNT] == 0:
            return hazard(gs, H_LDTMU_EMPTY, slot, pc, 0)
        head = ts[slot, T_FIFO_HEAD]
        ready = fifo_ready[slot, head]
        if ready > qs[q, Q_TIME]:
            qs[q, Q_TMU_STALL] += ready - qs[q, Q_TIME]
            qs[q, Q_TIME] = ready
        for i in range(16):
            sc[sigval_row, i] = fifo[slot, head, i]
        ts[slot, T_FIFO_HEAD] = (head + 1) % FIFO_CAP
        ts[slot, T_FIFO_COUNT] -= 1
        sig_writes = True
    if (sig & SIG_WRTMUC) != 0:
        # Texture configuration word (reference 11.4); general accesses take their
        # configuration from tmuc/tmuau, so the word is consumed and otherwise ignored.
        u = next_uniform(slot, pc, ts, gs, hosts, bases, sizes)
        if u < 0:
            return EV_MMU
    # 5-7: flags, then writes
    apf = prog[pc, P_APF]
    auf = prog[pc, P_AUF]
    mpf = prog[pc, P_MPF]
    muf = prog[pc, P_MUF]
    for which in range(2):
        pf = apf if which == 0 else mpf
        uf = auf if which == 0 else muf
        if pf != 0 or uf != 0:
            fl = prog[pc, P_AFLOAT] if which == 0 else prog[pc, P_MFLOAT]
            write_flags(slot, pf, uf, fl, sc, 4 + which, 6 + which, lanes)
            ts[slot, T_VALID] |= V_FLAGS
    prev_acc = 0
    rf0 = -1
    rf1 = -1
    rf2 = -1
    for which in range(2):
        w = prog[pc, P_AW] if which == 0 else prog[pc, P_MW]
        if w < 0:
            continue
        m = prog[pc, P_AM] if which == 0 else prog[pc, P_MM]
        pack = prog[pc, P_APACK] if which == 0 else prog[pc, P_MPACK]
        vrow = 4 if which == 0 else 5
        mrow = 10 if which == 0 else 11
        if pack != 0:
            # output pack: f32 -> f16 into one half, the other half keeps the destination's
            # old bits (reference 3.1)
            old_row = w if m == 0 else (R_ACC + w if w <= 5 else -1)
            for i in range(16):
                old = regs[slot, old_row, i] if old_row >= 0 else 0
                sc[9, i] = pack_f32(sc[vrow, i], old, pack)
            vrow = 9
        ev = write_dest(
            slot,
            pc,
            w,
            m,
            sc,
            vrow,
            mrow,
            True,
            (prog[pc, P_ACOND] if which == 0 else prog[pc, P_MCOND]) != 0,
            regs,
            lanes,
            ts,
            qs,
            gs,
            jp,
            fp,
            fifo,
            fifo_ready,
            hosts,
            bases,
            sizes,
        )
        if ev != 0:
            return ev
        if m == 0:
            if which == 0:
                rf0 = w
            else:
                rf1 = w
        elif w <= 5:
            prev_acc |= 1 << w
        elif w == 55:
            prev_acc |= 32
    if sig_writes:
        if (sig & (SIG_LDUNIF | SIG_LDUNIFA)) != 0:
            w = 5
            m = 1
        else:
            w = prog[pc, P_SIGADDR]
            m = prog[pc, P_SIGMAGIC]
        for i in range(16):
            sc[11, i] = 1
        ev = write_dest(
            slot,
            pc,
            w,
            m,
            sc,
            sigval_row,
             11,
            False,
            False,
            regs,
            lanes,
            ts,
            qs,
            gs,
            jp,
            fp,
            fifo,
            fifo_ready,
            hosts,
            bases,
            sizes,
        )
        if ev != 0:
            return ev
        if m == 0:
            rf2 = w
        elif w <= 5:
            prev_acc |= 1 << w
    ts[slot, T_PREV_ACC] = prev_acc
    ts[slot, T_PREV_RF0] = rf0
    ts[slot, T_PREV_RF1] = rf1
    ts[slot, T_PREV_RF2] = rf2
    gs[G_USEFUL] += prog[pc, P_AUSEFUL] + prog[pc, P_MUSEFUL]
    return 0


@jit_lean
def exec_branch(slot, pc, prog, regs, lanes, ts, gs, jp, hosts, bases, sizes):
    """Execute a branch (reference 9): evaluate the condition now, land after 3 delay slots."""
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
            u = next_uniform(slot, pc, ts, gs, hosts, bases, sizes)
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


@jit_lean
def step(
    slot,
    prog,
    regs,
    lanes,
    ts,
    qs,
    gs,
    jp,
    fp,
    fifo,
    fifo_ready,
    sg_arrive,
    sg_need,
    sg_time,
    hosts,
    bases,
    sizes,
    sc,
):
    """Issue one instruction of thread `slot`. Returns 0, an event (EV_*), or -1 when the thread
    switched out or ended (the scheduler must pick again)."""
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
    ts[slot, T_THRSW_AGE] += 1
    ts[slot, T_BR_AGE] += 1
    ts[slot, T_UNIFA_AGE] += 1
    if ts[slot, T_END_AGE] >= 0:
        ts[slot, T_END_AGE] += 1
    qs[q, Q_TIME] += jp[J_ISSUE]
    qs[q, Q_BUSY] += jp[J_ISSUE]
    gs[G_INSTRS] += 1
    ts[slot, T_INSTRS] += 1
    if kind == K_BRANCH:
        ev = exec_branch(
            slot, pc, prog, regs, lanes, ts, gs, jp, hosts, bases, sizes
        )
        if ev != 0:
            return ev
        ts[slot, T_PREV_ACC] = 0
        ts[slot, T_PREV_RF0] = -1
        ts[slot, T_PREV_RF1] = -1
        ts[slot, T_PREV_RF2] = -1
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
        ev = exec_alu(
            slot,
            pc,
            prog,
            regs,
            lanes,
            ts,
            qs,
            gs,
            jp,
            fp,
            fifo,
            fifo_ready,
            hosts,
            bases,
            sizes,
            sc,
        )
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
    if qs[q, Q_TIME] > jp[J_BUDGET]:
        return hazard(gs, H_BUDGET, slot, pc, jp[J_BUDGET])
    # advance the PC, landing a pending branch after its third delay slot
    nxt = pc + 1
    if ts[slot, T_BR_CD] > 0:
        ts[slot, T_BR_CD] -= 1
        if ts[slot, T_BR_CD] == 0:
            nxt = ts[slot, T_BR_PC]
            if ts[slot, T_BR_UNIF] >= 0:
                ts[slot, T_UNIF] = ts[slot, T_BR_UNIF]
                ts[slot, T_BR_UNIF] = -1
    ts[slot, T_PC] = nxt
    if ts[slot, T_THRSW_CD] > 0:
        ts[slot, T_THRSW_CD] -= 1
        if ts[slot, T_THRSW_CD] == 0:
            if ts[slot, T_THRSW_END] != 0:
                ev = end_thread(slot, pc, regs, lanes, ts, qs, gs, jp, sg_need)
            else:
                ev = switch_out(
                    slot, pc, regs, lanes, ts, qs, gs, jp, sg_arrive, sg_need, sg_time
                )
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


# ----------------------------------------------------------------------------------------------
# the fast path


@jit_lean_inline
def write_masked(slot, row, sc, vrow, mrow, regs):
    """regs[slot, row] <- sc[vrow] in the lanes where sc[mrow] is set."""
    for i in range(16):
        if sc[mrow, i] != 0:
            regs[slot, row, i] = sc[vrow, i]


@jit_lean_inline
def fast_step(slot, pc, prog, regs, lanes, ts, qs, gs, jp, fifo, fifo_ready, hosts, bases, sizes, sc):
    """Issue one instruction of the common shape (program.fast_path_shape: pure ALU ops into
    rf/r0-r4, optional ldunif/ldunifa/ldtmu) with the same effects as `step`.

    Returns -1 when it did nothing because the general path must run (a check of `step`
    might fire, or the thread is in a delay slot of an SFU or a thread switch), 0 when the
    instruction was issued, or an event (EV_HAZARD for the cycle budget, as step).
    Everything that could raise a hazard is checked before any state changes, so falling back
    to `step` reproduces every message exactly.
    """
    if ts[slot, T_R4_CD] != 0 or ts[slot, T_THRSW_CD] != 0 or ts[slot, T_END_AGE] >= 0:
        return -1
    four = jp[J_NTHREADS] == 4
    valid = ts[slot, T_VALID]
    sig = prog[pc, P_SIG]
    smimm = (sig & SIG_SMIMM) != 0
    ra = prog[pc, P_RADDR_A]
    rb = prog[pc, P_RADDR_B]
    # operands, and the reads the strict checks of read_operands would question (sc is
    # scratch: filling it changes no machine state)
    imm = prog[pc, P_IMM]
    for k in range(4):
        mux = prog[pc, P_AA + k] if k < 2 else prog[pc, P_MA + k - 2]
        if mux < 0:
            continue
        srow = source_row(mux, ra, rb, smimm)
        if srow >= R_ACC:
            if (valid >> (srow - R_ACC)) & 1 == 0:
                return -1
        elif srow >= 32 and four:
            return -1
        load_operand(slot, srow, imm, regs, sc, k)
    acond = prog[pc, P_ACOND]
    mcond = prog[pc, P_MCOND]
    if (acond != 0 or mcond != 0) and (valid & V_FLAGS) == 0:
        return -1
    aw = prog[pc, P_AW]
    mw = prog[pc, P_MW]
    am = prog[pc, P_AM]
    mm = prog[pc, P_MM]
    if four and ((am == 0 and aw >= 32) or (mm == 0 and mw >= 32)):
        return -1
    sw = -1
    smag = 1
    if (sig & (SIG_LDUNIF | SIG_LDUNIFA)) != 0:
        sw = 5
    elif (sig & (SIG_LDUNIFRF | SIG_LDUNIFARF | SIG_LDTMU)) != 0:
        sw = prog[pc, P_SIGADDR]
        smag = prog[pc, P_SIGMAGIC]
        if four and smag == 0 and sw >= 32:
            return -1
    uaddr = -1
    if (sig & (SIG_LDUNIF | SIG_LDUNIFRF)) != 0:
        uaddr = ts[slot, T_UNIF]
    elif (sig & (SIG_LDUNIFA | SIG_LDUNIFARF)) != 0:
        if ts[slot, T_UNIFA_AGE] + 1 < 4:
            return -1
        uaddr = ts[slot, T_UNIFA]
        if (uaddr >> jp[J_LINE_SHIFT]) != ts[slot, T_UNIFA_LINE]:
            return -1  # a new line: step does the fetch
    if uaddr >= 0 and find_region(uaddr, 4, bases, sizes) < 0:
        return -1
    if uaddr < 0 and (sig & (SIG_LDUNIF | SIG_LDUNIFRF | SIG_LDUNIFA | SIG_LDUNIFARF)) != 0:
        return -1
    if (sig & SIG_LDTMU) != 0 and ts[slot, T_FIFO_COUNT] == 0:
        return -1
    # ---- from here on nothing can fail except the cycle budget, checked where step does
    q = ts[slot, T_QPU]
    ts[slot, T_THRSW_AGE] += 1
    ts[slot, T_BR_AGE] += 1
    ts[slot, T_UNIFA_AGE] += 1
    qs[q, Q_TIME] += jp[J_ISSUE]
    qs[q, Q_BUSY] += jp[J_ISSUE]
    gs[G_INSTRS] += 1
    ts[slot, T_INSTRS] += 1
    for which in range(2):
        cond_mask(acond if which == 0 else mcond, slot, lanes, sc, 10 + which)
    aop = prog[pc, P_AOP]
    if aop != A_NOP:
        add_alu(aop, prog[pc, P_AAU], prog[pc, P_ABU], sc, 0, 1, 4, 6)
    mop = prog[pc, P_MOP]
    if mop != M_NOP:
        mul_alu(mop, prog[pc, P_MAU], prog[pc, P_MBU], sc, 2, 3, 5, 7)
    u = 0
    if uaddr >= 0:
        u = load_uniform(uaddr, hosts, bases, sizes)
        if (sig & (SIG_LDUNIF | SIG_LDUNIFRF)) != 0:
            ts[slot, T_UNIF] = uaddr + 4
            gs[G_UNIF_READS] += 1
        else:
            ts[slot, T_UNIFA] = uaddr + 4
    head = -1
    if (sig & SIG_LDTMU) != 0:
        head = ts[slot, T_FIFO_HEAD]
        ready = fifo_ready[slot, head]
        if ready > qs[q, Q_TIME]:
            qs[q, Q_TMU_STALL] += ready - qs[q, Q_TIME]
            qs[q, Q_TIME] = ready
        ts[slot, T_FIFO_HEAD] = (head + 1) % FIFO_CAP
        ts[slot, T_FIFO_COUNT] -= 1
    apf = prog[pc, P_APF]
    auf = prog[pc, P_AUF]
    mpf = prog[pc, P_MPF]
    muf = prog[pc, P_MUF]
    for which in range(2):
        pf = apf if which == 0 else mpf
        uf = auf if which == 0 else muf
        if pf != 0 or uf != 0:
            fl = prog[pc, P_AFLOAT] if which == 0 else prog[pc, P_MFLOAT]
            write_flags(slot, pf, uf, fl, sc, 4 + which, 6 + which, lanes)
            valid |= V_FLAGS
    prev_acc = 0
    rf0 = -1
    rf1 = -1
    rf2 = -1
    for which in range(2):
        w = aw if which == 0 else mw
        m = am if which == 0 else mm
        if w < 0 or (m != 0 and w > 4):
            continue  # no destination, or null
        write_masked(slot, w if m == 0 else R_ACC + w, sc, 4 + which, 10 + which, regs)
        if m == 0:
            if which == 0:
                rf0 = w
            else:
                rf1 = w
        else:
            valid |= 1 << w
            prev_acc |= 1 << w
    if sw >= 0:
        row = sw if smag == 0 else R_ACC + sw
        if head >= 0:
            for i in range(16):
                regs[slot, row, i] = fifo[slot, head, i]
        else:
            for i in range(16):
                regs[slot, row, i] = u
        if smag == 0:
            rf2 = sw
        else:
            valid |= 1 << sw
            prev_acc |= 1 << sw
    ts[slot, T_VALID] = valid
    ts[slot, T_PREV_ACC] = prev_acc
    ts[slot, T_PREV_RF0] = rf0
    ts[slot, T_PREV_RF1] = rf1
    ts[slot, T_PREV_RF2] = rf2
    gs[G_USEFUL] += prog[pc, P_AUSEFUL] + prog[pc, P_MUSEFUL]
    if qs[q, Q_TIME] > jp[J_BUDGET]:
        return hazard(gs, H_BUDGET, slot, pc, jp[J_BUDGET])
    nxt = pc + 1
    if ts[slot, T_BR_CD] > 0:
        ts[slot, T_BR_CD] -= 1
        if ts[slot, T_BR_CD] == 0:
            nxt = ts[slot, T_BR_PC]
            if ts[slot, T_BR_UNIF] >= 0:
                ts[slot, T_UNIF] = ts[slot, T_BR_UNIF]
                ts[slot, T_BR_UNIF] = -1
    ts[slot, T_PC] = nxt
    return 0


@jit_lean
def fast_run(slot, limit, prog, regs, lanes, ts, qs, gs, jp, fifo, fifo_ready, hosts, bases, sizes, sc):
    """Issue up to `limit` consecutive fast-path instructions of thread `slot` (one call for
    a whole stretch of them). Returns how many were issued; stops at the first instruction that
    needs `step`, or at an event (then recorded in gs[G_EVENT], as for step)."""
    nrows = jp[J_NROWS]
    k = 0
    while k < limit:
        pc = ts[slot, T_PC]
        if pc < 0 or pc >= nrows or prog[pc, P_FAST] == 0:
            break
        ev = fast_step(slot, pc, prog, regs, lanes, ts, qs, gs, jp, fifo, fifo_ready, hosts, bases, sizes, sc)
        if ev < 0:
            break
        k += 1
        if ev > 0:
            break
    return k


# ----------------------------------------------------------------------------------------------
# the scheduler


@jit_nogil
def run(
    prog,
    regs,
    lanes,
    ts,
    qs,
    gs,
    jp,
    fp,
    fifo,
    fifo_ready,
    bp,
    sg_arrive,
    sg_need,
    sg_time,
    hosts,
    bases,
    sizes,
):
    """Run the job until it ends (EV_DONE) or something needs Python (hazard, MMU fault, step,
    breakpoint, the end of a bounded slice, the hang timer). Resumable: all state is in the
    arrays, and a slice or the timer returns between scheduling rounds, where stopping changes
    nothing about what runs next."""
    sc = np.zeros((16, 16), np.uint32)
    nq = jp[J_NQPU]
    nrows = jp[J_NROWS]
    single = gs[G_STEP] != 0
    gs[G_EVENT] = EV_NONE
    while True:
        fill_free_slots(regs, lanes, ts, qs, gs, jp)
        if gs[G_LIVE] == 0:
            gs[G_EVENT] = EV_DONE
            return EV_DONE
        # the QPU that is furthest behind in modelled time and has a runnable thread goes next
        best_q = np.int64(-1)  # np.int64: a literal would make numba compile callees twice
        best_t = np.int64(1) << 62
        best_slot = np.int64(-1)
        for q in range(nq):
            slot = pick_thread(q, ts, qs, jp)
            if slot < 0:
                continue
            t = qs[q, Q_TIME]
            if ts[slot, T_READY] > t:
                t = ts[slot, T_READY]
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
                limit = 1 if (single or bp.shape[0] > 0) else jp[J_CHUNK] - n
                k = fast_run(
                    slot, limit, prog, regs, lanes, ts, qs, gs, jp, fifo, fifo_ready, hosts, bases, sizes, sc
                )
                if k > 0:
                    n += k
                    if gs[G_EVENT] != EV_NONE:
                        return gs[G_EVENT]
                    if single:
                        gs[G_EVENT] = EV_STEP
                        gs[G_EV_SLOT] = slot
                        gs[G_EV_PC] = pc0
                        return EV_STEP
                    continue
            ev = step(
                slot, prog, regs, lanes, ts, qs, gs, jp, fp, fifo, fifo_ready, sg_arrive, sg_need,
                sg_time, hosts, bases, sizes, sc,
            )  # fmt: skip
            n += 1
            if ev > 0:
                return ev
            if single:
                gs[G_EVENT] = EV_STEP
                gs[G_EV_SLOT] = slot
                gs[G_EV_PC] = pc0
                return EV_STEP
            if ev < 0:
                break

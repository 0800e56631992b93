"""The TMU: lookups (reads, writes, atomics) and their timing."""

import numpy as np

from ..hazards import H_FIFO_OVERFLOW, H_MISALIGNED, H_TMU_DATA_COUNT, H_TMU_OP
from ..hostmem import poke32
from ..jit import jit_lean, jit_lean_inline, jit_out_of_line
from ..layout import (
    F_READ_COST,
    F_WRITE_COST,
    FIFO_CAP,
    G_TMU_RBYTES,
    G_TMU_REQ,
    G_TMU_WBYTES,
    J_F_TQ,
    J_F_TQ_IDLE,
    J_FIFO,
    J_LINE_SHIFT,
    J_QPUS_PER_SLICE,
    J_SLICE_SHIFT,
    J_STRICT,
    J_TMU_LAT,
    J_TMU_LINE_CYCLES,
    L_ACT,
    L_MSF,
    L_TMUD,
    Q_TIME,
    T_FIFO_COUNT,
    T_FIFO_HEAD,
    T_QPU,
    T_TMU_NDATA,
    T_TMU_SEQ,
    T_WRITE_DONE,
    T_WRITES,
    UNIFORM_PAGE_SHIFT,
)
from .lanes import (
    active_lanes,
    fill_row,
    gather_words,
    read_words,
    scatter_words,
    word_run,
    write_words,
)
from .memory import (
    MASK32,
    find_region,
    hazard,
    keep_old_page,
    lane_region,
    load_cold,
    mmu_fault,
    read_in,
    store,
    store_in,
)
from .memory_model import cal_book_first, end_cycle, l2_access, quotient, tmu_queue_wait


# one copy, called by the two copies of `write_dest` (fast and general path): LLVM compiled the
# lookup, its L2T and calendar once per copy (jit.jit_out_of_line)
@jit_out_of_line
def tmu_lookup(m, slot, pc, sc, arow, mrow, cfg):
    """Issue one general-memory TMU lookup (reference 12.1) of thread `slot` of the job `m`
    (a `state.Machine`): sc[arow] holds the per-lane byte addresses, sc[mrow] the lanes enabled
    by the tmua write's condition, `cfg` is the lookup's configuration byte. Writes go to
    memory at once; read results are queued in the thread's output FIFO with the modelled time
    at which they arrive."""
    lanes, ts, qs, gs, jp, fp = m.lanes, m.ts, m.qs, m.gs, m.jp, m.fp
    fifo, fifo_ready, hosts, bases, sizes = m.fifo, m.fifo_ready, m.hosts, m.bases, m.sizes
    strict = jp[J_STRICT] != 0
    q = ts[slot, T_QPU]
    per_pixel = (cfg >> 7) & 1
    op = (cfg >> 3) & 15
    typ = cfg & 7
    ndata = ts[slot, T_TMU_NDATA]
    ts[slot, T_TMU_NDATA] = 0
    ts[slot, T_TMU_SEQ] = 0
    # the lanes taking part (lanes L_ACT) and their addresses' span: lowest, highest, OR (only
    # its two low bits are read: alignment). All 16 lanes on consecutive words (`run`, the
    # commonest lookup) need none of active_lanes' reductions: the same values, a0 to a0 + 60.
    run = word_run(sc[mrow], lanes[slot, L_MSF], sc[arow])
    if run:
        fill_row(lanes[slot, L_ACT], 1)
        a0 = np.int64(sc[arow, 0])
        nact, lo_a, hi_a, bits = np.int64(16), a0, a0 + 60, a0 & 3
    else:
        nact, lo_a, hi_a, bits = active_lanes(lanes[slot, L_ACT], sc[mrow], lanes[slot, L_MSF], sc[arow], per_pixel)
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
    # the BO of the previous lane's access and its bounds (region_bounds): lanes in it skip the search
    r = -1
    lo = end = nxt = np.int64(0)
    span = (nact, lo_a, hi_a, bits)
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
            if esize == 4:
                ev = word_lookup(m, slot, pc, sc, arow, 0, n, strict, True, span, run)
                if ev != 0:
                    return ev
            else:
                # 8 or 16 bits: one value per lane (types 0, 1, 5, 6)
                for i in range(16):
                    if lanes[slot, L_ACT, i] == 0:
                        continue
                    a = np.int64(sc[arow, i])
                    if strict and (a & (esize - 1)) != 0:
                        return hazard(gs, H_MISALIGNED, slot, pc, a)
                    a = a & ~np.int64(esize - 1)
                    r, lo, end, nxt = lane_region(a, esize, r, lo, end, nxt, bases, sizes)
                    if r < 0:
                        return mmu_fault(gs, slot, pc, a, esize)
                    store_in(r, a, esize, np.int64(lanes[slot, L_TMUD, i]), hosts, bases, sizes)
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
        queued = ts[slot, T_FIFO_COUNT] + results
        if queued > jp[J_FIFO] and (strict or queued > FIFO_CAP):
            return hazard(gs, H_FIFO_OVERFLOW, slot, pc, queued)
        head = ts[slot, T_FIFO_HEAD]
        count = ts[slot, T_FIFO_COUNT]
        # inactive lanes read 0: the first result word's row gets it in the lane loop below,
        # the other rows here
        e0 = (head + count) % FIFO_CAP
        for k in range(1, results):
            e = (head + count + k) % FIFO_CAP
            for i in range(16):
                fifo[slot, e, i] = 0
        if op == 15 and esize == 4:
            ev = word_lookup(m, slot, pc, sc, arow, e0, nvec, strict, False, span, run)
            if ev != 0:
                return ev
        else:
            for i in range(16):
                if lanes[slot, L_ACT, i] == 0:
                    fifo[slot, e0, i] = 0
                    continue
                a = np.int64(sc[arow, i])
                if strict and (a & (esize - 1)) != 0:
                    return hazard(gs, H_MISALIGNED, slot, pc, a)
                a = a & ~np.int64(esize - 1)
                if op == 15:
                    # 8 or 16 bits: one value per lane
                    r, lo, end, nxt = lane_region(a, esize, r, lo, end, nxt, bases, sizes)
                    if r < 0:
                        return mmu_fault(gs, slot, pc, a, esize)
                    v = read_in(r, a, esize, hosts, bases)
                    if signed:
                        if esize == 1 and v >= 0x80:
                            v -= 0x100
                        elif esize == 2 and v >= 0x8000:
                            v -= 0x10000
                    fifo[slot, e0, i] = v & MASK32
                else:
                    old = load_cold(a, 4, hosts, bases, sizes)
                    if old < 0:
                        return mmu_fault(gs, slot, pc, a, 4)
                    d0 = np.int64(lanes[slot, L_TMUD, i])
                    d1 = np.int64(lanes[slot, L_TMUD + 1, i])
                    new = tmu_atomic(op, ndata, old, d0, d1)
                    if not store(a, 4, new, hosts, bases, sizes):
                        return mmu_fault(gs, slot, pc, a, 4)
                    fifo[slot, e0, i] = old & MASK32
                    gs[G_TMU_WBYTES] += 4
        nbytes = nact * results * esize
        gs[G_TMU_RBYTES] += nbytes
    # cycle model (executor.CycleModel): the lookup waits for a place in the QPU's queue of
    # outstanding lookups, occupies its slice's TMU per distinct cache line, and moves the lines
    # that miss L2T (reads) or the bytes written over the shared memory bus; its data arrives
    # the TMU latency after the later of the two.
    shift = jp[J_LINE_SHIFT]
    reads = results > 0 or (op != 15 and ndata == 0)
    nlines, misses = count_lines(m, slot, sc, arow, reads, span)
    entry = tmu_queue_wait(q, qs, jp, fp)
    now = qs[q, Q_TIME]
    # the demand as a float, as the other bookings pass it (cal_book works in floats): one
    # compiled copy of cal_book, not one per argument type
    slice_cycles = float(max(nlines, 1) * jp[J_TMU_LINE_CYCLES])
    # the QPU's slice by a shift when the slice size is a power of two (BCM2711: 4), not a
    # division whose result the calendar's bucket address waits for
    tmu_done = cal_book_first(fp, jp, 1 + quotient(q, jp[J_QPUS_PER_SLICE], jp[J_SLICE_SHIFT]), now, slice_cycles)
    bus_cycles = misses * (1 << shift) * fp[F_READ_COST] + (gs[G_TMU_WBYTES] - wbytes0) * fp[F_WRITE_COST]
    ready = tmu_done
    if bus_cycles > 0:
        bus_done = cal_book_first(fp, jp, 0, now, bus_cycles)
        ready = max(ready, bus_done)
    ready += jp[J_TMU_LAT]
    fp[entry] = ready
    if jp[J_F_TQ_IDLE] >= 0:
        # profiling: when it would be ready with nothing else booked on the bus (the roof's share)
        fp[entry - jp[J_F_TQ] + jp[J_F_TQ_IDLE]] = max(tmu_done, end_cycle(now + bus_cycles)) + jp[J_TMU_LAT]
    if results > 0:
        head = ts[slot, T_FIFO_HEAD]
        count = ts[slot, T_FIFO_COUNT]
        for k in range(results):
            fifo_ready[slot, (head + count + k) % FIFO_CAP] = ready
        ts[slot, T_FIFO_COUNT] = count + results
    if ndata > 0:
        ts[slot, T_WRITES] += 1
        ts[slot, T_WRITE_DONE] = max(ts[slot, T_WRITE_DONE], ready)
    return 0


@jit_lean
def count_lines(m, slot, sc, arow, reads, span):
    """(distinct cache lines, L2T misses) of a lookup of thread `slot`: the lines of the active
    lanes' addresses (sc[arow]; `span`: the number of active lanes and the lowest, highest and
    OR of their addresses, from `lanes.active_lanes`), each looked up once in L2T (`reads`), in
    the order of the lanes that first touch them (L2T's LRU state depends on it).

    When the lowest and the highest active address are at most one line apart (contiguous
    loads and stores: one or two lines), the two lines are known without a scan of the lanes.
    Otherwise a lane's line is new when it lies outside the range of the lines met so far
    (strided gathers, whose lines rise or fall with the lane: no scan at all); only a line
    inside that range is looked for among the earlier lanes (`line_seen`).
    """
    lanes, fp, jp = m.lanes, m.fp, m.jp
    shift = jp[J_LINE_SHIFT]
    nact, lo, hi = span[0], span[1], span[2]
    if nact == 0:
        return 0, 0
    nlines = 0
    misses = 0
    if (hi >> shift) - (lo >> shift) <= 1:
        # on one line every active lane is on the lowest's; on two, the first active lane's
        # line is looked up first
        nlines = 1 if (hi >> shift) == (lo >> shift) else 2
        first = lo >> shift
        if nlines == 2:
            for i in range(16):
                if lanes[slot, L_ACT, i] != 0:
                    first = np.int64(sc[arow, i]) >> shift
                    break
        if reads:
            # one call site for both lines (l2_access is inlined at each)
            line = first
            for _ in range(nlines):
                misses += 0 if l2_access(fp, jp, line) else 1
                line = (lo >> shift) + (hi >> shift) - first
        return nlines, misses
    last = np.int64(-1)  # the line of the previous active lane (lines are >= 0)
    low = high = np.int64(-1)  # the lowest and highest line met so far (none while nlines == 0)
    for i in range(16):
        if lanes[slot, L_ACT, i] == 0:
            continue
        line = np.int64(sc[arow, i]) >> shift
        if line == last:
            continue  # an earlier active lane is on this line: no scan needed
        last = line
        if nlines > 0 and low <= line <= high and line_seen(lanes[slot, L_ACT], sc[arow], i, line, shift):
            continue
        if nlines == 0 or line < low:
            low = line
        if nlines == 0 or line > high:
            high = line
        nlines += 1
        if reads and not l2_access(fp, jp, line):
            misses += 1
    return nlines, misses


@jit_lean_inline
def line_seen(act, addrs, i, line, shift):
    """True when an active lane before lane `i` (`act`, `addrs`: a lookup's lanes and addresses)
    has its address on cache line `line`."""
    for j in range(i):
        if act[j] != 0 and (np.int64(addrs[j]) >> shift) == line:
            return True
    return False


@jit_lean
def word_lookup(m, slot, pc, sc, arow, row, nwords, strict, write, span, run):
    """The common lookups of :func:`tmu_lookup`, `nwords` 32-bit words per lane (1, or a vector of
    2-4 wrapping within the lane's 16 bytes): with `write`, each active lane's tmud words (lanes
    L_TMUD + k) go to its address (sc[arow]); otherwise the words at its address go to FIFO rows
    `row`, `row` + 1, ... (0 for the other lanes). Returns 0 or an event (a misaligned address
    under strict checks, an MMU fault), as the general lane loops.

    When one BO holds every word the active lanes touch (`span`, as in `count_lines`) and no
    address is misaligned under strict checks, nothing can fail: `span_words` moves the words
    without a per-lane BO check (`run`: all 16 lanes on consecutive words, `lanes.word_run`).
    Otherwise the lane loop below meets the events in lane order.
    """
    lanes, fifo, hosts, bases, sizes, gs = m.lanes, m.fifo, m.hosts, m.bases, m.sizes, m.gs
    nact, lo_a, hi_a, bits = span
    if nact > 0 and not (strict and (bits & 3) != 0):
        # the bytes the words can touch: vectors stay within their lane's aligned 16 bytes
        wrap = np.int64(3) if nwords == 1 else np.int64(15)
        first = lo_a & ~wrap
        end = (hi_a & ~wrap) + wrap + 1
        r = find_region(first, end - first, bases, sizes)
        if r >= 0 and span_words(m, slot, sc, arow, row, nwords, write, r, first, end, run):
            return 0
    r = -1
    lo = end = nxt = np.int64(0)
    for i in range(16):
        if lanes[slot, L_ACT, i] == 0:
            if not write:
                fifo[slot, row, i] = 0
            continue
        a = np.int64(sc[arow, i])
        if strict and (a & 3) != 0:
            return hazard(gs, H_MISALIGNED, slot, pc, a)
        for k in range(nwords):
            ea = word_address(a, k)
            r, lo, end, nxt = lane_region(ea, 4, r, lo, end, nxt, bases, sizes)
            if r < 0:
                return mmu_fault(gs, slot, pc, ea, 4)
            if write:
                store_in(r, ea, 4, np.int64(lanes[slot, L_TMUD + k, i]), hosts, bases, sizes)
            else:
                fifo[slot, (row + k) % FIFO_CAP, i] = read_in(r, ea, 4, hosts, bases)
    return 0


@jit_lean
def span_words(m, slot, sc, arow, row, nwords, write, r, first, end, run):
    """`word_lookup`'s words when BO `r` holds all of [first, end), every byte the active lanes
    can touch: the same values in the same order, without a per-lane BO check. Single words of
    all 16 lanes at consecutive addresses (`run`) are the 16 words from `first` on: one vector
    load or store instead of a gather or scatter (distinct words: the lane order of a scatter
    cannot matter). Returns False,
    having done nothing, for a write whose bytes span more than two of the pages that
    `keep_old_page` copies aside (then the per-lane loop copies exactly the pages written)."""
    lanes, fifo, hosts, bases, sizes = m.lanes, m.fifo, m.hosts, m.bases, m.sizes
    host = hosts[r] - bases[r]  # + a GPU address in BO r: its host address
    if write:
        p0 = (first - bases[r]) >> UNIFORM_PAGE_SHIFT
        p1 = (end - 1 - bases[r]) >> UNIFORM_PAGE_SHIFT
        if p1 - p0 > 1:
            return False
        # the lowest and the highest active lane write into pages p0 and p1
        keep_old_page(r, p0 << UNIFORM_PAGE_SHIFT, hosts, bases, sizes)
        if p1 != p0:
            keep_old_page(r, p1 << UNIFORM_PAGE_SHIFT, hosts, bases, sizes)
        if nwords == 1 and run:
            write_words(host + first, lanes[slot, L_TMUD])
            return True
        if nwords == 1:
            scatter_words(host, sc[arow], lanes[slot, L_ACT], lanes[slot, L_TMUD])
            return True
        # vectors: lane by lane, as the per-lane loop (a later lane's word 0 may overwrite an
        # earlier lane's word 1)
        for i in range(16):
            if lanes[slot, L_ACT, i] == 0:
                continue
            a = np.int64(sc[arow, i])
            for k in range(nwords):
                poke32(host + word_address(a, k), np.int64(lanes[slot, L_TMUD + k, i]))  # int64 as poke32's other callers
        return True
    if nwords == 1 and run:
        read_words(fifo[slot, row], host + first)
        return True
    for k in range(nwords):
        gather_words(fifo[slot, (row + k) % FIFO_CAP], host, sc[arow], lanes[slot, L_ACT], k)
    return True


@jit_lean
def word_address(a, k):
    """The address of word `k` of a lane's 32-bit lookup at byte address `a`: the low two bits
    are ignored (strict checks reject them first) and a vector of 2-4 words wraps within the
    lane's aligned 16 bytes (reference 12.1). `lanes.gather_words` computes the same."""
    return (a & ~np.int64(15)) | ((a + 4 * k) & 12)


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

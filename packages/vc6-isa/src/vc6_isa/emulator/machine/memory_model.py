"""The memory model's timing: DRAM calendar, L2T, TMU queues, unifa line fetches."""

import numpy as np

from ..jit import jit_lean, jit_lean_inline
from ..layout import (
    F_CAL_BASE,
    F_READ_COST,
    J_CAL_BUCKET,
    J_CAL_MASK,
    J_CAL_N,
    J_CAL_SHIFT,
    J_F_CAL,
    J_F_CAL_NEXT,
    J_F_L2,
    J_F_TQ,
    J_L2_SETS,
    J_L2_WAYS,
    J_LINE_SHIFT,
    J_TMU_QUEUE,
    J_UNIFA_LAT,
    Q_TIME,
    Q_TMU_QUEUE,
    Q_TMU_STALL,
    T_QPU,
    T_UNIFA_LINE,
)


@jit_lean
def cal_slot(b, n, mask):
    """Where bucket `b` lives in a calendar of `n` buckets: b mod n, a bit mask (`mask`,
    J_CAL_MASK) when n is a power of two (the same value, without a division)."""
    return b & mask if mask >= 0 else b % n


@jit_lean_inline
def quotient(x, d, shift):
    """x // d, a shift (`shift`: log2 of d, or -1, as J_CAL_SHIFT and J_SLICE_SHIFT) when d is a
    power of two (the same value, without a division the caller's next load waits for)."""
    return x >> shift if shift >= 0 else x // d


@jit_lean_inline
def end_cycle(end):
    """The whole cycle a booking ending at the fractional time `end` is done by: `end` rounded
    up, with a float's rounding noise (under 1e-6 of a cycle) below a whole cycle not counted
    as one more."""
    return np.int64(end + 0.999999)


@jit_lean
def cal_book(fp, jp, res, t, demand):
    """Book `demand` cycles of shared resource `res` from modelled time `t` on; returns the
    time at which the booking ends.

    A resource (the memory bus, a slice's TMU) is a calendar of buckets of remaining capacity, so
    a request from a QPU that the scheduler runs behind the others still finds the capacity
    that was free at its own time (QPUs are simulated out of step, a chunk at a time).

    A busy resource (the bus under a stream of stores) has a long run of used-up buckets
    (capacity 0, which stays 0 until the window slides past them) ahead of most requests, so
    each bucket also keeps a pointer (`J_F_CAL_NEXT`): every bucket from it up to the one its
    pointer names is used up. A booking follows the pointers over the run, halving the paths it
    takes, and leaves the first bucket of the run pointing at the run's end (a union-find over the
    buckets: nearly constant time per booking); the buckets it books are the ones the
    bucket-by-bucket walk would book.
    """
    bsz = jp[J_CAL_BUCKET]
    n = jp[J_CAL_N]
    mask = jp[J_CAL_MASK]
    off = jp[J_F_CAL] + res * n
    nxt = jp[J_F_CAL_NEXT] + res * n
    base = np.int64(fp[F_CAL_BASE + res])
    b = quotient(t, bsz, jp[J_CAL_SHIFT])
    b = max(b, base)  # older than the calendar's window: booked at its start
    rem = float(demand)
    run = np.int64(-1)  # the first of the used-up buckets just passed (-1: none)
    while True:
        if b >= base + n:
            # slide the window: the buckets that fall out are reused, with all their capacity
            # and no pointer past themselves, for the new ones (the same slot, n on)
            newbase = b - n + 1
            stop = newbase if newbase - base < n else base + n
            k = base
            while k < stop:
                s = cal_slot(k, n, mask)
                fp[off + s] = bsz
                # the first bucket at or past newbase in k's slot: k + n when the window slides
                # by at most n (the common case, without the division of the general formula)
                d = newbase - k
                fp[nxt + s] = k + n if d <= n else k + n * ((d + n - 1) // n)
                k += 1
            base = newbase
            fp[F_CAL_BASE + res] = base
        s = cal_slot(b, n, mask)
        cap = fp[off + s]
        if cap == 0.0:
            run = b if run < 0 else run
            p = np.int64(fp[nxt + s])  # > b: every bucket before it is used up
            if p < base + n and fp[off + cal_slot(p, n, mask)] == 0.0:
                fp[nxt + s] = fp[nxt + cal_slot(p, n, mask)]  # path halving: over p's run too
            b = p
            continue
        start = b * bsz + (bsz - cap)
        usable = cap
        if start < t:
            start = float(t)
            end_b = (b + 1) * bsz - t
            # float64 as min's result is anyway, as in semantics.ftoc: one compiled min
            usable = min(usable, np.float64(end_b))
        if usable >= rem:
            fp[off + s] = cap - rem
            if cap == rem:
                fp[nxt + s] = b + 1
                run = b if run < 0 else run
            if run >= base:
                fp[nxt + cal_slot(run, n, mask)] = b + 1 if cap == rem else b
            return end_cycle(start + rem)
        if usable > 0:
            fp[off + s] = cap - usable
            rem -= usable
        if usable == cap:
            fp[nxt + s] = b + 1
            run = b if run < 0 else run
        else:
            run = -1  # the bucket of `t`, partly before `t`: still has capacity
        b += 1


@jit_lean_inline
def cal_book_first(fp, jp, res, t, demand):
    """:func:`cal_book`, the common booking first: one that fits in the free part of `t`'s
    bucket, the loop's first step with its start taken by a max (the loop's branch on `start <
    t` goes the other way about one booking in 7) and its usable capacity bounded without that
    branch. The same bookings and the same floats (test_memory_model.py); anything else goes to
    `cal_book` untouched. Used by the TMU lookup's two bookings only: the same code inside
    `cal_book` (inlined in the fast path's loop through `unifa_line_fetch`) made sgemm up to 5%
    slower (issue 13, docs/emulator-internals.md)."""
    bsz = jp[J_CAL_BUCKET]
    n = jp[J_CAL_N]
    base = np.int64(fp[F_CAL_BASE + res])
    b = max(quotient(t, bsz, jp[J_CAL_SHIFT]), base)
    if b < base + n:
        s = cal_slot(b, n, jp[J_CAL_MASK])
        at = jp[J_F_CAL] + res * n + s
        cap = fp[at]
        start = b * bsz + (bsz - cap)
        start = float(t) if start < t else start
        # never more than the loop's `usable` (min(cap, ...) where the free part starts before
        # `t`, else cap, which the bound exceeds unless `start` was rounded up past the true
        # start): a booking taken here the loop takes alike, one refused goes to the loop
        usable = min(cap, np.float64((b + 1) * bsz - t))
        rem = float(demand)
        if cap != 0.0 and usable >= rem:
            fp[at] = cap - rem
            if cap == rem:
                fp[jp[J_F_CAL_NEXT] + res * n + s] = b + 1
            return end_cycle(start + rem)
    return cal_book(fp, jp, res, t, demand)


@jit_lean
def l2_access(fp, jp, line):
    """Look `line` up in the L2T model (set-associative, LRU, hashed set index); True on a hit,
    otherwise the line is installed in place of its set's least recently used line.

    Each set keeps its lines in order of last use, the most recent in way 0 and empty ways
    (tag -1) at the end: a hit moves its line to the front, a miss drops the last way and puts
    the new line in front. The lines a set holds are those of least-recently-used replacement by
    last-use stamps (the victim: the oldest stamp, or an empty way), so hits and misses are the
    same; the commonest hit, a line the QPU before just read (sgemm's QPUs read the same B rows),
    is found in way 0 with one compare, and a miss needs no victim search.
    """
    sets = jp[J_L2_SETS]
    ways = jp[J_L2_WAYS]
    s = (line ^ (line >> 7) ^ (line >> 14)) & (sets - 1)
    tag = jp[J_F_L2] + s * ways
    key = float(line)
    if fp[tag] == key:
        return True
    w = 1
    while w < ways and fp[tag + w] != key:
        w += 1
    hit = w < ways
    # ways 0 .. last - 1 move one way back: a hit's line leaves way `last`, a miss drops it
    last = w if hit else ways - 1
    while last > 0:
        fp[tag + last] = fp[tag + last - 1]
        last -= 1
    fp[tag] = key
    return hit


@jit_lean
def tmu_queue_wait(q, qs, jp, fp):
    """Stall QPU `q` while its oldest outstanding lookup (of J_TMU_QUEUE) is not done; returns
    the ring entry the new lookup takes."""
    e = jp[J_F_TQ] + q * jp[J_TMU_QUEUE] + qs[q, Q_TMU_QUEUE]
    oldest = np.int64(fp[e])
    if oldest > qs[q, Q_TIME]:
        qs[q, Q_TMU_STALL] += oldest - qs[q, Q_TIME]
        qs[q, Q_TIME] = oldest
    nxt = qs[q, Q_TMU_QUEUE] + 1  # the ring's next entry (no modulo: a division per lookup)
    qs[q, Q_TMU_QUEUE] = nxt if nxt < jp[J_TMU_QUEUE] else 0
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

"""Memory of the job: BO lookup, loads and stores by host address, the uniform streams, events."""

import numpy as np

from ..hostmem import peek8, peek32, poke8, poke32, prefetch
from ..jit import jit_lean, jit_lean_inline, jit_out_of_line
from ..layout import (
    EV_HAZARD,
    EV_MMU,
    G_EV_ARG,
    G_EV_ARG2,
    G_EV_CODE,
    G_EV_PC,
    G_EV_SLOT,
    G_EVENT,
    G_UNIF_READS,
    T_UNIF,
    UNIFORM_PAGE_SHIFT,
)

MASK32 = 0xFFFFFFFF




@jit_lean_inline
def find_region(addr, nbytes, bases, sizes):
    """Index of the BO holding [addr, addr+nbytes), or -1 (binary search over sorted bases).

    The search halves a range whose length depends only on the number of BOs, with a select
    instead of a branch per step: every call takes the same, predictable path through the loop
    (the uniform streams and TMU lookups search on every access, in no predictable order)."""
    n = bases.shape[0]
    if n == 0:
        return -1
    idx = 0  # the last BO whose base is <= addr, if any: bases[idx] <= addr unless idx == 0
    while n > 1:
        half = n >> 1
        idx = idx + half if bases[idx + half] <= addr else idx
        n -= half
    if bases[idx] <= addr and addr + nbytes <= bases[idx] + sizes[idx]:
        return idx
    return -1


@jit_lean
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
    return read_in(r, addr, size, hosts, bases)


@jit_lean_inline
def read_in(r, addr, size, hosts, bases):
    """`load` from BO `r`, known to hold [addr, addr+size)."""
    host = hosts[r] + (addr - bases[r])
    if size == 4:
        return peek32(host)
    if size == 2:
        return peek8(host) | (peek8(host + 1) << 8)
    return peek8(host)


@jit_lean_inline
def region_bounds(r, bases, sizes):
    """(first byte, end, next BO's base) of BO `r`: `find_region(addr, n)` is `r` for every addr
    with first <= addr < next and addr + n <= end, so the lanes of a TMU lookup that stay in one
    BO need no search."""
    nxt = bases[r + 1] if r + 1 < bases.shape[0] else np.int64(1) << 62
    return bases[r], bases[r] + sizes[r], nxt


@jit_lean_inline
def lane_region(ea, esize, r, lo, end, nxt, bases, sizes):
    """(BO, first byte, end, next BO's base) for `esize` bytes at `ea`: the previous lane's
    `r`, `lo`, `end`, `nxt` (region_bounds) when the bytes lie in them, else a new search; the
    BO is -1 when no BO holds the bytes."""
    if r >= 0 and lo <= ea < nxt and ea + esize <= end:
        return r, lo, end, nxt
    r = find_region(ea, esize, bases, sizes)
    if r >= 0:
        lo, end, nxt = region_bounds(r, bases, sizes)
    return r, lo, end, nxt


#: the same reader as a called function, for the general path (each inlined copy costs compile time)
load_cold = jit_lean(load.py_func)


# The uniform streams do not see TMU writes of the same job (hardware evidence, reference 11.3
# and Appendix G.5: a uniform read after a TMU write and tmuwt returns the old value). Model:
# they read memory as it was when the job started. Before the TMU first writes into a page of
# a BO, the page is copied aside; uniform reads of copied pages read the copy. `hosts` has
# three parts (built by Executor._prepare): hosts[r] BO r's bytes, hosts[n + r] the copies (same
# offsets), hosts[2n + r] one flag byte per page of BO r (1 = copied). ldunifa reads the same
# way: Mesa (nir_to_vir.c, ntq_emit_load_unifa) uses unifa for SSBOs only when they are
# read-only, since "ldunifa won't see the shader writes to that address (possibly because
# ldunifa doesn't read from the L2T cache)". Not modelled: L2T evictions that would make a
# write visible to the uniform streams earlier.


@jit_lean_inline
def page_flag(r, off, hosts, bases):
    """Host address of the flag byte (1: copied aside) of the page of BO `r` holding byte
    offset `off`: the third part of `hosts`."""
    return hosts[2 * bases.shape[0] + r] + (off >> UNIFORM_PAGE_SHIFT)


@jit_lean_inline
def keep_old_page(r, off, hosts, bases, sizes):
    """Copy the page of BO `r` holding byte offset `off` aside, once per job."""
    if peek8(page_flag(r, off, hosts, bases)) == 0:
        copy_page(r, off, hosts, bases, sizes)


@jit_lean
def copy_page(r, off, hosts, bases, sizes):
    """:func:`keep_old_page`'s copy, the first time a page is written."""
    n = bases.shape[0]
    page = off >> UNIFORM_PAGE_SHIFT
    flag = page_flag(r, off, hosts, bases)
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
    return uniform_in(r, addr, hosts, bases)


@jit_lean_inline
def uniform_in(r, addr, hosts, bases):
    """`load_uniform` from BO `r`, known to hold [addr, addr+4).

    The BO's word is read first, and replaced by the old one when its page was written during
    the job: a branch the host predicts, so the word's address waits on no other load. With the
    address chosen by the page's flag (LLVM's select, which it also makes of two loads in the
    two arms of an `if`), the flag's two loads came before the word's on every uniform read, on
    the path from an ldunifa to its next reader (issue 13, docs/emulator-internals.md)."""
    off = addr - bases[r]
    word = peek32(hosts[r] + off)
    if peek8(page_flag(r, off, hosts, bases)) != 0:
        word = old_uniform(r, off, hosts, bases)
    return word


@jit_out_of_line
def old_uniform(r, off, hosts, bases):
    """The word at `off` of BO `r` as at the start of the job, from the copy of its page
    (:func:`keep_old_page`). Out of line, so that :func:`uniform_in` keeps its branch."""
    return peek32(hosts[bases.shape[0] + r] + off)


@jit_lean_inline
def uniform_line_ahead(r, addr, hosts, bases):
    """Have the host CPU fetch the 64 bytes after `addr` of BO `r` (the next line of a unifa
    stream that has just entered the line at `addr`) into its caches: no effect on any value.

    A unifa stream walks its BO word by word; in a large job (sgemm 1024's A panels, 4 MB) the
    first word of each line was a host cache miss (issue 13, docs/emulator-internals.md). Both
    ends of the next 64 bytes are asked for: the BO's host bytes need not start on a line."""
    host = hosts[r] + addr - bases[r]
    prefetch(host + 64)
    prefetch(host + 127)


load_uniform_cold = jit_lean(load_uniform.py_func)


@jit_lean
def store(addr, size, value, hosts, bases, sizes):
    """TMU write of 1, 2 or 4 bytes little-endian; False when outside every BO."""
    r = find_region(addr, size, bases, sizes)
    if r < 0:
        return False
    store_in(r, addr, size, value, hosts, bases, sizes)
    return True


@jit_lean
def store_in(r, addr, size, value, hosts, bases, sizes):
    """`store` into BO `r`, known to hold [addr, addr+size)."""
    off = addr - bases[r]
    keep_old_page(r, off, hosts, bases, sizes)
    if ((off + size - 1) >> UNIFORM_PAGE_SHIFT) != (off >> UNIFORM_PAGE_SHIFT):
        keep_old_page(r, off + size - 1, hosts, bases, sizes)  # the write spans two pages
    host = hosts[r] + off
    if size == 4:
        poke32(host, value & MASK32)
        return
    for k in range(size):
        poke8(host + k, (value >> (8 * k)) & 0xFF)


# ----------------------------------------------------------------------------------------------
# events


@jit_lean
def hazard(gs, code, slot, pc, arg):
    gs[G_EVENT] = EV_HAZARD
    gs[G_EV_CODE] = code
    gs[G_EV_SLOT] = slot
    gs[G_EV_PC] = pc
    gs[G_EV_ARG] = arg
    return EV_HAZARD


@jit_lean_inline
def consumed_uniform(slot, addr, ts, gs):
    """The uniform stream of `slot` moves past the word it read at `addr`."""
    ts[slot, T_UNIF] = addr + 4
    gs[G_UNIF_READS] += 1


@jit_lean
def next_uniform(slot, pc, ts, gs, hosts, bases, sizes):
    """Consume one word of the uniform stream; -1 on an MMU fault (event already set)."""
    addr = ts[slot, T_UNIF]
    v = load_uniform_cold(addr, hosts, bases, sizes)
    if v < 0:
        mmu_fault(gs, slot, pc, addr, 4)
        return -1
    consumed_uniform(slot, addr, ts, gs)
    return v

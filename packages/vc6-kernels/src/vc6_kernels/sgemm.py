"""sgemm: single-precision matrix multiply `C = alpha * op(A) @ op(B) + beta * C` on the 8 QPUs.

**What it computes**

`sgemm(a, b, c=None, alpha=1.0, beta=0.0, trans_a=False, trans_b=False)` returns the
float32 M x N result for any M, N, K >= 1 (`op(X)` is `X.T` when `trans_X`). With
`beta == 0` C is not read (BLAS semantics: NaNs in an old C do not leak through). When
`c` is given it is also updated in place.

**Design (register-blocked outer product, the broadcast operand on the unifa stream)**

C is cut into 8 x 64 tiles; QPU q computes tiles q, q+8, ... (tiles ordered column block
by column block, so the 8 QPUs working at the same time read the same B columns, which
L2T then serves once). For one tile, lane l accumulates C[i0+r, j0+16b+l] for r = 0..7 and
blocks b = 0..3 in 32 registers. Each k step is 32 instructions
`fadd acc, acc, r0 ; fmul r0, r5, b` -- every one issues a useful fmul *and* fadd --
where r5 holds A[i0+r, k] in all lanes and b is block b of row k of B (four 16-lane
vectors, columns j0.., j0+16.., j0+32.., j0+48..).

* Broadcasting A costs no ALU op: the host packs op(A) into 8-row panels laid out k-major
  (`panel[k][r]`, zero rows below M), and the program walks a panel with the unifa
  stream: every fourth instruction carries `ldunifa`, which puts the next A value in all
  16 lanes of r5 (reference 12.2). Each A value is used by four consecutive fmuls (the four
  B vectors), so the other signal slots are free for `ldtmu`.
* Why 8 x 64 and not 16 x 32 (the earlier shape): the calibrated cycle model charges every
  new 64-byte line of the unifa stream a full memory round trip (no published timing pins
  the uniform cache, so it is modelled conservatively, see
  `vc6_isa.emulator.cycle_model`). A 16-row panel enters a new line every k step, an
  8-row panel every second one: 1.22x faster in the model although the loop has two more
  instructions.
* B rows come from ordinary 32-bit TMU loads straight from the caller's B (any strides,
  so `trans_b` costs nothing but cache locality), issued D = 2 k steps ahead: the TMU
  output FIFO holds the prefetched rows (8 words, the whole FIFO share), and each block is
  popped (`ldtmu`) in the instruction of its last use in the previous row (the last one
  at the start of its own step). Latency hidden: a k step of 37 instructions.
* Per k step the overhead is 4 instructions (four `tmua` writes, the last paired with the
  add that both advances the B address and sets the loop flag, since the address runs up
  to zero). With the loop branch, the inner loop is 37 instructions of which 32 dual-issue
  fmul and fadd: 86% (see `dual_issue_share`); the branch's three delay slots hold
  the first three instructions of the next k step.
* Edges: the panel is zero-padded in M; columns past N load a clamped (valid) column and
  are never stored; stores (and C loads for beta) are masked per lane with flag A computed
  from `min(cols - 1 - 16b - lane, rows - 1 - r) < 0` (reference 10.1 step 6). K needs
  no padding: the last D k steps are emitted without prefetch.

**Limits**

float32 only; A is repacked on the host (O(MK) copy, the GEMM packing step); B and C are
used in place when they are DeviceArrays. One batch per QPU (no thread switches).

**Figures**

1024^3 on the emulator (`benchmarks/kernels_modelled.py`): 105.9 ms, 20.3 Gflop/s (63% of
the 32 Gflop/s peak), ALU utilisation 68.6% -- *modelled* by the calibrated cycle model of
a 500 MHz Pi 4 (±4% calibration error; its unifa-stream cost is a conservative assumption
on top), not measured; 78.0 M thread-instructions. py-videocore6's sgemm in the same model
takes 551.0 ms (it measured 554.6 ms, 3.878 Gflop/s, on a real Pi 4): 5.2x.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import v3d_drm
from vc6_isa.asm import (
    Program,
    R,
    add,
    assemble,
    b,
    bor,
    eidx,
    fadd,
    fmul,
    imin,
    ldtmu,
    ldunifa,
    ldunifarf,
    ldunifrf,
    mov,
    nop,
    null,
    qpu,
    r0,
    r1,
    r2,
    r3,
    r4,
    r5,
    rf,
    shl,
    shr,
    sub,
    tmua,
    tmud,
    umin,
    unifa,
)
from vc6_isa.encoding import decode

from . import _common as C

__all__ = ["dual_issue_share", "program", "sgemm"]

ROWS = 8  # rows of a C tile (A values per k step)
NBLK = 4  # 16-lane column blocks of a C tile
COLS = 16 * NBLK  # columns of a C tile
PREFETCH = 2  # k steps of B loaded ahead: NBLK words each, 8 words = the FIFO share
ENTRY_WORDS = 8  # words per tile-table entry
STEP = ROWS * NBLK  # dual-issue instructions per k step (one fmul and one fadd each)

_ACC = [[rf[32 + NBLK * r + blk] for blk in range(NBLK)] for r in range(ROWS)]


def _useful(u: int, *, b_regs: tuple, fadd_prev: bool, sig: Any) -> None:
    """Instruction u (0..STEP-1) of a k step: fmul for (row u//NBLK, block u%NBLK), fadd for
    u-1's product."""
    blk = u % NBLK
    if u == 0:
        prev = _ACC[ROWS - 1][NBLK - 1]
    else:
        pr, pblk = divmod(u - 1, NBLK)
        prev = _ACC[pr][pblk]
    if fadd_prev:
        fadd(prev, prev, r0, sig=sig).fmul(r0, r5, b_regs[blk])
    else:
        nop(sig=sig).fmul(r0, r5, b_regs[blk])


def _signal(u: int, *, pop_next: bool, more_a: bool, b_regs: tuple) -> Any:
    """The signal of instruction u: B pops (FIFO order) and the ldunifa of the next A value.

    Block b of row k+1 is popped in the instruction of its last use in row k (the signal writes
    after the reads), u = STEP - NBLK + b, except the last block, whose slot holds an ldunifa:
    it is popped at u = 0 of step k+1 (first used at u = NBLK - 1)."""
    last_row = STEP - NBLK
    if u == 0:
        return ldtmu(b_regs[NBLK - 1])  # this row's last block
    if pop_next and last_row <= u < STEP - 1:
        return ldtmu(b_regs[u - last_row])  # row k+1, blocks 0 .. NBLK-2
    if u % NBLK == NBLK - 1 and (u != STEP - 1 or more_a):
        return ldunifa  # A value for row (u+1)//NBLK (or row 0 of the next k step)
    return None


@qpu
def _sgemm(asm: Any, *, prefetch: int, use_beta: bool) -> None:
    (table, ntiles, sk, ksk, nsk, sj, ldc, alpha, beta) = (rf[i] for i in range(3, 12))
    qnum, lane, entry, rk, apanel, bcol, cbase, rows, cols, mask, caddr, entry_step = (
        rf[i] for i in range(12, 24)
    )
    b_regs = tuple(rf[i] for i in range(24, 24 + NBLK))
    ends = tuple(rf[i] for i in range(24 + NBLK, 24 + 2 * NBLK))
    for reg in (table, ntiles, sk, ksk, nsk, sj, ldc, alpha, beta):
        nop(sig=ldunifrf(reg))
    C.qpu_number(qnum, r0)
    eidx(lane)
    # tiles of this QPU: q, q+8, ...; count = (ntiles - q + 7) >> 3
    sub(r0, ntiles, qnum)
    add(r0, r0, 7)
    shr(ntiles, r0, 3)
    shl(r0, qnum, 5)  # 32-byte entries
    add(entry, table, r0)
    mov(entry_step, 1)
    shl(entry_step, entry_step, 8)  # 8 entries
    bor(null, ntiles, ntiles, cond="pushz")
    C.branch_to("end", cond="a0")

    C.label("tile")
    mov(unifa, entry)
    for r in range(ROWS):  # zero the accumulators (also the unifa latency, 13.2/9)
        for blk in range(0, NBLK, 2):
            mov(_ACC[r][blk], 0).mov(_ACC[r][blk + 1], 0)
    for reg in (apanel, bcol, cbase, rows, cols):
        nop(sig=ldunifarf(reg))
    mov(unifa, apanel)
    # per-lane B column addresses of each block (clamped to the last valid column), row 0
    sub(r0, cols, 1)
    mov(r2, lane)
    for blk in range(NBLK):
        umin(r1, r2, r0)
        nop().multop(null, r1, sj)  # full 32-bit multiply: multop then umul24 (reference 10.11)
        nop().umul24(r1, r1, sj)
        add(ends[blk], bcol, r1)
        sub(r2, r2, -16)  # next block: lane + 16 (blk + 1)
    temps = (r1, r2, r3, r4)
    for blk in range(0, NBLK, 2):
        mov(temps[blk], ends[blk]).mov(temps[blk + 1], ends[blk + 1])
    for _ in range(prefetch):  # rows 0 .. D-1
        for blk in range(NBLK):
            mov(tmua, temps[blk]).add(temps[blk], temps[blk], sk)
    for blk in range(NBLK):  # row K: the k-loop address runs as end + rk, rk = (k - n) * sk
        add(ends[blk], ends[blk], ksk)
    mov(rk, nsk)
    mov(r1, sk)
    # store mask (>= 0 in lanes whose block-0 column exists) and C address of block 0
    sub(mask, cols, lane)
    sub(mask, mask, 1)
    shl(r0, lane, 2)
    add(caddr, cbase, r0)
    for blk in range(NBLK - 1):
        nop(sig=ldtmu(b_regs[blk]))  # row 0, blocks 0 .. NBLK-2
    nop(sig=ldunifa)  # A[i0, 0]
    bor(null, rk, rk, cond="pushz")  # no k step with prefetch (K == D)
    b(R.tail, cond="a0")
    for u in range(3):  # delay slots: start of the first k step
        _useful(u, b_regs=b_regs, fadd_prev=(u > 0),
                sig=_signal(u, pop_next=True, more_a=True, b_regs=b_regs))  # fmt: skip

    def body(*, prefetch_step: bool, pop_next: bool, more_a: bool) -> None:
        for u in range(3, STEP):
            _useful(u, b_regs=b_regs, fadd_prev=True,
                    sig=_signal(u, pop_next=pop_next, more_a=more_a, b_regs=b_regs))  # fmt: skip
            if prefetch_step and u % 4 == 1 and u // 4 - 1 < NBLK:
                blk = u // 4 - 1  # u = 5, 9, 13, ...: row k + D of block blk
                if blk < NBLK - 1:
                    add(tmua, ends[blk], rk)
                else:
                    add(tmua, ends[blk], rk).add(rk, rk, r1, cond="pushz")  # and advance

    C.label("kloop")
    body(prefetch_step=True, pop_next=True, more_a=True)
    b(R.kloop, cond="na0")
    for u in range(3):  # delay slots: start of the next k step (also of the first tail step)
        _useful(u, b_regs=b_regs, fadd_prev=True,
                sig=_signal(u, pop_next=True, more_a=True, b_regs=b_regs))  # fmt: skip
    C.label("tail")
    for j in range(prefetch):
        last = j == prefetch - 1
        body(prefetch_step=False, pop_next=not last, more_a=not last)
        if not last:
            for u in range(3):
                _useful(u, b_regs=b_regs, fadd_prev=True,
                        sig=_signal(u, pop_next=True, more_a=True, b_regs=b_regs))  # fmt: skip
    fadd(_ACC[ROWS - 1][NBLK - 1], _ACC[ROWS - 1][NBLK - 1], r0)

    # ---- C = alpha * acc (+ beta * C), masked per lane and row --------------------------
    # r1: this block's mask (mask - 16 blk), r4: its C address (caddr + 64 blk), r5: 64
    mov(r2, alpha)
    sub(r3, rows, 1)  # rows - 1 - r: >= 0 for rows that exist
    mov(r0, 1)
    shl(r5, r0, 6)
    for r in range(ROWS):
        mov(r1, mask).mov(r4, caddr)
        for blk in range(NBLK):
            acc = _ACC[r][blk]
            if use_beta:
                imin(null, r1, r3, cond="pushn")  # A: lane/row outside C
                mov(tmua, r4, cond="ifna").fmul(acc, acc, r2)
                nop(sig=ldtmu(r0))
                fmul(r0, r0, beta)
                fadd(acc, acc, r0)
            else:
                imin(null, r1, r3, cond="pushn").fmul(acc, acc, r2)
            mov(tmud, acc).add(r1, r1, -16)
            if blk < NBLK - 1:
                mov(tmua, r4, cond="ifna").add(r4, r4, r5)
            else:
                mov(tmua, r4, cond="ifna").sub(r3, r3, 1)
        add(caddr, caddr, ldc)
    add(entry, entry, entry_step)
    sub(ntiles, ntiles, 1, cond="pushz")
    C.branch_to("tile", cond="na0")
    C.label("end")
    C.end_program()


@functools.cache
def program(k: int = 1024, use_beta: bool = False) -> Program:
    """The assembled QPU program of `sgemm`.

    Args:
        k: The inner dimension (only `min(k, 4)` changes the program).
        use_beta: Whether the program reads C (`beta != 0`).

    Returns:
        The program (cached).
    """
    if k < 1:
        raise C.KernelValueError(f"sgemm: K must be >= 1, got {k}")
    return _assembled(min(k, PREFETCH), bool(use_beta))


@functools.cache
def _assembled(prefetch: int, use_beta: bool) -> Program:
    return assemble(_sgemm, prefetch=prefetch, use_beta=use_beta)


def dual_issue_share(prog: Program) -> float:
    """The share of inner-loop instructions that issue a useful `fmul` and `fadd` together.

    Counted statically, from label `kloop` to its branch plus the branch's three delay slots.

    Args:
        prog: An sgemm program, from `program()`.

    Returns:
        The share, 0 to 1 (0.91 for this kernel).
    """
    start = prog.labels["kloop"]
    words = [decode(int(w)) for w in prog.words]
    end = next(i for i in range(start, len(words)) if words[i].is_branch) + 3
    loop = words[start : end + 1]
    useful = sum(
        1
        for ins in loop
        if not ins.is_branch and ins.add.op == "fadd" and ins.mul.op == "fmul"
    )
    return useful / len(loop)


def _scalar(value: Any, name: str) -> np.float32:
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, (int, float, np.integer, np.floating)
    ):
        raise C.KernelTypeError(
            f"{name} must be a real number, not {type(value).__name__}"
        )
    return np.float32(value)


def sgemm(
    a: Any,
    b: Any,
    c: Any = None,
    *,
    alpha: float = 1.0,
    beta: float = 0.0,
    trans_a: bool = False,
    trans_b: bool = False,
    device: v3d_drm.Device | None = None,
) -> np.ndarray:
    """Single-precision matrix multiply on the GPU: `alpha * op(a) @ op(b) + beta * c`.

    `op(x)` is `x.T` when `trans_x` is set. Any M, N, K >= 1. With `beta == 0`, `c` is not read
    (BLAS semantics: NaNs in an old `c` do not leak through).

    Args:
        a: The M x K matrix (K x M with `trans_a`), float32, numpy or `DeviceArray`.
        b: The K x N matrix (N x K with `trans_b`), float32.
        c: An M x N float32 matrix; when given it is also updated in place.
        alpha: Scale of the product.
        beta: Scale of `c`; non-zero needs `c`.
        trans_a: Use `a.T`.
        trans_b: Use `b.T` (costs nothing but cache locality).
        device: The device to run on (default: `default_device()`, the Pi's GPU or the
            emulator).

    Returns:
        The M x N float32 result, as a numpy array.

    Raises:
        KernelTypeError: An argument is not a float32 matrix.
        KernelValueError: The shapes do not match, `c` is read-only or overlaps `a` or `b`, or
            `beta != 0` without `c`.
    """
    f32 = (np.dtype(np.float32),)
    a = C.check_array(a, "a", f32, ndim=2)
    b = C.check_array(b, "b", f32, ndim=2)
    alpha32, beta32 = _scalar(alpha, "alpha"), _scalar(beta, "beta")
    m, k = a.shape[::-1] if trans_a else a.shape
    kb, n = b.shape[::-1] if trans_b else b.shape
    if k != kb:
        raise C.KernelValueError(
            f"sgemm: op(a) is {m}x{k} but op(b) is {kb}x{n}; inner dimensions must match "
            f"(check trans_a/trans_b)"
        )
    if min(m, n, k) < 1:
        raise C.KernelValueError(
            f"sgemm: M, N, K must be >= 1, got M={m}, N={n}, K={k}"
        )
    if c is not None:
        c = C.check_array(c, "c", f32, ndim=2)
        if c.shape != (m, n):
            raise C.KernelValueError(
                f"sgemm: c has shape {c.shape}, expected ({m}, {n})"
            )
        if not c.flags.writeable:
            raise C.KernelValueError("sgemm: c is read-only; it is updated in place")
        if np.shares_memory(c, a) or np.shares_memory(c, b):
            raise C.KernelValueError(
                "sgemm: c overlaps a or b; the QPUs would read values already overwritten"
            )
    elif beta32 != 0:
        raise C.KernelValueError("sgemm: beta != 0 needs a c array to scale and add")
    use_beta = bool(beta32 != 0)
    dev = C.resolve_device(device)
    prog = program(k, use_beta)
    d = min(k, PREFETCH)
    op_a = a.T if trans_a else a
    panels = -(-m // ROWS)
    tiles_m, tiles_n = panels, -(-n // COLS)
    with C.staging() as st:
        b_dev = st.device_copy(
            dev, np.ascontiguousarray(b) if not C.is_device_array(b) else b
        )
        if c is not None and C.is_device_array(c):
            c_dev = c
        else:
            c_dev = st.new(dev, (m, n), np.float32)
            if use_beta:
                c_dev[...] = c
        packed = st.new(dev, (panels, k, ROWS), np.float32)
        padded = np.zeros((panels * ROWS, k), np.float32)
        padded[:m] = op_a
        packed[...] = padded.reshape(panels, ROWS, k).transpose(0, 2, 1)
        sk, sj = (4, 4 * k) if trans_b else (4 * n, 4)
        ldc = 4 * n
        table = st.new(dev, (tiles_m * tiles_n, ENTRY_WORDS), np.uint32)
        table[...] = 0
        tj, ti = np.divmod(np.arange(tiles_m * tiles_n), tiles_m)  # column-block major
        table[:, 0] = C.address_of(packed) + ti * ROWS * k * 4
        table[:, 1] = C.address_of(b_dev) + tj * COLS * sj
        table[:, 2] = C.address_of(c_dev) + ti * ROWS * ldc + tj * COLS * 4
        table[:, 3] = np.minimum(ROWS, m - ti * ROWS)
        table[:, 4] = np.minimum(COLS, n - tj * COLS)
        mask = 0xFFFFFFFF
        uniforms = [
            C.address_of(table),
            tiles_m * tiles_n,
            sk,
            (k * sk) & mask,
            (-(k - d) * sk) & mask,
            sj,
            ldc,
            int(alpha32.view(np.uint32)),
            int(beta32.view(np.uint32)),
        ]
        C.dispatch(dev, prog, uniforms, [b_dev, c_dev, packed, table]).wait()
        result = np.array(c_dev)
    if c is not None and not C.is_device_array(c):
        c[...] = result
    return result


sgemm.program = program  # type: ignore[attr-defined]  # vc6_kernels.sgemm.program(...)
sgemm.dual_issue_share = dual_issue_share  # type: ignore[attr-defined]

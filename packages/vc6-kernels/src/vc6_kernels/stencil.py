"""stencil: QPULib's heat-flow step, repeated on the GPU.

**What it computes**

`stencil(grid, steps, k=0.25)` applies `steps` times, to a float32 H x W grid (H, W >= 3),
the step of QPULib's HeatMap example: every interior cell c moves toward the mean of its
8 neighbours by the factor k, `c' = c - k * (c - mean)`; border cells keep their value.
Every step reads the previous step's grid (Jacobi, not in place). The float32 operations
and their order are, per interior cell (x, y), with V = (up + mid) + down the vertical sum
of a column:

```text
S    = ((V[x-1] + V[x+1]) + grid[y-1, x]) + grid[y+1, x]
out  = c - (c - S * 0.125) * k
```

each rounded to nearest even, so a numpy float32 evaluation in that order
(`reference`) gives the same bits.

**Design**

One dispatch per step, alternating between two device buffers (ping-pong; both start as
copies of the grid so borders are already right); nothing is copied back until the end.
QPU q computes rows 1+q, 9+q, ... For a row it walks 16-column chunks left to right:
each chunk needs three TMU loads (the up, mid and down rows at its 16 columns, addresses
clamped inside the row), issued two chunks ahead so their latency overlaps the previous
chunk's arithmetic. The column sums V of the previous, current and next chunk stay in
registers, and the left and right neighbour sums come from full-lane rotations of V
(the `rot` signal): lane 0 of the left rotation and lane 15 of the right one are
taken from the rotated previous / next chunk with a conditional move. So each chunk of
16 cells costs 3 loads and 1 masked store instead of the 9 loads of a plain gather.

**Limits**

float32 only; W up to 4 Mi columns. Each step is a separate job (a global barrier).

**Figures**

512 x 512 x 10 steps on the emulator (`benchmarks/kernels_modelled.py`): 6.60 ms,
4.34 Gflop/s counting QPULib's 11 flops per cell, ALU utilisation 49.6% -- *modelled* by the
calibrated cycle model (±4% calibration error), GPU time only (each step is one job; a Pi
adds about 70 us of host dispatch per job). Reading and writing the grid once per step
(1 MiB each way) would take 4.2 ms at the model's read and write rates (the neighbour rows
it loads again mostly hit L2T); the program reaches 64% of that roof because it is bound by
its own instruction issue: 36 instructions per 16-cell chunk (the window shift sits in the
loop branch's delay slots, register copies ride on the pops' free ALUs, and the loads of
chunk + 2 go out before chunk + 1 is popped; 42 instructions and 7.49 ms before).
py-videocore6 has no stencil.
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
    fsub,
    imax,
    imin,
    ldtmu,
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
    rf,
    rotate,
    shl,
    shr,
    sub,
    tmua,
    tmud,
)

from . import _common as C

__all__ = ["program", "reference", "stencil"]


@qpu
def _stencil(asm: Any) -> None:
    src, dst, height, width, pitch, kf, nchunks = (rf[i] for i in range(3, 10))
    qnum, lane, wm1, rowcnt, yoff, stride8, up, mid, down, outrow = (
        rf[i] for i in range(10, 20)
    )
    colload, colst, ccount, vprev, vcur, vnext = (rf[i] for i in range(20, 26))
    uc, mc, dc, un, mn, dn = (rf[i] for i in range(26, 32))
    for reg in (src, dst, height, width, pitch, kf, nchunks):
        nop(sig=ldunifrf(reg))
    C.qpu_number(qnum, r0)
    eidx(lane)
    sub(wm1, width, 1)
    # rows of this QPU: 1+q, 9+q, ... <= H-2: (H - 2 - q + 7) >> 3
    sub(r0, height, qnum)
    add(r0, r0, 5)
    shr(rowcnt, r0, 3)
    nop().multop(
        null, qnum, pitch
    )  # yoff = q * pitch: offset of row y-1 (reference 10.11)
    nop().umul24(yoff, qnum, pitch)
    shl(stride8, pitch, 3)
    bor(null, rowcnt, rowcnt, cond="pushz")
    C.branch_to("end", cond="a0")

    def issue() -> None:
        """Loads of the up/mid/down rows at columns colload + lane (clamped), colload += 16."""
        imax(r0, colload, 0)
        imin(r0, r0, wm1)
        shl(r0, r0, 2)
        add(tmua, up, r0)
        add(tmua, mid, r0)
        add(tmua, down, r0)
        sub(colload, colload, -16)

    def pop(u: Any, m: Any, d: Any, v: Any, *, copy_cur: bool = False) -> None:
        """Pop one chunk's three rows and sum them into ``v``; with ``copy_cur`` the first pop
        also copies vcur and vprev to r1 and r2 (its ALUs are free)."""
        if copy_cur:
            mov(r1, vcur, sig=ldtmu(u)).mov(r2, vprev)
        else:
            nop(sig=ldtmu(u))
        nop(sig=ldtmu(m))
        nop(sig=ldtmu(d))
        fadd(r0, u, m)
        fadd(v, r0, d)

    C.label("row")
    add(up, src, yoff)
    add(mid, up, pitch)
    add(down, mid, pitch)
    add(r0, dst, yoff)
    add(outrow, r0, pitch)
    sub(colload, lane, 15)  # chunk -1: only its lane 15 (column 0) is used
    add(colst, lane, 1)
    issue()
    pop(un, mn, dn, vprev)
    issue()
    pop(uc, mc, dc, vcur)
    issue()
    mov(ccount, nchunks)
    C.label("chunk")
    issue()  # chunk + 2, before popping chunk + 1: a whole iteration of lead (6 words queued)
    pop(un, mn, dn, vnext, copy_cur=True)
    rotate(r0, r1, 1)  # left neighbour sums, lanes 1..15
    rotate(r4, r2, 1)  # lane 0: the previous chunk's lane 15
    bor(null, lane, lane, cond="pushz").mov(r3, vnext)
    mov(r0, r4, cond="ifa")
    rotate(r2, r1, -1)  # right neighbour sums, lanes 0..14
    rotate(r4, r3, -1)  # lane 15: the next chunk's lane 0
    sub(null, lane, 15, cond="pushz")
    mov(r2, r4, cond="ifa")
    fadd(r0, r0, r2)
    fadd(r0, r0, uc)
    fadd(r0, r0, dc)
    fmul(r0, r0, 0.125)
    fsub(r0, mc, r0)
    fmul(r0, r0, kf)
    fsub(r0, mc, r0)
    sub(null, colst, wm1, cond="pushc")  # columns 1 .. W-2 are stored
    shl(r1, colst, 2)
    add(r1, outrow, r1).mov(tmud, r0)
    mov(tmua, r1, cond="ifa").sub(colst, colst, -16)
    sub(ccount, ccount, 1, cond="pushz")
    b(R.chunk, cond="na0")
    # delay slots: shift the chunk window (harmless after the last chunk: the next row reloads)
    mov(vprev, vcur).mov(vcur, vnext)
    mov(uc, un).mov(mc, mn)
    mov(dc, dn)
    for _ in range(3):  # the loads of the chunk after the last
        nop(sig=ldtmu(r0))
    add(yoff, yoff, stride8)
    sub(rowcnt, rowcnt, 1, cond="pushz")
    C.branch_to("row", cond="na0")
    C.label("end")
    C.end_program()


@functools.cache
def program() -> Program:
    """The assembled QPU program of one heat-flow step (for any grid size).

    Returns:
        The program (cached).
    """
    return assemble(_stencil)


def reference(grid: np.ndarray, steps: int, k: float = 0.25) -> np.ndarray:
    """The same computation in numpy float32, in the kernel's order of operations."""
    g = np.array(grid, dtype=np.float32)
    kf = np.float32(k)
    for _ in range(steps):
        v = (g[:-2] + g[1:-1]) + g[2:]  # column sums for rows 1..H-2
        s = ((v[:, :-2] + v[:, 2:]) + g[:-2, 1:-1]) + g[2:, 1:-1]
        c = g[1:-1, 1:-1]
        new = g.copy()
        new[1:-1, 1:-1] = c - (c - s * np.float32(0.125)) * kf
        g = new
    return g


def stencil(
    grid: Any, steps: int, *, k: float = 0.25, device: v3d_drm.Device | None = None
) -> np.ndarray:
    """Run heat-flow steps on a 2-D float32 grid on the GPU (QPULib's HeatMap step).

    Every interior cell moves toward the mean of its 8 neighbours by the factor `k`; border
    cells keep their value. The float32 operations and their order are fixed (see above), so
    the result is bit-identical to the numpy reference.

    Args:
        grid: The H x W float32 grid, H and W at least 3.
        steps: Number of steps, 0 or more.
        k: The diffusion factor.
        device: The device to run on (default: `default_device()`, the Pi's GPU or the
            emulator).

    Returns:
        The grid after `steps` steps, as a new numpy array.

    Raises:
        KernelTypeError: `grid` is not a float32 matrix, `steps` not an int, or `k` not a number.
        KernelValueError: The grid is smaller than 3 x 3 or too wide, or `steps` is negative.
    """
    grid = C.check_array(grid, "grid", (np.dtype(np.float32),), ndim=2)
    h, w = grid.shape
    if h < 3 or w < 3:
        raise C.KernelValueError(f"stencil needs a grid of at least 3x3, got {h}x{w}")
    if w >= 1 << 22:
        raise C.KernelValueError(
            f"stencil: width {w} is too large (limit {(1 << 22) - 1})"
        )
    if isinstance(steps, (bool, np.bool_)) or not isinstance(steps, (int, np.integer)):
        raise C.KernelTypeError(f"steps must be an int, not {type(steps).__name__}")
    if steps < 0:
        raise C.KernelValueError(f"steps must be >= 0, got {steps}")
    if isinstance(k, bool) or not isinstance(k, (int, float, np.integer, np.floating)):
        raise C.KernelTypeError(f"k must be a real number, not {type(k).__name__}")
    dev = C.resolve_device(device)
    prog = program()
    if steps == 0:
        return np.array(grid)
    kbits = int(np.float32(k).view(np.uint32))
    with C.staging() as st:
        first = st.device_copy(
            dev, np.ascontiguousarray(grid) if not C.is_device_array(grid) else grid
        )
        bufs = []
        for _ in range(2 if steps > 1 else 1):
            buf = st.new(dev, (h, w), np.float32)
            buf[...] = grid
            bufs.append(buf)
        nchunks = -(-(w - 2) // 16)
        jobs = []
        source = first
        for i in range(steps):
            target = bufs[i % 2]
            uniforms = [
                C.address_of(source),
                C.address_of(target),
                h,
                w,
                4 * w,
                kbits,
                nchunks,
            ]
            jobs.append(C.dispatch(dev, prog, uniforms, [source, target]))
            source = target
        for job in jobs:  # jobs complete in submission order; wait for (and check) each
            job.wait()
        return np.array(source)


stencil.program = program  # type: ignore[attr-defined]  # vc6_kernels.stencil.program()
stencil.reference = reference  # type: ignore[attr-defined]

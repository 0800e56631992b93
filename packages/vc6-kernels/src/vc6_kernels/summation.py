"""summation: the sum of a 1-D float32, int32 or uint32 array on the 8 QPUs.

**What it computes**

`summation(x)` returns `x.sum(dtype=x.dtype)` as a numpy scalar of `x`'s dtype. Integer
sums wrap modulo 2**32 exactly like numpy does with that dtype (int32 and uint32 are the
same 32-bit `add`). Any length (0 gives 0), any 4-byte-aligned start.

**Design**

The array is cut into a 16-byte-aligned *body* of 256-byte blocks (64 elements) and two
*edges* (the 0-3 elements before the first 16-byte boundary, and whatever is left after the
body). QPU q reads blocks q, q+8, q+16, ... with vec4 TMU loads (one lookup brings 4
consecutive words to each lane, configured through `tmuc`), keeping four
lookups (8 words, the whole output FIFO of a non-4-way-threaded batch) in flight: every
iteration pops one lookup's four words and issues the next, so TMU latency is hidden
behind the lookup still queued. Each lane keeps four accumulators, one per vec4
element. Edges use masked 32-bit lookups (lanes outside the range never touch memory) and
add into the same accumulators. At the end each QPU adds its four accumulators, reduces its
16 lanes with four rotate+add steps (`rot` on the mul ALU) and stores
lane 0; the host adds the 8 per-QPU partial sums.

**Float summation order and error bound**

Element i goes to accumulator (QPU, lane, vec element) fixed by its position; each
accumulator adds its elements in increasing index order (at most `m` additions, about
n / 512, computed exactly by `max_chain`), then `(a0 + a1) + (a2 + a3)`, then the lane tree (16 -> 1), then the host
adds the 8 QPU sums pairwise in float32. With u = 2**-24 and every fadd rounded to
nearest even, `|result - exact| <= (m + 9) * u * sum(|x_i|)` to first order
(see `error_bound`).

**Limits**

One batch per QPU, dispatched without 4-way threading. The body needs at least 2 blocks per QPU
(n >= 1024 elements); shorter arrays take the masked edge path only.

**Figures**

32 Mi uint32 on the emulator (`benchmarks/kernels_modelled.py`): 18.46 ms, 7,270 MB/s,
ALU utilisation 11.4% -- *modelled* by the calibrated cycle model (±4% calibration error):
the model's read roof, so the program is bandwidth-bound. py-videocore6's summation in the
same model: 19.04 ms (it measured 18.53 ms, 7,242 MB/s, on a real Pi 4), so 1.03x.
"""

from __future__ import annotations

import functools
import math
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
    rf,
    rotate,
    shl,
    sub,
    tmua,
    tmuc,
    tmud,
)

from . import _common as C

__all__ = ["error_bound", "program", "summation"]

DTYPES = (np.dtype(np.float32), np.dtype(np.int32), np.dtype(np.uint32))
PREFETCH = C.FIFO_WORDS // 4  # vec4 lookups in flight: they fill the output FIFO
BLOCK = 64  # elements per vec4 lookup (16 lanes x 4 words)


@qpu
def _summation(asm: Any, *, floating: bool) -> None:
    acc_op = fadd if floating else add
    body_addr, blocks, e0_addr, e0_n, e1_addr, e1_n, dst = (rf[i] for i in range(3, 10))
    qnum, lane, cfg, stride, addr, cnt = (rf[i] for i in range(10, 16))
    s = [rf[16 + i] for i in range(4)]
    scratch = [rf[20 + i] for i in range(4)]

    for reg in (body_addr, blocks, e0_addr, e0_n, e1_addr, e1_n, dst):
        nop(sig=ldunifrf(reg))
    C.qpu_number(qnum, r0)
    eidx(lane)
    for acc in s:
        mov(acc, 0)
    # ---- body: vec4 blocks q, q+8, ... -----------------------------------------------------
    skip_body, loop, drain = (C.fresh_label(n) for n in ("skip_body", "loop", "drain"))
    bor_push_zero(blocks)
    b(getattr(R, skip_body), cond="a0")
    nop()
    nop()
    nop()
    mov(cfg, -4)  # 0xfffffffc: vec4 for the next lookup, 32-bit default after it
    shl(r0, qnum, 4)
    add(r0, r0, lane)
    shl(r0, r0, 4)  # 16 bytes per lane, 256 per QPU
    add(addr, body_addr, r0)
    mov(stride, 1)
    shl(stride, stride, 11)  # 8 QPUs x 256 bytes
    for _ in range(PREFETCH):
        mov(tmuc, cfg)
        mov(tmua, addr).add(addr, addr, stride)
    sub(cnt, blocks, PREFETCH, cond="pushz")
    # pop three words of the oldest lookup in the skip branch's delay slots
    b(getattr(R, drain), cond="a0")
    nop(sig=ldtmu(r0))
    acc_op(s[0], s[0], r0, sig=ldtmu(r1))
    acc_op(s[1], s[1], r1, sig=ldtmu(r2))
    C.label(loop)
    acc_op(
        s[2], s[2], r2, sig=ldtmu(r3)
    )  # fourth word: the oldest lookup is fully popped
    acc_op(s[3], s[3], r3).mov(tmuc, cfg)
    sub(cnt, cnt, 1, cond="pushz")
    mov(tmua, addr)  # FIFO back to 16 words
    b(getattr(R, loop), cond="na0")
    nop(sig=ldtmu(r0)).add(
        addr, addr, stride
    )  # delay slots: first three words of the next
    acc_op(s[0], s[0], r0, sig=ldtmu(r1))
    acc_op(s[1], s[1], r1, sig=ldtmu(r2))
    C.label(drain)
    # three words of the oldest lookup are popped; PREFETCH - 1 whole lookups remain
    acc_op(s[2], s[2], r2, sig=ldtmu(r3))
    acc_op(s[3], s[3], r3)
    for _ in range(PREFETCH - 1):
        nop(sig=ldtmu(r0))
        acc_op(s[0], s[0], r0, sig=ldtmu(r1))
        acc_op(s[1], s[1], r1, sig=ldtmu(r2))
        acc_op(s[2], s[2], r2, sig=ldtmu(r3))
        acc_op(s[3], s[3], r3)
    C.label(skip_body)

    # ---- edges: masked 32-bit lookups ------------------------------------------------------
    def edge_body(lane_addrs: list[Any]) -> None:
        mov(tmua, lane_addrs[0], cond="ifa")
        nop(sig=ldtmu(r0))
        mov(
            r0, 0, cond="ifna"
        )  # lanes that did not load keep their accumulator unchanged
        acc_op(s[0], s[0], r0)

    for a, n in ((e0_addr, e0_n), (e1_addr, e1_n)):
        C.scalar_range(
            qpu=qnum,
            lane=lane,
            n=n,
            addrs=[a],
            shift=2,
            regs=scratch[:3],
            body=edge_body,
        )

    # ---- reduce: 4 accumulators, then 16 lanes, store lane 0 at dst[qpu] ------------------
    acc_op(r0, s[0], s[1])
    acc_op(r1, s[2], s[3])
    acc_op(r0, r0, r1)
    for amount in (8, 4, 2, 1):
        nop()  # the rotated accumulator must not be written by the previous instruction
        rotate(r1, r0, amount)
        acc_op(r0, r0, r1)
    shl(r1, qnum, 2)
    add(r1, dst, r1)
    bor_push_zero(lane)
    mov(tmud, r0)
    mov(tmua, r1, cond="ifa")
    C.end_program()


def bor_push_zero(reg: Any) -> None:
    """Flag A := (reg == 0) in every lane."""
    bor(null, reg, reg, cond="pushz")


@functools.cache
def program(dtype: Any = np.float32) -> Program:
    """The assembled QPU program of `summation`.

    Args:
        dtype: The element type: float32, int32 or uint32.

    Returns:
        The program (cached).
    """
    dt = np.dtype(dtype)
    if dt not in DTYPES:
        raise C.KernelTypeError(f"summation: unsupported dtype {dt}")
    return assemble(_summation, floating=(dt.kind == "f"))


def max_chain(n: int) -> int:
    """Most additions any one accumulator makes for n elements (any start alignment): one per
    body block of its QPU, plus one per edge group (128 elements) of the head and the tail."""
    lanes = C.NUM_QPUS * C.LANES
    worst = 0
    for head_bytes in range(0, 16, 4):
        head, blocks, _, tail = split(head_bytes, n)
        worst = max(worst, blocks + math.ceil(head / lanes) + math.ceil(tail / lanes))
    return worst


def error_bound(x: np.ndarray) -> float:
    """First-order bound on `|summation(x) - exact sum|` for a float32 `x` (see module doc)."""
    m = max_chain(x.size)
    return (m + 9) * 2.0**-24 * float(np.abs(x.astype(np.float64)).sum())


def split(address: int, n: int) -> tuple[int, int, int, int]:
    """(head elements, blocks per QPU, body elements, tail elements) for an array at
    `address` of `n` 4-byte elements."""
    head = min(n, ((-address) % 16) // 4)
    blocks = (n - head) // (C.NUM_QPUS * BLOCK)
    if blocks < PREFETCH:
        blocks = 0
    body = blocks * C.NUM_QPUS * BLOCK
    return head, blocks, body, n - head - body


def summation(x: Any, *, device: v3d_drm.Device | None = None) -> np.generic:
    """Sum a 1-D array on the GPU.

    Args:
        x: The array: float32, int32 or uint32, numpy or `DeviceArray`, any length.
        device: The device to run on (default: `default_device()`, the Pi's GPU or the
            emulator).

    Returns:
        The sum as a numpy scalar of `x.dtype`; integer sums wrap modulo 2**32.

    Raises:
        KernelTypeError: `x` is not a 1-D array of a supported dtype.
    """
    x = C.check_array(x, "x", DTYPES, ndim=1)
    if not x.flags.c_contiguous:
        x = np.ascontiguousarray(x)
    dev = C.resolve_device(device)
    prog = program(x.dtype)
    if x.size == 0:
        return x.dtype.type(0)
    with C.staging() as st:
        src = st.device_copy(dev, x)
        out = st.new(dev, (C.NUM_QPUS,), x.dtype)
        out[...] = 0
        base = C.address_of(src)
        head, blocks, body, tail = split(base, x.size)
        uniforms = [
            base + 4 * head,
            blocks,
            base,
            head,
            base + 4 * (head + body),
            tail,
            C.address_of(out),
        ]
        C.dispatch(dev, prog, uniforms, [src, out]).wait()
        partial = np.array(out)
    if x.dtype.kind == "f":
        # pairwise in float32: ((p0+p1)+(p2+p3)) + ((p4+p5)+(p6+p7))
        while partial.size > 1:
            partial = (partial[0::2] + partial[1::2]).astype(np.float32)
        return np.float32(partial[0])
    total = int(partial.astype(np.uint64).sum()) & 0xFFFFFFFF
    return np.array([total], dtype=np.uint32).view(x.dtype)[0]


summation.program = program  # type: ignore[attr-defined]  # vc6_kernels.summation.program(...)

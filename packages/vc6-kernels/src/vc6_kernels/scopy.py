"""scopy: copy a 1-D array of 4-byte elements (float32, int32, uint32, ...) on the 8 QPUs.

**What it computes**

`scopy(x, out=None)` returns a copy of `x` (bit-exact: the words are moved, never
converted); with `out` it fills `out` (same length and itemsize 4) and returns it as
numpy. Any length, any 4-byte-aligned start.

**Design**

Same split as summation: a body of 256-byte blocks, QPU q taking blocks q, q+8, ..., and
masked 32-bit edges. A body block is one vec4 TMU load (4 words per lane)
and one vec4 TMU store (4 `tmud` writes then `tmua`). Two loads stay in flight (8 words,
the batch's output-FIFO share), so each block's load latency overlaps the previous
block's store. Loads and `ldtmu` are kept in separate instructions (Mesa's rule 13.1/1,
which py-videocore6's hardware examples also follow for scopy).

**Limits**

The vec4 body needs `x` and `out` to have the same address modulo 16 (fresh device
arrays always do); otherwise the body uses 32-bit lookups (8 in flight, 4 times as many
lookups and instructions). `x` and `out` must not overlap.

**Figures**

16 Mi float32 on the emulator (`benchmarks/kernels_modelled.py`): 27.03 ms, 2,483 MB/s
copied -- *modelled* by the calibrated cycle model (±4% calibration error): the model's
roof for a copy, whose reads and writes share one memory bus (64 MiB / 7.27 GB/s +
64 MiB / 3.77 GB/s). py-videocore6's scopy in the same model: 27.03 ms (it measured
27.69 ms, 2,424 MB/s, on a real Pi 4), so 1.00x.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import v3d_drm
from vc6_isa.asm import (
    Program,
    add,
    assemble,
    bor,
    eidx,
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
    shl,
    sub,
    tmua,
    tmuc,
    tmud,
)

from . import _common as C

__all__ = ["program", "scopy"]

WORDS = (
    4,
    1,
)  # words per lane per lookup: vec4 when src and dst agree modulo 16, else 32-bit
_DATA = (r0, r1, r2, r3)


def prefetch(words: int) -> int:
    """Lookups kept in flight: they fill the batch's output-FIFO share."""
    return C.FIFO_WORDS // words


def block(words: int) -> int:
    """Elements one lookup moves (16 lanes x words)."""
    return C.LANES * words


def _store_block(words: int, cfg: Any, dst: Any, stride: Any) -> None:
    if words > 1:
        mov(tmuc, cfg)
    for reg in _DATA[:words]:
        mov(tmud, reg)
    mov(tmua, dst).add(dst, dst, stride)


def _pop_block(words: int) -> None:
    for reg in _DATA[:words]:
        nop(sig=ldtmu(reg))


@qpu
def _scopy(asm: Any, *, words: int) -> None:
    src_body, dst_body, blocks, e0_src, e0_dst, e0_n, e1_src, e1_dst, e1_n = (
        rf[i] for i in range(3, 12)
    )
    qnum, lane, cfg, stride, src, dst, cnt = (rf[i] for i in range(12, 19))
    scratch = [rf[20 + i] for i in range(4)]
    depth = prefetch(words)
    lane_shift = {4: 4, 1: 2}[words]  # bytes per lane per lookup: 16 or 4
    for reg in (src_body, dst_body, blocks, e0_src, e0_dst, e0_n, e1_src, e1_dst, e1_n):
        nop(sig=ldunifrf(reg))
    C.qpu_number(qnum, r0)
    eidx(lane)
    skip, loop, drain = (C.fresh_label(n) for n in ("skip_body", "loop", "drain"))
    bor(null, blocks, blocks, cond="pushz")
    C.branch_to(skip, cond="a0")
    mov(cfg, -4)  # 0xfffffffc: the next lookup is vec4
    shl(r0, qnum, 4)
    add(r0, r0, lane)
    shl(r0, r0, lane_shift)
    add(src, src_body, r0)
    add(dst, dst_body, r0)
    mov(stride, 1)
    shl(stride, stride, 7 + lane_shift)  # 8 QPUs x 16 lanes x bytes per lane
    for _ in range(depth):
        if words > 1:
            mov(tmuc, cfg)
        mov(tmua, src).add(src, src, stride)
    sub(cnt, blocks, depth, cond="pushz")
    C.branch_to(drain, cond="a0")
    C.label(loop)
    _pop_block(words)
    _store_block(words, cfg, dst, stride)
    if words > 1:
        mov(tmuc, cfg)
    sub(cnt, cnt, 1, cond="pushz")
    mov(tmua, src).add(src, src, stride)
    C.branch_to(loop, cond="na0")
    C.label(drain)
    for _ in range(depth):
        _pop_block(words)
        _store_block(words, cfg, dst, stride)
    C.label(skip)

    def edge_body(lane_addrs: list[Any]) -> None:
        mov(tmua, lane_addrs[0], cond="ifa")
        nop(sig=ldtmu(r0))
        mov(tmud, r0)
        mov(tmua, lane_addrs[1], cond="ifa")

    for s, d, n in ((e0_src, e0_dst, e0_n), (e1_src, e1_dst, e1_n)):
        C.scalar_range(qpu=qnum, lane=lane, n=n, addrs=[s, d], shift=2, regs=scratch,
                       body=edge_body)  # fmt: skip
    C.end_program()


@functools.cache
def program(words: int = 4) -> Program:
    """The assembled QPU program of `scopy` (for any 4-byte dtype).

    Args:
        words: 4 to move the body with vec4 lookups, 1 with 32-bit lookups (used when source and
            destination are not aligned alike modulo 16 bytes).

    Returns:
        The program (cached).

    Raises:
        KernelValueError: `words` is not 4 or 1.
    """
    if words not in WORDS:
        raise C.KernelValueError(f"scopy: words must be 4 or 1, got {words}")
    return assemble(_scopy, words=words)


def split(src: int, dst: int, n: int) -> tuple[int, int, int, int, int]:
    """(words per lookup, head, blocks per QPU, body elements, tail) for 4-byte arrays at
    `src`/`dst`."""
    words = 4 if (src - dst) % 16 == 0 else 1
    head = min(n, ((-src) % 16) // 4) if words == 4 else 0
    blocks = (n - head) // (C.NUM_QPUS * block(words))
    if blocks < prefetch(words):
        blocks = 0
    body = blocks * C.NUM_QPUS * block(words)
    return words, head, blocks, body, n - head - body


def scopy(
    x: Any, out: Any = None, *, device: v3d_drm.Device | None = None
) -> np.ndarray:
    """Copy a 1-D array of 4-byte elements on the GPU.

    Args:
        x: The source: any 4-byte dtype (float32, int32, uint32), numpy or `DeviceArray`.
        out: Where to copy to: same shape, 4-byte elements, writeable, not overlapping `x`
            (default: a new array).
        device: The device to run on (default: `default_device()`, the Pi's GPU or the
            emulator).

    Returns:
        The copy, as numpy: `out` itself when it is a numpy array (a `DeviceArray` `out` is
        filled in place, and a numpy copy is returned).

    Raises:
        KernelTypeError: `x` does not have 4-byte elements.
        KernelValueError: `out` has the wrong shape or dtype, is read-only, or overlaps `x`.
    """
    x = C.check_array(x, "x", None, ndim=1)
    if x.dtype.itemsize != 4:
        raise C.KernelTypeError(
            f"scopy copies 4-byte elements; x has dtype {x.dtype} (itemsize {x.dtype.itemsize})"
        )
    if not x.flags.c_contiguous:
        x = np.ascontiguousarray(x)
    if out is not None:
        out = C.check_array(out, "out", None, ndim=1)
        if out.dtype.itemsize != 4 or out.shape != x.shape:
            raise C.KernelValueError(
                f"out must have x's shape {x.shape} and 4-byte elements; got shape "
                f"{out.shape}, dtype {out.dtype}"
            )
        if not out.flags.writeable or not out.flags.c_contiguous:
            raise C.KernelValueError("out must be writeable and C-contiguous")
        if np.shares_memory(x, out):
            raise C.KernelValueError("out overlaps x; copy into a separate array")
    dev = C.resolve_device(device)
    if x.size == 0:
        result = np.empty(0, x.dtype)
        return out if out is not None and not C.is_device_array(out) else result
    with C.staging() as st:
        src = st.device_copy(dev, x)
        if out is not None and C.is_device_array(out):
            dst = out
        else:
            dst = st.new(dev, x.shape, x.dtype)
        s, d = C.address_of(src), C.address_of(dst)
        words, head, blocks, body, tail = split(s, d, x.size)
        prog = program(words)
        e1 = 4 * (head + body)
        uniforms = [
            s + 4 * head,
            d + 4 * head,
            blocks,
            s,
            d,
            head,
            s + e1,
            d + e1,
            tail,
        ]
        C.dispatch(dev, prog, uniforms, [src, dst]).wait()
        result = np.array(dst).view(x.dtype)
    if out is not None and not C.is_device_array(out):
        out[...] = result.view(out.dtype)
        return out
    return result


scopy.program = program  # type: ignore[attr-defined]  # vc6_kernels.scopy.program()

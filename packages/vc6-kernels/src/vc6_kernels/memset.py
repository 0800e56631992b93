"""memset: fill an array of 1-, 2- or 4-byte elements with one value on the 8 QPUs.

**What it computes**

`memset(out, value)` sets every element of `out` (any shape, C-contiguous, dtype with
itemsize 1, 2 or 4: int8/uint8/bool, int16/uint16/float16, int32/uint32/float32) to
`value` and returns the filled array as numpy. Any length, any alignment the allocator
or a view gives.

**Design**

The value is replicated into a 32-bit pattern. The 16-byte-aligned body is written with
vec4 TMU stores (4 `tmud` words then `tmua`: 256 bytes per lookup);
QPU q writes blocks q, q+8, ... Stores need no results, so there is nothing to wait for
inside the loop; the program ends with `tmuwt`. The unaligned head and the tail are
written element by element with typed TMU stores (8-bit or 16-bit "unsigned" types, or
32-bit) masked per lane, so no byte outside the array is touched.

**Limits**

Elements wider than 4 bytes are refused (fill them as a uint32 view instead).

**Figures**

64 MiB on the emulator (`benchmarks/kernels_modelled.py`): 17.80 ms, 3,770 MB/s -- *modelled*
by the calibrated cycle model (±4% calibration error): the model's write roof.
py-videocore6's memset in the same model: 17.81 ms (it measured 17.89 ms, 3,752 MB/s, on a
real Pi 4), so 1.00x.
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
    ldunifrf,
    mov,
    nop,
    null,
    qpu,
    r0,
    rf,
    shl,
    shr,
    sub,
    tmua,
    tmuc,
    tmud,
)

from . import _common as C

__all__ = ["memset", "program"]

_TYPED = {1: C.TMU_U8, 2: C.TMU_U16, 4: C.TMU_U32}
_SHIFT = {1: 0, 2: 1, 4: 2}
BLOCK_BYTES = 256


@qpu
def _memset(asm: Any, *, itemsize: int) -> None:
    body_addr, nblocks, pattern, e0_addr, e0_n, e1_addr, e1_n, typed = (
        rf[i] for i in range(3, 11)
    )
    qnum, lane, cfg, stride, addr, cnt = (rf[i] for i in range(11, 17))
    scratch = [rf[20 + i] for i in range(3)]
    for reg in (body_addr, nblocks, pattern, e0_addr, e0_n, e1_addr, e1_n, typed):
        nop(sig=ldunifrf(reg))
    C.qpu_number(qnum, r0)
    eidx(lane)
    # blocks of this QPU: q, q+8, ...: (nblocks + 7 - q) >> 3
    add(r0, nblocks, 7)
    sub(r0, r0, qnum)
    shr(cnt, r0, 3)
    skip, loop = C.fresh_label("skip_body"), C.fresh_label("loop")
    bor(null, cnt, cnt, cond="pushz")
    C.branch_to(skip, cond="a0")
    mov(cfg, -4)  # vec4
    shl(r0, qnum, 4)
    add(r0, r0, lane)
    shl(r0, r0, 4)
    add(addr, body_addr, r0)
    mov(stride, 1)
    shl(stride, stride, 11)  # 8 QPUs x 256 bytes
    C.label(loop)
    mov(tmuc, cfg)
    for _ in range(4):
        mov(tmud, pattern)
    sub(cnt, cnt, 1, cond="pushz")
    mov(tmua, addr).add(addr, addr, stride)
    C.branch_to(loop, cond="na0")
    C.label(skip)

    def edge_body(lane_addrs: list[Any]) -> None:
        mov(tmuc, typed)  # one element per lane: 8-, 16- or 32-bit store
        mov(tmud, pattern)
        mov(tmua, lane_addrs[0], cond="ifa")

    for a, n in ((e0_addr, e0_n), (e1_addr, e1_n)):
        C.scalar_range(qpu=qnum, lane=lane, n=n, addrs=[a], shift=_SHIFT[itemsize],
                       regs=scratch, body=edge_body)  # fmt: skip
    C.end_program()


@functools.cache
def program(itemsize: int = 4) -> Program:
    """The assembled QPU program of `memset`.

    Args:
        itemsize: The element size in bytes: 1, 2 or 4.

    Returns:
        The program (cached).

    Raises:
        KernelTypeError: `itemsize` is not 1, 2 or 4.
    """
    if itemsize not in _SHIFT:
        raise C.KernelTypeError(f"memset: itemsize must be 1, 2 or 4, got {itemsize}")
    return assemble(_memset, itemsize=itemsize)


def _pattern(value: Any, dtype: np.dtype) -> int:
    """`value` as one element of `dtype`, replicated into a 32-bit word."""
    if isinstance(value, (np.ndarray, list, tuple)) or not np.isscalar(value):
        raise C.KernelTypeError(f"value must be a scalar, not {type(value).__name__}")
    if dtype.kind in "iu":
        if isinstance(value, (float, np.floating)) and not float(value).is_integer():
            raise C.KernelValueError(
                f"value {value!r} is not an integer; out has dtype {dtype}"
            )
        if isinstance(value, (str, bytes)):
            raise C.KernelTypeError(
                f"value must be a number, not {type(value).__name__}"
            )
        info = np.iinfo(dtype)
        if not info.min <= int(value) <= info.max:
            raise C.KernelValueError(
                f"value {value!r} is out of bounds for {dtype} ([{info.min}, {info.max}])"
            )
        element = np.array(int(value), dtype=dtype)
    elif dtype.kind == "f":
        if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(
            value, bool
        ):
            raise C.KernelTypeError(
                f"value must be a real number, not {type(value).__name__}"
            )
        element = np.array(value, dtype=dtype)
    elif dtype.kind == "b":
        if not isinstance(value, (bool, np.bool_, int, np.integer)) or int(
            value
        ) not in (0, 1):
            raise C.KernelValueError(f"value {value!r} is not a bool")
        element = np.array(bool(value), dtype=dtype)
    else:
        raise C.KernelTypeError(f"memset: unsupported dtype {dtype}")
    bits = int(element.view({1: np.uint8, 2: np.uint16, 4: np.uint32}[dtype.itemsize]))
    if dtype.itemsize == 1:
        return bits * 0x01010101
    if dtype.itemsize == 2:
        return bits * 0x00010001
    return bits


def memset(out: Any, value: Any, *, device: v3d_drm.Device | None = None) -> np.ndarray:
    """Fill an array with one value on the GPU.

    Args:
        out: The array to fill: any shape, C-contiguous, writeable, with 1-, 2- or 4-byte
            elements (int8/uint8/bool, int16/uint16/float16, int32/uint32/float32).
        value: A scalar that fits `out`'s dtype.
        device: The device to run on (default: `default_device()`, the Pi's GPU or the
            emulator).

    Returns:
        The filled array, as numpy (`out` is filled in place as well).

    Raises:
        KernelTypeError: `out` has an unsupported dtype, or `value` is not a scalar.
        KernelValueError: `value` does not fit the dtype, or `out` is not C-contiguous and
            writeable.
    """
    out = C.check_array(out, "out", None)
    if out.dtype.itemsize not in _SHIFT or out.dtype.kind not in "iufb":
        raise C.KernelTypeError(
            f"memset fills 1-, 2- or 4-byte numbers or bools; out has dtype {out.dtype}"
        )
    if not out.flags.c_contiguous or not out.flags.writeable:
        raise C.KernelValueError("out must be C-contiguous and writeable")
    pattern = _pattern(value, out.dtype)
    dev = C.resolve_device(device)
    es = out.dtype.itemsize
    prog = program(es)
    n = out.size
    if n == 0:
        return np.array(out)
    with C.staging() as st:
        dst = out if C.is_device_array(out) else st.new(dev, out.shape, out.dtype)
        base = C.address_of(dst)
        head = min(n, ((-base) % 16) // es)
        nblocks = (n - head) * es // BLOCK_BYTES
        body = nblocks * BLOCK_BYTES // es
        tail = n - head - body
        e1 = base + es * (head + body)
        uniforms = [
            base + es * head,
            nblocks,
            pattern,
            base,
            head,
            e1,
            tail,
            _TYPED[es],
        ]
        C.dispatch(dev, prog, uniforms, [dst]).wait()
        result = np.array(dst)
    if not C.is_device_array(out):
        out[...] = result
    return result


memset.program = program  # type: ignore[attr-defined]  # vc6_kernels.memset.program(...)

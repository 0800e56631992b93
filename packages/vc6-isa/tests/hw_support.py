"""Shared pieces of the ports of py-videocore6's hardware tests (the ``test_hw_*.py`` files).

Every program in py-videocore6's ``tests/`` ran on a Raspberry Pi 4, and its assertions state
what the hardware produced (reference vc6-isa.md, Appendix G collects the surprising parts).
Each ``test_hw_<name>.py`` here re-creates one of those files in this project's own code: the
same instruction streams (the hardware facts), the same inputs and expected results, run on the
emulated V3D in the emulator's default strict mode. They go through :mod:`vc6_isa.compat`, so
the memory layout (one buffer: 1 MiB of code, then the arrays in allocation order) and the CSD
cfg words are the ones the hardware saw; several tests depend on that layout's alignment.
"""

from __future__ import annotations

import numpy as np
from vc6_isa.asm import *
from vc6_isa.compat import Driver

#: Bytes between two 16-lane rows of 32-bit values (a "row" in the tests' output arrays).
ROW = 64


def pi(**sizes: int) -> Driver:
    """A fresh py-videocore6-style driver on the emulated device (default strict mode)."""
    return Driver(device="emulator", **sizes)


def run(drv: Driver, code, uniforms, **dispatch) -> None:
    """Dispatch as py-videocore6's tests do: one 16-invocation workgroup, uniforms at the
    address of ``uniforms`` (an array) or at an explicit address."""
    address = uniforms if isinstance(uniforms, (int, np.integer)) else uniforms.addresses().flat[0]
    drv.execute(code, local_invocation=(16, 1, 1), uniforms=int(address), **dispatch)


def finish() -> None:
    """The multi-segment program end of every py-videocore6 test (reference 14 a): the
    last-thread-switch marker, two slots, the thread-end thrsw, its two slots, one spare nop."""
    for sig in (thrsw, thrsw, None, None, thrsw, None, None, None):
        nop(sig=sig) if sig is not None else nop()


def lane_offset(dst, base) -> None:
    """``dst = base + 4 * eidx`` (each lane's own word of a 16-word row); clobbers r0."""
    eidx(r0)
    shl(r0, r0, 2)
    add(dst, base, r0)


def out_rows(first) -> None:
    """Prepare row-by-row output: ``rf1`` = output row 0 + 4 * lane (from ``first``, a register
    holding the output address), r3 = 64, the stride between rows."""
    lane_offset(rf1, first)
    shl(r3, 4, 4)


def store_row(value) -> None:
    """Write ``value`` (16 lanes) to the next output row: ``tmud``, ``tmua`` at rf1, wait, rf1 += 64
    (r3 holds 64, set before thread switches and read after them: reference Appendix G.2)."""
    mov(tmud, value)
    mov(tmua, rf1)
    tmuwt().add(rf1, rf1, r3)


def seeded(test_name: str) -> np.random.Generator:
    """A random generator fixed per test (the hardware tests drew fresh values each run)."""
    return np.random.default_rng(sum(map(ord, test_name)))

"""Shared pieces of the ports of py-videocore6's hardware tests (the ``test_hw_*.py`` files).

Every program in py-videocore6's ``tests/`` ran on a Raspberry Pi 4, and its assertions state
what the hardware produced (reference vc6-isa.md, Appendix G collects the surprising parts).
The programs themselves are re-typed once, in ``test_asm_pyvc6.py``, which checks that they
assemble to the words py-videocore6 emitted; each ``test_hw_<name>.py`` here runs them, with
the same inputs, on the emulated V3D in the emulator's default strict mode, and asserts the
results the hardware tests asserted (in this project's own code). They go through
:mod:`vc6_isa.compat`, so the memory layout (one buffer: 1 MiB of code, then the arrays in
allocation order) and the CSD cfg words are the ones the hardware saw; several tests depend on
that layout's alignment.
"""

from __future__ import annotations

import numpy as np
from vc6_isa.compat import Driver


def pi(**sizes: int) -> Driver:
    """A fresh py-videocore6-style driver on the emulated device (default strict mode)."""
    return Driver(device="emulator", **sizes)


def run(drv: Driver, code, uniforms, **dispatch) -> None:
    """Dispatch as py-videocore6's tests do: one 16-invocation workgroup, uniforms at the
    address of ``uniforms`` (an array) or at an explicit address."""
    address = uniforms if isinstance(uniforms, (int, np.integer)) else uniforms.addresses().flat[0]
    drv.execute(code, local_invocation=(16, 1, 1), uniforms=int(address), **dispatch)


def seeded(test_name: str) -> np.random.Generator:
    """A random generator fixed per test (the hardware tests drew fresh values each run)."""
    return np.random.default_rng(sum(map(ord, test_name)))

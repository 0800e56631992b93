"""The optional-numba decorator shared by the emulator's hot code.

`jit` compiles a function with numba in nopython mode when numba is importable, and
leaves it plain Python otherwise, so the same source runs (slowly) without numba.
Set the environment variable `VC6_NO_JIT=1` to force the plain-Python path, e.g. to
debug with pdb or to check that results do not depend on the compiler.

`error_model="numpy"`: integer/float division follows numpy (no Python exception
checks in the compiled code); the emulator's code never divides by zero on purpose.

Compile time: the machine is compiled at numba's LLVM optimisation level `OPT_LEVEL` (numba's
default is 3) unless the environment variable `NUMBA_OPT` is set: the executor compiles it
inside `optimisation_level`, which sets the level for that block only. Measured on an empty
cache (first emulated job, CPU seconds): level 3 takes 34 s, level 1 22 s, at the same run speed
(benchmarks/emulator_speed.py): the machine is branchy scalar code that -O3's extra passes
(vectorisers, aggressive unrolling) do not speed up. The level cannot change results: numba
compiles without fast-math, so LLVM keeps IEEE semantics at every level. numba reads the level
for its optimisation passes at each compile; only its machine-code generator, built once per
process at the first compile, keeps the level it found then.
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

import numpy as np

F = TypeVar("F", bound=Callable)

#: True when functions decorated with `jit` are compiled by numba.
JIT_ENABLED: bool = False

#: numba's LLVM optimisation level while the emulator is in use (see the module docstring).
OPT_LEVEL = 1

if os.environ.get("VC6_NO_JIT", "") not in ("", "0"):
    _numba = None
else:
    try:
        import numba as _numba
    except ImportError:  # numba is an optional extra ("vc6-isa[fast]")
        _numba = None
    if _numba is not None and _numba.config.DISABLE_JIT:
        _numba = None  # NUMBA_DISABLE_JIT=1: numba's own switch for the same thing


def _plain(func: F) -> F:
    """Plain-Python stand-in for numba.njit.

    numpy warns on float32 scalar overflow/invalid operations where compiled code is
    silent; the emulator computes such values on purpose (inf - inf, 0 * inf, ...), so
    those warnings are switched off inside emulator functions.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with np.errstate(all="ignore"):
            return func(*args, **kwargs)

    wrapper.py_func = func  # same attribute name as a numba dispatcher
    return wrapper  # type: ignore[return-value]


@contextlib.contextmanager
def optimisation_level() -> Iterator[None]:
    """numba compiles at `OPT_LEVEL` while the block runs (unless `NUMBA_OPT` is set).

    For the executor's calls into the machine, whose first call compiles it; the previous level
    is restored afterwards, so other numba code in the process keeps its own.
    """
    if _numba is None or "NUMBA_OPT" in os.environ:
        yield
        return
    with _OPT_LOCK:  # threads entering together must not restore each other's level
        saved = _numba.config.OPT
        _numba.config.OPT = type(saved)(OPT_LEVEL)
        try:
            yield
        finally:
            _numba.config.OPT = saved


_OPT_LOCK = threading.Lock()


def compile_level() -> str:
    """numba's optimisation level for the machine: `NUMBA_OPT` when set, else `OPT_LEVEL`."""
    return os.environ.get("NUMBA_OPT", str(OPT_LEVEL))


if _numba is not None:
    from numba.core import types as _types
    from numba.core.registry import CPUDispatcher as _CPUDispatcher

    from .compile_cache import MachineCache

    class _Dispatcher(_CPUDispatcher):
        """numba's dispatcher, compiled for plain argument types only.

        numba compiles a function once more for every literal constant a caller passes
        (`f(x, 0)` and `f(x, 1)` are two compiles, and `f(x, n)` a third); the machine's callers
        pass many. Typing calls with the constants' plain types (int64, bool, ...) gives one
        compile per argument-type combination; LLVM still folds the constants after inlining.
        """

        def get_call_template(self, args, kws):
            args = tuple(_types.unliteral(a) for a in args)
            return super().get_call_template(args, {k: _types.unliteral(v) for k, v in kws.items()})

    class _InternalDispatcher(_Dispatcher):
        """A machine function that only compiled code calls (compiled without the wrapper that
        makes it callable from Python, which would cost compile time for every function)."""

        def __call__(self, *args, **kwargs):
            raise TypeError(f"{self.py_func.__qualname__} is part of the compiled machine and cannot be called "
                            "from Python (run the machine with vc6_isa.emulator, or set VC6_NO_JIT=1)")

    def _decorator(cls: type, cached: bool, **options) -> Callable[[F], F]:
        def wrap(func: F) -> F:
            targetoptions = {"nopython": True, "error_model": "numpy", "no_cfunc_wrapper": True, **options}
            disp = cls(py_func=func, locals={}, targetoptions=targetoptions)
            if cached:
                disp._cache = MachineCache(func, compile_level())
            return disp  # type: ignore[return-value]

        return wrap

    JIT_ENABLED = True
    #: Helpers also called from Python (semantics, fp): cached with the machine.
    jit = _decorator(_Dispatcher, cached=True)
    #: The machine's entry point (`machine.run.run`): cached, releases the GIL while it runs.
    jit_entry = _decorator(_Dispatcher, cached=True, nogil=True)
    #: The machine's internal functions: without numba's reference counting (array arguments
    #: cost nothing per call), not callable from Python, compiled into the entry's build.
    jit_lean = _decorator(_InternalDispatcher, cached=False, _nrt=False, no_cpython_wrapper=True)
    #: `jit_lean`, inlined by numba into every caller (numba types every inlined copy again).
    jit_lean_inline = _decorator(_InternalDispatcher, cached=False, _nrt=False, no_cpython_wrapper=True,
                                 inline="always")
else:
    jit = jit_entry = jit_lean = jit_lean_inline = _plain


__all__ = ["JIT_ENABLED", "compile_level", "jit", "jit_entry", "jit_lean", "jit_lean_inline", "optimisation_level"]

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
import hashlib
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
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


def _drop_stale_numba_cache(package_dir: Path) -> None:
    """Delete this package's numba cache files when any emulator source has changed.

    numba's on-disk cache checks only the timestamp of the file that defines a function,
    but the emulator's functions inline each other across files (the machine calls
    semantics.py, which calls fp.py): after an edit to fp.py, a cached caller would
    silently keep the old code. So the cache is keyed here on all sources of the
    package: one digest over every .py file, stored next to the cache files. Failures
    (read-only install, races between processes) leave the cache alone: numba copes
    with cache files that vanish and recompiles.
    """
    try:
        digest = hashlib.sha1()
        for source in sorted(package_dir.rglob("*.py")):
            digest.update(str(source.relative_to(package_dir)).encode())
            digest.update(source.read_bytes())
        cache_dir = package_dir / "__pycache__"
        stamp = cache_dir / "vc6-numba-sources.sha1"
        if stamp.exists() and stamp.read_text() == digest.hexdigest():
            return
        for cached in [*package_dir.rglob("__pycache__/*.nbi"), *package_dir.rglob("__pycache__/*.nbc")]:
            cached.unlink(missing_ok=True)
        cache_dir.mkdir(exist_ok=True)
        tmp = cache_dir / f"vc6-numba-sources.{os.getpid()}.tmp"
        tmp.write_text(digest.hexdigest())
        os.replace(tmp, stamp)
    except OSError:
        pass


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


if _numba is not None:
    _drop_stale_numba_cache(Path(__file__).resolve().parent)
    jit = _numba.njit(cache=True, error_model="numpy")
    JIT_ENABLED = True
else:
    jit = _plain

# The machine's variants (vc6_isa.emulator.machine). `lean`: compiled without numba's reference
# counting, so array arguments cost nothing per call. `inline`: inlined into every caller (only
# small helpers of the fast path: numba types every inlined copy again, which costs compile
# time). `jit_sig`: one compiled version whatever literal constants the callers pass.
# `jit_nogil`: the run loop's entry releases the GIL, so other Python threads go on during a
# slice.
if _numba is not None:
    jit_lean = _numba.njit(cache=True, error_model="numpy", _nrt=False)
    jit_lean_inline = _numba.njit(inline="always", cache=True, error_model="numpy", _nrt=False)
    jit_nogil = _numba.njit(cache=True, error_model="numpy", nogil=True)

    def jit_sig(signature: str) -> Callable[[F], F]:
        """`jit_lean` with an explicit numba signature."""
        return _numba.njit(signature, cache=True, error_model="numpy", _nrt=False)

else:
    jit_lean = jit_lean_inline = jit_nogil = _plain

    def jit_sig(signature: str) -> Callable[[F], F]:
        """Plain Python: the signature only matters to numba."""
        return _plain


__all__ = ["JIT_ENABLED", "jit", "jit_lean", "jit_lean_inline", "jit_nogil", "jit_sig", "optimisation_level"]

"""Is the emulator's machine compiled yet? Compile it now.

With numba, the machine (`vc6_isa.emulator.machine`) is compiled the first time a job runs, once
per source version, and numba caches the result on disk (in the package's `__pycache__`
folders, or under `NUMBA_CACHE_DIR`); later processes load it in a second or two.
`compiled` answers cheaply whether that first compile is still due, so that a command can say
so before the wait; `warm_up` does it at once. `Executor.compiled` / `compile_seconds` are
what `v3d_drm.warmup` asks of an executor.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from .jit import JIT_ENABLED

__all__ = ["COMPILE_SECONDS", "compiled", "warm_up"]

#: Typical wall time of the one-time compile (measured: 24-35 s on a 2-core x86-64 host at
#: numba LLVM -O1, see jit.py); only used to tell the user roughly how long to expect.
COMPILE_SECONDS = 30.0

#: The machine's entry point: the function whose compiled code every job runs.
ENTRY = "run"


def compiled() -> bool:
    """Whether the emulator's machine is ready without a compile.

    Costs the machine's import (about a second, needed by the first job anyway) unless numba has
    no cache of the machine where it would look, in which case the answer is False at once.

    Returns:
        True when no compile is due: numba is off, or the machine is compiled in this process or
        in numba's on-disk cache for this CPU.
    """
    if not JIT_ENABLED:
        return True
    if _never_built():
        return False  # answer before the import starts compiling
    from .machine import run

    entry = getattr(run, ENTRY)
    return bool(entry.signatures) or _cached_on_disk(entry)


def _never_built() -> bool:
    # numba's cache index of the entry, where numba reads it: under NUMBA_CACHE_DIR when that is
    # set, else next to the source. (numba's last resort for a read-only install, a user-wide
    # cache, is not looked at: the worst outcome is a "compiling" notice before a fast load.)
    cache_dir = os.environ.get("NUMBA_CACHE_DIR")
    if cache_dir:
        root = Path(cache_dir)
    else:
        root = Path(__file__).resolve().parent / "machine" / "__pycache__"
    return not root.exists() or not any(root.rglob(f"{ENTRY}.{ENTRY}-*.nbi"))


def _cached_on_disk(entry) -> bool:
    # numba has no public "is this cached?" call: read the function's cache index, whose keys
    # are (signature, target machine, source stamp). Should numba's internals move, answer
    # False: the worst outcome is a "compiling" notice before a fast load.
    try:
        index = entry._cache._cache_file._load_index()
        target = entry.targetctx.codegen().magic_tuple()
    except Exception:  # noqa: BLE001 - private numba API, see above
        return False
    return any(key[1] == target for key in index)


def warm_up() -> float | None:
    """Compile (or load from the cache) the machine now, by running the smallest job.

    Returns:
        The seconds it took, or None when nothing was due (see `compiled`).
    """
    if compiled():
        return None
    from .executor import Executor

    start = time.monotonic()
    Executor().warm_up()  # the one place that runs the smallest job (also used at first submit)
    return time.monotonic() - start

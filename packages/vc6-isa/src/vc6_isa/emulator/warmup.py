"""Is the emulator's machine compiled yet? Compile it now.

With numba, the machine (`vc6_isa.emulator.machine`) is compiled the first time a job runs, once
per source version, and the result is cached on disk in one user-wide folder (see
compile_cache.py: `~/.cache/vc6_isa/numba/<build key>`, or under `NUMBA_CACHE_DIR`) that every
install of the same sources shares; later processes load it in well under a second.
`compiled` answers cheaply whether that first compile is still due, so that a command can say
so before the wait; `warm_up` does it at once. `Executor.compiled` / `compile_seconds` are
what `v3d_drm.warmup` asks of an executor.
"""

from __future__ import annotations

import time

from .jit import JIT_ENABLED, compile_level

__all__ = ["COMPILE_SECONDS", "ENTRY", "PROFILED_ENTRY", "compiled", "warm_up"]

#: Typical wall time of the one-time compile, only used to tell the user roughly how long to
#: expect. Measured in session 6 (issue 13): "compiled the emulator in" 14.2, 15.5 and 16.3 s in
#: fresh clones on a shared 2-core x86-64 host (load ~1.0); 14.9-22.0 s of CPU for the compile
#: alone in alternating pairs.
COMPILE_SECONDS = 15.0

#: The machine's entry point: the function whose compiled code every job runs.
ENTRY = "run"
#: The entry point of profiled jobs (executor option `profile=True`), compiled when first needed.
PROFILED_ENTRY = "run_profiled"


def compiled(entry: str = ENTRY) -> bool:
    """Whether the emulator's machine is ready without a compile.

    Costs the machine's import (about a second, needed by the first job anyway) unless numba has
    no cache of the machine where it would look, in which case the answer is False at once.

    Args:
        entry: Which entry point of the machine: `ENTRY` (every job; the default) or
            `PROFILED_ENTRY` (jobs with the executor option `profile=True`, compiled separately
            the first time one runs).

    Returns:
        True when no compile is due: numba is off, or the machine is compiled in this process or
        in numba's on-disk cache for this CPU.
    """
    if not JIT_ENABLED:
        return True
    if _never_built(entry):
        return False  # answer before the import starts compiling
    from .machine import run

    func = getattr(run, entry)
    return bool(func.signatures) or _cached_on_disk(func)


def _never_built(entry: str) -> bool:
    # the entry's cache index (machine/run.py's `entry`), looked for without importing (and so
    # compiling) the machine
    from .compile_cache import build_dir

    return not any(build_dir(compile_level()).glob(f"run.{entry}-*.nbi"))


def _cached_on_disk(entry) -> bool:
    from .compile_cache import has_build

    return has_build(entry)


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

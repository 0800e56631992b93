"""Run an emulated device's one-time preparation now, and say so, instead of inside a job.

The vc6-isa emulator compiles its machine with numba the first time a job runs (once per
source version, tens of seconds, then cached on disk). Left alone, that wait happens inside the
user's first job with nothing on the screen to explain it. An executor with such one-time work
offers `compiled() -> bool` (True when nothing is due, cheap to ask) and `compile_seconds`
(a typical duration, for the message); `warm_up` asks it and, when the work is due, announces
it and runs the smallest job so that it happens now. Other executors and the kernel device
need nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from .clock import CLOCK_LOOP_PROGRAM

if TYPE_CHECKING:
    from .device import Device

__all__ = ["needs_warm_up", "warm_up"]


def needs_warm_up(dev: Device) -> bool:
    """True when the device's executor has one-time work due before its first job runs fast."""
    compiled = getattr(getattr(dev.backend, "executor", None), "compiled", None)
    return bool(dev.info.emulated and compiled is not None and not compiled())


def warm_up(dev: Device, note: Callable[[str], None] | None = None) -> float | None:
    """Do the executor's one-time work now, announcing it through `note`.

    Args:
        dev: an open device; nothing happens unless it is emulated and its executor has work due.
        note: receives one line before the work ("compiling the emulator ...") and one after.

    Returns:
        The seconds the work took, or None when nothing was due.
    """
    if not needs_warm_up(dev):
        return None
    say = note or (lambda text: None)
    typical = getattr(dev.backend.executor, "compile_seconds", None)
    about = f", ~{typical:.0f} s" if typical else ""
    say(f"compiling the emulator (one time{about}; cached for the next runs) ...")
    start = time.monotonic()
    dev.dispatch(np.array(CLOCK_LOOP_PROGRAM, dtype=np.uint64), np.array([1], dtype=np.uint32)).wait()
    seconds = time.monotonic() - start
    say(f"compiled the emulator in {seconds:.1f} s")
    return seconds

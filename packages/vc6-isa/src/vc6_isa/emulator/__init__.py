"""Bit-exact instruction-level emulator of the V3D 4.2 QPUs, as a v3d-drm executor.

`v3d_drm.open("emulator")` finds `Executor` through the `v3d_drm.executors` entry
point; `job.stats` of an emulated dispatch is an `EmulatorStats`. See executor.py for
the executor options (strict, trace, breakpoints, cycle_budget, ...). With numba the machine is
compiled once per source version: `compiled()` says whether that is still due, `warm_up()`
does it now.
"""

from .cycle_model import (
    CALIBRATION_ERROR,
    CALIBRATION_PROGRAMS,
    CalibrationProgram,
    calibration_program,
    modelled_label,
    parameter_table,
)
from .executor import (
    Breakpoint,
    CycleModel,
    EmulatorStats,
    Executor,
    QPUError,
    Snapshot,
    TraceRecord,
    decode_cfg,
)
from .warmup import compiled, warm_up

__all__ = [
    "CALIBRATION_ERROR",
    "CALIBRATION_PROGRAMS",
    "Breakpoint",
    "CalibrationProgram",
    "CycleModel",
    "EmulatorStats",
    "Executor",
    "QPUError",
    "Snapshot",
    "TraceRecord",
    "calibration_program",
    "compiled",
    "decode_cfg",
    "modelled_label",
    "parameter_table",
    "warm_up",
]

"""The one place vc6-bench touches the layers under it (v3d-drm, vc6-kernels, vc6-isa).

The harness asks a `Platform` for a device, the kernels, the clock, an empty job and the
versions; tests hand the CLI a fake platform instead, so the measuring and reporting code is tested
without depending on the layers' speed or state.
"""

from __future__ import annotations

import importlib.metadata
import inspect
import os
import platform as _host
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

__all__ = ["DeviceError", "NoDevice", "Platform", "RealPlatform", "UnknownDevice"]


class DeviceError(Exception):
    """Opening the requested device failed; `exit_code` is what the CLI exits with."""

    exit_code = 3


class NoDevice(DeviceError):
    """No V3D render node and no emulator (exit 3)."""


class UnknownDevice(DeviceError):
    """The --device argument names nothing the driver accepts (a usage error, exit 2)."""

    exit_code = 2


# Counters read around each timed run when the device has a perfmon (names as the kernel reports them).
PERFMON_COUNTERS = (
    "cycle-count",
    "compute-active-cycles",
    "QPU-total-clk-cycles-executing-valid-instr",
    "QPU-total-clk-cycles-waiting-TMU",
    "QPU-total-idle-clk-cycles",
)

PACKAGES = ("vc6-bench", "vc6-kernels", "vc6-isa", "v3d-drm", "numpy", "numba")


class Platform:
    """What the harness needs from below. `RealPlatform` is the one the console script uses."""

    def open(self, device: str | None) -> Any:
        """Open a device (`None`: the driver's default); raise NoDevice or UnknownDevice."""
        raise NotImplementedError

    def kernels(self) -> Any:
        """The module holding sgemm, summation, scopy, memset, stencil and record()."""
        raise NotImplementedError

    def is_emulated(self, dev: Any) -> bool:
        raise NotImplementedError

    def device_info(self, dev: Any) -> dict[str, Any]:
        """A JSON-ready description of the device."""
        raise NotImplementedError

    def clock(self, dev: Any) -> tuple[float, bool]:
        """(QPU clock in MHz, whether that figure is modelled) from the perf counters."""
        raise NotImplementedError

    def empty_job(self, dev: Any) -> Any:
        """Submit an empty compute job and wait for it; return the finished job."""
        raise NotImplementedError

    def warm_up(self, dev: Any, note: Callable[[str], None]) -> None:
        """Do the device's one-time preparation (the emulator's compile) now, telling `note`."""

    @contextmanager
    def counting(self, dev: Any) -> Iterator[dict[str, int]]:
        """Count PERFMON_COUNTERS over the body into the yielded dict (left empty without a perfmon).

        On the emulator the perfmon answers with the cycle model's figures (modelled).
        """
        yield {}

    def versions(self) -> dict[str, str | None]:
        """Versions of the packages, Python and the OS kernel."""
        found: dict[str, str | None] = {}
        for name in PACKAGES:
            try:
                found[name] = importlib.metadata.version(name)
            except importlib.metadata.PackageNotFoundError:
                found[name] = None
        found["python"] = _host.python_version()
        found["os_kernel"] = f"{_host.system()} {_host.release()}"
        found["machine"] = _host.machine()
        return found


class RealPlatform(Platform):
    """v3d-drm devices and the vc6-kernels routines."""

    def open(self, device: str | None) -> Any:
        import v3d_drm

        if device is not None and device != "emulator" and not os.path.exists(device):
            raise UnknownDevice(
                f"unknown device {device!r}: give 'emulator' or the path of a V3D render node such as /dev/dri/renderD128"
            )
        try:
            return v3d_drm.open(device)
        except v3d_drm.DeviceNotFound as error:
            raise NoDevice(str(error)) from None
        except v3d_drm.PermissionDenied as error:
            raise NoDevice(str(error)) from None
        except v3d_drm.InvalidArgument as error:
            raise UnknownDevice(str(error)) from None

    def kernels(self) -> Any:
        import vc6_kernels

        return vc6_kernels

    def is_emulated(self, dev: Any) -> bool:
        return dev.info.backend == "emulated"

    def device_info(self, dev: Any) -> dict[str, Any]:
        info = dev.info
        return {
            "backend": info.backend,
            "node": getattr(info, "node", None),
            "executor": getattr(info, "executor", None),
            "v3d_version": str(info.version),
            "qpus": int(info.qpus),
        }

    def clock(self, dev: Any) -> tuple[float, bool]:
        import v3d_drm

        measured = v3d_drm.gpu_clock_mhz(dev)
        return float(measured.mhz), bool(measured.modelled)

    def warm_up(self, dev: Any, note: Callable[[str], None]) -> None:
        from v3d_drm.warmup import warm_up

        warm_up(dev, note)

    def empty_job(self, dev: Any) -> Any:
        job = dev.dispatch(_empty_program(), np.zeros(1, np.uint32))
        job.wait()
        return job

    @contextmanager
    def counting(self, dev: Any) -> Iterator[dict[str, int]]:
        values: dict[str, int] = {}
        import vc6_kernels

        if "perfmon" not in inspect.signature(vc6_kernels.record).parameters:
            yield values  # the kernels cannot attach a perfmon to their jobs: no counters
            return
        with dev.perfmon(list(PERFMON_COUNTERS)) as perfmon:
            with vc6_kernels.record(perfmon=perfmon):
                yield values
            values.update(perfmon.values())


_EMPTY = None


def _empty_program() -> np.ndarray:
    """The smallest valid compute program: the standard end sequence (thrsw, thrsw, nop, nop, thrsw, nop x3).

    Written with the vc6-isa DSL; assembled once.
    """
    global _EMPTY
    if _EMPTY is None:
        from vc6_isa import asm

        @asm.qpu
        def empty(program) -> None:
            asm.nop(sig=asm.thrsw)
            asm.nop(sig=asm.thrsw)
            asm.nop()
            asm.nop()
            asm.nop(sig=asm.thrsw)
            asm.nop()
            asm.nop()
            asm.nop()

        _EMPTY = np.asarray(asm.assemble(empty).words, dtype=np.uint64)
    return _EMPTY

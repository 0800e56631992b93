"""A fake routine layer and device for the CLI tests: numpy does the work, jobs carry made-up stats.

It lets the harness be tested without the real kernels or emulator (and without their speed), and
lets a test inject a wrong routine to check that verification catches it.
"""

from __future__ import annotations

import contextlib
import types
from dataclasses import dataclass, field

import numpy as np
from vc6_bench.platform import NoDevice, Platform, UnknownDevice
from vc6_bench.routines import stencil_numpy


@dataclass
class FakeStats:
    cycles: int
    clock_mhz: float = 500.0
    thread_instructions: int = 0
    alu_utilisation: float = 0.5
    tmu_requests: int = 0
    tmu_bytes: int = 0
    wall_seconds: float = 0.001
    modelled: bool = True

    @property
    def modelled_seconds(self) -> float:
        return self.cycles / (self.clock_mhz * 1e6)

    @property
    def thread_instructions_per_second(self) -> float:
        return self.thread_instructions / self.wall_seconds


@dataclass
class FakeJob:
    stats: FakeStats | None


@dataclass
class FakeInfo:
    backend: str
    version: str = "4.2"
    qpus: int = 8
    node: str | None = None
    executor: str | None = "fake"


class FakeKernels:
    """numpy versions of the vc6-kernels API; every call 'dispatches' one job per call."""

    def __init__(self, emulated: bool):
        self.emulated = emulated
        self._recordings: list[list[FakeJob]] = []

    @contextlib.contextmanager
    def record(self):
        recording = types.SimpleNamespace(jobs=[])
        self._recordings.append(recording.jobs)
        try:
            yield recording
        finally:
            self._recordings.remove(recording.jobs)

    def _dispatch(self, work: int) -> None:
        stats = FakeStats(cycles=1000 + work, thread_instructions=10 * work + 1) if self.emulated else None
        for jobs in self._recordings:
            jobs.append(FakeJob(stats))

    def sgemm(self, a, b, c=None, *, alpha=1.0, beta=0.0, trans_a=False, trans_b=False, device=None):
        result = (a @ b).astype(np.float32)
        self._dispatch(a.shape[0] * a.shape[1] * b.shape[1] // 64)
        if c is None:
            return result
        c[...] = result
        return c

    def summation(self, x, *, device=None):
        self._dispatch(x.size // 16)
        return np.float32(x.sum(dtype=np.float32))

    def scopy(self, x, out=None, *, device=None):
        self._dispatch(x.size // 16)
        out = np.empty_like(x) if out is None else out
        out[...] = x
        return out

    def memset(self, out, value, *, device=None):
        self._dispatch(out.size // 16)
        out[...] = value
        return out

    def stencil(self, grid, steps, *, k=0.25, device=None):
        self._dispatch(grid.size * steps // 16)
        return stencil_numpy(np.asarray(grid), steps, k)


class FakeDevice:
    def __init__(self, backend: str):
        self.info = FakeInfo(backend=backend)
        self.closed = False
        self.arrays_open = 0

    def array(self, shape, dtype):
        self.arrays_open += 1
        return FakeArray(self, shape, dtype)

    def close(self):
        self.closed = True


class FakeArray(np.ndarray):
    """An ndarray that counts its own close(), so tests can see nothing leaks."""

    def __new__(cls, device, shape, dtype):
        array = np.zeros(shape, dtype).view(cls)
        array.owner = device
        return array

    def __array_finalize__(self, obj):
        self.owner = getattr(obj, "owner", None)

    def close(self):
        self.owner.arrays_open -= 1


@dataclass
class FakePlatform(Platform):
    emulated: bool = True
    missing: bool = False
    kernels_impl: FakeKernels | None = None
    opened: list[FakeDevice] = field(default_factory=list)

    def __post_init__(self):
        if self.kernels_impl is None:
            self.kernels_impl = FakeKernels(self.emulated)

    def open(self, device):
        if device not in (None, "emulator", "/dev/dri/renderD128"):
            raise UnknownDevice(f"unknown device {device!r}")
        if self.missing:
            raise NoDevice("no V3D render node and no emulator")
        dev = FakeDevice("emulated" if self.emulated else "kernel")
        self.opened.append(dev)
        return dev

    def kernels(self):
        return self.kernels_impl

    def is_emulated(self, dev):
        return dev.info.backend == "emulated"

    def device_info(self, dev):
        return {"backend": dev.info.backend, "node": dev.info.node, "executor": dev.info.executor,
                "v3d_version": dev.info.version, "qpus": dev.info.qpus}

    def clock(self, dev):
        return (500.0, True) if self.emulated else (500.4, False)

    def empty_job(self, dev):
        return FakeJob(FakeStats(cycles=200) if self.emulated else None)

    @contextlib.contextmanager
    def counting(self, dev):
        values = {}
        yield values
        values.update({"cycle-count": 12345, "compute-active-cycles": 12000})

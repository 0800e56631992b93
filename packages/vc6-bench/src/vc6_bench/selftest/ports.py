"""py-videocore6's hardware tests, as ported in a source checkout (`packages/vc6-isa/tests/
test_hw_*.py`), run on the GPU and on the emulator and compared dispatch by dispatch.

The ports are pytest functions that build their programs and arrays through
`vc6_isa.compat` (py-videocore6's `Driver`, one BO: a code area, then the arrays) obtained
from `hw_support.pi()`, and assert what the hardware produced. Each is run once per device
with `pi` returning a `Driver` on that device and the driver's dispatches recorded: the data
area before the first job of a dispatch and after the last one is waited for. Two recordings are
compared word for word, over the words either side's dispatch changed (the host writes absolute
addresses into some arrays, which differ between devices and are left alone). A third run on
the tracing emulator names the instruction behind each differing word. The test's own
assertions are the documented expectation of each side.

They are test files, not part of the installed package: the selftest finds them under the
current directory (a clone of the repository) or where `--ports` points, and needs pytest for
the few that are parametrized with it.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .compare import Comparison, Difference
from .devices import Devices
from .entry import both_sides, values_entry
from .provenance import Origin

__all__ = ["PORTS_DIR", "Port", "find_ports", "run_port"]

#: Where the ports are in a clone of the repository.
PORTS_DIR = Path("packages/vc6-isa/tests")


@dataclass(frozen=True)
class Port:
    """One ported hardware test (one parameter set of it).

    Attributes:
        name: `"pyvc6.tmu.test_tmu_write"` (with `[value]` for a parameter).
        module: The imported test module.
        function: The test function.
        arguments: Keyword arguments of this parameter set.
    """

    name: str
    module: Any
    function: Callable[..., None]
    arguments: dict[str, Any] = field(default_factory=dict)


def find_ports(directory: Path | str | None = None) -> tuple[list[Port], str | None]:
    """The ported tests in `directory` (default: `PORTS_DIR` under the current directory).

    Returns:
        The ports, and a note saying why some or all could not be loaded (None when all were).
    """
    root = Path(directory) if directory is not None else Path.cwd() / PORTS_DIR
    if not (root / "hw_support.py").is_file():
        return [], (f"py-videocore6 ports not run: no {root / 'hw_support.py'} (run the selftest from a clone "
                    "of the repository, or give --ports DIR)")
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    ports, problems = [], []
    for path in sorted(root.glob("test_hw_*.py")):
        try:
            module = importlib.import_module(path.stem)
        except ImportError as error:
            problems.append(f"{path.name}: {error}")
            continue
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("test_") and function.__module__ == module.__name__:
                ports += _parameter_sets(f"pyvc6.{path.stem.removeprefix('test_hw_')}.{name}", module, function)
    return ports, ("; ".join(problems) or None)


def _parameter_sets(name: str, module: Any, function: Callable[..., None]) -> list[Port]:
    """One port per pytest parameter set (single-argument `parametrize` marks only)."""
    marks = [m for m in getattr(function, "pytestmark", []) if m.name == "parametrize"]
    if not marks:
        return [Port(name, module, function)]
    (mark,) = marks
    argname, values = mark.args[0], mark.args[1]
    return [Port(f"{name}[{value}]", module, function, {argname: value}) for value in values]


@dataclass
class _Dispatch:
    before: np.ndarray
    after: np.ndarray
    origins: dict[int, Origin]
    data_address: int
    instructions: int  # thread-instructions the emulator ran (0 on a GPU)


@contextmanager
def _recorded(port: Port, device: Any, tracer: Any = None) -> Iterator[list[_Dispatch]]:
    """Inside: `pi()` of the port's module gives Drivers on `device`; their dispatches are recorded."""
    from vc6_isa.compat import Driver

    dispatches: list[_Dispatch] = []
    state: dict[str, Any] = {"pending": 0, "before": None, "instructions": 0}

    def data(driver: Any) -> np.ndarray:
        words = np.frombuffer(driver._bo.buffer, np.uint32)
        return words[driver.code_area_size // 4: driver.data_pos // 4].copy()

    submit, wait = Driver._submit, Driver._wait

    def recording_submit(self: Any, cfg: Any, timeout_sec: float) -> Any:
        if state["pending"] == 0:
            state["before"] = data(self)
            if tracer is not None:
                tracer.origins.clear()
        state["pending"] += 1
        return submit(self, cfg, timeout_sec)

    def recording_wait(self: Any, job: Any, timeout_sec: float) -> None:
        wait(self, job, timeout_sec)
        state["pending"] -= 1
        stats = getattr(job, "stats", None)
        state["instructions"] += int(stats.thread_instructions) if stats is not None else 0
        if state["pending"] == 0:
            origins = dict(tracer.origins) if tracer is not None else {}
            dispatches.append(_Dispatch(state["before"], data(self), origins, self._base + self.code_area_size,
                                        state["instructions"]))
            state["instructions"] = 0

    original_pi = port.module.pi
    port.module.pi = lambda **sizes: Driver(device=device, **sizes)
    Driver._submit, Driver._wait = recording_submit, recording_wait
    try:
        yield dispatches
    finally:
        Driver._submit, Driver._wait = submit, wait
        port.module.pi = original_pi


def _run(port: Port, device: Any, tracer: Any = None) -> tuple[list[_Dispatch], str]:
    """Run the port on `device`: its recorded dispatches and the verdict of its assertions."""
    with _recorded(port, device, tracer) as dispatches:
        try:
            port.function(**port.arguments)
        except AssertionError as error:
            lines = [line.strip() for line in str(error).splitlines() if line.strip()]
            return dispatches, "FAILED: " + ("; ".join(lines[:4]) or "assertion failed")
    return dispatches, "passed"


def run_port(devices: Devices, port: Port, max_lanes: int, trace_limit: int) -> dict[str, Any]:
    """Run one ported test on both devices; its entry in the report.

    Args:
        devices: The device under test and the emulators.
        port: The ported test.
        max_lanes: Differing words listed (all are counted).
        trace_limit: Thread-instructions above which the differences are not traced.

    Returns:
        The program's entry: values (per dispatch), the test's verdict on each side.
    """
    entry: dict[str, Any] = {"kind": "port", "name": port.name, "summary": _summary(port), "timing": None}
    gpu, emulator, error = both_sides(lambda: _run(port, devices.hardware), lambda: _run(port, devices.model))
    if error is not None:
        return {**entry, "error": error, "values": None}
    (gpu_dispatches, gpu_verdict), (emulator_dispatches, emulator_verdict) = gpu, emulator
    comparison = _compare(gpu_dispatches, emulator_dispatches, max_lanes)
    origins: dict[tuple[str, int], Origin] = {}
    note = None
    instructions = sum(d.instructions for d in emulator_dispatches)
    if comparison.listed and instructions > trace_limit:
        note = (f"not traced: the test runs {instructions} thread-instructions, over the trace limit "
                f"{trace_limit} (--trace-limit)")
    elif comparison.listed:
        dev, tracer = devices.traced()
        traced, _ = _run(port, dev, tracer)
        origins = _origins(comparison.listed, traced)
    if len(gpu_dispatches) != len(emulator_dispatches):
        note = f"the GPU ran {len(gpu_dispatches)} dispatches, the emulator {len(emulator_dispatches)}"
    entry["values"] = values_entry(comparison, origins, note, {})
    entry["expectation"] = {"hardware": gpu_verdict, "emulator": emulator_verdict,
                            "sides_disagree": (gpu_verdict == "passed") != (emulator_verdict == "passed")}
    entry["error"] = None
    return entry


def _summary(port: Port) -> str:
    doc = inspect.getdoc(port.function) or inspect.getdoc(port.module) or ""
    return doc.splitlines()[0] if doc else "a ported py-videocore6 hardware test"


def _compare(gpu: list[_Dispatch], emulator: list[_Dispatch], limit: int) -> Comparison:
    listed: list[Difference] = []
    compared = differing = 0
    for k, (g, e) in enumerate(zip(gpu, emulator)):
        size = min(g.after.size, e.after.size)
        written = (g.after[:size] != g.before[:size]) | (e.after[:size] != e.before[:size])
        compared += int(np.count_nonzero(written))
        mask = written & (g.after[:size] != e.after[:size])
        differing += int(np.count_nonzero(mask))
        for index in np.flatnonzero(mask)[: max(limit - len(listed), 0)].tolist():
            listed.append(Difference(f"dispatch{k}", (index,), index, int(g.after[index]), int(e.after[index])))
    return Comparison(compared, differing, listed)


def _origins(listed: list[Difference], traced: list[_Dispatch]) -> dict[tuple[str, int], Origin]:
    found = {}
    for diff in listed:
        k = int(diff.buffer.removeprefix("dispatch"))
        if k < len(traced):
            origin = traced[k].origins.get(traced[k].data_address + 4 * diff.flat)
            if origin is not None:
                found[(diff.buffer, diff.flat)] = origin
    return found

"""What a hardware-behaviour case is, and how to run one on any V3D device.

A `Case` is a small QPU program in the probe layout (`vc6_isa.cases.probe`) with
everything needed to run it the same way anywhere: seeded input buffers, uniforms and dispatch
settings. `run_case` runs it on a `v3d_drm` device (the emulator or a Pi) and returns every
buffer as it stands afterwards, so two devices can be compared word for word
(`vc6-bench selftest`) and a test can assert the documented facts (`Case.verify`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..asm import Program, assemble

__all__ = ["POISON", "Case", "CaseRun", "run_case"]

#: What every output word holds before a case runs, so a lane that is never stored is visible.
POISON = 0xCCCCCCCC

Buffers = dict[str, np.ndarray]


def _no_buffers() -> Buffers:
    return {}


@dataclass(frozen=True)
class Case:
    """One hardware-behaviour program with its inputs.

    Attributes:
        name: Dotted name, e.g. `"alu.integer_ops"` (the group, then the case).
        summary: One line: what hardware behaviour the case exercises.
        kernel: The `@qpu` function (takes only the assembly) that builds the program.
        rows: Rows of the (rows, 16) uint32 `out` buffer the program stores into (0: no
            `out`; the program writes only into its buffers).
        buffers: Builds the input buffers (deterministic: seeded inside); each is staged into
            its own BO, and the program may read and write it.
        uniforms: Uniform values after the addresses of `out` and the buffers (in that order);
            or a function of those addresses (by buffer name) returning every uniform, for
            programs with their own uniform layout (py-videocore6's tests, for instance).
        dispatch: Extra `Device.dispatch` keyword arguments (`local_size`, `workgroups`,
            `threading` ...).
        verify: Asserts the documented facts (hardware-validated where the source says so) on
            `(outputs, inputs)`; None when the case states no expected values.
        device_dependent: `out` rows whose values depend on the device (e.g. a code address),
            mapped to why; they are left out of device-to-device comparisons.
    """

    name: str
    summary: str
    kernel: Callable[..., Any]
    rows: int
    buffers: Callable[[], Buffers] = _no_buffers
    uniforms: tuple[int, ...] | Callable[[Mapping[str, int]], Sequence[int]] = ()
    dispatch: Mapping[str, Any] = field(default_factory=dict)
    verify: Callable[[Buffers, Buffers], None] | None = None
    device_dependent: Mapping[int, str] = field(default_factory=dict)

    def program(self) -> Program:
        """The case's kernel, assembled.

        Returns:
            The assembled program.
        """
        return assemble(self.kernel)


@dataclass
class CaseRun:
    """The outcome of `run_case`.

    Attributes:
        outputs: `"out"` and every input buffer, copied back after the job.
        inputs: The input buffers as they were staged.
        job: The finished `v3d_drm.Job` (`job.stats` on the emulator).
        program: The assembled program that ran.
        addresses: The GPU address each buffer had during the job.
    """

    outputs: Buffers
    inputs: Buffers
    job: Any
    program: Program
    addresses: dict[str, int]


def run_case(dev: Any, case: Case, *, executor_options: Mapping[str, object] | None = None,
             perfmon: Any = None, program: Program | None = None) -> CaseRun:
    """Run `case` once on `dev` (a `v3d_drm.Device`) and read every buffer back.

    Args:
        dev: The device to run on.
        case: The case.
        executor_options: Passed to the emulator (ignored by a real GPU).
        perfmon: A `v3d_drm.Perfmon` of `dev` to attach to the job.
        program: The assembled program, when the caller already has it.

    Returns:
        The outputs, inputs, job and program.
    """
    program = program if program is not None else case.program()
    inputs = case.buffers()
    arrays = {}
    try:
        if case.rows:
            arrays["out"] = dev.array((case.rows, 16), np.uint32)
            arrays["out"][...] = POISON
        for name, host in inputs.items():
            arrays[name] = dev.asarray(host)
        addresses = {name: int(array.address) for name, array in arrays.items()}
        if callable(case.uniforms):
            uniforms = list(case.uniforms(addresses))
        else:
            uniforms = [*addresses.values(), *case.uniforms]
        job = dev.dispatch(program, uniforms, bos=list(arrays.values()), perfmon=perfmon,
                           executor_options=executor_options, **dict(case.dispatch))
        job.wait()
        outputs = {name: np.array(array, copy=True) for name, array in arrays.items()}
    finally:
        for array in arrays.values():
            array.close()
    return CaseRun(outputs=outputs, inputs=inputs, job=job, program=program, addresses=addresses)

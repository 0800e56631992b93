"""py-videocore6's `Driver` and `Array` on `v3d_drm`: run its programs by changing imports only.

A py-videocore6 program becomes a program of this stack by replacing its two import lines:

    from vc6_isa.asm import *                  # was: from videocore6.assembler import *
    from vc6_isa.compat import Array, Driver   # was: from videocore6.driver import Array, Driver

`Driver` keeps py-videocore6's memory layout (one buffer object: a code area, then a data
area that `alloc` fills in order, without padding) and sends the same seven CSD cfg words
py-videocore6 sends, including its `cfg[3]` (where the default `wgs_per_sg=16` overflows
into the batches field) and `cfg[4] = thread - 1`. The device is whatever `v3d_drm.open`
gives: a Pi's V3D, or the emulator, which runs those words as the hardware does (reference
vc6-isa.md Appendix G).

On the emulated device a dispatch's `timeout_sec` bounds the *modelled* GPU time (as the
executor option `cycle_budget` at the modelled clock), not the emulator's wall time.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping
from typing import Any, Self

import numpy as np
import v3d_drm
from v3d_drm import DeviceArray, InvalidArgument, Job

from .asm import assemble

__all__ = ["DEFAULT_CODE_AREA_SIZE", "DEFAULT_DATA_AREA_SIZE", "Array", "Dispatcher", "Driver", "DriverError"]

DEFAULT_CODE_AREA_SIZE = 1024 * 1024
DEFAULT_DATA_AREA_SIZE = 32 * 1024 * 1024

#: Modelled QPU clock used to turn a timeout in seconds into an emulator cycle budget.
_MODEL_CLOCK_HZ = 500e6


class DriverError(v3d_drm.V3DError):
    """Misuse of the compatibility driver (closed driver, an area too small)."""


class Array(DeviceArray):
    """A numpy array in the driver's GPU memory (py-videocore6's `Array`).

    `address` is the GPU address of the first element and `addresses()` the address of every
    element, as in py-videocore6 (`unif.addresses()[0]` is what programs pass as uniforms).
    """


def _is_address(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _triple(value: object, role: str) -> tuple[int, int, int]:
    try:
        x, y, z = (int(v) for v in value)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        raise InvalidArgument(f"{role} must be three ints (x, y, z), got {value!r}", value=value) from None
    return x, y, z


#: py-videocore6's dispatch parameters in positional order, and their defaults; "older" is the
#: order before `local_invocation` existed (the second argument was the uniforms address).
_PARAMS = ("local_invocation", "uniforms", "timeout_sec", "workgroup", "wgs_per_sg", "thread",
           "propagate_nan", "single_seg", "threading")  # fmt: skip
_OLDER = ("uniforms", "timeout_sec", "workgroup", "wgs_per_sg", "thread", "propagate_nan",
          "single_seg", "threading")  # fmt: skip
_DEFAULTS = {"local_invocation": None, "uniforms": None, "timeout_sec": 10, "workgroup": (1, 1, 1),
             "wgs_per_sg": 16, "thread": 1, "propagate_nan": False, "single_seg": False,
             "threading": False}  # fmt: skip


def _bind(args: tuple, kwargs: dict[str, Any], *, with_timeout: bool) -> dict[str, Any]:
    """Name the arguments of `execute` (`with_timeout`) or `dispatch`, in the current or the
    older py-videocore6 order; fills in defaults."""
    older = bool(args) and _is_address(args[0])
    names = [n for n in (_OLDER if older else _PARAMS) if with_timeout or n != "timeout_sec"]
    if len(args) > len(names):
        raise InvalidArgument(f"too many positional arguments ({len(args)}); at most {len(names)}", value=args)
    call = dict(zip(names, args))
    for name, value in kwargs.items():
        if name not in _DEFAULTS or (name == "timeout_sec" and not with_timeout):
            raise InvalidArgument(f"unexpected argument {name}=; takes {', '.join(names)}", value=name)
        if name in call:
            raise InvalidArgument(f"{name} given both by position and by name", value=name)
        call[name] = value
    defaults = {**_DEFAULTS, "workgroup": (16, 1, 1)} if older else _DEFAULTS
    for name in names:
        call.setdefault(name, defaults[name])
    if older:
        call["local_invocation"] = call["workgroup"]  # then one tuple gave count and size
    elif call["local_invocation"] is None:
        call["local_invocation"] = (16, 1, 1)  # py-videocore6's fallback (it warns about it)
    return call


def _cfg(
    code: Array,
    local_invocation: tuple[int, int, int],
    uniforms: int,
    workgroup: tuple[int, int, int],
    wgs_per_sg: int,
    thread: int,
    propagate_nan: bool,
    single_seg: bool,
    threading: bool,
) -> tuple[int, ...]:
    """The seven cfg words exactly as py-videocore6 computes them (reference 15.2 notes where
    they differ from Mesa's)."""
    wg_size = local_invocation[0] * local_invocation[1] * local_invocation[2]
    batches_per_sg = -(-wgs_per_sg * wg_size // 16)
    return (
        workgroup[0] << 16,
        workgroup[1] << 16,
        workgroup[2] << 16,
        ((batches_per_sg - 1) << 12) | (wgs_per_sg << 8) | (wg_size & 0xFF),
        thread - 1,
        int(code.addresses()[0]) | (int(propagate_nan) << 2) | (int(single_seg) << 1) | int(threading),
        int(uniforms),
    )


class Dispatcher:
    """Submits dispatches (py-videocore6's `compute_shader_dispatcher()`); leaving the `with`
    block waits for all of them."""

    def __init__(self, driver: Driver, timeout_sec: float = 10) -> None:
        self._driver = driver
        self.timeout_sec = timeout_sec
        self.jobs: list[Job] = []

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        jobs, self.jobs = self.jobs, []
        for job in jobs:
            if exc_type is None:
                self._driver._wait(job, self.timeout_sec)

    def dispatch(self, code: Array, *args: Any, **kwargs: Any) -> Job:
        """Submit one dispatch with py-videocore6's cfg words.

        Arguments, by position or name: `local_invocation=None` ((16, 1, 1) if None),
        `uniforms=None`, `workgroup=(1, 1, 1)`, `wgs_per_sg=16`, `thread=1` (the number of
        batches), `propagate_nan=False`, `single_seg=False`, `threading=False` (4-way
        threading). The older form with a uniforms address as the second argument is
        recognised as in `Driver.execute`.

        Args:
            code: The program, as `Driver.program` returned it.
            *args: The remaining arguments by position, in py-videocore6's order (above).
            **kwargs: The same arguments by name.

        Returns:
            The submitted `v3d_drm.Job`.

        Raises:
            InvalidArgument: a malformed argument (nothing is submitted).
        """
        call = _bind(args, kwargs, with_timeout=False)
        if not isinstance(code, DeviceArray):
            raise InvalidArgument("code must be the array Driver.program() returned", value=code)
        uniforms = call["uniforms"]
        if uniforms is None:
            uniforms = self._driver._base  # never read by a program that takes no uniforms
        cfg = _cfg(
            code, _triple(call["local_invocation"], "local_invocation"), int(uniforms),
            _triple(call["workgroup"], "workgroup"), int(call["wgs_per_sg"]), int(call["thread"]),
            bool(call["propagate_nan"]), bool(call["single_seg"]), bool(call["threading"]),
        )  # fmt: skip
        job = self._driver._submit(cfg, self.timeout_sec)
        self.jobs.append(job)
        return job


class Driver:
    """py-videocore6's `Driver` on a `v3d_drm` device (a Pi's V3D, or the emulator).

    Args:
        code_area_size: bytes reserved for programs (`program`).
        data_area_size: bytes for arrays (`alloc`).
        device: passed to `v3d_drm.open` (None: the V3D if present, else the emulator;
            `"emulator"` forces emulation), or an open `v3d_drm.Device` to use (not closed by
            the driver).
        executor_options: options for the emulator's executor on every dispatch (e.g.
            `{"strict": "mesa"}`); ignored by a real V3D.

    Attributes:
        device: the `v3d_drm.Device`.
        last_job: the most recent `v3d_drm.Job` (its `stats` hold the emulator's modelled
            figures after it completed), or None.
    """

    def __init__(
        self,
        *,
        code_area_size: int = DEFAULT_CODE_AREA_SIZE,
        data_area_size: int = DEFAULT_DATA_AREA_SIZE,
        device: str | v3d_drm.Device | None = None,
        executor_options: Mapping[str, object] | None = None,
    ) -> None:
        self.code_area_size = int(code_area_size)
        self.data_area_size = int(data_area_size)
        self.executor_options = dict(executor_options or {})
        self.last_job: Job | None = None
        self._owns_device = not isinstance(device, v3d_drm.Device)
        self.device = v3d_drm.open(device) if self._owns_device else device  # type: ignore[arg-type]
        try:
            self._bo = self.device.alloc(self.code_area_size + self.data_area_size)
        except BaseException:
            self.close()
            raise
        self._base = self._bo.address
        self.code_pos = 0
        self.data_pos = self.code_area_size

    # -- lifetime ----------------------------------------------------------------------------

    def close(self) -> None:
        """Release the memory (and the device, if the driver opened it). Idempotent."""
        bo = getattr(self, "_bo", None)
        if bo is not None:
            bo.close()
            self._bo = None
        if self._owns_device and not self.device.closed:
            self.device.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> bool:
        self.close()
        return exc_type is None

    def _check_open(self) -> None:
        if self._bo is None:
            raise DriverError("the driver is closed; create a new Driver")

    # -- memory ------------------------------------------------------------------------------

    def _area(self, start: int, shape: Any, dtype: Any, limit: int, what: str) -> Array:
        dtype = np.dtype(dtype)
        nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        if start + nbytes > limit:
            raise DriverError(
                f"{what} too large: {nbytes} bytes at offset {start} overflow the area ending at "
                f"{limit}; pass a larger {'code' if what == 'code' else 'data'}_area_size to Driver()"
            )
        return self._bo._array(shape, dtype, start).view(Array)

    def alloc(self, shape: Any, dtype: Any = np.float64) -> Array:
        """A new array in the data area (numpy's default dtype, float64, as py-videocore6).

        Args:
            shape: The array's shape.
            dtype: The element type.

        Returns:
            The array, zero-filled.

        Raises:
            DriverError: the driver is closed, or the data area is full.
        """
        self._check_open()
        end = self.code_area_size + self.data_area_size
        array = self._area(self.data_pos, shape, dtype, end, "data")
        self.data_pos += array.nbytes
        return array

    def program(self, prog: Callable[..., Any] | list[int], *args: Any, **kwargs: Any) -> Array:
        """Place a program in the code area.

        Args:
            prog: A `@qpu` function, or a list of instruction words.
            *args: Positional arguments for `prog`.
            **kwargs: Keyword arguments for `prog`.

        Returns:
            The uint64 array of its words, to pass to `execute`.

        Raises:
            DriverError: the driver is closed, or the code area is full.
        """
        self._check_open()
        if callable(prog):
            words = np.asarray(assemble(prog, *args, **kwargs).words, np.uint64)
        elif isinstance(prog, (list, tuple, np.ndarray)):
            words = np.asarray(prog, np.uint64)
        else:
            raise InvalidArgument(f"program() takes a @qpu function or a list of words, not {type(prog).__name__}",
                                  value=prog)  # fmt: skip
        code = self._area(self.code_pos, words.shape, np.uint64, self.code_area_size, "code")
        code[:] = words
        self.code_pos += code.nbytes
        return code

    def dump_code(self, code: list[int], *, file: Any = None) -> None:
        """Print each word as hex, one per line.

        Args:
            code: The instruction words.
            file: Where to print (default: standard output).
        """
        for word in code:
            print(f"{int(word):#018x}", file=file)

    def dump_program(self, prog: Callable[..., Any], *args: Any, file: Any = None, **kwargs: Any) -> None:
        """Assemble a program and print its words.

        Args:
            prog: A `@qpu` function.
            *args: Positional arguments for `prog`.
            file: Where to print (default: standard output).
            **kwargs: Keyword arguments for `prog`.
        """
        self.dump_code(list(assemble(prog, *args, **kwargs).words), file=file)

    # -- running -----------------------------------------------------------------------------

    def compute_shader_dispatcher(self, timeout_sec: float = 10) -> Dispatcher:
        """A dispatcher whose `with` block waits for its dispatches.

        Args:
            timeout_sec: How long the block waits for each dispatch.

        Returns:
            The dispatcher.
        """
        self._check_open()
        return Dispatcher(self, timeout_sec)

    def execute(self, code: Array, *args: Any, **kwargs: Any) -> None:
        """Dispatch `code` and wait for it (py-videocore6's `execute`).

        Arguments, by position or name: `local_invocation=None` ((16, 1, 1) if None),
        `uniforms=None`, `timeout_sec=10`, `workgroup=(1, 1, 1)`, `wgs_per_sg=16`, `thread=1`,
        `propagate_nan=False`, `single_seg=False`, `threading=False`. The older form
        `execute(code, uniforms, timeout_sec, workgroup, ...)` (a uniforms address as the
        second argument) is recognised; there `workgroup` defaults to (16, 1, 1) and gives both
        the workgroup count and the workgroup size, as it did in py-videocore6 then.

        Args:
            code: The program, as `program` returned it.
            *args: The remaining arguments by position, in py-videocore6's order (above).
            **kwargs: The same arguments by name.

        Raises:
            InvalidArgument: a malformed argument (nothing is submitted).
            v3d_drm.GPUTimeout: the job did not finish within `timeout_sec`.
        """
        call = _bind(args, kwargs, with_timeout=True)
        timeout_sec = call.pop("timeout_sec")
        with self.compute_shader_dispatcher(timeout_sec) as csd:
            csd.dispatch(code, **call)

    def _submit(self, cfg: tuple[int, ...], timeout_sec: float) -> Job:
        self._check_open()
        options = dict(self.executor_options)
        if self.device.info.emulated:
            options.setdefault("cycle_budget", int(timeout_sec * _MODEL_CLOCK_HZ))
        self.last_job = self.device.submit_csd(cfg, bos=[self._bo], executor_options=options)
        return self.last_job

    def _wait(self, job: Job, timeout_sec: float) -> None:
        job.wait(None if self.device.info.emulated else timeout_sec)

"""`@kernel`: compile a restricted Python function for the QPUs, call it like a function.

`kernel(*args, num_qpus=n)` compiles once per argument types (cached), stages numpy arrays
into device memory (DeviceArrays are used in place), passes scalars as uniforms, dispatches
`n` batches of 16 lanes, one per QPU (`me()` is the batch number), waits, and copies the
numpy arrays back. `kernel.interpret(...)` runs the same source semantics in numpy instead.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .api import parse_function
from .builder import Builder, f32_bits
from .codegen import Compiled, generate
from .errors import LangError
from .frontend import Shared, Walker, fifo_limit, resolve_annotation
from .interp import Interpreter, Memory
from .optimize import dce
from .regalloc import allocate
from .types import FLOAT, INT, LangType, ptr_of

__all__ = ["Kernel", "KernelArgumentError", "kernel"]

MAX_QPUS = 8


class KernelArgumentError(TypeError):
    """A kernel was called with an argument of the wrong kind, dtype or layout (raised before
    anything is submitted)."""


@dataclass
class Program:
    """A kernel compiled for one tuple of parameter types.

    Attributes:
        types: The parameter types.
        code: The instruction words and uniform layout.
        compile_seconds: Wall time the compilation took.
        ir_ops: Ops after dead-code elimination (a size measure).
    """

    types: tuple[LangType, ...]
    code: Compiled
    compile_seconds: float
    ir_ops: int

    @property
    def words(self) -> np.ndarray:
        """The instruction words (uint64, one per instruction)."""
        return self.code.words

    def __len__(self) -> int:
        return len(self.code.words)

    def disassemble(self) -> str:
        """Mesa's text for every instruction, with the branch targets labelled.

        Returns:
            The program's text, one line per instruction or label.
        """
        from ..disasm import disassemble

        return disassemble(self.code.words, labels=self.code.labels)


_device_lock = threading.Lock()
_device: tuple[int, Any] | None = None


def default_device() -> Any:
    """The device kernels run on when the call names none: opened once per process."""
    global _device
    import v3d_drm

    with _device_lock:
        if _device is None or _device[0] != os.getpid() or _device[1].closed:
            _device = (os.getpid(), v3d_drm.open())
        return _device[1]


def _is_array(x: Any) -> bool:
    return isinstance(x, np.ndarray)


def _arg_type(x: Any) -> LangType | None:
    if _is_array(x):
        if x.dtype == np.float32:
            return ptr_of(FLOAT)
        if x.dtype in (np.int32, np.uint32):
            return ptr_of(INT)
        return None
    if isinstance(x, (bool, np.bool_)):
        return None
    if isinstance(x, (int, np.integer)):
        return INT
    if isinstance(x, (float, np.floating)):
        return FLOAT
    return None


class Kernel:
    """A compiled-on-demand QPU kernel (see `kernel`).

    Attributes:
        func: The Python function.
        name: Its name.
        last_job: The `v3d_drm.Job` of the latest call (`.stats` has the modelled cycles).
    """

    def __init__(self, func: Callable, threads: int = 1) -> None:
        if threads not in (1, 2, 4):
            raise KernelArgumentError(f"threads must be 1, 2 or 4, got {threads!r}")
        self.threads = threads
        self.func = func
        self.name = func.__name__
        self.tree, self.source = parse_function(func)
        self.params = [
            (a.arg, resolve_annotation(func, a.annotation)) for a in self.tree.args.args
        ]
        self._cache: dict[tuple[LangType, ...], Program] = {}
        self._lock = threading.Lock()
        self.last_job: Any = None
        self.__doc__ = func.__doc__
        self.__wrapped__ = func

    def __repr__(self) -> str:
        return f"<vc6_isa.lang kernel {self.name}>"

    # ---- types and compilation --------------------------------------------------------------

    def types_for(self, args: tuple) -> tuple[LangType, ...]:
        """The parameter types a call with `args` compiles for (annotations win).

        Args:
            args: The call's arguments.

        Returns:
            One language type per parameter.
        """
        if len(args) != len(self.params):
            raise KernelArgumentError(
                f"{self.name}() takes {len(self.params)} argument(s) "
                f"({', '.join(p for p, _ in self.params)}), got {len(args)}"
            )
        out = []
        for (pname, ann), x in zip(self.params, args):
            if isinstance(x, LangType):
                got = x
            else:
                got = _arg_type(x)
            want = ann or got
            if want is None:
                raise KernelArgumentError(
                    f"{self.name}(): argument {pname!r} is a {type(x).__name__}"
                    + (f" of dtype {x.dtype}" if _is_array(x) else "")
                    + "; kernels take int32/uint32/float32 arrays, ints and floats"
                )
            if not isinstance(x, LangType) and (
                got is None or not _compatible(want, got)
            ):
                raise KernelArgumentError(
                    f"{self.name}(): argument {pname!r} must be {_describe(want)}, got "
                    + (
                        f"an array of dtype {x.dtype}"
                        if _is_array(x)
                        else type(x).__name__
                    )
                )
            out.append(want)
        return tuple(out)

    def compile(self, *args: Any) -> Program:
        """The program for these arguments (or `LangType`s), compiled once and cached.

        Args:
            *args: Example arguments, or the parameter types themselves; none when every
                parameter is annotated.

        Returns:
            The `Program` (words, uniform layout, compile time, `Program.disassemble`).

        Raises:
            LangError: The kernel is outside the language or cannot be compiled.
            KernelArgumentError: The arguments do not fit the parameters.
        """
        if not args and all(t is not None for _, t in self.params):
            types = tuple(t for _, t in self.params)
        else:
            types = self.types_for(args)
        with self._lock:
            prog = self._cache.get(types)
            if prog is None:
                prog = self._cache[types] = self._compile(types)
        return prog

    def _build(self, types: tuple[LangType, ...], hoist: bool) -> tuple[Builder, list]:
        b = Builder(self.threads, hoist)
        shared = Shared(b, fifo_limit=fifo_limit(self.threads))
        Walker(self.func, self.tree, self.source, shared).run_kernel(list(types))
        blocks = b.finish()
        dce(blocks)
        return b, blocks

    def _compile(self, types: tuple[LangType, ...]) -> Program:
        t0 = time.perf_counter()
        b, blocks = self._build(types, hoist=True)
        try:
            where = allocate(blocks, b.no_acc, threads=self.threads, source=self.source)
        except LangError:
            # values hoisted out of loops stay live through them: try again without that
            b, blocks = self._build(types, hoist=False)
            where = allocate(blocks, b.no_acc, threads=self.threads, source=self.source)
        code = generate(
            blocks,
            where,
            has_stores=b.has_stores,
            threads=self.threads,
            fifo_limit=fifo_limit(self.threads),
        )
        n_ops = sum(len(bl.ops) for bl in blocks)
        return Program(types, code, time.perf_counter() - t0, n_ops)

    def disassemble(self, *args: Any) -> str:
        """The compiled program's assembly (Mesa's syntax).

        Args:
            *args: Arguments (or their types) as for `compile`.

        Returns:
            The disassembly text.
        """
        return self.compile(*args).disassemble()

    # ---- running ----------------------------------------------------------------------------

    def _check_qpus(self, num_qpus: int) -> None:
        top = MAX_QPUS * self.threads
        if not isinstance(num_qpus, (int, np.integer)) or not 1 <= num_qpus <= top:
            raise KernelArgumentError(
                f"num_qpus must be an int from 1 to {top}, got {num_qpus!r}"
                + (
                    ""
                    if self.threads > 1
                    else " (a kernel with threads=2 or 4 takes more)"
                )
            )

    def _scalar_bits(self, t: LangType, x: Any, pname: str) -> int:
        if t is FLOAT:
            return f32_bits(float(x))
        v = int(x)
        if not -(2**31) <= v < 2**32:
            raise KernelArgumentError(
                f"{self.name}(): {pname}={v} does not fit in 32 bits"
            )
        return v & 0xFFFFFFFF

    def __call__(self, *args: Any, num_qpus: int = 1, device: Any = None) -> Any:
        """Run the kernel and wait for it.

        Args:
            *args: One per parameter: numpy arrays (copied to device memory and back after
                the run), `v3d_drm` DeviceArrays (used in place), Python or numpy scalars.
            num_qpus: How many batches of 16 lanes run it, one per QPU (`me()` is the
                batch number); up to 8, or 8 x threads for a kernel with `threads` > 1.
            device: The `v3d_drm.Device`; by default one opened once per process.

        Returns:
            The `v3d_drm.Job` (`job.stats` holds the emulator's modelled cycles).

        Raises:
            LangError: The kernel cannot be compiled (before any device is touched).
            KernelArgumentError: An argument has the wrong type, dtype or layout.
        """
        import v3d_drm

        self._check_qpus(num_qpus)
        prog = self.compile(*args)
        dev = device if device is not None else default_device()
        staged: list[Any] = []
        copies: list[tuple[np.ndarray, Any]] = []
        try:
            values: list[int] = []
            bos: list[Any] = []
            for (pname, _), t, x in zip(self.params, prog.types, args):
                if t.kind != "ptr":
                    values.append(self._scalar_bits(t, x, pname))
                    continue
                if isinstance(x, v3d_drm.DeviceArray) and x.flags.c_contiguous:
                    d = x
                else:
                    d = dev.array(x.shape if x.size else (1,), x.dtype)
                    staged.append(d)
                    d.reshape(-1)[: x.size] = x.reshape(-1)
                    copies.append((x, d))
                bos.append(d)
                values.append(int(d.address))
            uniforms = _uniform_words(prog.code.uniforms, values, num_qpus)
            job = dev.dispatch(
                prog.words,
                uniforms,
                workgroups=(num_qpus, 1, 1),
                local_size=(16, 1, 1),
                threading=self.threads == 4,
                single_seg=self.threads == 1,
                bos=bos,
            )
            job.wait()
            for x, d in copies:
                if x.flags.writeable and x.size:
                    x[...] = np.asarray(d).reshape(x.shape)
            self.last_job = job
            return job
        finally:
            for d in staged:
                d.close()

    def interpret(self, *args: Any, num_qpus: int = 1) -> None:
        """Run the kernel's source semantics in numpy (arrays are updated in place).

        Args:
            *args: As for a call; arrays must be C-contiguous numpy arrays.
            num_qpus: How many batches to run (one after another, `me()` = 0, 1, ...).

        Raises:
            LangError: The kernel is outside the language, or a lane reads or writes
                outside every array.
            KernelArgumentError: An argument does not fit its parameter.
        """
        self._check_qpus(num_qpus)
        types = self.types_for(args)
        arrays, params = [], []
        addr = 0x10000
        for t, x in zip(types, args):
            if t.kind == "ptr":
                if not x.flags.c_contiguous:
                    raise KernelArgumentError("interpret() needs C-contiguous arrays")
                arrays.append((addr, x))
                params.append(addr)
                addr += (x.nbytes + 0xFFF) & ~0xFFF
                addr += 0x1000
            else:
                params.append(x)
        memory = Memory(arrays)
        for q in range(num_qpus):
            backend = Interpreter(params, memory, q, num_qpus)
            shared = Shared(backend, fifo_limit=fifo_limit(self.threads))
            Walker(self.func, self.tree, self.source, shared).run_kernel(list(types))


def _uniform_words(layout: list[tuple], values: list[int], num_qpus: int) -> np.ndarray:
    out = []
    for u in layout:
        if u[0] == "param":
            out.append(values[u[1]])
        elif u[0] == "const":
            out.append(u[1])
        else:
            out.append(num_qpus)
    if not out:
        out.append(0)
    return np.array(out, dtype=np.uint32)


def _compatible(want: LangType, got: LangType) -> bool:
    if want == got:
        return True
    return want is FLOAT and got is INT  # an int where a Float is expected


def _describe(t: LangType) -> str:
    if t.kind == "ptr":
        return f"an array of {'float32' if t.elem is FLOAT else 'int32'} (a {t})"
    return f"a{'n' if t is INT else ''} {t} (a Python {'int' if t is INT else 'float'})"


def kernel(func: Callable | None = None, *, threads: int = 1) -> Any:
    """Decorator: make `func` a QPU kernel compiled from its source.

    `@kernel` runs one thread per QPU: 64 registers, 8 TMU results in flight, no thread
    switches. `@kernel(threads=2)` or `@kernel(threads=4)` compiles for 2 or 4 threads per
    QPU (4: 32 registers and 4 TMU results in flight; hazard rules 1.2 and 12.1): each
    `receive()` that waits for data requested since the last switch first switches to another
    thread (`thrsw`), so with more batches than QPUs (`num_qpus` up to 8 x threads) one batch
    computes while another waits for memory.

    Args:
        func: The kernel function (when used as `@kernel` without parentheses).
        threads: Threads per QPU: 1, 2 or 4.

    Returns:
        The `Kernel`, or with `func` left out, a decorator that makes one.

    Raises:
        LangError: When the function's source cannot be read.
        KernelArgumentError: `threads` is not 1, 2 or 4.
    """
    if func is None:
        return lambda f: kernel(f, threads=threads)
    if isinstance(func, Kernel) and func.threads == threads:
        return func
    return Kernel(getattr(func, "func", func), threads)

"""The optional-numba decorators of the emulator's compiled machine.

Each decorator compiles a function with numba in nopython mode when numba is importable and
leaves it plain Python otherwise, so the same source runs (slowly) without numba. Set
`VC6_NO_JIT=1` (or numba's `NUMBA_DISABLE_JIT=1`) to force the plain-Python path, e.g. to debug
with pdb or to check that results do not depend on the compiler.

- `jit_entry`: the machine's entry point (`machine.run.run`), the one function Python calls. It
  is compiled with everything it calls into one library (`_EntryLibrary`), cached on disk
  (compile_cache.py: one user-wide folder per source version), and releases the GIL while it
  runs. Before the entry's final optimisation every function linked into it becomes `internal`,
  so LLVM drops the arguments an out-of-line call does not use, and is renamed, so that no other
  library's call binds to that changed copy; that final optimisation is
  numba's pipeline without loop unrolling.
- `jit_lean` (no reference counting: array arguments cost nothing per call; `jit_lean_inline` is
  the same) and `jit` (the semantics and fp helpers): the machine's other functions, lowered
  into link-only libraries (`_LinkOnlyLibrary`): LLVM IR optimised and compiled once, inside the
  entry's build, instead of once per level of the call tree above them as numba would; each
  holds its own function only, and the library that compiles links the call tree once
  (`_call_tree`). They are marked `forceinline` (LLVM's `alwaysinline`): numba's call convention
  makes a call expensive. A call from Python (tests call the semantics) compiles and caches an
  ordinary copy.
- `jit_out_of_line`: a function LLVM keeps as one called function (`noinline`, and no jump
  tables: an alternating op dispatch mispredicts a table jump), such as the general issue path
  (`issue.step`) and each ALU's op dispatch; with `noalias=True` (the dispatch) its array
  arguments are `noalias` (C's `restrict`), so its lane loops need no run-time overlap checks.
- `jit_lean_dispatch`: `jit_lean` without jump tables, for the op dispatch copies inlined into
  the plain fast path (LLVM carries the attribute into every function they are inlined into).
- Every decorator types calls with plain argument types (`_Dispatcher`): numba would compile a
  function again for each literal constant its callers pass.
- `jit_record`: the class of the machine's state record (`machine.state.Machine`, a NamedTuple
  of arrays). numba passes it into the functions LLVM inlines as one struct value, and across
  real calls (the entry, `jit_out_of_line`) one field at a time, as any NamedTuple; its LLVM
  struct type is named (declared only while the machine compiles).

`error_model="numpy"`: integer/float division follows numpy (no Python exception checks in the
compiled code); the emulator's code never divides by zero on purpose.

Optimisation level: the machine is compiled at numba's LLVM level `OPT_LEVEL` unless `NUMBA_OPT`
is set; the executor compiles it inside `optimisation_level`, which sets the level for that block
only (nothing is changed on import). The level cannot change results: numba compiles without
fast-math, so LLVM keeps IEEE semantics at every level.

While the machine compiles (`_machine_compile`), typed calls of numba's operators, builtins and
overloads are remembered per argument types (`_memoised_call_type`), and so are three of numba's
lookups that it repeats (a type's LLVM copy, a missing named lowering, a lowering's `loc`
argument); Python's collector runs less often, and two numba passes the machine has no use for
are left out (`_UNUSED_PASSES`). When a core is idle, a cold compile of the machine's entry is
shared with a forked process (`compile_split`, `_forked_compile`; machine/run.py says which
functions each process compiles): the forked one compiles its part and sends it back as numba's
cache would, while this one compiles the rest. Where there is no fork (or `VC6_FORK_COMPILE=0`),
LLVM's parse and optimisation of each link-only function run on a second thread (`_LLVMWorker`)
instead, so that a machine compile still uses two cores: the compiling thread's Python and that
thread's LLVM work overlap (llvmlite lets go of the GIL inside LLVM).

Why each of these, with the figures measured for it (and the alternatives measured and dropped,
per-program translation among them): docs/emulator-internals.md. Add there what you measure
when you change this module or the machine's shape.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import itertools
import os
import pickle
import queue
import re
import select
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import TypeVar

import numpy as np

from .host_cpus import idle_cores as _idle_cores

F = TypeVar("F", bound=Callable)

#: True when functions decorated with `jit` are compiled by numba.
JIT_ENABLED: bool = False

#: numba's LLVM optimisation level while the emulator is in use (see the module docstring).
OPT_LEVEL = 1



if os.environ.get("VC6_NO_JIT", "") not in ("", "0"):
    _numba = None
else:
    try:
        import numba as _numba
    except ImportError:  # numba is an optional extra ("vc6-isa[fast]")
        _numba = None
    if _numba is not None and _numba.config.DISABLE_JIT:
        _numba = None  # NUMBA_DISABLE_JIT=1: numba's own switch for the same thing


def _plain(func: F) -> F:
    """Plain-Python stand-in for numba.njit.

    numpy warns on float32 scalar overflow/invalid operations where compiled code is
    silent; the emulator computes such values on purpose (inf - inf, 0 * inf, ...), so
    those warnings are switched off inside emulator functions.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with np.errstate(all="ignore"):
            return func(*args, **kwargs)

    wrapper.py_func = func  # same attribute name as a numba dispatcher
    return wrapper  # type: ignore[return-value]


@contextlib.contextmanager
def optimisation_level() -> Iterator[None]:
    """numba compiles at `OPT_LEVEL` while the block runs (unless `NUMBA_OPT` is set).

    For the executor's calls into the machine, whose first call compiles it; the previous level
    is restored afterwards, so other numba code in the process keeps its own.
    """
    if _numba is None or "NUMBA_OPT" in os.environ:
        yield
        return
    with _OPT_LOCK:  # threads entering together must not restore each other's level
        saved = _numba.config.OPT
        _numba.config.OPT = type(saved)(OPT_LEVEL)
        try:
            yield
        finally:
            _numba.config.OPT = saved


_OPT_LOCK = threading.Lock()


def compile_level() -> str:
    """numba's optimisation level for the machine: `NUMBA_OPT` when set, else `OPT_LEVEL`."""
    return os.environ.get("NUMBA_OPT", str(OPT_LEVEL))


if _numba is not None:
    import llvmlite.binding as _ll
    from llvmlite import ir as _ir
    from numba import _dynfunc
    from numba.core import base as _numba_base
    from numba.core import bytecode as _bytecode
    from numba.core import cgutils as _cgutils
    from numba.core import config as _numba_config
    from numba.core import funcdesc as _funcdesc
    from numba.core import types as _types
    from numba.core.base import BaseContext as _BaseContext
    from numba.core.codegen import CodeLibrary as _CodeLibrary
    from numba.core.codegen import JITCodeLibrary as _JITCodeLibrary
    from numba.core.codegen import _parse_refprune_flags
    from numba.core.compiler import Compiler as _Compiler
    from numba.core.compiler import DefaultPassBuilder as _DefaultPassBuilder
    from numba.core.compiler import Flags as _NumbaFlags
    from numba.core.compiler import _LowerResult
    from numba.core.compiler import compile_result as _compile_result
    from numba.core.compiler_lock import global_compiler_lock as _numba_compiler_lock
    from numba.core.compiler_lock import (
        require_global_compiler_lock as _require_compiler_lock,
    )
    from numba.core.compiler_machinery import LoweringPass as _LoweringPass
    from numba.core.compiler_machinery import register_pass as _register_pass
    from numba.core.dispatcher import _FunctionCompiler as _NumbaFunctionCompiler
    from numba.core.environment import Environment as _Environment
    from numba.core.lowering import Lower as _Lower
    from numba.core.registry import CPUDispatcher as _CPUDispatcher
    from numba.core.targetconfig import ConfigStack as _ConfigStack
    from numba.core.typed_passes import NativeLowering as _NativeLowering
    from numba.core.typed_passes import NopythonRewrites as _NopythonRewrites
    from numba.core.untyped_passes import InlineClosureLikes as _InlineClosureLikes

    from .compile_cache import MachineCache

    class _Flags(_NumbaFlags):
        """numba's compile flags, compared by the options set on them.

        numba keys its cache of typed `@overload` implementations (min, int, np.empty, ...) on
        the compile's flags, and compares and hashes flags by building a dict of all ~40 options
        (their hash is the same for all flags, so every lookup compares): ~50,000 lookups while
        the machine is typed. Flags with the same options set are equal either way; two with the
        same values set differently (an option set to its default, or not set) only miss the
        cache and type the implementation again.
        """

        __slots__ = ()

        def __hash__(self):
            return hash(tuple(sorted(self._values)))

        def __eq__(self, other):
            if type(other) is _Flags:
                return self._values == other._values
            return super().__eq__(other)

    _numba_function_call_type = _types.Function.get_call_type
    _function_own_call_type = _types.Function.__dict__.get("get_call_type")  # None: BaseFunction's
    _call_types: dict = {}  # (function type, context, args, kws, flags) -> (signature, impl key)
    _memo_depth = 0  # nesting of machine compiles (numba compiles callees inside their callers)

    def _memoised_call_type(self, context, args, kws):
        """`types.Function.get_call_type` (typing a call of an operator, builtin or `@overload`:
        `a + b`, `int(x)`, `min(a, b)`, `np.zeros(...)`), answered once per argument types and
        compile flags while the machine compiles.

        numba types such a call by trying each of the function's templates until one accepts
        the arguments, building an error message for every one that does not, at each of the
        machine's ~11,000 calls, of which ~900 are different: that was ~4 s of the compile.
        The key carries the compile's flags (on numba's `ConfigStack`), as numba's own cache of
        `@overload` implementations does. A repeated call also does what numba's typing does
        to the function type: it records the call's implementation (`_impl_keys`, which
        lowering reads) for the signature, so the generated code stays the same (the machine's
        optimised LLVM IR and machine code are identical with and without this, up to the
        numbers numba puts in symbol names: benchmarks/emulator_compile.py --dump).
        """
        key = (self, context, tuple(args), tuple(kws.items()), _ConfigStack.top_or_none())
        known = _call_types.get(key)
        if known is not None:
            signature, impl_key = known
            self._impl_keys[signature.args] = impl_key
            return signature
        signature = _numba_function_call_type(self, context, args, kws)
        _call_types[key] = signature, self._impl_keys[signature.args]
        return signature

    _numba_global_value_type = _ir.Type._get_ll_global_value_type
    _global_value_types: dict = {}  # (llvmlite type class, its text) -> LLVM's type

    def _memoised_global_value_type(self, target_data, context=None):
        """`llvmlite.ir.Type._get_ll_global_value_type` (LLVM's own copy of a type, which numba
        asks for a type's size or alignment), answered once per type while the machine compiles.

        llvmlite writes a module holding one global of the type, has LLVM parse it and reads
        the global's type back: ~1,000 such modules per machine compile, ~0.2 s, for ~100
        different types. The answer is a type of LLVM's global context, which lives as long as
        the process and is the same object for the same text; types named by the module
        (identified structs), or asked for in another context, are not remembered.
        """
        if context is not None or isinstance(self, _ir.IdentifiedStructType):
            return _numba_global_value_type(self, target_data, context)
        key = type(self), str(self)
        known = _global_value_types.get(key)
        if known is None:
            known = _global_value_types[key] = _numba_global_value_type(self, target_data)
        return known

    _numba_type_queries = {"get_abi_size": _ir.Type.get_abi_size, "get_abi_alignment": _ir.Type.get_abi_alignment}
    _type_answers: dict = {}  # (query, llvmlite type class, its text, target data) -> LLVM's answer

    def _memoised_type_query(name: str) -> Callable:
        """llvmlite's `Type.<name>` (a type's ABI size or alignment: LLVM's answer), answered
        once per type while the machine compiles.

        numba asks ~1,000 times per machine compile, for ~100 types. Each answer is an LLVM call,
        and while `_llvm_worker` optimises a function the compiling thread waits for LLVM's lock
        at each of them (~0.6 s in all). A named struct (the state record's types, see
        `jit_record`) is remembered by its declaration, name and body: its answer depends on
        the body only, while llvmlite has LLVM parse a new copy of it for every question. Opaque
        structs, and types asked about in another LLVM context, are not remembered.
        """
        query = _numba_type_queries[name]

        def memoised(self, target_data, context=None):
            named = isinstance(self, _ir.IdentifiedStructType)
            if context is not None or (named and self.is_opaque):
                return query(self, target_data, context)
            key = name, type(self), self.get_declaration() if named else str(self), target_data
            try:
                return _type_answers[key]
            except KeyError:
                answer = _type_answers[key] = query(self, target_data)
                return answer

        return memoised

    _numba_process_triple = _ll.get_process_triple
    #: llvmlite's `get_process_triple` (a constant of the process), asked once per compile: numba
    #: asks it for every library it creates (~400 LLVM calls per machine compile, each waiting
    #: for LLVM's lock while `_llvm_worker` holds it: ~0.4 s).
    _memoised_process_triple = functools.cache(_numba_process_triple)

    _numba_get_function = _BaseContext.get_function
    _missing_functions: set = set()  # (name, signature) of lowerings numba has none of

    def _memoised_get_function(self, fn, sig, _firstcall=True):
        """`BaseContext.get_function` (the lowering of an operation for a signature) that
        remembers, while the machine compiles, which named operations have no lowering for a
        signature.

        numba's array code asks for an `__array__` lowering each time it takes an array value
        apart (~1,150 times per machine compile; only array-like types other than arrays have
        one), and its lowering of constant indexes asks for `static_getitem`/`static_setitem`
        first (~160); each miss re-reads every registry of lowerings (`BaseContext.refresh`,
        which also re-runs its import statements) before numba falls back to its general code. A repeated
        miss now raises at once, with numba's error. Only named operations (a string `fn`) are
        remembered: numba registers no lowering for them while a compile runs (`@overload`s
        register theirs under their own function types, which are looked up as before).
        """
        if isinstance(fn, str):
            key = fn, sig.as_function()
            if key in _missing_functions:
                raise NotImplementedError(f"No definition for lowering {fn}{key[1]}")
            try:
                return _numba_get_function(self, fn, sig, _firstcall)
            except NotImplementedError:
                if _firstcall:
                    _missing_functions.add(key)
                raise
        return _numba_get_function(self, fn, sig, _firstcall)

    _numba_has_loc = _numba_base._has_loc
    _has_loc_answers: dict = {}  # lowering implementation -> whether it takes `loc`

    def _memoised_has_loc(fn) -> bool:
        """numba's `base._has_loc` (does a lowering implementation take a `loc` argument?),
        answered once per implementation while the machine compiles: numba reads the
        function's signature with `inspect` each time it looks an implementation up (~4,800
        times per machine compile, for a few hundred implementations)."""
        try:
            return _has_loc_answers[fn]
        except KeyError:
            answer = _has_loc_answers[fn] = _numba_has_loc(fn)
            return answer
        except TypeError:  # an unhashable callable
            return _numba_has_loc(fn)

    class _LLVMWorker:
        """One thread that runs LLVM work for the machine compile, in the order it was queued.

        llvmlite calls LLVM through ctypes, which lets go of Python's GIL for the call, and takes
        its own lock (one LLVM call at a time in the process) around each call. So while this
        thread parses and optimises a link-only function's module (`_LinkOnlyLibrary`), the
        compiling thread goes on typing and lowering the next functions in Python: the two run
        on two cores. Each job's result (or its exception) is kept in a `Future`.
        """

        def __init__(self):
            self._jobs: queue.SimpleQueue = queue.SimpleQueue()
            self.futures: list[Future] = []
            self.thread = threading.Thread(target=self._serve, name="vc6-llvm", daemon=True)
            self.thread.start()

        def submit(self, job: Callable[[], None]) -> Future:
            future: Future = Future()
            self.futures.append(future)
            self._jobs.put((future, job))
            return future

        def _serve(self):
            while (item := self._jobs.get()) is not None:
                future, job = item
                try:
                    job()
                except BaseException as error:  # noqa: BLE001 - every error goes to whoever waits for the job
                    future.set_exception(error)
                else:
                    future.set_result(None)

        def close(self) -> BaseException | None:
            """Run the jobs still queued, end the thread and return the first job's error."""
            self._jobs.put(None)
            self.thread.join()
            return next((f.exception() for f in self.futures if f.exception() is not None), None)

    _llvm_worker: _LLVMWorker | None = None  # while the machine compiles, once it has work
    _llvm_worker_wanted = False  # while the machine compiles: start `_llvm_worker` at its first job

    def _started_llvm_worker() -> _LLVMWorker | None:
        """`_llvm_worker`, started by the first job of a compile that wants one. Started late, not
        when the compile begins: a cold compile may fork first (`_forked_compile`), and a process
        forked while another of its threads is inside an LLVM call (holding llvmlite's lock)
        would wait for that lock forever."""
        global _llvm_worker
        if _llvm_worker is None and _llvm_worker_wanted:
            _llvm_worker = _LLVMWorker()
        return _llvm_worker

    def _on_llvm_worker() -> bool:
        return _llvm_worker is not None and threading.current_thread() is _llvm_worker.thread

    #: Python's thresholds for its youngest and oldest generations of garbage collection while
    #: the machine compiles (see `_machine_compile`).
    _GC_YOUNG_THRESHOLD = 2000
    _GC_OLDEST_THRESHOLD = 100

    @contextlib.contextmanager
    def _machine_compile() -> Iterator[None]:
        """The settings of a machine compile, for the block (the compile; numba compiles callees
        inside their callers' compiles, the settings hold until the outermost one ends):

        - calls of numba's functions are typed by `_memoised_call_type`, LLVM's copies of types
          come from `_memoised_global_value_type`, named lowerings numba lacks are remembered
          (`_memoised_get_function`), and so is which lowerings take a `loc` argument
          (`_memoised_has_loc`), a type's ABI size and alignment (`_memoised_type_query`) and the
          process's target triple (`_memoised_process_triple`);
        - a second thread, `_llvm_worker` (when a core is idle: `_idle_cores`), parses and
          optimises the link-only functions' modules while this one goes on typing and
          lowering (`_LinkOnlyLibrary`); it runs what is
          queued to the end and stops when the outermost block ends, and an error of its work
          that no caller has raised yet is raised then (unless the block is already failing);
        - Python's garbage collector runs less often. The compile builds ~300,000 lasting
          objects (numba's IR, types and compile results). Its oldest generation is scanned
          about ten times less often (`_GC_OLDEST_THRESHOLD` instead of Python's 10
          collections of the middle one): the ~15 full collections took ~3 s of the ~20 s
          compile; now one or two, for ~50 MB more peak memory (turning the collector off saved
          ~0.5 s more, for ~170 MB). Its youngest generation is collected after 2,000
          allocations instead of 700 (`_GC_YOUNG_THRESHOLD`): that leaves no full collection
          inside the compile (there was one, ~0.4 s; the one soon after it, once the thresholds
          are back, remains), for ~20 MB more peak memory (docs/emulator-internals.md). What
          the compiler produces does not depend on when garbage is collected.

        Under numba's compiler lock, so no other thread compiles meanwhile; numba's typing and
        lowering lookups, llvmlite's types and target triple and the collector's thresholds are
        back, the memos empty and the worker's thread ended, when the outermost block ends.
        """
        global _memo_depth, _llvm_worker, _llvm_worker_wanted
        _require_compiler_lock()
        if _memo_depth == 0:
            _llvm_worker_wanted = _idle_cores() >= 1
            _types.Function.get_call_type = _memoised_call_type
            _ir.Type._get_ll_global_value_type = _memoised_global_value_type
            _BaseContext.get_function = _memoised_get_function
            _numba_base._has_loc = _memoised_has_loc
            for name in _numba_type_queries:
                setattr(_ir.Type, name, _memoised_type_query(name))
            _ll.get_process_triple = _memoised_process_triple
            thresholds = gc.get_threshold()
            gc.set_threshold(max(thresholds[0], _GC_YOUNG_THRESHOLD), thresholds[1],
                             max(thresholds[2], _GC_OLDEST_THRESHOLD))
            _declare_record_structs(True)
        _memo_depth += 1
        failed = True
        try:
            yield
            failed = False
        finally:
            _memo_depth -= 1
            if _memo_depth == 0:
                # the worker runs what is still queued (a failed compile leaves jobs) as itself:
                # cleared first, its jobs waited for their own futures (`_final_module`) forever
                try:
                    error = _llvm_worker.close() if _llvm_worker is not None else None
                finally:
                    _llvm_worker, _llvm_worker_wanted = None, False
                if _function_own_call_type is None:
                    del _types.Function.get_call_type  # inherited from numba's BaseFunction again
                else:
                    _types.Function.get_call_type = _function_own_call_type
                _ir.Type._get_ll_global_value_type = _numba_global_value_type
                _BaseContext.get_function = _numba_get_function
                _numba_base._has_loc = _numba_has_loc
                for name, query in _numba_type_queries.items():
                    setattr(_ir.Type, name, query)
                _ll.get_process_triple = _numba_process_triple
                _type_answers.clear()
                _has_loc_answers.clear()
                _missing_functions.clear()
                _call_types.clear()
                _global_value_types.clear()
                gc.set_threshold(*thresholds)
                _declare_record_structs(False)
                if error is not None and not failed:
                    raise error

    class _FunctionCompiler(_NumbaFunctionCompiler):
        def _customize_flags(self, flags):
            return _Flags(flags)

    class _Dispatcher(_CPUDispatcher):
        """numba's dispatcher, compiled for plain argument types only.

        numba compiles a function once more for every literal constant a caller passes
        (`f(x, 0)` and `f(x, 1)` are two compiles, and `f(x, n)` a third); the machine's callers
        pass many. Typing calls with the constants' plain types (int64, bool, ...) gives one
        compile per argument-type combination; LLVM still folds the constants after inlining.
        Compiles run with `_Flags`.
        """

        def __init__(self, py_func, locals, targetoptions, pipeline_class=_Compiler):
            super().__init__(py_func=py_func, locals=locals, targetoptions=targetoptions,
                             pipeline_class=pipeline_class)
            self._compiler = _FunctionCompiler(py_func, self.targetdescr, targetoptions, locals, pipeline_class)

        def get_call_template(self, args, kws):
            args = _record_parameters(tuple(_types.unliteral(a) for a in args), self.py_func in _OUT_OF_LINE)
            return super().get_call_template(args, {k: _types.unliteral(v) for k, v in kws.items()})

        def compile(self, sig):
            with _numba_compiler_lock, _machine_compile():
                return super().compile(sig)

    class _LinkOnlyLibrary(_JITCodeLibrary):
        """The code of a machine function that only compiled code calls: linked into its callers
        and optimised and turned into machine code there, once, with the entry point.

        numba optimises every function's library with all its callees linked in and generates
        machine code for it, so a helper deep in the call tree was optimised and compiled once
        per level above it: that was a third of the machine's compile time, for code nobody ran.
        Its module holds its own code only, not its callees': the library that finally compiles
        (a `_MachineLinkedLibrary`) links each function of the call tree once.

        Its LLVM work (parsing the module numba wrote, optimising its functions, the module's
        dynamic globals) is queued on `_llvm_worker` while the machine compiles, in the order
        numba asks for it; whatever reads the library's module (`_final_module`: a caller's
        link, the cache) waits for that work first, and gets its error if it failed. The same
        calls on the same modules in the same order as in the compiling thread: the machine code
        is the same (benchmarks/emulator_compile.py --dump).
        """

        _typed_only = False  # only typed, not lowered: see `_LinkOnlyLowering`

        def __init__(self, codegen, name, module=None):
            # numba's `CPUCodeLibrary.__init__`, its parse of an empty module queued (`_queue`):
            # the compiling thread would wait for LLVM's lock there while `_llvm_worker` works.
            # With a `module` (one a forked process compiled: `_ForkedLibrary`), that one.
            _CodeLibrary.__init__(self, codegen, name)
            self._linking_libraries = []
            self._shared_module = None
            self._pending: list[Future] = []  # LLVM work queued on `_llvm_worker` for this library
            self._module = module
            if module is None:
                empty = str(codegen._create_empty_module(name))
                self._queue(functools.partial(self._parse_empty_module, empty))

        def _parse_empty_module(self, text: str) -> None:
            self._module = _ll.parse_assembly(text)
            self._module.name = _cgutils.normalize_ir_text(self.name)

        @property
        def _final_module(self):
            """numba's LLVM module of the library, once the work queued for it is done (its
            parse and optimisation run on `_llvm_worker`; an error there is raised here)."""
            if self._pending and not _on_llvm_worker():
                for job in self._pending:
                    job.result()
                self._pending.clear()
            return self._module

        @_final_module.setter
        def _final_module(self, module):
            self._module = module

        def _queue(self, job: Callable[[], None]) -> None:
            """Run `job` on `_llvm_worker` while the machine compiles, else now."""
            worker = _started_llvm_worker()
            if worker is None:
                job()
            else:
                self._pending.append(worker.submit(job))

        def add_ir_module(self, ir_module):
            """numba's `add_ir_module`: the module's text is written here (Python), LLVM's parse
            and per-function optimisation of it are queued (`_queue`)."""
            self._raise_if_finalized()
            text = _cgutils.normalize_ir_text(str(ir_module))
            self._queue(functools.partial(self._add_ir_text, text, ir_module.name))

        def _optimize_functions(self, ll_module):
            """numba's per-function optimisation, for the functions the module defines only.

            numba builds a pass pipeline and runs it for each of the module's ~4 declarations
            per definition as well, where it does nothing (the optimised IR and machine code are
            the same): ~4,000 of the worker's ~9,800 LLVM calls per machine compile, each a hand-over
            of the GIL between the two threads."""
            ll_module.data_layout = self._codegen._data_layout
            for func in ll_module.functions:
                if not func.is_declaration:
                    fpm, pb = self._codegen._function_pass_manager()
                    with self._recorded_timings.record(f"Function passes on {func.name!r}", pb):
                        fpm.run(func, pb)

        def _add_ir_text(self, text: str, name: str) -> None:
            ll_module = _ll.parse_assembly(text)
            ll_module.name = name
            ll_module.verify()
            self.add_llvm_module(ll_module)

        def finalize(self):
            _require_compiler_lock()
            self._raise_if_finalized()
            self._queue(self._finalize_dynamic_globals)
            self._finalized = True

        def get_pointer_to_function(self, name):
            self._ensure_finalized()
            return 0  # no machine code here: numba's answer for "no such symbol"

    def _call_tree(libraries: list) -> list:
        """Every library reachable from `libraries` through `_LinkOnlyLibrary`s, each once, in the
        order numba's nested links would first bring in their code (depth first).

        numba links each callee's library, with everything linked into it, into its caller's:
        a function of the machine was cloned and linked once per caller on every level above it
        (~760 links, ~0.7 s of the compile; docs/emulator-internals.md). Here the library that
        compiles links the whole tree itself, one module per function; a library of numba's own
        (an `@overload`'s) comes whole, its callees linked in as numba does."""
        tree: dict = {}  # insertion-ordered set

        def visit(library):
            if library not in tree:
                tree[library] = None
                if isinstance(library, _LinkOnlyLibrary):
                    for callee in library._linking_libraries:
                        visit(callee)

        for library in libraries:
            visit(library)
        return list(tree)

    class _MachineLinkedLibrary(_JITCodeLibrary):
        """A library that turns machine functions into machine code (the entry's, and the ordinary
        copies compiled for calls from Python): it links the whole call tree of its link-only
        callees (`_call_tree`), since their modules hold only their own code."""

        def finalize(self):
            self._linking_libraries = _call_tree(self._linking_libraries)
            super().finalize()

    def _machine_pass_builder(codegen):
        """numba's LLVM pass pipeline (its level and vectorisation settings) without loop
        unrolling: see `_EntryLibrary`."""
        pto = _ll.create_pipeline_tuning_options()
        pto.speed_level = int(_numba_config.OPT)
        pto.loop_vectorization = bool(_numba_config.LOOP_VECTORIZE)
        pto.slp_vectorization = bool(_numba_config.SLP_VECTORIZE)
        pto.loop_unrolling = False
        return _ll.create_pass_builder(codegen._tm, pto)

    #: The suffix of the entry's private copies of machine functions (`_EntryLibrary._internalize`).
    ENTRY_COPY_SUFFIX = ".vc6_entry"

    class _EntryLibrary(_MachineLinkedLibrary):
        """The entry's library (the whole machine, every machine function inlined into one): its
        final optimisation is numba's, without LLVM's loop unrolling.

        The machine is one function of ~35,000 LLVM instructions (after optimisation), and LLVM's
        loop passes and code generation take longer than in proportion to a function's size:
        unrolling its loops (after they are vectorised) cost a quarter of the final optimisation
        and made the code generator's input larger. Without it the machine compiles 3-4 s faster
        (CPU) and runs as fast (benchmarks/emulator_speed.py, sgemm 1024, dense ALU and TMU-heavy
        side by side, 4 pairs each). numba's optimisation of each function before it is linked in
        is unchanged.
        """

        def __init__(self, codegen, name):
            super().__init__(codegen, name)
            self._own_functions: set = set()  # the entry point and its wrapper: what numba looks up

        def add_llvm_module(self, ll_module):
            self._own_functions.update(f.name for f in ll_module.functions if not f.is_declaration)
            super().add_llvm_module(ll_module)

        def _internalize(self):
            """Every machine function linked in is private to the machine (`internal`): nothing
            outside this library calls it or looks it up. LLVM may then change the signature
            of those it keeps out of line (`jit_out_of_line`): it drops the arguments they do
            not use, which numba's calling convention passes one field at a time (the state
            record `m` alone is ~190 fields): `step` from 196 arguments to 42.

            Each is also renamed (`ENTRY_COPY_SUFFIX`, which a C++ demangler shows as a clone,
            so debuggers and profilers still name it): the object code keeps an internal
            function as a local symbol, but LLVM's JIT linker (MCJIT's RuntimeDyld) files every
            defined symbol by name, local or not, and a later library that links the same
            machine function as a weak (`linkonce_odr`) copy, such as the ordinary copy of
            `memory.load_uniform` called from Python, was bound to the entry's copy, with its
            other arguments, instead of its own: a crash (issue 13). The entry's own calls are
            resolved inside its object, so the name matters to nothing else."""
            for fn in self._final_module.functions:
                if not fn.is_declaration and fn.name not in self._own_functions:
                    fn.linkage = "internal"
                    fn.name += ENTRY_COPY_SUFFIX

        def _optimize_final_module(self):
            self._internalize()
            codegen = self._codegen
            # numba's cheap pass first (inlining, for its reference-count pruning), as numba does
            cheap, cheap_builder = codegen._module_pass_manager(
                loop_vectorize=codegen._loopvect, slp_vectorize=False, opt=codegen._opt_level, cost="cheap")
            cheap.run(self._final_module, cheap_builder)
            builder = _machine_pass_builder(codegen)
            full = builder.getModulePassManager()
            if _numba_config.LLVM_REFPRUNE_PASS:
                full.add_refprune_pass(_parse_refprune_flags())
            full.run(self._final_module, builder)

    def _library_pass(library_class: type, name: str) -> type:
        """A lowering pass that gives the compile a `library_class` library (numba's lowering
        creates its own library when none is set)."""

        @_register_pass(mutates_CFG=False, analysis_only=False)
        class LibraryPass(_LoweringPass):
            _name = name

            def __init__(self):
                _LoweringPass.__init__(self)

            def run_pass(self, state):
                if state.library is None:
                    state.library = library_class(state.targetctx.codegen(), state.func_id.func_qualname)
                    state.library.enable_object_caching()
                return True

        return LibraryPass

    _EntryLibraryPass = _library_pass(_EntryLibrary, "vc6_entry_library")
    _MachineLinkedLibraryPass = _library_pass(_MachineLinkedLibrary, "vc6_machine_linked_library")

    #: numba passes the machine's pipelines leave out: each looks for something the machine's
    #: code does not have (closures or inner functions, to inline: `InlineClosureLikes`; array
    #: expressions, constant-list arrays or string-literal indexes, to rewrite:
    #: `NopythonRewrites`), and each rebuilt numba's variable lifetimes on the way, ~0.7 s of
    #: CPU each over the machine. Without them the machine's optimised IR and machine code are
    #: identical (benchmarks/emulator_compile.py --dump); code that used such a thing would
    #: still compile (numba's lowering handles array expressions and inner functions itself),
    #: only less well.
    _UNUSED_PASSES = (_InlineClosureLikes, _NopythonRewrites)

    def _machine_pipeline(state):
        """numba's nopython pipeline without `_UNUSED_PASSES`."""
        pm = _DefaultPassBuilder.define_nopython_pipeline(state)
        pm.passes = [(p, description) for p, description in pm.passes if p not in _UNUSED_PASSES]
        return pm

    class _EntryCompiler(_Compiler):
        def define_pipelines(self):
            pm = _machine_pipeline(self.state)
            i = [p for p, _ in pm.passes].index(_NativeLowering)
            pm.passes.insert(i, (_EntryLibraryPass, "the entry's library"))
            pm.finalize()
            return [pm]

    class _PythonCopyCompiler(_Compiler):
        """numba's pipeline, into a `_MachineLinkedLibrary` (a copy of a machine function for calls
        from Python links its link-only callees' call tree)."""

        def define_pipelines(self):
            pm = _DefaultPassBuilder.define_nopython_pipeline(self.state)
            i = [p for p, _ in pm.passes].index(_NativeLowering)
            pm.passes.insert(i, (_MachineLinkedLibraryPass, "a library linking the machine's call tree"))
            pm.finalize()
            return [pm]

    class _MachineLower(_Lower):
        """numba's lowering of a machine function, `noinline` and without jump tables for those
        of `jit_out_of_line`. The attributes are set here, while the function is built: `lower`
        hands the finished module to LLVM as text, so an attribute added afterwards is lost.

        No jump tables: LLVM lowers the op dispatch of `ops.add_alu`/`mul_alu` (one copy each)
        to a table jump whose target a stream of alternating ops mispredicts (the samples pile
        up at the first instruction of each op's loop); as a tree of compares it does not (see
        `jit_out_of_line`). llvmlite only knows LLVM's keyword attributes, so the string
        attribute goes into the set past its check (the set is written out as it stands)."""

        def pre_lower(self):
            super().pre_lower()
            func = self.func_ir.func_id.func
            if func in _OUT_OF_LINE:
                self.function.attributes.add("noinline")
            if func in _OUT_OF_LINE or func in _NO_JUMP_TABLES:
                set.add(self.function.attributes, '"no-jump-tables"="true"')
            if func in _NOALIAS:
                # numba's own `noalias` flag, for this function only (see `jit_out_of_line`)
                for arg in self.call_conv.get_arguments(self.function):
                    if isinstance(arg.type, _ir.PointerType):
                        arg.add_attribute("noalias")

    @_register_pass(mutates_CFG=False, analysis_only=True)
    class _LinkOnlyLowering(_LoweringPass):
        """numba's lowering (`NativeLowering`) into a `_LinkOnlyLibrary`, without making the
        function callable from Python: callers find it under a key of its own.

        In the forked process of a `_forked_compile`, while it types what the compiling process
        compiles (`_typing_only`), a function is typed and not lowered: its library stays empty
        (`_typed_only`), and its callers' modules declare it, which is all they need."""

        _name = "vc6_link_only_lowering"

        def __init__(self):
            _LoweringPass.__init__(self)

        def run_pass(self, state):
            library = _LinkOnlyLibrary(state.targetctx.codegen(), state.func_id.func_qualname)
            library._reload_init.update(state.reload_init)
            state.library = library
            flags = state.flags
            fndesc = _funcdesc.PythonFunctionDescriptor.from_specialized_function(
                state.func_ir, state.typemap, state.return_type, state.calltypes,
                mangler=state.targetctx.mangler, inline=flags.forceinline, noalias=flags.noalias,
                abi_tags=[flags.get_mangle_string()],
            )
            if _typing_only:
                library._typed_only = True
                env, call_helper = _Environment.from_fndesc(fndesc), None
            else:
                with state.targetctx.push_code_library(library):
                    lower = _MachineLower(state.targetctx, library, fndesc, state.func_ir, metadata=state.metadata)
                    lower.lower()
                env, call_helper = lower.env, lower.call_helper
            key = _insert_link_only(state.targetctx, fndesc, env, library)
            state["cr"] = _LowerResult(fndesc, call_helper, cfunc=key, env=env)
            return True

    def _insert_link_only(context, fndesc, env, library):
        """Make a link-only function callable from compiled code: its callers' lowering finds it
        in `context` under the returned key (numba keys a compiled version on its Python-callable
        function object; this one has no machine code, address 0, and is never called:
        `_MachineDispatcher.__call__` compiles an ordinary copy for calls from Python)."""
        key = _dynfunc.make_function(fndesc.lookup_module(), fndesc.qualname.split(".")[-1],
                                     "link-only (no machine code)", 0, env, (library,))
        context.insert_user_function(key, fndesc, [library])
        return key

    class _LinkOnlyCompiler(_Compiler):
        def define_pipelines(self):
            pm = _machine_pipeline(self.state)
            i = [p for p, _ in pm.passes].index(_NativeLowering)
            pm.passes[i] = (_LinkOnlyLowering, "lowering into a link-only library")
            pm.finalize()
            return [pm]

    # ---- The forked compile: part of a cold compile's call tree in a second process ----

    #: Whether a cold compile of an entry with a `compile_split` shares its call tree with a
    #: forked process (`_forked_compile`) when a core is idle. The environment variable
    #: `VC6_FORK_COMPILE` overrides it: `0` never, `1` when a core is idle, `2` always (to
    #: measure it on a busy host).
    FORK_COMPILE = True
    #: How long the compiling process waits for the forked one's results once its own part is
    #: done, at the most (seconds); then it kills it and compiles that part itself. It waits twice
    #: as long as its own part took, at least `FORK_WAIT_MIN`: the two parts take about as long
    #: (the machine's: 6.4-6.7 s here, 5.9-6.0 s there), so a child stuck (on a lock another
    #: thread held at the fork, say) costs the machine's compile ~13 s more, not a minute.
    FORK_TIMEOUT = 60.0
    FORK_WAIT_MIN = 10.0
    #: Added to numba's count of compiled functions in the forked process: numba puts the count in
    #: every symbol name it makes, and both processes count on from the fork.
    _FORKED_UID_OFFSET = 1_000_000

    _splits: dict = {}  # an entry's Python function -> (functions compiled here, functions forked)
    _machine_dispatchers: list = []  # every `_MachineDispatcher`, in creation order

    def compile_split(entry: F, here: tuple, forked: tuple) -> None:
        """Share a cold compile of `entry` (a `jit_entry` function) between this process and a
        forked one (`_forked_compile`): this process compiles the functions of `here`, the forked
        one those of `forked`, each with everything they call, before the entry itself compiles.

        Each item is `(function, *parameters)`: a machine function and the types its caller passes
        it, each a numpy scalar type or an int `k`, the type of the entry's own argument `k`.
        A wrong type only costs time: the entry's compile then compiles what it calls."""
        _splits[entry.py_func] = (here, forked)

    def _fork_wanted() -> bool:
        """Whether a cold compile forks: switched on (`FORK_COMPILE`, `VC6_FORK_COMPILE`), where
        processes fork (not Windows; not macOS, whose system libraries do not survive a fork)
        and with an idle core for the forked process (`_idle_cores`)."""
        switch = os.environ.get("VC6_FORK_COMPILE", "")
        if switch == "0" or (switch == "" and not FORK_COMPILE):
            return False
        if not hasattr(os, "fork") or sys.platform == "darwin":
            return False
        return switch == "2" or _idle_cores() >= 1

    def _split_signature(item: tuple, entry_args: tuple) -> tuple:
        func, *parameters = item
        return func, tuple(entry_args[p] if isinstance(p, int) else _numba.from_dtype(np.dtype(p))
                           for p in parameters)

    def _compile_for_call(func, args: tuple) -> None:
        """Compile machine function `func` as a caller passing `args` would have it compiled."""
        func.get_call_template(args, {})

    def _machine_overloads() -> set:
        """(dispatcher's place in `_machine_dispatchers`, argument types) of every machine function
        compiled so far."""
        return {(i, args) for i, d in enumerate(_machine_dispatchers) for args in d.overloads}

    class _ForkedChild:
        """The forked process of a `_forked_compile`, seen from the compiling one: its pid and the
        pipe its results come through. `close` ends it on every path: a child that has not sent
        everything is killed, and it is always waited for (no zombie) and its pipe closed."""

        def __init__(self, pid: int, pipe: int):
            self.pid = pid
            self.pipe = pipe
            self.sent = False  # all its results read: it exits by itself

        def results(self, timeout: float):
            """The child's results (`_child_results`), or None if it failed, died or took longer
            than `timeout` seconds."""
            deadline = time.monotonic() + timeout
            data = bytearray()
            size = None
            while size is None or len(data) < size:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([self.pipe], [], [], left)[0]:
                    return None
                chunk = os.read(self.pipe, 1 << 20)
                if not chunk:
                    return None  # it died, or failed and said nothing
                data += chunk
                if size is None and len(data) >= 8:
                    size = int.from_bytes(data[:8], "little") + 8
            self.sent = True
            return pickle.loads(bytes(data[8:]))

        def close(self) -> None:
            try:
                if not self.sent:
                    os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            finally:
                try:
                    os.waitpid(self.pid, 0)
                except ChildProcessError:
                    pass  # reaped by someone else (a SIGCHLD handler, or SIGCHLD ignored)
                os.close(self.pipe)

    def _forked_compile(split: tuple, entry_args: tuple) -> None:
        """Compile the entry's call tree in two processes, before the entry itself compiles.

        This process forks one that compiles `split[1]`'s functions while it compiles
        `split[0]`'s (`compile_split`), then waits for its results: each function it compiled,
        as numba's cache keeps a compile (its library's module as bitcode, optimised but not
        yet machine code, its descriptor, environment and signature), installed into this
        process's dispatchers (`_install_forked`). The entry's compile then finds them compiled.
        The results are taken at that one point, never earlier or later, so which process
        compiled what never depends on timing. A function both compiled is kept once, this
        process's copy; the forked copies of its callers call it.

        Nothing changes when the child fails, dies or takes too long (`FORK_TIMEOUT`): this
        process then compiles that part itself, in the entry's compile, which raises any error as
        it would have. An error here is left to the entry's compile too (numba raises a failed
        compile's error again)."""
        global _llvm_worker_wanted
        here = [_split_signature(item, entry_args) for item in split[0]]
        forked = [_split_signature(item, entry_args) for item in split[1]]
        # two processes now use both cores: no LLVM thread (`_llvm_worker`) besides, here or there
        _llvm_worker_wanted = False
        known = {id(o): o for o in gc.get_objects() if issubclass(type(o), _CodeLibrary)}  # not a proxy
        before = _machine_overloads()
        read, write = os.pipe()
        gc.freeze()  # the child's collections then leave the parent's objects (and pages) alone
        try:
            pid = os.fork()
        except Exception:  # noqa: BLE001 - no fork (OSError; Python 3.12's warning about threads, as an error): compile here
            gc.unfreeze()
            os.close(read)
            os.close(write)
            return
        if pid == 0:
            _run_child(read, write, here, forked, before, set(known))
        gc.unfreeze()
        os.close(write)
        child = _ForkedChild(pid, read)
        try:
            started = time.monotonic()
            for func, args in here:
                try:
                    _compile_for_call(func, args)
                except Exception:  # noqa: BLE001 - the entry's compile raises it (see above)
                    return
            own = time.monotonic() - started
            results = child.results(min(FORK_TIMEOUT, max(FORK_WAIT_MIN, 2 * own)))
            if results is not None:
                try:
                    _install_forked(results, known)
                except Exception:  # noqa: BLE001, S110 - nothing installed: compiled here instead
                    pass
        finally:
            child.close()

    _typing_only = False  # in the forked process, while it types what the compiling one compiles

    def _run_child(read: int, write: int, here: list, forked: list, before: set, known: set) -> None:
        """The forked process: type `here` (what the compiling process compiles: the callees it
        shares with `forked` are then known, and not compiled again here), compile `forked`, send
        the results down `write` and exit (never returning into the caller's frames, and without
        flushing output the parent had buffered)."""
        global _typing_only
        code = 1
        try:
            os.close(read)
            _bytecode.FunctionIdentity._unique_ids = itertools.count(
                next(_bytecode.FunctionIdentity._unique_ids) + _FORKED_UID_OFFSET)
            with warnings.catch_warnings(record=True):  # the compiling process warns for these
                _typing_only = True
                for func, args in here:
                    _compile_for_call(func, args)
                _typing_only = False
            with warnings.catch_warnings(record=True) as caught:  # it warns for these too, later
                for func, args in forked:
                    _compile_for_call(func, args)
            results = _child_results(before, known, [(w.message, w.category, w.filename, w.lineno) for w in caught])
            data = pickle.dumps(results, protocol=pickle.HIGHEST_PROTOCOL)
            view = memoryview(len(data).to_bytes(8, "little") + data)
            while view:
                view = view[os.write(write, view):]
            code = 0
        except BaseException:  # noqa: BLE001, S110 - the parent compiles this part itself
            pass
        finally:
            os._exit(code)

    def _child_results(before: set, known: set, warned: list) -> tuple:
        """What the forked process compiled, for `_install_forked`: (functions, libraries,
        warnings). A function is (dispatcher's place, argument types, descriptor, environment,
        signature, its library's place, or None for one only typed there); a library is (name,
        bitcode, the libraries it links, or None for one sent whole). A linked library is named
        by what the parent can find it by: ("m", place, argument types) for a machine function's,
        ("k", id) for one that existed before the fork, ("s", place) for another one sent along
        (an `@overload`'s, its callees linked in)."""
        owner = {}
        for i, d in enumerate(_machine_dispatchers):
            for args, cres in d.overloads.items():
                owner[id(cres.library)] = (i, args)
        libraries: list = []
        places: dict = {}

        def send(library, links) -> int:
            if id(library) not in places:
                places[id(library)] = len(libraries)
                libraries.append([library._name, library._final_module.as_bitcode(), None])
                if links is not None:
                    libraries[places[id(library)]][2] = [ref(callee) for callee in links]
            return places[id(library)]

        def ref(library) -> tuple:
            if id(library) in owner:
                return ("m", *owner[id(library)])
            if id(library) in known:
                return ("k", id(library))
            return ("s", send(library, None))

        functions = []
        for i, d in enumerate(_machine_dispatchers):
            for args, cres in d.overloads.items():
                if (i, args) not in before:
                    fndesc = cres.fndesc
                    fndesc.typemap = fndesc.calltypes = None  # as numba's cache: not needed, not picklable
                    library = cres.library
                    place = None if library._typed_only else send(library, library._linking_libraries)
                    functions.append((i, args, fndesc, cres.environment, cres.signature, place))
        return functions, libraries, warned

    class _ForkedLibrary(_LinkOnlyLibrary):
        """A link-only library compiled in the forked process (`_forked_compile`): its module,
        optimised there per function, read back from bitcode."""

        def __init__(self, codegen, name, module):
            super().__init__(codegen, name, module)
            self._finalize_dynamic_globals()
            self._finalized = True

    _UID = re.compile(r"B[0-9]+v[0-9]+B")  # numba's count in a symbol name (an ABI tag `v<count>`)

    def _uid_free(text: str) -> str:
        return _UID.sub("BvB", text)

    def _same_overloads(sent: list, renamed: dict) -> dict:
        """The forked process's `@overload` libraries (sent whole, as bitcode) that this process
        holds too, as {place: this process's library}; `renamed` gets their functions' names.

        Both processes compile the same `@overload` implementations for the calls they share
        (`int`, `min`, `max` on the same types), each under its own count in the names. A sent
        library is the same as one of this process's (linked by a machine function compiled
        here) when every function it defines has the same code, names' counts aside: its
        callers then call this process's, and the entry links one copy, as without the fork."""
        ours = {}  # a function's name, count aside -> (its library, its name, its code, counts aside)
        for d in _machine_dispatchers:
            for cres in d.overloads.values():
                for library in cres.library._linking_libraries:
                    if not isinstance(library, _LinkOnlyLibrary):
                        for fn in library._final_module.functions:
                            if not fn.is_declaration:
                                ours.setdefault(_uid_free(fn.name), (library, fn.name, fn))
        same = {}
        for place, (_, bitcode, links) in enumerate(sent):
            if links is not None:
                continue  # a machine function's library
            defined = [fn for fn in _ll.parse_bitcode(bitcode).functions if not fn.is_declaration]
            found = [ours.get(_uid_free(fn.name)) for fn in defined]
            if (defined and None not in found and len({f[0] for f in found}) == 1
                    and all(_uid_free(str(fn)) == _uid_free(str(f[2])) for fn, f in zip(defined, found))):
                same[place] = found[0][0]
                renamed.update((fn.name, f[1]) for fn, f in zip(defined, found))
        return same

    def _install_forked(results: tuple, known: dict) -> None:
        """Install the forked process's compiles (`_child_results`) in this process's dispatchers,
        as `_LinkOnlyLowering` does. A function this process compiled too (or only typed there)
        keeps this process's copy: the forked copies' calls are renamed to it (numba puts a count
        in each symbol name, different in the two processes). Everything is read and checked
        before anything is installed: on a mismatch nothing is, and the entry's compile compiles
        the rest here."""
        functions, sent, warned = results
        for message, category, filename, lineno in warned:
            warnings.warn_explicit(message, category, filename, lineno)
        renamed = {}
        new = {}  # (dispatcher's place, argument types) -> the function, for those this process lacks
        for i, args, fndesc, env, signature, place in functions:
            ours = _machine_dispatchers[i].overloads.get(args)
            if ours is not None:
                renamed[fndesc.mangled_name] = ours.fndesc.mangled_name
            elif place is None:
                return  # only typed there, and not compiled here: `here` and the entry disagree
            else:
                new[(i, args)] = (fndesc, env, signature, place)
        if not new:
            return
        codegen = _machine_dispatchers[next(iter(new))[0]].targetctx.codegen()
        libraries = _same_overloads(sent, renamed)

        def renamed_calls(module):
            for fn in module.functions:
                if fn.is_declaration and fn.name in renamed:
                    fn.name = renamed[fn.name]
            return module

        def library(place: int):
            if place not in libraries:
                name, bitcode, _ = sent[place]
                libraries[place] = _ForkedLibrary(codegen, name, renamed_calls(_ll.parse_bitcode(bitcode)))
            return libraries[place]

        def resolve(link: tuple):
            kind, *where = link
            if kind == "k":
                return known[where[0]]
            if kind == "s":
                return library(where[0])
            ours = _machine_dispatchers[where[0]].overloads.get(where[1])
            return ours.library if ours is not None else library(new[tuple(where)][3])

        links = {place: [resolve(link) for link in sent[place][2]] for *_, place in new.values()}
        for place, linked in links.items():
            library(place)._linking_libraries = linked
        for (i, _), (fndesc, env, signature, place) in new.items():
            dispatcher = _machine_dispatchers[i]
            key = _insert_link_only(dispatcher.targetctx, fndesc, env, library(place))
            dispatcher.add_overload(_compile_result(
                typing_context=dispatcher.targetctx.typing_context, target_context=dispatcher.targetctx,
                entry_point=key, signature=signature, fndesc=fndesc, library=library(place), environment=env,
                objectmode=False, lifted=(), metadata={}, reload_init=[]))

    class _EntryFunctionCompiler(_FunctionCompiler):
        """numba's compiler of an entry: a cold compile (the disk cache missed) of an entry with a
        `compile_split` forks first (`_forked_compile`) when `_fork_wanted`."""

        def compile(self, args, return_type):
            split = _splits.get(self.py_func)
            if split is not None and _memo_depth == 1 and _fork_wanted():
                _forked_compile(split, tuple(args))
            return super().compile(args, return_type)

    class _EntryDispatcher(_Dispatcher):
        """The machine's entry point: compiled into an `_EntryLibrary`."""

        def __init__(self, py_func, locals, targetoptions):
            super().__init__(py_func=py_func, locals=locals, targetoptions=targetoptions,
                             pipeline_class=_EntryCompiler)
            self._compiler = _EntryFunctionCompiler(py_func, self.targetdescr, targetoptions, locals,
                                                    _EntryCompiler)

    class _MachineDispatcher(_Dispatcher):
        """A function of the compiled machine: compiled into its callers only (see
        `_LinkOnlyLibrary`, no wrapper to call it from Python). A call from Python compiles, and
        caches with the machine, a separate ordinary copy (tests call the semantics directly)."""

        def __init__(self, py_func, locals, targetoptions):
            targetoptions = {**targetoptions, "no_cpython_wrapper": True}
            super().__init__(py_func=py_func, locals=locals, targetoptions=targetoptions,
                             pipeline_class=_LinkOnlyCompiler)
            self._python_options = {k: v for k, v in targetoptions.items() if k not in ("no_cpython_wrapper", "inline")}
            self._python_copy = None
            _machine_dispatchers.append(self)

        def __call__(self, *args, **kwargs):
            if self._python_copy is None:
                copy = _Dispatcher(py_func=self.py_func, locals={}, targetoptions=self._python_options,
                                   pipeline_class=_PythonCopyCompiler)
                copy._cache = MachineCache(self.py_func, compile_level())
                self._python_copy = copy
            with optimisation_level():  # compiled (when it is) at the level its cache folder is for
                return self._python_copy(*args, **kwargs)

    def _decorator(cls: type, cached: bool, **options) -> Callable[[F], F]:
        def wrap(func: F) -> F:
            targetoptions = {"nopython": True, "error_model": "numpy", "no_cfunc_wrapper": True, **options}
            disp = cls(py_func=func, locals={}, targetoptions=targetoptions)
            if cached:
                disp._cache = MachineCache(func, compile_level())
            return disp  # type: ignore[return-value]

        return wrap

    from numba.core.datamodel.models import TupleModel as _TupleModel
    from numba.core.typeconv import Conversion as _Conversion
    from numba.extending import lower_cast as _lower_cast
    from numba.extending import register_model as _register_model
    from numba.extending import typeof_impl as _typeof_impl

    class _RecordType(_types.NamedTuple):
        """numba's type of a `jit_record` NamedTuple where it crosses a real call (the entry's
        argument from Python, a `jit_out_of_line` function's): passed one field at a time, as
        numba passes any NamedTuple, so that LLVM drops the fields the callee does not use
        (`_EntryLibrary._internalize`)."""

        def can_convert_to(self, typingctx, other):
            if isinstance(other, _RecordType) and other.key == self.key:
                return _Conversion.safe
            return None

    class _InlineRecordType(_RecordType):
        """numba's type of a `jit_record` NamedTuple passed to a function LLVM inlines: as one
        LLVM value, the struct, instead of its fields one by one: numba took the ~190 fields
        out of the struct at each call and packed them into one again in each callee, IR that
        LLVM only folded away (~15% of the machine's instructions before optimisation)."""

        def __init__(self, types, cls):
            super().__init__(types, cls)
            self.name = "inline " + self.name  # its functions' symbols differ from `_RecordType`'s

    _record_structs: dict = {}  # (record class, member types) -> the record's named LLVM struct

    @_register_model(_RecordType)
    class _RecordModel(_TupleModel):
        """numba's model of a NamedTuple, with a named LLVM struct type (`%"vc6.Machine.0"`)
        instead of the members' types written out in full at every use."""

        def get_value_type(self):
            if self._value_type is None:
                key = self.fe_type.key
                struct = _record_structs.get(key)
                if struct is None:
                    name = f"vc6.{self.fe_type.instance_class.__name__}.{len(_record_structs)}"
                    struct = _record_structs[key] = _ir.global_context.get_identified_type(name)
                    struct.set_body(*[model.get_value_type() for model in self._models])
                self._value_type = struct
            return self._value_type

    @_register_model(_InlineRecordType)
    class _InlineRecordModel(_RecordModel):
        """`_RecordModel` passed as one LLVM argument: the struct itself."""

        def get_argument_type(self):
            return self.get_value_type()

        def as_argument(self, builder, value):
            return value

        def from_argument(self, builder, value):
            return value

    @_lower_cast(_RecordType, _RecordType)
    def _record_cast(context, builder, fromty, toty, value):
        """From one way of passing a record to the other: the same LLVM value."""
        return value

    def _record_parameters(args: tuple, out_of_line: bool) -> tuple:
        """`args` with each record typed for how the callee takes it: `_RecordType` across a real
        call, `_InlineRecordType` into a function LLVM inlines."""
        kind = _RecordType if out_of_line else _InlineRecordType
        return tuple(kind(a.types, a.instance_class) if isinstance(a, _RecordType) else a for a in args)

    def _declare_record_structs(declared: bool) -> None:
        """Put the records' named struct types into llvmlite's process-wide context, or take them
        out again: each module llvmlite writes declares every named type of its context, so
        they are there only while the machine compiles (`_machine_compile`)."""
        named = _ir.global_context.identified_types
        for struct in _record_structs.values():
            if declared:
                named[struct.name] = struct
            else:
                named.pop(struct.name, None)

    def jit_record(cls: type) -> type:
        """Type the NamedTuple class `cls` for numba as the machine's state record: a NamedTuple
        passed whole into the functions LLVM inlines and field by field across real calls
        (`_RecordType`, `_InlineRecordType`). Registers numba's types for `cls` only."""

        @_typeof_impl.register(cls)
        def typeof_record(value, context):
            members = tuple(_typeof_impl(v, context) for v in value)
            return None if None in members else _RecordType(members, cls)

        return cls

    JIT_ENABLED = True
    _OUT_OF_LINE: set = set()  # functions of `jit_out_of_line`
    _NOALIAS: set = set()  # ... of which those with noalias array arguments
    _NO_JUMP_TABLES: set = set()  # functions of `jit_lean_dispatch`
    #: The machine's entry point (`machine.run.run`): cached, releases the GIL while it runs.
    jit_entry = _decorator(_EntryDispatcher, cached=True, nogil=True)
    #: Machine functions also called from Python (semantics, fp).
    jit = _decorator(_MachineDispatcher, cached=False, forceinline=True)
    #: The machine's internal functions: without numba's reference counting (array arguments
    #: cost nothing per call).
    jit_lean = _decorator(_MachineDispatcher, cached=False, _nrt=False, forceinline=True)
    #: The small helpers of the fast path: the same as `jit_lean` now that LLVM inlines every
    #: machine function (numba's own `inline="always"` typed every inlined copy again: 4-7 s of
    #: compile for no measurable speed).
    jit_lean_inline = jit_lean

    def jit_lean_dispatch(func: F) -> F:
        """`jit_lean` for an op dispatch LLVM inlines: without jump tables, as `jit_out_of_line`
        (see `_MachineLower`). LLVM gives a caller the attribute of a function it inlines there,
        so the functions it is inlined into (up to the entry) have none either."""
        _NO_JUMP_TABLES.add(func)
        return jit_lean(func)

    def jit_out_of_line(func: F | None = None, *, noalias: bool = False) -> F | Callable[[F], F]:
        """A machine function LLVM keeps as one called function instead of inlining it at its
        call sites: for code off the hot path, whose inlined copies lengthen the compile.

        `noalias` (`@jit_out_of_line(noalias=True)`): the caller promises that no memory the
        function writes through one array argument is read or written through another (C's
        `restrict`; two arguments may still overlap where both are only read). LLVM then
        vectorises lane loops over argument rows without run-time overlap checks."""
        if func is None:
            return functools.partial(jit_out_of_line, noalias=noalias)
        _OUT_OF_LINE.add(func)
        if noalias:
            _NOALIAS.add(func)
        return _decorator(_MachineDispatcher, cached=False, _nrt=False, forceinline=False)(func)
else:
    jit = jit_entry = jit_lean = jit_lean_inline = jit_lean_dispatch = _plain

    def compile_split(entry: F, here: tuple, forked: tuple) -> None:
        """Plain Python: nothing is compiled."""

    def jit_record(cls: type) -> type:
        """Plain Python: the class as it is."""
        return cls

    def jit_out_of_line(func: F | None = None, *, noalias: bool = False) -> F | Callable[[F], F]:
        """Plain Python (as `_plain`), with or without `noalias`."""
        return _plain if func is None else _plain(func)


__all__ = ["JIT_ENABLED", "compile_level", "jit", "jit_entry", "jit_lean", "jit_lean_inline", "optimisation_level"]

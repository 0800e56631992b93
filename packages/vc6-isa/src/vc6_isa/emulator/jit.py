"""The optional-numba decorators of the emulator's compiled machine.

Each decorator compiles a function with numba in nopython mode when numba is importable and
leaves it plain Python otherwise, so the same source runs (slowly) without numba. Set
`VC6_NO_JIT=1` (or numba's `NUMBA_DISABLE_JIT=1`) to force the plain-Python path, e.g. to debug
with pdb or to check that results do not depend on the compiler.

- `jit_entry`: the machine's entry point (`machine.run.run`), the one function Python calls. It
  is compiled with everything it calls into one library, cached on disk (compile_cache.py: one
  user-wide folder per source version) and releases the GIL while it runs.
- `jit_lean` (no reference counting: array arguments cost nothing per call; `jit_lean_inline` is
  the same) and `jit` (the semantics and fp helpers): the machine's other functions. numba normally optimises every function's library with all its callees linked in
  and generates machine code for it, and keeps a wrapper to call it from Python: a helper deep
  in the call tree was optimised and compiled once per level above it. Here they are lowered
  into link-only libraries (`_LinkOnlyLibrary`): LLVM IR that is optimised (inlined across
  functions) and compiled once, inside the entry's build. A call from Python (tests call the
  semantics) compiles and caches an ordinary copy of the function.
- Every decorator types calls with plain argument types (`_Dispatcher`): numba would compile a
  function again for each literal constant its callers pass.
- `jit` and `jit_lean` functions are marked `forceinline` (LLVM's `alwaysinline`): LLVM inlines
  them into their callers, which numba's call convention (every array argument passed as a
  struct of seven fields, a status code per call) otherwise makes expensive and which LLVM's
  own heuristics at level 1 mostly declined. Measured (benchmarks/emulator_speed.py, CPU time):
  dense ALU 5.8 -> 9.3 M thread-instructions/s, TMU-heavy 5.0 -> 12.0, sgemm 1024 19 -> 10.7 s,
  for 5-6 s more compile. numba's own inlining (`inline="always"`, which types every inlined
  copy again) is then not needed: `jit_lean_inline` is `jit_lean`.
- `jit_out_of_line`: a machine function LLVM keeps as one called function (`noinline`), for the
  general issue path (`issue.step`), which the fast path now leaves for only ~0.3% of sgemm's
  instructions. Measured side by side (two pairs, CPU): cold compile 23.3/25.1 -> 20.9/22.5 s,
  sgemm 1024 3.54/3.84 -> 3.43/3.75 s. (Until `_MachineLower`, the `noinline` was added after
  numba had handed the function to LLVM and was lost; LLVM kept `step` out of line by its own
  choice. Now applied: the same machine code.) Re-measured with `noinline` applied (cold compile
  of `vc6-bench sgemm --size 64`, CPU, 8 alternating pairs; sgemm 1024 from
  benchmarks/emulator_speed.py side by side): `threads.start_batch`, `fill_free_slots`,
  `switch_out` and `end_thread` out of line: 20.73 -> 20.75 s mean (no saving), sgemm 1024 not
  slower (3 runs): dropped. The general path's copy of `write_dest` (and with it the TMU lookup)
  out of line behind a wrapper, the fast path's copy still inlined: 20.70 -> 20.04 s (lower in
  7 of 8 pairs), but sgemm 1024 2.75 -> 2.82 s median of 10 (+2.5%; best 2.57 -> 2.64): dropped. `optsize` or `minsize` on `step` as well: 0.3 s / 1.0 s less LLVM time, but the
  add+mul24 shape of benchmarks/emulator_shapes.py (through `step`) took 102.7 / 106.0 ns per
  thread-instruction instead of 94.6 (best of 5 alternating runs each): dropped.
- Out-of-line calls are cheap since `_EntryLibrary` makes the functions linked into the entry
  `internal`: LLVM drops the arguments they do not use and carries constant ones in (`step`
  196 -> 42 arguments; the add+mul24 shape through `step` 96 -> 76 ns). That let the two ALUs'
  dispatch (`ops.add_alu`/`mul_alu`: ~50 vectorised lane loops each, inlined three times, in
  both copies of `fast_step` and in `step`) become one copy each, their lane loops over
  `lanes.scratch_row` views at the callers' constant rows (through `sc[k, i]` the rows depended
  on `sc`'s shape, which LLVM does not see as constant there: mov/and +50%, shl/and +21%; a flat
  `sc.reshape` view: float ops 2x slower), and `tmu.tmu_lookup` one copy (on its own no
  measurable saving). Cold compile 22.6 -> 16.8 s CPU (median of 6 alternating pairs; the
  entry's final optimisation and code generation 6.2 -> 2.3 s); side by side (medians):
  sgemm 1024 2.78 -> 2.63 s (6 runs), TMU-heavy 26.4 -> 31.3 M thread-instructions/s, dense
  ALU 47.8 -> 45.2 M/s (-5%, 5 runs of 100,000 iterations); per instruction
  (benchmarks/emulator_shapes.py) most shapes 0-12% faster, shl and and alternating 18 -> 23 ns
  (+28%; each alone as fast); cycles identical. Measured and
  dropped (LLVM time on the entry's dumped module, 2+ alternating runs): no loop vectoriser
  (-2.8 s, sgemm 1024 +50%); `step` with `noimplicitfloat` (no vectoriser there: -0.7 s before
  the change above, nothing after); `write_dest` out of line everywhere (before: -1.4 s, tmu
  store 60 -> 100 ns; after: -0.1 s); a cheaper per-function pipeline (SROA, instcombine,
  simplifycfg: the final optimisation grew more, +0.7 s); no cheap pre-pass; code generation at
  other levels (level 0: -1.7 s but fast register allocation for all the machine); `mul_alu`
  inlined again (+1 s compile over 3 pairs, dense ALU no faster). shl/and's +28% was that one
  copy's op dispatch: a table jump, mispredicted by alternating ops (53% of `add_alu`'s perf
  samples on the two ops' first instructions; 26% for shl alone). Out-of-line functions now have
  no jump tables (`_MachineLower`); against integ (medians): shl/and 23.7 -> 16.5 ns (3 runs),
  other shapes the same but add+mul24 70.6 -> 72.8 (`step`), sgemm 1024 2.87 -> 2.75 s (5 runs),
  cold compile 17.9 -> 18.5 s CPU (4 pairs, ranges 17.1-23.0 / 16.6-20.9), cycles identical.

`error_model="numpy"`: integer/float division follows numpy (no Python exception checks in the
compiled code); the emulator's code never divides by zero on purpose.

Optimisation level: the machine is compiled at numba's LLVM level `OPT_LEVEL` (numba's default
is 3) unless `NUMBA_OPT` is set; the executor compiles it inside `optimisation_level`, which sets
the level for that block only (nothing is changed on import). The level cannot change results:
numba compiles without fast-math, so LLVM keeps IEEE semantics at every level. numba reads the
level for its optimisation passes at each compile; only its machine-code generator, built once
per process at the first compile, keeps the level it found then.

- `jit_entry` compiles into an `_EntryLibrary`: the machine's final LLVM optimisation is numba's
  pipeline without loop unrolling (see there). Compiles run with `_Flags` (cheaper comparisons
  in numba's cache of typed overloads), and calls of numba's operators, builtins and overloads
  are typed once per argument types and flags while the machine compiles
  (`_memoised_call_type`: the same code, 4-5 s less compile); Python's collector scans its
  oldest generation less often meanwhile (`_machine_compile`: ~2 s less), and the machine's
  pipelines leave out two numba passes it has no use for (`_UNUSED_PASSES`: ~1 s less).

Compile time of the machine on an empty cache (CPU seconds on a 2-core x86-64 host, the first
emulated job; `benchmarks/emulator_speed.py` measures it, `benchmarks/emulator_compile.py` says
where it goes): 37-39 s before the link-only libraries and the other changes above, 23 s after
at the same run speed, 29-31 s with `forceinline`, 25-27 s without numba's inlining. Level 3
compiles 2 s longer and runs no faster; at level 0 the machine runs 40 times slower. Then, side
by side on a loaded host: 33-38 s before, 25-29 s with the entry's pipeline without unrolling,
`_Flags` and the profiler's hooks moved to a second entry point (`machine.run.run_profiled`).
Then 23-25 s -> 16.5-18.4 s (four alternating pairs, same machine code) with typed calls
remembered, fewer full garbage collections and two numba passes left out (see above). Then
20.6-22.6 s -> 16.5-16.8 s with the entry's functions internal and one copy of each ALU's
dispatch (see `jit_out_of_line`). Where the ~16 s go (benchmarks/emulator_compile.py and LLVM's
own timers): LLVM ~4.5 s (per-function optimisation 1.7, the entry's final optimisation 1.3,
code generation 1.1, parsing 0.4), llvmlite writing the IR as text 1.7 s, numba's typing 2.2 s,
lowering ~2.5 s and its other passes ~2.6 s (bytecode 0.9, rewrites 0.4, SSA 0.4, ...).
Tried and dropped (measured): keeping `alu.exec_alu` as a function of its own, and `issue.step`
while 4% of sgemm's instructions still took it (LLVM's loop passes and code generation cost more
than in proportion to a function's size, so this saves 5-7 s, but the call cost sgemm 1024 3-6%
and TMU-heavy code ~10%; `step` is out of line now that the fast path keeps branches); skipping numba's
per-function optimisation before linking (the final optimisation then takes twice as long).

Per-program translation, its ceiling measured before building it (issue 13; throwaway copies of
the machine, sgemm 1024 through `benchmarks/emulator_speed.py`'s `sgemm_rate`, 3 alternating
rounds, M thread-instructions/s, median (range)). `issue.fast_step` took its row's columns as an
argument (`prog[pc]` from the interpreter); a generated function switched on the pc over the 39
fast-path rows of sgemm's inner loop (pc 95-134, 22 of them plain) and called `fast_step` with
each row as a constant tuple, so LLVM folded the columns, the op dispatch and the checks they
decide. Exact (same code as the interpreter, constants folded): 24.7 (23.7-25.9) -> 26.9
(26.1-27.2), +9%. Upper bounds, not exact: the plain rows doing only their operands, ops, results
and four state updates (no checks, ages, counters, previous-write record or budget test): 32.8
(31.6-35.2), +32%; the plain rows doing nothing but those four updates: 41.1 (38.6-41.5), +66%.
So even free plain rows stay under 50 M/s: the data work of a plain fadd+fmul row (~10 ns:
operand and result rows copied through `sc`, already AVX-512 code) and the TMU path are the
larger costs, and a translation cannot remove either without a second copy of the semantics.
Cost: the 39 rows compiled into the machine added 27-32 s CPU to the cold compile (20.5/22.4 ->
47.4/54.5 s, two alternating pairs), ~0.75 s per translated row, because LLVM inlines each row's
whole `fast_step` (with the op dispatch of every op) before it folds the constants: sgemm's 305
fast-path rows would take ~4 min, the inner loop alone ~30 s, against ~0.25 s saved per sgemm
1024. Not built (the design it would have needed: the cached entry calling per-program code
through a function pointer taken from the program's compiled library, compiled in a thread
while the interpreter runs the job). Part of the upper bound's gain the interpreter has without
translation: `issue.fast_run` checks the delay slots (SFU, thread switch, thread end) and reads
the QPU and the thread mode once per stretch instead of once per instruction: sgemm 1024 26.1
(23.9-27.8) -> 28.8 (27.0-29.3) M/s, faster in 8 of 8 alternating pairs; TMU-heavy 24-28 ->
32-35 M/s (2 runs); per thread-instruction (benchmarks/emulator_shapes.py, 2 runs) nop 11.5-12.9
-> 10.9-11.1 ns, fadd+fmul 23.3-24.8 -> 21.6-22.5, a TMU load with its ldtmu 41.6-42.0 ->
37.8-38.6, a gather 86.6-89.0 -> 82.3-83.6; cold compile unchanged (21.3 and 21.3 s CPU side by
side; 23.9/23.6/23.9 -> 21.9/25.1/22.9 in alternating pairs). Tried with it and dropped: adding the counters nothing reads during a stretch
(instructions, busy cycles, thread-switch age) once per stretch: the same speed as adding them
per instruction (sgemm 1024 medians 28.4 and 28.5 M/s over 6 alternating pairs, the shapes the
same); then also the thread-end age, the issue cycles and the cycle budget once per stretch:
sgemm 1024 28.7 -> 29.4 M/s over 10 pairs (faster in 6), dense ALU and TMU-heavy unchanged.

sgemm's non-plain rows (issue 13; 17 of the inner loop's 39: 4 TMU lookups, 5 ldtmu, 8 ldunifa).
perf over the entry's machine code (its bytes dumped at exit, samples by address): the TMU lookup
code ~20% of the samples, of which the B gather's host load alone ~6% and the cycle model's
bookkeeping (L2T, calendars, queue) the rest, spread thin; the unifa word's host load ~2%; the
fast path's copies and the ops the rest. benchmarks/emulator_shapes.py, ns per
thread-instruction: the general copy of `issue.fast_step` cost ~5 ns more than the plain one for
the same row (every row forced onto it: nop 9.4 -> 14.8, fadd+fmul 19.7 -> 24.3), and an
ldunifa ~9 ns over the same row without it, of which the uniform word's read, the flag update's
checks and the unifa line fetch (0.8 ns) were each under a nanosecond (throwaway copies without
them). Kept: rows whose only signal is a load (or smimm, `layout.PLAIN_SIGNALS`) take the plain
copy (35 of the 39 rows): ldunifa 18.0-18.4 -> 15.2, fadd+fmul+ldunifa 29.6-30.4 -> 26.1-26.6,
a TMU load with its ldtmu 36.8-38.7 -> 34.3-36.0, fadd+fmul the same, nop 9.4-10.1 -> 10.7-10.9
(2 alternating runs); sgemm 1024 (benchmarks/emulator_speed.py side by side, 6 runs, M/s,
median (range)): 30.9 (29.8-31.2) -> 31.2 (30.2-32.7), faster in 4; with the loads' work under
one test (the final form) 29.8 (20.5-31.1) -> 30.7 (29.0-31.5), faster in 4; two rounds of 8
alternating sgemm-only runs 28.6 -> 29.6 and 28.2 -> 28.2: a gain of 0-3%, at the noise level of
this shared host; TMU-heavy 34.4-34.6 -> 35.6-36.4 (medians of 6, two rounds); dense ALU within
the noise (300,000 iterations, 4 runs: 44.6 -> 48.0); cold compile unchanged (19.2/17.9 ->
18.2/19.1 s CPU, 2 alternating pairs). Also kept, each within the noise
alone (4 alternating sgemm runs): ldtmu's FIFO row copied straight into its register (not through
a scratch row) when the instruction writes no TMU register, `tmu.count_lines` without a lane scan
for one line, `memory_model.cal_book`'s window slide without a division when it slides by at
most a window.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import os
import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

import numpy as np

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
    from numba import _dynfunc
    from numba.core import config as _numba_config
    from numba.core import funcdesc as _funcdesc
    from numba.core import types as _types
    from numba.core.codegen import JITCodeLibrary as _JITCodeLibrary
    from numba.core.codegen import _parse_refprune_flags
    from numba.core.compiler import Compiler as _Compiler
    from numba.core.compiler import DefaultPassBuilder as _DefaultPassBuilder
    from numba.core.compiler import Flags as _NumbaFlags
    from numba.core.compiler import _LowerResult
    from numba.core.compiler_lock import global_compiler_lock as _numba_compiler_lock
    from numba.core.compiler_lock import (
        require_global_compiler_lock as _require_compiler_lock,
    )
    from numba.core.compiler_machinery import LoweringPass as _LoweringPass
    from numba.core.compiler_machinery import register_pass as _register_pass
    from numba.core.dispatcher import _FunctionCompiler as _NumbaFunctionCompiler
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

    #: Python's threshold for its oldest generation of garbage collection while the machine compiles.
    _GC_OLDEST_THRESHOLD = 100

    @contextlib.contextmanager
    def _machine_compile() -> Iterator[None]:
        """The settings of a machine compile, for the block (the compile; numba compiles callees
        inside their callers' compiles, the settings hold until the outermost one ends):

        - calls of numba's functions are typed by `_memoised_call_type`;
        - Python's garbage collector scans its oldest generation about ten times less often
          (`_GC_OLDEST_THRESHOLD` instead of Python's 10 collections of the middle one): the
          compile builds ~300,000 lasting objects (numba's IR, types and compile results), and
          the ~15 full collections they set off took ~3 s of the ~20 s compile; now one or two,
          for ~50 MB more peak memory (turning the collector off saved ~0.5 s more, for ~170 MB).
          What the compiler produces does not depend on when garbage is collected.

        Under numba's compiler lock, so no other thread compiles meanwhile; numba's typing and the
        collector's thresholds are back, and the memo empty, when the outermost block ends.
        """
        global _memo_depth
        _require_compiler_lock()
        if _memo_depth == 0:
            _types.Function.get_call_type = _memoised_call_type
            thresholds = gc.get_threshold()
            gc.set_threshold(*thresholds[:2], max(thresholds[2], _GC_OLDEST_THRESHOLD))
        _memo_depth += 1
        try:
            yield
        finally:
            _memo_depth -= 1
            if _memo_depth == 0:
                if _function_own_call_type is None:
                    del _types.Function.get_call_type  # inherited from numba's BaseFunction again
                else:
                    _types.Function.get_call_type = _function_own_call_type
                _call_types.clear()
                gc.set_threshold(*thresholds)

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
            args = tuple(_types.unliteral(a) for a in args)
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
        """

        def finalize(self):
            _require_compiler_lock()
            self._raise_if_finalized()
            seen = set()
            for library in self._linking_libraries:
                if library not in seen:
                    seen.add(library)
                    self._reload_init.update(library._reload_init)
                    self._final_module.link_in(library._get_module_for_linking(), preserve=True)
            self._finalize_dynamic_globals()
            self._finalized = True

        def get_pointer_to_function(self, name):
            self._ensure_finalized()
            return 0  # no machine code here: numba's answer for "no such symbol"

    def _machine_pass_builder(codegen):
        """numba's LLVM pass pipeline (its level and vectorisation settings) without loop
        unrolling: see `_EntryLibrary`."""
        pto = _ll.create_pipeline_tuning_options()
        pto.speed_level = int(_numba_config.OPT)
        pto.loop_vectorization = bool(_numba_config.LOOP_VECTORIZE)
        pto.slp_vectorization = bool(_numba_config.SLP_VECTORIZE)
        pto.loop_unrolling = False
        return _ll.create_pass_builder(codegen._tm, pto)

    class _EntryLibrary(_JITCodeLibrary):
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
            record `m` alone is ~190 fields): `step` from 196 arguments to 42."""
            for fn in self._final_module.functions:
                if not fn.is_declaration and fn.name not in self._own_functions:
                    fn.linkage = "internal"

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

    @_register_pass(mutates_CFG=False, analysis_only=False)
    class _EntryLibraryPass(_LoweringPass):
        _name = "vc6_entry_library"

        def __init__(self):
            _LoweringPass.__init__(self)

        def run_pass(self, state):
            if state.library is None:
                state.library = _EntryLibrary(state.targetctx.codegen(), state.func_id.func_qualname)
                state.library.enable_object_caching()
            return True

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
            if self.func_ir.func_id.func in _OUT_OF_LINE:
                self.function.attributes.add("noinline")
                set.add(self.function.attributes, '"no-jump-tables"="true"')

    @_register_pass(mutates_CFG=False, analysis_only=True)
    class _LinkOnlyLowering(_LoweringPass):
        """numba's lowering (`NativeLowering`) into a `_LinkOnlyLibrary`, without making the
        function callable from Python: callers find it under a key of its own."""

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
            with state.targetctx.push_code_library(library):
                lower = _MachineLower(state.targetctx, library, fndesc, state.func_ir, metadata=state.metadata)
                lower.lower()
            # numba keys a compiled version on its Python-callable function object; this one has
            # no machine code (address 0) and is never called: `_MachineDispatcher.__call__`
            # compiles an ordinary copy for calls from Python
            key = _dynfunc.make_function(fndesc.lookup_module(), fndesc.qualname.split(".")[-1],
                                         "link-only (no machine code)", 0, lower.env, (library,))
            state.targetctx.insert_user_function(key, fndesc, [library])
            state["cr"] = _LowerResult(fndesc, lower.call_helper, cfunc=key, env=lower.env)
            return True

    class _LinkOnlyCompiler(_Compiler):
        def define_pipelines(self):
            pm = _machine_pipeline(self.state)
            i = [p for p, _ in pm.passes].index(_NativeLowering)
            pm.passes[i] = (_LinkOnlyLowering, "lowering into a link-only library")
            pm.finalize()
            return [pm]

    class _EntryDispatcher(_Dispatcher):
        """The machine's entry point: compiled into an `_EntryLibrary`."""

        def __init__(self, py_func, locals, targetoptions):
            super().__init__(py_func=py_func, locals=locals, targetoptions=targetoptions,
                             pipeline_class=_EntryCompiler)

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

        def __call__(self, *args, **kwargs):
            if self._python_copy is None:
                copy = _Dispatcher(py_func=self.py_func, locals={}, targetoptions=self._python_options)
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

    JIT_ENABLED = True
    _OUT_OF_LINE: set = set()  # functions of `jit_out_of_line`
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

    def jit_out_of_line(func: F) -> F:
        """A machine function LLVM keeps as one called function instead of inlining it at its
        call sites: for code off the hot path, whose inlined copies lengthen the compile."""
        _OUT_OF_LINE.add(func)
        return _decorator(_MachineDispatcher, cached=False, _nrt=False, forceinline=False)(func)
else:
    jit = jit_entry = jit_lean = jit_lean_inline = jit_out_of_line = _plain


__all__ = ["JIT_ENABLED", "compile_level", "jit", "jit_entry", "jit_lean", "jit_lean_inline", "optimisation_level"]

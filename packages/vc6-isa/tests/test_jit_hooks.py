"""jit.py's hooks into numba's compiler (numba 0.68.x): what they change, and that it ends with
the compile."""

import gc
import inspect
import operator
import os
import subprocess
import sys
import textwrap
import threading
from types import FunctionType
from typing import NamedTuple

import numpy as np
import pytest

pytest.importorskip("numba")

import llvmlite.binding as ll
from llvmlite import ir as llvm_ir
from numba.core import base as numba_base
from numba.core import types
from numba.core.base import BaseContext
from numba.core.compiler_lock import global_compiler_lock
from numba.core.registry import cpu_target
from numba.core.targetconfig import ConfigStack
from vc6_isa.emulator import jit

needs_numba = pytest.mark.skipif(not jit.JIT_ENABLED, reason="numba is not installed (or VC6_NO_JIT is set)")


def _max_of_three(a, b):
    return max(a, b) + max(b, a) + max(a, b)


@needs_numba
def test_a_call_of_a_numba_function_is_typed_once_per_argument_types_and_only_while_compiling(monkeypatch):
    typed = []
    numba_typing = jit._numba_function_call_type
    gc_thresholds = []

    def counting(self, context, args, kws):
        typed.append((self.typing_key, tuple(args)))
        gc_thresholds.append(gc.get_threshold())
        return numba_typing(self, context, args, kws)

    monkeypatch.setattr(jit, "_numba_function_call_type", counting)
    before = gc.get_threshold()
    compiled = jit._Dispatcher(py_func=_max_of_three, locals={}, targetoptions={"nopython": True})
    assert compiled(3, 5) == 15
    assert typed.count((max, (types.int64, types.int64))) == 1  # three calls, one typing
    # the youngest and oldest generations of garbage are collected less often while the machine
    # compiles
    assert gc_thresholds[0] == (max(before[0], jit._GC_YOUNG_THRESHOLD), before[1],
                                max(before[2], jit._GC_OLDEST_THRESHOLD))
    # after the compile: numba's own typing and lookups, nothing remembered, the collector as it was
    assert "get_call_type" not in types.Function.__dict__
    assert BaseContext.get_function is jit._numba_get_function
    assert numba_base._has_loc is jit._numba_has_loc
    assert llvm_ir.Type._get_ll_global_value_type is jit._numba_global_value_type
    assert not (jit._call_types or jit._missing_functions or jit._has_loc_answers or jit._global_value_types)
    assert jit._memo_depth == 0
    assert gc.get_threshold() == before


@needs_numba
def test_a_type_size_is_asked_of_llvm_once_per_type_while_compiling(monkeypatch):
    """numba asks LLVM a type's size by parsing a module holding a global of it: once per type
    while the machine compiles, with LLVM's answer."""
    parsed = []
    numba_type = jit._numba_global_value_type

    def counting(self, target_data, context=None):
        parsed.append(str(self))
        return numba_type(self, target_data, context)

    monkeypatch.setattr(jit, "_numba_global_value_type", counting)
    context = cpu_target.target_context
    row = llvm_ir.LiteralStructType([llvm_ir.IntType(64), llvm_ir.ArrayType(llvm_ir.IntType(32), 16)])
    expected = context.get_abi_sizeof(row)  # numba's own answer: one parse
    with global_compiler_lock, jit._machine_compile():
        sizes = [context.get_abi_sizeof(row) for _ in range(3)]
        sizes.append(context.get_abi_sizeof(llvm_ir.LiteralStructType(list(row.elements))))  # an equal type
    assert sizes == [expected] * 4 == [72] * 4
    assert parsed == [str(row)]  # four questions in the compile, one module parsed


@needs_numba
def test_a_missing_named_lowering_rereads_the_registries_once_per_compile(monkeypatch):
    """numba re-reads every registry of lowerings (`refresh`) when it lacks a lowering; a named
    one (numba's array code asks for `__array__` of plain arrays, which have none) is remembered
    as missing while the machine compiles, with numba's error each time."""
    refreshes = []
    numba_refresh = BaseContext.refresh

    def counting(self):
        refreshes.append(self)
        return numba_refresh(self)

    monkeypatch.setattr(BaseContext, "refresh", counting)
    context = cpu_target.target_context
    array = types.float32[:]
    signature = array(array)
    with global_compiler_lock, jit._machine_compile():
        for _ in range(3):
            with pytest.raises(NotImplementedError, match="__array__"):
                context.get_function("__array__", signature)
        assert len(refreshes) == 1
        context.get_function(operator.add, types.int64(types.int64, types.int64))  # others as numba's
    refreshes.clear()
    with pytest.raises(NotImplementedError, match="__array__"):
        context.get_function("__array__", signature)  # after the compile: numba's lookup again
    assert len(refreshes) == 1


@needs_numba
def test_whether_a_lowering_takes_loc_is_read_once_per_implementation_while_compiling(monkeypatch):
    read = []

    def counting(fn):
        read.append(fn)
        return "loc" in inspect.signature(fn).parameters

    def with_loc(context, builder, sig, args, loc=None):
        return None

    def without_loc(context, builder, sig, args):
        return None

    monkeypatch.setattr(jit, "_numba_has_loc", counting)
    with global_compiler_lock, jit._machine_compile():
        answers = [numba_base._has_loc(fn) for fn in (with_loc, without_loc) * 3]
    assert answers == [True, False] * 3
    assert read == [with_loc, without_loc]


@needs_numba
def test_a_remembered_call_records_the_implementation_of_its_own_flags():
    """numba keeps one implementation per signature on the function type (`_impl_keys`), set by
    every typing: a call typed again under other flags (an `@overload` such as `max` compiled
    with and without reference counting) must get back the implementation of its own flags."""
    context = cpu_target.typing_context
    context.refresh()
    function = context.resolve_value_type(max)
    args = (types.int64, types.int64)
    lean, counted = jit._Flags(), jit._Flags()
    lean.nrt, counted.nrt = False, True
    implementation = {}
    with global_compiler_lock, jit._machine_compile():
        for flags in (lean, counted, lean, counted):
            with ConfigStack().enter(flags):
                signature = function.get_call_type(context, args, {})
            key = function.get_impl_key(signature)
            assert implementation.setdefault(flags.nrt, key) is key
    assert implementation[False] is not implementation[True]


def _sum_twice(a, b):
    def twice(x):
        return 2 * x

    return twice((a + b * 2).sum())  # an inner function and an array expression


@needs_numba
def test_the_machine_pipelines_leave_out_the_unused_passes_and_still_compile_what_they_handled():
    state = type("State", (), {"flags": jit._Flags(), "func_ir": None})()
    passes = [p for p, _ in jit._machine_pipeline(state).passes]
    assert not set(jit._UNUSED_PASSES) & set(passes)
    callee = jit.jit(_sum_twice)  # a machine function: link-only, through the machine pipeline

    def entry(a, b):
        return callee(a, b)

    compiled = jit._EntryDispatcher(py_func=entry, locals={}, targetoptions={"nopython": True})
    a, b = np.arange(4.0), np.ones(4)
    assert compiled(a, b) == 2 * (a + b * 2).sum() == 28.0


def _second_row_at(rows, i):
    return rows[1][i]


def _entry_with_an_out_of_line_callee():
    """An entry calling one `jit_out_of_line` function twice, compiled: (library, the callee's
    function in the library's final module, every function the library defines)."""
    callee = jit.jit_out_of_line(_second_row_at)

    def entry(rows, i):
        return callee(rows, i) + callee(rows, i + 1)

    compiled = jit._EntryDispatcher(py_func=entry, locals={}, targetoptions={"nopython": True})
    rows = (np.arange(4.0), np.arange(10.0, 14.0), np.zeros(3))
    assert compiled(rows, 1) == 23.0
    (library,) = [result.library for result in compiled.overloads.values()]
    defined = [f for f in library._final_module.functions if not f.is_declaration]
    (kept,) = [f for f in defined if "_second_row_at" in f.name]  # out of line: not inlined
    return library, kept, defined


@needs_numba
def test_the_entry_keeps_its_machine_functions_private_and_they_lose_their_unused_arguments():
    """`_EntryLibrary` makes every function linked into the entry `internal`, so LLVM drops the
    arguments an out-of-line function does not use (numba passes each field of each array)."""
    library, kept, defined = _entry_with_an_out_of_line_callee()
    assert kept.linkage == ll.Linkage.internal
    # numba's convention passes the three arrays as 21 fields; the callee reads one pointer
    assert len(list(kept.arguments)) < 8
    own = [f for f in defined if f.name in library._own_functions]
    assert own and all(f.linkage != ll.Linkage.internal for f in own)


# An entry compiled first, then a machine function called from Python that calls the same
# out-of-line function: its ordinary copy links that function under the same symbol name
_ENTRY_THEN_PYTHON_COPY = textwrap.dedent("""
    import numpy as np
    from vc6_isa.emulator import jit

    def second_row_at(rows, i):
        return rows[1][i]

    callee = jit.jit_out_of_line(second_row_at)

    def entry(rows, i):
        return callee(rows, i) + callee(rows, i + 1)

    def from_python(rows, i):
        return callee(rows, i)

    machine = jit._EntryDispatcher(py_func=entry, locals={}, targetoptions={"nopython": True})
    rows = (np.arange(4.0), np.arange(10.0, 14.0), np.zeros(3))
    print(machine(rows, 1), jit.jit(from_python)(rows, 2))
""")


@needs_numba
def test_a_python_copy_calls_its_own_copy_of_a_function_the_entry_made_private(tmp_path):
    """The entry's private copy of an out-of-line function (fewer arguments) is renamed
    (`_EntryLibrary._internalize`): under its own name, LLVM's JIT linker bound the weak copy
    linked into a later library to it, and the call crashed (issue 13: `memory.load_uniform`
    after a job). In a subprocess, so that a crash fails this test only."""
    _, kept, _ = _entry_with_an_out_of_line_callee()
    assert kept.name.endswith(jit.ENTRY_COPY_SUFFIX)
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    run = subprocess.run([sys.executable, "-X", "faulthandler", "-c", _ENTRY_THEN_PYTHON_COPY], env=env,
                         capture_output=True, text=True, timeout=300, check=False)
    assert (run.returncode, run.stdout.split()) == (0, ["23.0", "12.0"]), run.stderr[-2000:]


@needs_numba
def test_out_of_line_functions_reach_llvm_without_jump_tables():
    """`_MachineLower` puts the string attribute past llvmlite's keyword check: it must still be
    written into the module LLVM compiles (the ALU dispatch's table jump mispredicted
    alternating ops, jit.py), next to `noinline`."""
    _, kept, _ = _entry_with_an_out_of_line_callee()
    attributes = " ".join(bytes(a).decode() for a in kept.attributes).split()  # one group string
    assert '"no-jump-tables"="true"' in attributes
    assert "noinline" in attributes


def _add_rows_noalias(a, b, res):
    for i in range(16):
        res[i] = a[i] + b[i]


def _add_rows_plain(a, b, res):
    for i in range(16):
        res[i] = a[i] + b[i]


def _pick_op(op, x):
    # a switch LLVM turns into a jump table unless told not to
    if op == 0:
        return x + 3
    elif op == 1:
        return x * 5
    elif op == 2:
        return x - 7
    elif op == 3:
        return x ^ 11
    elif op == 4:
        return x << 2
    elif op == 5:
        return x | 13
    return x


def _compiled_entry(entry, *args):
    """Compile `entry` as the machine's entry for `args`: every function its library defines."""
    compiled = jit._EntryDispatcher(py_func=entry, locals={}, targetoptions={"nopython": True})
    compiled(*args)
    (library,) = [result.library for result in compiled.overloads.values()]
    return [f for f in library._final_module.functions if not f.is_declaration]


@needs_numba
def test_noalias_out_of_line_functions_reach_llvm_with_noalias_array_arguments():
    """`jit_out_of_line(noalias=True)` (the ALUs' dispatch: ops.py) marks the callee's pointer
    arguments noalias, so LLVM vectorises its lane loops without overlap checks; the plain
    form does not."""
    for noalias, func in ((True, _add_rows_noalias), (False, _add_rows_plain)):
        callee = jit.jit_out_of_line(noalias=True)(func) if noalias else jit.jit_out_of_line(func)

        def entry(rows, callee=callee):
            callee(rows[0], rows[1], rows[2])
            callee(rows[1], rows[0], rows[3])

        rows = np.arange(64, dtype=np.uint32).reshape(4, 16)
        defined = _compiled_entry(entry, rows)
        assert list(rows[2]) == list(rows[3]) == [2 * i + 16 for i in range(16)]
        (kept,) = [f for f in defined if f"{len(func.__name__)}{func.__name__}B" in f.name]  # not the entry
        # the arrays' data pointers, which remain of the arguments once LLVM dropped the unused
        # ones (numba's return pointer comes first and is always noalias)
        pointers = [a for a in list(kept.arguments)[1:] if a.type.is_pointer]
        marked = [a for a in pointers if "noalias" in [bytes(x).decode() for x in a.attributes]]
        assert len(pointers) == 3
        assert len(marked) == (3 if noalias else 0)


@needs_numba
def test_an_inlined_dispatch_leaves_its_callers_without_jump_tables():
    """`jit_lean_dispatch` (the ALUs' inlined dispatch copies) is inlined, and LLVM carries its
    no-jump-tables attribute into the function it lands in, so that switch is no table jump
    there either; a `jit_lean` copy of the same switch leaves the caller's attributes alone."""
    for decorator, expected in ((jit.jit_lean_dispatch, True), (jit.jit_lean, False)):
        # a fresh function object each time: jit.py records the decorated functions
        pick = decorator(FunctionType(_pick_op.__code__, _pick_op.__globals__, _pick_op.__name__))

        def entry(ops, x, pick=pick):
            total = 0
            for op in ops:
                total += pick(op, x)
            return total

        defined = _compiled_entry(entry, np.arange(7), 10)
        assert not [f for f in defined if "8_pick_opB" in f.name]  # inlined
        (top,) = [f for f in defined if "5entryB" in f.name and not f.name.startswith("_ZN7cpython")]
        attributes = " ".join(bytes(a).decode() for a in top.attributes).split()
        assert ('"no-jump-tables"="true"' in attributes) == expected


def _plus_one(x):
    return x + 1


def _chain_of_three():
    """Three machine functions, each calling the next (only): (outer, middle, inner)."""
    inner = jit.jit(_plus_one)

    def middle(x):
        return 2 * inner(x)

    middle = jit.jit(middle)

    def outer(x):
        return middle(x) + 1

    return jit.jit(outer), middle, inner


def _defined(library) -> list[str]:
    return [f.name for f in library._final_module.functions if not f.is_declaration]


@needs_numba
def test_a_call_tree_is_linked_once_by_the_library_that_compiles_it():
    """A link-only library holds only its own function; the entry (and a copy compiled for a
    call from Python) links the whole tree, each function once (`_call_tree`)."""
    outer, middle, inner = _chain_of_three()

    def entry(x):
        return outer(x)

    compiled = jit._EntryDispatcher(py_func=entry, locals={}, targetoptions={"nopython": True})
    assert compiled(3) == 2 * 4 + 1
    (library,) = [result.library for result in compiled.overloads.values()]
    (outer_library,) = [result.library for result in outer.overloads.values()]
    assert [name for name in _defined(outer_library) if "_plus_one" in name or "middle" in name] == []
    tree = jit._call_tree(library._linking_libraries)
    assert len(tree) == len(set(tree)) and {outer_library} <= set(tree)
    assert {lib for disp in (middle, inner) for lib in (r.library for r in disp.overloads.values())} <= set(tree)
    assert outer(3) == 2 * 4 + 1  # the ordinary copy for Python links the tree too


class _Rows(NamedTuple):
    """A small state record for the tests below (as `machine.state.Machine`)."""

    a: np.ndarray
    b: np.ndarray


_Rows = jit.jit_record(_Rows) if jit.JIT_ENABLED else _Rows


def _sum_inline(rows, i):
    return rows.a[i] + rows.b[i]


def _difference_out_of_line(rows, i):
    return rows.a[i] - rows.b[i]


@needs_numba
def test_a_record_goes_whole_into_inlined_functions_field_by_field_across_real_calls():
    """`jit_record`: an inlined function takes the record as one LLVM argument (its struct), an
    out-of-line one field by field (so LLVM can drop the fields it does not use); the record's
    named LLVM type is in llvmlite's process-wide context only while the machine compiles."""
    inline = jit.jit_lean(_sum_inline)
    out_of_line = jit.jit_out_of_line(_difference_out_of_line)

    def entry(rows):
        return inline(rows, 1) * 1000 + out_of_line(rows, 2)

    rows = _Rows(np.arange(4, dtype=np.int64) * 10, np.arange(4, dtype=np.int64))
    compiled = jit._EntryDispatcher(py_func=entry, locals={}, targetoptions={"nopython": True})
    assert compiled(rows) == 11 * 1000 + 18
    (inline_sig,) = [result.signature for result in inline.overloads.values()]
    (out_sig,) = [result.signature for result in out_of_line.overloads.values()]
    assert type(inline_sig.args[0]) is jit._InlineRecordType
    assert type(out_sig.args[0]) is jit._RecordType
    call_conv = cpu_target.target_context.call_conv
    # numba's return pointer and exception pointer, then the record and the index
    assert len(call_conv.get_function_type(inline_sig.return_type, inline_sig.args).args) == 4
    # the record's 2 arrays as 7 fields each (shape and strides of one dimension)
    assert len(call_conv.get_function_type(out_sig.return_type, out_sig.args).args) == 2 + 14 + 1
    assert not [name for name in llvm_ir.global_context.identified_types if name.startswith("vc6.")]


def _llvm_worker_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "vc6-llvm"]


def _compile_a_chain_recording_threads(monkeypatch) -> list[threading.Thread]:
    """Compile an entry calling `_chain_of_three` (and check its result): the thread that ran
    each link-only library's parse and optimisation."""
    ran_on = []
    numba_add = jit._LinkOnlyLibrary._add_ir_text

    def recording(self, text, name):
        ran_on.append(threading.current_thread())
        return numba_add(self, text, name)

    monkeypatch.setattr(jit._LinkOnlyLibrary, "_add_ir_text", recording)
    outer, _, _ = _chain_of_three()

    def entry(x):
        return outer(x)

    compiled = jit._EntryDispatcher(py_func=entry, locals={}, targetoptions={"nopython": True})
    assert compiled(3) == 2 * 4 + 1
    return ran_on


@needs_numba
def test_a_link_only_function_is_parsed_and_optimised_on_the_llvm_worker_which_ends_with_the_compile(monkeypatch):
    """`_LinkOnlyLibrary` queues LLVM's parse and optimisation of its module on `_llvm_worker`
    (while the compiling thread goes on in Python) when a core is idle; the worker's thread ends
    with the compile, and the entry links the optimised modules as before."""
    monkeypatch.setattr(jit, "_idle_cores", lambda: 1.2)
    ran_on = _compile_a_chain_recording_threads(monkeypatch)
    assert len(ran_on) == 3 and all(t.name == "vc6-llvm" for t in ran_on)
    assert threading.current_thread() not in ran_on
    assert jit._llvm_worker is None and not _llvm_worker_threads()
    assert llvm_ir.Type.get_abi_size is jit._numba_type_queries["get_abi_size"]
    assert ll.get_process_triple is jit._numba_process_triple
    assert not jit._type_answers


@needs_numba
def test_an_llvm_error_on_the_worker_fails_the_compile_with_that_error_and_leaves_no_thread(monkeypatch):
    """An error in the worker's LLVM work (here, a module LLVM would reject) is raised by the
    compile, as it was when that work ran in the compiling thread; no worker thread is left and
    the next compile works."""

    def failing(self, text, name):
        raise RuntimeError(f"LLVM IR parsing error: {name}")

    monkeypatch.setattr(jit._LinkOnlyLibrary, "_add_ir_text", failing)
    monkeypatch.setattr(jit, "_idle_cores", lambda: 1.2)

    def entry(x):
        return callee(x)

    callee = jit.jit_lean(FunctionType(_plus_one.__code__, _plus_one.__globals__, "_plus_one"))
    compiled = jit._EntryDispatcher(py_func=entry, locals={}, targetoptions={"nopython": True})
    with pytest.raises(RuntimeError, match="LLVM IR parsing error"):
        compiled(3)
    assert jit._llvm_worker is None and not _llvm_worker_threads()
    assert jit._memo_depth == 0
    monkeypatch.undo()
    callee = jit.jit_lean(FunctionType(_plus_one.__code__, _plus_one.__globals__, "_plus_one"))
    compiled = jit._EntryDispatcher(py_func=entry, locals={}, targetoptions={"nopython": True})
    assert compiled(3) == 4


def _count_llvm_size_answers(monkeypatch) -> list[str]:
    """The types LLVM is asked the ABI size of, from now on (filled as it is asked)."""
    asked = []
    llvm_size = ll.TargetData.get_abi_size

    def counting(self, ty):
        asked.append(str(ty))
        return llvm_size(self, ty)

    monkeypatch.setattr(ll.TargetData, "get_abi_size", counting)
    return asked


@needs_numba
def test_a_type_query_is_asked_of_llvm_once_per_type_while_compiling(monkeypatch):
    """numba's ABI sizes and alignments: LLVM's answers, one LLVM call per type in a compile."""
    asked = _count_llvm_size_answers(monkeypatch)
    context = cpu_target.target_context
    row = llvm_ir.LiteralStructType([llvm_ir.IntType(8), llvm_ir.ArrayType(llvm_ir.IntType(64), 3)])
    with global_compiler_lock, jit._machine_compile():
        sizes = [context.get_abi_sizeof(row) for _ in range(3)]
        sizes.append(context.get_abi_sizeof(llvm_ir.LiteralStructType(list(row.elements))))
        alignment = context.get_abi_alignment(row)
    assert sizes == [32] * 4 and alignment == 8
    assert len(asked) == 1  # four questions in the compile, one answer from LLVM


@needs_numba
def test_without_an_idle_core_the_llvm_work_stays_in_the_compiling_thread(monkeypatch):
    """With no idle core (busy cores, or one CPU) a second thread would only cost: no worker."""
    monkeypatch.setattr(jit, "_idle_cores", lambda: 0.6)
    ran_on = _compile_a_chain_recording_threads(monkeypatch)
    assert ran_on == [threading.current_thread()] * 3
    assert jit._llvm_worker is None and not _llvm_worker_threads()


@needs_numba
def test_a_link_only_module_optimises_its_definitions_and_not_its_declarations(monkeypatch):
    """numba built and ran a pass pipeline for every function of a module, declarations too
    (where passes do nothing); `_LinkOnlyLibrary` runs one per defined function only."""
    codegen = cpu_target.target_context.codegen()
    built = []
    numba_manager = type(codegen)._function_pass_manager

    def counting(self, **kwargs):
        built.append(kwargs)
        return numba_manager(self, **kwargs)

    monkeypatch.setattr(type(codegen), "_function_pass_manager", counting)
    module = ll.parse_assembly("""
        declare i64 @first(i64)
        declare i64 @second(i64)
        define i64 @both(i64 %x) {
          %a = call i64 @first(i64 %x)
          %b = call i64 @second(i64 %a)
          %c = add i64 %b, 0
          ret i64 %c
        }
    """)
    with global_compiler_lock:
        library = jit._LinkOnlyLibrary(codegen, "declarations")
        library._optimize_functions(module)
    assert len(built) == 1
    assert "add i64" not in str(module.get_function("both"))  # the one pipeline did run on it


@needs_numba
def test_a_named_struct_size_is_asked_of_llvm_once_per_declaration_while_compiling(monkeypatch):
    """A named struct (the state record's types, declared in llvmlite's context while the machine
    compiles) is remembered by its declaration: one LLVM answer for repeated questions."""
    asked = _count_llvm_size_answers(monkeypatch)
    row = llvm_ir.IdentifiedStructType(llvm_ir.global_context, "vc6.test.row")
    row.set_body(llvm_ir.IntType(8), llvm_ir.ArrayType(llvm_ir.IntType(64), 3))
    monkeypatch.setitem(llvm_ir.global_context.identified_types, row.name, row)  # out again after
    context = cpu_target.target_context
    with global_compiler_lock, jit._machine_compile():
        sizes = [context.get_abi_sizeof(row) for _ in range(3)]
    assert sizes == [32] * 3
    assert len(asked) == 1


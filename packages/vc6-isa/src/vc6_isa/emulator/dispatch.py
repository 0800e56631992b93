"""Generate the machine's op dispatch (`vc6_isa.emulator.machine.ops`) from the ISA table.

Adding an op is one row in `vc6_isa.encoding` plus one function in
`vc6_isa.emulator.semantics`: this module writes, for every op of `ADD_OPS`/`MUL_OPS`
that has a per-lane semantics function, one branch of an `if op == k` chain (with the op's
input unpacks), so the run loop calls the op without any Python-level lookup. Ops that need
machine state (`tidx`, `eidx`, flag reads, `tmuwt`, `multop`/`umul24`, `fdx`/`fdy`,
...) are handled by name in the machine; ops with neither are reported as unsupported when
executed.

The generated module is checked in; after changing the table or the semantics, regenerate it:

    python -m vc6_isa.emulator.dispatch

(a test fails while it is out of date).
"""

from __future__ import annotations

import functools
from pathlib import Path

from .. import encoding
from . import semantics

#: Add ops the run loop implements itself because they need machine state.
STATEFUL_ADD = (
    "nop", "tidx", "eidx", "lr", "vfla", "vflna", "vflb", "vflnb", "msf", "flafirst",
    "flnafirst", "flapush", "flbpush", "flpop", "barrierid", "tmuwt", "setmsf", "setrevf",
    "fdx", "fdy", "recip", "rsqrt", "exp", "log", "sin", "rsqrt2",
)  # fmt: skip
#: ...of which these still get a generated pure branch (the SFU ops: result and C flag only).
PURE_AND_COUNTED = ("recip", "rsqrt", "exp", "log", "sin", "rsqrt2")
STATEFUL_MUL = ("nop", "multop", "umul24")

#: MSF value of a lane that carries an invocation (reference 10.8: nonzero; exact value
#: UNCERTAIN).
MSF_ACTIVE = 1

_HERE = Path(__file__).resolve().parent


def _ident(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name).upper()


def _op_lists() -> tuple[list[str], list[str]]:
    return list(encoding.ADD_OPS), list(encoding.MUL_OPS)


def add_op_ids() -> dict[str, int]:
    """Op name -> the id stored in the program table's P_AOP column."""
    return {name: i for i, name in enumerate(_op_lists()[0])}


def mul_op_ids() -> dict[str, int]:
    return {name: i for i, name in enumerate(_op_lists()[1])}


def _is_generated(name: str, spec, stateful: tuple[str, ...]) -> bool:
    """True when the op gets a branch in the generated add_alu/mul_alu."""
    if semantics.SEMANTICS.get(name) is None or spec.nsrc == 0:
        return False
    if name in stateful and name not in PURE_AND_COUNTED:
        return False
    return not (spec.alu == "mul" and name in STATEFUL_MUL)


@functools.cache
def dispatched_ops() -> tuple[frozenset[str], frozenset[str]]:
    """(add, mul) ops that have a branch in add_alu/mul_alu."""
    add = {n for n, s in encoding.ADD_OPS.items() if _is_generated(n, s, STATEFUL_ADD)}
    mul = {n for n, s in encoding.MUL_OPS.items() if _is_generated(n, s, STATEFUL_MUL)}
    return frozenset(add), frozenset(mul)


@functools.cache
def pure_ops() -> tuple[frozenset[str], frozenset[str]]:
    """(add, mul) ops that add_alu/mul_alu evaluate completely: result and carry from the
    operands alone, no machine state, no counters (the SFU ops count themselves)."""
    add, mul = dispatched_ops()
    return add - set(PURE_AND_COUNTED), mul


#: Scratch rows of `sc` (16 x 16, rows 0-12 in use) for the unpacked f32 inputs.
_UNPACK_ROWS = (13, 14)


def _unpack_first(ids_a: list[int], ids_b: list[int]) -> list[str]:
    """f32 input unpack of the operands into scratch rows before the op's lane loop, so each op
    has one loop, which reads plain bits in the common case (no unpack call per lane).

    The f32 ops read their operands from rows `fa`/`fb` (the operand rows `a`/`b`, or the
    unpacked copies in the scratch rows `_UNPACK_ROWS` of `sc`); the other ops read `a`/`b`."""
    lines = ["    fa = a", "    fb = b"]
    for ids, code, row, src, var in ((ids_a, "aun", _UNPACK_ROWS[0], "a", "fa"), (ids_b, "bun", _UNPACK_ROWS[1], "b", "fb")):
        takes = " or ".join(f"op == {i}" for i in ids)
        lines += [
            f"    if {code} != UNPACK_NONE and ({takes}):",
            f"        {var} = scratch_row(sc, {row})",
            "        for i in range(16):",
            f"            {var}[i] = unpack_f32({src}[i], {code})",
        ]
    return lines


def _opaque_count(name: str) -> bool:
    """Whether the op's lane loop runs to the count `lanes` (an argument, 16 at every call)
    instead of the literal 16: with a constant count LLVM fully unrolls the cheap loops (and,
    or, shl, mov, ...) when it optimises the function alone, before its loop vectoriser sees
    them, and leaves 16 scalar lanes (numba turns off the SLP vectoriser that would pack them
    again); with an unknown count the loop stays a loop, and in the machine's final optimisation
    (no unrolling, jit._EntryLibrary) LLVM carries the callers' 16 into the one copy of the
    dispatch and vectorises the loop for 16 lanes. Only the ops of `semantics.ZERO_CARRY`: ops with a carry or an unpack
    (add's 64-bit sum, f32 rounding) measured slower as such a loop, and so did sgemm 1024
    with every unpack-free op in it (benchmarks/emulator_shapes.py, emulator_speed.py)."""
    return name in semantics.ZERO_CARRY


def _alu_source(fn_name: str, ops: dict, stateful: tuple[str, ...], decorator: str,
                only: tuple[str, ...] | None = None, f32_unpacks: bool = True) -> list[str]:
    """The source of one copy of an ALU's dispatch: a branch per op of the table (`only`: just
    these ops) that has a per-lane semantics function, each returning True; False for the rest.
    Without `f32_unpacks` the f32 ops read `a`/`b` as they are: for the copies inlined into the
    plain rows, which have no f32 input unpack (program.fast_kind)."""
    lines = [
        decorator,
        f"def {fn_name}(op, aun, bun, a, b, res, car, sc, lanes):",
        '    """Evaluate a table op over the 16 lanes of the operand rows `a`, `b` into the rows `res` and `car` (carry: not for CARRY_FROM_RESULT ops; `sc`: scratch rows for unpacked inputs; `lanes`: 16, see dispatch._opaque_count); False if the run loop must."""',
    ]
    generated = [(op_id, name, spec) for op_id, (name, spec) in enumerate(ops.items())
                 if _is_generated(name, spec, stateful) and (only is None or name in only)]
    f32_a = [op_id for op_id, _, spec in generated if spec.unpack == "f32"]
    f32_b = [op_id for op_id, _, spec in generated if spec.unpack == "f32" and spec.b_unpack and spec.nsrc == 2]
    if f32_a and f32_unpacks:
        lines += _unpack_first(f32_a, f32_b)
    fa, fb = ("fa", "fb") if f32_unpacks else ("a", "b")
    for k, (op_id, name, spec) in enumerate(generated):
        count = "lanes" if _opaque_count(name) else "16"
        if spec.unpack == "f32":
            xa = f"int({fa}[i])"
            xb = f"int({fb}[i])" if spec.b_unpack else "b[i]"
        elif spec.unpack == "f16":
            xa = "unpack_f16x2(a[i], aun)"
            xb = "b[i]"
        else:
            xa, xb = "a[i]", "b[i]"
        args = xa if spec.nsrc == 1 else f"{xa}, {xb}"
        lines += [f"    {'if' if k == 0 else 'elif'} op == {op_id}:  # {name}", f"        for i in range({count}):"]
        if name in semantics.CARRY_FROM_RESULT:
            # C is float_carry(result): the flag update derives it when an instruction asks
            lines.append(f"            res[i] = sem_{_ident(name)}({args})[0]")
        else:
            lines += [
                f"            r, c = sem_{_ident(name)}({args})",
                "            res[i] = r",
                "            car[i] = c",
            ]
        lines.append("        return True")
    lines += ["    return False", ""]
    return lines


_GENERATED = _HERE / "machine" / "ops.py"

#: The ops whose dispatch has a second copy (`add_alu_inline`/`mul_alu_inline`, from the same
#: lines) that LLVM inlines into the plain copy of `issue.fast_step` (35 of sgemm's 39
#: inner-loop rows: 34 fadd+fmul, one nop+fmul): per ALU, the ops of that copy (None: all);
#: for any other op the inlined copy returns False and the plain copy calls the one called
#: copy (`add_alu`/`mul_alu`, jit.jit_out_of_line, which the general path and the fast path's
#: other copy call: LLVM compiled three inlined copies of ~50 vectorised lane loops each).
#: An out-of-line call cost ~1.5-2 ns per op there. Measured (docs/emulator-internals.md, "The
#: plain rows' data path"): the whole mul dispatch (7 ops) and fadd/fsub of the add ALU cost
#: no measurable compile; the whole add dispatch (~45 ops) cost ~3.5 s; an add op outside the
#: list pays ~1 ns for the test. The inlined copies have no f32 input unpack (a row with one is
#: not plain, program.fast_kind): the unpack tests cost ~2.5 ns of a plain fadd+fmul row.
INLINED_IN_PLAIN: dict[str, tuple[str, ...] | None] = {"mul": None, "add": ("fadd", "fsub")}


def _magic_range(name: str, addrs: frozenset[int]) -> list[str]:
    """`NAME_FIRST`/`NAME_LAST` of a contiguous class of magic addresses."""
    lo, hi = min(addrs), max(addrs)
    assert set(range(lo, hi + 1)) == set(addrs), name
    return [f"{name}_FIRST = {lo}", f"{name}_LAST = {hi}"]


def generate_source() -> str:
    """The Python source of `vc6_isa.emulator.machine.ops` (op dispatch and table constants)."""
    add_ops, mul_ops = encoding.ADD_OPS, encoding.MUL_OPS
    add_ids, mul_ids = add_op_ids(), mul_op_ids()
    used = sorted({n for n in (*add_ops, *mul_ops) if n in semantics.SEMANTICS})
    out = [
        '"""Op dispatch and constants derived from the ISA table (`vc6_isa.encoding`).',
        "",
        "Generated by `python -m vc6_isa.emulator.dispatch`; do not edit.",
        '"""',
        "",
        "from ..jit import jit_lean, jit_lean_dispatch, jit_out_of_line",
        "from ..semantics import (",
        *(f"    {name}," for name in ("SEMANTICS", "UNPACK_NONE", "fdx_lane", "fdy_lane", "unpack_f16x2", "unpack_f32")),
        ")",
        "from .lanes import scratch_row",
        "",
    ]
    for name in used:
        out.append(f"sem_{_ident(name)} = SEMANTICS[{name!r}]")
    out.append("")
    out.append(f"MSF_ACTIVE = {MSF_ACTIVE}")
    for name in STATEFUL_ADD + ("vpmwt",):
        out.append(f"A_{_ident(name)} = {add_ids.get(name, -1)}")
    for name in STATEFUL_MUL:
        out.append(f"M_{_ident(name)} = {mul_ids.get(name, -1)}")
    out.append("")
    out.append("# magic write addresses (reference 8), from the table's classes")
    for name in ("NOP", "UNIFA", "R5REP"):
        out.append(f"WADDR_{name} = {getattr(encoding, 'WADDR_' + name)}")
    for name in ("r4", "r5", "tmud", "tmua", "tmuau", "tmuc", "syncb"):
        out.append(f"WADDR_{name.upper()} = {encoding.MAGIC_ADDRESSES[name]}")
    out += _magic_range("MAGIC_SFU", encoding.MAGIC_SFU)
    out += ["", ""]
    alus = (("add", dict(add_ops), STATEFUL_ADD), ("mul", dict(mul_ops), STATEFUL_MUL))
    for alu, ops, stateful in alus:
        # noalias: `res` and `car` are scratch rows that no other argument row is (the callers'
        # rule), so LLVM vectorises the lane loops without run-time overlap checks
        out += _alu_source(f"{alu}_alu", ops, stateful, "@jit_out_of_line(noalias=True)")
        out += ["", ""]
    for alu, ops, stateful in alus:
        if alu in INLINED_IN_PLAIN:
            out += _alu_source(f"{alu}_alu_inline", ops, stateful, "@jit_lean_dispatch", INLINED_IN_PLAIN[alu],
                               f32_unpacks=False)
        else:
            out += [f"{alu}_alu_inline = {alu}_alu  # not inlined (dispatch.INLINED_IN_PLAIN)", ""]
        out += ["", ""]
    out += ["", ""]
    # legacy SFU magic writes, by the names the table gives those addresses
    first = min(encoding.MAGIC_SFU)
    out += [
        "@jit_lean",
        "def sfu_eval(k, x):",
        f'    """Legacy SFU write to magic address {first} + k."""',
    ]
    for k in range(len(encoding.MAGIC_SFU)):
        name = encoding.MAGIC_NAMES[first + k]
        out += [f"    if k == {k}:  # {name}", f"        return sem_{_ident(name)}(x)[0]"]
    out += ["    return 0", "", ""]
    out += [
        "@jit_lean",
        "def derivative(is_y, sc, kin, kout):",
        '    """fdx/fdy of row `kin` into row `kout` (kin != kout: inputs stay intact)."""',
        "    vals = sc[kin]",
        "    for i in range(16):",
        "        sc[kout, i] = (fdy_lane(vals, i) if is_y else fdx_lane(vals, i))[0]",
        "",
        "",
        "@jit_lean",
        "def multop_rtop(a, b):",
        '    """The rtop value multop leaves for the following umul24."""',
        "    return sem_MULTOP(a, b)[0]",
        "",
        "",
        "@jit_lean",
        "def umul24_rtop(a, b, rtop):",
        '    """umul24 completing a multop (reference 10.11)."""',
        "    return sem_UMUL24(a, b, rtop)[0]",
        "",
    ]
    return "\n".join(out)


def write(check: bool = False) -> bool:
    """Write the generated module; with `check`, only report whether it is up to date.

    Returns:
        True when the checked-in module equals the generated source (after writing, always).
    """
    source = generate_source()
    current = _GENERATED.read_text() if _GENERATED.exists() else ""
    if check or current == source:
        return current == source
    _GENERATED.write_text(source)
    return True


if __name__ == "__main__":
    import sys

    ok = write(check="--check" in sys.argv)
    print(f"{_GENERATED}: {'up to date' if ok else 'OUT OF DATE'}")
    sys.exit(0 if ok else 1)

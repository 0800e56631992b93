"""The DSL's instruction functions and the records they append to the current program.

Calling `add(r0, r0, 1)` checks the operands, appends an `ALU` record to the program
in the context variable and returns it, so that a mul op can be chained onto it
(`add(r0, r0, r5).fmul(r1, r2, r3)`). Nothing is encoded yet: that happens once, when the
program is finished (`.build`), because chaining and forward labels may still change it.

Which functions exist, how many operands each takes and which ALU runs it come from
`encoding.ADD_OPS`/`encoding.MUL_OPS`. The only names written here are py-videocore6's
spellings (`PYVC6_ALIASES`) and its two helpers `mov` (the add ALU has no mov, so
py-videocore6 writes `or dst, src, src`) and `rotate`/`quad_rotate`.
"""

from __future__ import annotations

import builtins
import keyword
import operator
from collections.abc import Callable
from sys import _getframe
from typing import Any

from ..encoding import ADD_OPS, CONDITIONS, MUL_OPS, PUSHES, UPDATES
from .assembly import Link, Reference, current_assembly, current_get, no_assembly
from .errors import Where, dsl_error
from .operands import (
    _FLOAT_IMMEDIATES,
    _INT_IMMEDIATES,
    NULL,
    REGISTERS,
    SIGNALS,
    Register,
    RotateSignal,
    SFURegister,
    Signal,
    SmallImmediate,
    WriteSignal,
    to_small_immediate,
)

__all__ = [
    "ALU",
    "DSL_FUNCTIONS",
    "PYVC6_ALIASES",
    "Branch",
    "Raw",
    "b",
    "bu",
    "emit_branch",
    "mov",
    "quad_rotate",
    "raw",
    "rotate",
]

#: py-videocore6's names for add-ALU ops that Mesa (and the encoding table) spells otherwise.
PYVC6_ALIASES: dict[str, str] = {
    "band": "and", "bor": "or", "bxor": "xor", "bnot": "not", "imin": "min", "imax": "max",
}  # fmt: skip

#: cond= names -> the AluOp field they set: conditions, flag pushes and flag updates.
CONDITION_FIELDS: dict[str, str] = {
    **{name: "cond" for name in CONDITIONS},
    **{name: "pf" for name in PUSHES if name},
    **{name: "uf" for name in UPDATES if name},
}

#: The half of an instruction an op was not given: (op, dst, a, b, cond).
NOP_HALF = ("nop", None, None, None, None)
#: An explicitly chained ``.nop()`` (equal to NOP_HALF, but marks the mul ALU as used).
_CHAINED_NOP_HALF = ("nop", None, None, None, None)


class ALU:
    """An ALU instruction being written: an add-ALU half, a mul-ALU half and signals.

    Returned by every op function; chain the mul op on it (`.fmul(...)`, `.mov(...)`,
    `.rotate(...)`, one per instruction). Halves are `(op, dst, a, b, cond)` tuples of
    interned operand objects, so a whole instruction is a cheap, hashable key.
    """

    __slots__ = ("add_half", "mul_half", "sigs", "where")

    def __init__(
        self, add: tuple, mul: tuple, sigs: tuple, where: Where | None
    ) -> None:
        self.add_half = add
        self.mul_half = mul
        self.sigs = sigs
        self.where = where

    def _set_mul(self, half: tuple, sig: Any, where: Where | None) -> ALU:
        if self.mul_half is not NOP_HALF:
            raise dsl_error(
                f"this instruction already has a mul-ALU op ({self.mul_half[0]}); one instruction "
                "issues one add op and one mul op",
                where,
            )
        self.mul_half = half
        if sig is not None:
            self.sigs = self.sigs + signals_of(sig)
        return self

    def rotate(
        self, dst: Register, src: Register, amount: int | Register, **kwargs: Any
    ) -> ALU:
        """Mul-ALU `mov dst, src` with the `rot` signal: full rotation of an accumulator."""
        return _rotate_onto(self, "rotate", dst, src, amount, kwargs, _where())

    def quad_rotate(
        self, dst: Register, src: Register, amount: int | Register, **kwargs: Any
    ) -> ALU:
        """Mul-ALU `mov dst, src` with `rot`, reading the register file: rotation in quads."""
        return _rotate_onto(self, "quad_rotate", dst, src, amount, kwargs, _where())

    def __repr__(self) -> str:
        def half(h: tuple) -> str:
            name, dst, a, b, cond = h
            ops = ", ".join(repr(x) for x in (dst, a, b) if x is not None)
            return f"{name}{'.' + cond if cond else ''} {ops}".strip()

        sigs = "".join(f"; {s!r}" for s in self.sigs)
        return f"<ALU {half(self.add_half)} ; {half(self.mul_half)}{sigs}>"


class Branch:
    """A branch being written; `.unif_addr(...)` makes it also set the uniform pointer."""

    __slots__ = (
        "absolute",
        "cond",
        "index",
        "msfign",
        "set_link",
        "target",
        "ub",
        "unif",
        "unif_absolute",
        "where",
    )  # fmt: skip

    def __init__(self, target: Any, cond: str | None, absolute: bool, set_link: bool,
                 msfign: str | None, where: Where | None, index: int) -> None:  # fmt: skip
        self.target = target
        self.cond = cond
        self.absolute = absolute
        self.set_link = set_link
        self.msfign = msfign
        self.ub = False
        self.unif: Any = None
        self.unif_absolute = False
        self.where = where
        self.index = index

    def unif_addr(
        self, src: Register | Link | None = None, absolute: bool = False
    ) -> Branch:
        """Also redirect the uniform stream when the branch is taken (py-videocore6).

        `unif_addr()` reads the next uniform as an offset relative to the uniform pointer,
        `unif_addr(absolute=True)` as an address; `unif_addr(rfN)` takes the address from
        lane 1 of rfN; `unif_addr(link)` is Mesa's `lri` form (meaning UNCERTAIN).
        """
        where = _where()
        if self.ub:
            raise dsl_error("unif_addr() was already given for this branch", where)
        _check_unif_target(src, where)
        self.ub, self.unif, self.unif_absolute = True, src, bool(absolute)
        return self

    def __repr__(self) -> str:
        return f"<Branch {self.cond or 'always'} {self.target!r}>"


class Raw:
    """A raw 64-bit instruction word (`raw(0x3c003186bb800000)`)."""

    __slots__ = ("where", "word")

    def __init__(self, word: int, where: Where | None) -> None:
        self.word = word
        self.where = where


def _where() -> Where:
    """The (code, line) of the DSL call two frames up: the user's call of a public function."""
    frame = _getframe(2)
    return (frame.f_code, frame.f_lineno)


# ----------------------------------------------------------------------------------------
# Operand checks (run when the DSL call is made, so errors point at the right line anyway)


def _bad_destination(op: str, dst: Any) -> Exception:
    if isinstance(dst, Register) and dst.unpack_mod:
        return dsl_error(
            f"{op}: an input unpack (.{dst.unpack_mod}) cannot apply to a destination"
        )
    return dsl_error(
        f"{op}: the destination must be a register (r0-r5, rf0-rf63 or a magic register such "
        f"as tmua, tmud, null), not {dst!r}"
    )


def _source(op: str, value: Any) -> Register | SmallImmediate:
    """An operand that is not a plain register, as an interned SmallImmediate (or an error)."""
    kind = type(value)
    if kind is int:
        imm = _INT_IMMEDIATES.get(value)
        if imm is not None:
            return imm
    elif kind is float and value:  # 0.0 goes the slow way, which refuses -0.0
        imm = _FLOAT_IMMEDIATES.get(value)
        if imm is not None:
            return imm
    elif kind is SmallImmediate:
        return value
    if isinstance(value, Register):
        if value.plain_source:
            return value
        if value.pack_mod:
            raise dsl_error(
                f"{op}: an output pack (.{value.pack_mod}) cannot apply to a source"
            )
        raise dsl_error(
            f"{op}: {value!r} cannot be read; sources are r0-r5, rf0-rf63 and small immediates "
            "(magic registers are write-only on V3D 4.x)"
        )
    return to_small_immediate(value)


def _half(op: str, has_dst: bool, nsrc: int, args: tuple, cond: str | None) -> tuple:
    """Check one op's operands and return its (op, dst, a, b, cond) half."""
    if len(args) != nsrc + has_dst:
        if not args and has_dst and nsrc == 0:
            args = (
                NULL,
            )  # py-videocore6: tmuwt() writes nothing useful, dst defaults to null
        else:
            raise _arity_error(op, has_dst, nsrc, len(args))
    a = b = dst = None
    if has_dst:
        dst = args[0]
        if not isinstance(dst, Register) or dst.unpack_mod is not None:
            raise _bad_destination(op, dst)
        if nsrc:
            a = args[1]
            if type(a) is not Register or not a.plain_source:
                a = _source(op, a)
            if nsrc == 2:
                b = args[2]
                if type(b) is not Register or not b.plain_source:
                    b = _source(op, b)
    elif nsrc:
        a = _source(op, args[0])
        if nsrc == 2:
            b = _source(op, args[1])
    if cond is not None and cond not in CONDITION_FIELDS:
        raise dsl_error(
            f"{op}: cond={cond!r} is not a condition or flag write; use one of "
            f"{', '.join(CONDITION_FIELDS)}"
        )
    return (op, dst, a, b, cond)


def _arity_error(op: str, has_dst: bool, nsrc: int, given: int) -> Exception:
    names = (["dst"] if has_dst else []) + ["src1", "src2"][:nsrc]
    return dsl_error(
        f"{op} takes {len(names)} operands ({', '.join(names) or 'none'}), got {given}"
    )


def signals_of(sig: Any) -> tuple[Signal, ...]:
    """The sig= argument as a tuple of interned Signal objects (`rot(0)` means no rotation)."""
    if type(sig) is Signal:
        return () if sig.rot == 0 and type(sig.rot) is int else (sig,)
    if isinstance(sig, (list, tuple, set, frozenset)):
        out: tuple[Signal, ...] = ()
        for item in sig:
            out += signals_of(item)
        return out
    if isinstance(sig, WriteSignal):
        raise dsl_error(
            f"signal {sig.name} writes a register: give it one, e.g. {sig.name}(r0)"
        )
    if isinstance(sig, RotateSignal):
        raise dsl_error(
            f"signal {sig.name} needs a rotation amount, e.g. {sig.name}(-1)"
        )
    if isinstance(sig, str) and isinstance(SIGNALS.get(sig), Signal):
        return (SIGNALS[sig],)  # py-videocore6's older spelling sig='thrsw'
    raise dsl_error(
        f"sig={sig!r} is not a signal; use {', '.join(SIGNALS)} (or a list of them)"
    )


# ----------------------------------------------------------------------------------------
# Op functions, generated from the encoding table


def _add_function(name: str, op: str) -> Callable[..., ALU]:
    """The DSL function for add-ALU op `op` (called `name`)."""
    spec = ADD_OPS[op]
    has_dst, nsrc = spec.has_dst, spec.nsrc

    def add_op(*args: Any, cond: str | None = None, sig: Any = None) -> ALU:
        asm = current_get(None)
        if asm is None:
            raise no_assembly()
        frame = _getframe(1)
        if frame.f_code is _SFU_CALL_CODE:
            frame = frame.f_back
        rec = ALU(
            _half(op, has_dst, nsrc, args, cond),
            NOP_HALF,
            () if sig is None else signals_of(sig),
            (frame.f_code, frame.f_lineno),
        )
        asm.items.append(rec)
        return rec

    add_op.__name__ = add_op.__qualname__ = name
    add_op.__doc__ = _doc(spec, "add", name)
    return add_op


def _mul_function(name: str) -> Callable[..., ALU]:
    """The DSL function for a mul-ALU-only op: an instruction with an add-ALU nop."""
    spec = MUL_OPS[name]
    has_dst, nsrc = spec.has_dst, spec.nsrc

    def mul_op(*args: Any, cond: str | None = None, sig: Any = None) -> ALU:
        asm = current_get(None)
        if asm is None:
            raise no_assembly()
        frame = _getframe(1)
        rec = ALU(
            NOP_HALF,
            _half(name, has_dst, nsrc, args, cond),
            () if sig is None else signals_of(sig),
            (frame.f_code, frame.f_lineno),
        )
        asm.items.append(rec)
        return rec

    mul_op.__name__ = mul_op.__qualname__ = name
    mul_op.__doc__ = _doc(spec, "mul", name)
    return mul_op


def _mul_method(name: str) -> Callable[..., ALU]:
    """The ALU method that chains mul-ALU op `name` onto an instruction (dual issue)."""
    spec = MUL_OPS[name]
    has_dst, nsrc = spec.has_dst, spec.nsrc
    half_of_nop = _CHAINED_NOP_HALF if name == "nop" else None

    def method(self: ALU, *args: Any, cond: str | None = None, sig: Any = None) -> ALU:
        frame = _getframe(1)
        half = half_of_nop if half_of_nop and not args and cond is None else None
        if half is None:
            half = _half(name, has_dst, nsrc, args, cond)
        return self._set_mul(half, sig, (frame.f_code, frame.f_lineno))

    method.__name__ = method.__qualname__ = name
    method.__doc__ = _doc(spec, "mul", name)
    return method


def _doc(spec: Any, alu: str, name: str) -> str:
    operands = (["dst"] if spec.has_dst else []) + ["src1", "src2"][: spec.nsrc]
    mesa = f" (Mesa: {spec.name})" if spec.name != name else ""
    return (
        f"{alu}-ALU op {name}{mesa}: {name}({', '.join(operands)}, cond=None, sig=None)"
    )


def mov(dst: Register, src: Any, *, cond: str | None = None, sig: Any = None) -> ALU:
    """py-videocore6's add-ALU move: `or dst, src, src` (the add ALU has no mov op).

    Chained (`nop().mov(...)`) it is the mul ALU's own `mov`.
    """
    asm = current_get(None)
    if asm is None:
        raise no_assembly()
    frame = _getframe(1)
    rec = ALU(
        _half("or", True, 2, (dst, src, src), cond),
        NOP_HALF,
        () if sig is None else signals_of(sig),
        (frame.f_code, frame.f_lineno),
    )
    asm.items.append(rec)
    return rec


# ----------------------------------------------------------------------------------------
# Rotation (py-videocore6 rotate / quad_rotate: mul-ALU mov with the rot signal)


def _rotate_onto(
    rec: ALU, kind: str, dst: Any, src: Any, amount: Any, kwargs: dict, where: Where
) -> ALU:
    unknown = set(kwargs) - {"cond", "sig"}
    if unknown:
        raise dsl_error(
            f"{kind}() takes cond= and sig=, not {', '.join(sorted(unknown))}", where
        )
    if kind == "rotate" and not (isinstance(src, Register) and src.is_accumulator):
        raise dsl_error(
            "rotate() rotates an accumulator (r0-r5) across all 16 lanes; "
            "use quad_rotate() for a register-file source",
            where,
        )
    if kind == "quad_rotate" and not (isinstance(src, Register) and not src.magic):
        raise dsl_error(
            "quad_rotate() rotates a register-file source (rf0-rf63) within each quad; "
            "use rotate() for an accumulator",
            where,
        )
    rot_signal = SIGNALS["rot"](amount)
    sig = kwargs.get("sig")
    sigs = signals_of(rot_signal) + (() if sig is None else signals_of(sig))
    return rec._set_mul(
        _half("mov", True, 1, (dst, src), kwargs.get("cond")), sigs, where
    )


def rotate(dst: Register, src: Register, amount: int | Register, **kwargs: Any) -> ALU:
    """Rotate an accumulator across all 16 lanes: lane j of `dst` gets lane j - `amount` of `src`.

    A `mov` on the mul ALU with the `rot` signal. The source must not have been written by the
    previous instruction (hazard rule 13.2/10).

    Args:
        dst: The destination.
        src: An accumulator, `r0`-`r5`.
        amount: -15 to 15, or `r5` for a rotation by r5's value.
        **kwargs: `cond=` and `sig=` as for any instruction.

    Returns:
        The instruction; chain an add-ALU op onto it.

    Raises:
        AssembleError: A bad source, amount or option.
    """
    where = _where()
    rec = ALU(NOP_HALF, NOP_HALF, (), where)
    _rotate_onto(rec, "rotate", dst, src, amount, kwargs, where)
    current_assembly().items.append(rec)
    return rec


def quad_rotate(
    dst: Register, src: Register, amount: int | Register, **kwargs: Any
) -> ALU:
    """Rotate a register-file register within each quad of 4 lanes.

    Lane 4q + j of `dst` gets lane 4q + ((j - `amount`) mod 4) of `src`.

    Args:
        dst: The destination.
        src: A register-file register, `rf0`-`rf63`.
        amount: -15 to 15, or `r5`.
        **kwargs: `cond=` and `sig=` as for any instruction.

    Returns:
        The instruction.

    Raises:
        AssembleError: A bad source, amount or option.
    """
    where = _where()
    rec = ALU(NOP_HALF, NOP_HALF, (), where)
    _rotate_onto(rec, "quad_rotate", dst, src, amount, kwargs, where)
    current_assembly().items.append(rec)
    return rec


# ----------------------------------------------------------------------------------------
# Branches and raw words

_BRANCH_OPTIONS = {"cond", "absolute", "set_link", "msfign"}


def _check_target(target: Any, absolute: bool, where: Where | None) -> Any:
    if isinstance(target, Reference):
        if target.name is None:
            raise dsl_error("branch to R.<label>, not to R itself", where)
        return target
    if isinstance(target, Link):
        return target
    if isinstance(target, Register):
        if target.magic or target.pack_mod or target.unpack_mod:
            raise dsl_error(
                f"a branch reads its target address from the register file (rf0-rf63), "
                f"not {target!r}",
                where,
            )
        return target
    try:
        return operator.index(target)
    except TypeError:
        raise dsl_error(
            f"branch target {target!r} must be R.<label>, link, rfN or an int byte offset "
            f"({'absolute address' if absolute else 'relative to the end of the delay slots'})",
            where,
        ) from None


def _check_unif_target(src: Any, where: Where | None) -> None:
    if src is None or isinstance(src, Link):
        return
    if not isinstance(src, Register) or src.magic or src.pack_mod or src.unpack_mod:
        raise dsl_error(
            f"the uniform target of a branch is None (take it from the uniform stream), link "
            f"or rf0-rf63, not {src!r}",
            where,
        )


def emit_branch(target: Any, options: dict, where: Where | None) -> Branch:
    """Append a branch to the current program (`b(...)` and `loop` use this)."""
    asm = current_assembly()
    unknown = set(options) - _BRANCH_OPTIONS
    if unknown:
        raise dsl_error(
            f"b() got unknown keyword(s) {', '.join(sorted(unknown))}; it takes "
            f"{', '.join(sorted(_BRANCH_OPTIONS))}",
            where,
        )
    cond = options.get("cond", "always")
    absolute = bool(options.get("absolute", False))
    target = _check_target(target, absolute, where)
    if absolute and not isinstance(target, int):
        raise dsl_error("absolute=True needs an int target address", where)
    rec = Branch(
        target,
        cond,
        absolute,
        bool(options.get("set_link", False)),
        options.get("msfign"),
        where,
        len(asm.items),
    )
    asm.items.append(rec)
    return rec


def b(target: Any, **options: Any) -> Branch:
    """Branch; the three instructions after it (its delay slots) always execute.

    Examples: `b(R.label, cond='na0')`, `b(link)` (return), `b(rf5)` (to an address in a
    register), `b(0x1000, absolute=True)`.

    Args:
        target: A label reference (`R.name`), `link`, a register, or an int offset or address.
        **options: `cond`: `'always'` (default), `'a0'`, `'na0'`, `'alla'`, `'allna'`, `'anya'`
            or `'anyna'` (flag A of lane 0, of all lanes, of any lane); `set_link=True` saves the
            return address in the link register; `absolute=True` for an absolute int target;
            `msfign='p'` or `'q'` as in Mesa.

    Returns:
        The branch; `.unif_addr(...)` also moves the uniform stream.

    Raises:
        AssembleError: An unknown option or target.
    """
    return emit_branch(target, options, _where())


def bu(target: Any, unif: Register | Link | None = None, *, unif_absolute: bool = False,
       **options: Any) -> Branch:  # fmt: skip
    """Mesa's `bu`: a branch that also sets the uniform pointer.

    `bu(R.x, None, cond=...)` is `b(R.x, cond=...).unif_addr()`.

    Args:
        target: As for `b`.
        unif: The new uniform address: `None` (the branch target's uniforms), a register, or
            `link`.
        unif_absolute: The uniform address is absolute rather than relative.
        **options: As for `b`.

    Returns:
        The branch.

    Raises:
        AssembleError: An unknown option or target.
    """
    where = _where()
    _check_unif_target(unif, where)
    rec = emit_branch(target, options, where)
    rec.ub, rec.unif, rec.unif_absolute = True, unif, bool(unif_absolute)
    return rec


def raw(word: int) -> Raw:
    """Append a raw 64-bit instruction word, unchecked.

    Args:
        word: The instruction word.

    Returns:
        The appended item.

    Raises:
        AssembleError: `word` is not an int of at most 64 bits.
    """
    where = _where()
    asm = current_assembly()
    try:
        word = operator.index(word)
    except TypeError:
        raise dsl_error(
            f"raw() takes an int instruction word, not {word!r}", where
        ) from None
    if not 0 <= word < 1 << 64:
        raise dsl_error(f"raw word 0x{word:x} does not fit in 64 bits", where)
    rec = Raw(word, where)
    asm.items.append(rec)
    return rec


# ----------------------------------------------------------------------------------------
# The DSL namespace


def _python_name(name: str) -> str:
    """Mesa names that are Python keywords or builtins get a trailing underscore (and_, min_)."""
    return name + "_" if keyword.iskeyword(name) or hasattr(builtins, name) else name


def _dsl_functions() -> dict[str, Any]:
    functions: dict[str, Any] = {}
    for op in ADD_OPS:
        function = _add_function(_python_name(op), op)
        register = REGISTERS.get(op)
        if isinstance(register, SFURegister):
            register.emit = (
                function  # recip(rf1, r0) is the add op, recip alone the register
            )
        else:
            functions[_python_name(op)] = function
    for alias, op in PYVC6_ALIASES.items():
        functions[alias] = _add_function(alias, op)
    for op in MUL_OPS:
        if op not in ADD_OPS and op != "mov":
            functions[op] = _mul_function(op)
        setattr(ALU, op, _mul_method(op))
    functions.update(
        mov=mov, rotate=rotate, quad_rotate=quad_rotate, b=b, bu=bu, raw=raw
    )
    return functions


# The code object of SFURegister.__call__, skipped when locating the caller of recip(...).
_SFU_CALL_CODE = SFURegister.__call__.__code__

#: Every instruction function of the DSL by the name a program calls it.
DSL_FUNCTIONS: dict[str, Any] = _dsl_functions()

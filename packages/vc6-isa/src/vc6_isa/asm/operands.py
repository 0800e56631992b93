"""The things a DSL instruction is made of: registers, small immediates and signals.

Every object here is immutable and *interned*: `r1.unpack('abs')` returns the same object
each time it is asked for, and `ldtmu(r1)` likewise. The assembler relies on that to use the
objects themselves (hashed by identity) as keys of its instruction cache, which is what makes
assembling fast.

Names come from the encoding table (`vc6_isa.encoding`): the magic registers are
`MAGIC_ADDRESSES`, the small immediates `SMALL_IMMEDIATES` and the signals the names found in
`SIGNAL_SETS`. The only names written here are py-videocore6's spellings of a few of them.
"""

from __future__ import annotations

import math
import operator
import struct
from typing import Any

from ..encoding import (
    ADD_OPS,
    ADDRESS_SIGNALS,
    F16_UNPACKS,
    F32_UNPACKS,
    MAGIC_ACCUMULATORS,
    MAGIC_ADDRESSES,
    MUL_OPS,
    PACKS,
    SIGNAL_SETS,
    SMALL_IMMEDIATES,
)
from .errors import dsl_error

__all__ = [
    "PACK_MODIFIERS",
    "REGISTERS",
    "RF",
    "SIGNALS",
    "UNPACK_MODIFIERS",
    "Register",
    "RotateSignal",
    "SFURegister",
    "Signal",
    "SmallImmediate",
    "WriteSignal",
    "small_imm",
    "to_small_immediate",
]

#: Output pack spellings -> Mesa name (None = no pack).  py-videocore6 writes ``'none'``.
PACK_MODIFIERS: dict[str, str | None] = {"none": None, **{p: p for p in PACKS if p}}

#: py-videocore6's spellings of the f16-vector input unpacks (its test_alu.py).
_PYVC6_UNPACK_SPELLINGS = {"r32": "ff", "rl2h": "ll", "rh2l": "hh", "swap": "swp"}

#: Input unpack spellings -> Mesa name: Mesa's names (f32 and f16 kinds) and py-videocore6's.
UNPACK_MODIFIERS: dict[str, str | None] = {
    "none": None,
    **{u: u for u in (*F32_UNPACKS, *F16_UNPACKS) if u},
    **_PYVC6_UNPACK_SPELLINGS,
}

#: py-videocore6's spellings of registers: ``null`` is the null destination Mesa prints ``-``;
#: ``broadcast`` writes r5 replicated from lane 0 (``r5rep``), ``quad_broadcast`` is r5 itself
#: (an ALU write to r5 broadcasts lane 4q to quad q).
_PYVC6_REGISTER_SPELLINGS = {"null": "-", "broadcast": "r5rep", "quad_broadcast": "r5"}


class Register:
    """A register operand: an accumulator `r0`-`r5`, `rf0`-`rf63` or a magic register.

    `magic`/`waddr` are the destination encoding (py-videocore6 exposes the same two
    attributes). `pack(mod)`/`unpack(mod)` return the same register with an output pack
    (`'l'`, `'h'`) or input unpack (`'abs'`, `'l'`, `'h'`, `'ff'`/`'r32'` ...).
    """

    __slots__ = (
        "_variants",
        "base",
        "magic",
        "name",
        "pack_mod",
        "plain_source",
        "readable",
        "unpack_mod",
        "waddr",
    )  # fmt: skip

    def __init__(
        self,
        name: str,
        magic: bool,
        waddr: int,
        pack_mod: str | None = None,
        unpack_mod: str | None = None,
        base: Register | None = None,
    ) -> None:
        self.name = name
        self.magic = magic
        self.waddr = waddr
        self.pack_mod = pack_mod
        self.unpack_mod = unpack_mod
        self.base = base if base is not None else self
        #: Accumulators and the register file can be ALU sources; other magic names cannot
        #: (V3D 4.x has no magic read addresses).
        self.readable = not magic or waddr in MAGIC_ACCUMULATORS
        #: Usable as a source as it is (readable, no output pack): the DSL's fast path.
        self.plain_source = self.readable and pack_mod is None
        self._variants: dict[tuple[str, str], Register] = {}

    @property
    def is_accumulator(self) -> bool:
        return self.magic and self.waddr in MAGIC_ACCUMULATORS

    def pack(self, modifier: str) -> Register:
        """This register as a destination with an f16 output pack (`'l'`/`'h'`)."""
        return self._variant("pack", modifier, PACK_MODIFIERS)

    def unpack(self, modifier: str) -> Register:
        """This register as a source with an input unpack (`'abs'`, `'l'`, `'h'`, ...)."""
        return self._variant("unpack", modifier, UNPACK_MODIFIERS)

    def _variant(
        self, kind: str, modifier: str, table: dict[str, str | None]
    ) -> Register:
        variant = self._variants.get((kind, modifier))
        if variant is not None:
            return variant
        if modifier not in table:
            raise dsl_error(
                f"{modifier!r} is not an {'output pack' if kind == 'pack' else 'input unpack'} "
                f"modifier; use one of {', '.join(repr(m) for m in table)}"
            )
        mesa = table[modifier]
        if mesa is None:
            variant = self
        elif self.pack_mod is not None or self.unpack_mod is not None:
            raise dsl_error(
                f"{self} already has a modifier; a register takes one pack or unpack"
            )
        else:
            packed, unpacked = (mesa, None) if kind == "pack" else (None, mesa)
            variant = Register(
                self.name, self.magic, self.waddr, packed, unpacked, self
            )
        self._variants[(kind, modifier)] = variant
        return variant

    def __repr__(self) -> str:
        suffix = self.pack_mod or self.unpack_mod
        return f"{self.name}.{suffix}" if suffix else self.name

    def __reduce__(self) -> Any:  # pickling keeps interning: look the register up again
        return (_lookup_register, (self.base.name, self.pack_mod, self.unpack_mod))


def _lookup_register(
    name: str, pack_mod: str | None, unpack_mod: str | None
) -> Register:
    reg = REGISTERS[name]
    if pack_mod:
        return reg.pack(pack_mod)
    return reg.unpack(unpack_mod) if unpack_mod else reg


class SFURegister(Register):
    """`recip`, `rsqrt`, `exp`, `log`, `sin`, `rsqrt2`: both a magic destination
    (the legacy SFU write, `mov(recip, r0)`, result in r4 two instructions later) and, when
    called, the add-ALU SFU op (`recip(rf1, r0)`), as in py-videocore6.
    `emit` is the op function, filled in by `.ops`.
    """

    __slots__ = ("emit",)

    def __call__(self, *args: Any, cond: str | None = None, sig: Any = None) -> Any:
        return self.emit(*args, cond=cond, sig=sig)


def _named_registers() -> dict[str, Register]:
    """Register objects for every named magic address (encoding.MAGIC_ADDRESSES), the
    py-videocore6 spellings and rf0-rf63. A name that is also an add op with that SFU
    address becomes an `SFURegister`; other op names (`nop`) are not registers."""
    regs: dict[str, Register] = {}
    for name, waddr in MAGIC_ADDRESSES.items():
        if not name.isidentifier():
            continue
        spec = ADD_OPS.get(name)
        if spec is None and name not in MUL_OPS:
            regs[name] = Register(name, True, waddr)
        elif spec is not None and spec.sfu == waddr:
            regs[name] = SFURegister(name, True, waddr)
    for spelling, name in _PYVC6_REGISTER_SPELLINGS.items():
        waddr = MAGIC_ADDRESSES[name]
        regs[spelling] = regs.get(name) or Register(spelling, True, waddr)
    for n in range(64):
        regs[f"rf{n}"] = Register(f"rf{n}", False, n)
    return regs


REGISTERS: dict[str, Register] = _named_registers()
#: ``rf[n]`` is ``rf<n>`` (py-videocore6 exposes the register file as a list).
RF: list[Register] = [REGISTERS[f"rf{n}"] for n in range(64)]
NULL = REGISTERS["null"]
R5 = REGISTERS["r5"]


# ----------------------------------------------------------------------------------------
# Small immediates


class SmallImmediate:
    """One of the 48 constants an instruction can carry in `raddr_b` (`smimm` signal).

    Plain Python numbers become these automatically; `small_imm(x).unpack('l')` gives an
    immediate with an input unpack, which plain numbers cannot express.
    """

    __slots__ = ("_variants", "base", "index", "pattern", "unpack_mod")

    def __init__(self, index: int, unpack_mod: str | None = None, base=None) -> None:
        self.index = index
        self.pattern = SMALL_IMMEDIATES[index]
        self.unpack_mod = unpack_mod
        self.base = base if base is not None else self
        self._variants: dict[str, SmallImmediate] = {}

    pack_mod = None
    magic = False

    def unpack(self, modifier: str) -> SmallImmediate:
        variant = self._variants.get(modifier)
        if variant is None:
            if modifier not in UNPACK_MODIFIERS:
                raise dsl_error(
                    f"{modifier!r} is not an input unpack modifier; use one of "
                    f"{', '.join(repr(m) for m in UNPACK_MODIFIERS)}"
                )
            mesa = UNPACK_MODIFIERS[modifier]
            if mesa is None:
                variant = self
            elif self.unpack_mod is not None:
                raise dsl_error(f"{self} already has an unpack modifier")
            else:
                variant = SmallImmediate(self.index, mesa, self)
            self._variants[modifier] = variant
        return variant

    def __repr__(self) -> str:
        value = _signed(self.pattern)
        text = str(value) if -16 <= value <= 15 else f"0x{self.pattern:08x}"
        return f"{text}.{self.unpack_mod}" if self.unpack_mod else text


def _signed(pattern: int) -> int:
    return pattern - (1 << 32) if pattern & 0x80000000 else pattern


def _as_f32(pattern: int) -> float:
    return struct.unpack("<f", struct.pack("<I", pattern))[0]


_IMMEDIATES = [SmallImmediate(i) for i in range(len(SMALL_IMMEDIATES))]
#: int operand -> immediate. Signed values (-16..15) and, as py-videocore6 also accepts,
#: the raw 32-bit pattern of any table entry (``0xfffffff0``, ``0x3f800000``).
_INT_IMMEDIATES: dict[int, SmallImmediate] = {}
#: float operand -> immediate: every table entry whose f32 value is a number (0.0, the
#: denormals 1..15 x 2^-149 and the powers of two 2^-8..2^7).
_FLOAT_IMMEDIATES: dict[float, SmallImmediate] = {}
for _imm in _IMMEDIATES:
    _INT_IMMEDIATES.setdefault(_imm.pattern, _imm)
    if -16 <= _signed(_imm.pattern) <= 15:
        _INT_IMMEDIATES.setdefault(_signed(_imm.pattern), _imm)
    _value = _as_f32(_imm.pattern)
    if not math.isnan(_value):
        _FLOAT_IMMEDIATES.setdefault(_value, _imm)
del _imm, _value


def _encodable_text() -> str:
    ints = sorted(v for v in map(_signed, SMALL_IMMEDIATES) if -16 <= v <= 15)
    floats = sorted(v for v in _FLOAT_IMMEDIATES if v >= 2.0**-126)  # the normal ones
    return (
        f"integers {ints[0]}..{ints[-1]} and the floats 0.0 and "
        f"{floats[0]!r}..{floats[-1]!r} in powers of two"
        " (any other constant must be built in a register, e.g. with shl/add or a uniform)"
    )


def to_small_immediate(value: Any) -> SmallImmediate:
    """The small immediate for a Python number, or an AssembleError naming what is encodable."""
    if isinstance(value, SmallImmediate):
        return value
    if isinstance(value, bool):
        raise dsl_error(f"{value!r} is a bool; write the integer 0 or 1 instead")
    if isinstance(value, float) or (
        hasattr(value, "dtype") and value.dtype.kind == "f"
    ):
        value = float(value)
        imm = _FLOAT_IMMEDIATES.get(value)
        if imm is not None and not (value == 0.0 and math.copysign(1.0, value) < 0):
            return imm
    else:
        try:
            integer = operator.index(value)
        except TypeError:
            raise dsl_error(
                f"{value!r} ({type(value).__name__}) is not an operand: use a register "
                "(r0-r5, rf0-rf63) or a small-immediate number"
            ) from None
        imm = _INT_IMMEDIATES.get(integer)
        if imm is not None:
            return imm
    raise dsl_error(
        f"{value!r} is not encodable as a small immediate; encodable are {_encodable_text()}"
    )


def small_imm(value: Any) -> SmallImmediate:
    """A small-immediate operand, for when it needs an unpack: `small_imm(1.0).unpack('l')`."""
    return to_small_immediate(value)


# ----------------------------------------------------------------------------------------
# Signals


class Signal:
    """A signal on an instruction: `thrsw`, `ldunif`, `ldtmu(r1)`, `rot(3)` ...

    `dst` is the destination of a register-writing signal; `rot` the rotation amount
    (an int or r5) of py-videocore6's `rot` signal.
    """

    __slots__ = ("dst", "name", "rot")

    def __init__(
        self,
        name: str,
        dst: Register | None = None,
        rot: int | Register | None = None,
    ):
        self.name = name
        self.dst = dst
        self.rot = rot

    def __repr__(self) -> str:
        if self.dst is not None:
            return f"{self.name}({self.dst})"
        return f"{self.name}({self.rot})" if self.rot is not None else self.name


class WriteSignal:
    """A signal that writes a register; call it with the destination: `ldtmu(r1)`."""

    __slots__ = ("_made", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self._made: dict[Register, Signal] = {}

    def __call__(self, dst: Register) -> Signal:
        sig = self._made.get(dst)
        if sig is None:
            if not isinstance(dst, Register) or dst.pack_mod or dst.unpack_mod:
                raise dsl_error(
                    f"{self.name}() takes a plain register destination (e.g. {self.name}(r0) or "
                    f"{self.name}(rf3)), not {dst!r}"
                )
            sig = self._made[dst] = Signal(self.name, dst=dst)
        return sig

    def __repr__(self) -> str:
        return f"{self.name}(<dst>)"


class RotateSignal:
    """py-videocore6's `rot(n)`: rotate the mul-ALU operands by n lanes (-15..15) or by r5."""

    __slots__ = ("_made", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self._made: dict[Any, Signal] = {}

    def __call__(self, amount: int | Register) -> Signal:
        key = amount if isinstance(amount, Register) else (int, amount)
        sig = self._made.get(key)
        if sig is None:
            if isinstance(amount, Register):
                if amount is not R5:
                    raise dsl_error(
                        f"a rotation amount is an int -15..15 or r5, not {amount!r}"
                    )
            elif (
                isinstance(amount, bool)
                or not isinstance(amount, int)
                or not -15 <= amount <= 15
            ):
                raise dsl_error(
                    f"a rotation amount is an int -15..15 or r5, not {amount!r}"
                )
            sig = self._made[key] = Signal(self.name, rot=amount)
        return sig

    def __repr__(self) -> str:
        return f"{self.name}(<n>)"


#: Signals the DSL derives itself: ``smimm`` from immediate operands.
_IMPLICIT_SIGNAL_NAMES = frozenset({"smimm"})


def _signals() -> dict[str, Signal | WriteSignal | RotateSignal]:
    names = sorted(set().union(*SIGNAL_SETS.values()) - _IMPLICIT_SIGNAL_NAMES)
    made: dict[str, Signal | WriteSignal | RotateSignal] = {}
    for name in names:
        if name in ADDRESS_SIGNALS:
            made[name] = WriteSignal(name)
        elif name == "rot":
            made[name] = RotateSignal(name)
        else:
            made[name] = Signal(name)
    return made


#: The signal objects a program uses: ``thrsw``, ``ldunif``, ``ldtmu`` (call it), ``rot`` ...
SIGNALS = _signals()

"""The compiler's IR: basic blocks of machine-level ops over virtual registers.

One `Op` is one add-ALU or mul-ALU operation, or one signal (`ldtmu`, `ldunifrf`), with
the op names of the encoding table (`vc6_isa.encoding`), plus the pseudo-ops `mov` (either
ALU) and `rot` (the mul-ALU `mov` with the `rot` signal). Virtual registers are written
more than once (a variable is one register that each assignment writes, conditionally under
a per-lane mask), which is the IR's replacement for SSA phis: liveness is computed on the CFG
(`regalloc`), so a conditional write counts as a read of its destination too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..encoding import ADD_OPS, MUL_OPS, SMALL_IMMEDIATE_INDEX

__all__ = [
    "SFU_OPS",
    "TMU_MAGIC",
    "Block",
    "Branch",
    "Fixed",
    "Imm",
    "Op",
    "VReg",
    "alus_for",
    "is_small_imm",
]

#: SFU ops of the add ALU (reference 10.6): their result is ready two instructions later.
SFU_OPS = frozenset(name for name, spec in ADD_OPS.items() if spec.sfu is not None)


class VReg:
    """A virtual register: one 16-lane value or variable.

    Attributes:
        id: Unique number (the printed name is `v<id>`).
        need_acc: Must live in an accumulator (the source of a full-lane rotation).
        line: (source, line) of its first definition (for errors).
    """

    __slots__ = ("id", "line", "need_acc")

    def __init__(self, id: int, line: Any = (None, 0), need_acc: bool = False) -> None:
        self.id = id
        self.need_acc = need_acc
        self.line = line

    def __repr__(self) -> str:
        return f"v{self.id}"


@dataclass(frozen=True)
class Fixed:
    """A physical or magic register the compiler names directly: `rf0` (the payload),
    `r5` (rotation amount), `r5rep`, `tmua`, `tmud`."""

    name: str

    def __repr__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Imm:
    """A small-immediate operand (reference 7): `bits` is one of the 48 encodable patterns."""

    bits: int

    def __repr__(self) -> str:
        return f"#{self.bits:#x}"


TMUA, TMUD, R5, R5REP, RF0 = (Fixed(n) for n in ("tmua", "tmud", "r5", "r5rep", "rf0"))
#: Magic destinations that feed the TMU (ordered among themselves and with ldtmu).
TMU_MAGIC = frozenset({TMUA, TMUD})


def is_small_imm(bits: int) -> bool:
    return (bits & 0xFFFFFFFF) in SMALL_IMMEDIATE_INDEX


@dataclass(eq=False)
class Op:
    """One machine operation.

    Attributes:
        name: Encoding-table op name, or `mov` / `rot` / `ldtmu` / `ldunifrf`.
        dst: Destination (VReg, Fixed, or None for no destination).
        srcs: Operands (VReg, Fixed or Imm).
        cond: `ifa` / `ifna`: write only in lanes where flag A is set / clear.
        pf: `pushz` / `pushn` / `pushc`: push a flag from the result.
        rot: Rotation amount (1..15) or `R5`, for `rot`.
        unpack: Input unpack of operand a (`abs` for Float abs).
        uniform: For `ldunifrf`, what the uniform word carries.
        tmu_read: A `tmua` write that requests a read (a gather or a load), whose result a
            later `ldtmu` pops.
        line: Kernel source line.
    """

    name: str
    dst: Any
    srcs: tuple = ()
    cond: str | None = None
    pf: str | None = None
    rot: Any = None
    unpack: str | None = None
    uniform: Any = None
    tmu_read: bool = False
    line: int = 0

    @property
    def reads(self) -> list[Any]:
        """Registers read (a conditional write also reads its destination's old value)."""
        r = [s for s in self.srcs if not isinstance(s, Imm)]
        if self.cond is not None and self.dst is not None:
            r.append(self.dst)
        if self.rot is R5:
            r.append(R5)
        return r

    def __repr__(self) -> str:
        parts = [
            self.name
            + (f".{self.cond}" if self.cond else "")
            + (f".{self.pf}" if self.pf else "")
        ]
        parts.append(
            ", ".join(
                repr(x) for x in (self.dst if self.dst is not None else "-", *self.srcs)
            )
        )
        if self.rot is not None:
            parts.append(f"rot {self.rot}")
        return " ".join(parts)


@dataclass(eq=False)
class Branch:
    """A block's conditional or unconditional jump: `cond` is None or a branch condition
    (`anya`, `alla`, `anyna`, `allna`) read from flag A."""

    cond: str | None
    target: Block
    line: int = 0


@dataclass(eq=False)
class Block:
    """A basic block: ops, then an optional branch; otherwise it falls through. `fifo_in` is
    the number of TMU reads outstanding when it starts (the frontend tracks it statically)."""

    id: int
    ops: list[Op] = field(default_factory=list)
    branch: Branch | None = None
    fifo_in: int = 0

    def __repr__(self) -> str:
        return f"B{self.id}"


def alus_for(name: str) -> tuple[str, ...]:
    """Which ALUs can run an op (`sig` for signal ops)."""
    if name in ("ldtmu", "ldunifrf"):
        return ("sig",)
    if name == "mov":
        return ("mul", "add")
    if name == "rot":
        return ("mul",)
    in_add, in_mul = name in ADD_OPS, name in MUL_OPS
    if in_add and in_mul:
        return ("add", "mul")
    return ("mul",) if in_mul else ("add",)

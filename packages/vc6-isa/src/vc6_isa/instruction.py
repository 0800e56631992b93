"""Decoded QPU instructions as immutable values.

The fields mirror Mesa's `struct v3d_qpu_instr` (`src/broadcom/qpu/qpu_instr.h`) so that
anyone who knows Mesa's decoder can read them, but they use names instead of C enums:

* op names are Mesa's mnemonics (`fadd`, `faddnf`, `nop`, `ldvpmv_in` ...);
* modifiers are Mesa's suffixes without the dot (`abs`, `l`, `h`, `ff`, `ll`, `hh`,
  `swp` for unpacks; `l`/`h` for the output pack);
* flags are `ifa`/`ifb`/`ifna`/`ifnb` (conditions), `pushz`/`pushn`/`pushc`
  (pushes) and `andz` ... `norc` (updates);
* signals are a frozenset of names from `SIGNAL_NAMES`.

Which op takes which operands and modifiers is not written here: that is the encoding table's
business (`vc6_isa.encoding`). These classes only hold values; `encode()` and
`disassemble()` delegate to the modules that own those jobs.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

__all__ = [
    "NOP_ADD",
    "NOP_MUL",
    "SIGNAL_NAMES",
    "AluInstruction",
    "AluOp",
    "BranchInstruction",
    "Instruction",
]

#: Every signal an instruction word can carry on V3D 4.1/4.2 (``smimm`` is Mesa's
#: ``small_imm_b``, ``rot`` is Mesa's ``rotate``).
SIGNAL_NAMES = frozenset(
    {
        "thrsw", "ldunif", "ldunifa", "ldunifrf", "ldunifarf", "ldtmu", "ldvary",
        "ldtlb", "ldtlbu", "ucb", "rot", "wrtmuc", "smimm",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class AluOp:
    """One half (add or mul) of an ALU instruction, with Mesa's field names.

    Attributes:
        op: The operation's Mesa name, such as `"fadd"` (see the instruction-set page).
        waddr: The destination: a register-file number when `magic` is False, else a magic
            address (0-5 are `r0`-`r5`, 6 is the null destination `-`).
        magic: Whether `waddr` is a magic address.
        a: Operand mux of the first source: 0-5 `r0`-`r5`, 6 the register file through
            `raddr_a`, 7 through `raddr_b` (or the small immediate with `smimm`). Meaningless
            for ops that read no operand.
        b: Operand mux of the second source, as `a`.
        pack: Output pack, `None`, `"l"` or `"h"` (f16 into the low or high half).
        a_unpack: Input unpack of `a`: `None`, `"abs"`, `"l"`, `"h"`, or for f16-pair ops `"ff"`,
            `"ll"`, `"hh"`, `"swp"`.
        b_unpack: Input unpack of `b`, as `a_unpack`.
        cond: Condition of the write: `None`, `"ifa"`, `"ifna"`, `"ifb"` or `"ifnb"`.
        pf: Flag push: `None`, `"pushz"`, `"pushn"` or `"pushc"`.
        uf: Flag update: `None` or one of `"andz"` ... `"norc"`.
    """

    op: str
    waddr: int = 6
    magic: bool = True
    a: int = 0
    b: int = 0
    pack: str | None = None
    a_unpack: str | None = None
    b_unpack: str | None = None
    cond: str | None = None
    pf: str | None = None
    uf: str | None = None

    def replace(self, **changes) -> AluOp:
        """A copy with some fields changed.

        Args:
            **changes: Field names and their new values.

        Returns:
            The new op.
        """
        return replace(self, **changes)


NOP_ADD = AluOp("nop")
NOP_MUL = AluOp("nop")


@dataclass(frozen=True, slots=True)
class AluInstruction:
    """An ALU instruction: an add op, a mul op and a set of signals issued together.

    Attributes:
        add: The add-ALU half.
        mul: The mul-ALU half.
        sigs: The signals, by Mesa name (`"thrsw"`, `"ldunif"`, `"ldtmu"`, `"smimm"`, `"rot"`, ...).
        sig_addr: Destination of an address-writing signal (`ldtmu`, `ldunifrf`, `ldunifarf`,
            `ldvary`, `ldtlb`, `ldtlbu`); the word stores it in the cond field, so such an
            instruction carries no conditions or flag writes.
        sig_magic: Whether `sig_addr` is a magic address.
        raddr_a: Register-file read address of port A.
        raddr_b: Register-file read address of port B, a small-immediate index (with `smimm`) or
            a rotation amount (with `rot`).
        is_branch: Always False (True on `BranchInstruction`).
    """

    add: AluOp = NOP_ADD
    mul: AluOp = NOP_MUL
    sigs: frozenset[str] = field(default_factory=frozenset)
    sig_addr: int = 0
    sig_magic: bool = False
    raddr_a: int = 0
    raddr_b: int = 0

    is_branch = False

    def encode(self) -> int:
        """The instruction's 64-bit word.

        Returns:
            `encode(self)`.

        Raises:
            EncodeError: The instruction cannot be encoded.
        """
        from .encoding import encode

        return encode(self)

    def disassemble(self) -> str:
        """Mesa's disassembly text of the instruction.

        Returns:
            One line of text.
        """
        from .disasm import disassemble_instruction

        return disassemble_instruction(self)

    def replace(self, **changes) -> AluInstruction:
        """A copy with some fields changed.

        Args:
            **changes: Field names and their new values.

        Returns:
            The new instruction.
        """
        return replace(self, **changes)


@dataclass(frozen=True, slots=True)
class BranchInstruction:
    """A branch: `b` or `bu`, with a condition, a code target and optionally a uniform target.

    Attributes:
        cond: `None` (always) or `"a0"`, `"na0"`, `"alla"`, `"anyna"`, `"anya"`, `"allna"`.
        msfign: `None`, `"p"` or `"q"`: which lanes' flags count.
        bdi: Code target kind: `"abs"`, `"rel"`, `"lri"` (the link register) or `"rf"`.
        ub: Also set the uniform pointer.
        bdu: The uniform target kind when `ub`: 0 `a:unif`, 1 `r:unif`, 2 `lri`, 3 `rf` (4-7 are
            accepted and print nothing).
        offset: Byte offset of the target: signed for `rel`, unsigned for `abs`.
        raddr_a: The register read by an `rf` target.
        link: Write the return address to the link register (bit 23, which Mesa does not
            decode but the hardware honours).
        is_branch: Always True.
    """

    cond: str | None = None
    msfign: str | None = None
    bdi: str = "rel"
    ub: bool = False
    bdu: int = 0
    offset: int = 0
    raddr_a: int = 0
    link: bool = False

    is_branch = True

    def encode(self) -> int:
        """The instruction's 64-bit word.

        Returns:
            `encode(self)`.
        """
        from .encoding import encode

        return encode(self)

    def disassemble(self) -> str:
        """Mesa's disassembly text of the branch.

        Returns:
            One line of text.
        """
        from .disasm import disassemble_instruction

        return disassemble_instruction(self)

    def replace(self, **changes) -> BranchInstruction:
        """A copy with some fields changed.

        Args:
            **changes: Field names and their new values.

        Returns:
            The new branch.
        """
        return replace(self, **changes)


Instruction = AluInstruction | BranchInstruction

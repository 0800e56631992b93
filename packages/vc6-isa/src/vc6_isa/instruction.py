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
    """One half (add or mul) of an ALU instruction.

    `a` and `b` are operand muxes: 0-5 select accumulators r0-r5, 6 the register file
    through `raddr_a`, 7 through `raddr_b` (or the small immediate when the instruction
    carries the `smimm` signal). They mean nothing for operands the op does not read.
    `waddr`/`magic` name the destination: `magic=False` is `rf[waddr]`, `magic=True`
    one of the magic addresses (r0-r5 are 0-5, 6 is the null destination `-`).
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
        return replace(self, **changes)


NOP_ADD = AluOp("nop")
NOP_MUL = AluOp("nop")


@dataclass(frozen=True, slots=True)
class AluInstruction:
    """An ALU instruction: an add op, a mul op and a set of signals issued together.

    `sig_addr`/`sig_magic` are the destination of an address-writing signal (`ldtmu`,
    `ldunifrf`, `ldunifarf`, `ldvary`, `ldtlb`, `ldtlbu`); the word stores them in the
    cond field, so such an instruction carries no conditions or flag writes.
    `raddr_b` is a register number, a small-immediate index (with `smimm`) or a rotation
    amount (with `rot`).
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
        from .encoding import encode

        return encode(self)

    def disassemble(self) -> str:
        from .disasm import disassemble_instruction

        return disassemble_instruction(self)

    def replace(self, **changes) -> AluInstruction:
        return replace(self, **changes)


@dataclass(frozen=True, slots=True)
class BranchInstruction:
    """A branch: `b`/`bu` with a condition, code target and optional uniform target.

    * `cond`: None (always) or `a0`, `na0`, `alla`, `anyna`, `anya`, `allna`.
    * `msfign`: None, `p` or `q`.
    * `bdi`: code target kind, `abs`, `rel`, `lri` (link register) or `rf`.
    * `ub`: also set the uniform pointer; `bdu` is then its target kind code
      (0 `a:unif`, 1 `r:unif`, 2 `lri`, 3 `rf`; 4-7 are accepted and print nothing).
    * `offset`: byte offset (signed for `rel`, unsigned for `abs`); `raddr_a` the
      register read by an `rf` target; `link`: write the link register (bit 23, which
      Mesa does not decode but the hardware honours).
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
        from .encoding import encode

        return encode(self)

    def disassemble(self) -> str:
        from .disasm import disassemble_instruction

        return disassemble_instruction(self)

    def replace(self, **changes) -> BranchInstruction:
        return replace(self, **changes)


Instruction = AluInstruction | BranchInstruction

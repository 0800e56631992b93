"""Mesa-exact disassembly of V3D 4.2 instructions.

The text is byte for byte what Mesa's `v3d_qpu_disasm()` prints for V3D 4.2 (Mesa 22.0 -
24.0 format): the add part padded to column 30, `; ` and the mul part, then, if a signal is
printed, padding to column 60 and `; sig` for each. Branches print as
`b[u][.cond][p|q]  target[, utarget]`. Names, operand counts and modifiers come from the tables
in `vc6_isa.encoding`.

Two choices where Mesa's output is undefined (those words are absent from the golden vectors):
magic addresses 56-63 print as `waddr UNKNOWN n` (Mesa reads past its name table), and a
small immediate with index 48-63 never reaches the printer because `decode` rejects it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from .encoding import (
    ADD_OPS,
    ADDRESS_SIGNALS,
    BRANCH_UDESTS,
    MAGIC_NAMES,
    MUL_OPS,
    MUX_A,
    MUX_B,
    PRINTED_SIGNALS,
    SMALL_IMMEDIATES,
    OpSpec,
    decode,
)
from .instruction import AluInstruction, AluOp, BranchInstruction, Instruction

__all__ = [
    "branch_target",
    "disassemble",
    "disassemble_instruction",
    "format_small_immediate",
]

_ADD_COLUMN = 30  # where the mul part starts
_SIG_COLUMN = 60  # where the signal part starts


def _suffix(name: str | None) -> str:
    return "." + name if name else ""


def _dest(waddr: int, magic: bool) -> str:
    if not magic:
        return f"rf{waddr}"
    return MAGIC_NAMES.get(waddr) or f"waddr UNKNOWN {waddr}"


def format_small_immediate(index: int) -> str:
    """Text of small immediate `index`: decimal for -16..15, else `0x%08x`."""
    value = SMALL_IMMEDIATES[index]
    signed = value - (1 << 32) if value & 0x80000000 else value
    return str(signed) if -16 <= signed <= 15 else f"0x{value:08x}"


def _operand(mux: int, instr: AluInstruction) -> str:
    if mux == MUX_A:
        return f"rf{instr.raddr_a}"
    if mux == MUX_B:
        if "smimm" in instr.sigs:
            return format_small_immediate(instr.raddr_b)
        return f"rf{instr.raddr_b}"
    return f"r{mux}"


def _op_text(alu: AluOp, spec: OpSpec, instr: AluInstruction, show_cond: bool) -> str:
    parts = [alu.op]
    if show_cond:
        parts.append(_suffix(alu.cond))
    parts.append(_suffix(alu.pf))
    parts.append(_suffix(alu.uf))
    if spec.alu == "mul" and alu.op == "nop":
        return "".join(parts)
    parts.append(" ")
    if spec.has_dst:
        parts.append(_dest(alu.waddr, alu.magic) + _suffix(alu.pack))
    if spec.nsrc >= 1:
        if spec.has_dst:
            parts.append(", ")
        parts.append(_operand(alu.a, instr) + _suffix(alu.a_unpack))
    if spec.nsrc >= 2:
        parts.append(", " + _operand(alu.b, instr) + _suffix(alu.b_unpack))
    return "".join(parts)


def _sig_dest(instr: AluInstruction) -> str:
    if not instr.sig_magic:
        return f".rf{instr.sig_addr}"
    name = MAGIC_NAMES.get(instr.sig_addr)
    return f".{name}" if name else f".UNKNOWN{instr.sig_addr}"


def _alu_text(instr: AluInstruction) -> str:
    sigs = instr.sigs
    writes_address = sigs & ADDRESS_SIGNALS
    show_cond = not writes_address
    text = _op_text(instr.add, ADD_OPS[instr.add.op], instr, show_cond)
    text = text.ljust(_ADD_COLUMN) + "; "
    text += _op_text(instr.mul, MUL_OPS[instr.mul.op], instr, show_cond)
    printed = [s for s in PRINTED_SIGNALS if s in sigs]
    if printed:
        text = text.ljust(_SIG_COLUMN)
        for sig in printed:
            text += "; " + sig
            if sig in writes_address:
                text += _sig_dest(instr)
    return text


def _branch_text(instr: BranchInstruction, target_label: str | None = None) -> str:
    text = "bu" if instr.ub else "b"
    text += _suffix(instr.cond) + (instr.msfign or "") + "  "
    if target_label is not None and instr.bdi in ("abs", "rel"):
        text += target_label
    elif instr.bdi == "abs":
        text += f"zero_addr+0x{instr.offset & 0xFFFFFFFF:08x}"
    elif instr.bdi == "rel":
        offset = instr.offset & 0xFFFFFFFF
        text += str(offset - (1 << 32) if offset & 0x80000000 else offset)
    elif instr.bdi == "lri":
        text += "lri"
    else:
        text += f"rf{instr.raddr_a}"
    if instr.ub and instr.bdu < 4:
        udest = BRANCH_UDESTS[instr.bdu]
        text += ", " + (f"rf{instr.raddr_a}" if udest == "rf" else udest)
    return text


def disassemble_instruction(instr: Instruction) -> str:
    """Mesa's disassembly text of one instruction.

    Args:
        instr: A decoded instruction.

    Returns:
        One line of text, byte for byte what Mesa's `v3d_qpu_disasm` prints.
    """
    if instr.is_branch:
        return _branch_text(instr)
    return _alu_text(instr)


def branch_target(instr: BranchInstruction, index: int) -> int | None:
    """Instruction index a relative branch at `index` jumps to (None if not relative).

    A relative offset counts bytes from the instruction after the three delay slots.
    """
    if instr.bdi != "rel":
        return None
    offset = instr.offset & 0xFFFFFFFF
    offset = offset - (1 << 32) if offset & 0x80000000 else offset
    return index + 4 + offset // 8


def _as_words(word_or_words) -> list[int]:
    if isinstance(word_or_words, (int, np.integer)):
        return [int(word_or_words)]
    if isinstance(word_or_words, (bytes, bytearray, memoryview)):
        return [int(w) for w in np.frombuffer(bytes(word_or_words), dtype="<u8")]
    return [int(w) for w in np.asarray(word_or_words, dtype=np.uint64).reshape(-1)]


def disassemble(
    word_or_words: int | Iterable[int] | bytes | np.ndarray,
    *,
    labels: bool | Mapping[int, str] = False,
    hex_words: bool = False,
    addresses: bool = False,
) -> str:
    """Disassemble one word or a program into Mesa's text, one line per instruction.

    Args:
        word_or_words: One instruction word, or a sequence of them (a list, a uint64 array, or
            raw little-endian bytes).
        labels: True to name the targets of relative branches `L<index>` and print `L<index>:`
            lines before them (branches then show the label instead of the offset: text that
            `assemble_text` reads back); or a mapping of instruction index to label name.
        hex_words: Prefix each line with the word as `0x%016x`.
        addresses: Prefix each line with the byte address (`%04x`, 8 bytes per word).

    Returns:
        The text, lines joined with newlines.

    Raises:
        DecodeError: A word is not an instruction.
    """
    words = _as_words(word_or_words)
    instrs = [decode(w) for w in words]
    names: dict[int, str] = {}
    if isinstance(labels, Mapping):
        names = dict(labels)
    elif labels:
        for index, instr in enumerate(instrs):
            target = branch_target(instr, index) if instr.is_branch else None
            if target is not None and 0 <= target <= len(instrs):
                names.setdefault(target, f"L{target}")
    lines = []
    for index, (word, instr) in enumerate(zip(words, instrs)):
        if index in names:
            lines.append(f"{names[index]}:")
        prefix = ""
        if addresses:
            prefix += f"{index * 8:04x}: "
        if hex_words:
            prefix += f"0x{word:016x}  "
        if instr.is_branch:
            target = branch_target(instr, index)
            text = _branch_text(
                instr, names.get(target) if target is not None else None
            )
        else:
            text = _alu_text(instr)
        lines.append(prefix + text)
    if len(instrs) in names:
        lines.append(f"{names[len(instrs)]}:")
    return "\n".join(lines)

"""vc6_isa: the VideoCore VI (V3D 4.2) QPU instruction set.

The ISA table, encoder and decoder live in `vc6_isa.encoding`, Mesa-exact disassembly in
`vc6_isa.disasm`, the text assembler in `vc6_isa.textasm`; this module re-exports their public API.
"""

from .disasm import disassemble, disassemble_instruction
from .encoding import decode, encode
from .errors import AssembleError, DecodeError, EncodeError, ISAError, TextAssembleError
from .instruction import (
    NOP_ADD,
    NOP_MUL,
    SIGNAL_NAMES,
    AluInstruction,
    AluOp,
    BranchInstruction,
    Instruction,
)
from .textasm import TextProgram, assemble_text

__all__ = [
    "NOP_ADD",
    "NOP_MUL",
    "SIGNAL_NAMES",
    "AluInstruction",
    "AluOp",
    "AssembleError",
    "BranchInstruction",
    "DecodeError",
    "EncodeError",
    "ISAError",
    "Instruction",
    "TextAssembleError",
    "TextProgram",
    "assemble_text",
    "decode",
    "disassemble",
    "disassemble_instruction",
    "encode",
]  # fmt: skip

"""vc6_isa: the VideoCore VI (V3D 4.2) QPU instruction set.

The ISA table, encoder and decoder live in :mod:`vc6_isa.encoding`, Mesa-exact disassembly in
:mod:`vc6_isa.disasm`; this module re-exports their public API.
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
    "decode",
    "disassemble",
    "disassemble_instruction",
    "encode",
]  # fmt: skip

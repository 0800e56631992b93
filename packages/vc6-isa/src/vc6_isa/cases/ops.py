"""One case per ALU op of the encoding table, on corner-case operands: the sweep that shows, op by
op, whether the emulator computes what the QPU computes (float specials, denormals, NaN payloads,
integer extremes, shift counts past 31, f16 halves).

The ops are read from `vc6_isa.encoding` (every add- and mul-ALU op that writes a result
from one or two operands and has a pure value semantics in the emulator), so a new op row is
swept without an edit here. Each op runs in its plain form (no pack, no unpack) on the two
operand rows below and rotations of them; the rows are stored in a fixed order (see
`operand_rows`), so row k of `out` is the op on the k-th operand pair.
"""

from __future__ import annotations

import numpy as np

from .. import encoding
from ..asm import nop, qpu, r0, raw
from ..emulator.semantics import SEMANTICS
from ..instruction import NOP_ADD, NOP_MUL, AluInstruction, AluOp
from .case import Buffers, Case
from .probe import epilogue, load_rows, prologue, store

__all__ = ["CASES", "FLOATS", "INTEGERS", "SKIPPED", "operand_rows", "swept_ops"]

#: Float operands (as f32 bit patterns): zeros, ones, denormals, the normal range's ends,
#: infinities, quiet and signalling NaNs with payloads, values that round at .5, an f16 pair.
FLOATS = np.array([
    0x00000000, 0x80000000, 0x3F800000, 0xBFC00000,  # +0, -0, 1.0, -1.5
    0x00000001, 0x807FFFFF, 0x00800000, 0x7F7FFFFF,  # smallest denormal, -largest denormal, min normal, max
    0x7F800000, 0xFF800000, 0x7FC00000, 0x7F800001,  # +inf, -inf, quiet NaN, signalling NaN
    0xFFC12345, 0x40200000, 0xC0600000, 0x3C003555,  # NaN with payload, 2.5, -3.5, f16 pair (1.0, ~0.33)
], dtype=np.uint32)

#: Integer operands: zero, one, all ones, the int32 extremes, shift counts 31/32/33, halves and bytes.
INTEGERS = np.array([
    0x00000000, 0x00000001, 0xFFFFFFFF, 0x7FFFFFFF,
    0x80000000, 0x0000001F, 0x00000020, 0x00000021,
    0x0000FFFF, 0x00010000, 0x00FF00FF, 0xFF00FF00,
    0x00FFFFFF, 0x01000000, 0x12345678, 0xDEADBEEF,
], dtype=np.uint32)

#: Ops of the table left out, and why.
SKIPPED = {
    "flapush": "reads the flags, which no operand sets",
    "flbpush": "reads the flags, which no operand sets",
    "flpop": "reads the flags, which no operand sets",
    "ftoc": "fragment shaders only (coverage of the sample mask)",
}


def operand_rows() -> np.ndarray:
    """The six input rows, in rf0..rf5: floats, integers, and rotations of each."""
    return np.stack([FLOATS, INTEGERS, np.roll(FLOATS, 1), np.roll(FLOATS, 5), np.roll(INTEGERS, 1),
                     np.roll(INTEGERS, 7)])


#: (a, b) register-file rows of each stored result, for two-operand ops; one-operand ops use the a's.
PAIRS = ((0, 2), (0, 3), (1, 4), (1, 5), (0, 1), (1, 0))
SINGLES = (0, 1, 2)


def swept_ops() -> list[tuple[str, str]]:
    """(ALU, op name) of every op the sweep runs, in table order (add ALU first)."""
    found = []
    for alu, table in (("add", encoding.ADD_OPS), ("mul", encoding.MUL_OPS)):
        for name, spec in table.items():
            if spec.has_dst and spec.nsrc in (1, 2) and name in SEMANTICS and name not in SKIPPED:
                found.append((alu, name))
    return found


def _word(alu: str, name: str, a: int, b: int) -> int:
    """The instruction `name r0, rf<a>[, rf<b>]` in the given ALU, the other ALU idle."""
    spec = (encoding.ADD_OPS if alu == "add" else encoding.MUL_OPS)[name]
    op = AluOp(name, waddr=0, magic=True, a=encoding.MUX_A, b=encoding.MUX_B if spec.nsrc == 2 else 0)
    instr = AluInstruction(add=op if alu == "add" else NOP_ADD, mul=op if alu == "mul" else NOP_MUL,
                           raddr_a=a, raddr_b=b if spec.nsrc == 2 else 0)
    return encoding.encode(instr)


def _case(alu: str, name: str) -> Case:
    spec = (encoding.ADD_OPS if alu == "add" else encoding.MUL_OPS)[name]
    pairs = PAIRS if spec.nsrc == 2 else tuple((a, a) for a in SINGLES)

    @qpu
    def kernel(asm) -> None:
        prologue()
        load_rows(len(operand_rows()))
        for a, b in pairs:
            raw(_word(alu, name, a, b))
            if spec.sfu is not None:  # an SFU result is readable two instructions later
                nop()
                nop()
            store(r0)
        epilogue()

    def buffers() -> Buffers:
        return {"rows": operand_rows()}

    return Case(name=f"op.{alu}.{name}", summary=f"{alu}-ALU {name} on corner-case operands, plain form",
                kernel=kernel, rows=len(pairs), buffers=buffers)


CASES = tuple(_case(alu, name) for alu, name in swept_ops())

"""Disassembler: Mesa's layout rules and the multi-word options (labels, hex, addresses)."""

from __future__ import annotations

import numpy as np
import pytest
from vc6_isa import (
    AluInstruction,
    AluOp,
    BranchInstruction,
    DecodeError,
    assemble_text,
    decode,
    disassemble,
    disassemble_instruction,
    encode,
)
from vc6_isa.disasm import branch_target, format_small_immediate

NOP = 0x3C003186BB800000


def test_padding_columns():
    text = disassemble(0x3C203186BB800000)  # nop ; nop ; thrsw
    assert text == "nop" + " " * 27 + "; nop" + " " * 25 + "; thrsw"
    assert text.index("; nop") == 30 and text.index("; thrsw") == 60
    assert not disassemble(NOP).endswith(" ")


def test_long_add_part_gets_no_padding():
    instr = AluInstruction(
        AluOp(
            "fcmp", 61, False, 4, 2, pack="h", a_unpack="abs", b_unpack="l", cond="ifna"
        ),
        AluOp("vfmul", 0, True, 1, 2),
    )
    text = disassemble_instruction(instr)
    assert text.startswith("fcmp.ifna rf61.h, r4.abs, r2.l; vfmul r0, r1, r2")


def test_condition_hidden_when_signal_writes_address():
    instr = AluInstruction(
        AluOp("add", 0, True, 1, 2),
        sigs=frozenset({"ldtmu"}),
        sig_addr=12,
        sig_magic=False,
    )
    assert disassemble_instruction(instr).endswith("; ldtmu.rf12")
    assert decode(encode(instr)).add.cond is None


@pytest.mark.parametrize(
    ("index", "text"),
    [(0, "0"), (15, "15"), (16, "-16"), (31, "-1"), (40, "0x3f800000")],
)
def test_small_immediate_text(index, text):
    assert format_small_immediate(index) == text
    instr = AluInstruction(
        AluOp("add", 0, True, 7, 7), sigs=frozenset({"smimm"}), raddr_b=index
    )
    assert disassemble_instruction(instr).startswith(f"add r0, {text}, {text}")


def test_unknown_magic_addresses():
    instr = AluInstruction(
        AluOp("add", 29, True, 1, 2),
        sigs=frozenset({"ldunifrf"}),
        sig_addr=50,
        sig_magic=True,
    )
    text = disassemble_instruction(instr)
    assert text.startswith("add waddr UNKNOWN 29, r1, r2")
    assert text.endswith("; ldunifrf.UNKNOWN50")
    # 56-63 are past Mesa's name table; we print them like the other unnamed ones.
    assert disassemble_instruction(AluInstruction(AluOp("tidx", 60))).startswith(
        "tidx waddr UNKNOWN 60"
    )


@pytest.mark.parametrize(
    ("branch", "text"),
    [
        (BranchInstruction(offset=-40, cond="anyna"), "b.anyna  -40"),
        (BranchInstruction(bdi="abs", offset=0xC0000080), "b  zero_addr+0xc0000080"),
        (
            BranchInstruction(bdi="rf", raddr_a=19, cond="anya", msfign="p"),
            "b.anyap  rf19",
        ),
        (
            BranchInstruction(bdi="lri", ub=True, bdu=0, cond="na0"),
            "bu.na0  lri, a:unif",
        ),
        (BranchInstruction(bdi="rf", ub=True, bdu=3, raddr_a=35), "bu  rf35, rf35"),
        (BranchInstruction(ub=True, bdu=5, offset=8), "bu  8"),  # bdu 4-7 print nothing
    ],
)
def test_branch_text(branch, text):
    assert disassemble_instruction(branch) == text
    assert disassemble(encode(branch)) == text


def test_many_words_give_one_line_each_from_any_container():
    words = [NOP, 0x3C203186BB800000, NOP]
    expected = disassemble(NOP) + "\n" + disassemble(words[1]) + "\n" + disassemble(NOP)
    assert disassemble(words) == expected
    assert disassemble(np.array(words, dtype=np.uint64)) == expected
    assert disassemble(np.array(words, dtype="<u8").tobytes()) == expected


def test_labels_hex_and_addresses():
    source = """
    top:
        nop ; nop
        b.na0  top      # back to index 0
        nop
        nop
        nop
        b  end          // forward to index 9
        nop
        nop
        nop
    end:
    """
    words = assemble_text(source).words
    text = disassemble(words, labels=True)
    lines = text.split("\n")
    assert lines[0] == "L0:" and lines[2] == "b.na0  L0"
    assert lines[6] == "b  L9" and lines[-1] == "L9:"
    assert assemble_text(text).tolist() == [int(w) for w in words]
    plain = disassemble(words)
    # Offsets count from the instruction after the three delay slots: 0 - (1 + 4) words.
    assert "b.na0  -40" in plain and "b  0" in plain
    dumped = disassemble(words, hex_words=True, addresses=True).split("\n")
    assert dumped[1].startswith(f"0008: 0x{int(words[1]):016x}  b.na0  -40")


def test_branch_target_index():
    assert branch_target(BranchInstruction(offset=-32), 1) == 1
    assert branch_target(BranchInstruction(offset=0), 5) == 9
    assert branch_target(BranchInstruction(bdi="abs", offset=0), 5) is None


def test_invalid_word_raises():
    with pytest.raises(DecodeError):
        disassemble([NOP, 0])

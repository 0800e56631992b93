"""Golden vectors from Mesa's V3D 4.2 disassembler (see data/README.md).

Every row must disassemble to Mesa's exact text, re-encode to Mesa's canonical word (or, for
Mesa's PACKFAIL/BADPACK rows, refuse / encode correctly), and survive the text round trip
disassemble -> assemble_text -> encode. Every invalid word must raise DecodeError.

The public vector files ship in tests/data/ ($VC6_VECTORS overrides the folder; see
mesa_vectors.py), so every test here runs on a plain clone.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import vc6_isa
from mesa_vectors import DISASM_FILE, INVALID_FILE, vectors_dir
from vc6_isa.encoding import LINK_BIT

# Row counts of the files (data/README.md).
PUBLIC_DISASM_ROWS = 7235
PUBLIC_INVALID_ROWS = 2001


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


@pytest.fixture(scope="module")
def disasm_rows() -> list[dict[str, str]]:
    rows = _rows(vectors_dir() / DISASM_FILE)
    assert len(rows) == PUBLIC_DISASM_ROWS
    return rows


@pytest.fixture(scope="module")
def invalid_rows() -> list[dict[str, str]]:
    rows = _rows(vectors_dir() / INVALID_FILE)
    assert len(rows) == PUBLIC_INVALID_ROWS
    return rows


def _report(failures: list[str], total: int) -> str:
    return f"{len(failures)} of {total} rows fail, first ones:\n" + "\n".join(
        failures[:15]
    )


def test_disassembly_is_mesa_text(disasm_rows):
    failures = []
    for row in disasm_rows:
        text = vc6_isa.disassemble(int(row["word"], 16))
        if text != row["disasm"]:
            failures.append(f"{row['word']}: got {text!r}, Mesa {row['disasm']!r}")
    assert not failures, _report(failures, len(disasm_rows))


def test_reencoding_matches_mesa(disasm_rows):
    """encode(decode(word)) is Mesa's canonical word, except where Mesa is wrong or refuses.

    The branch link bit (bit 23) is kept on purpose: Mesa drops it, the hardware honours it.
    """
    failures = []
    counts = {"word": 0, "PACKFAIL": 0, "BADPACK": 0}
    for row in disasm_rows:
        word = int(row["word"], 16)
        instr = vc6_isa.decode(word)
        canonical = row["canonical"]
        if canonical == "PACKFAIL":
            counts["PACKFAIL"] += 1
            # Mesa refuses these; we must refuse too or produce a word with the same text.
            try:
                encoded = instr.encode()
            except vc6_isa.EncodeError:
                continue
            if vc6_isa.disassemble(encoded) != row["disasm"]:
                failures.append(
                    f"{row['word']}: PACKFAIL row encoded to a different text"
                )
            continue
        encoded = instr.encode()
        if canonical.startswith("BADPACK:"):
            counts["BADPACK"] += 1
            mesa_word = int(canonical.split(":")[1], 16)
            # Mesa's encoder output is wrong; ours must decode back to the same text.
            if vc6_isa.disassemble(encoded) != row["disasm"] or encoded == mesa_word:
                failures.append(
                    f"{row['word']}: BADPACK row encoded to 0x{encoded:016x}"
                )
            continue
        counts["word"] += 1
        expected = int(canonical, 16)
        if word >> 58 == 0:
            expected |= word & LINK_BIT
        if encoded != expected:
            failures.append(
                f"{row['word']}: encoded 0x{encoded:016x}, Mesa {canonical}"
            )
    assert not failures, _report(failures, len(disasm_rows))
    assert sum(counts.values()) == len(disasm_rows)
    assert counts == {"word": 7206, "PACKFAIL": 6, "BADPACK": 23}


def test_invalid_words_raise_decode_error(invalid_rows):
    accepted = []
    for row in invalid_rows:
        word = int(row["word"], 16)
        try:
            instr = vc6_isa.decode(word)
        except vc6_isa.DecodeError as exc:
            assert exc.word == word
            continue
        accepted.append(f"{row['word']} ({row['source']}) decoded as {instr}")
    assert not accepted, _report(accepted, len(invalid_rows))


def test_text_round_trip(disasm_rows):
    """decode -> disassemble -> assemble_text -> encode gives a word with the same text."""
    failures = []
    for row in disasm_rows:
        text = vc6_isa.disassemble(int(row["word"], 16))
        try:
            program = vc6_isa.assemble_text(text)
        except vc6_isa.TextAssembleError as exc:
            if row["canonical"] != "PACKFAIL":
                failures.append(f"{row['word']}: {exc}")
            continue
        again = vc6_isa.disassemble(program.words)
        if again != text:
            failures.append(f"{row['word']}: {text!r} came back as {again!r}")
    assert not failures, _report(failures, len(disasm_rows))


def test_disassembling_all_rows_at_once_gives_one_line_each(disasm_rows):
    words = [int(row["word"], 16) for row in disasm_rows]
    assert vc6_isa.disassemble(words).split("\n") == [
        row["disasm"] for row in disasm_rows
    ]

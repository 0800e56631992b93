"""The vc6-isa command line: dis/as, input detection, errors and exit codes."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from vc6_isa import assemble_text, disassemble
from vc6_isa.cli import main

SOURCE = """\
# count down rf2
    eidx r0 ; nop ; ldunif
loop:
    sub.pushz rf2, rf2, 1 ; mov r1, r0
    b.na0  loop
    nop
    nop
    nop
    nop ; nop ; thrsw
    nop
    nop
"""


@pytest.fixture
def program(tmp_path):
    words = assemble_text(SOURCE).words
    path = tmp_path / "prog.bin"
    path.write_bytes(words.astype("<u8").tobytes())
    return path, words


def test_as_writes_little_endian_binary(tmp_path, capsys):
    src = tmp_path / "prog.s"
    src.write_text(SOURCE)
    out = tmp_path / "prog.bin"
    assert main(["as", str(src), "-o", str(out)]) == 0
    words = np.frombuffer(out.read_bytes(), dtype="<u8")
    assert words.tolist() == assemble_text(SOURCE).tolist()
    assert main(["as", str(src), "-o", str(tmp_path / "prog.hex"), "--hex"]) == 0
    lines = (tmp_path / "prog.hex").read_text().split()
    assert [int(line, 16) for line in lines] == words.tolist()


def test_dis_binary_with_labels(program, capsys):
    path, words = program
    assert main(["dis", str(path)]) == 0
    out = capsys.readouterr().out
    assert "L1:\n" in out and "b.na0  L1\n" in out
    assert assemble_text(out).tolist() == words.tolist()  # the listing assembles back


def test_dis_hex_text_input_and_options(program, tmp_path, capsys):
    _, words = program
    hex_file = tmp_path / "prog.txt"
    hex_file.write_text(
        "# words\n" + "\n".join(f"0x{int(w):016x}" for w in words) + "\n"
    )
    assert main(["dis", str(hex_file), "--no-labels"]) == 0
    assert capsys.readouterr().out == disassemble(words) + "\n"
    assert main(["dis", str(hex_file), "--hex", "--addresses"]) == 0
    first = capsys.readouterr().out.split("\n")[0]
    assert first == f"0000: 0x{int(words[0]):016x}  " + disassemble(words[0])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x00\xff\x01", "3 bytes is not a whole number of 8-byte instruction words"),
        (
            (0).to_bytes(8, "little"),
            "word 0 (byte 0x0): 0x0000000000000000: mul opcode 0",
        ),
        (
            b"3c003186bb800000\n57403006bbb80000\n",
            "word 1 (byte 0x8): 0x57403006bbb80000",
        ),
    ],
)
def test_dis_bad_input_is_one_line_exit_1(tmp_path, capsys, data, message):
    path = tmp_path / "bad"
    path.write_bytes(data)
    assert main(["dis", str(path)]) == 1
    err = capsys.readouterr().err
    assert (
        err.count("\n") == 1 and err.startswith("vc6-isa: error: ") and message in err
    )


def test_as_error_points_at_line_and_column(tmp_path, capsys):
    src = tmp_path / "bad.s"
    src.write_text("nop\n  add r0, r9, r2\n")
    assert main(["as", str(src), "-o", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert (
        err
        == f"vc6-isa: error: {src}:2:11: expected a source (r0-r5, rfN or a small immediate), got 'r9'\n"
    )
    assert not (tmp_path / "out").exists()


def test_missing_file_is_exit_1(tmp_path, capsys):
    assert main(["dis", str(tmp_path / "missing")]) == 1
    assert "cannot read" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [[], ["dis"], ["as", "x.s"], ["frob", "x"]])
def test_usage_errors_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2


def test_module_entry_point_uses_exit_codes(tmp_path):
    run = [sys.executable, "-m", "vc6_isa.cli"]
    usage = subprocess.run(run, check=False, capture_output=True, text=True)
    assert usage.returncode == 2 and "usage:" in usage.stderr
    ok = subprocess.run(
        [*run, "dis", "-"],
        check=False,
        input=b"3c203186bb800000\n",
        capture_output=True,
    )
    assert ok.returncode == 0
    assert ok.stdout.decode().rstrip("\n") == disassemble(0x3C203186BB800000)


def test_dis_takes_instruction_words_as_arguments(tmp_path, capsys):
    assert main(["dis", "0x3c203192bb814000", "3c203186bb800000"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "barrierid syncb               ; nop                         ; thrsw",
        "nop                           ; nop                         ; thrsw",
    ]
    assert main(["dis", "0x3c203192bb814000", "nonsense"]) == 1
    assert "'nonsense' is not a hex instruction word" in capsys.readouterr().err

"""The `vc6-isa` command: disassemble and assemble QPU programs.

    vc6-isa dis FILE [--hex] [--addresses] [--no-labels]   # binary or hex words -> Mesa text
    vc6-isa dis WORD [WORD ...]                             # e.g. vc6-isa dis 0x3c203192bb814000
    vc6-isa as FILE -o OUT [--hex]                          # Mesa text -> binary (or hex words)

`FILE` may be `-` for standard input; an argument of `dis` that is no file but a hex word
(up to 16 digits, `0x` optional) is that instruction word. Exit status: 0 on success, 1 when
the input is not a valid program (one `vc6-isa: error: ...` line on stderr), 2 on a usage
error.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Sequence

import numpy as np

from .disasm import disassemble
from .encoding import decode
from .errors import AssembleError, DecodeError
from .textasm import assemble_text

__all__ = ["main", "read_words"]

_HEX_WORD = re.compile(r"(0[xX])?[0-9a-fA-F]{1,16}")


class _InputError(Exception):
    """Bad input data: reported as one line, exit status 1."""


def read_words(data: bytes, name: str = "input") -> np.ndarray:
    """Words of a program file: one hex word per line (`#` comments allowed), or raw
    little-endian 64-bit words. Text is recognised when every non-blank line is a hex word."""
    text = _as_text(data)
    if text is not None:
        lines = [line.split("#", 1)[0].strip() for line in text.splitlines()]
        lines = [line for line in lines if line]
        if lines and all(_HEX_WORD.fullmatch(line) for line in lines):
            return np.array([int(line, 16) for line in lines], dtype=np.uint64)
    if len(data) % 8:
        raise _InputError(
            f"{name}: {len(data)} bytes is not a whole number of 8-byte instruction words"
            " (and the file is not hex text with one word per line)"
        )
    return np.frombuffer(data, dtype="<u8").astype(np.uint64)


def _as_text(data: bytes) -> str | None:
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        return None
    return text if all(c.isprintable() or c in "\r\n\t" for c in text) else None


def _read(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise _InputError(f"cannot read {path}: {exc.strerror}") from None


def _dis_input(sources: list[str]) -> tuple[np.ndarray, str]:
    """(words, name for messages) from `dis`'s arguments: one file (or -), or hex words."""
    if len(sources) == 1 and (sources[0] == "-" or os.path.exists(sources[0])):
        name = "<stdin>" if sources[0] == "-" else sources[0]
        return read_words(_read(sources[0]), name), name
    if all(_HEX_WORD.fullmatch(source) for source in sources):
        return np.array([int(source, 16) for source in sources], dtype=np.uint64), "arguments"
    if len(sources) == 1:
        _read(sources[0])  # reports why the file cannot be read
    bad = next(source for source in sources if not _HEX_WORD.fullmatch(source))
    raise _InputError(f"{bad!r} is not a hex instruction word (give one FILE, or words such as 0x3c203186bb800000)")


def _dis(args: argparse.Namespace) -> None:
    words, name = _dis_input(args.file)
    for index, word in enumerate(words):
        try:
            decode(int(word))
        except DecodeError as exc:
            raise _InputError(
                f"{name}: word {index} (byte 0x{index * 8:x}): {exc}"
            ) from None
    text = disassemble(
        words, labels=args.labels, hex_words=args.hex, addresses=args.addresses
    )
    sys.stdout.write(text + "\n" if text else "")


def _as(args: argparse.Namespace) -> None:
    data = _read(args.file)
    try:
        source = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _InputError(f"{args.file}: not UTF-8 text (byte {exc.start})") from None
    name = "<stdin>" if args.file == "-" else args.file
    try:
        program = assemble_text(source, filename=name)
    except AssembleError as exc:
        raise _InputError(_one_line(exc)) from None
    if args.hex:
        payload = "".join(f"{int(w):016x}\n" for w in program.words).encode()
    else:
        payload = program.to_bytes()
    if args.output == "-":
        sys.stdout.buffer.write(payload)
        return
    try:
        with open(args.output, "wb") as handle:
            handle.write(payload)
    except OSError as exc:
        raise _InputError(f"cannot write {args.output}: {exc.strerror}") from None


def _one_line(exc: AssembleError) -> str:
    where = exc.filename or ""
    if exc.line is not None:
        where += f":{exc.line}" + (f":{exc.column}" if exc.column is not None else "")
    return f"{where}: {exc.message}" if where else exc.message


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `vc6-isa` (the docs' command-line reference is generated from it).

    Returns:
        The parser, with the subcommands `dis` and `as`.
    """
    parser = argparse.ArgumentParser(
        prog="vc6-isa",
        description="Disassemble and assemble VideoCore VI (V3D 4.2) QPU programs"
        " (Mesa's disassembly syntax).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    dis = commands.add_parser(
        "dis",
        help="disassemble a program (raw little-endian words or one hex word per line)",
    )
    dis.add_argument(
        "file",
        metavar="FILE|WORD",
        nargs="+",
        help="program file, - for standard input, or instruction words in hex (0x3c203186bb800000)",
    )
    dis.add_argument(
        "--hex", action="store_true", help="show each instruction word in hex"
    )
    dis.add_argument("--addresses", action="store_true", help="show each byte address")
    dis.add_argument(
        "--no-labels",
        dest="labels",
        action="store_false",
        help="print relative branch targets as byte offsets instead of labels",
    )
    dis.set_defaults(run=_dis)
    asm = commands.add_parser(
        "as", help="assemble Mesa-syntax text into a binary program"
    )
    asm.add_argument(
        "file", metavar="FILE", help="source file, or - for standard input"
    )
    asm.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="OUT",
        help="output file, or - for stdout",
    )
    asm.add_argument("--hex", action="store_true", help="write one hex word per line")
    asm.set_defaults(run=_as)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except _InputError as exc:
        print(f"vc6-isa: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The errors every part of vc6_isa raises for bad input.

They live in one module so that the encoder, decoder, text assembler and the Python DSL all
raise the same types: callers catch `AssembleError` whichever assembler they used.
All derive from `ValueError` (the input was wrong, not the program's state).
"""

from __future__ import annotations

__all__ = [
    "AssembleError",
    "DecodeError",
    "EncodeError",
    "ISAError",
    "TextAssembleError",
]


class ISAError(ValueError):
    """Base class of every vc6_isa input error."""


class DecodeError(ISAError):
    """A 64-bit word is not a V3D 4.2 instruction (Mesa's decoder would refuse it)."""

    def __init__(self, message: str, word: int | None = None) -> None:
        self.word = word
        if word is not None:
            message = f"0x{word:016x}: {message}"
        super().__init__(message)


class EncodeError(ISAError):
    """An instruction value cannot be expressed as a V3D 4.2 instruction word."""


class AssembleError(ISAError):
    """Assembly source is wrong; `line`/`column` (1-based) say where, when known."""

    def __init__(
        self,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        source_line: str | None = None,
        filename: str | None = None,
    ) -> None:
        self.message = message
        self.line = line
        self.column = column
        self.source_line = source_line
        self.filename = filename
        super().__init__(self._format())

    def _format(self) -> str:
        where = self.filename or ""
        if self.line is not None:
            where += f"{':' if where else 'line '}{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        text = f"{where}: {self.message}" if where else self.message
        if self.source_line is not None:
            text += f"\n    {self.source_line}"
            if self.column is not None:
                text += "\n    " + " " * (self.column - 1) + "^"
        return text


class TextAssembleError(AssembleError):
    """An error in text assembly source (`vc6_isa.assemble_text`)."""

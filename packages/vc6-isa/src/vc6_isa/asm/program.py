"""`@qpu`, `assemble()` and the `Program` it returns."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

import numpy as np

from .assembly import Assembly, activate, deactivate
from .build import program_words
from .errors import dsl_error

__all__ = ["Program", "assemble", "get_label_positions", "qpu"]

P = ParamSpec("P")
T = TypeVar("T")


class Program:
    """An assembled program, ready for `Device.dispatch`.

    It behaves as a sequence of words: `len(program)`, iteration, `numpy.asarray(program)`.

    Attributes:
        words: The instruction words (numpy uint64, one per instruction).
        labels: Label name to instruction index (the byte offset is 8 times that).
    """

    __slots__ = ("labels", "words")

    def __init__(self, words: np.ndarray, labels: dict[str, int]) -> None:
        """Wrap assembled words (`assemble` makes programs).

        Args:
            words: The instruction words.
            labels: Label name to instruction index.
        """
        self.words = words
        self.labels = labels

    def __len__(self) -> int:
        return len(self.words)

    def __iter__(self):
        return iter(self.words)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.words if dtype is None else self.words.astype(dtype)

    def tolist(self) -> list[int]:
        """The words as Python ints (py-videocore6's `assemble` returned such a list).

        Returns:
            One int per instruction.
        """
        return [int(w) for w in self.words]

    def to_bytes(self) -> bytes:
        """The program as the QPUs read it.

        Returns:
            Raw little-endian 64-bit words.
        """
        return self.words.astype("<u8").tobytes()

    def disassembly(self, *, hex_words: bool = False, addresses: bool = False) -> str:
        """Mesa's text of every instruction, with this program's labels in their places.

        Args:
            hex_words: Prefix each line with the word in hex.
            addresses: Prefix each line with its byte address.

        Returns:
            The text, one line per instruction or label.
        """
        from ..disasm import disassemble

        names = {}
        for name, index in self.labels.items():
            names.setdefault(index, name)
        return disassemble(
            self.words, labels=names, hex_words=hex_words, addresses=addresses
        )

    def __repr__(self) -> str:
        return (
            f"<Program: {len(self.words)} instructions, labels {sorted(self.labels)}>"
        )


def qpu(
    func: Callable[Concatenate[Assembly, P], T],
) -> Callable[Concatenate[Assembly, P], T]:
    """Mark a function as a QPU program: `func(asm, ...)` writes its instructions into `asm`.

    While it runs, the DSL names (`add`, `L`, `b`, ...) act on `asm`, which is held in a context
    variable, not in the caller's globals. A `@qpu` function can call another with the same
    assembly (`helper(asm, ...)`); `assemble` builds the program.

    Args:
        func: The program: a function whose first parameter is the `Assembly`.

    Returns:
        The function, marked as a QPU program.
    """

    @functools.wraps(func)
    def run(asm: Assembly, *args: P.args, **kwargs: P.kwargs) -> T:
        if not isinstance(asm, Assembly):
            raise dsl_error(
                f"{func.__name__}() takes the Assembly being built as its first argument; "
                f"build a program with vc6_isa.asm.assemble({func.__name__}, ...)"
            )
        token = activate(asm)
        try:
            return func(asm, *args, **kwargs)
        finally:
            deactivate(token)

    return run


def _build(prog: Callable[..., Any], args: tuple, kwargs: dict) -> Assembly:
    asm = Assembly()
    token = activate(asm)
    try:
        prog(asm, *args, **kwargs)
    finally:
        deactivate(token)
    return asm


def assemble(
    prog: Callable[Concatenate[Assembly, P], Any], *args: P.args, **kwargs: P.kwargs
) -> Program:
    """Run a QPU program function on a fresh `Assembly` and encode the result.

    Args:
        prog: A `@qpu` function, or any function taking the assembly first (py-videocore6's
            `lambda asm: kernel(asm, n)` works).
        *args: Further positional arguments for `prog`.
        **kwargs: Keyword arguments for `prog`.

    Returns:
        The encoded program.

    Raises:
        AssembleError: An instruction cannot be encoded, or a label is unknown or defined twice;
            the message points at the line of `prog` that asked for it.
    """
    asm = _build(prog, args, kwargs)
    words = np.array(program_words(asm), dtype=np.uint64)
    return Program(words, dict(asm.labels))


def get_label_positions(
    prog: Callable[..., Any], *args: Any, **kwargs: Any
) -> dict[str, int]:
    """py-videocore6's helper: where the labels of a program are.

    Args:
        prog: The QPU program function.
        *args: Positional arguments for `prog`.
        **kwargs: Keyword arguments for `prog`.

    Returns:
        Label name to byte offset in the program.
    """
    return {
        name: 8 * index for name, index in _build(prog, args, kwargs).labels.items()
    }

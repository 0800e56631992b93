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
    """An assembled program: `words` (numpy uint64, one per instruction) and `labels`
    (label name -> instruction index; the byte offset is 8 times that)."""

    __slots__ = ("labels", "words")

    def __init__(self, words: np.ndarray, labels: dict[str, int]) -> None:
        self.words = words
        self.labels = labels

    def __len__(self) -> int:
        return len(self.words)

    def __iter__(self):
        return iter(self.words)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.words if dtype is None else self.words.astype(dtype)

    def tolist(self) -> list[int]:
        return [int(w) for w in self.words]

    def to_bytes(self) -> bytes:
        """The program as raw little-endian 64-bit words (what the QPUs read)."""
        return self.words.astype("<u8").tobytes()

    def disassembly(self, *, hex_words: bool = False, addresses: bool = False) -> str:
        """Mesa's text for every instruction, with this program's labels at their places."""
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
    """Mark a function as a QPU program: `func(asm, ...)` writes into `asm`.

    While it runs, the DSL names (`add`, `L`, `b` ...) act on `asm`, which is held in a
    context variable, not in the caller's globals. A @qpu function can call another with the
    same assembly (`helper(asm, ...)`); build a program with `assemble`.
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
    """Run `prog(asm, *args, **kwargs)` on a fresh Assembly and encode the result.

    `prog` is a @qpu function or any function taking the assembly first (py-videocore6's
    `lambda asm: kernel(asm, n)` works). Raises AssembleError at the offending DSL line.
    """
    asm = _build(prog, args, kwargs)
    words = np.array(program_words(asm), dtype=np.uint64)
    return Program(words, dict(asm.labels))


def get_label_positions(
    prog: Callable[..., Any], *args: Any, **kwargs: Any
) -> dict[str, int]:
    """py-videocore6's helper: label name -> byte offset in the program."""
    return {
        name: 8 * index for name, index in _build(prog, args, kwargs).labels.items()
    }

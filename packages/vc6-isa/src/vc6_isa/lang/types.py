"""The value types of the language: 16-lane `Int`, `Float`, `Bool` vectors and `Ptr[T]`.

`Int`, `Float` and `Ptr` are what kernels name in annotations (`p: Ptr[Int]`) and call as
constructors (`Int(0)`, `Float(k + 1)`); outside a kernel calling them raises `LangError`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import LangError

__all__ = ["BOOL", "FLOAT", "INT", "Float", "Int", "LangType", "Ptr", "ptr_of"]


@dataclass(frozen=True)
class LangType:
    """A value type: `kind` is `int`, `float`, `bool` or `ptr` (then `elem` is the
    element type, `INT` or `FLOAT`)."""

    kind: str
    elem: LangType | None = None

    def __str__(self) -> str:
        if self.kind == "ptr":
            return f"Ptr[{self.elem}]"
        return {"int": "Int", "float": "Float", "bool": "Bool"}[self.kind]

    @property
    def dtype(self) -> np.dtype:
        """The numpy dtype of one lane (pointers are 32-bit addresses)."""
        return np.dtype(np.float32 if self.kind == "float" else np.int32)


INT = LangType("int")
FLOAT = LangType("float")
BOOL = LangType("bool")


def ptr_of(elem: LangType) -> LangType:
    return LangType("ptr", elem)


class _TypeName:
    """`Int` / `Float`: an annotation, and a constructor inside kernels."""

    def __init__(self, name: str, lang_type: LangType) -> None:
        self.__name__ = name
        self.lang_type = lang_type

    def __call__(self, *args, **kwargs):
        raise LangError(
            f"{self.__name__}(...) is only meaningful inside a @kernel or @inline function",
            "call the kernel instead of the constructor; kernels are compiled, not run by Python",
        )

    def __repr__(self) -> str:
        return self.__name__


class _PtrName:
    """`Ptr[Int]` / `Ptr[Float]`: a pointer parameter's annotation."""

    __name__ = "Ptr"

    def __getitem__(self, elem: object) -> LangType:
        if isinstance(elem, _TypeName):
            return ptr_of(elem.lang_type)
        raise LangError(
            f"Ptr[{elem!r}] is not a pointer type", "write Ptr[Int] or Ptr[Float]"
        )

    def __repr__(self) -> str:
        return "Ptr"


Int = _TypeName("Int", INT)
Float = _TypeName("Float", FLOAT)
Ptr = _PtrName()

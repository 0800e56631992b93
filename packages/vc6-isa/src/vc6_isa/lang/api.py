"""The functions a kernel calls: `index`, `me`, `num_qpus`, `gather`, `receive`, `store`,
`rotate`, `static_range`, `to_float`, `to_int`, the SFU functions and `@inline`.

They are markers: the compiler recognises them in a kernel's source. Called from ordinary
Python they raise `LangError`, because a kernel's body is never run by Python itself.
"""

from __future__ import annotations

import ast
import functools
import inspect
import textwrap
from collections.abc import Callable

from .errors import LangError, SourceInfo

__all__ = [
    "BUILTIN_NAMES",
    "Inline",
    "exp2",
    "gather",
    "index",
    "inline",
    "log2",
    "me",
    "num_qpus",
    "parse_function",
    "receive",
    "recip",
    "rotate",
    "rsqrt",
    "sin",
    "sqrt",
    "static_range",
    "store",
    "to_float",
    "to_int",
]


def _marker(name: str, doc: str) -> Callable:
    def marker(*args, **kwargs):
        raise LangError(
            f"{name}() can only be used inside a @kernel or @inline function",
            "call it from a kernel's body; kernels are compiled, not run by Python",
        )

    marker.__name__ = marker.__qualname__ = name
    marker.__doc__ = doc
    marker.lang_builtin = name  # type: ignore[attr-defined]
    return marker


index = _marker("index", "The lane number 0..15 (an `Int`).")
me = _marker(
    "me", "This QPU's number 0..num_qpus()-1 (an `Int`, the same in every lane)."
)
num_qpus = _marker("num_qpus", "How many QPUs run the kernel (the call's `num_qpus=`).")
gather = _marker(
    "gather", "`gather(p)`: start a per-lane load of `*p`; `receive()` gets the result."
)
receive = _marker(
    "receive",
    "`receive()`: the oldest gathered vector (type of its pointer's element).",
)
store = _marker("store", "`store(v, p)`: write lane i of `v` to `p`'s lane i.")
rotate = _marker(
    "rotate",
    "`rotate(x, n)`: lane i gets lane (i - n) mod 16 of `x`; n a constant or Int.",
)
static_range = _marker(
    "static_range",
    "`for k in static_range(...)`: unrolled at compile time (k a constant).",
)
to_float = _marker("to_float", "`Int` -> `Float` (round to nearest even).")
to_int = _marker("to_int", "`Float` -> `Int` (toward zero, saturating).")
sqrt = _marker("sqrt", "Square root (SFU: recip(rsqrt(x))).")
recip = _marker("recip", "1 / x (SFU).")
rsqrt = _marker("rsqrt", "1 / sqrt(x) (SFU).")
exp2 = _marker("exp2", "2 ** x (SFU).")
log2 = _marker("log2", "log2(x) (SFU).")
sin = _marker(
    "sin", "sin(x) of x in radians (argument reduction + the SFU's sin(pi * t))."
)

#: Marker functions by name (what the frontend dispatches on).
BUILTIN_NAMES = frozenset(
    m.lang_builtin
    for m in (
        index, me, num_qpus, gather, receive, store, rotate, static_range, to_float,
        to_int, sqrt, recip, rsqrt, exp2, log2, sin,
    )
)  # fmt: skip


@functools.cache
def _parse_cached(func: Callable) -> tuple[ast.FunctionDef, SourceInfo]:
    try:
        lines, first = inspect.getsourcelines(func)
    except (OSError, TypeError) as err:
        raise LangError(
            f"cannot read the source of {func.__name__!r} ({err})",
            "define kernels in a file (or a notebook cell), not with exec() or a lambda",
        ) from None
    text = "".join(lines)
    dedented = textwrap.dedent(text)
    indent = len(lines[0]) - len(lines[0].lstrip()) if lines else 0
    tree = ast.parse(dedented)
    node = tree.body[0]
    if not isinstance(node, ast.FunctionDef):
        raise LangError(f"{func.__name__!r} is not a plain function definition")
    info = SourceInfo(
        filename=inspect.getsourcefile(func) or "<unknown>",
        first_line=first,
        lines=tuple(dedented.splitlines()),
        indent=indent,
        name=func.__name__,
    )
    return node, info


def parse_function(func: Callable) -> tuple[ast.FunctionDef, SourceInfo]:
    """The function's AST (decorators included) and where its text came from."""
    return _parse_cached(func)


class Inline:
    """A helper compiled into each kernel that calls it (`@inline`).

    Its parameters receive the caller's values; it may return a value or a tuple of values.
    """

    def __init__(self, func: Callable) -> None:
        self.func = func
        functools.update_wrapper(self, func)

    def __call__(self, *args, **kwargs):
        raise LangError(
            f"@inline helper {self.func.__name__}() can only be called from a kernel",
            "call it inside a @kernel function",
        )


def inline(func: Callable) -> Inline:
    """Decorator: compile `func` into every kernel that calls it (QPULib's C++ helpers).

    Args:
        func: The helper, written in the kernel language.

    Returns:
        The helper, marked for inlining.
    """
    return Inline(func)

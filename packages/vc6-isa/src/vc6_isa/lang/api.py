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
from .types import Float, Int, Ptr

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


def _builtin(func: Callable) -> Callable:
    """Make ``func`` a marker: the compiler recognises it by its ``lang_builtin`` name; called
    from ordinary Python it raises `LangError` (a kernel's body is never run by Python). The
    definitions below exist for their names, signatures and docstrings."""
    name = func.__name__

    @functools.wraps(func)
    def marker(*args, **kwargs):
        raise LangError(
            f"{name}() can only be used inside a @kernel or @inline function",
            "call it from a kernel's body; kernels are compiled, not run by Python",
        )

    marker.lang_builtin = name  # type: ignore[attr-defined]
    return marker


@_builtin
def index() -> Int:
    """The lane number, 0..15 in lanes 0..15.

    Returns:
        An `Int`.
    """


@_builtin
def me() -> Int:
    """This QPU's number, 0..num_qpus()-1.

    Returns:
        An `Int`, the same in every lane.
    """


@_builtin
def num_qpus() -> Int:
    """How many QPUs run the kernel (the call's `num_qpus=`).

    Returns:
        An `Int`, the same in every lane.
    """


@_builtin
def gather(p: Ptr) -> None:
    """Start a per-lane load of `*p` (a TMU read); `receive()` gets the result.

    Args:
        p: The address of each lane's element.
    """


@_builtin
def receive() -> Int | Float:
    """The oldest gathered vector.

    Returns:
        The loaded vector, of its pointer's element type.
    """


@_builtin
def store(v: Int | Float, p: Ptr) -> None:
    """Write lane i of `v` to lane i's address in `p`.

    Args:
        v: The values.
        p: Where each lane's value goes.
    """


@_builtin
def rotate(x: Int | Float, n: int | Int) -> Int | Float:
    """Rotate across lanes: lane i gets lane (i - n) mod 16 of `x`.

    Args:
        x: The vector.
        n: A constant, or an `Int` (its lane 0 is used).

    Returns:
        The rotated vector.
    """


@_builtin
def static_range(*bounds: int) -> range:
    """`for k in static_range(...)`: a loop unrolled at compile time (`k` is a constant).

    Args:
        *bounds: Constant `stop`, or `start, stop[, step]`, as for `range`.

    Returns:
        The loop's constant values.
    """


@_builtin
def to_float(x: Int) -> Float:
    """Convert to `Float`, rounding to nearest even.

    Args:
        x: The integers.

    Returns:
        The floats.
    """


@_builtin
def to_int(x: Float) -> Int:
    """Convert to `Int`, rounding toward zero and saturating.

    Args:
        x: The floats.

    Returns:
        The integers.
    """


@_builtin
def sqrt(x: Float) -> Float:
    """Square root (SFU: recip(rsqrt(x))).

    Args:
        x: The operands.

    Returns:
        The square roots.
    """


@_builtin
def recip(x: Float) -> Float:
    """1 / x (SFU).

    Args:
        x: The operands.

    Returns:
        The reciprocals.
    """


@_builtin
def rsqrt(x: Float) -> Float:
    """1 / sqrt(x) (SFU).

    Args:
        x: The operands.

    Returns:
        The reciprocal square roots.
    """


@_builtin
def exp2(x: Float) -> Float:
    """2 ** x (SFU).

    Args:
        x: The exponents.

    Returns:
        The powers of two.
    """


@_builtin
def log2(x: Float) -> Float:
    """log2(x) (SFU).

    Args:
        x: The operands.

    Returns:
        The base-2 logarithms.
    """


@_builtin
def sin(x: Float) -> Float:
    """sin(x) of x in radians (argument reduction + the SFU's sin(pi * t)).

    Args:
        x: The angles.

    Returns:
        The sines.
    """


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

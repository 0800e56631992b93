"""The program being assembled, and the DSL names that act on it without being passed it.

py-videocore6 makes `add(...)`, `L.loop` and `b(R.loop, ...)` work by rewriting the
caller's module globals while a `@qpu` function runs. Here those names are ordinary module
objects that find the program in a `contextvars.ContextVar`, which `@qpu` and
`assemble()` set for the duration of the call (and restore afterwards, so programs may nest,
run in threads or in asyncio tasks).
"""

from __future__ import annotations

import contextvars
from types import TracebackType
from typing import Any, Self

from .errors import Where, caller_where, dsl_error

__all__ = [
    "Assembly",
    "L",
    "Label",
    "LabelNameSpace",
    "Link",
    "Loop",
    "LoopHelper",
    "R",
    "Reference",
    "current_assembly",
    "link",
    "loop",
    "namespace",
]

_CURRENT: contextvars.ContextVar[Assembly] = contextvars.ContextVar(
    "vc6_isa_asm_current"
)
current_get = _CURRENT.get


class Assembly:
    """A program under construction: its instructions (in order), labels and label namespaces.

    A `@qpu` function receives it as its first argument; pass it on to helper `@qpu`
    functions (`helper(asm, ...)`). `len(asm)` is the number of instructions so far.
    """

    __slots__ = ("__weakref__", "items", "label_wheres", "labels", "namespaces")

    def __init__(self) -> None:
        self.items: list[Any] = []  # ALU, Branch and Raw records (see .instructions)
        self.labels: dict[str, int] = {}
        self.label_wheres: dict[str, Where | None] = {}
        self.namespaces: list[str] = []

    def __len__(self) -> int:
        return len(self.items)

    def qualified(self, name: str) -> str:
        """A label name inside the current label namespaces.

        Args:
            name: The label as written.

        Returns:
            The full name, such as `"ns.inner.name"` (py-videocore6's spelling).
        """
        return ".".join((*self.namespaces, name)) if self.namespaces else name

    def add_label(self, name: str, where: Where | None) -> None:
        """Define a label at the next instruction (what `L.name` does).

        Args:
            name: The label, qualified with the current namespaces.
            where: The source location, for error messages.

        Raises:
            AssembleError: The label is already defined.
        """
        full = self.qualified(name)
        if full in self.labels:
            first = self.label_wheres.get(full)
            at = (
                f" (first defined at {first[0].co_filename}:{first[1]})"
                if first
                else ""
            )
            raise dsl_error(f"label {full!r} is defined twice{at}", where)
        self.labels[full] = len(self.items)
        self.label_wheres[full] = where

    def unused_label(self, pattern: str) -> str:
        """A label name not yet used (for generated labels, such as a loop's).

        Args:
            pattern: A format string with one `{}` for a number.

        Returns:
            The first `pattern.format(n)` that is free.
        """
        n = 0
        while self.qualified(pattern.format(n)) in self.labels:
            n += 1
        return pattern.format(n)

    def __repr__(self) -> str:
        return f"<Assembly: {len(self.items)} instructions, {len(self.labels)} labels>"


def current_assembly() -> Assembly:
    """The program being assembled, or an AssembleError saying how to get one."""
    asm = _CURRENT.get(None)
    if asm is None:
        raise no_assembly()
    return asm


def no_assembly() -> Exception:
    return dsl_error(
        "no program is being assembled here: DSL instructions only work while "
        "vc6_isa.asm.assemble(kernel, ...) runs a @qpu function (or code it calls)"
    )


def activate(asm: Assembly) -> contextvars.Token:
    return _CURRENT.set(asm)


def deactivate(token: contextvars.Token) -> None:
    _CURRENT.reset(token)


class Label:
    """`L.name` marks the next instruction with label `name` (in the current namespace)."""

    __slots__ = ()

    def __getattr__(self, name: str) -> None:
        if name.startswith("__"):
            raise AttributeError(name)
        current_assembly().add_label(name, caller_where())


class Reference:
    """`R.name` refers to label `name` (resolved when the program is finished, so forward
    references work). `int(R.name)` is the label's instruction index once it is defined."""

    __slots__ = ("name", "where")

    def __init__(self, name: str | None = None, where: Where | None = None) -> None:
        self.name = name
        self.where = where

    def __getattr__(self, name: str) -> Reference:
        if name.startswith("__"):
            raise AttributeError(name)
        return Reference(current_assembly().qualified(name), caller_where())

    def __int__(self) -> int:
        if self.name is None:
            raise dsl_error("write R.<label name>, not R alone")
        labels = current_assembly().labels
        if self.name not in labels:
            raise dsl_error(f"label {self.name!r} is not defined (yet)")
        return labels[self.name]

    def __repr__(self) -> str:
        return f"R.{self.name}" if self.name else "R"


class LabelNameSpace:
    """`with namespace('name'):` puts the labels defined and referred to inside it in their
    own namespace, so a helper can be emitted twice without its labels clashing.
    `asm` None means the program being assembled when the block is entered (py-videocore6
    passes it explicitly: `LabelNameSpace(asm, 'name')`)."""

    __slots__ = ("asm", "name")

    def __init__(self, asm: Assembly | None, name: str) -> None:
        self.asm = asm
        self.name = name

    def __enter__(self) -> Self:
        if self.asm is None:
            self.asm = current_assembly()
        self.asm.namespaces.append(self.name)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self.asm is not None
        self.asm.namespaces.pop()


def namespace(name: str) -> LabelNameSpace:
    """A label namespace (py-videocore6's `namespace`), used as `with namespace('inner'):`.

    Labels defined and referred to inside the block get the namespace's prefix, so a helper that
    defines labels can be emitted twice.

    Args:
        name: The namespace's name.

    Returns:
        The context manager.
    """
    return LabelNameSpace(None, name)


class Link:
    """`link`: the link register as a branch target, `b(link, cond='always')`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "link"


class Loop:
    """The loop opened by `with loop as l:`; `l.b(cond=...)` branches back to its start."""

    __slots__ = ("label",)

    def __init__(self, label: str) -> None:
        self.label = label

    def b(self, **kwargs: Any) -> Any:
        from .instructions import emit_branch

        return emit_branch(
            Reference(self.label, caller_where()), kwargs, caller_where()
        )


class LoopHelper:
    """`loop`: `with loop as l:` defines a fresh label here and hands back a `Loop`."""

    __slots__ = ()

    def __enter__(self) -> Loop:
        asm = current_assembly()
        name = asm.unused_label("__generated_loop_label_{}")
        asm.add_label(name, caller_where())
        return Loop(asm.qualified(name))

    def __exit__(self, *exc_info: object) -> None:
        return None


L = Label()
R = Reference()
link = Link()
loop = LoopHelper()

"""The frontend: walks a kernel's Python AST and drives a backend, one statement at a time.

The same walk serves both backends: `builder.Builder` emits IR for the compiler and
`interp.Interpreter` computes in numpy. The walker owns what the language *means* at compile
time: name resolution, constants and constant folding, types and their errors, static
unrolling, `@inline` helpers and the static TMU FIFO bookkeeping (gather/receive pairing).
The backends own what operations *do*.

Names (see `mutable_names`): a local whose assignments all sit in one statement list is
rebound like a let (each assignment names a new value); a local also assigned inside a runtime
loop, a branch or a per-lane `if` is a variable with a home register that each assignment
writes (under the current per-lane mask). Names first bound inside a runtime loop, a branch or
a per-lane `if` are local to it.
"""

from __future__ import annotations

import ast
import builtins
import operator
import types as pytypes
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import api
from .errors import LangError, SourceInfo
from .types import BOOL, FLOAT, INT, LangType, _PtrName, _TypeName

__all__ = [
    "FIFO_LIMIT",
    "RV",
    "Uniform",
    "Var",
    "Walker",
    "fifo_limit",
    "resolve_annotation",
]

#: TMU result words a batch may have outstanding: 16 / threads, and a dispatch without the
#: 4-way bit may put two threads on a QPU (reference 12.1, 13.6/31).
FIFO_LIMIT = 8


def fifo_limit(threads: int) -> int:
    """Outstanding TMU result words per batch for a kernel compiled for `threads`."""
    return min(FIFO_LIMIT, 16 // threads)


_MAX_INLINE_DEPTH = 16
_MAX_UNROLL = 4096


@dataclass
class Var:
    """A mutable variable: its type and the backend's home for it."""

    type: LangType
    h: Any


@dataclass
class RV:
    """A runtime value: its type and the backend's handle. `var` is the variable it was read
    from (so that binding it elsewhere can snapshot it)."""

    type: LangType
    h: Any
    var: Var | None = None


@dataclass
class Uniform:
    """`any(c)` / `all(c)` (possibly negated): a condition the whole batch agrees on."""

    kind: str
    negated: bool
    cond: RV
    node: ast.AST


@dataclass
class Shared:
    """State shared by a kernel's walker and the walkers of the helpers it inlines."""

    backend: Any
    fifo: list[LangType] = field(default_factory=list)
    depth: int = 0
    fifo_limit: int = FIFO_LIMIT


_BINOPS = {
    ast.Add: ("add", "+", operator.add),
    ast.Sub: ("sub", "-", operator.sub),
    ast.Mult: ("mul", "*", operator.mul),
    ast.Div: ("div", "/", operator.truediv),
    ast.LShift: ("shl", "<<", operator.lshift),
    ast.RShift: ("shr", ">>", operator.rshift),
    ast.BitAnd: ("and", "&", operator.and_),
    ast.BitOr: ("or", "|", operator.or_),
    ast.BitXor: ("xor", "^", operator.xor),
    ast.FloorDiv: (None, "//", operator.floordiv),
    ast.Mod: (None, "%", operator.mod),
    ast.Pow: (None, "**", operator.pow),
}
_CMPOPS = {
    ast.Eq: ("eq", operator.eq),
    ast.NotEq: ("ne", operator.ne),
    ast.Lt: ("lt", operator.lt),
    ast.LtE: ("le", operator.le),
    ast.Gt: ("gt", operator.gt),
    ast.GtE: ("ge", operator.ge),
}
_SFU_FUNCS = {"sqrt", "recip", "rsqrt", "exp2", "log2", "sin"}


def is_const(v: Any) -> bool:
    return isinstance(v, (int, float, bool, tuple))


def resolve_annotation(func: Callable, node: ast.expr | None) -> LangType | None:
    """The LangType a parameter annotation names (None when there is none)."""
    if node is None:
        return None
    try:
        value = eval(
            compile(ast.Expression(node), "<annotation>", "eval"), func.__globals__
        )
    except (NameError, AttributeError, TypeError, SyntaxError, LangError):
        value = None
    if isinstance(value, _TypeName):
        return value.lang_type
    if isinstance(value, LangType):
        return value
    return None


def _is_static_for(node: ast.AST) -> bool:
    it = getattr(node, "iter", None)
    return (
        isinstance(it, ast.Call)
        and isinstance(it.func, ast.Name)
        and it.func.id == "static_range"
    )


def mutable_names(fn: ast.FunctionDef) -> set[str]:
    """Names that need a variable (a home register written by every assignment).

    A name whose bindings (parameter, assignments) all sit in the same statement list, at the
    same control-flow nesting (`static_range` loops do not count: they are unrolled), is
    rebound like a `let`: each assignment simply names a new value, and no copy is made. A
    name also bound inside a runtime loop, a branch or a per-lane `if` other than where it was
    first bound must merge values at run time, so it becomes a variable; so does the target of
    a runtime `for`.
    """
    paths: dict[str, set[tuple[int, ...]]] = {}
    forced: set[str] = set()

    def site(target: ast.AST, path: tuple[int, ...]) -> None:
        if isinstance(target, ast.Name):
            paths.setdefault(target.id, set()).add(path)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for t in target.elts:
                site(t, path)

    def walk(stmts: list[ast.stmt], path: tuple[int, ...]) -> None:
        for st in stmts:
            if isinstance(st, ast.Assign):
                for t in st.targets:
                    site(t, path)
            elif isinstance(st, (ast.AugAssign, ast.AnnAssign)):
                site(st.target, path)
            elif isinstance(st, ast.For) and _is_static_for(st):
                walk(st.body, path)
            elif isinstance(st, (ast.For, ast.While, ast.If)):
                if isinstance(st, ast.For) and isinstance(st.target, ast.Name):
                    forced.add(st.target.id)
                inner = (*path, id(st))
                walk(st.body, (*inner, 0))
                walk(st.orelse, (*inner, 1))

    for a in fn.args.args:
        paths.setdefault(a.arg, set()).add(())
    walk(fn.body, ())
    return forced | {name for name, p in paths.items() if len(p) > 1}


class Walker:
    """Walks one function (a kernel or an inlined helper) against a backend.

    Args:
        func: The Python function.
        tree: Its parsed `FunctionDef`.
        source: Where its text came from (for errors).
        shared: Backend and FIFO state shared with the walkers of inlined helpers.
    """

    def __init__(
        self, func: Callable, tree: ast.FunctionDef, source: SourceInfo, shared: Shared
    ) -> None:
        self.func = func
        self.tree = tree
        self.source = source
        self.shared = shared
        self.b = shared.backend
        self.env: dict[str, Any] = {}
        self.dropped: dict[str, str] = {}
        self.mutable = mutable_names(tree)
        self.scope_names = self._scope_names(func)
        self.returned: Any = None

    # ---- errors and lookup ------------------------------------------------------------------

    def error(self, node: ast.AST | None, what: str, hint: str = "") -> LangError:
        return LangError(what, hint, source=self.source, node=node)

    @staticmethod
    def _scope_names(func: Callable) -> dict[str, Any]:
        names = dict(func.__globals__)
        if func.__closure__:
            for name, cell in zip(func.__code__.co_freevars, func.__closure__):
                try:
                    names[name] = cell.cell_contents
                except ValueError:
                    pass
        return names

    def lookup(self, name: str, node: ast.AST) -> Any:
        if name in self.env:
            v = self.env[name]
            if isinstance(v, Var):
                return RV(v.type, self.b.read(v.h), v)
            return v
        if name in self.dropped:
            raise self.error(
                node,
                f"{name!r} is not defined here: it was first assigned inside {self.dropped[name]}",
                f"give {name} a value before that block (e.g. {name} = 0), then update it inside",
            )
        if name in self.scope_names:
            return self._outer_value(name, self.scope_names[name], node)
        if hasattr(builtins, name) and name in {
            "min", "max", "abs", "any", "all", "range", "float", "int", "len", "bool",
        }:  # fmt: skip
            return getattr(builtins, name)
        raise self.error(node, f"name {name!r} is not defined", "define it before use")

    def _outer_value(self, name: str, value: Any, node: ast.AST) -> Any:
        if isinstance(value, bool | int | float):
            return value
        if isinstance(value, tuple) and all(is_const(x) for x in value):
            return value
        if hasattr(value, "dtype") and getattr(value, "shape", None) == ():
            return value.item()  # a numpy scalar
        if isinstance(value, (_TypeName, _PtrName, api.Inline, pytypes.ModuleType)):
            return value
        if callable(value):
            return value
        raise self.error(
            node,
            f"{name!r} is a {type(value).__name__}, which a kernel cannot use",
            "kernels see Python ints, floats and tuples of them from the enclosing scope; "
            "pass arrays and run-time values as kernel arguments",
        )

    # ---- entry points -----------------------------------------------------------------------

    def run_kernel(self, param_types: list[LangType]) -> None:
        args = self.tree.args
        for i, (a, t) in enumerate(zip(args.args, param_types)):
            self.bind(a.arg, RV(t, self.b.param(i, t)), a)
        self.block(self.tree.body, top=True)
        if self.returned is not None:
            raise self.error(
                self.tree.body[-1],
                "a kernel returns nothing",
                "store results through a pointer parameter (out[0] = value)",
            )
        pending = [t for t in self.shared.fifo if isinstance(t, LangType)]
        if pending:
            raise self.error(
                self.tree,
                f"the kernel ends with {len(pending)} gathered value(s) never received",
                "call receive() once for every gather() before the kernel ends",
            )

    def run_inline(self, call: ast.Call, args: list[Any]) -> Any:
        params = self.tree.args.args
        if len(params) != len(args):
            raise self.error(
                call,
                f"{self.tree.name}() takes {len(params)} argument(s), got {len(args)}",
            )
        for p, v in zip(params, args):
            self.bind(p.arg, v, p)
        self.block(self.tree.body, top=True)
        return self.returned

    # ---- statements -------------------------------------------------------------------------

    def block(self, stmts: list[ast.stmt], top: bool = False) -> None:
        for i, s in enumerate(stmts):
            if isinstance(s, ast.Return):
                if not (top and i == len(stmts) - 1):
                    raise self.error(
                        s,
                        "return is only allowed as the last statement of a function",
                        "compute the result into a variable and return it at the end",
                    )
                self.returned = None if s.value is None else self.expr(s.value)
                continue
            self.b.set_line(s.lineno, self.source)
            self.stmt(s)

    def stmt(self, s: ast.stmt) -> None:
        if isinstance(s, ast.Assign):
            value = self.expr(s.value)
            for target in s.targets:
                self.assign(target, value, s)
        elif isinstance(s, ast.AugAssign):
            self.aug_assign(s)
        elif isinstance(s, ast.AnnAssign) and s.value is not None:
            self.assign(s.target, self.expr(s.value), s)
        elif isinstance(s, ast.Expr):
            if isinstance(s.value, ast.Constant) and isinstance(s.value.value, str):
                return  # a docstring
            self.expr(s.value)
        elif isinstance(s, ast.If):
            self.if_stmt(s)
        elif isinstance(s, ast.While):
            self.while_stmt(s)
        elif isinstance(s, ast.For):
            self.for_stmt(s)
        elif isinstance(s, ast.Pass):
            pass
        elif isinstance(s, (ast.Break, ast.Continue)):
            raise self.error(
                s,
                f"'{type(s).__name__.lower()}' is not supported in kernels",
                "put the condition into the loop's while any(...) / all(...) instead",
            )
        else:
            what = type(s).__name__.lower()
            raise self.error(
                s,
                f"'{what}' statements are not part of the kernel language",
                "kernels use assignments, if/elif/else, while any()/all(), for over range() or "
                "static_range(), and calls",
            )

    def aug_assign(self, s: ast.AugAssign) -> None:
        """`x op= v` and `p[i] op= v` (the pointer and index are evaluated once)."""
        t = s.target
        if isinstance(t, ast.Name):
            cur = self.expr(ast.Name(t.id, ast.Load(), **_pos(t)))
            self.assign(t, self.binop(s.op, cur, self.expr(s.value), s), s)
        elif isinstance(t, ast.Subscript):
            ptr, idx = self.expr(t.value), self.expr(t.slice)
            cur = self.load_at(ptr, idx, t)
            self.store_at(ptr, idx, self.binop(s.op, cur, self.expr(s.value), s), t)
        else:
            raise self.error(t, "only a name or p[i] can be updated with an operator")

    def bind(self, name: str, value: Any, node: ast.AST) -> None:
        """Bind `name` at its (first) assignment."""
        if name in self.mutable and not isinstance(value, tuple):
            t = self.type_of(value, node)
            if t is BOOL and not isinstance(value, RV):
                raise self.error(node, "a compile-time bool cannot be a variable")
            self.env[name] = Var(t, self.b.new_var(t, self.operand(value, t, node)))
        else:
            if isinstance(value, RV) and value.var is not None:
                value = RV(value.type, self.b.copy(value.type, value.h))
            if isinstance(value, RV):
                self.b.pin(value.h)
            self.env[name] = value
        self.dropped.pop(name, None)

    def assign(self, target: ast.AST, value: Any, node: ast.AST) -> None:
        if isinstance(target, ast.Name):
            cur = self.env.get(target.id)
            if isinstance(cur, Var):
                self.b.assign(cur.h, self.operand(value, cur.type, node))
            else:
                self.bind(target.id, value, node)
        elif isinstance(target, (ast.Tuple, ast.List)):
            if not isinstance(value, tuple) or len(value) != len(target.elts):
                n = len(value) if isinstance(value, tuple) else 1
                raise self.error(
                    node, f"cannot unpack {n} value(s) into {len(target.elts)} names"
                )
            # Evaluate-then-assign: snapshot any value read from a variable assigned earlier
            # in this statement (a, b = b, a).
            written: set[int] = set()
            values = list(value)
            for i, t in enumerate(target.elts):
                for j in range(i + 1, len(values)):
                    v = values[j]
                    if isinstance(v, RV) and v.var is not None and id(v.var) in written:
                        values[j] = RV(v.type, self.b.copy(v.type, v.h))
                if isinstance(t, ast.Name) and isinstance(self.env.get(t.id), Var):
                    written.add(id(self.env[t.id]))
                    # values after i that read this variable must be snapshotted first
                    for j in range(i + 1, len(values)):
                        v = values[j]
                        if isinstance(v, RV) and v.var is self.env[t.id]:
                            values[j] = RV(v.type, self.b.copy(v.type, v.h))
                self.assign(t, values[i], node)
        elif isinstance(target, ast.Subscript):
            ptr = self.expr(target.value)
            idx = self.expr(target.slice)
            self.store_at(ptr, idx, value, target)
        else:
            raise self.error(
                target, "cannot assign to this", "assign to a name or p[i]"
            )

    def scoped(self, what: str, fn: Callable[[], None]) -> None:
        before = set(self.env)
        fn()
        for name in set(self.env) - before:
            del self.env[name]
            self.dropped[name] = what

    def fifo_check(self, node: ast.AST, before: list[Any], what: str) -> None:
        def shape(q: list[Any]) -> list[Any]:
            return [x if isinstance(x, LangType) else id(x) for x in q]

        after = self.shared.fifo
        if shape(after) != shape(before):
            raise self.error(
                node,
                f"{what} changes the number of outstanding gathers from {len(before)} to "
                f"{len(after)}: the compiler tracks the TMU queue statically and cannot "
                "follow it here",
                "make every path (and every loop iteration) receive as many values as it gathers",
            )

    def if_stmt(self, s: ast.If) -> None:
        test = self.expr(s.test)
        if is_const(test) and not isinstance(test, tuple):
            self.block(s.body if test else s.orelse)
            return
        if isinstance(test, Uniform):
            fifo = list(self.shared.fifo)
            results: list[list[LangType]] = []

            def arm(stmts: list[ast.stmt]) -> Callable[[], None]:
                def run() -> None:
                    self.shared.fifo[:] = fifo
                    self.scoped("an 'if any()/all()' branch", lambda: self.block(stmts))
                    results.append(list(self.shared.fifo))

                return run

            self.b.branch_if(test, arm(s.body), arm(s.orelse) if s.orelse else None)
            ends = results + ([] if s.orelse else [fifo])
            for e in ends:
                self.shared.fifo[:] = e
                self.fifo_check(s, ends[0], "this if")
            return
        if isinstance(test, RV) and test.type is BOOL:
            self.b.where(
                test.h,
                lambda: self.scoped("a per-lane 'if'", lambda: self.block(s.body)),
                (lambda: self.scoped("a per-lane 'else'", lambda: self.block(s.orelse)))
                if s.orelse
                else None,
            )
            return
        raise self.error(
            s.test,
            f"an if condition must be a vector condition, any()/all() of one, or a "
            f"compile-time constant, not {self.describe(test)}",
            "compare values (a > b) or wrap a condition in any(...) / all(...)",
        )

    def uniform_test(self, node: ast.expr) -> Uniform | bool:
        before = list(self.shared.fifo)
        test = self.expr(node)
        self.fifo_check(node, before, "a loop condition")
        if isinstance(test, Uniform):
            return test
        if isinstance(test, bool):
            return test
        if isinstance(test, RV) and test.type is BOOL:
            raise self.error(
                node,
                "a while condition must be the same for all 16 lanes, and this one is per lane",
                "write while any(cond): (loop while some lane wants to) or while all(cond):",
            )
        raise self.error(node, f"a while condition cannot be {self.describe(test)}")

    def while_stmt(self, s: ast.While) -> None:
        if s.orelse:
            raise self.error(s, "while ... else is not supported")
        first = self.uniform_test(s.test)
        if first is False:
            return
        if first is True:
            raise self.error(
                s.test, "this loop would never end", "loop on any(...) or all(...)"
            )
        fifo = list(self.shared.fifo)

        def cond() -> Uniform:
            return self.uniform_test(s.test)  # type: ignore[return-value]

        def body() -> None:
            self.scoped("a while loop", lambda: self.block(s.body))
            self.fifo_check(s, fifo, "this loop's body")

        self.b.while_(first, cond, body)

    def for_stmt(self, s: ast.For) -> None:
        if s.orelse:
            raise self.error(s, "for ... else is not supported")
        it = s.iter
        if not (isinstance(it, ast.Call) and isinstance(it.func, ast.Name)):
            raise self.error(
                it,
                "a kernel loops over range(...) (at run time) or static_range(...) (unrolled)",
            )
        fname = it.func.id
        args = [self.expr(a) for a in it.args]
        if fname == "static_range":
            if not all(isinstance(a, int) for a in args) or not 1 <= len(args) <= 3:
                raise self.error(
                    it, "static_range() needs 1 to 3 compile-time integer arguments"
                )
            rng = range(*args)
            if len(rng) > _MAX_UNROLL:
                raise self.error(
                    it, f"static_range of {len(rng)} iterations is too long to unroll"
                )
            if not isinstance(s.target, ast.Name):
                raise self.error(s.target, "the loop variable must be a plain name")
            for k in rng:
                self.env[s.target.id] = k
                self.block(s.body)
            return
        if fname != "range" or fname in self.env:
            raise self.error(
                it,
                f"cannot loop over {fname}(...)",
                "use range(...) or static_range(...)",
            )
        if not 1 <= len(args) <= 3:
            raise self.error(it, "range() takes 1 to 3 arguments")
        nodes = list(it.args)
        if len(args) == 1:
            (start, stop, step), nodes = (0, args[0], 1), [it, nodes[0], it]
        elif len(args) == 2:
            (start, stop, step), nodes = (args[0], args[1], 1), [*nodes, it]
        else:
            start, stop, step = args
        for a, node in zip((start, stop, step), nodes):
            if not (
                (isinstance(a, int) and not isinstance(a, bool))
                or (isinstance(a, RV) and a.type is INT)
            ):
                raise self.error(
                    node, f"range() bounds must be Int, not {self.describe(a)}"
                )
        if step == 0:
            raise self.error(it, "range() step must not be zero")
        if not isinstance(s.target, ast.Name):
            raise self.error(s.target, "the loop variable must be a plain name")
        name = s.target.id
        self.mutable.add(name)
        self.assign(s.target, start, s)
        var = self.env[name]
        cmp = "gt" if isinstance(step, int) and step < 0 else "lt"
        fifo = list(self.shared.fifo)

        def cond() -> Uniform:
            i = RV(INT, self.b.read(var.h), var)
            c = self.compare(cmp, i, stop, s.iter)
            return Uniform("any", False, c, s.iter)

        def body() -> None:
            self.scoped("a for loop", lambda: self.block(s.body))
            self.fifo_check(s, fifo, "this loop's body")
            self.b.set_line(s.lineno, self.source)
            i = RV(INT, self.b.read(var.h), var)
            self.b.assign(
                var.h, self.operand(self.binop(ast.Add(), i, step, s), INT, s)
            )

        self.b.while_(cond(), cond, body)

    # ---- expressions ------------------------------------------------------------------------

    def describe(self, v: Any) -> str:
        if isinstance(v, RV):
            return (
                f"an {v.type} value" if str(v.type)[0] in "IA" else f"a {v.type} value"
            )
        if isinstance(v, Uniform):
            return f"{v.kind}(...)"
        if isinstance(v, bool):
            return "a compile-time bool"
        if isinstance(v, int):
            return "a compile-time int"
        if isinstance(v, float):
            return "a compile-time float"
        if isinstance(v, tuple):
            return "a tuple"
        return f"{type(v).__name__}"

    def type_of(self, v: Any, node: ast.AST) -> LangType:
        if isinstance(v, RV):
            return v.type
        if isinstance(v, bool):
            return BOOL
        if isinstance(v, int):
            return INT
        if isinstance(v, float):
            return FLOAT
        raise self.error(node, f"{self.describe(v)} cannot be a kernel value")

    def operand(self, v: Any, t: LangType, node: ast.AST) -> Any:
        """`v` as an operand of type `t`: a backend handle or ("imm", type, value)."""
        if isinstance(v, RV):
            if v.type != t:
                raise self.error(
                    node,
                    f"type mismatch: expected {t}, got {v.type}",
                    _convert_hint(v.type, t),
                )
            return v.h
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise self.error(node, f"expected {t}, got {self.describe(v)}")
        if t is INT:
            if isinstance(v, float):
                raise self.error(
                    node,
                    f"a float constant ({v}) where an Int is needed",
                    "write an int, or int(...)",
                )
            return ("imm", INT, int(v))
        if t is FLOAT:
            return ("imm", FLOAT, float(v))
        raise self.error(node, f"a constant cannot be a {t}")

    def expr(self, e: ast.expr) -> Any:
        if isinstance(e, ast.Constant):
            if isinstance(e.value, (bool, int, float)):
                return e.value
            raise self.error(
                e, f"{type(e.value).__name__} constants are not kernel values"
            )
        if isinstance(e, ast.Name):
            return self.lookup(e.id, e)
        if isinstance(e, ast.BinOp):
            return self.binop(e.op, self.expr(e.left), self.expr(e.right), e)
        if isinstance(e, ast.UnaryOp):
            return self.unaryop(e)
        if isinstance(e, ast.Compare):
            if len(e.ops) != 1:
                raise self.error(
                    e,
                    "chained comparisons are not supported",
                    "write (a < b) & (b < c)",
                )
            op = _CMPOPS.get(type(e.ops[0]))
            if op is None:
                raise self.error(e, "only ==, !=, <, <=, >, >= compare kernel values")
            left, right = self.expr(e.left), self.expr(e.comparators[0])
            if is_const(left) and is_const(right):
                return op[1](left, right)
            return self.compare(op[0], left, right, e)
        if isinstance(e, ast.Call):
            return self.call(e)
        if isinstance(e, ast.Subscript):
            base = self.expr(e.value)
            idx = self.expr(e.slice)
            if isinstance(base, tuple):
                if not isinstance(idx, int):
                    raise self.error(
                        e.slice, "a tuple index must be a compile-time int"
                    )
                return base[idx]
            return self.load_at(base, idx, e)
        if isinstance(e, ast.Tuple):
            return tuple(self.expr(x) for x in e.elts)
        if isinstance(e, ast.Attribute):
            base = self.expr(e.value)
            if isinstance(base, pytypes.ModuleType):
                return self._outer_value(e.attr, getattr(base, e.attr), e)
            raise self.error(e, "attributes of kernel values do not exist")
        if isinstance(e, ast.IfExp):
            test = self.expr(e.test)
            if isinstance(test, bool):
                return self.expr(e.body if test else e.orelse)
            raise self.error(
                e, "x if c else y needs a compile-time condition", "use an if statement"
            )
        if isinstance(e, ast.BoolOp):
            vals = [self.expr(v) for v in e.values]
            if all(isinstance(v, bool) for v in vals):
                return all(vals) if isinstance(e.op, ast.And) else any(vals)
            raise self.error(
                e,
                "'and' / 'or' cannot combine vector conditions",
                "use & and | with parentheses: (a > 0) & (b > 0)",
            )
        raise self.error(
            e, f"{type(e).__name__} expressions are not part of the kernel language"
        )

    def unaryop(self, e: ast.UnaryOp) -> Any:
        v = self.expr(e.operand)
        if isinstance(e.op, ast.Not):
            if isinstance(v, Uniform):
                return Uniform(v.kind, not v.negated, v.cond, v.node)
            if is_const(v):
                return not v
            raise self.error(e, "'not' cannot negate a vector condition", "use ~cond")
        if is_const(v):
            if isinstance(e.op, ast.USub):
                return -v
            if isinstance(e.op, ast.UAdd):
                return +v
            if isinstance(e.op, ast.Invert) and isinstance(v, bool):
                return not v
            if isinstance(e.op, ast.Invert) and isinstance(v, int):
                return ~v
            raise self.error(e, "bad operand for this operator")
        if not isinstance(v, RV):
            raise self.error(e, f"this operator cannot apply to {self.describe(v)}")
        if isinstance(e.op, ast.UAdd) and v.type in (INT, FLOAT):
            return v
        if isinstance(e.op, ast.USub) and v.type in (INT, FLOAT):
            return RV(v.type, self.b.unop("neg", v.type, v.h))
        if isinstance(e.op, ast.Invert) and v.type is INT:
            return RV(INT, self.b.unop("not", INT, v.h))
        if isinstance(e.op, ast.Invert) and v.type is BOOL:
            return RV(BOOL, self.b.bool_not(v.h))
        raise self.error(e, f"this operator does not apply to {v.type}")

    def binop(self, op: ast.operator, a: Any, b: Any, node: ast.AST) -> Any:
        name, sym, pyop = _BINOPS.get(type(op), (None, type(op).__name__, None))
        if is_const(a) and is_const(b) and pyop is not None:
            try:
                return pyop(a, b)
            except (ArithmeticError, TypeError, ValueError) as err:
                raise self.error(
                    node, f"cannot evaluate the constant expression: {err}"
                ) from None
        if (
            sym in ("//", "%")
            and isinstance(a, RV)
            and a.type is INT
            and isinstance(b, int)
            and not isinstance(b, bool)
            and b > 0
            and not b & (b - 1)
        ):
            # floor division / modulo by a power of two: exactly >> and & in two's complement
            if sym == "//":
                return self.binop(ast.RShift(), a, b.bit_length() - 1, node)
            return self.binop(ast.BitAnd(), a, b - 1, node)
        if name is None:
            raise self.error(
                node,
                f"the operator {sym} is not supported on vectors",
                "Int // and % take a power-of-two constant (x // 16, x % 16); otherwise "
                "compute in Float",
            )
        if name in ("and", "or") and (isinstance(a, RV) and a.type is BOOL) != (
            isinstance(b, RV) and b.type is BOOL
        ):
            a, b = (self.bool_vector(v, node) for v in (a, b))
        ta = a.type if isinstance(a, RV) else None
        tb = b.type if isinstance(b, RV) else None
        for v in (a, b):
            if not isinstance(v, (RV, int, float)) or isinstance(v, bool):
                raise self.error(node, f"{sym} cannot apply to {self.describe(v)}")
        # pointer arithmetic counts elements
        if (ta and ta.kind == "ptr") or (tb and tb.kind == "ptr"):
            if (
                name == "add"
                and ta
                and ta.kind == "ptr"
                and tb != FLOAT
                and (tb is None or tb is INT)
            ):
                return RV(
                    ta, self.b.ptr_add(ta, a.h, self.operand(b, INT, node), False)
                )
            if name == "add" and tb and tb.kind == "ptr" and (ta is None or ta is INT):
                return RV(
                    tb, self.b.ptr_add(tb, b.h, self.operand(a, INT, node), False)
                )
            if name == "sub" and ta and ta.kind == "ptr" and (tb is None or tb is INT):
                return RV(ta, self.b.ptr_add(ta, a.h, self.operand(b, INT, node), True))
            raise self.error(
                node,
                f"{self.describe(a)} {sym} {self.describe(b)} is not defined",
                "add or subtract an Int to a pointer (it counts elements)",
            )
        if ta is BOOL or tb is BOOL:
            if ta is BOOL and tb is BOOL and name in ("and", "or"):
                return RV(BOOL, self.b.bool_binop(name, a.h, b.h))
            raise self.error(
                node,
                f"{sym} does not apply to Bool conditions",
                "combine conditions with & and |",
            )
        t = ta or tb
        other = tb if t is ta else ta
        if other is not None and other != t:
            raise self.error(
                node,
                f"{ta} {sym} {tb} needs an explicit conversion",
                "write to_float(x) or to_int(x) so both operands have the same type",
            )
        if t is INT and (isinstance(a, float) or isinstance(b, float)):
            raise self.error(
                node,
                f"Int {sym} a float constant needs an explicit conversion",
                "write to_float(x) for a Float result, or use an int constant",
            )
        if name == "div" and t is not FLOAT:
            raise self.error(
                node,
                "/ is Float division; Int has no division",
                "use >> for powers of two or to_float()",
            )
        if name in ("shl", "shr", "and", "or", "xor") and t is not INT:
            raise self.error(node, f"{sym} applies to Int only, not {t}")
        return RV(
            t, self.b.binop(name, t, self.operand(a, t, node), self.operand(b, t, node))
        )

    def bool_vector(self, v: Any, node: ast.AST) -> Any:
        """A compile-time bool as a Bool vector (other values unchanged)."""
        if isinstance(v, bool):
            zero = ("imm", INT, 0)
            return RV(BOOL, self.b.compare("eq" if v else "ne", INT, zero, zero))
        return v

    def compare(self, op: str, a: Any, b: Any, node: ast.AST) -> RV:
        ta = a.type if isinstance(a, RV) else None
        tb = b.type if isinstance(b, RV) else None
        t = ta or tb
        if t not in (INT, FLOAT) or (ta and tb and ta != tb):
            raise self.error(
                node,
                f"cannot compare {self.describe(a)} with {self.describe(b)}",
                "compare two Int or two Float values (convert with to_float/to_int)",
            )
        return RV(
            BOOL,
            self.b.compare(op, t, self.operand(a, t, node), self.operand(b, t, node)),
        )

    # ---- calls ------------------------------------------------------------------------------

    def call(self, e: ast.Call) -> Any:
        if e.keywords:
            raise self.error(e, "keyword arguments are not supported in kernels")
        fn = self.expr(e.func)
        if isinstance(fn, api.Inline):
            args = [self.expr(a) for a in e.args]
            return self.inline_call(fn, e, args)
        if fn in (range, api.static_range):
            raise self.error(
                e, f"{fn.__name__}() can only be the iterable of a for loop"
            )
        if fn is any or fn is all:
            if len(e.args) != 1:
                raise self.error(e, f"{fn.__name__}() takes one vector condition")
            c = self.expr(e.args[0])
            if isinstance(c, bool):
                return c
            if not (isinstance(c, RV) and c.type is BOOL):
                raise self.error(
                    e.args[0],
                    f"{fn.__name__}() needs a vector condition, not {self.describe(c)}",
                )
            return Uniform(fn.__name__, False, c, e)
        args = [self.expr(a) for a in e.args]
        if isinstance(fn, _TypeName):
            return self.construct(fn.lang_type, args, e)
        marker = getattr(fn, "lang_builtin", None)
        if marker is not None:
            return self.builtin(marker, args, e)
        if fn in (min, max, abs):
            return self.minmaxabs(fn.__name__, args, e)
        from .kernel import Kernel  # here: kernel.py imports this module

        if isinstance(fn, Kernel):
            raise self.error(
                e,
                "a kernel cannot call another kernel",
                "make the helper an @inline function",
            )
        if fn in (float, int) and any(isinstance(a, RV) for a in args):
            conv = "to_float" if fn is float else "to_int"
            raise self.error(
                e,
                f"{fn.__name__}() converts compile-time numbers; this value exists at run time",
                f"write {conv}(x) to convert a vector",
            )
        if callable(fn) and all(is_const(a) for a in args):
            try:
                return fn(*args)  # compile-time evaluation over constants
            except Exception as err:  # noqa: BLE001 - any user function may fail; report it at its call
                raise self.error(
                    e,
                    f"calling {getattr(fn, '__name__', fn)} at compile time failed: {err}",
                ) from None
        raise self.error(
            e,
            f"{getattr(fn, '__name__', fn)}() cannot be called with run-time values",
            "kernels call the functions of vc6_isa.lang, @inline helpers, min/max/abs, "
            "and any Python function over compile-time constants",
        )

    def inline_call(self, fn: api.Inline, e: ast.Call, args: list[Any]) -> Any:
        if self.shared.depth >= _MAX_INLINE_DEPTH:
            raise self.error(e, "@inline helpers nest too deeply (recursion?)")
        tree, source = api.parse_function(fn.func)
        self.shared.depth += 1
        try:
            w = Walker(fn.func, tree, source, self.shared)
            return w.run_inline(e, args)
        finally:
            self.shared.depth -= 1
            self.b.set_line(e.lineno, self.source)

    def construct(self, t: LangType, args: list[Any], e: ast.Call) -> RV:
        if len(args) != 1:
            raise self.error(e, f"{t}(...) takes one value")
        v = args[0]
        if isinstance(v, RV):
            if v.type == t:
                return v
            raise self.error(
                e, f"{t}(...) of a {v.type} value", _convert_hint(v.type, t)
            )
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise self.error(e, f"{t}(...) of {self.describe(v)}")
        if t is INT and isinstance(v, float):
            raise self.error(e, "Int(...) of a float constant", "write Int(int(x))")
        return RV(t, self.b.const(t, self.operand(v, t, e)))

    def minmaxabs(self, name: str, args: list[Any], e: ast.Call) -> Any:
        if all(is_const(a) for a in args):
            return {"min": min, "max": max, "abs": abs}[name](*args)
        if name == "abs":
            if (
                len(args) != 1
                or not isinstance(args[0], RV)
                or args[0].type not in (INT, FLOAT)
            ):
                raise self.error(e, "abs() takes one Int or Float")
            return RV(args[0].type, self.b.unop("abs", args[0].type, args[0].h))
        if len(args) != 2:
            raise self.error(e, f"{name}() takes two values in a kernel")
        a, b = args
        t = a.type if isinstance(a, RV) else b.type
        if t not in (INT, FLOAT):
            raise self.error(e, f"{name}() applies to Int or Float")
        return RV(
            t, self.b.binop(name, t, self.operand(a, t, e), self.operand(b, t, e))
        )

    def builtin(self, name: str, args: list[Any], e: ast.Call) -> Any:
        n = len(args)
        want = {"index": 0, "me": 0, "num_qpus": 0, "receive": 0, "gather": 1, "store": 2,
                "rotate": 2, "to_float": 1, "to_int": 1}.get(name, 1)  # fmt: skip
        if n != want:
            raise self.error(e, f"{name}() takes {want} argument(s), got {n}")
        if name in ("index", "me", "num_qpus"):
            return RV(INT, getattr(self.b, name)())
        if name == "gather":
            p = args[0]
            if not (isinstance(p, RV) and p.type.kind == "ptr"):
                raise self.error(e, f"gather() needs a pointer, not {self.describe(p)}")
            limit = self.shared.fifo_limit
            if sum(isinstance(x, LangType) for x in self.shared.fifo) >= limit:
                raise self.error(
                    e,
                    f"more than {limit} gathers outstanding: the TMU returns at most "
                    f"{limit} results per batch before they must be received",
                    "call receive() before gathering more",
                )
            self.shared.fifo.append(p.type.elem)
            self.b.gather(p.h)
            return None
        if name == "receive":
            if not self.shared.fifo:
                raise self.error(
                    e, "receive() with nothing gathered", "call gather(p) first"
                )
            t = self.shared.fifo.pop(0)
            if isinstance(t, RV):
                return t  # popped early, by a p[i] load (see load_at)
            return RV(t, self.b.receive(t))
        if name == "store":
            v, p = args
            if not (isinstance(p, RV) and p.type.kind == "ptr"):
                raise self.error(
                    e, f"store() needs a pointer second, not {self.describe(p)}"
                )
            self.b.store(self.operand(v, p.type.elem, e), p.h)
            return None
        if name == "rotate":
            x, amount = args
            if isinstance(x, (int, float)) and not isinstance(x, bool):
                return x  # the same value in every lane rotates to itself
            if not (isinstance(x, RV) and x.type in (INT, FLOAT)):
                raise self.error(e, "rotate() rotates an Int or Float vector")
            if isinstance(amount, int) and not isinstance(amount, bool):
                return RV(x.type, self.b.rotate(x.type, x.h, amount % 16))
            if isinstance(amount, RV) and amount.type is INT:
                return RV(x.type, self.b.rotate(x.type, x.h, amount.h))
            raise self.error(e, "rotate()'s amount must be an int constant or an Int")
        v = args[0]
        if name == "to_float":
            if isinstance(v, int) and not isinstance(v, bool):
                return float(v)
            if not (isinstance(v, RV) and v.type is INT):
                raise self.error(
                    e, f"to_float() converts an Int, not {self.describe(v)}"
                )
            return RV(FLOAT, self.b.unop("itof", INT, v.h))
        if name == "to_int":
            if isinstance(v, float):
                return int(v)
            if not (isinstance(v, RV) and v.type is FLOAT):
                raise self.error(
                    e, f"to_int() converts a Float, not {self.describe(v)}"
                )
            return RV(INT, self.b.unop("ftoi", FLOAT, v.h))
        if name in _SFU_FUNCS:
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                v = RV(FLOAT, self.b.const(FLOAT, self.operand(v, FLOAT, e)))
            if not (isinstance(v, RV) and v.type is FLOAT):
                raise self.error(
                    e, f"{name}() applies to Float, not {self.describe(v)}"
                )
            return RV(FLOAT, self.b.unop(name, FLOAT, v.h))
        raise self.error(e, f"{name}() is not available here")  # pragma: no cover

    # ---- memory -----------------------------------------------------------------------------

    def _index(self, idx: Any, node: ast.AST) -> Any:
        if isinstance(idx, RV) and idx.type is INT:
            return idx.h
        if isinstance(idx, int) and not isinstance(idx, bool):
            return ("imm", INT, idx)
        raise self.error(node, f"an index must be an Int, not {self.describe(idx)}")

    def load_at(self, p: Any, idx: Any, e: ast.Subscript) -> RV:
        if not (isinstance(p, RV) and p.type.kind == "ptr"):
            raise self.error(
                e, f"cannot index {self.describe(p)}", "index a Ptr parameter"
            )
        # the TMU returns results in request order: pop the gathers still in flight first
        # (their receive() calls then take these values)
        fifo = self.shared.fifo
        for i, t in enumerate(fifo):
            if isinstance(t, LangType):
                fifo[i] = RV(t, self.b.receive(t))
        return RV(p.type.elem, self.b.load(p.type.elem, p.h, self._index(idx, e.slice)))

    def store_at(self, p: Any, idx: Any, value: Any, e: ast.Subscript) -> None:
        if not (isinstance(p, RV) and p.type.kind == "ptr"):
            raise self.error(
                e, f"cannot store through {self.describe(p)}", "index a Ptr parameter"
            )
        self.b.store_at(
            p.h, self._index(idx, e.slice), self.operand(value, p.type.elem, e)
        )


def _convert_hint(have: LangType, want: LangType) -> str:
    if have is INT and want is FLOAT:
        return "convert with to_float(x)"
    if have is FLOAT and want is INT:
        return "convert with to_int(x)"
    return f"use a {want} value here"


def _pos(node: ast.AST) -> dict[str, int]:
    return {
        k: getattr(node, k)
        for k in ("lineno", "col_offset", "end_lineno", "end_col_offset")
        if hasattr(node, k)
    }


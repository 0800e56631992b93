"""The interpreter: runs a kernel's source semantics directly in numpy (QPULib has one too).

It is the oracle of the compiler's differential tests, so it is written from the language's
definition, not from the compiler's output: every value is a 16-lane numpy vector (`Int` int32
wrapping, `Float` float32 rounded to nearest even, `Bool` bool, pointers uint32 byte
addresses), per-lane `if` keeps a mask and merges assignments with it, `any()`/`all()` loops
are Python loops, memory is a flat address space of the kernel's arrays.

The SFU functions follow the emulator's model of the SFU (the exact result computed in
float64, rounded to float32); the hardware's SFU is an approximation good to about 1e-4
(reference 10.6), so compare SFU results with a tolerance when a Pi runs them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .errors import LangError
from .types import FLOAT, LangType

__all__ = ["LANES", "Interpreter", "Memory"]

LANES = 16
_LANE = np.arange(LANES, dtype=np.int32)


class Memory:
    """A flat 32-bit address space holding the kernel's arrays (4-byte elements).

    Args:
        arrays: (address, array) pairs; each array's bytes are read and written in place.
    """

    def __init__(self, arrays: list[tuple[int, np.ndarray]]) -> None:
        self.regions = [
            (int(addr), a.reshape(-1).view(np.uint32)) for addr, a in arrays
        ]

    def _locate(
        self, addr: np.ndarray, what: str
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        addr = addr.astype(np.int64)
        if np.any(addr & 3):
            raise LangError(
                f"{what} at a misaligned address {hex(int(addr[np.argmax(addr & 3)]))}",
                "pointers move in whole elements (p + 1 is the next element)",
            )
        found = np.zeros(LANES, dtype=bool)
        out = []
        for base, words in self.regions:
            idx = (addr - base) >> 2
            hit = (addr >= base) & (idx < words.size) & ~found
            if hit.any():
                out.append((hit, idx, words))
                found |= hit
        if not found.all():
            lane = int(np.argmin(found))
            raise LangError(
                f"{what} outside every array: lane {lane} addresses {hex(int(addr[lane]))}",
                "keep indices inside the arrays passed to the kernel",
            )
        return out

    def load(self, addr: np.ndarray) -> np.ndarray:
        result = np.zeros(LANES, dtype=np.uint32)
        for hit, idx, words in self._locate(addr, "a load"):
            result[hit] = words[idx[hit]]
        return result

    def store(
        self, addr: np.ndarray, bits: np.ndarray, mask: np.ndarray | None
    ) -> None:
        if mask is not None:
            if not mask.any():
                return
            addr = np.where(mask, addr, addr[np.argmax(mask)])
        for hit, idx, words in self._locate(addr, "a store"):
            if mask is not None:
                hit = hit & mask
            words[idx[hit]] = bits[hit]


class _Cell:
    __slots__ = ("v",)

    def __init__(self, v: np.ndarray) -> None:
        self.v = v


def _f32(x: Any) -> np.ndarray:
    return np.asarray(x, dtype=np.float64).astype(np.float32)


def _bits(v: np.ndarray) -> np.ndarray:
    return v.view(np.uint32)


def _sfu(fn: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return _f32(fn(x.astype(np.float64)))


def _recip(x: np.ndarray) -> np.ndarray:
    return _sfu(lambda v: 1.0 / v, x)


def _rsqrt(x: np.ndarray) -> np.ndarray:
    return _sfu(lambda v: np.where(v == 0, np.copysign(np.inf, v), 1.0 / np.sqrt(v)), x)


def _sin_pi(x: np.ndarray) -> np.ndarray:
    return _sfu(lambda v: np.sin(np.pi * np.clip(v, -0.5, 0.5)), x)


def _exp2(x: np.ndarray) -> np.ndarray:
    return _sfu(lambda v: np.exp2(np.clip(v, -200.0, 200.0)), x)


def _log2(x: np.ndarray) -> np.ndarray:
    return _sfu(lambda v: np.where(v == 0, -np.inf, np.log2(v)), x)


def ftoiz(x: np.ndarray) -> np.ndarray:
    """float32 -> int32 toward zero, saturating, NaN -> 0 (the emulator's choice)."""
    v = np.trunc(x.astype(np.float64))
    v = np.where(np.isnan(v), 0, np.clip(v, -(2**31), 2**31 - 1))
    return v.astype(np.int64).astype(np.int32)


def ftoin(x: np.ndarray) -> np.ndarray:
    """float32 -> int32 round to nearest even, saturating."""
    v = np.rint(x.astype(np.float64))
    v = np.where(np.isnan(v), 0, np.clip(v, -(2**31), 2**31 - 1))
    return v.astype(np.int64).astype(np.int32)


def sin_radians(x: np.ndarray) -> np.ndarray:
    """sin(x) the way the compiled code computes it (Mesa's reduction, then the SFU)."""
    with np.errstate(all="ignore"):
        y = (x * np.float32(1.0 / np.pi)).astype(np.float32)
        periods = np.round(y).astype(np.float32)  # round half to even
        t = (y - periods).astype(np.float32)
        s = _sin_pi(t)
        sign = (ftoin(periods).view(np.uint32) << np.uint32(31)).astype(np.uint32)
        return (_bits(s) ^ sign).view(np.float32)


def fminmax(a: np.ndarray, b: np.ndarray, want_min: bool) -> np.ndarray:
    """fmin/fmax with -0 < +0 and NaN propagation (the first NaN operand, quieted)."""
    a_first = (a < b) | ((a == b) & np.signbit(a) & ~np.signbit(b))
    if not want_min:
        a_first = (a > b) | ((a == b) & ~np.signbit(a) & np.signbit(b))
    r = np.where(a_first, a, b)
    r = np.where(np.isnan(b), b, r)
    return np.where(np.isnan(a), a, r).astype(np.float32)


class Interpreter:
    """The numpy backend of the frontend (see `frontend.Walker`) for one batch (one QPU).

    Args:
        params: Each parameter's value: an int, a float or a pointer's base address.
        memory: The arrays the kernel's pointers reach.
        qpu: This batch's `me()`.
        num_qpus: The call's `num_qpus`.
    """

    def __init__(
        self, params: list[Any], memory: Memory, qpu: int, num_qpus: int
    ) -> None:
        self.params = params
        self.memory = memory
        self.qpu = qpu
        self.n = num_qpus
        self.mask: np.ndarray | None = None
        self.queue: list[np.ndarray] = []
        self.steps = 0

    # ---- values -----------------------------------------------------------------------------

    def set_line(self, line: int, source: Any = None) -> None:
        self.steps += 1
        if self.steps > 50_000_000:
            raise LangError(
                "the interpreter ran 50 million statements: an endless loop?"
            )

    def val(self, x: Any) -> np.ndarray:
        if isinstance(x, tuple):
            _, t, v = x
            if t is FLOAT:
                return np.full(LANES, v, dtype=np.float64).astype(np.float32)
            return np.full(LANES, int(v) & 0xFFFFFFFF, dtype=np.uint32).view(np.int32)
        return x

    def param(self, i: int, t: LangType) -> np.ndarray:
        v = self.params[i]
        if t.kind == "ptr":
            return np.full(LANES, int(v) & 0xFFFFFFFF, dtype=np.uint32)
        return self.val(("imm", t, v))

    def read(self, cell: _Cell) -> np.ndarray:
        return cell.v

    def pin(self, x: Any) -> None:
        pass

    def new_var(self, t: LangType, x: Any) -> _Cell:
        return _Cell(self.val(x).copy())

    def assign(self, cell: _Cell, x: Any) -> None:
        v = self.val(x)
        cell.v = v.copy() if self.mask is None else np.where(self.mask, v, cell.v)

    def copy(self, t: LangType, x: Any) -> np.ndarray:
        return self.val(x).copy()

    def const(self, t: LangType, x: Any) -> np.ndarray:
        return self.val(x)

    def index(self) -> np.ndarray:
        return _LANE.copy()

    def me(self) -> np.ndarray:
        return np.full(LANES, self.qpu, dtype=np.int32)

    def num_qpus(self) -> np.ndarray:
        return np.full(LANES, self.n, dtype=np.int32)

    # ---- arithmetic -------------------------------------------------------------------------

    def binop(self, name: str, t: LangType, a: Any, b: Any) -> np.ndarray:
        a, b = self.val(a), self.val(b)
        with np.errstate(all="ignore"):
            if t is FLOAT:
                if name == "add":
                    return (a + b).astype(np.float32)
                if name == "sub":
                    return (a - b).astype(np.float32)
                if name == "mul":
                    return (a * b).astype(np.float32)
                if name == "div":
                    return (a * _recip(b)).astype(np.float32)
                if name in ("min", "max"):
                    return fminmax(a, b, name == "min")
            else:
                ua, ub = a.view(np.uint32), b.view(np.uint32)
                if name == "add":
                    return (ua + ub).view(np.int32)
                if name == "sub":
                    return (ua - ub).view(np.int32)
                if name == "mul":
                    return (ua * ub).view(np.int32)
                if name == "shl":
                    return (ua << (ub & np.uint32(31))).view(np.int32)
                if name == "shr":
                    return (a >> (b & 31)).astype(np.int32)
                if name == "and":
                    return a & b
                if name == "or":
                    return a | b
                if name == "xor":
                    return a ^ b
                if name == "min":
                    return np.minimum(a, b)
                if name == "max":
                    return np.maximum(a, b)
        raise LangError(f"internal: no {t} {name}")  # pragma: no cover

    def unop(self, name: str, t: LangType, a: Any) -> np.ndarray:
        a = self.val(a)
        with np.errstate(all="ignore"):
            if name == "neg":
                if t is FLOAT:
                    return (_bits(a) ^ np.uint32(0x80000000)).view(np.float32)
                return (np.uint32(0) - a.view(np.uint32)).view(np.int32)
            if name == "not":
                return ~a
            if name == "abs":
                if t is FLOAT:
                    return (_bits(a) & np.uint32(0x7FFFFFFF)).view(np.float32)
                return np.maximum(a, (np.uint32(0) - a.view(np.uint32)).view(np.int32))
            if name == "itof":
                return a.astype(np.float32)
            if name == "ftoi":
                return ftoiz(a)
            if name == "recip":
                return _recip(a)
            if name == "rsqrt":
                return _rsqrt(a)
            if name == "sqrt":
                return _recip(_rsqrt(a))
            if name == "exp2":
                return _exp2(a)
            if name == "log2":
                return _log2(a)
            if name == "sin":
                return sin_radians(a)
        raise LangError(f"internal: no {t} {name}")  # pragma: no cover

    def compare(self, op: str, t: LangType, a: Any, b: Any) -> np.ndarray:
        a, b = self.val(a), self.val(b)
        return {
            "eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal,
            "gt": np.greater, "ge": np.greater_equal,
        }[op](a, b)  # fmt: skip

    def bool_binop(self, name: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return (a & b) if name == "and" else (a | b)

    def bool_not(self, a: np.ndarray) -> np.ndarray:
        return ~a

    def ptr_add(self, t: LangType, p: np.ndarray, off: Any, negate: bool) -> np.ndarray:
        o = (self.val(off).view(np.uint32) << np.uint32(2)).astype(np.uint32)
        return (p - o) if negate else (p + o)

    def rotate(self, t: LangType, x: np.ndarray, n: Any) -> np.ndarray:
        amount = n if isinstance(n, int) else int(n[0]) % LANES
        return np.roll(x, amount)

    # ---- memory -----------------------------------------------------------------------------

    def _as(self, t: LangType, bits: np.ndarray) -> np.ndarray:
        return bits.view(np.float32 if t is FLOAT else np.int32)

    def gather(self, p: np.ndarray) -> None:
        self.queue.append(self.memory.load(p))

    def receive(self, t: LangType) -> np.ndarray:
        return self._as(t, self.queue.pop(0))

    def store(self, v: Any, p: np.ndarray) -> None:
        self.memory.store(p, self.val(v).view(np.uint32), self.mask)

    def _lane_addr(self, p: np.ndarray, idx: Any) -> np.ndarray:
        i = self.val(idx).view(np.uint32) + _LANE.view(np.uint32)
        return (p + (i << np.uint32(2))).astype(np.uint32)

    def load(self, t: LangType, p: np.ndarray, idx: Any) -> np.ndarray:
        return self._as(t, self.memory.load(self._lane_addr(p, idx)))

    def store_at(self, p: np.ndarray, idx: Any, v: Any) -> None:
        self.memory.store(
            self._lane_addr(p, idx), self.val(v).view(np.uint32), self.mask
        )

    # ---- control flow -----------------------------------------------------------------------

    def where(
        self, c: np.ndarray, then: Callable[[], None], orelse: Callable[[], None] | None
    ) -> None:
        outer = self.mask
        self.mask = c if outer is None else (outer & c)
        then()
        if orelse is not None:
            self.mask = ~c if outer is None else (outer & ~c)
            orelse()
        self.mask = outer

    def test(self, u: Any) -> bool:
        c = u.cond.h
        if u.kind == "any":
            r = bool(np.any(c if self.mask is None else (c & self.mask)))
        else:
            r = bool(np.all(c if self.mask is None else (c | ~self.mask)))
        return r != u.negated

    def branch_if(
        self, u: Any, then: Callable[[], None], orelse: Callable[[], None] | None
    ) -> None:
        if self.test(u):
            then()
        elif orelse is not None:
            orelse()

    def while_(
        self, first: Any, cond: Callable[[], Any], body: Callable[[], None]
    ) -> None:
        u = first
        while self.test(u):
            body()
            u = cond()

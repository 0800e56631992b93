"""The IR backend of the frontend: instruction selection into blocks of `ir.Op`.

Every language operation becomes one or a few machine ops (reference sections 10.2-10.6):
Int compares are `sub`/`min` with a flag push (`min(b, a).pushc` is a < b, as Mesa's
ilt), Float compares `fcmp` with `pushz`/`pushn`/`pushc`; a `Bool` is materialised
with `vfla`/`vflna` (non-zero where true) so that it can be combined (`and`/`or`
with `pushz`) and re-loaded into flag A later. Per-lane `if` keeps a mask `Bool`;
assignments under it are conditional writes (`ifa`/`ifna`), fused into the op that
computes the value when that op was the last one emitted. `any`/`all` become branches
on flag A over all lanes (`anya`/`alla`/`anyna`/`allna`, reference 9.1).

Constants that are not small immediates, the parameters and `num_qpus()` arrive as uniforms
read into registers at the start (so no uniform is ever consumed after a branch). Pure ops
are shared within a block (local CSE), and inside loops those whose operands are all
first-block values are computed once at the end of the first block. Loops are laid out with
their test at the bottom (one branch per trip). With `threads` > 1, a `receive()` that
waits for data requested since the last switch starts with a `thrsw`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .ir import (
    R5,
    R5REP,
    RF0,
    SFU_OPS,
    TMUA,
    TMUD,
    Block,
    Branch,
    Imm,
    Op,
    VReg,
    is_small_imm,
)
from .types import BOOL, FLOAT, LangType

__all__ = ["Builder", "CondH"]


class CondH:
    """A `Bool` vector: register `m` is non-zero in the lanes where it holds."""

    __slots__ = ("m",)

    def __init__(self, m: VReg) -> None:
        self.m = m


_FLOAT_OPS = {"add": "fadd", "sub": "fsub", "mul": "fmul", "min": "fmin", "max": "fmax"}
_INT_OPS = {"add": "add", "sub": "sub", "shl": "shl", "shr": "asr", "and": "and", "or": "or",
            "xor": "xor", "min": "min", "max": "max"}  # fmt: skip
_SFU = {"recip": "recip", "rsqrt": "rsqrt", "exp2": "exp", "log2": "log"}
#: (any/all, truth wanted, flag A == cond) -> branch condition (reference 9.1)
_BRANCH = {
    ("any", True, True): "anya", ("any", True, False): "anyna",
    ("any", False, True): "allna", ("any", False, False): "alla",
    ("all", True, True): "alla", ("all", True, False): "allna",
    ("all", False, True): "anyna", ("all", False, False): "anya",
}  # fmt: skip


def f32_bits(v: float) -> int:
    return int(np.array(v, dtype=np.float64).astype(np.float32).view(np.uint32))


class Builder:
    """Builds the IR of one kernel while the frontend walks it.

    Attributes:
        layout: Blocks in program order (the first starts with the prologue).
        uses: How many ops read each VReg so far.
        no_acc: VRegs that must live in the register file (SFU destinations).
        has_stores: Whether the program writes memory (then it ends with `tmuwt`).
    """

    def __init__(self, threads: int = 1, hoist: bool = True) -> None:
        self.threads = threads
        self.hoist = hoist
        self.unswitched = 0  # TMU reads requested since the last thread switch
        self.fifo = (
            0  # TMU reads requested and not yet popped (the frontend checks the limit)
        )
        self.avail: dict[
            tuple, VReg
        ] = {}  # local CSE: (op, operands) -> result, per block
        self.hoisted: dict[
            tuple, VReg
        ] = {}  # pure ops of first-block values, computed there
        self.first_defs: set[VReg] = set()  # registers defined in the first block
        self.vars: set[VReg] = set()  # homes of mutable variables
        self.loop_depth = 0
        self.nid = 0
        self.bid = 0
        self.line = 0
        self.source: Any = None
        self.layout: list[Block] = []
        self.prologue: list[Op] = []
        self.cur = self._start(self._block())
        self.uses: dict[VReg, int] = {}
        self.homes: set[VReg] = set()
        self.no_acc: set[VReg] = set()
        self.consts: dict[int, VReg] = {}
        self.cse: dict[str, VReg] = {}
        self.flags: tuple[CondH, bool] | None = None
        self.mask: CondH | None = None
        self.has_stores = False

    # ---- plumbing ---------------------------------------------------------------------------

    def _block(self) -> Block:
        self.bid += 1
        return Block(self.bid)

    def _start(self, block: Block) -> Block:
        block.fifo_in = self.fifo
        self.avail = {}
        self.layout.append(block)
        self.cur = block
        self.flags = None
        return block

    def vreg(self, need_acc: bool = False) -> VReg:
        self.nid += 1
        return VReg(self.nid, (self.source, self.line), need_acc)

    def set_line(self, line: int, source: Any = None) -> None:
        """The kernel (or helper) line being compiled, for ops and error messages."""
        self.line = line
        if source is not None:
            self.source = source

    def emit(
        self, name: str, dst: Any, *srcs: Any, prologue: bool = False, **kw: Any
    ) -> Op:
        op = Op(name, dst, tuple(srcs), line=self.line, **kw)
        for r in op.reads:
            if isinstance(r, VReg):
                self.uses[r] = self.uses.get(r, 0) + 1
        (self.prologue if prologue else self.cur.ops).append(op)
        if isinstance(dst, VReg) and (prologue or self.cur is self.layout[0]):
            self.first_defs.add(dst)
        if name in SFU_OPS and isinstance(dst, VReg):
            self.no_acc.add(dst)
        return op

    def alu(self, name: str, *srcs: Any, **kw: Any) -> VReg:
        """A pure op's result: reused when the same op on the same operands was already
        computed in this block and none of its operands has been written since."""
        key = (name, srcs, tuple(sorted(kw.items())))
        if self.hoist and self.loop_depth and all(
            isinstance(x, Imm) or (x in self.first_defs and x not in self.vars)
            for x in srcs
        ):
            # loop-invariant (its operands never change after the first block): compute it
            # once, at the end of the first block
            hit = self.hoisted.get(key)
            if hit is None:
                hit = self.hoisted[key] = self.vreg()
                cur, self.cur = self.cur, self.layout[0]
                self.emit(name, hit, *srcs, **kw)
                self.cur = cur
            return hit
        hit = self.avail.get(key)
        if hit is None:
            hit = self.avail[key] = self.vreg()
            self.emit(name, hit, *srcs, **kw)
        return hit

    def _written(self, dst: Any) -> None:
        """Forget available results that read `dst` (a variable just written)."""
        if self.avail:
            self.avail = {k: v for k, v in self.avail.items() if dst not in k[1]}

    def finish(self) -> list[Block]:
        self.layout[0].ops[:0] = self.prologue
        self.prologue = []
        return self.layout

    def operand(self, x: Any) -> Any:
        """A handle or ("imm", type, value) as an op operand (Imm, VReg, CondH -> its reg)."""
        if isinstance(x, CondH):
            return x.m
        if not isinstance(x, tuple):
            return x
        _, t, v = x
        bits = f32_bits(v) if t is FLOAT else int(v) & 0xFFFFFFFF
        return self.bits_operand(bits)

    def bits_operand(self, bits: int) -> Any:
        if is_small_imm(bits):
            return Imm(bits)
        reg = self.consts.get(bits)
        if reg is None:
            reg = self.consts[bits] = self.vreg()
            self.emit("ldunifrf", reg, prologue=True, uniform=("const", bits))
        return reg

    def _one_imm(self, a: Any, b: Any) -> tuple[Any, Any]:
        """At most one distinct small immediate per op (they share raddr_b)."""
        if isinstance(a, Imm) and isinstance(b, Imm) and a != b:
            t = self.vreg()
            self.emit("mov", t, a)
            a = t
        return a, b

    def _retargetable(self, x: Any) -> Op | None:
        if not isinstance(x, VReg) or x in self.homes or self.uses.get(x, 0):
            return None
        if not self.cur.ops:
            return None
        op = self.cur.ops[-1]
        if (
            op.dst is not x
            or op.pf
            or op.cond
            or op.name in ("ldunifrf", "multop", "umul24")
        ):
            return None
        return op

    def move(self, dst: Any, x: Any, masked: bool) -> None:
        """dst = x (under the current mask when `masked`), fused into x's op when possible."""
        x = self.operand(x)
        op = self._retargetable(x)
        # an SFU result or a TMU pop goes to a register, unconditionally: writing it straight
        # into tmud/tmua would make one instruction two peripheral accesses (reference
        # 13.1/1), and neither can take a condition
        peripheral = op is not None and op.name in (*SFU_OPS, "ldtmu")
        if peripheral and ((masked and self.mask is not None) or not isinstance(dst, VReg)):
            op = None
        if op is not None:
            self.cur.ops.pop()
            self.avail = {k: v for k, v in self.avail.items() if v is not x}
        self._written(dst)
        cond = self._mask_cond() if masked else None
        if op is not None:
            op.dst, op.cond = dst, cond
            if op.name in SFU_OPS and isinstance(dst, VReg):
                self.no_acc.add(dst)
            self.cur.ops.append(op)
            if cond is not None and dst is not None:
                self.uses[dst] = self.uses.get(dst, 0) + 1
        else:
            self.emit("mov", dst, x, cond=cond)

    def _mask_cond(self) -> str | None:
        if self.mask is None:
            return None
        return "ifa" if self.ensure_flags(self.mask) else "ifna"

    def ensure_flags(self, c: CondH) -> bool:
        """Make flag A hold `c` or its negation; returns True when A == c."""
        if self.flags is not None and self.flags[0] is c:
            return self.flags[1]
        self.emit("or", None, c.m, c.m, pf="pushz")
        self.flags = (c, False)
        return False

    # ---- values -----------------------------------------------------------------------------

    def param(self, i: int, t: LangType) -> Any:
        r = self.vreg()
        self.emit("ldunifrf", r, prologue=True, uniform=("param", i))
        return CondH(r) if t is BOOL else r

    def read(self, var: Any) -> Any:
        return var

    def pin(self, x: Any) -> None:
        """`x` is bound to a name: never fuse another assignment into the op defining it."""
        if isinstance(x, CondH):
            self.homes.add(x.m)
        elif isinstance(x, VReg):
            self.homes.add(x)

    def new_var(self, t: LangType, x: Any) -> Any:
        if t is BOOL:
            c = CondH(self.vreg())
            self.homes.add(c.m)
            self.vars.add(c.m)
            self.move(c.m, x, False)
            return c
        v = self.vreg()
        self.homes.add(v)
        self.vars.add(v)
        self.move(v, x, False)
        return v

    def assign(self, var: Any, x: Any) -> None:
        if isinstance(var, CondH):
            if self.flags is not None and self.flags[0] is var:
                self.flags = None
            self.move(var.m, x, True)
            return
        self.move(var, x, True)

    def copy(self, t: LangType, x: Any) -> Any:
        if isinstance(x, CondH):
            c = CondH(self.vreg())
            self.emit("mov", c.m, x.m)
            return c
        r = self.vreg()
        self.emit("mov", r, self.operand(x))
        return r

    def const(self, t: LangType, x: Any) -> Any:
        r = self.vreg()
        self.emit("mov", r, self.operand(x))
        return r

    def _cached(self, key: str, make: Callable[[VReg], None]) -> VReg:
        r = self.cse.get(key)
        if r is None:
            r = self.cse[key] = self.vreg()
            make(r)
        return r

    def index(self) -> VReg:
        return self._cached("index", lambda r: self.emit("eidx", r, prologue=True))

    def lane4(self) -> VReg:
        idx = self.index()
        return self._cached(
            "lane4", lambda r: self.emit("shl", r, idx, Imm(2), prologue=True)
        )

    def me(self) -> VReg:
        # workgroup id X = bits 15:0 of payload rf0 (reference 15.3); shifts use 5 bits: -16 = 16
        def make(r: VReg) -> None:
            t = self.vreg()
            self.emit("shl", t, RF0, Imm(0xFFFFFFF0), prologue=True)
            self.emit("shr", r, t, Imm(0xFFFFFFF0), prologue=True)

        return self._cached("me", make)

    def num_qpus(self) -> VReg:
        return self._cached(
            "num_qpus",
            lambda r: self.emit("ldunifrf", r, prologue=True, uniform=("num_qpus",)),
        )

    # ---- arithmetic -------------------------------------------------------------------------

    def binop(self, name: str, t: LangType, a: Any, b: Any) -> VReg:
        a, b = self._one_imm(self.operand(a), self.operand(b))
        d = self.vreg()
        if t is FLOAT:
            if name == "div":
                r = self.vreg()
                self.emit("recip", r, b)
                self.emit("fmul", d, a, r)
            elif name == "max" and a == b:
                self.emit("mov", d, a)
            else:
                return self.alu(_FLOAT_OPS[name], a, b)
            return d
        if name == "mul":
            if isinstance(b, Imm) and b.bits and not b.bits & (b.bits - 1):
                return self.alu("shl", a, Imm(b.bits.bit_length() - 1))
            self.emit("multop", None, a, b)
            self.emit("umul24", d, a, b)
            return d
        return self.alu(_INT_OPS[name], a, b)

    def unop(self, name: str, t: LangType, a: Any) -> VReg:
        a = self.operand(a)
        d = self.vreg()
        if name == "neg":
            if t is FLOAT:
                self.emit("xor", d, a, self.bits_operand(0x80000000))
            else:
                self.emit("neg", d, a)
        elif name == "not":
            self.emit("not", d, a)
        elif name == "abs":
            if t is FLOAT:
                self.emit("fmov", d, a, unpack="abs")
            else:
                n = self.vreg()
                self.emit("neg", n, a)
                self.emit("max", d, a, n)
        elif name == "itof":
            self.emit("itof", d, a)
        elif name == "ftoi":
            self.emit("ftoiz", d, a)
        elif name == "sqrt":
            r = self.vreg()
            self.emit("rsqrt", r, a)
            self.emit("recip", d, r)
        elif name == "sin":
            # Mesa's reduction: y = x/pi, p = round(y), sin(pi*(y-p)) with the sign of (-1)^p
            y, p, s, k, k31 = (self.vreg() for _ in range(5))
            tt = self.vreg()
            self.emit("fmul", y, a, self.bits_operand(f32_bits(1.0 / np.pi)))
            self.emit("fround", p, y)
            self.emit("fsub", tt, y, p)
            self.emit("sin", s, tt)
            self.emit("ftoin", k, p)
            self.emit("shl", k31, k, Imm(0xFFFFFFFF))  # shift by 31 (low 5 bits of -1)
            self.emit("xor", d, s, k31)
        else:
            self.emit(_SFU[name], d, a)
        return d

    def compare(self, op: str, t: LangType, a: Any, b: Any) -> CondH:
        a, b = self._one_imm(self.operand(a), self.operand(b))
        if t is FLOAT:
            name, x, y, pf, pol = {
                "eq": ("fcmp", a, b, "pushz", True), "ne": ("fcmp", a, b, "pushz", False),
                "lt": ("fcmp", a, b, "pushn", True), "le": ("fcmp", a, b, "pushc", True),
                "gt": ("fcmp", b, a, "pushn", True), "ge": ("fcmp", b, a, "pushc", True),
            }[op]  # fmt: skip
        else:
            # min(x, y).pushc sets C = x > y, signed (Mesa ilt(a, b) = MIN(b, a).pushc)
            name, x, y, pf, pol = {
                "eq": ("sub", a, b, "pushz", True), "ne": ("sub", a, b, "pushz", False),
                "lt": ("min", b, a, "pushc", True), "ge": ("min", b, a, "pushc", False),
                "gt": ("min", a, b, "pushc", True), "le": ("min", a, b, "pushc", False),
            }[op]  # fmt: skip
        self.emit(name, None, x, y, pf=pf)
        c = CondH(self.vreg())
        self.emit("vfla" if pol else "vflna", c.m)
        self.flags = (c, pol)
        return c

    def bool_binop(self, name: str, a: CondH, b: CondH) -> CondH:
        c = CondH(self.vreg())
        self.emit(name, c.m, a.m, b.m, pf="pushz")
        self.flags = (c, False)
        return c

    def bool_not(self, a: CondH) -> CondH:
        self.emit("or", None, a.m, a.m, pf="pushz")
        c = CondH(self.vreg())
        self.emit("vfla", c.m)
        self.flags = (c, True)
        return c

    def ptr_add(self, t: LangType, p: Any, off: Any, negate: bool) -> VReg:
        op = "sub" if negate else "add"
        if isinstance(off, tuple):
            return self.alu(op, p, self.bits_operand((4 * int(off[2])) & 0xFFFFFFFF))
        return self.alu(op, p, self.alu("shl", off, Imm(2)))

    def rotate(self, t: LangType, x: Any, n: Any) -> VReg:
        d = self.vreg()
        if isinstance(n, int) and n == 0:
            self.emit("mov", d, x)
            return d
        if not isinstance(n, int):
            self.emit("mov", R5REP, n)  # the amount is lane 0 of n, in every lane of r5
        s = self.vreg(
            need_acc=True
        )  # full rotation reads an accumulator (reference 10.10)
        self.emit("mov", s, x)
        self.emit("rot", d, s, rot=n if isinstance(n, int) else R5)
        return d

    # ---- memory -----------------------------------------------------------------------------

    def gather(self, p: Any) -> None:
        self.move(TMUA, p, False)
        self.cur.ops[-1].tmu_read = True
        self.fifo += 1
        self.unswitched += 1

    def receive(self, t: LangType) -> VReg:
        if self.threads > 1 and self.unswitched:
            # let another thread of this QPU run while the data comes (reference 12.1): the
            # switch loses accumulators and flags (1.2), which regalloc and ensure_flags respect
            self.emit("thrsw", None)
            self.unswitched = 0
            self.flags = None
        d = self.vreg()
        self.emit("ldtmu", d)
        self.fifo -= 1
        return d

    def store(self, v: Any, p: Any) -> None:
        self.has_stores = True
        self.move(TMUD, v, False)
        self.move(TMUA, p, True)

    def _address(self, p: Any, idx: Any) -> VReg:
        """A register holding p + 4 * (idx + lane), each lane's address of element idx."""
        if isinstance(idx, tuple):
            k = int(idx[2])
            if k == 0:
                return self.alu("add", p, self.lane4())
            off = self.alu("add", self.lane4(), self.bits_operand((4 * k) & 0xFFFFFFFF))
            return self.alu("add", p, off)
        lane = self.alu("add", idx, self.index())
        return self.alu("add", p, self.alu("shl", lane, Imm(2)))

    def load(self, t: LangType, p: Any, idx: Any) -> VReg:
        self.gather(self._address(p, idx))
        return self.receive(t)

    def store_at(self, p: Any, idx: Any, v: Any) -> None:
        self.has_stores = True
        self.move(TMUD, v, False)
        self.move(TMUA, self._address(p, idx), True)

    # ---- control flow -----------------------------------------------------------------------

    def where(
        self, c: CondH, then: Callable[[], None], orelse: Callable[[], None] | None
    ) -> None:
        outer = self.mask
        self.pin(c)
        self.mask = c if outer is None else self.bool_binop("and", outer, c)
        then()
        if orelse is not None:
            nc = self.bool_not(c)
            self.mask = nc if outer is None else self.bool_binop("and", outer, nc)
            orelse()
        self.mask = outer

    def _branch_on(self, u: Any, when: bool, target: Block) -> None:
        """End the current block with a branch to `target` taken when `u` is `when`."""
        c = u.cond.h
        if self.mask is not None:
            if u.kind == "any":
                c = self.bool_binop("and", c, self.mask)
            else:
                c = self.bool_binop("or", c, self.bool_not(self.mask))
        pol = self.ensure_flags(c)
        truth = (not u.negated) == when
        self.cur.branch = Branch(_BRANCH[(u.kind, truth, pol)], target, self.line)

    def branch_if(
        self, u: Any, then: Callable[[], None], orelse: Callable[[], None] | None
    ) -> None:
        else_b, end_b = self._block(), self._block()
        self._branch_on(u, False, else_b if orelse is not None else end_b)
        self._start(self._block())
        then()
        if orelse is not None:
            self.cur.branch = Branch(None, end_b, self.line)
            self._start(else_b)
            orelse()
        self._start(end_b)

    def while_(
        self, first: Any, cond: Callable[[], Any], body: Callable[[], None]
    ) -> None:
        body_b, exit_b = self._block(), self._block()
        self._branch_on(first, False, exit_b)
        self._start(body_b)
        self.loop_depth += 1
        body()
        self._branch_on(cond(), True, body_b)
        self.loop_depth -= 1
        self._start(exit_b)

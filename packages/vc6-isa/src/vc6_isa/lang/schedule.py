"""The list scheduler: packs a block's ops into dual-issue instructions without hazards.

Works after register allocation, on physical registers. For each block it builds the
dependence graph (read-after-write with the result latency, write-after-read with latency 0
since both ALUs read before either writes, write-after-write), plus ordered chains for the
flags, the TMU requests (`tmud`/`tmua` writes), the TMU pops (`ldtmu`), the uniform
stream and `rtop`. A pop depends on the request it returns, and a read request may move
ahead of earlier pops only while the output FIFO has room (the frontend tracks its depth
statically; reference 12.1, 13.6/31); a pop is asked to come `TMU_SOFT_LATENCY` instructions
after its request when other work can fill the gap. Then it fills instructions cycle by cycle
with the ready ops of greatest height (the flag compare of the block's branch first),
checking what one instruction can hold (reference 13.1): one add op, one mul op and one
signal; two register-file read ports (one when a small immediate or a rotation takes
`raddr_b`); one small immediate; one flag write and an encodable condition pair; one
peripheral access (TMU write, `ldtmu`, SFU); distinct destinations. Latencies (reference
11.1, 13.2): ALU results at t+1; SFU results at t+2; a rotated accumulator, and r5 as a
rotation amount, not written by the previous instruction.

The block's branch goes as early as its flags allow but with at most three instructions
after it, so the branch's delay slots execute the block's own last instructions (reference
9.2); missing slots are filled with `nop`. A thread switch (`thrsw`, kernels with
`threads` > 1) goes on the third-last instruction before the switch point, with two quiet
delay slots, at least three instructions after the previous one and never near a branch
(reference 13.3/14, 13.4).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any

from ..encoding import FLAG_CODES, SIGNAL_CODES
from .frontend import FIFO_LIMIT
from .ir import R5, R5REP, RF0, SFU_OPS, TMUA, TMUD, Imm, Op, VReg, alus_for

__all__ = ["Instr", "Node", "schedule_block"]

#: Instructions the scheduler tries to put between a TMU read request and its ldtmu (filled
#: only with work that is ready anyway: it never pads with nops for it).
TMU_SOFT_LATENCY = 10
_FLAG_READERS = frozenset({"vfla", "vflna"})
_MAGIC = {TMUA: ("magic", 12), TMUD: ("magic", 11), R5REP: ("magic", 55)}


@dataclass(eq=False)
class Node:
    """An op with its physical operands and scheduling facts."""

    op: Op
    i: int
    dst: Any
    srcs: list[Any]
    alus: tuple[str, ...]
    reads: list[Any]
    writes: list[Any]
    rf_reads: frozenset
    imm: int | None
    periph: bool
    preds: list[tuple[Node, int]] = field(default_factory=list)
    succs: list[tuple[Node, int]] = field(default_factory=list)
    height: int = 0
    cycle: int = -1
    soft: tuple[Node, int] | None = None


@dataclass
class Instr:
    """One instruction being filled: at most one op per slot (`add`, `mul`, `sig`)."""

    add: Node | None = None
    mul: Node | None = None
    sig: Node | None = None
    branch: Any = None
    thrsw: bool = False

    def nodes(self) -> list[Node]:
        return [n for n in (self.add, self.mul, self.sig) if n is not None]


def phys(x: Any, where: dict[VReg, tuple[str, int]]) -> Any:
    if isinstance(x, VReg):
        return where[x]
    if isinstance(x, Imm):
        return x
    if x is RF0:
        return ("rf", 0)
    if x is R5:
        return ("acc", 5)
    return _MAGIC.get(x, x)


def make_node(op: Op, i: int, where: dict[VReg, tuple[str, int]]) -> Node:
    dst = phys(op.dst, where) if op.dst is not None else None
    srcs = [phys(s, where) for s in op.srcs]
    reads = [s for s in srcs if not isinstance(s, Imm)]
    writes: list[Any] = []
    if dst is not None:
        if dst == ("magic", 55):
            writes.append(("acc", 5))
        elif dst[0] != "magic":
            writes.append(dst)
        if op.cond is not None and dst[0] != "magic":
            reads.append(dst)
    if op.rot is R5:
        reads.append(("acc", 5))
    if op.pf:
        writes.append("F")
    if op.cond or op.name in _FLAG_READERS:
        reads.append("F")
    tmu = op.name in ("ldtmu", "tmuwt") or op.dst in (TMUA, TMUD)
    # TMU requests (tmud/tmua writes) stay in order, and so do the pops (ldtmu); a read request
    # may move ahead of earlier pops while the FIFO has room (checked when scheduling).
    for chain, member in (
        ("TMUQ", op.dst in (TMUA, TMUD)),
        ("TMUP", op.name == "ldtmu"),
    ):
        if member or op.name == "tmuwt":
            reads.append(chain)
            writes.append(chain)
    if op.name == "ldunifrf":
        reads.append("UNIF")
        writes.append("UNIF")
    if op.name == "multop":
        writes.append("RTOP")
    if op.name == "umul24":
        reads.append("RTOP")
        writes.append("RTOP")
    imms = {s.bits for s in srcs if isinstance(s, Imm)}
    return Node(
        op=op,
        i=i,
        dst=dst,
        srcs=srcs,
        alus=alus_for(op.name),
        reads=reads,
        writes=writes,
        rf_reads=frozenset(s[1] for s in srcs if isinstance(s, tuple) and s[0] == "rf"),
        imm=next(iter(imms)) if imms else None,
        periph=tmu or op.name in SFU_OPS,
    )


def _raw_latency(p: Node, n: Node, key: Any) -> int:
    if p.op.name in SFU_OPS:
        return 2
    if n.op.name == "rot" and isinstance(key, tuple) and key[0] == "acc":
        return 2  # the rotated accumulator / r5 must not be written by the previous instruction
    return 1


def _edge(p: Node, n: Node, lat: int) -> None:
    p.succs.append((n, lat))
    n.preds.append((p, lat))


def build_graph(nodes: list[Node], fifo_in: int = 0) -> None:
    """Dependences of one block's nodes (`fifo_in`: TMU reads outstanding at its start)."""
    last_w: dict[Any, Node] = {}
    readers: dict[Any, list[Node]] = {}
    edge = _edge

    for n in nodes:
        for k in n.reads:
            if k in last_w:
                edge(last_w[k], n, _raw_latency(last_w[k], n, k))
        for k in n.writes:
            for r in readers.get(k, ()):
                if r is not n:
                    edge(r, n, 0)
            if k in last_w and last_w[k] is not n:
                edge(last_w[k], n, 2 if last_w[k].op.name in SFU_OPS else 1)
        for k in n.reads:
            readers.setdefault(k, []).append(n)
        for k in n.writes:
            last_w[k] = n
            readers[k] = []
    # the j-th pop of the block returns the (j - fifo_in)-th read requested in it; ask for it to
    # come TMU_SOFT_LATENCY instructions later when there is other work to fill the gap
    reqs = [n for n in nodes if n.op.tmu_read]
    pops = [n for n in nodes if n.op.name == "ldtmu"]
    for j, pop in enumerate(pops):
        if 0 <= j - fifo_in < len(reqs):
            edge(reqs[j - fifo_in], pop, 1)
            pop.soft = (reqs[j - fifo_in], TMU_SOFT_LATENCY)
    _heights(nodes)


def _heights(nodes: list[Node], urgent: Node | None = None, boost: int = 0) -> None:
    """Longest latency path to the block's end; `urgent` counts as at least `boost`."""
    for n in reversed(nodes):
        n.height = 1 + max((lat + s.height for s, lat in n.succs), default=0)
        if n is urgent:
            n.height = max(n.height, boost)


def _flags_ok(instr: Instr, extra: tuple[str, Node] | None) -> bool:
    add = instr.add.op if instr.add else None
    mul = instr.mul.op if instr.mul else None
    if extra is not None:
        if extra[0] == "add":
            add = extra[1].op
        else:
            mul = extra[1].op
    key = (
        add.cond if add else None, add.pf if add else None, None,
        mul.cond if mul else None, mul.pf if mul else None, None,
    )  # fmt: skip
    return key in FLAG_CODES


def fits(instr: Instr, n: Node, slot: str) -> bool:
    """Can `n` go into `instr`'s `slot` (`add`, `mul` or `sig`)?"""
    if getattr(instr, slot) is not None:
        return False
    others = instr.nodes()
    if n.periph and any(o.periph for o in others):
        return False
    if n.op.name == "ldunifrf" and any(o.op.name == "ldunifrf" for o in others):
        return False
    dsts = [o.dst for o in others if o.dst is not None]
    if n.dst is not None and n.dst in dsts:
        return False
    rot = n.op.rot is not None or any(o.op.rot is not None for o in others)
    imms = {o.imm for o in others if o.imm is not None} | (
        {n.imm} if n.imm is not None else set()
    )
    if len(imms) > 1 or (imms and rot):
        return False
    rf = set(n.rf_reads).union(*(o.rf_reads for o in others))
    if len(rf) > (1 if (imms or rot) else 2):
        return False
    sig = n if slot == "sig" else instr.sig
    if sig is not None:
        sigs = (
            {sig.op.name} | ({"smimm"} if imms else set()) | ({"rot"} if rot else set())
        )
        if frozenset(sigs) not in SIGNAL_CODES:
            return False
        # an address-writing signal keeps its destination in the cond field (reference 13.1/4)
        return not any(o.op.cond or o.op.pf for o in [*others, n] if o is not sig)
    return _flags_ok(instr, (slot, n))


def _ready(n: Node, t: int) -> bool:
    for p, lat in n.preds:
        if p.cycle < 0 or p.cycle + lat > t:
            return False
    return True


def schedule_block(
    ops: list[Op],
    where: dict[VReg, tuple[str, int]],
    fifo_in: int = 0,
    branch_flags: bool = False,
    fifo_limit: int = FIFO_LIMIT,
) -> list[Instr]:
    """Schedule one block's ops (its branch is placed by the caller)."""
    nodes = [make_node(op, i, where) for i, op in enumerate(ops)]
    build_graph(nodes, fifo_in)
    if branch_flags:
        # the flags of the block's branch first: the earlier the branch can go, the more of
        # the block's own work fills its three delay slots
        setter = next((n for n in reversed(nodes) if n.op.pf), None)
        if setter is not None:
            _heights(nodes, setter, max(n.height for n in nodes) + 3)
    waiting = {n: len(n.preds) for n in nodes}  # predecessors not yet scheduled
    cands = sorted((n for n in nodes if not n.preds), key=_priority)
    instrs: list[Instr] = []
    fifo = fifo_in
    t = 0
    left = len(nodes)
    while left:
        instr = Instr()
        for relax in (False, True):
            progress = True
            while progress:
                progress = False
                for n in cands:
                    if not _ready(n, t):
                        continue
                    if not relax and n.soft and n.soft[0].cycle + n.soft[1] > t:
                        continue
                    if n.op.tmu_read and fifo >= fifo_limit:
                        continue
                    slot = next(
                        (
                            s
                            for s in n.alus
                            if fits(instr, n, "sig" if s == "sig" else s)
                        ),
                        None,
                    )
                    if slot is None:
                        continue
                    setattr(instr, slot, n)
                    n.cycle = t
                    fifo += n.op.tmu_read - (n.op.name == "ldtmu")
                    cands.remove(n)
                    left -= 1
                    for succ, _ in n.succs:
                        waiting[succ] -= 1
                        if not waiting[succ]:
                            bisect.insort(cands, succ, key=_priority)
                    progress = True
                    break
            if instr.nodes():
                break
        instrs.append(instr)
        t += 1
    return instrs


def _priority(n: Node) -> tuple[int, int]:
    return (-n.height, n.i)


def _can_switch(ins: Instr) -> bool:
    sigs = {n.op.name for n in ins.nodes() if n.op.name in ("ldtmu", "ldunifrf")}
    sigs |= {"smimm"} if any(n.imm is not None for n in ins.nodes()) else set()
    sigs |= {"rot"} if any(n.op.rot is not None for n in ins.nodes()) else set()
    return frozenset(sigs | {"thrsw"}) in SIGNAL_CODES


def _quiet_slot(ins: Instr) -> bool:
    """Fit for a thrsw delay slot: no TMU, SFU, uniform or rtop work (reference 13.4/20-22)."""
    return not any(
        n.periph or n.op.name in ("ldunifrf", "multop", "umul24") for n in ins.nodes()
    )


def place_thrsw(instrs: list[Instr], earliest: int) -> int:
    """Put a `thrsw` on one of the last instructions so that its two delay slots end the
    list (padding with `nop` when needed), at `earliest` or later; returns its index."""
    j = max(len(instrs) - 3, earliest, 0)
    while True:
        while len(instrs) < j + 3:
            instrs.append(Instr())
        if _can_switch(instrs[j]) and all(
            _quiet_slot(x) for x in instrs[j + 1 : j + 3]
        ):
            instrs[j].thrsw = True
            return j
        j += 1


def branch_position(instrs: list[Instr], conditional: bool) -> int:
    """Where the block's branch goes: after its flags and uniform loads, at most 3 before the
    end, and not within the two delay slots of a thread switch (reference 13.3/14)."""
    p = max(0, len(instrs) - 3)
    for i, ins in enumerate(instrs):
        if ins.thrsw:
            p = max(p, i + 3)
        for n in ins.nodes():
            if (conditional and n.op.pf) or n.op.name == "ldunifrf":
                p = max(p, i + 1)
    return p

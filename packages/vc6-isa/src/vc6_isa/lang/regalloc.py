"""Register allocation: liveness on the CFG, then linear scan over live intervals.

Physical registers are `("rf", n)` and `("acc", n)`. The register file offers rf3-rf63
(rf0-rf2 hold the dispatch payload and must not be read in the last three instructions,
reference 13.5/27; the compiler reads rf0 once, for `me()`), 32 entries fewer when the
program is 4-way threaded (reference 1.3). The accumulators r0-r3 take short-lived values
that stay inside one block (they cost no register-file read port, which is what lets two
ops pair into one instruction); the sources of full-lane rotations, which must be
accumulators (reference 10.10), take any of r0-r4 (r4 is theirs alone); r5 carries rotation
amounts. SFU results always go to the register file (an accumulator destination is
UNCERTAIN, reference 10.6), and no value lives in an accumulator across a thread switch
(another thread overwrites them, reference 1.2). Registers are reused least recently freed
first, which leaves the scheduler fewer false dependences.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from .errors import LangError, SourceInfo
from .ir import Block, VReg

__all__ = ["allocate", "liveness"]

#: Longest interval (in op positions, two per op) that is offered an accumulator.
ACC_SPAN = 12
_TEMP_ACCS = frozenset((("acc", 0), ("acc", 1), ("acc", 2), ("acc", 3)))
_ROT_ACCS = frozenset((*_TEMP_ACCS, ("acc", 4)))


def successors(blocks: list[Block]) -> dict[Block, list[Block]]:
    succ: dict[Block, list[Block]] = {}
    for i, b in enumerate(blocks):
        s = []
        if b.branch is not None:
            s.append(b.branch.target)
        if (b.branch is None or b.branch.cond is not None) and i + 1 < len(blocks):
            s.append(blocks[i + 1])
        succ[b] = s
    return succ


def liveness(blocks: list[Block]) -> tuple[dict[Block, set], dict[Block, set]]:
    """Live-in and live-out VRegs of every block."""
    use: dict[Block, set] = {}
    defs: dict[Block, set] = {}
    for b in blocks:
        u: set = set()
        d: set = set()
        for op in b.ops:
            for r in op.reads:
                if isinstance(r, VReg) and r not in d:
                    u.add(r)
            if isinstance(op.dst, VReg) and op.cond is None:
                d.add(op.dst)
        use[b], defs[b] = u, d
    succ = successors(blocks)
    live_in = {b: set() for b in blocks}
    live_out = {b: set() for b in blocks}
    changed = True
    while changed:
        changed = False
        for b in reversed(blocks):
            out = set().union(*(live_in[s] for s in succ[b])) if succ[b] else set()
            inn = use[b] | (out - defs[b])
            if out != live_out[b] or inn != live_in[b]:
                live_out[b], live_in[b] = out, inn
                changed = True
    return live_in, live_out


def allocate(
    blocks: list[Block],
    no_acc: set[VReg],
    *,
    threads: int = 1,
    source: SourceInfo | None = None,
) -> dict[VReg, tuple[str, int]]:
    """Map every VReg to a physical register.

    Raises:
        LangError: More values are live at once than there are registers.
    """
    live_in, live_out = liveness(blocks)
    start: dict[VReg, int] = {}
    end: dict[VReg, int] = {}
    glob: set[VReg] = set()

    def touch(v: Any, pos: int) -> None:
        if isinstance(v, VReg):
            if v not in start or pos < start[v]:
                start[v] = pos
            if v not in end or pos > end[v]:
                end[v] = pos

    pos = 0
    switches: list[
        int
    ] = []  # positions of thread switches: accumulators do not survive them
    for b in blocks:
        first = pos
        for v in live_in[b]:
            touch(v, first)
            glob.add(v)
        for op in b.ops:
            if op.name == "thrsw":
                switches.append(pos)
            for r in op.reads:
                touch(r, pos)
            touch(op.dst, pos + 1)
            pos += 2
        for v in live_out[b]:
            touch(v, pos)
            glob.add(v)
        pos += 2  # the branch
    top = 64 if threads < 4 else 32
    free_rf = deque(("rf", n) for n in range(3, top))
    # free registers in the order they were freed: taking the one free the longest leaves the
    # scheduler the most freedom (fewer false dependences between neighbouring values)
    free_acc = sorted(_ROT_ACCS, key=lambda r: -r[1])
    active: list[tuple[int, VReg, tuple[str, int]]] = []
    where: dict[VReg, tuple[str, int]] = {}
    no_acc = no_acc | {v for v in start if any(start[v] < p < end[v] for p in switches)}
    for v in sorted(start, key=lambda x: (start[x], x.id)):
        s = start[v]
        still = []
        for e, w, reg in sorted(active, key=lambda a: a[0]):
            if e < s:
                (free_acc if reg[0] == "acc" else free_rf).append(reg)
            else:
                still.append((e, w, reg))
        active = still
        reg = None
        if v.need_acc:
            reg = next((r for r in free_acc if r in _ROT_ACCS), None)
        elif v not in no_acc and v not in glob and end[v] - s <= ACC_SPAN:
            reg = next((r for r in free_acc if r in _TEMP_ACCS), None)
        if reg is None and not v.need_acc and free_rf:
            reg = free_rf.popleft()
        if reg is None and v not in no_acc:
            reg = next((r for r in free_acc if r in _TEMP_ACCS), None)
        if reg is None:
            raise LangError(
                f"too many values are live at once: the kernel needs more than the {top - 3} "
                f"register-file entries and 5 accumulators of a {'4-way threaded ' if threads == 4 else ''}QPU thread",
                "keep fewer values alive across loops (recompute cheap ones, or split the kernel)"
                + ("; or compile with threads=2 (64 registers)" if threads == 4 else ""),
                source=v.line[0] or source,
                line=v.line[1] or None,
            )
        if reg[0] == "acc":
            free_acc.remove(reg)
        where[v] = reg
        active.append((end[v], v, reg))
    return where

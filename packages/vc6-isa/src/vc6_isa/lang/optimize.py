"""Dead-code elimination on the IR: ops whose results nothing reads, flag pushes nothing uses.

Side effects survive: `ldtmu` keeps popping the TMU queue (its destination becomes null),
TMU writes and stores stay. An unread `ldunifrf` goes, and with it its uniform word (the
kernel's uniform list is made from the loads that remain). Flags never live across blocks
(the builder re-derives them at each block start), so a push is dead when no condition,
`vfla`/`vflna` or the block's branch reads flag A before the next push.
"""

from __future__ import annotations

from .ir import Block, Op, VReg

__all__ = ["dce"]

_FLAG_READERS = frozenset({"vfla", "vflna"})


def _use_counts(blocks: list[Block]) -> dict[VReg, int]:
    uses: dict[VReg, int] = {}
    for b in blocks:
        for op in b.ops:
            for r in op.reads:
                if isinstance(r, VReg):
                    uses[r] = uses.get(r, 0) + 1
    return uses


def _sweep_values(blocks: list[Block], uses: dict[VReg, int]) -> bool:
    changed = False
    for b in blocks:
        kept: list[Op] = []
        for op in b.ops:
            if isinstance(op.dst, VReg) and not uses.get(op.dst):
                if op.name == "ldtmu" or op.pf:
                    op.dst = None
                    op.cond = None
                    changed = True
                elif op.name == "umul24" and kept and kept[-1].name == "multop":
                    kept.pop()
                    changed = True
                    continue
                else:
                    changed = True
                    continue
            kept.append(op)
        b.ops = kept
    return changed


def _sweep_flags(blocks: list[Block]) -> bool:
    changed = False
    for b in blocks:
        live = b.branch is not None and b.branch.cond is not None
        kept: list[Op] = []
        for op in reversed(b.ops):
            if op.pf and op.dst is None and not live:
                changed = True
                continue
            if op.pf:
                live = False
            if op.cond or op.name in _FLAG_READERS:
                live = True
            kept.append(op)
        kept.reverse()
        b.ops = kept
    return changed


def dce(blocks: list[Block]) -> None:
    """Remove dead ops in place until nothing changes."""
    while True:
        changed = _sweep_values(blocks, _use_counts(blocks))
        changed |= _sweep_flags(blocks)
        if not changed:
            return

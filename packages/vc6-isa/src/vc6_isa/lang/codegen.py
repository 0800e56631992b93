"""From scheduled blocks to instruction words: operand muxes, branches and the program end.

The program is dispatched single-segment (reference 14 (b)), so it ends at its first
`thrsw`: after the last block comes `tmuwt` (when the kernel stores; it waits for the TMU
writes, reference 12.1) and `thrsw` with two `nop` delay slots that write no register
(reference 13.5/26-28). Branches are relative: the offset counts from the instruction after
the third delay slot (reference 9.2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..encoding import SMALL_IMMEDIATE_INDEX, encode
from ..instruction import AluInstruction, AluOp, BranchInstruction
from .ir import Block, Imm, Op, VReg
from .schedule import (
    Instr,
    Node,
    branch_position,
    place_thrsw,
    schedule_block,
)

__all__ = ["Compiled", "generate"]


@dataclass
class Compiled:
    """A compiled kernel body.

    Attributes:
        words: The program (numpy uint64).
        uniforms: What each uniform word carries, in stream order: `("param", i)`,
            `("const", bits)` or `("num_qpus",)`.
        labels: Instruction index -> label name (block starts that are branch targets).
    """

    words: np.ndarray
    uniforms: list[tuple]
    labels: dict[int, str]


def _waddr(dst: Any) -> tuple[int, bool]:
    if dst is None:
        return 6, True
    kind, n = dst
    if kind == "rf":
        return n, False
    return n, True  # acc n is magic n; magic addresses as they are


def _encode_instr(ins: Instr) -> AluInstruction:
    nodes = ins.nodes()
    rf: list[int] = []
    for n in nodes:
        for s in n.srcs:
            if isinstance(s, tuple) and s[0] == "rf" and s[1] not in rf:
                rf.append(s[1])
    imm = next((n.imm for n in nodes if n.imm is not None), None)
    rot = next((n.op.rot for n in nodes if n.op.rot is not None), None)
    sigs: set[str] = set()
    raddr_a = rf[0] if rf else 0
    raddr_b = rf[1] if len(rf) > 1 else 0
    if imm is not None:
        sigs.add("smimm")
        raddr_b = SMALL_IMMEDIATE_INDEX[imm]
    if rot is not None:
        sigs.add("rot")
        raddr_b = 0 if not isinstance(rot, int) else rot

    def mux(s: Any) -> int:
        if isinstance(s, Imm):
            return 7
        kind, n = s
        if kind == "acc":
            return n
        return 6 if n == raddr_a else 7

    def half(n: Node | None, alu: str) -> AluOp:
        if n is None:
            return AluOp("nop")
        op: Op = n.op
        waddr, magic = _waddr(n.dst)
        name = op.name
        srcs = n.srcs
        if name == "mov" and alu == "add":
            name, srcs = "or", [srcs[0], srcs[0]]
        elif name == "rot":
            name = "mov"
        a = mux(srcs[0]) if srcs else 0
        b = mux(srcs[1]) if len(srcs) > 1 else 0
        return AluOp(
            name, waddr, magic, a, b, a_unpack=op.unpack, cond=op.cond, pf=op.pf
        )

    sig_addr, sig_magic = 0, False
    if ins.sig is not None:
        sigs.add(ins.sig.op.name)
        sig_addr, sig_magic = _waddr(ins.sig.dst)
    return AluInstruction(
        half(ins.add, "add"),
        half(ins.mul, "mul"),
        frozenset(sigs),
        sig_addr,
        sig_magic,
        raddr_a,
        raddr_b,
    )


def _schedule(
    b: Block, ops: list[Op], where: dict[VReg, tuple[str, int]], limit: int
) -> list[Instr]:
    """One block's instructions: its ops cut at thread switches, each part scheduled on its
    own, a `thrsw` ending each part but the last, then the branch."""
    parts: list[list[Op]] = [[]]
    for op in ops:
        if op.name == "thrsw":
            parts.append([])
        else:
            parts[-1].append(op)
    conditional = b.branch is not None and b.branch.cond is not None
    instrs: list[Instr] = []
    fifo = b.fifo_in
    last_switch = -3
    for k, part in enumerate(parts):
        final = k == len(parts) - 1
        instrs += schedule_block(part, where, fifo, conditional and final, limit)
        fifo += sum(op.tmu_read for op in part) - sum(op.name == "ldtmu" for op in part)
        if not final:
            last_switch = place_thrsw(instrs, last_switch + 3)
    if b.branch is not None:
        p = branch_position(instrs, conditional)
        instrs += [Instr() for _ in range(p - len(instrs))]
        instrs = [*instrs[:p], Instr(branch=b.branch), *instrs[p:]]
        instrs += [Instr() for _ in range(p + 4 - len(instrs))]
    return instrs


def generate(
    blocks: list[Block],
    where: dict[VReg, tuple[str, int]],
    *,
    has_stores: bool,
    threads: int = 1,
    fifo_limit: int = 8,
) -> Compiled:
    """Schedule every block, lay them out, resolve branches and append the program end
    (single-segment for one thread; with the last-thread-switch marker otherwise)."""
    end_ops = [Op("tmuwt", None)] if has_stores else []
    laid: list[tuple[Block, list[Instr]]] = []
    for k, b in enumerate(blocks):
        ops = b.ops + (end_ops if k == len(blocks) - 1 else [])
        laid.append((b, _schedule(b, ops, where, fifo_limit)))
    start: dict[Block, int] = {}
    flat: list[Instr] = []
    for b, instrs in laid:
        start[b] = len(flat)
        flat.extend(instrs)
    targets = {br.target for b, _ in laid if (br := b.branch) is not None}
    labels = {start[b]: f"L{b.id}" for b in targets}
    end = [Instr() for _ in range(3)]
    words: list[int] = []
    uniforms: list[tuple] = []
    for i, ins in enumerate(flat):
        if ins.branch is not None:
            off = (start[ins.branch.target] - (i + 4)) * 8
            words.append(
                encode(BranchInstruction(cond=ins.branch.cond, bdi="rel", offset=off))
            )
            continue
        for n in ins.nodes():
            if n.op.name == "ldunifrf":
                uniforms.append(n.op.uniform)
        word = _encode_instr(ins)
        if ins.thrsw:
            word = word.replace(sigs=word.sigs | {"thrsw"})
        words.append(encode(word))
    thrsw = encode(AluInstruction(sigs=frozenset({"thrsw"})))
    nop = encode(_encode_instr(end[0]))
    if threads > 1:
        # two consecutive thrsw mark the last switch; the next one ends the thread (14 (a))
        words += [thrsw, thrsw, nop, nop]
    words += [thrsw, nop, nop]
    return Compiled(np.array(words, dtype=np.uint64), uniforms, labels)

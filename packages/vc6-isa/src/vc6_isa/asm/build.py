"""Turning the finished program's records into instruction values and 64-bit words.

An `.instructions.ALU` record becomes an `vc6_isa.instruction.AluInstruction`
the way Mesa's packer does it: register-file sources take read port A first, then port B; a
small immediate or a rotation amount needs port B (`raddr_b`); the `smimm` signal is added
when an immediate is read. `vc6_isa.encoding.encode` then makes the word (it also puts the
operands of fadd/faddnf and fmin/fmax in the order that tells them apart).

Words are cached by the record's (add half, mul half, signals) key: records hold interned
objects, so equal keys mean equal instructions, and a program that repeats an instruction (loops
unrolled in Python, the usual case) encodes it once.
"""

from __future__ import annotations

import difflib

from ..encoding import (
    ADD_OPS,
    MUL_OPS,
    SIGNAL_CODES,
    encode,
)
from ..errors import EncodeError
from ..instruction import NOP_ADD, NOP_MUL, AluInstruction, AluOp, BranchInstruction
from .assembly import Assembly, Link, Reference
from .errors import Where, dsl_error
from .instructions import ALU, CONDITION_FIELDS, Branch, Raw
from .operands import _INT_IMMEDIATES, Register, Signal, SmallImmediate

__all__ = ["alu_instruction", "branch_instruction", "clear_cache", "program_words"]

#: Bound on the word cache (entries); it is emptied when full.
CACHE_LIMIT = 1 << 17
_WORDS: dict[tuple, int] = {}

#: py-videocore6 writes bdu = 1 ("relative uniform target") into every branch, including those
#: that do not set the uniform pointer (ub = 0), where the hardware and Mesa's decoder ignore it.
#: Mesa's encoder writes 0 there. The DSL copies py-videocore6 so its programs give the same
#: words (the golden vectors' py-videocore6 rows carry those bits); set False for Mesa's form.
PYVC6_PLAIN_BRANCH_BDU = True
_BDU_REL_BITS = encode(BranchInstruction(ub=True, bdu=1)) ^ encode(
    BranchInstruction(ub=True, bdu=0)
)


def clear_cache() -> None:
    """Forget every cached instruction word (for benchmarks of cold assembly)."""
    _WORDS.clear()


def program_words(asm: Assembly) -> list[int]:
    """The 64-bit words of every instruction of `asm`, in order."""
    words: list[int] = []
    append = words.append
    cache = _WORDS
    for index, rec in enumerate(asm.items):
        if type(rec) is ALU:
            key = (rec.add_half, rec.mul_half, rec.sigs)
            word = cache.get(key)
            if word is None:
                word = _encode(alu_instruction(rec), rec.where)
                if len(cache) >= CACHE_LIMIT:
                    cache.clear()
                cache[key] = word
        elif type(rec) is Branch:
            word = _encode(branch_instruction(rec, asm.labels), rec.where)
            if PYVC6_PLAIN_BRANCH_BDU and not rec.ub:
                word |= _BDU_REL_BITS
        else:
            assert type(rec) is Raw
            word = rec.word
        append(word)
    return words


#: The encoder without its own lru cache: program_words() caches words already, and hashing a
#: whole instruction value for a second cache costs more than it saves.
_encode_uncached = getattr(encode, "__wrapped__", encode)


def _encode(instr: AluInstruction | BranchInstruction, where: Where | None) -> int:
    try:
        return _encode_uncached(instr)
    except EncodeError as exc:
        if not instr.is_branch:
            _check_ops(instr.add, instr.mul, where)
        raise dsl_error(f"cannot encode this instruction: {exc}", where) from None


# ----------------------------------------------------------------------------------------
# ALU instructions


class _Ports:
    """The two register-file read ports of one instruction, filled in source order."""

    __slots__ = ("a", "b", "where")

    def __init__(self, where: Where | None) -> None:
        self.a: Register | None = None
        self.b: Register | SmallImmediate | Signal | None = None
        self.where = where

    def mux(self, src: Register | SmallImmediate) -> int:
        """The operand mux for `src`: 0-5 accumulators, 6 port A, 7 port B / immediate."""
        if type(src) is SmallImmediate:
            imm = src.base
            if self.b is None:
                self.b = imm
            elif self.b is not imm:
                raise self._port_b_taken(f"small immediate {imm!r}")
            return 7
        if src.magic:  # an accumulator r0-r5: other magic names were refused as sources
            return src.waddr
        reg = src.base
        if self.a is reg:
            return 6
        if self.b is reg:
            return 7
        if self.a is None:
            self.a = reg
            return 6
        if self.b is None:
            self.b = reg
            return 7
        if isinstance(self.b, Register):
            raise dsl_error(
                f"too many register-file reads: {self.a!r}, {self.b!r} and {reg!r}; an "
                "instruction reads at most two different rf registers (ports A and B). Copy one "
                "into an accumulator first",
                self.where,
            )
        raise self._port_b_taken(f"a third read {reg!r} (port A holds {self.a!r})")

    def rotate(self, sig: Signal) -> None:
        if self.b is not None:
            raise self._port_b_taken("the rot signal's rotation amount")
        self.b = sig

    def _port_b_taken(self, wanted: str) -> Exception:
        held = self.b
        if isinstance(held, SmallImmediate):
            what = f"small immediate {held!r}"
            if wanted.startswith("small immediate"):
                return dsl_error(
                    f"conflicting small immediates {held!r} and {wanted.split()[-1]}: one "
                    "instruction carries one small immediate (raddr_b), shared by both ALUs",
                    self.where,
                )
        elif isinstance(held, Signal):
            what = f"the rotation amount of {held!r}"
        else:
            what = f"register {held!r}"
        return dsl_error(
            f"read port B (raddr_b) is needed for {wanted} but already holds {what}",
            self.where,
        )

    def raddrs(self) -> tuple[int, int]:
        raddr_a = self.a.waddr if self.a is not None else 0
        held = self.b
        if held is None:
            return raddr_a, 0
        if type(held) is SmallImmediate:
            return raddr_a, held.index
        if type(held) is Signal:
            # The rotation amount: r5 is raddr_b 0, n is the small-immediate index of n
            # (py-videocore6 encodes -15..-1 as indices 17..31; the hardware uses them mod 16).
            if isinstance(held.rot, Register):
                return raddr_a, 0
            return raddr_a, _INT_IMMEDIATES[held.rot].index
        return raddr_a, held.waddr


_ALU_OPS: dict[tuple, AluOp] = {}


def _alu_op(half: tuple, ports: _Ports, nop: AluOp) -> AluOp:
    """The AluOp of one half; equal halves with equal muxes share one (cached) AluOp."""
    op, dst, a, b, cond = half
    if op == "nop" and dst is None and cond is None:
        return nop
    mux_a = ports.mux(a) if a is not None else 0
    mux_b = ports.mux(b) if b is not None else 0
    key = (half, mux_a, mux_b)
    alu = _ALU_OPS.get(key)
    if alu is None:
        field = CONDITION_FIELDS[cond] if cond is not None else None
        alu = AluOp(
            op,
            dst.waddr if dst is not None else 6,
            dst.magic if dst is not None else True,
            mux_a,
            mux_b,
            dst.pack_mod if dst is not None else None,
            a.unpack_mod if a is not None else None,
            b.unpack_mod if b is not None else None,
            cond if field == "cond" else None,
            cond if field == "pf" else None,
            cond if field == "uf" else None,
        )
        if len(_ALU_OPS) >= CACHE_LIMIT:
            _ALU_OPS.clear()
        _ALU_OPS[key] = alu
    return alu


def alu_instruction(rec: ALU) -> AluInstruction:
    """The instruction value of an ALU record, or an AssembleError at the record's line."""
    where = rec.where
    names: list[str] = []
    writer = rotation = None
    for sig in rec.sigs:
        if sig.name in names:
            raise dsl_error(f"signal {sig.name} is given twice", where)
        names.append(sig.name)
        if sig.dst is not None:
            if writer is not None:
                raise dsl_error(
                    f"signals {writer!r} and {sig!r} both write a register; an instruction has "
                    "one signal destination",
                    where,
                )
            writer = sig
        if sig.rot is not None:
            rotation = sig
    ports = _Ports(where)
    add = _alu_op(rec.add_half, ports, NOP_ADD)
    mul = _alu_op(rec.mul_half, ports, NOP_MUL)
    if rotation is not None:
        ports.rotate(rotation)
    if isinstance(ports.b, SmallImmediate):
        names.append("smimm")
    sigs = frozenset(names)
    if sigs not in SIGNAL_CODES:
        raise dsl_error(_signal_problem(sigs), where)
    if add.cond or add.pf or add.uf or mul.cond or mul.pf or mul.uf:
        _check_flags(add, mul, writer, where)
    raddr_a, raddr_b = ports.raddrs()
    sig_addr, sig_magic = (writer.dst.waddr, writer.dst.magic) if writer else (0, False)
    return AluInstruction(add, mul, sigs, sig_addr, sig_magic, raddr_a, raddr_b)


def _check_ops(add: AluOp, mul: AluOp, where: Where | None) -> None:
    """Op-level checks the encoder also makes, with messages in the DSL's terms (run when the
    encoder refuses an instruction, to say why in the DSL's words)."""
    for alu, table, half in ((add, ADD_OPS, "add"), (mul, MUL_OPS, "mul")):
        spec = table.get(alu.op)
        if spec is None:
            raise dsl_error(f"{alu.op} is not a {half}-ALU op", where)
        if alu.pack is not None and not spec.pack:
            raise dsl_error(
                f"{alu.op} takes no output pack (.{alu.pack}); packing ops are "
                f"{', '.join(sorted(n for n, s in table.items() if s.pack))}",
                where,
            )
        for operand, unpack, allowed in (
            ("src1", alu.a_unpack, spec.a_unpacks),
            ("src2", alu.b_unpack, spec.b_unpacks),
        ):
            if unpack not in allowed:
                names = ", ".join(sorted(repr(u) for u in allowed if u)) or "none"
                raise dsl_error(
                    f"{alu.op}: {operand} cannot take the unpack .{unpack} (allowed: {names})",
                    where,
                )


def _check_flags(
    add: AluOp, mul: AluOp, writer: Signal | None, where: Where | None
) -> None:
    """Conditions and flag writes the cond field cannot hold (reference Section 6.3)."""
    conds = [
        f"{h}: cond={v!r}"
        for h, o in (("add", add), ("mul", mul))
        for v in (o.cond, o.pf, o.uf)
        if v
    ]
    if writer is not None and conds:
        raise dsl_error(
            f"signal {writer!r} writes a register, and its destination is stored in the cond "
            f"field, so the instruction cannot also have a condition or flag write ({', '.join(conds)})",
            where,
        )
    if (add.pf or add.uf) and (mul.pf or mul.uf):
        raise dsl_error(
            f"flags are written on both ALUs ({', '.join(conds)}); one instruction can push or "
            "update flags from one ALU only",
            where,
        )
    if add.cond and mul.uf:
        raise dsl_error(
            f"a mul-ALU flag update cannot go with an add-ALU condition ({', '.join(conds)}); "
            "the cond field has no such combination (an add update with a mul condition exists)",
            where,
        )


def _signal_problem(sigs: frozenset[str]) -> str:
    shown = ", ".join(sorted(sigs))
    named = sigs - {"smimm"} or sigs
    partners = sorted({", ".join(sorted(s)) for s in SIGNAL_CODES if s & named})
    hint = ""
    if "smimm" in sigs:
        hint = " (a small immediate adds the smimm signal, which combines only with ldvary or ldtmu)"
    return (
        f"signals {{{shown}}} cannot be combined in one instruction{hint}; the signal sets that "
        f"exist with these signals are: {'; '.join('{' + p + '}' for p in partners)}"
    )


# ----------------------------------------------------------------------------------------
# Branches


def branch_instruction(rec: Branch, labels: dict[str, int]) -> BranchInstruction:
    """The instruction value of a branch record; labels are resolved here."""
    where = rec.where
    target, offset, raddr_a = rec.target, 0, 0
    if isinstance(target, Reference):
        if target.name not in labels:
            raise dsl_error(_unknown_label(target.name, labels), target.where or where)
        bdi = "rel"
        # Relative offsets count from the instruction after the third delay slot.
        offset = (labels[target.name] - rec.index - 4) * 8
    elif isinstance(target, Link):
        bdi = "lri"
    elif isinstance(target, Register):
        bdi, raddr_a = "rf", target.waddr
    else:
        bdi, offset = ("abs" if rec.absolute else "rel"), target
        if (
            offset % 8
            or not -(1 << 31) <= offset < (1 << 32)
            or (rec.absolute and offset < 0)
        ):
            kind = (
                "an absolute address in 0..2**32-8" if rec.absolute else "a byte offset"
            )
            raise dsl_error(
                f"branch target {offset} is out of range: it must be {kind} that is a multiple "
                "of 8 and fits the 32-bit address field",
                where,
            )
    bdu = 0
    if rec.ub:
        unif = rec.unif
        if unif is None:
            bdu = 0 if rec.unif_absolute else 1
        elif isinstance(unif, Link):
            bdu = 2
        else:
            bdu = 3
            if bdi == "rf" and raddr_a != unif.waddr:
                raise dsl_error(
                    f"a branch reads one register: code target rf{raddr_a} and uniform target "
                    f"rf{unif.waddr} differ",
                    where,
                )
            raddr_a = unif.waddr
    cond = None if rec.cond in (None, "always") else rec.cond
    return BranchInstruction(
        cond, rec.msfign, bdi, rec.ub, bdu, offset, raddr_a, rec.set_link
    )


def _unknown_label(name: str, labels: dict[str, int]) -> str:
    close = difflib.get_close_matches(
        name, [n for n in labels if "__generated" not in n], n=3
    )
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return f"branch to unknown label {name!r}{hint}"

"""Everything the DSL can express survives DSL -> encode -> decode -> disassemble -> assemble_text.

Each test builds one program holding every case of a kind (every op with every modifier it
takes, every signal set, every flag combination, every small immediate, every branch form), then
checks each word: the text Mesa would print for it assembles back to the same word. What Mesa's
text cannot show is checked by decode -> encode instead and said where it happens: the ``rot``
and ``ucb`` signals (never printed), the branch link bit and py-videocore6's bdu bits on plain
branches (not printed).
"""

from __future__ import annotations

import hypothesis.strategies as st
from hypothesis import HealthCheck, event, given, settings
from vc6_isa import (
    AssembleError,
    assemble_text,
    decode,
    disassemble_instruction,
    encode,
)
from vc6_isa.asm import *
from vc6_isa.asm.instructions import DSL_FUNCTIONS
from vc6_isa.asm.operands import SIGNALS
from vc6_isa.encoding import (
    ADD_OPS,
    ADDRESS_SIGNALS,
    BRANCH_CONDS,
    FLAG_CODES,
    LINK_BIT,
    MUL_OPS,
    SIGNAL_SETS,
    SMALL_IMMEDIATES,
    BranchInstruction,
)

_BDU_BITS = encode(BranchInstruction(ub=True, bdu=7)) ^ encode(
    BranchInstruction(ub=True, bdu=0)
)
_REVERSE_ALIASES = {op: alias for alias, op in PYVC6_ALIASES.items()}


def round_trip(program) -> int:
    """Check every word of ``program``; return how many words were checked."""
    for index, word in enumerate(int(w) for w in program.words):
        instr = decode(word)
        canonical = word
        if instr.is_branch and not instr.ub:
            canonical &= (
                ~_BDU_BITS
            )  # py-videocore6's bdu bits: ignored unless ub is set
        assert encode(instr) == canonical, (
            f"#{index} {word:016x}: decode -> encode differs"
        )
        text = disassemble_instruction(instr)
        expected = canonical
        if instr.is_branch:
            expected &= ~LINK_BIT  # the link bit is not part of Mesa's text
        elif instr.sigs & {"rot", "ucb"}:
            hidden = instr.sigs & {"rot", "ucb"}
            raddr_b = 0 if "rot" in hidden else instr.raddr_b
            expected = encode(instr.replace(sigs=instr.sigs - hidden, raddr_b=raddr_b))
        again = int(assemble_text(text).words[0])
        assert again == expected, f"#{index} {word:016x} {text!r} -> {again:016x}"
    return len(program)


def op_function(op: str):
    name = _REVERSE_ALIASES.get(op, op)
    if name in DSL_FUNCTIONS:
        return DSL_FUNCTIONS[name]
    if name + "_" in DSL_FUNCTIONS:
        return DSL_FUNCTIONS[name + "_"]
    return globals()[name]  # the SFU ops: recip, rsqrt, exp, log, sin, rsqrt2


def operand_sets(spec, dst):
    packs = ["l", "h", "none"] if spec.pack else ["none"]
    a_mods = sorted(m or "none" for m in spec.a_unpacks)
    b_mods = sorted(m or "none" for m in spec.b_unpacks)
    for pack in packs:
        for a_mod in a_mods if spec.nsrc >= 1 else ["none"]:
            for b_mod in b_mods if spec.nsrc == 2 else ["none"]:
                operands = [dst.pack(pack)] if spec.has_dst else []
                operands += [r1.unpack(a_mod), rf2.unpack(b_mod)][: spec.nsrc]
                yield operands


def test_every_op_with_every_modifier(capsys):
    def body(asm):
        for op, spec in ADD_OPS.items():
            dst = (
                rf0 if spec.ma is not None else r0
            )  # ldvpm*_in/_out write the register file
            for operands in operand_sets(spec, dst):
                op_function(op)(*operands)
        for op, spec in MUL_OPS.items():
            for operands in operand_sets(spec, r3):
                getattr(nop(), op)(*operands)

    count = round_trip(assemble(body))
    with capsys.disabled():
        print(f"\nround trip: {count} op/modifier forms")
    assert count > 300


def test_every_signal_set_and_signal_destination():
    def with_signals(names, dst):
        sigs = [SIGNALS[n](dst) if n in ADDRESS_SIGNALS else SIGNALS[n]
                for n in sorted(names - {"smimm", "rot"})]  # fmt: skip
        if "rot" in names:
            rotate(r1, r0, 5, sig=sigs)
        elif "smimm" in names:
            add(r0, r1, 7, sig=sigs)
        else:
            add(r0, r1, r2, sig=sigs)

    def body(asm):
        for names in SIGNAL_SETS.values():
            for dst in (r1, rf5, tmua, r5rep, recip):
                with_signals(names, dst)

    assert round_trip(assemble(body)) == 5 * len(SIGNAL_SETS)


def test_every_flag_combination_on_both_alus():
    def body(asm):
        for flags in FLAG_CODES:
            add_cond = next((f for f in flags[:3] if f), None)
            mul_cond = next((f for f in flags[3:] if f), None)
            add(r0, r1, r2, cond=add_cond).sub(r3, r1, r2, cond=mul_cond)

    assert round_trip(assemble(body)) == len(FLAG_CODES) == 127


def test_every_small_immediate_on_both_alus_with_unpacks():
    def body(asm):
        for pattern in SMALL_IMMEDIATES:
            imm = small_imm(pattern)
            shl(r0, r1, imm)
            nop().fmul(r0, imm, r2)
            fadd(r0, r1, imm.unpack("abs"))
            fmax(r0.pack("h"), imm.unpack("l"), r2)
            vfmin(r0, imm.unpack("swp"), r1)

    assert round_trip(assemble(body)) == 5 * 48


def test_every_branch_form():
    def body(asm):
        L.top  # noqa: B018 (defines the label)
        for cond in ["always", *(c for c in BRANCH_CONDS if c)]:
            for msfign in (None, "p", "q"):
                for target in (R.top, link, rf7, 64, -64):
                    for set_link in (False, True):
                        b(target, cond=cond, msfign=msfign, set_link=set_link)
                        for unif in (None, link, rf7):
                            bu(target, unif, cond=cond, msfign=msfign)
                        b(target, cond=cond).unif_addr(absolute=True)
                b(0x1000, absolute=True, cond=cond, msfign=msfign)

    assert round_trip(assemble(body)) == 7 * 3 * (5 * 2 * 5 + 1)


_SOURCES = st.sampled_from([r0, r1, r2, r3, r5, rf0, rf33, 1, 2.0])
_DESTS = st.sampled_from([r0, r4, rf3, rf63, tmua, tmud, null, r5rep, unifa])
_CONDS = st.sampled_from(
    [None, None, None, "ifa", "ifnb", "pushz", "pushc", "andz", "norc"]
)
_SIGS = st.sampled_from(
    [
        None,
        thrsw,
        ldunif,
        [thrsw, ldunif],
        ldtmu(r2),
        ldunifrf(rf9),
        wrtmuc,
        ldunifa,
        ucb,
    ]
)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    add_op=st.sampled_from(
        sorted(n for n, s in ADD_OPS.items() if s.nsrc == 2 and s.ma is None)
    ),
    mul_op=st.sampled_from(sorted(n for n, s in MUL_OPS.items() if s.nsrc == 2)),
    operands=st.tuples(_DESTS, _SOURCES, _SOURCES, _DESTS, _SOURCES, _SOURCES),
    conds=st.tuples(_CONDS, _CONDS),
    sig=_SIGS,
)
def test_random_dual_issue_instructions(add_op, mul_op, operands, conds, sig):
    """Any instruction the DSL accepts round-trips; anything else is an AssembleError."""

    def body(asm):
        d1, a1, b1, d2, a2, b2 = operands
        getattr(op_function(add_op)(d1, a1, b1, cond=conds[0], sig=sig), mul_op)(
            d2, a2, b2, cond=conds[1]
        )

    try:
        program = assemble(body)
    except AssembleError:
        event("refused with AssembleError")
        return
    event("assembled and round-tripped")
    round_trip(program)

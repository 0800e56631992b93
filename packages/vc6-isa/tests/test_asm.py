# ruff: noqa: B018  (py-videocore6 style: `L.label` is a statement that defines a label)
"""The assembler DSL: surface, instruction values it produces, and its located errors."""

from __future__ import annotations

import sys
import threading

import numpy as np
import pytest
import vc6_isa.asm as dsl
from vc6_isa import AssembleError, decode
from vc6_isa.asm import *
from vc6_isa.encoding import ADD_OPS, MUL_OPS, SMALL_IMMEDIATES


def words(body, *args):
    """Assemble a plain function (not @qpu: assemble() sets the context itself)."""
    return [int(w) for w in assemble(lambda asm: body(*args)).words]


def one(body, *args):
    (word,) = words(body, *args)
    return decode(word)


def here() -> int:
    """The line number of the caller's next line (where the DSL call under test is)."""
    return sys._getframe(1).f_lineno + 1


# ---------------------------------------------------------------------------------------------
# Surface


def test_star_import_brings_every_op_of_the_table():
    for op in ADD_OPS:
        name = op + "_" if op in ("and", "or", "not", "min", "max") else op
        assert name in dsl.__all__, op
    for op in MUL_OPS:
        assert callable(getattr(ALU, op)), op
    for alias, op in PYVC6_ALIASES.items():
        assert op in ADD_OPS and alias in dsl.__all__
    for name in ("Assembly", "Register", "qpu", "assemble", "L", "R", "loop", "link", "b",
                 "namespace", "raw", "rotate", "quad_rotate", "rf", "broadcast",
                 "quad_broadcast", "null", "tmua", "tmud", "tmuau", "tmuc", "unifa", "syncb",
                 "r5rep", "tlb", "recip", "rsqrt", "exp", "log", "sin", "rsqrt2", "thrsw",
                 "ldtmu", "ldunif", "ldunifa", "ldunifrf", "ldunifarf", "wrtmuc", "rot"):  # fmt: skip
        assert name in dsl.__all__, name
    assert [f"rf{n}" in dsl.__all__ for n in range(64)] == [True] * 64
    assert rf[17] is rf17 and broadcast is r5rep and quad_broadcast is r5


def test_assembling_leaves_the_callers_globals_alone():
    before = dict(globals())

    @qpu
    def kernel(asm):
        eidx(r0)
        L.here
        b(R.here, cond="na0")

    assemble(kernel)
    assert dict(globals()) == before


def test_helper_called_with_the_assembly_and_len_of_asm():
    @qpu
    def helper(asm, reg):
        shl(reg, reg, 2)
        return len(asm)

    @qpu
    def kernel(asm):
        nop()
        assert helper(asm, r1) == 2
        helper(asm, r2)

    program = assemble(kernel)
    assert [decode(int(w)).add.op for w in program.words] == ["nop", "shl", "shl"]


def test_dsl_outside_a_program_and_qpu_without_assembly_are_errors():
    with pytest.raises(AssembleError, match="no program is being assembled"):
        nop()

    @qpu
    def kernel(asm):
        nop()

    with pytest.raises(AssembleError, match="first argument"):
        kernel(3)


def test_programs_in_threads_do_not_mix():
    results = {}

    def build(n):
        @qpu
        def kernel(asm):
            for _ in range(200):
                add(r0, r0, n)

        results[n] = {int(w) for w in assemble(kernel).words}

    threads = [threading.Thread(target=build, args=(n,)) for n in range(1, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(len(ws) == 1 for ws in results.values())
    assert len({next(iter(ws)) for ws in results.values()}) == 4


# ---------------------------------------------------------------------------------------------
# Instruction values


def test_add_op_operands_and_register_file_ports():
    instr = one(lambda: add(rf7, rf3, rf9))
    assert (instr.add.op, instr.add.waddr, instr.add.magic) == ("add", 7, False)
    assert (instr.add.a, instr.add.b, instr.raddr_a, instr.raddr_b) == (6, 7, 3, 9)
    assert instr.mul.op == "nop" and not instr.sigs
    # The first register-file source met takes port A, in add a, add b, mul a, mul b order.
    instr = one(lambda: add(r0, r1, rf5).fmul(r2, rf6, rf5))
    assert (instr.raddr_a, instr.raddr_b) == (5, 6)
    assert (instr.add.b, instr.mul.a, instr.mul.b) == (6, 7, 6)


def test_dual_issue_and_mul_only_ops():
    instr = one(lambda: add(r0, r0, r5).fmul(r1, r2, r3))
    assert (instr.add.op, instr.mul.op, instr.mul.waddr) == ("add", "fmul", 1)
    instr = one(lambda: umul24(r3, r0, rf1))
    assert (instr.add.op, instr.mul.op) == ("nop", "umul24")
    instr = one(lambda: nop().add(r1, r0, r0))
    assert (instr.add.op, instr.mul.op) == ("nop", "add")


def test_mov_is_or_on_the_add_alu_and_mov_on_the_mul_alu():
    instr = one(lambda: mov(r0, rf2))
    assert (instr.add.op, instr.add.a, instr.add.b) == ("or", 6, 6)
    instr = one(lambda: nop().mov(tmud, r1))
    assert (instr.mul.op, instr.mul.waddr, instr.mul.magic) == ("mov", 11, True)


def test_py_videocore6_and_mesa_names_of_the_same_op_agree():
    pairs = [(band, and_), (bor, or_), (bxor, xor), (imin, min_), (imax, max_)]
    for pyvc6, mesa in pairs:
        assert words(pyvc6, r0, r1, r2) == words(mesa, r0, r1, r2)
    assert words(bnot, r0, r1) == words(not_, r0, r1)


def test_small_immediates_from_ints_floats_and_patterns():
    for value, index in [(0, 0), (15, 15), (-16, 16), (-1, 31), (0xFFFFFFF0, 16),
                         (1.0, 40), (0.00390625, 32), (128.0, 47), (0x3F800000, 40)]:  # fmt: skip
        instr = one(lambda v=value: shl(r0, r1, v))
        assert "smimm" in instr.sigs and (instr.add.b, instr.raddr_b) == (7, index), (
            value
        )
    instr = one(lambda: bxor(rf5, 1, 1).mov(r1, 1))  # one immediate shared by both ALUs
    assert instr.raddr_b == 1 and (instr.add.a, instr.add.b, instr.mul.a) == (7, 7, 7)
    instr = one(lambda: fadd(r0, r1, small_imm(1.0).unpack("l")))
    assert instr.add.b_unpack == "l" or instr.add.a_unpack == "l"


@pytest.mark.parametrize(
    "value", [16, -17, 1 << 20, 0.3, -1.0, 256.0, -0.0, float("nan")]
)
def test_values_that_are_not_small_immediates(value):
    with pytest.raises(
        AssembleError, match=r"not encodable as a small immediate.*integers -16\.\.15"
    ):
        assemble(lambda asm: add(r0, r1, value))


def test_operand_kinds_that_are_refused():
    with pytest.raises(AssembleError, match="cannot be read"):
        assemble(lambda asm: add(r0, tmua, r1))
    with pytest.raises(AssembleError, match="bool"):
        assemble(lambda asm: add(r0, r1, True))
    with pytest.raises(AssembleError, match="destination must be a register"):
        assemble(lambda asm: add(3, r1, r2))
    with pytest.raises(AssembleError, match="takes 3 operands"):
        assemble(lambda asm: add(r0, r1))


def test_signals_single_list_and_write_destinations():
    instr = one(lambda: nop(sig=ldtmu(r1)))
    assert instr.sigs == {"ldtmu"} and (instr.sig_addr, instr.sig_magic) == (1, True)
    instr = one(lambda: nop(sig=ldunifrf(rf3)))
    assert instr.sigs == {"ldunifrf"} and (instr.sig_addr, instr.sig_magic) == (
        3,
        False,
    )
    instr = one(lambda: nop(sig=[thrsw, ldunif]))
    assert instr.sigs == {"thrsw", "ldunif"}
    instr = one(lambda: fadd(r0, r0, r0).fmul(r1, r1, r1, sig=ldtmu(rf31)))
    assert instr.sigs == {"ldtmu"} and instr.sig_addr == 31
    instr = one(lambda: add(r0, r0, 1, sig=ldtmu(r2)))
    assert instr.sigs == {"smimm", "ldtmu"}
    instr = one(lambda: nop(sig="thrsw"))  # py-videocore6's older spelling
    assert instr.sigs == {"thrsw"}


def test_rotation_forms():
    instr = one(lambda: rotate(r1, r0, 3))
    assert instr.sigs == {"rot"} and instr.mul.op == "mov" and instr.raddr_b == 3
    instr = one(lambda: rotate(r1, r0, -3))
    assert instr.raddr_b == SMALL_IMMEDIATES.index((-3) & 0xFFFFFFFF)
    instr = one(lambda: rotate(r1, r0, r5))
    assert instr.sigs == {"rot"} and instr.raddr_b == 0
    instr = one(lambda: quad_rotate(r1, rf32, 2))
    assert (instr.raddr_a, instr.mul.a, instr.raddr_b) == (32, 6, 2)
    instr = one(lambda: mov(rf2, r5).rotate(r5rep, r0, -1))
    assert (instr.add.op, instr.mul.op, instr.mul.waddr) == ("or", "mov", 55)
    assert (
        one(lambda: rotate(r1, r0, 0)).sigs == frozenset()
    )  # py-videocore6: rot(0) is no rot
    with pytest.raises(AssembleError, match="accumulator"):
        assemble(lambda asm: rotate(r1, rf0, 1))
    with pytest.raises(AssembleError, match="register-file source"):
        assemble(lambda asm: quad_rotate(r1, r0, 1))
    with pytest.raises(AssembleError, match="-15..15 or r5"):
        assemble(lambda asm: rotate(r1, r0, 16))


def test_conditions_pushes_and_updates():
    instr = one(lambda: sub(null, r0, 10, cond="pushz"))
    assert instr.add.pf == "pushz"
    instr = one(lambda: mov(r0, 5, cond="ifa").sub(r3, r0, 5, cond="pushn"))
    assert (instr.add.cond, instr.mul.pf) == ("ifa", "pushn")
    instr = one(lambda: sub(null, r0, 5, cond="andn").mov(r3, 5, cond="ifa"))
    assert (instr.add.uf, instr.mul.cond) == ("andn", "ifa")
    instr = one(lambda: mov(r0, 0, cond="ifna").mov(r3, 0, cond="ifnb"))
    assert (instr.add.cond, instr.mul.cond) == ("ifna", "ifnb")


def test_modifiers_as_py_videocore6_writes_them():
    instr = one(lambda: fmov(r0.pack("l"), r1.unpack("h")))
    assert (instr.mul.op, instr.mul.pack, instr.mul.a_unpack) == ("fmov", "l", "h")
    instr = one(lambda: fadd(r0.pack("h"), r1.unpack("abs"), r2.unpack("l")))
    unpacks = {(instr.add.a, instr.add.a_unpack), (instr.add.b, instr.add.b_unpack)}
    assert instr.add.pack == "h" and unpacks == {(1, "abs"), (2, "l")}
    for pyvc6, mesa in [("r32", "ff"), ("rl2h", "ll"), ("rh2l", "hh"), ("swap", "swp")]:
        assert one(lambda m=pyvc6: vfmin(r0, r1.unpack(m), r2)).add.a_unpack == mesa
        assert one(lambda m=mesa: vfmin(r0, r1.unpack(m), r2)).add.a_unpack == mesa
    assert r0.pack("none") is r0 and r1.unpack("abs") is r1.unpack("abs")


def test_fadd_faddnf_fmin_fmax_keep_their_identity():
    for op in ("fadd", "faddnf", "fmin", "fmax"):
        for srcs in [(r1, r2), (r2, r1), (rf1, rf2), (r1.unpack("abs"), r1)]:
            assert one(lambda o=op, s=srcs: globals()[o](r0, *s)).add.op == op


def test_sfu_as_register_and_as_op():
    instr = one(lambda: mov(recip, r0))
    assert (instr.add.op, instr.add.waddr, instr.add.magic) == ("or", 19, True)
    instr = one(lambda: recip(rf1, r0))
    assert (instr.add.op, instr.add.waddr, instr.add.magic) == ("recip", 1, False)
    for name, waddr in [
        ("rsqrt", 20),
        ("exp", 21),
        ("log", 22),
        ("sin", 23),
        ("rsqrt2", 24),
    ]:
        reg = globals()[name]
        assert reg.waddr == waddr and one(lambda r=reg: r(r2, r1)).add.op == name


def test_branch_forms():
    def branch(*args, **kw):
        return lambda: b(*args, **kw)

    labelled = assemble(lambda asm: [nop(), L.top, nop(), b(R.top, cond="na0")])
    assert decode(int(labelled.words[2])).offset == (1 - 2 - 4) * 8
    assert labelled.labels == {"top": 1}
    instr = one(branch(link, cond="always"))
    assert (instr.bdi, instr.cond) == ("lri", None)
    instr = one(branch(rf5, cond="anyna"))
    assert (instr.bdi, instr.raddr_a, instr.cond) == ("rf", 5, "anyna")
    instr = one(branch(0x1000, absolute=True, cond="a0"))
    assert (instr.bdi, instr.offset) == ("abs", 0x1000)
    instr = one(branch(16, cond="always", set_link=True))
    assert (instr.bdi, instr.offset, instr.link) == ("rel", 16, True)
    instr = one(lambda: b(0, cond="always").unif_addr())
    assert (instr.ub, instr.bdu) == (True, 1)
    instr = one(lambda: b(0, cond="always").unif_addr(absolute=True))
    assert (instr.ub, instr.bdu) == (True, 0)
    instr = one(lambda: b(0, cond="always").unif_addr(rf2))
    assert (instr.ub, instr.bdu, instr.raddr_a) == (True, 3, 2)
    instr = one(lambda: bu(rf4, rf4, cond="alla", msfign="q"))
    assert (instr.bdi, instr.ub, instr.bdu, instr.msfign) == ("rf", True, 3, "q")


def test_plain_branches_carry_py_videocore6s_bdu_bits():
    # py-videocore6 writes bdu = 1 into every branch; Mesa decodes them all as plain b.
    (word,) = words(lambda: b(16, cond="always"))
    assert word == 0x0200001000009000


def test_loop_labels_and_namespaces():
    @qpu
    def kernel(asm):
        with loop as outer:
            with namespace("inner"):
                L.x
                nop()
                b(R.x, cond="always")
            outer.b(cond="anyna")
        L.x
        assert int(R.x) == len(asm)

    program = assemble(kernel)
    assert program.labels == {"__generated_loop_label_0": 0, "inner.x": 0, "x": 3}
    assert decode(int(program.words[2])).offset == (0 - 2 - 4) * 8


def test_raw_words_and_program_listing():
    program = assemble(lambda asm: [raw(0x3C003186BB800000), L.end, nop(sig=thrsw)])
    assert int(program.words[0]) == 0x3C003186BB800000
    text = program.disassembly()
    assert "end:" in text and "thrsw" in text and text.count("\n") == 2


# ---------------------------------------------------------------------------------------------
# Errors: type, reason, and the user's file and line


def check_error(body, pattern):
    with pytest.raises(AssembleError, match=pattern) as info:
        assemble(lambda asm: body())
    return info.value


def test_errors_name_the_file_and_line_of_the_dsl_call():
    def body():
        nop()
        add(r0, r1, 99)

    line = body.__code__.co_firstlineno + 2
    error = check_error(body, "small immediate")
    assert (error.filename, error.line) == (__file__, line)
    assert "add(r0, r1, 99)" in str(error) and f"{__file__}:{line}" in str(error)


ERROR_CASES = {
    "too many register-file reads": lambda: add(r0, rf1, rf2).fmul(r1, rf3, r1),
    "conflicting small immediates": lambda: add(r0, r1, 1).fmul(r1, r2, 2.0),
    "port B.*small immediate.*register": lambda: add(r0, rf1, rf2).mov(r1, 3),
    "port B.*rotation": lambda: add(r0, rf1, rf2).rotate(r1, r0, 3),
    "cannot be combined": lambda: nop(sig=[thrsw, ldunifa]),
    "smimm signal, which combines only": lambda: add(r0, r0, 1, sig=ldunif),
    "given twice": lambda: nop(sig=[thrsw, thrsw]),
    "both write a register": lambda: nop(sig=[ldtmu(r0), ldunifrf(r1)]),
    "stored in the cond": lambda: add(r0, r0, r1, cond="ifa", sig=ldtmu(r2)),
    "flags are written on both ALUs": lambda: add(r0, r0, r1, cond="pushz").sub(
        r1, r1, 1, cond="pushn"
    ),
    "mul-ALU flag update": lambda: add(r0, r0, r1, cond="ifa").sub(
        r1, r1, 1, cond="andz"
    ),
    "not a condition": lambda: add(r0, r0, r1, cond="zero"),
    "already has a mul-ALU op": lambda: (
        add(r0, r0, r1).fmul(r1, r1, r1).fmul(r2, r2, r2)
    ),
    "takes no output pack": lambda: add(r0.pack("l"), r1, r2),
    "cannot take the unpack": lambda: vfmin(r0, r1.unpack("abs"), r2),
    "identical operands": lambda: faddnf(r0, r1, r1),
    "writes a register: give it one": lambda: nop(sig=ldtmu),
    "needs a rotation amount": lambda: nop(sig=rot),
    "not an input unpack": lambda: add(r0, r1.unpack("bogus"), r2),
    "unknown label 'nowhere'": lambda: b(R.nowhere, cond="always"),
    "out of range": lambda: b(12, cond="always"),
    "absolute address": lambda: b(-8, absolute=True, cond="always"),
    "branch condition": lambda: b(0, cond="sometimes"),
    "code target rf1 and uniform target rf2": lambda: b(rf1, cond="always").unif_addr(
        rf2
    ),
    "register file": lambda: b(r1, cond="always"),
    "does not fit in 64 bits": lambda: raw(1 << 64),
}


@pytest.mark.parametrize("reason", sorted(ERROR_CASES))
def test_invalid_combinations_raise_located_errors(reason):
    error = check_error(ERROR_CASES[reason], reason)
    assert error.filename == __file__ and error.line is not None
    assert ERROR_CASES[reason].__code__.co_firstlineno <= error.line


def test_duplicate_label_is_reported_at_the_second_definition():
    def body():
        L.twice
        nop()
        L.twice

    error = check_error(body, "label 'twice' is defined twice")
    assert error.line == body.__code__.co_firstlineno + 3


def test_program_conversions_and_label_positions():
    @qpu
    def kernel(asm, n, *, shift=2):
        for _ in range(n):
            shl(r0, r0, shift)
        L.end
        with LabelNameSpace(asm, "inner"):
            L.end
        nop()

    program = assemble(kernel, 3, shift=1)
    assert len(program) == 4 and program.tolist() == [int(w) for w in program.words]
    assert np.array_equal(np.asarray(program), program.words)
    assert program.to_bytes() == program.words.astype("<u8").tobytes()
    assert program.labels == {"end": 3, "inner.end": 3}
    assert get_label_positions(kernel, 3) == {"end": 24, "inner.end": 24}
    assert decode(program.tolist()[0]).raddr_b == 1  # shift 1 as a small immediate


def test_registers_and_signals_are_interned_and_pickle_to_themselves():
    import pickle

    assert ldtmu(r1) is ldtmu(r1) and rot(3) is rot(3)
    assert r1.unpack("abs").base is r1 and r1.unpack("abs").unpack_mod == "abs"
    for reg in (r0, rf9, tmua, recip, r2.unpack("h"), r3.pack("l")):
        assert pickle.loads(pickle.dumps(reg)) is reg

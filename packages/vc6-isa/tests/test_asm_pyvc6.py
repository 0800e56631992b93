# ruff: noqa: B018  (py-videocore6 style: `L.label` is a statement that defines a label)
"""py-videocore6 programs, ported, must assemble to the words py-videocore6 emitted for them.

The programs below are re-typed from py-videocore6's tests/ and examples/ (which ran on a
Raspberry Pi 4), changed only as far as porting needs: the import line, and locals instead of
writes into ``globals()``. The golden vectors file tags every word py-videocore6 emitted with
the first program that emitted it (``py-videocore6:<file>:<program>``); each ported program must
reproduce every row tagged with it, and every word it emits must be a py-videocore6 (or Mesa
test) row of the file.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from mesa_vectors import DISASM_FILE, vectors_dir
from vc6_isa.asm import *


@pytest.fixture(scope="module")
def vectors() -> dict[int, str]:
    """word -> source tag of every row of the golden vectors file."""
    path = vectors_dir() / DISASM_FILE
    rows = {}
    with open(path, encoding="utf-8") as f:
        next(f)
        for line in f:
            word, _canonical, _text, source = line.rstrip("\n").split("\t")
            rows[int(word, 16)] = source
    return rows


# ---------------------------------------------------------------------------------------------
# Common pieces


@qpu
def program_end(asm):
    """The thread-end sequence every py-videocore6 program finishes with."""
    nop(sig=thrsw)
    nop(sig=thrsw)
    nop()
    nop()
    nop(sig=thrsw)
    nop()
    nop()
    nop()


@qpu
def load_two_addresses(asm):
    """rf0/rf1 <- two uniforms + 4 * eidx; r3 <- 64 (prologue of the signal/ALU tests)."""
    eidx(r0, sig=ldunif)
    mov(rf0, r5, sig=ldunif)
    shl(r3, 4, 4).mov(rf1, r5)
    shl(r0, r0, 2)
    add(rf0, rf0, r0)
    add(rf1, rf1, r0)


@qpu
def store_r1_and_step(asm):
    mov(tmud, r1)
    mov(tmua, rf1)
    tmuwt().add(rf1, rf1, r3)


# ---------------------------------------------------------------------------------------------
# tests/test_signals.py


@qpu
def qpu_signal_ldtmu(asm):
    load_two_addresses(asm)
    mov(tmua, rf0, sig=thrsw).add(rf0, rf0, r3)
    mov(r0, 1.0)
    mov(r1, 2.0)
    fadd(r0, r0, r0).fmul(r1, r1, r1, sig=ldtmu(rf31))
    for value in (rf31, r0, r1):
        mov(tmud, value)
        mov(tmua, rf1)
        tmuwt().add(rf1, rf1, r3)
    program_end(asm)


@qpu
def load_r0_for_rotation(asm, dst):
    load_two_addresses(asm)
    mov(tmua, rf0, sig=thrsw).add(rf0, rf0, r3)
    nop()
    nop()
    nop(sig=ldtmu(dst))
    nop()  # required before a rotation


@qpu
def qpu_full_rotate(asm):
    load_r0_for_rotation(asm, r0)
    for i in range(-15, 16):
        nop().add(r1, r0, r0, sig=rot(i))
        store_r1_and_step(asm)
    for i in range(-15, 16):
        mov(r5, i)
        nop()
        nop().add(r1, r0, r0, sig=rot(i))
        store_r1_and_step(asm)
    program_end(asm)


@qpu
def qpu_rotate_alias(asm):
    load_r0_for_rotation(asm, r0)
    for i in range(-15, 16):
        rotate(r1, r0, i)
        store_r1_and_step(asm)
    for i in range(-15, 16):
        nop().rotate(r1, r0, i)
        store_r1_and_step(asm)
    for chained in (False, True):
        for i in range(-15, 16):
            mov(r5, i)
            nop()
            if chained:
                nop().rotate(r1, r0, r5)
            else:
                rotate(r1, r0, r5)
            store_r1_and_step(asm)
    program_end(asm)


@qpu
def qpu_quad_rotate(asm):
    load_r0_for_rotation(asm, rf32)
    for i in range(-15, 16):
        nop().add(r1, rf32, rf32, sig=rot(i))
        store_r1_and_step(asm)
    for i in range(-15, 16):
        mov(r5, i)
        nop()
        nop().add(r1, rf32, rf32, sig=rot(r5))
        store_r1_and_step(asm)
    program_end(asm)


@qpu
def qpu_quad_rotate_alias(asm):
    load_r0_for_rotation(asm, rf32)
    for i in range(-15, 16):
        quad_rotate(r1, rf32, i)
        store_r1_and_step(asm)
    for i in range(-15, 16):
        nop().quad_rotate(r1, rf32, i)
        store_r1_and_step(asm)
    for chained in (False, True):
        for i in range(-15, 16):
            mov(r5, i)
            nop()
            if chained:
                nop().quad_rotate(r1, rf32, r5)
            else:
                quad_rotate(r1, rf32, r5)
            store_r1_and_step(asm)
    program_end(asm)


@qpu
def broadcast_program(asm, dst):
    load_r0_for_rotation(asm, r0)
    for i in range(-15, 16):
        nop().mov(dst, r0, sig=[rot(n) for n in [i] if n != 0])
        mov(tmud, r5)
        mov(tmua, rf1)
        tmuwt().add(rf1, rf1, r3)
    program_end(asm)


# ---------------------------------------------------------------------------------------------
# tests/test_branch.py


@qpu
def branch_prologue(asm, loaded=r1):
    eidx(r0, sig=ldunifrf(rf0))
    nop(sig=ldunifrf(rf1))
    shl(r0, r0, 2)
    add(rf0, rf0, r0)
    add(rf1, rf1, r0)
    mov(tmua, rf0, sig=thrsw)
    nop()
    nop()
    nop(sig=ldtmu(loaded))


@qpu
def store_r1_to_rf1(asm):
    mov(tmud, r1)
    mov(tmua, rf1)
    tmuwt()


@qpu
def qpu_branch_rel_imm(asm):
    branch_prologue(asm)
    b(2 * 8, cond="always")
    nop()
    nop()
    nop()
    for _ in range(4):
        add(r1, r1, 1)
    store_r1_to_rf1(asm)
    program_end(asm)


@qpu
def qpu_branch_abs_imm(asm, absimm):
    branch_prologue(asm)
    b(absimm, absolute=True, cond="always")
    nop()
    nop()
    nop()
    for _ in range(4):
        add(r1, r1, 1)
    store_r1_to_rf1(asm)
    program_end(asm)


@qpu
def qpu_branch_rel_label(asm):
    branch_prologue(asm)
    b(R.foo, cond="always")
    nop()
    nop()
    nop()
    add(r1, r1, 1)
    L.foo
    add(r1, r1, 1)
    L.bar
    add(r1, r1, 1)
    L.baz
    add(r1, r1, 1)
    store_r1_to_rf1(asm)
    program_end(asm)


@qpu
def qpu_branch_abs_reg(asm):
    branch_prologue(asm, rf2)
    mov(r1, 0)
    b(rf2, cond="always")
    nop()
    nop()
    nop()
    L.label
    for _ in range(4):
        add(r1, r1, 1)
    store_r1_to_rf1(asm)
    program_end(asm)


@qpu
def qpu_branch_link_reg(asm, set_subroutine_link, use_link_reg_direct):
    branch_prologue(asm, r2)
    mov(rf2, 0)
    mov(rf3, 0)
    b(R.init_link, cond="always", set_link=True)
    nop()
    nop()
    nop()
    L.init_link
    add(rf3, rf3, 1)
    mov(null, rf2, cond="pushz")
    b(R.subroutine, cond="alla", set_link=set_subroutine_link)
    mov(rf2, 1)
    nop()
    nop()
    shl(r1, 4, 4)
    mov(tmud, rf3)
    mov(tmua, rf1).add(rf1, rf1, r1)
    tmuwt()
    program_end(asm)
    L.subroutine
    shl(r1, 4, 4)
    mov(tmud, r2)
    mov(tmua, rf1).add(rf1, rf1, r1)
    tmuwt()
    if use_link_reg_direct:
        b(link, cond="always")
    else:
        lr(rf32)
        b(rf32, cond="always")
    nop()
    nop()
    nop()


@qpu
def qpu_uniform_branch(asm, kind):
    if kind == "reg":
        branch_prologue(asm, rf2)
    else:
        eidx(r0, sig=ldunifrf(rf0))
        shl(r0, r0, 2)
        add(rf0, rf0, r0)
    branch = b(R.label, cond="always")
    if kind == "rel":
        branch.unif_addr()
    elif kind == "abs":
        branch.unif_addr(absolute=True)
    else:
        branch.unif_addr(rf2)
    nop()
    nop()
    nop()
    L.label
    if kind == "reg":
        nop(sig=ldunifrf(rf3))
        mov(tmud, rf3)
        mov(tmua, rf1)
    else:
        nop(sig=ldunifrf(tmud))
        mov(tmua, rf0)
    tmuwt()
    program_end(asm)


# ---------------------------------------------------------------------------------------------
# tests/test_condition_codes.py


@qpu
def cond_prologue(asm):
    eidx(r0, sig=ldunif)
    mov(r2, r5)
    shl(r0, r0, 2)
    add(r2, r2, r0)
    shl(r1, 4, 4)


@qpu
def store_r0_to_r2(asm):
    mov(tmud, r0)
    mov(tmua, r2)
    tmuwt().add(r2, r2, r1)


@qpu
def qpu_cond_push_a(asm):
    cond_prologue(asm)
    for push, cond in [("pushz", "ifa"), ("pushn", "ifna"), ("pushc", "ifa")]:
        eidx(r0)
        sub(r0, r0, 10, cond=push)
        mov(r0, 0)
        mov(r0, 1, cond=cond)
        store_r0_to_r2(asm)
        mov(r0, 0)
        nop().mov(r0, 1, cond=cond)
        store_r0_to_r2(asm)
    program_end(asm)


@qpu
def qpu_cond_push_b(asm):
    cond_prologue(asm)
    for value, conds in [(10, ["ifa"]), (5, ["ifa", "ifb"]), (1, ["ifa", "ifb"])]:
        eidx(r0)
        sub(null, r0, value, cond="pushz")
        for cond in conds:
            mov(r0, 0, cond=cond)
            eidx(r0).mov(tmud, r0)
            mov(tmua, r2)
            tmuwt().add(r2, r2, r1)
    program_end(asm)


UPDATE_FLAGS = [
    "andz", "andnz", "nornz", "norz", "andn", "andnn", "nornn", "norn",
    "andc", "andnc", "nornc", "norc",
]  # fmt: skip


@qpu
def qpu_cond_update(asm, flags):
    cond_prologue(asm)
    for on_mul in (False, True):
        for flag in flags:
            eidx(r0)
            band(r0, r0, 1, cond="pushz")
            eidx(r0)
            if on_mul:
                add(r3, r0, r0).sub(r0, r0, 5, cond=flag)
            else:
                sub(null, r0, 5, cond=flag)
            mov(r0, 0)
            mov(r0, 1, cond="ifa")
            store_r0_to_r2(asm)
    program_end(asm)


@qpu
def qpu_cond_combination(asm):
    cond_prologue(asm)
    # if / push
    eidx(r0)
    sub(r0, r0, 10, cond="pushz")
    eidx(r0)
    mov(r0, 5, cond="ifa").sub(r3, r0, 5, cond="pushn")
    store_r0_to_r2(asm)
    eidx(r0)
    mov(r0, 0, cond="ifa")
    store_r0_to_r2(asm)
    # push / if
    eidx(r0)
    sub(r0, r0, 10, cond="pushz")
    eidx(r0)
    sub(null, r0, 5, cond="pushn").mov(r0, 5, cond="ifa")
    store_r0_to_r2(asm)
    eidx(r0)
    mov(r0, 0, cond="ifa")
    store_r0_to_r2(asm)
    # if / if
    eidx(r0)
    sub(null, r0, 10, cond="pushn")
    eidx(r3)
    mov(r0, 0, cond="ifna").mov(r3, 0, cond="ifna")
    store_r0_to_r2(asm)
    mov(tmud, r3)
    mov(tmua, r2)
    tmuwt().add(r2, r2, r1)
    # update / if
    eidx(r0)
    sub(null, r0, 10, cond="pushn")
    eidx(r3)
    sub(null, r0, 5, cond="andn").mov(r3, 5, cond="ifa")
    eidx(r0)
    mov(r0, 0, cond="ifa")
    store_r0_to_r2(asm)
    mov(tmud, r3)
    mov(tmua, r2)
    tmuwt().add(r2, r2, r1)
    program_end(asm)


@qpu
def qpu_cond_vflx(asm, ops):
    cond_prologue(asm)
    bxor(rf0, rf0, rf0).sub(rf1, rf1, rf1)
    eidx(r0)
    band(null, r0, 1 << 0, cond="pushz")
    band(null, r0, 1 << 1, cond="pushz")
    for op in ops:
        globals()[op](r0)
        store_r0_to_r2(asm)
    program_end(asm)


@qpu
def qpu_cond_flx(asm, ops):
    eidx(r0, sig=ldunif)
    mov(rf0, r5, sig=ldunif)
    mov(rf1, r5, sig=ldunif)
    shl(r3, 4, 4).mov(rf2, r5)
    shl(r0, r0, 2)
    add(rf0, rf0, r0)
    add(rf1, rf1, r0)
    add(rf2, rf2, r0)
    mov(tmua, rf0, sig=thrsw).add(rf0, rf0, r3)
    nop()
    mov(tmua, rf1, sig=thrsw).add(rf1, rf1, r3)
    nop(sig=ldtmu(r1))
    nop()
    nop(sig=ldtmu(r2))
    mov(null, r2, cond="pushn")
    band(null, r2, 1, cond="pushz")
    for op in ops:
        globals()[op](tmud, r1)
        mov(tmua, rf2)
        tmuwt().add(rf2, rf2, r3)
    program_end(asm)


# ---------------------------------------------------------------------------------------------
# tests/test_labels.py


@qpu
def skip_one_add(asm):
    b(R.test, cond="always")
    nop()
    nop()
    nop()
    add(r0, r0, 10)
    L.test
    add(r0, r0, 1)


@qpu
def qpu_label_with_namespace(asm):
    mov(r0, 0)
    with namespace("ns1"):
        skip_one_add(asm)
        with namespace("nested"):
            skip_one_add(asm)
    with namespace("ns2"):
        skip_one_add(asm)
    skip_one_add(asm)
    with namespace("ns3"):
        skip_one_add(asm)
    eidx(r1, sig=ldunifrf(rf2))
    shl(r1, r1, 2)
    mov(tmud, r0)
    add(tmua, rf2, r1)
    tmuwt()
    program_end(asm)


# ---------------------------------------------------------------------------------------------
# tests/test_sfu.py


@qpu
def sfu_prologue(asm):
    load_two_addresses(asm)
    mov(tmua, rf0, sig=thrsw).add(rf0, rf0, r3)
    nop()
    nop()
    nop(sig=ldtmu(r1))


@qpu
def qpu_sfu_regs(asm, names):
    sfu_prologue(asm)
    for name in names:
        mov(globals()[name], r1)
        nop()
        mov(tmud, r4)
        mov(tmua, rf1)
        tmuwt().add(rf1, rf1, r3)
    program_end(asm)


@qpu
def qpu_sfu_ops(asm, names):
    sfu_prologue(asm)
    for name in names:
        globals()[name](rf2, r1)
        mov(tmud, rf2)
        mov(tmua, rf1)
        tmuwt().add(rf1, rf1, r3)
    program_end(asm)


# ---------------------------------------------------------------------------------------------
# tests/test_alu.py


@qpu
def qpu_binary_ops(asm, ops, dst_mods, src1_mods, src2_mods):
    eidx(r0, sig=ldunif)
    mov(rf0, r5, sig=ldunif)
    mov(rf1, r5, sig=ldunif)
    shl(r3, 4, 4).mov(rf2, r5)
    shl(r0, r0, 2)
    add(rf0, rf0, r0)
    add(rf1, rf1, r0)
    add(rf2, rf2, r0)
    mov(tmua, rf0, sig=thrsw).add(rf0, rf0, r3)
    nop()
    mov(tmua, rf1, sig=thrsw).add(rf1, rf1, r3)
    nop(sig=ldtmu(r1))
    nop()
    nop(sig=ldtmu(r2))
    for op, pack, unpack1, unpack2 in itertools.product(
        ops, dst_mods, src1_mods, src2_mods
    ):
        globals()[op](
            r0.pack(pack) if pack is not None else r0,
            r1.unpack(unpack1) if unpack1 is not None else r1,
            r2.unpack(unpack2) if unpack2 is not None else r2,
        )
        mov(tmud, r0)
        mov(tmua, rf2)
        tmuwt().add(rf2, rf2, r3)
    program_end(asm)


@qpu
def qpu_unary_ops(asm, ops, dst_mods, src_mods):
    load_two_addresses(asm)
    mov(tmua, rf0, sig=thrsw).add(rf0, rf0, r3)
    nop()
    nop()
    nop(sig=ldtmu(r1))
    for op, pack, unpack in itertools.product(ops, dst_mods, src_mods):
        globals()[op](
            r0.pack(pack) if pack is not None else r0,
            r1.unpack(unpack) if unpack is not None else r1,
        )
        mov(tmud, r0)
        mov(tmua, rf1)
        tmuwt().add(rf1, rf1, r3)
    program_end(asm)


F32 = [None, "none"]
F32_IN = [None, "none", "abs"]
F16 = ["l", "h"]


def binary_cases():
    floats = ["fadd", "faddnf", "fsub", "fmin", "fmax", "fmul", "fcmp"]
    for dst, src1, src2 in itertools.product([F32, F16], [F32_IN, F16], [F32_IN, F16]):
        yield floats, dst, src1, src2
    for src1, src2 in itertools.product([F32, F16], [F32, F16]):
        yield ["vfpack"], F32, src1, src2
    for src1 in (["r32"], ["rl2h", "rh2l", "swap"]):
        yield ["vfmin", "vfmax", "vfmul"], F32, src1, F32
    for ops in (["add", "sub", "imin", "imax"], ["add", "sub", "umin", "umax"],
                ["shl", "shr", "asr", "ror"], ["band", "bor", "bxor"]):  # fmt: skip
        yield ops, [None], [None], [None]


def unary_cases():
    for dst, src in itertools.product([F32, F16], [F32_IN, F16]):
        yield ["fmov"], dst, src
    rounding = ["fround", "ftrunc", "ffloor", "fceil", "fdx", "fdy"]
    for dst, src in itertools.product([F32, F16], [F32, F16]):
        yield rounding, dst, src
    for ops in (["ftoin", "ftoiz"], ["ftouz"]):
        for src in (F32, F16):
            yield ops, F32, src
    for ops in (["bnot", "neg"], ["itof"], ["clz"], ["utof"]):
        yield ops, [None], [None]


# ---------------------------------------------------------------------------------------------
# tests/test_tmu.py


@qpu
def qpu_tmu_write(asm):
    nop(sig=ldunif)
    mov(r1, r5, sig=ldunif)
    eidx(r0).mov(r2, r5)
    shl(r0, r0, 2).mov(rf0, r0)
    add(r2, r2, r0)
    with loop as lp:
        sub(r1, r1, 1, cond="pushz").mov(tmud, rf0)
        lp.b(cond="anyna")
        sub(rf0, rf0, -16).mov(tmua, r2)
        shl(r0, 4, 4)
        tmuwt().add(r2, r2, r0)
    program_end(asm)


@qpu
def qpu_tmu_read(asm):
    eidx(r2, sig=ldunif)
    mov(r0, r5, sig=ldunif)
    shl(r2, r2, 2).mov(r1, r5)
    add(r1, r1, r2, sig=ldunif)
    add(r2, r5, r2)
    with loop as lp:
        mov(tmua, r1, sig=thrsw)
        nop()
        nop()
        nop(sig=ldtmu(rf0))
        sub(r0, r0, 1, cond="pushz").add(tmud, rf0, 1)
        lp.b(cond="anyna")
        shl(r3, 4, 4).mov(tmua, r2)
        add(r1, r1, r3).add(r2, r2, r3)
        tmuwt()
    program_end(asm)


@qpu
def qpu_tmu_vec_write(asm, configs, vec_offset):
    nop(sig=ldunifrf(rf0))
    nop(sig=ldunifrf(rf1))
    with loop as lp:
        for i, config in enumerate(configs):
            eidx(r0)
            shl(r0, r0, 0xFFFFFFF0)
            for _ in range(config):
                mov(tmud, r0).add(r0, r0, 1)
            eidx(r0)
            shl(r0, r0, 4)
            sub(r0, r0, -4 * vec_offset)
            add(tmuau if i == 0 else tmua, rf0, r0)
            shl(r0, 4, 4)
            umul24(r0, r0, len(configs))
            add(rf0, rf0, r0)
        sub(rf1, rf1, 1, cond="pushz")
        lp.b(cond="na0")
        nop()
        nop()
        nop()
    program_end(asm)


@qpu
def qpu_tmu_vec_read(asm, configs, vec_offset):
    nop(sig=ldunifrf(rf0))
    nop(sig=ldunifrf(rf1))
    nop(sig=ldunifrf(rf2))
    eidx(r0)
    shl(r0, r0, 2)
    add(rf1, rf1, r0)
    with loop as lp:
        mov(r4, 0)
        for i, config in enumerate(configs):
            eidx(r0)
            shl(r0, r0, 4)
            sub(r0, r0, -4 * vec_offset)
            add(tmuau if i == 0 else tmua, rf0, r0, sig=thrsw)
            nop()
            nop()
            nop(sig=ldtmu(r0))
            for k, reg in enumerate((r1, r2, r3), start=2):
                nop(sig=ldtmu(reg)) if config >= k else eidx(reg)
            add(r0, r0, r1).add(r2, r2, r3)
            add(r0, r0, r2)
            add(r4, r4, r0)
            shl(r0, 4, 4)
            umul24(r0, r0, 4)
            add(rf0, rf0, r0)
        mov(tmud, r4)
        mov(tmua, rf1)
        shl(r0, 4, 4)
        add(rf1, rf1, r0)
        sub(rf2, rf2, 1, cond="pushz")
        lp.b(cond="na0")
        nop()
        nop()
        nop()
    program_end(asm)


@qpu
def qpu_tmu_keeps_memory_consistency(asm):
    nop(sig=ldunifrf(r0))
    for _ in range(2):
        mov(tmua, r0, sig=thrsw)
        nop()
        nop()
        nop(sig=ldtmu(r1))
        add(tmud, r1, 1)
        mov(tmua, r0)
        tmuwt()
    program_end(asm)


@qpu
def qpu_tmu_read_tmu_write_uniform_read(asm):
    eidx(r0, sig=ldunifrf(rf0))
    shl(r0, r0, 2)
    add(rf0, rf0, r0, sig=ldunifrf(rf1))
    add(rf1, rf1, r0)
    mov(tmua, rf0, sig=thrsw)
    nop()
    nop()
    nop(sig=ldtmu(r0))
    add(tmud, r0, 1)
    mov(tmua, rf0)
    tmuwt()
    b(R.set_unif_addr, cond="always").unif_addr(rf0)
    nop()
    nop()
    nop()
    L.set_unif_addr
    nop(sig=ldunifrf(r0))
    add(tmud, r0, 1)
    mov(tmua, rf1)
    tmuwt()
    program_end(asm)


@qpu
def pick_lane_address(asm):
    """rf10 <- the uniform whose index is the lane number (16 uniforms)."""
    eidx(rf1, cond="pushz")
    nop(sig=ldunifrf(rf2))
    mov(rf10, rf2, cond="ifa")
    for _ in range(15):
        nop(sig=ldunifrf(rf2))
        sub(rf1, rf1, 1, cond="pushz")
        mov(rf10, rf2, cond="ifa")


@qpu
def make_tmud_values(asm):
    mov(rf1, 8)
    add(rf1, rf1, 8)
    eidx(rf20)
    add(rf20, rf20, 1)
    add(rf21, rf20, rf1)
    add(rf22, rf21, rf1)
    add(rf23, rf22, rf1)


@qpu
def qpu_tmu_vec_n_naive_write(asm, vec_n):
    pick_lane_address(asm)
    make_tmud_values(asm)
    bnot(tmuc, 7 - vec_n)
    for i in range(vec_n):
        mov(tmud, rf[20 + i])
    mov(tmua, rf10)
    tmuwt()
    program_end(asm)


@qpu
def qpu_tmu_vec_n_naive_read(asm, vec_n):
    pick_lane_address(asm)
    bnot(tmuc, 7 - vec_n)
    mov(tmua, rf10, sig=thrsw)
    nop()
    nop()
    for i in range(vec_n):
        nop(sig=ldtmu(rf[20 + i]))
    eidx(rf1, sig=ldunifrf(rf10))
    shl(rf1, rf1, 2)
    add(rf10, rf10, rf1)
    shl(rf2, 4, 4)
    for i in range(vec_n):
        mov(tmud, rf[20 + i])
        mov(tmua, rf10).add(rf10, rf10, rf2)
    tmuwt()
    program_end(asm)


@qpu
def qpu_tmu_vec_n_contiguous_write(asm, vec_n):
    pick_lane_address(asm)
    make_tmud_values(asm)
    shr(rf11, rf10, 2)
    band(rf11, rf11, 3)
    shr(rf12, rf10, 4)
    add(rf12, rf12, 1)
    shl(rf12, rf12, 4)
    sub(null, rf11, 5 - vec_n, cond="pushn")
    b(R.skip_0, cond="allna")
    nop()
    nop()
    nop()
    bnot(tmuc, 7 - vec_n)
    for i in range(vec_n):
        mov(tmud, rf[20 + i])
    mov(tmua, rf10, cond="ifa")
    L.skip_0
    for n in range(1, vec_n):
        with namespace(f"ns{n}"):
            sub(null, rf11, (4 + n) - vec_n, cond="pushz")
            b(R.skip, cond="allna")
            nop()
            nop()
            nop()
            if vec_n - n > 1:
                bnot(tmuc, 7 - (vec_n - n))
            for i in range(vec_n - n):
                mov(tmud, rf[20 + i])
            mov(tmua, rf10, cond="ifa")
            if n > 1:
                bnot(tmuc, 7 - n)
            for i in range(n):
                mov(tmud, rf[20 + vec_n - n + i])
            mov(tmua, rf12, cond="ifa")
            L.skip
    tmuwt()
    program_end(asm)


@qpu
def contiguous_read(asm, address, count, first):
    """Read ``count`` words from ``address`` (in lanes with flag A) into rf[30 + first]..."""
    if count > 1:
        bnot(tmuc, 7 - count)
    mov(tmua, address, cond="ifa", sig=thrsw)
    nop()
    nop()
    for i in range(count):
        nop(sig=ldtmu(rf[30 + first + i]))


@qpu
def qpu_tmu_vec_n_contiguous_read(asm, vec_n):
    pick_lane_address(asm)
    shr(rf11, rf10, 2)
    band(rf11, rf11, 3)
    shr(rf12, rf10, 4)
    add(rf12, rf12, 1)
    shl(rf12, rf12, 4)
    for i in range(vec_n):
        mov(rf[20 + i], 0)
    sub(null, rf11, 5 - vec_n, cond="pushn")
    b(R.skip_0, cond="allna")
    nop()
    nop()
    nop()
    bnot(tmuc, 7 - vec_n)
    mov(tmua, rf10, cond="ifa", sig=thrsw)
    nop()
    nop()
    for i in range(vec_n):
        nop(sig=ldtmu(rf[30 + i]))
        mov(rf[20 + i], rf[30 + i], cond="ifa")
    L.skip_0
    for n in range(1, vec_n):
        with namespace(f"ns{n}"):
            sub(null, rf11, (4 + n) - vec_n, cond="pushz")
            b(R.skip, cond="allna")
            nop()
            nop()
            nop()
            contiguous_read(asm, rf10, vec_n - n, 0)
            contiguous_read(asm, rf12, n, vec_n - n)
            for i in range(vec_n):
                mov(rf[20 + i], rf[30 + i], cond="ifa")
            L.skip
    eidx(rf1, sig=ldunifrf(rf10))
    shl(rf1, rf1, 2)
    add(rf10, rf10, rf1)
    shl(rf2, 4, 4)
    for i in range(vec_n):
        mov(tmud, rf[20 + i])
        mov(tmua, rf10).add(rf10, rf10, rf2)
    tmuwt()
    program_end(asm)


# ---------------------------------------------------------------------------------------------
# tests/test_unifa.py


@qpu
def qpu_unifa(asm):
    n, src0, src1, dst, inc = rf0, rf1, rf2, rf3, rf4
    for reg in (n, src0, src1, dst):
        nop(sig=ldunifrf(reg))
    eidx(r0)
    shl(r0, r0, 2)
    for reg in (src0, src1, dst):
        add(reg, reg, r0)
    shl(inc, 4, 4)
    mov(unifa, src0)
    nop()
    nop()
    sub(r0, n, 1, cond="pushz")
    L.l0
    nop(sig=ldunifa)
    b(R.l0, cond="na0")
    mov(tmud, r5)
    mov(tmua, dst).add(dst, dst, inc)
    sub(r0, r0, 1, cond="pushz")
    b(R.l1, cond="always").unif_addr(src0)
    mov(unifa, src1)
    sub(r0, n, 1, cond="pushz")
    nop()
    L.l1
    nop(sig=ldunif)
    mov(tmud, r5, sig=ldunifa)
    mov(tmua, dst).add(dst, dst, inc)
    b(R.l1, cond="na0")
    mov(tmud, r5)
    mov(tmua, dst).add(dst, dst, inc)
    sub(r0, r0, 1, cond="pushz")
    quad_rotate(src1, src1, 1)  # lane 1 <- lane 0: the address the branch below takes
    shr(r0, n, 1)
    mov(unifa, src0).add(src0, src0, 4)
    L.l2
    b(R.l3, cond="always").unif_addr(src1)
    add(src1, src1, 8)
    sub(r0, r0, 1, cond="pushz")
    nop()
    L.l3
    nop(sig=ldunif)
    mov(tmud, r5)
    mov(tmua, dst, sig=ldunifa).mov(unifa, src0)
    mov(tmud, r5)
    add(dst, dst, inc)
    add(src0, src0, 8)
    mov(tmua, dst, sig=ldunifa).add(dst, dst, inc)
    mov(tmud, r5, sig=ldunif)
    b(R.l2, cond="na0")
    mov(tmua, dst).add(dst, dst, inc)
    mov(tmud, r5)
    mov(tmua, dst).add(dst, dst, inc)
    program_end(asm)


# ---------------------------------------------------------------------------------------------
# tests/test_parallel.py


@qpu
def cost(asm):
    shl(r0, 8, 8)
    shl(r0, r0, 8)
    with loop as lp:
        sub(r0, r0, 1, cond="pushn")
        lp.b(cond="anyna")
        nop()
        nop()
        nop()


@qpu
def qpu_serial(asm):
    for reg in (rf0, rf1, rf2, rf3):
        nop(sig=ldunifrf(reg))
    eidx(r0)
    shl(r0, r0, 2)
    add(rf2, rf2, r0)
    add(rf3, rf3, r0)
    shl(r3, 4, 4)
    for _ in range(16):
        mov(tmua, rf2, sig=thrsw).add(rf2, rf2, r3)
        nop()
        nop()
        nop(sig=ldtmu(r0))
        mov(tmud, r0)
        mov(tmua, rf3, sig=thrsw).add(rf3, rf3, r3)
        tmuwt()
    cost(asm)
    program_end(asm)


@qpu
def load_thread_row(asm, row, first, second):
    """first/second <- unif[row, 2:4], the rows being 16-word-long uniform records."""
    shl(r0, rf1, 2)
    umul24(r0, r0, row)
    add(r1, rf0, 8)
    add(r0, r0, r1)
    eidx(r1)
    shl(r1, r1, 2)
    add(tmua, r0, r1, sig=thrsw)
    nop()
    nop()
    nop(sig=ldtmu(r0))
    mov(r5rep, r0)
    mov(first, r5).rotate(r5rep, r0, -1)
    mov(second, r5)


@qpu
def qpu_parallel_16(asm):
    tidx(r0, sig=ldunifrf(rf0))
    shr(r0, r0, 1).mov(r1, 1)
    shl(r1, r1, 5)
    sub(r1, r1, 1)
    band(rf31, r0, r1)
    nop(sig=ldunifrf(rf1))
    load_thread_row(asm, rf31, rf2, rf3)
    eidx(r2)
    shl(r2, r2, 2)
    add(tmua, rf2, r2, sig=thrsw)
    nop()
    nop()
    nop(sig=ldtmu(rf32))
    eidx(r2)
    shl(r2, r2, 2)
    mov(tmud, rf32)
    add(tmua, rf3, r2)
    tmuwt()
    cost(asm)
    program_end(asm)


@qpu
def qpu_barrier(asm):
    tidx(r0, sig=ldunifrf(rf0))
    shr(r2, r0, 2)
    band(r1, r0, 0b11)
    band(r2, r2, 0b1111)
    shr(r1, r1, 1)
    shl(r2, r2, 1)
    add(rf31, r1, r2)
    nop(sig=ldunifrf(rf1))
    load_thread_row(asm, rf31, rf2, rf3)
    eidx(r2)
    shl(r2, r2, 2)
    add(tmua, rf2, r2, sig=thrsw)
    nop()
    nop()
    nop(sig=ldtmu(r0))
    mov(r1, rf31)
    shl(r1, r1, 8)
    L.loop
    sub(r1, r1, 1, cond="pushn")
    b(R.loop, cond="anyna")
    nop()
    nop()
    nop()
    eidx(r2)
    shl(r2, r2, 2)
    mov(tmud, r0)
    add(tmua, rf3, r2)
    tmuwt()
    barrierid(syncb, sig=thrsw)
    add(rf32, rf31, 1)
    band(rf32, rf32, 0b1111)
    load_thread_row(asm, rf32, rf4, rf5)
    eidx(r2)
    shl(r2, r2, 2)
    add(tmua, rf5, r2, sig=thrsw)
    nop()
    nop()
    nop(sig=ldtmu(r0))
    eidx(r2)
    shl(r2, r2, 2)
    mov(tmud, r0)
    add(tmua, rf3, r2)
    tmuwt()
    program_end(asm)


# ---------------------------------------------------------------------------------------------
# examples/sgemm.py (the stored summation.py, scopy.py and memset.py are older than the versions
# the vectors were made from, so they are not ported)


@qpu
def load_params(asm: Assembly, thread: int, regs: list[Register]) -> None:
    if thread == 1:
        bxor(r0, r0, r0, sig=ldunifrf(rf0))
    elif thread == 8:
        tidx(r0, sig=ldunifrf(rf0))
        shr(r0, r0, 2)
        mov(r1, 0b1111)
    else:
        tidx(r0, sig=ldunifrf(rf0))
        shr(r0, r0, 1).mov(r1, 1)
        shl(r1, r1, 5)
        sub(r1, r1, 1)
    band(r3, r0, r1, sig=ldunifrf(rf1))
    shl(r0, rf1, 2)
    umul24(r0, r0, r3)
    eidx(r1).add(r0, r0, rf0)
    shl(r1, r1, 2)
    shl(r3, 4, 4).add(r0, r0, r1)
    n = len(regs)
    mov(tmua, r0, sig=thrsw).add(r0, r0, r3)
    nop()
    nop()
    nop(sig=ldtmu(r1))
    for i in range(n):
        if i % 16 == 0:
            mov(r5rep, r1)
            mov(regs[i], r5)
        elif i % 16 == 15 and i != n - 1:
            mov(tmua, r0, sig=thrsw).add(r0, r0, r3)
            rotate(r5rep, r1, -(i % 16))
            mov(regs[i], r5)
            nop(sig=ldtmu(r1))
        else:
            rotate(r5rep, r1, -(i % 16))
            mov(regs[i], r5)


@qpu
def qpu_sgemm_rnn_naive(asm: Assembly, thread: int) -> None:
    P, Q, R_, A_base, A_stride, B_base, B_stride, C_base, C_stride, alpha, beta = rf[
        32:43
    ]
    A_cur, B_cur, C_cur, i_, j_, k_ = rf[43:49]
    load_params(asm, thread, [P, Q, R_, A_base, A_stride, B_base, B_stride, C_base, C_stride,
                              alpha, beta])  # fmt: skip
    add(r0, P, 15)
    shr(r0, r0, 4)
    shl(r0, r0, 4)
    add(r1, R_, 15)
    shr(r1, r1, 4)
    shl(r1, r1, 6)
    umul24(r3, r0, A_stride)
    add(A_base, A_base, r3)
    add(B_base, B_base, r1)
    umul24(r3, r0, C_stride)
    add(C_base, C_base, r3)
    add(C_base, C_base, r1)
    for i in range(16):
        mov(rf[i], 0.0).mov(rf[i + 16], 0.0)
    add(r0, P, 15)
    shr(i_, r0, 4)
    with loop as li:
        add(r0, R_, 15)
        shr(j_, r0, 4)
        with loop as lj:
            shl(r0, i_, 4)
            umul24(r3, r0, C_stride)
            shl(r1, j_, 6)
            sub(C_cur, C_base, r3)
            sub(C_cur, C_cur, r1)
            umul24(r3, r0, A_stride)
            sub(A_cur, A_base, r3)
            sub(B_cur, B_base, r1)
            mov(k_, Q)
            with loop as lk:
                eidx(r0)
                umul24(r1, r0, A_stride)
                add(r1, r1, A_cur).add(A_cur, A_cur, 4)
                mov(tmua, r1, sig=thrsw)
                shl(r1, r0, 2)
                add(r1, r1, B_cur).add(B_cur, B_cur, B_stride)
                mov(tmua, r1, sig=thrsw)
                nop(sig=ldtmu(r0))
                mov(r5rep, r0)
                nop(sig=ldtmu(r4))
                nop().fmul(r3, r5, r4)
                for i in range(1, 16):
                    rotate(r5rep, r0, -i)
                    fadd(rf[i - 1], rf[i - 1], r3).fmul(r3, r5, r4)
                fadd(rf15, rf15, r3)
                sub(k_, k_, 1, cond="pushz")
                lk.b(cond="anyna")
                nop()
                nop()
                nop()
            eidx(r0)
            shl(r0, r0, 2)
            add(r1, C_cur, r0)
            mov(tmua, r1, sig=thrsw).add(r1, r1, C_stride)
            fmul(rf[0], rf[0], alpha)
            for i in range(1, 16):
                mov(tmua, r1, sig=thrsw).add(r1, r1, C_stride)
                fmul(rf[i], rf[i], alpha, sig=ldtmu(rf[i + 15]))
            mov(r0, beta).fmul(r3, rf[16], beta, sig=ldtmu(rf[31]))
            for i in range(16):
                fadd(rf[i], rf[i], r3).fmul(r3, rf[i + 17], r0)
            eidx(r0)
            shl(r0, r0, 2)
            add(r1, C_cur, r0)
            for i in range(16):
                mov(tmud, rf[i])
                mov(tmua, r1).add(r1, r1, C_stride)
                mov(rf[i], 0.0).mov(rf[i + 16], 0.0)
                tmuwt()
            sub(j_, j_, 1, cond="pushz")
            lj.b(cond="anyna")
            nop()
            nop()
            nop()
        sub(i_, i_, 1, cond="pushz")
        li.b(cond="anyna")
        nop()
        nop()
        nop()
    program_end(asm)


@qpu
def gpu_code(asm, local_size=8):
    """examples/payload.py: store the compute-shader payload (workgroup ids, instance id)."""
    wg_x, wg_y, wg_z, iid = rf4, rf5, rf6, rf7
    x_size, y_size, z_size, base, stride, work_id, ident = rf[8:15]
    neg(rf3, -16)
    shl(rf1, rf0, rf3)
    shr(wg_x, rf1, rf3)
    shr(wg_y, rf0, rf3)
    shl(rf1, rf2, rf3)
    shr(wg_z, rf1, rf3)
    shr(iid, rf2, rf3)
    for reg in (x_size, y_size, z_size, base, stride):
        nop(sig=ldunifrf(reg))
    mov(work_id, wg_z)
    umul24(work_id, work_id, y_size)
    mov(rf0, wg_y)
    add(work_id, work_id, rf0)
    umul24(work_id, work_id, x_size)
    mov(rf0, wg_x)
    add(work_id, work_id, rf0)
    umul24(ident, work_id, x_size)
    umul24(ident, ident, y_size)
    umul24(ident, ident, z_size)
    umul24(rf0, work_id, stride)
    add(base, base, rf0)
    eidx(rf0)
    shl(rf0, rf0, 2)
    add(base, base, rf0)
    mov(rf0, 1)
    shl(rf0, rf0, 6)
    for reg in (wg_x, wg_y, wg_z):
        mov(tmud, reg)
        mov(tmua, base).add(base, base, rf0)
    mov(rf1, iid)
    log2_batch = (max(local_size, 64) - 1).bit_length()  # log2 of the next power of two
    shr(tmud, rf1, 17 - log2_batch - 1)
    mov(tmua, base).add(base, base, rf0)
    tmuwt()
    L.skip
    program_end(asm)


# ---------------------------------------------------------------------------------------------
# The table of ported programs: (vector tag, [(program, args, kwargs), ...])

SIGNALS_PY = "py-videocore6:tests/test_signals.py:"
BRANCH_PY = "py-videocore6:tests/test_branch.py:"
COND_PY = "py-videocore6:tests/test_condition_codes.py:"
TMU_PY = "py-videocore6:tests/test_tmu.py:"
PARALLEL_PY = "py-videocore6:tests/test_parallel.py:"
ALU_PY = "py-videocore6:tests/test_alu.py:"
SFU_PY = "py-videocore6:tests/test_sfu.py:"

PORTED = {
    SIGNALS_PY + "qpu_signal_ldtmu": [(qpu_signal_ldtmu, (), {})],
    SIGNALS_PY + "qpu_full_rotate": [(qpu_full_rotate, (), {})],
    SIGNALS_PY + "qpu_rotate_alias": [(qpu_rotate_alias, (), {})],
    SIGNALS_PY + "qpu_quad_rotate": [(qpu_quad_rotate, (), {})],
    SIGNALS_PY + "qpu_quad_rotate_alias": [(qpu_quad_rotate_alias, (), {})],
    SIGNALS_PY + "qpu_broadcast_alias": [
        (broadcast_program, (dst,), {}) for dst in (r5rep, broadcast)
    ],
    SIGNALS_PY + "qpu_quad_broadcast": [
        (broadcast_program, (dst,), {}) for dst in (r5, quad_broadcast)
    ],
    BRANCH_PY + "qpu_branch_rel_imm": [(qpu_branch_rel_imm, (), {})],
    BRANCH_PY + "qpu_branch_abs_imm": [(qpu_branch_abs_imm, (0xC0000080,), {})],
    BRANCH_PY + "qpu_branch_rel_label": [(qpu_branch_rel_label, (), {})],
    BRANCH_PY + "qpu_branch_abs_reg": [(qpu_branch_abs_reg, (), {})],
    BRANCH_PY + "qpu_branch_link_reg": [
        (qpu_branch_link_reg, (link_set, direct), {})
        for link_set in (False, True)
        for direct in (False, True)
    ],
    BRANCH_PY + "qpu_uniform_branch_rel": [(qpu_uniform_branch, ("rel",), {})],
    BRANCH_PY + "qpu_uniform_branch_abs": [(qpu_uniform_branch, ("abs",), {})],
    BRANCH_PY + "qpu_uniform_branch_reg": [(qpu_uniform_branch, ("reg",), {})],
    COND_PY + "qpu_cond_push_a": [(qpu_cond_push_a, (), {})],
    COND_PY + "qpu_cond_push_b": [(qpu_cond_push_b, (), {})],
    COND_PY + "qpu_cond_update": [(qpu_cond_update, (UPDATE_FLAGS,), {})],
    COND_PY + "qpu_cond_combination": [(qpu_cond_combination, (), {})],
    COND_PY + "qpu_cond_vflx": [
        (qpu_cond_vflx, (["vfla", "vflna", "vflb", "vflnb"],), {})
    ],
    COND_PY + "qpu_cond_flx": [(qpu_cond_flx, (["flapush", "flbpush", "flpop"],), {})],
    "py-videocore6:tests/test_labels.py:qpu_label_with_namespace": [
        (qpu_label_with_namespace, (), {})
    ],
    SFU_PY + "qpu_sfu_regs": [
        (qpu_sfu_regs, (names,), {})
        for names in (["recip", "exp", "sin"], ["rsqrt", "log", "rsqrt2"])
    ],
    SFU_PY + "qpu_sfu_ops": [
        (qpu_sfu_ops, (names,), {})
        for names in (["recip", "exp", "sin"], ["rsqrt", "log", "rsqrt2"])
    ],
    ALU_PY + "qpu_binary_ops": [(qpu_binary_ops, case, {}) for case in binary_cases()],
    ALU_PY + "qpu_unary_ops": [(qpu_unary_ops, case, {}) for case in unary_cases()],
    TMU_PY + "qpu_tmu_write": [(qpu_tmu_write, (), {})],
    TMU_PY + "qpu_tmu_read": [(qpu_tmu_read, (), {})],
    TMU_PY + "qpu_tmu_vec_write": [(qpu_tmu_vec_write, ([4, 3, 2, 1], 3), {})],
    TMU_PY + "qpu_tmu_vec_read": [(qpu_tmu_vec_read, ([4, 3, 2, 1], 1), {})],
    TMU_PY + "qpu_tmu_keeps_memory_consistency": [
        (qpu_tmu_keeps_memory_consistency, (), {})
    ],
    TMU_PY + "qpu_tmu_read_tmu_write_uniform_read": [
        (qpu_tmu_read_tmu_write_uniform_read, (), {})
    ],
    TMU_PY + "qpu_tmu_vec_n_naive_write": [
        (qpu_tmu_vec_n_naive_write, (n,), {}) for n in (4, 3, 2)
    ],
    TMU_PY + "qpu_tmu_vec_n_naive_read": [
        (qpu_tmu_vec_n_naive_read, (n,), {}) for n in (4, 3, 2)
    ],
    TMU_PY + "qpu_tmu_vec_n_contiguous_read": [
        (qpu_tmu_vec_n_contiguous_read, (n,), {}) for n in (4, 3, 2)
    ],
    TMU_PY + "qpu_tmu_vec_n_contiguous_write": [
        (qpu_tmu_vec_n_contiguous_write, (n,), {}) for n in (4, 3, 2)
    ],
    PARALLEL_PY + "qpu_serial": [(qpu_serial, (), {})],
    PARALLEL_PY + "qpu_parallel_16": [(qpu_parallel_16, (), {})],
    PARALLEL_PY + "qpu_barrier": [(qpu_barrier, (), {})],
    "py-videocore6:examples/payload.py:gpu_code": [(gpu_code, (), {})],
    "py-videocore6:examples/sgemm.py:qpu_sgemm_rnn_naive": [
        (qpu_sgemm_rnn_naive, (8,), {})
    ],
}


#: Programs whose stored source is older than the version the vectors were made from: their
#: words must be py-videocore6 words of the file, but the newer version's rows are not expected.
PORTED_OLDER = {
    "py-videocore6:tests/test_unifa.py:qpu_unifa": [(qpu_unifa, (), {})],
}


def _words_of(tag: str) -> set[int]:
    words: set[int] = set()
    for program, args, kwargs in PORTED.get(tag) or PORTED_OLDER[tag]:
        words.update(int(w) for w in assemble(program, *args, **kwargs).words)
    return words


@pytest.mark.parametrize("tag", sorted(PORTED), ids=lambda t: t.split(":")[-1])
def test_ported_program_reproduces_its_rows(tag, vectors):
    emitted = _words_of(tag)
    tagged = {w for w, source in vectors.items() if source == tag}
    assert tagged, f"no vector rows are tagged {tag}"
    missing = tagged - emitted
    assert not missing, f"{len(missing)} rows of {tag} not reproduced: " + ", ".join(
        f"{w:016x}" for w in sorted(missing)[:8]
    )
    _assert_all_known(tag, emitted, vectors)


@pytest.mark.parametrize("tag", sorted(PORTED_OLDER), ids=lambda t: t.split(":")[-1])
def test_older_ported_program_emits_known_words(tag, vectors):
    _assert_all_known(tag, _words_of(tag), vectors)


def _assert_all_known(tag: str, emitted: set[int], vectors: dict[int, str]) -> None:
    known = ("py-videocore6:", "mesa-test:")
    foreign = {w for w in emitted if not vectors.get(w, "").startswith(known)}
    assert not foreign, f"{tag} emits words py-videocore6 never emitted: " + ", ".join(
        f"{w:016x}" for w in sorted(foreign)[:8]
    )


def test_reproduced_row_count(vectors, capsys):
    """How many py-videocore6 rows of the vectors file the ported programs reproduce."""
    pyvc6 = {w: s for w, s in vectors.items() if s.startswith("py-videocore6:")}
    emitted: set[int] = set()
    for tag in (*PORTED, *PORTED_OLDER):
        emitted |= _words_of(tag)
    reproduced = emitted & set(pyvc6)
    with capsys.disabled():
        print(
            f"\nported py-videocore6 programs reproduce {len(reproduced)} of {len(pyvc6)} "
            f"py-videocore6 rows ({len(PORTED) + len(PORTED_OLDER)} of "
            f"{len({s for s in pyvc6.values()})} tagged programs ported)"
        )
    tagged_ported = {w for w, s in pyvc6.items() if s in PORTED}
    assert tagged_ported <= reproduced


def test_program_words_are_a_numpy_uint64_array():
    program = assemble(qpu_branch_rel_label)
    assert program.words.dtype == np.uint64
    assert len(program) == len(program.words) == 28
    assert program.labels == {"foo": 14, "bar": 15, "baz": 16}

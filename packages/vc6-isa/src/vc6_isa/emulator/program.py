"""Decode a program once and lower it to the int64 table the run loop executes.

`lower` turns decoded `vc6_isa.instruction` values into rows (columns in layout.py);
`load_program` reads the words from GPU memory starting at the shader address, decodes
them with `vc6_isa.encoding.decode` and caches the result keyed by the code bytes, so a
program dispatched many times is decoded once. Words that do not decode become `K_INVALID`
rows: running into one is the "ran past the end of the program" hazard.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from .. import encoding
from ..instruction import AluInstruction, AluOp, BranchInstruction, Instruction
from . import hazards as H
from . import layout as L
from .dispatch import add_op_ids, dispatched_ops, mul_op_ids, pure_ops
from .semantics import CARRY_FROM_RESULT, FLOAT_RESULT, UNPACK_NONE

_F32_UNPACK = {name: code for code, name in enumerate(encoding.F32_UNPACKS)}
_F16_UNPACK = {name: code for code, name in enumerate(encoding.F16_UNPACKS)}
_PACK = {name: code for code, name in enumerate(encoding.PACKS)}
_COND = {None: 0, **{name: i + 1 for i, name in enumerate(encoding.CONDITIONS)}}
_PUSH = {name: code for code, name in enumerate(encoding.PUSHES)}
_UPDATE = {name: code for code, name in enumerate(encoding.UPDATES) if name}
_UPDATE[None] = 0
_BCOND = {name: code for code, name in enumerate(encoding.BRANCH_CONDS) if code != 1}
_MSFIGN = {name: code for code, name in enumerate(encoding.BRANCH_MSFIGNS)}
_BDI = {name: code for code, name in enumerate(encoding.BRANCH_DESTS)}

#: Most words decoded per program (a guard against scanning a huge BO).
MAX_WORDS = 1 << 20


@dataclass(frozen=True)
class LoweredProgram:
    """A decoded program: `table` (int64 rows, layout.P_*), the decoded instructions (None
    for words that do not decode) and the raw words, for disassembly in messages."""

    table: np.ndarray
    instructions: tuple[Instruction | None, ...]
    words: np.ndarray


def _lower_alu(row: np.ndarray, alu: AluOp, spec, ids: dict[str, int], base: int) -> None:
    # base is P_AOP for the add ALU, P_MOP for the mul ALU (same column order after it)
    row[base] = ids[alu.op]
    row[base + (L.P_AA - L.P_AOP)] = alu.a if spec.nsrc >= 1 else -1
    row[base + (L.P_AB - L.P_AOP)] = alu.b if spec.nsrc >= 2 else -1
    row[base + (L.P_AW - L.P_AOP)] = alu.waddr if spec.has_dst else -1
    row[base + (L.P_AM - L.P_AOP)] = 1 if alu.magic else 0
    row[base + (L.P_APACK - L.P_AOP)] = _PACK[alu.pack]
    if spec.unpack == "f16":
        au, bu, kind = _F16_UNPACK[alu.a_unpack], 0, 2
    elif spec.unpack == "f32":
        au, bu, kind = _F32_UNPACK[alu.a_unpack], _F32_UNPACK[alu.b_unpack], 1
    else:
        au, bu, kind = 1, 1, 0
    row[base + (L.P_AAU - L.P_AOP)] = au
    row[base + (L.P_ABU - L.P_AOP)] = bu
    row[base + (L.P_AUNPK - L.P_AOP)] = kind
    row[base + (L.P_ACOND - L.P_AOP)] = _COND[alu.cond]
    row[base + (L.P_APF - L.P_AOP)] = _PUSH[alu.pf]
    row[base + (L.P_AUF - L.P_AOP)] = _UPDATE[alu.uf]
    row[base + (L.P_AFLOAT - L.P_AOP)] = 1 if alu.op in FLOAT_RESULT else 0


# Peripheral classes from the table. tmul (10) is not a TMU register on 4.x (Mesa,
# v3d_qpu_magic_waddr_is_tmu); writing it is reported as an unsupported magic write when it runs.
_OTHER_PERIPHERALS = encoding.MAGIC_TLB | encoding.MAGIC_VPM | encoding.MAGIC_TSY | encoding.MAGIC_SFU


def static_hazard(instr: AluInstruction) -> int:
    """The rule an ALU instruction breaks on its own (reference 13.1 rules 1, 2, 5), or 0.

    These depend only on the instruction, so they are checked once at decode time and the run
    loop only reports them (in strict mode) when the instruction executes.
    """
    dests = []
    for alu, ops in ((instr.add, encoding.ADD_OPS), (instr.mul, encoding.MUL_OPS)):
        if ops[alu.op].has_dst:
            dests.append((alu.magic, alu.waddr))
    if instr.sigs & encoding.ADDRESS_SIGNALS:
        dests.append((instr.sig_magic, instr.sig_addr))
    magic = [w for m, w in dests if m]
    n_tmu = sum(w in encoding.MAGIC_TMU for w in magic)
    n_other = sum(w in _OTHER_PERIPHERALS for w in magic)
    # ldtmu counts as a peripheral access on 4.2, but "TMU write + ldtmu" works on hardware
    # (reference 13.1/1 [O], UNCERTAIN): it is only counted against the other units.
    if n_tmu + n_other > 1 or ("ldtmu" in instr.sigs and n_other > 0):
        return H.H_TWO_PERIPHERALS
    n_unif = sum(w in encoding.MAGIC_UNIFORM for w in magic) + len(instr.sigs & encoding.UNIFORM_SIGNALS)
    if n_unif > 1:
        return H.H_TWO_UNIFORMS
    named = [d for d in dests if d != (True, 6)]
    if len(set(named)) != len(named):
        return H.H_SAME_DEST_TWICE
    return 0


#: Magic destinations the fast path hands to the general path's writer
#: (`machine.destinations.write_dest`): the TMU registers of general memory access.
FAST_PERIPHERALS = frozenset(encoding.MAGIC_ADDRESSES[n] for n in ("tmud", "tmua", "tmuau", "tmuc"))

#: Magic destinations of an ALU op on the fast path: r0-r4, the null destination and
#: FAST_PERIPHERALS (r5 as a destination broadcasts: the general path's job).
_FAST_MAGIC_DESTS = frozenset(encoding.MAGIC_ACCUMULATORS - {5}) | {encoding.WADDR_NOP} | FAST_PERIPHERALS

_FAST_SIGNALS = frozenset({"ldunif", "ldunifa", "ldunifrf", "ldunifarf", "ldtmu", "smimm", "rot"})
#: the load signals (`layout.SIG_LOADS`), by name
_LOADS = frozenset(name for name, bit in L.SIGNAL_BITS.items() if bit & L.SIG_LOADS)


def fast_path_shape(instr: AluInstruction) -> bool:
    """True for the common instruction shape the run loop executes on its fast path.

    That is: pure ALU ops (or nop without flags), results to register-file entries,
    accumulators r0-r4, the TMU registers of `FAST_PERIPHERALS` or nothing, no output pack, at most one of ldunif/ldunifa/
    ldunifrf/ldunifarf/ldtmu (writing the rf or r0-r5), rotation of the mul operands (rot),
    and no rule broken by the instruction itself. Everything else (thread switches, branches,
    peripheral writes, r5 broadcast, ...) takes the general path, except a branch met within a
    stretch of fast-path instructions (`machine.issue.fast_branch`); so does a fast-path instruction whose
    state would raise a hazard. Both paths compute the same results and cycles.
    """
    if instr.sigs - _FAST_SIGNALS or len(instr.sigs & _LOADS) > 1 or static_hazard(instr):
        return False
    if instr.sigs & {"ldunifrf", "ldunifarf", "ldtmu"} and instr.sig_magic and instr.sig_addr > 5:
        return False
    pure_add, pure_mul = pure_ops()
    for alu, ops, pure in ((instr.add, encoding.ADD_OPS, pure_add), (instr.mul, encoding.MUL_OPS, pure_mul)):
        if alu.op == "nop":
            if alu.pf is not None or alu.uf is not None or alu.cond is not None:
                return False
            continue
        if alu.op not in pure or _PACK[alu.pack] != 0:
            return False
        if ops[alu.op].has_dst and alu.magic and alu.waddr not in _FAST_MAGIC_DESTS:
            return False
    return True


def fast_kind(instr: AluInstruction, row: np.ndarray) -> int:
    """`layout.FAST_PLAIN`, `FAST_SHAPE` or `FAST_NO` for an ALU instruction whose fast-path
    columns are filled (`fast_columns`).

    Plain: a fast-path shape with no signal but smimm and the loads (`layout.PLAIN_SIGNALS`),
    no condition, no flag push or update, no TMU register written and no f32 input unpack;
    `machine.issue.fast_step` has a copy compiled for these without the checks and effects
    they cannot need (35 of the 39 fast-path rows of sgemm's inner loop).
    """
    if not fast_path_shape(instr):
        return L.FAST_NO
    plain = (
        row[L.P_SIG] & ~L.PLAIN_SIGNALS == 0
        and row[L.P_ACOND] == 0
        and row[L.P_MCOND] == 0
        and row[L.P_APF] == row[L.P_AUF] == row[L.P_MPF] == row[L.P_MUF] == 0
        and L.DST_PERIPHERAL not in (row[L.P_ADST], row[L.P_MDST])
        and not f32_unpacked(row)
    )
    return L.FAST_PLAIN if plain else L.FAST_SHAPE


def f32_unpacked(row: np.ndarray) -> bool:
    """Whether either ALU's op of a lowered row unpacks an f32 input (a unpack or b unpack not
    none). Such rows are not plain: the dispatch copies inlined into the plain copy of
    `machine.issue.fast_step` leave the unpack out (dispatch.INLINED_IN_PLAIN; its tests cost
    ~2.5 ns of a plain fadd+fmul row, docs/emulator-internals.md)."""
    return any(
        row[base + (L.P_AUNPK - L.P_AOP)] == 1
        and (row[base + (L.P_AAU - L.P_AOP)] != UNPACK_NONE or row[base + (L.P_ABU - L.P_AOP)] != UNPACK_NONE)
        for base in (L.P_AOP, L.P_MOP)
    )


def _dest_row(waddr: int, magic: int) -> int:
    """regs row an ALU result (or signal load) lands in on the fast path: rf entries and r0-r5
    (magic 0-5); DST_PERIPHERAL for a magic address of `FAST_PERIPHERALS` (written by
    `machine.destinations.write_dest`); DST_NONE for none."""
    if magic and waddr in FAST_PERIPHERALS:
        return L.DST_PERIPHERAL
    if waddr < 0 or (magic and waddr > 5):
        return L.DST_NONE
    return L.R_ACC + waddr if magic else waddr


def fast_columns(row: np.ndarray) -> None:
    """Fill an ALU row's fast-path columns (P_SRC .. P_SDST) from its lowered columns: the
    operand rows (`layout.operand_row`, the rule the general path applies; the small immediate
    and an operand not read as `layout.R_IMM`), the accumulators they read, whether rf32-rf63
    are touched, and the destination rows."""
    smimm = (row[L.P_SIG] & L.SIG_SMIMM) != 0
    acc_reads, high = 0, False
    for k, col in enumerate((L.P_AA, L.P_AB, L.P_MA, L.P_MB)):
        mux = int(row[col])
        srow = -1 if mux < 0 else L.operand_row(mux, int(row[L.P_RADDR_A]), int(row[L.P_RADDR_B]), smimm)
        row[L.P_SRC + k] = srow if srow >= 0 else L.R_IMM
        if srow >= L.R_ACC:
            acc_reads |= 1 << (srow - L.R_ACC)
        high |= 32 <= srow < L.R_ACC
    row[L.P_ACC_READS] = acc_reads
    sdst = L.DST_NONE  # only a load signal has a destination (machine.issue.fast_step relies on it)
    if row[L.P_SIG] & (L.SIG_LDUNIF | L.SIG_LDUNIFA):
        sdst = L.R_ACC + 5  # r5
    elif row[L.P_SIG] & L.SIG_LOADS:
        sdst = _dest_row(int(row[L.P_SIGADDR]), int(row[L.P_SIGMAGIC]))
    adst = _dest_row(int(row[L.P_AW]), int(row[L.P_AM]))
    mdst = _dest_row(int(row[L.P_MW]), int(row[L.P_MM]))
    # r5 as an ALU destination (broadcast) is never a fast-path shape: no fast-path row to use
    row[L.P_ADST] = L.DST_NONE if adst == L.R_ACC + 5 else adst
    row[L.P_MDST] = L.DST_NONE if mdst == L.R_ACC + 5 else mdst
    row[L.P_SDST] = sdst
    row[L.P_WACC] = sum(1 << (d - L.R_ACC) for d in (row[L.P_ADST], row[L.P_MDST], sdst) if d >= L.R_ACC)
    row[L.P_HIGH_RF] = 1 if high or any(32 <= d < L.R_ACC for d in (adst, mdst, sdst)) else 0


def _cache_aligned_table(rows: int) -> np.ndarray:
    """A zeroed int64 (rows, P_NCOLS) table whose rows start on 64-byte cache lines, so the fast
    path's columns of a row (layout: the first 32) span four lines."""
    raw = np.zeros(rows * L.P_NCOLS + 8, np.int64)
    skip = (-raw.ctypes.data // 8) % 8
    return raw[skip : skip + rows * L.P_NCOLS].reshape(rows, L.P_NCOLS)


def lower(instructions: list[Instruction | None]) -> np.ndarray:
    """The run loop's table for a list of decoded instructions (None: undecodable word)."""
    add_ids, mul_ids = add_op_ids(), mul_op_ids()
    dispatched = dispatched_ops()
    table = _cache_aligned_table(len(instructions))
    for i, instr in enumerate(instructions):
        row = table[i]
        if instr is None:
            row[L.P_KIND] = L.K_INVALID
        elif isinstance(instr, BranchInstruction):
            row[L.P_KIND] = L.K_BRANCH
            row[L.P_BCOND] = _BCOND[instr.cond]
            row[L.P_MSFIGN] = _MSFIGN[instr.msfign]
            row[L.P_BDI] = _BDI[instr.bdi]
            row[L.P_UB] = 1 if instr.ub else 0
            row[L.P_BDU] = instr.bdu
            row[L.P_OFFSET] = instr.offset
            row[L.P_RADDR_A] = instr.raddr_a
            row[L.P_LINK] = 1 if instr.link else 0
        else:
            assert isinstance(instr, AluInstruction)
            row[L.P_KIND] = L.K_ALU
            add_spec = encoding.ADD_OPS[instr.add.op]
            mul_spec = encoding.MUL_OPS[instr.mul.op]
            _lower_alu(row, instr.add, add_spec, add_ids, L.P_AOP)
            _lower_alu(row, instr.mul, mul_spec, mul_ids, L.P_MOP)
            sig = 0
            for name in instr.sigs:
                sig |= L.SIGNAL_BITS[name]
            row[L.P_SIG] = sig
            row[L.P_SIGADDR] = instr.sig_addr
            row[L.P_SIGMAGIC] = 1 if instr.sig_magic else 0
            row[L.P_RADDR_A] = instr.raddr_a
            row[L.P_RADDR_B] = instr.raddr_b
            if "smimm" in instr.sigs and instr.raddr_b < len(encoding.SMALL_IMMEDIATES):
                row[L.P_IMM] = encoding.SMALL_IMMEDIATES[instr.raddr_b]
            # the dispatch leaves these ops' carry to the flag update (effects.update_flags)
            row[L.P_ACARRY] = 1 if instr.add.op in CARRY_FROM_RESULT and instr.add.op in dispatched[0] else 0
            row[L.P_MCARRY] = 1 if instr.mul.op in CARRY_FROM_RESULT and instr.mul.op in dispatched[1] else 0
            row[L.P_USEFUL] = (instr.add.op != "nop") + (instr.mul.op != "nop")
            row[L.P_ANSRC] = add_spec.nsrc
            row[L.P_MNSRC] = mul_spec.nsrc
            row[L.P_STATIC] = static_hazard(instr)
            fast_columns(row)
            row[L.P_FAST] = fast_kind(instr, row)
    return table


def decode_words(words: np.ndarray) -> LoweredProgram:
    """Decode and lower raw instruction words (undecodable words become invalid rows)."""
    instructions: list[Instruction | None] = []
    for w in words.tolist():
        try:
            instructions.append(encoding.decode(int(w)))
        except Exception:  # noqa: BLE001 - DecodeError, or any word the table cannot take
            instructions.append(None)
    # Trailing undecodable words (page padding after the program) collapse into one.
    while len(instructions) > 1 and instructions[-1] is None and instructions[-2] is None:
        instructions.pop()
    words = words[: len(instructions)]
    return LoweredProgram(lower(instructions), tuple(instructions), words)


_CACHE: OrderedDict[bytes, LoweredProgram] = OrderedDict()
_CACHE_SIZE = 32


def _program_extent(raw: np.ndarray) -> int:
    """Number of words up to and including the first run of two zero words (page padding),
    so a program at the start of a large BO is not decoded to the BO's end."""
    words = raw.view("<u8")
    zero = np.flatnonzero(words == 0)
    for k in zero:
        if k + 1 < len(words) and words[k + 1] == 0:
            return int(k) + 1
    return len(words)


def load_program(region: np.ndarray, offset: int) -> LoweredProgram:
    """Decode the program starting `offset` bytes into a BO's uint8 array (cached)."""
    raw = region[offset : offset + 8 * MAX_WORDS]
    raw = raw[: len(raw) - len(raw) % 8]
    raw = raw[: 8 * _program_extent(raw)]
    key = hashlib.blake2b(raw.tobytes(), digest_size=20).digest()
    hit = _CACHE.get(key)
    if hit is not None:
        _CACHE.move_to_end(key)
        return hit
    prog = decode_words(raw.view("<u8").copy())
    _CACHE[key] = prog
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return prog

"""The V3D 4.1/4.2 QPU instruction set as data, and the encoder/decoder derived from it.

Everything the rest of vc6_isa knows about instruction words is written once in this module:
the add- and mul-ALU opcode tables, the signal table, the condition/flag field, the small
immediates, the magic write addresses and the branch fields. As in Mesa's `qpu_pack.c`, one
table serves both directions: the decoder finds the first row matching a word, the encoder
starts from a row and fills in operands and modifiers. The disassembler, text assembler, DSL
and emulator read these tables; nobody else keeps a list of ops.

Bit layout of an ALU word (Mesa `qpu_pack.c`):

```text
63:58 op_mul  57:53 sig  52:46 cond  45 mm  44 ma  43:38 waddr_m  37:32 waddr_a
31:24 op_add  23:21 mul_b  20:18 mul_a  17:15 add_b  14:12 add_a  11:6 raddr_a  5:0 raddr_b
```

`op_mul == 0` marks a branch (sig bits 4:3 = 0b10) or an invalid word.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType

from .errors import DecodeError, EncodeError
from .instruction import AluInstruction, AluOp, BranchInstruction, Instruction

__all__ = [
    "ADDRESS_SIGNALS",
    "ADD_OPS",
    "BRANCH_CONDS",
    "BRANCH_DESTS",
    "BRANCH_MSFIGNS",
    "BRANCH_UDESTS",
    "CONDITIONS",
    "F16_UNPACKS",
    "F32_UNPACKS",
    "FLAG_CODES",
    "LINK_BIT",
    "MAGIC_ACCUMULATORS",
    "MAGIC_ADDRESSES",
    "MAGIC_NAMES",
    "MAGIC_SFU",
    "MAGIC_TLB",
    "MAGIC_TMU",
    "MAGIC_TMU_TERMINATORS",
    "MAGIC_TSY",
    "MAGIC_UNIFORM",
    "MAGIC_VPM",
    "MUL_OPS",
    "MUX_A",
    "MUX_B",
    "OPS_BY_ALU",
    "PACKS",
    "PRINTED_SIGNALS",
    "PUSHES",
    "SIGNAL_CODES",
    "SIGNAL_SETS",
    "SMALL_IMMEDIATES",
    "SMALL_IMMEDIATE_INDEX",
    "UNIFA_SIGNALS",
    "UNIFORM_SIGNALS",
    "UPDATES",
    "WADDR_NOP",
    "WADDR_R5REP",
    "WADDR_UNIFA",
    "DecodeError",
    "EncodeError",
    "OpSpec",
    "decode",
    "encode",
]  # fmt: skip

# ---------------------------------------------------------------------------------------------
# Modifier and flag codes
# ---------------------------------------------------------------------------------------------

#: f32 input unpack code -> Mesa suffix. The code for "no unpack" is 1, not 0.
F32_UNPACKS: tuple[str | None, ...] = ("abs", None, "l", "h")
#: f16-pair input unpack code -> suffix (codes 5-7 do not exist).
F16_UNPACKS: tuple[str | None, ...] = (None, "ff", "ll", "hh", "swp")
#: f32 output pack code -> suffix (code 3 does not exist).
PACKS: tuple[str | None, ...] = (None, "l", "h")
#: Condition code (2 bits) -> name.
CONDITIONS: tuple[str, ...] = ("ifa", "ifb", "ifna", "ifnb")
#: Flag push code (2 bits) -> name; 0 is "no push".
PUSHES: tuple[str | None, ...] = (None, "pushz", "pushn", "pushc")
#: Flag update code (4 bits) -> name; codes 0-3 are not updates.
UPDATES: tuple[str | None, ...] = (
    None, None, None, None, "andz", "andnz", "nornz", "norz",
    "andn", "andnn", "nornn", "norn", "andc", "andnc", "nornc", "norc",
)  # fmt: skip

_F32_UNPACK_CODE = {name: code for code, name in enumerate(F32_UNPACKS)}
_F16_UNPACK_CODE = {name: code for code, name in enumerate(F16_UNPACKS)}
_PACK_CODE = {name: code for code, name in enumerate(PACKS)}

#: Operand mux values that read the register file instead of an accumulator.
MUX_A = 6  # rf[raddr_a]
MUX_B = 7  # rf[raddr_b], or the small immediate when the instruction has ``smimm``

# ---------------------------------------------------------------------------------------------
# The op tables
# ---------------------------------------------------------------------------------------------

_ANY = tuple(range(8))


@dataclass(frozen=True, slots=True)
class OpSpec:
    """One add- or mul-ALU operation: how it is encoded and what it reads and writes.

    `opcodes` is the inclusive range of the opcode field. `mux_a`/`mux_b` are the mux values
    the row accepts: for operands all eight, for a mux used as an opcode extension the selector
    values (the encoder writes the lowest). `layout` says where the modifiers live:

    * `fbin`  (fadd faddnf fsub fmin fmax fcmp): opcode[5:4] output pack, [3:2] a unpack,
      [1:0] b unpack (f32 codes);
    * `vfpack`: opcode[3:2]/[1:0] a/b unpack, `abs` not encodable (those codes are other ops);
    * `fround` (fround ftrunc ffloor fceil fdx fdy): output pack in mux_b[1:0], a unpack in
      opcode[3:2] (opcodes +4 and +8 replicate the row for `.l` and `.h`);
    * `ftoi` (ftoin ftoiz ftouz ftoc): a unpack in opcode[3:2] as fround, no pack;
    * `vf16` (vfmin vfmax): opcode[2:0] is the f16 unpack of a;
    * `fmul`: opcode[5:4] = pack + 1, [3:2]/[1:0] a/b unpack;
    * `fmov`: opcode bit 0 and mux_b[2] hold the pack, mux_b[1:0] the a unpack;
    * `vfmul`: opcode - 4 is the f16 unpack of a;
    * `None`: no modifiers.

    `order` is `"low"`/`"high"` for the pairs told apart by operand order (fadd/faddnf,
    fmin/fmax, Section 3.2 of the reference); `waddr_selector` the waddr_a value that selects a
    stvpm* op; `ma` the value of the `ma` bit that selects an ldvpm*_in/_out variant (such ops
    only write the register file); `sfu` the magic address whose SFU function the op runs.
    `meaning` says in one line what the op computes (the docs' instruction reference prints it).
    """

    name: str
    alu: str
    opcodes: tuple[int, int]
    mux_b: tuple[int, ...]
    mux_a: tuple[int, ...]
    nsrc: int
    has_dst: bool
    layout: str | None = None
    order: str | None = None
    waddr_selector: int | None = None
    ma: int | None = None
    sfu: int | None = None
    meaning: str = ""  # what the op computes, one line (published in the instruction reference)

    # Derived from ``layout`` once (the encoder checks them for every instruction):
    pack: bool = field(init=False)  # takes an f32 output pack (.l/.h)
    unpack: str | None = field(
        init=False
    )  # input-unpack kind of a (and b): f32, f16 or None
    b_unpack: bool = field(init=False)  # operand b takes an input unpack too
    a_unpacks: frozenset = field(
        init=False
    )  # unpack suffixes operand a accepts (None = none)
    b_unpacks: frozenset = field(init=False)  # unpack suffixes operand b accepts

    def __post_init__(self) -> None:
        layout = self.layout
        f16 = layout in ("vf16", "vfmul")
        no_abs = frozenset((None, "l", "h"))
        if f16:
            a_unpacks = frozenset(F16_UNPACKS)
        elif layout in ("vfpack", "fround", "ftoi"):
            a_unpacks = no_abs
        elif layout is None:
            a_unpacks = frozenset((None,))
        else:
            a_unpacks = frozenset(F32_UNPACKS)
        if layout == "vfpack":
            b_unpacks = no_abs
        elif layout in ("fbin", "fmul"):
            b_unpacks = frozenset(F32_UNPACKS)
        else:
            b_unpacks = frozenset((None,))
        derived = {
            "pack": layout in ("fbin", "fround", "fmul", "fmov"),
            "unpack": "f16" if f16 else None if layout is None else "f32",
            "b_unpack": layout in ("fbin", "vfpack", "fmul"),
            "a_unpacks": a_unpacks,
            "b_unpacks": b_unpacks,
        }
        for name, value in derived.items():
            object.__setattr__(self, name, value)


def _add(
    name, first, last=None, mux_b=_ANY, mux_a=_ANY, nsrc=2, dst=True, **kw
) -> OpSpec:
    last = first if last is None else last
    return OpSpec(
        name, "add", (first, last), tuple(mux_b), tuple(mux_a), nsrc, dst, **kw
    )


def _mul(
    name, first, last=None, mux_b=_ANY, mux_a=_ANY, nsrc=2, dst=True, **kw
) -> OpSpec:
    last = first if last is None else last
    return OpSpec(
        name, "mul", (first, last), tuple(mux_b), tuple(mux_a), nsrc, dst, **kw
    )


def _r(lo: int, hi: int) -> tuple[int, ...]:
    return tuple(range(lo, hi + 1))


# The add-ALU table, in Mesa's row order: the decoder takes the first matching row, which
# decides two overlaps (op 187 mux_b 2 mux_a 2 is ``vdwwt`` rather than ``iid``; op 187 mux_b 3
# mux_a 0 is ``flnafirst`` rather than ``vpmsetup``). Opcodes 48-52, 112-119 and 190-191 have no
# row on V3D 4.2 and do not decode.
_ADD_ROWS: tuple[OpSpec, ...] = (
    _add("fadd", 0, 47, layout="fbin", order="low", meaning="a + b (f32)"),
    _add("faddnf", 0, 47, layout="fbin", order="high", meaning="a + b (f32); same result as fadd for ordinary inputs, differs only on special values"),
    _add("vfpack", 53, 55, layout="vfpack", meaning="two f16 in one word: low half = f16(a), high half = f16(b)"),
    _add("add", 56, meaning="a + b, 32-bit wrap-around; C = carry out of bit 31"),
    _add("vfpack", 57, 59, layout="vfpack"),
    _add("sub", 60, meaning="a - b, 32-bit wrap-around; C = borrow (a < b unsigned)"),
    _add("vfpack", 61, 63, layout="vfpack"),
    _add("fsub", 64, 111, layout="fbin", meaning="a - b (f32)"),
    _add("min", 120, meaning="signed minimum; C = a > b (signed)"),
    _add("max", 121, meaning="signed maximum"),
    _add("umin", 122, meaning="unsigned minimum"),
    _add("umax", 123, meaning="unsigned maximum"),
    _add("shl", 124, meaning="a << (b & 31)"),
    _add("shr", 125, meaning="a >> (b & 31), logical"),
    _add("asr", 126, meaning="a >> (b & 31), arithmetic (sign-filling)"),
    _add("ror", 127, meaning="a rotated right by (b & 31) bits"),
    _add("fmin", 128, 175, layout="fbin", order="low", meaning="minimum of a and b (f32)"),
    _add("fmax", 128, 175, layout="fbin", order="high", meaning="maximum of a and b (f32)"),
    _add("vfmin", 176, 180, layout="vf16", meaning="per f16 half: min(a, b)"),
    _add("and", 181, meaning="a & b"),
    _add("or", 182, meaning="a | b"),
    _add("xor", 183, meaning="a ^ b"),
    _add("vadd", 184, meaning="per 16-bit half integer add (not used by Mesa or py-videocore6)"),
    _add("vsub", 185, meaning="per 16-bit half integer subtract (not used by Mesa or py-videocore6)"),
    _add("not", 186, mux_b=(0,), nsrc=1, meaning="~a"),
    _add("neg", 186, mux_b=(1,), nsrc=1, meaning="-a, 32-bit wrap-around"),
    _add("flapush", 186, mux_b=(2,), nsrc=1, meaning="(a << 2) | (3 if flag A else 0): saves flag A into a word"),
    _add("flbpush", 186, mux_b=(3,), nsrc=1, meaning="(a << 2) | (3 if flag B else 0): saves flag B into a word"),
    _add("flpop", 186, mux_b=(4,), nsrc=1, meaning="a >> 2 (logical): drops the last saved flag"),
    _add("recip", 186, mux_b=(5,), nsrc=1, sfu=19, meaning="SFU: 1 / a"),
    _add("setmsf", 186, mux_b=(6,), nsrc=1, meaning="sets the lane's multisample flags to a (fragment shaders)"),
    _add("setrevf", 186, mux_b=(7,), nsrc=1, meaning="sets the reverse-face flag to a (fragment shaders)"),
    _add("nop", 187, mux_b=(0,), mux_a=(0,), nsrc=0, dst=False, meaning="no operation"),
    _add("tidx", 187, mux_b=(0,), mux_a=(1,), nsrc=0, meaning="(core << 6) | (qpu << 2) | thread, the same in every lane"),
    _add("eidx", 187, mux_b=(0,), mux_a=(2,), nsrc=0, meaning="the lane number, 0 to 15"),
    _add("lr", 187, mux_b=(0,), mux_a=(3,), nsrc=0, meaning="the link register: the return address saved by a branch with link"),
    _add("vfla", 187, mux_b=(0,), mux_a=(4,), nsrc=0, meaning="0x00010001 where flag A is set, else 0"),
    _add("vflna", 187, mux_b=(0,), mux_a=(5,), nsrc=0, meaning="0x00010001 where flag A is clear, else 0"),
    _add("vflb", 187, mux_b=(0,), mux_a=(6,), nsrc=0, meaning="0x00010001 where flag B is set, else 0"),
    _add("vflnb", 187, mux_b=(0,), mux_a=(7,), nsrc=0, meaning="0x00010001 where flag B is clear, else 0"),
    # fxcd/fycd: mux_a 0-2 / 4-6 probably carry an output pack (UNCERTAIN); Mesa ignores it.
    _add("fxcd", 187, mux_b=(1,), mux_a=_r(0, 2), nsrc=0, meaning="pixel-centre x as f32 (fragment shaders)"),
    _add("xcd", 187, mux_b=(1,), mux_a=(3,), nsrc=0, meaning="pixel x as an integer (fragment shaders)"),
    _add("fycd", 187, mux_b=(1,), mux_a=_r(4, 6), nsrc=0, meaning="pixel-centre y as f32 (fragment shaders)"),
    _add("ycd", 187, mux_b=(1,), mux_a=(7,), nsrc=0, meaning="pixel y as an integer (fragment shaders)"),
    _add("msf", 187, mux_b=(2,), mux_a=(0,), nsrc=0, meaning="the lane's multisample flags: non-zero where the lane carries an invocation"),
    _add("revf", 187, mux_b=(2,), mux_a=(1,), nsrc=0, meaning="the reverse-face flag (fragment shaders)"),
    # Mesa quirk: the V3D 3.3 name comes first, so the 4.x instance-id op prints as vdwwt.
    _add("vdwwt", 187, mux_b=(2,), mux_a=(2,), nsrc=0, meaning="instance id (vertex shaders); Mesa prints the 4.2 op iid under this older name"),
    _add("iid", 187, mux_b=(2,), mux_a=(2,), nsrc=0, meaning="instance id (vertex shaders); printed as vdwwt"),
    _add("sampid", 187, mux_b=(2,), mux_a=(3,), nsrc=0, meaning="sample index (fragment shaders)"),
    _add("barrierid", 187, mux_b=(2,), mux_a=(4,), nsrc=0, meaning="a barrier id; writing it to syncb waits for the whole workgroup"),
    _add("tmuwt", 187, mux_b=(2,), mux_a=(5,), nsrc=0, meaning="waits until every TMU write of this thread has completed"),
    _add("vpmwt", 187, mux_b=(2,), mux_a=(6,), nsrc=0, meaning="waits until VPM writes have completed (vertex and geometry shaders)"),
    _add("flafirst", 187, mux_b=(2,), mux_a=(7,), nsrc=0, meaning="1 in the lowest lane whose flag A is set, 0 elsewhere"),
    _add("flnafirst", 187, mux_b=(3,), mux_a=(0,), nsrc=0, meaning="1 in the lowest lane whose flag A is clear, 0 elsewhere"),
    # V3D 3.3 op that Mesa still decodes on 4.2; its operand is mux_a.
    _add("vpmsetup", 187, mux_b=(3,), nsrc=1, meaning="VPM set-up of V3D 3.3; no meaning on 4.2"),
    _add("ldvpmv_in", 188, mux_b=(0,), nsrc=1, ma=0, meaning="VPM read, input segment, uniform offset a (vertex and geometry shaders)"),
    _add("ldvpmv_out", 188, mux_b=(0,), nsrc=1, ma=1, meaning="VPM read, output segment, uniform offset a (vertex and geometry shaders)"),
    _add("ldvpmd_in", 188, mux_b=(1,), nsrc=1, ma=0, meaning="VPM read, input segment, per-lane offset a (vertex and geometry shaders)"),
    _add("ldvpmd_out", 188, mux_b=(1,), nsrc=1, ma=1, meaning="VPM read, output segment, per-lane offset a (vertex and geometry shaders)"),
    # ldvpmp has no _out variant: ma is its magic flag, but Mesa refuses a magic destination.
    _add("ldvpmp", 188, mux_b=(2,), nsrc=1, ma=0, meaning="packed VPM read (vertex and geometry shaders)"),
    _add("rsqrt", 188, mux_b=(3,), nsrc=1, sfu=20, meaning="SFU: 1 / sqrt(a)"),
    _add("exp", 188, mux_b=(4,), nsrc=1, sfu=21, meaning="SFU: 2 ** a"),
    _add("log", 188, mux_b=(5,), nsrc=1, sfu=22, meaning="SFU: log2(a)"),
    _add("sin", 188, mux_b=(6,), nsrc=1, sfu=23, meaning="SFU: sin(pi * a), for a in [-0.5, 0.5]"),
    _add("rsqrt2", 188, mux_b=(7,), nsrc=1, sfu=24, meaning="SFU: 1 / sqrt(a), a second variant"),
    _add("ldvpmg_in", 189, ma=0, meaning="VPM read, input segment, at row a and column b"),
    _add("ldvpmg_out", 189, ma=1, meaning="VPM read, output segment, at row a and column b"),
    _add("fcmp", 192, 239, layout="fbin", meaning="a - b (f32), used for its flags: Z a == b, N a < b, C a <= b"),
    _add("vfmax", 240, 244, layout="vf16", meaning="per f16 half: max(a, b)"),
    _add("fround", 245, mux_b=_r(0, 2), nsrc=1, layout="fround", meaning="a rounded to the nearest integral value, ties to even (f32 result)"),
    _add("ftoin", 245, mux_b=(3,), nsrc=1, layout="ftoi", meaning="f32 to int32, rounding to nearest even"),
    _add("ftrunc", 245, mux_b=_r(4, 6), nsrc=1, layout="fround", meaning="a rounded toward zero (f32 result)"),
    _add("ftoiz", 245, mux_b=(7,), nsrc=1, layout="ftoi", meaning="f32 to int32, rounding toward zero"),
    _add("ffloor", 246, mux_b=_r(0, 2), nsrc=1, layout="fround", meaning="a rounded toward minus infinity (f32 result)"),
    _add("ftouz", 246, mux_b=(3,), nsrc=1, layout="ftoi", meaning="f32 to uint32, rounding toward zero; negative inputs give 0"),
    _add("fceil", 246, mux_b=_r(4, 6), nsrc=1, layout="fround", meaning="a rounded toward plus infinity (f32 result)"),
    _add("ftoc", 246, mux_b=(7,), nsrc=1, layout="ftoi", meaning="f32 to a sample-coverage mask (fragment shaders)"),
    _add("fdx", 247, mux_b=_r(0, 2), nsrc=1, layout="fround", meaning="horizontal derivative within a quad: right lane minus left lane"),
    _add("fdy", 247, mux_b=_r(4, 6), nsrc=1, layout="fround", meaning="vertical derivative within a quad: bottom lane minus top lane"),
    # The three stvpm ops share opcode 248; waddr_a selects which, and there is no destination.
    _add("stvpmv", 248, dst=False, waddr_selector=0, meaning="VPM write of b at uniform offset a (vertex and geometry shaders)"),
    _add("stvpmd", 248, dst=False, waddr_selector=1, meaning="VPM write of b at per-lane offset a (vertex and geometry shaders)"),
    _add("stvpmp", 248, dst=False, waddr_selector=2, meaning="packed VPM write (vertex and geometry shaders)"),
    # itof/utof: Mesa <= 24.0 (the generation the golden vectors show) treats mux_b 0-2 / 4-6 as
    # one op and neither prints nor encodes an output pack.
    _add("itof", 252, mux_b=_r(0, 2), nsrc=1, meaning="int32 to f32"),
    _add("clz", 252, mux_b=(3,), nsrc=1, meaning="number of leading zero bits of a (32 for 0)"),
    _add("utof", 252, mux_b=_r(4, 6), nsrc=1, meaning="uint32 to f32"),
)

# The mul-ALU table. Opcode 0 is not a mul op (branch or invalid), 11-13 do not decode.
_MUL_ROWS: tuple[OpSpec, ...] = (
    _mul("add", 1, meaning="a + b, 32-bit wrap-around"),
    _mul("sub", 2, meaning="a - b, 32-bit wrap-around"),
    _mul("umul24", 3, meaning="(a & 0xffffff) * (b & 0xffffff) + the high part left by multop, then clears it"),
    _mul("vfmul", 4, 8, layout="vfmul", meaning="per f16 half: a * b"),
    _mul("smul24", 9, meaning="a * b of the sign-extended low 24 bits, 32-bit wrap-around"),
    _mul("multop", 10, meaning="computes the high part of a 32 x 32-bit product for the next umul24"),
    _mul("fmov", 14, nsrc=1, layout="fmov", meaning="a after its input unpack, then the output pack: abs, f32 <-> f16"),
    _mul("fmov", 15, mux_b=_r(0, 3), nsrc=1, layout="fmov"),
    _mul("nop", 15, mux_b=(4,), mux_a=(0,), nsrc=0, dst=False, meaning="no operation"),
    _mul("mov", 15, mux_b=(7,), nsrc=1, meaning="a, bit for bit"),
    _mul("fmul", 16, 63, layout="fmul", meaning="a * b (f32)"),
)


def _first_rows(rows: tuple[OpSpec, ...]) -> Mapping[str, OpSpec]:
    """Name -> the first row with that name (the row the encoder starts from)."""
    specs: dict[str, OpSpec] = {}
    for row in rows:
        specs.setdefault(row.name, row)
    return MappingProxyType(specs)


#: Add-ALU ops by Mesa name (82 printable on V3D 4.2, plus ``iid`` which prints as ``vdwwt``).
ADD_OPS: Mapping[str, OpSpec] = _first_rows(_ADD_ROWS)
#: Mul-ALU ops by Mesa name.
MUL_OPS: Mapping[str, OpSpec] = _first_rows(_MUL_ROWS)
OPS_BY_ALU: Mapping[str, Mapping[str, OpSpec]] = MappingProxyType(
    {"add": ADD_OPS, "mul": MUL_OPS}
)

_STVPM_BY_WADDR = {
    row.waddr_selector: row for row in _ADD_ROWS if row.waddr_selector is not None
}
_LDVPM_OUT = {
    row.name.replace("_out", "_in"): row
    for row in _ADD_ROWS
    if row.name.endswith("_out")
}

# ---------------------------------------------------------------------------------------------
# Signals
# ---------------------------------------------------------------------------------------------


def _sigs(*names: str) -> frozenset[str]:
    return frozenset(names)


#: sig field -> the signal set it stands for (V3D 4.1/4.2). 26-30 are reserved and absent.
SIGNAL_SETS: Mapping[int, frozenset[str]] = MappingProxyType({
    0: _sigs(),
    1: _sigs("thrsw"),
    2: _sigs("ldunif"),
    3: _sigs("thrsw", "ldunif"),
    4: _sigs("ldtmu"),
    5: _sigs("thrsw", "ldtmu"),
    6: _sigs("ldtmu", "ldunif"),
    7: _sigs("thrsw", "ldtmu", "ldunif"),
    8: _sigs("ldvary"),
    9: _sigs("thrsw", "ldvary"),
    10: _sigs("ldvary", "ldunif"),
    11: _sigs("thrsw", "ldvary", "ldunif"),
    12: _sigs("ldunifrf"),
    13: _sigs("thrsw", "ldunifrf"),
    14: _sigs("smimm", "ldvary"),
    15: _sigs("smimm"),
    16: _sigs("ldtlb"),
    17: _sigs("ldtlbu"),
    18: _sigs("wrtmuc"),
    19: _sigs("thrsw", "wrtmuc"),
    20: _sigs("ldvary", "wrtmuc"),
    21: _sigs("thrsw", "ldvary", "wrtmuc"),
    22: _sigs("ucb"),
    23: _sigs("rot"),
    24: _sigs("ldunifa"),
    25: _sigs("ldunifarf"),
    31: _sigs("smimm", "ldtmu"),
})  # fmt: skip
#: signal set -> sig field (the inverse of :data:`SIGNAL_SETS`).
SIGNAL_CODES: Mapping[frozenset[str], int] = MappingProxyType(
    {sigs: code for code, sigs in SIGNAL_SETS.items()}
)
#: Signals whose destination is stored in the cond field (``sig_addr``/``sig_magic``).
ADDRESS_SIGNALS = frozenset(
    {"ldunifrf", "ldunifarf", "ldtmu", "ldvary", "ldtlb", "ldtlbu"}
)
#: Signals that consume a word of the uniform stream.
UNIFORM_SIGNALS = frozenset({"ldunif", "ldunifrf", "wrtmuc", "ldtlbu"})
#: Signals that consume a word of the unifa stream.
UNIFA_SIGNALS = frozenset({"ldunifa", "ldunifarf"})
#: Signals Mesa prints, in its printing order (``smimm``, ``rot`` and ``ucb`` never print).
PRINTED_SIGNALS: tuple[str, ...] = (
    "thrsw", "ldvary", "ldtmu", "ldtlb", "ldtlbu", "ldunif", "ldunifrf", "ldunifa", "ldunifarf",
    "wrtmuc",
)  # fmt: skip

# ---------------------------------------------------------------------------------------------
# The cond field (flags), Mesa v3d_qpu_flags_unpack
# ---------------------------------------------------------------------------------------------

_NO_FLAGS = (None, None, None, None, None, None)


def _flags_of(c: int) -> tuple | None:
    """Decode a 7-bit cond value into (add cond, add push, add update, mul cond, mul push,
    mul update), or None for the reserved value 0x10."""
    if c == 0:
        return _NO_FLAGS
    if c < 0x04:
        return (None, PUSHES[c], None, None, None, None)
    if c < 0x10:
        return (None, None, UPDATES[c], None, None, None)
    if c == 0x10:
        return None
    if c < 0x14:
        return (None, None, None, None, PUSHES[c & 3], None)
    if c < 0x20:
        return (None, None, None, None, None, UPDATES[c & 15])
    if c < 0x30:
        return (CONDITIONS[(c >> 2) & 3], None, None, None, PUSHES[c & 3], None)
    if c < 0x40:
        return (None, PUSHES[c & 3], None, CONDITIONS[(c >> 2) & 3], None, None)
    mul_cond = CONDITIONS[(c >> 4) & 3]
    if (c >> 2) & 3 == 0:
        return (CONDITIONS[c & 3], None, None, mul_cond, None, None)
    return (None, None, UPDATES[c & 15], mul_cond, None, None)


_FLAGS_BY_CODE: tuple[tuple | None, ...] = tuple(_flags_of(c) for c in range(128))
#: (add cond, add push, add update, mul cond, mul push, mul update) -> 7-bit cond field value.
#: A combination missing here cannot be encoded.
FLAG_CODES: Mapping[tuple, int] = MappingProxyType(
    {flags: code for code, flags in enumerate(_FLAGS_BY_CODE) if flags is not None}
)
assert len(FLAG_CODES) == 127, "the cond field must decode one-to-one"

# ---------------------------------------------------------------------------------------------
# Small immediates and magic write addresses
# ---------------------------------------------------------------------------------------------

#: raddr_b index -> 32-bit pattern when the instruction carries ``smimm``: the integers 0..15,
#: -16..-1 (two's complement) and the f32 powers of two 2^-8 .. 2^7.
SMALL_IMMEDIATES: tuple[int, ...] = (
    *range(16),
    *(v & 0xFFFFFFFF for v in range(-16, 0)),
    *(((127 + e) << 23) for e in range(-8, 8)),
)
assert len(SMALL_IMMEDIATES) == 48
#: 32-bit pattern -> small-immediate index.
SMALL_IMMEDIATE_INDEX: Mapping[int, int] = MappingProxyType(
    {value: index for index, value in enumerate(SMALL_IMMEDIATES)}
)

#: Magic write address -> the name Mesa prints. 25-31 and 47-63 have no name. 44 prints as
#: ``tmuscm`` like 40: a typo in Mesa's table (the register is ``tmuhscm``), copied for fidelity.
MAGIC_NAMES: Mapping[int, str] = MappingProxyType({
    0: "r0", 1: "r1", 2: "r2", 3: "r3", 4: "r4", 5: "r5", 6: "-", 7: "tlb", 8: "tlbu",
    9: "unifa", 10: "tmul", 11: "tmud", 12: "tmua", 13: "tmuau", 14: "vpm", 15: "vpmu",
    16: "sync", 17: "syncu", 18: "syncb", 19: "recip", 20: "rsqrt", 21: "exp", 22: "log",
    23: "sin", 24: "rsqrt2",
    32: "tmuc", 33: "tmus", 34: "tmut", 35: "tmur", 36: "tmui", 37: "tmub", 38: "tmudref",
    39: "tmuoff", 40: "tmuscm", 41: "tmusf", 42: "tmuslod", 43: "tmuhs", 44: "tmuscm",
    45: "tmuhsf", 46: "tmuhslod", 55: "r5rep",
})  # fmt: skip
#: Name -> magic address, for assemblers: the printed names (``tmuscm`` means 40) plus the
#: hardware name ``tmuhscm`` for 44 and ``nop`` for the null destination.
MAGIC_ADDRESSES: Mapping[str, int] = MappingProxyType({
    **{name: addr for addr, name in sorted(MAGIC_NAMES.items(), reverse=True)},
    "tmuhscm": 44, "nop": 6,
})  # fmt: skip

WADDR_NOP = 6
WADDR_UNIFA = 9
WADDR_R5REP = 55
MAGIC_ACCUMULATORS = frozenset(range(6))
#: TMU registers (Mesa v3d_qpu_magic_waddr_is_tmu on 4.x): tmud..tmuau and tmuc..tmuhslod.
MAGIC_TMU = frozenset({11, 12, 13, *range(32, 47)})
#: TMU writes that end a TMU sequence and issue the lookup (Mesa's list; 43-46 UNCERTAIN).
MAGIC_TMU_TERMINATORS = frozenset({12, 13, 33, 40, 41, 42})
#: Legacy SFU registers recip..rsqrt2: writing one puts the result in r4.
MAGIC_SFU = frozenset(range(19, 25))
MAGIC_TSY = frozenset({16, 17, 18})
MAGIC_TLB = frozenset({7, 8})
MAGIC_VPM = frozenset({14, 15})
#: Magic writes that consume a word of the uniform stream (tlbu, tmuau, vpmu, syncu).
MAGIC_UNIFORM = frozenset({8, 13, 15, 17})

# ---------------------------------------------------------------------------------------------
# Branch fields
# ---------------------------------------------------------------------------------------------

#: Branch cond field -> suffix name (None = always). Code 1 is read by Mesa as "always" too
#: (its decoder computes A0 + (1 - 2) = ALWAYS) and re-encoded as 0; the vectors confirm it.
BRANCH_CONDS: tuple[str | None, ...] = (
    None,
    None,
    "a0",
    "na0",
    "alla",
    "anyna",
    "anya",
    "allna",
)
_BRANCH_COND_CODE = {name: code for code, name in enumerate(BRANCH_CONDS) if code != 1}
#: msfign field -> name; 3 is reserved.
BRANCH_MSFIGNS: tuple[str | None, ...] = (None, "p", "q")
_MSFIGN_CODE = {name: code for code, name in enumerate(BRANCH_MSFIGNS)}
#: bdi field -> code-target kind.
BRANCH_DESTS: tuple[str, ...] = ("abs", "rel", "lri", "rf")
_BDI_CODE = {name: code for code, name in enumerate(BRANCH_DESTS)}
#: bdu field -> uniform-target text Mesa prints (4-7 print nothing).
BRANCH_UDESTS: tuple[str, ...] = ("a:unif", "r:unif", "lri", "rf")
#: Bit 23 of a branch: write the link register. Mesa neither decodes nor encodes it; the
#: hardware honours it (py-videocore6 test_branch_link_reg), so this codec keeps it.
LINK_BIT = 1 << 23

# ---------------------------------------------------------------------------------------------
# Decoding
# ---------------------------------------------------------------------------------------------


def _build_lookup(rows: tuple[OpSpec, ...], nops: int) -> list[OpSpec | None]:
    """Index [opcode * 64 + mux_b * 8 + mux_a] -> first matching row (Mesa's search order)."""
    table: list[OpSpec | None] = [None] * (nops * 64)
    for row in rows:
        for op in range(row.opcodes[0], row.opcodes[1] + 1):
            for mux_b in row.mux_b:
                for mux_a in row.mux_a:
                    key = op * 64 + mux_b * 8 + mux_a
                    if table[key] is None:
                        table[key] = row
    # The fround/ftoi rows repeat at +4 (.l input) and +8 (.h input), Mesa's "map_op".
    for op in (249, 250, 251, 253, 254, 255):
        base = 245 + (op - 245) % 4
        table[op * 64 : op * 64 + 64] = table[base * 64 : base * 64 + 64]
    return table


_ADD_LOOKUP = _build_lookup(_ADD_ROWS, 256)
_MUL_LOOKUP = _build_lookup(_MUL_ROWS, 64)
_ORDER_PARTNER = {
    row.name: other.name
    for row in _ADD_ROWS
    for other in _ADD_ROWS
    if row.order == "low" and other.order == "high" and row.opcodes == other.opcodes
}


def _decode_add(word: int, flags: tuple) -> AluOp:
    op = (word >> 24) & 0xFF
    mux_a = (word >> 12) & 7
    mux_b = (word >> 15) & 7
    waddr = (word >> 32) & 0x3F
    ma = (word >> 44) & 1
    spec = _ADD_LOOKUP[op * 64 + mux_b * 8 + mux_a]
    if spec is None:
        raise DecodeError(
            f"add opcode {op} with mux_a {mux_a}, mux_b {mux_b} is not an op", word
        )
    name = spec.name
    layout = spec.layout
    pack = a_unpack = b_unpack = None
    if layout == "fbin":
        # Operand-order rule: a "greater" first operand selects faddnf / fmax.
        if spec.order == "low" and ((op >> 2) & 3) * 8 + mux_a > (op & 3) * 8 + mux_b:
            name = _ORDER_PARTNER[name]
        pack = PACKS[(op >> 4) & 3]
        a_unpack = F32_UNPACKS[(op >> 2) & 3]
        b_unpack = F32_UNPACKS[op & 3]
    elif layout == "vfpack":
        a_unpack = F32_UNPACKS[(op >> 2) & 3]
        b_unpack = F32_UNPACKS[op & 3]
    elif layout == "fround":
        pack = PACKS[mux_b & 3]
        a_unpack = F32_UNPACKS[(op >> 2) & 3]
    elif layout == "ftoi":
        a_unpack = F32_UNPACKS[(op >> 2) & 3]
    elif layout == "vf16":
        a_unpack = F16_UNPACKS[op & 7]
    magic = bool(ma)
    if spec.waddr_selector is not None:
        spec = _STVPM_BY_WADDR.get(waddr)
        if spec is None:
            raise DecodeError(
                f"add opcode 248 (stvpm*) with waddr_a {waddr} is not an op", word
            )
        name, magic = spec.name, False
    elif ma and name in _LDVPM_OUT:
        name, magic = _LDVPM_OUT[name].name, False
    nsrc = spec.nsrc
    return AluOp(
        name,
        waddr,
        magic,
        mux_a if nsrc >= 1 else 0,
        mux_b if nsrc >= 2 else 0,
        pack,
        a_unpack,
        b_unpack,
        *flags[:3],
    )


def _decode_mul(word: int, flags: tuple) -> AluOp:
    op = word >> 58
    mux_a = (word >> 18) & 7
    mux_b = (word >> 21) & 7
    spec = _MUL_LOOKUP[op * 64 + mux_b * 8 + mux_a]
    if spec is None:
        raise DecodeError(
            f"mul opcode {op} with mux_a {mux_a}, mux_b {mux_b} is not an op", word
        )
    layout = spec.layout
    pack = a_unpack = b_unpack = None
    if layout == "fmul":
        pack = PACKS[((op >> 4) & 3) - 1]
        a_unpack = F32_UNPACKS[(op >> 2) & 3]
        b_unpack = F32_UNPACKS[op & 3]
    elif layout == "fmov":
        pack = PACKS[((op & 1) << 1) | ((mux_b >> 2) & 1)]
        a_unpack = F32_UNPACKS[mux_b & 3]
    elif layout == "vfmul":
        a_unpack = F16_UNPACKS[op - 4]
    nsrc = spec.nsrc
    return AluOp(
        spec.name,
        (word >> 38) & 0x3F,
        bool((word >> 45) & 1),
        mux_a if nsrc >= 1 else 0,
        mux_b if nsrc >= 2 else 0,
        pack,
        a_unpack,
        b_unpack,
        *flags[3:],
    )


def _decode_branch(word: int) -> BranchInstruction:
    cond = (word >> 32) & 7
    msfign = (word >> 21) & 3
    if msfign == 3:
        raise DecodeError("branch msfign 3 is reserved", word)
    bdi = BRANCH_DESTS[(word >> 12) & 3]
    ub = bool((word >> 14) & 1)
    bdu = (word >> 15) & 7 if ub else 0
    offset = 0
    if bdi in ("abs", "rel"):
        offset = (
            (((word >> 35) & 0x1FFFFF) << 3) + (((word >> 24) & 0xFF) << 24)
        ) & 0xFFFFFFFF
        if bdi == "rel" and offset & 0x80000000:
            offset -= 1 << 32
    reads_rf = bdi == "rf" or (ub and bdu == 3)
    return BranchInstruction(
        cond=BRANCH_CONDS[cond],
        msfign=BRANCH_MSFIGNS[msfign],
        bdi=bdi,
        ub=ub,
        bdu=bdu,
        offset=offset,
        raddr_a=(word >> 6) & 0x3F if reads_rf else 0,
        link=bool(word & LINK_BIT),
    )


@lru_cache(maxsize=1 << 16)
def decode(word: int) -> Instruction:
    """Decode one 64-bit instruction word as Mesa does for V3D 4.2.

    Fields Mesa ignores (operand muxes an op does not read, branch fields its target kind does
    not use) are set to zero, so two words that differ only there decode to equal values.

    Args:
        word: The instruction word, 0 to 2**64 - 1.

    Returns:
        An `AluInstruction` or a `BranchInstruction`.

    Raises:
        DecodeError: Mesa rejects the word, or an operand reads a small immediate with index
            48-63 (Mesa accepts those, but they have no defined value).
    """
    word = int(word)
    if not 0 <= word < 1 << 64:
        raise DecodeError(f"{word} is not a 64-bit unsigned value")
    if word >> 58 == 0:
        if (word >> 56) & 3 == 2:
            return _decode_branch(word)
        raise DecodeError("mul opcode 0 without the branch signal pattern", word)
    sig = (word >> 53) & 31
    sigs = SIGNAL_SETS.get(sig)
    if sigs is None:
        raise DecodeError(f"signal code {sig} is reserved on V3D 4.2", word)
    cond = (word >> 46) & 0x7F
    sig_addr, sig_magic = 0, False
    if sigs & ADDRESS_SIGNALS:
        sig_addr, sig_magic = cond & 0x3F, bool(cond & 0x40)
        flags = _NO_FLAGS
    else:
        flags = _FLAGS_BY_CODE[cond]
        if flags is None:
            raise DecodeError("cond field 0x10 is reserved", word)
    add = _decode_add(word, flags)
    mul = _decode_mul(word, flags)
    instr = AluInstruction(
        add, mul, sigs, sig_addr, sig_magic, (word >> 6) & 0x3F, word & 0x3F
    )
    if _reads_undefined_immediate(instr):
        raise DecodeError(
            f"small immediate index {instr.raddr_b} is undefined (0-47 exist)", word
        )
    return instr


def _reads_undefined_immediate(instr: AluInstruction) -> bool:
    """True when an operand reads a small immediate with no defined value (index 48-63)."""
    return (
        "smimm" in instr.sigs
        and instr.raddr_b >= 48
        and (
            _reads_mux(instr.add, ADD_OPS, MUX_B)
            or _reads_mux(instr.mul, MUL_OPS, MUX_B)
        )
    )


def _reads_mux(alu: AluOp, ops: Mapping[str, OpSpec], mux: int) -> bool:
    nsrc = ops[alu.op].nsrc
    return (nsrc >= 1 and alu.a == mux) or (nsrc >= 2 and alu.b == mux)


# ---------------------------------------------------------------------------------------------
# Encoding
# ---------------------------------------------------------------------------------------------


def _code(table: Mapping, value, what: str, op: str) -> int:
    try:
        return table[value]
    except KeyError:
        allowed = ", ".join(f".{v}" if v else "none" for v in table)
        raise EncodeError(
            f"{op}: {what} {value!r} is not allowed (allowed: {allowed})"
        ) from None


def _check_modifiers(alu: AluOp, spec: OpSpec) -> None:
    if alu.pack is not None and not spec.pack:
        raise EncodeError(
            f"{spec.alu} op {spec.name} takes no output pack (got .{alu.pack})"
        )
    if alu.a_unpack not in spec.a_unpacks:
        raise EncodeError(
            f"{spec.alu} op {spec.name}: operand a cannot take unpack .{alu.a_unpack}"
            f" (allowed: {_names(spec.a_unpacks)})"
        )
    if alu.b_unpack not in spec.b_unpacks:
        raise EncodeError(
            f"{spec.alu} op {spec.name}: operand b cannot take unpack .{alu.b_unpack}"
            f" (allowed: {_names(spec.b_unpacks)})"
        )


def _names(values) -> str:
    return ", ".join(sorted(f".{v}" if v else "none" for v in values))


def _check_field(value: int, limit: int, what: str) -> None:
    if not (isinstance(value, int) and 0 <= value < limit):
        raise EncodeError(f"{what} must be an integer in 0..{limit - 1}, got {value!r}")


def _spec_and_muxes(alu: AluOp, which: str) -> tuple[OpSpec, int, int]:
    """Look up an ALU half's op and give its mux fields: operand muxes, or the op's selector
    values where a mux is an opcode extension (0/1-operand ops), all range-checked."""
    ops, other_ops, other = (ADD_OPS, MUL_OPS, "mul") if which == "add" else (MUL_OPS, ADD_OPS, "add")
    spec = ops.get(alu.op)
    if spec is None:
        raise EncodeError(_unknown_op(alu.op, which, other_ops, other))
    if alu.op != "nop":
        _check_modifiers(alu, spec)
    mux_a = alu.a if spec.nsrc >= 1 else spec.mux_a[0]
    mux_b = alu.b if spec.nsrc >= 2 else spec.mux_b[0]
    _check_field(mux_a, 8, f"{which} {alu.op} operand a mux")
    _check_field(mux_b, 8, f"{which} {alu.op} operand b mux")
    _check_field(alu.waddr, 64, f"{which} {alu.op} waddr")
    return spec, mux_a, mux_b


def _encode_add(alu: AluOp) -> int:
    """Bits of the add half: op_add, add_a, add_b, waddr_a and ma."""
    spec, mux_a, mux_b = _spec_and_muxes(alu, "add")
    opcode = spec.opcodes[0]
    waddr, ma = alu.waddr, int(bool(alu.magic))
    layout = spec.layout
    if layout == "fbin":
        a_code = _F32_UNPACK_CODE[alu.a_unpack]
        b_code = _F32_UNPACK_CODE[alu.b_unpack]
        if spec.order is not None:
            a_key, b_key = a_code * 8 + mux_a, b_code * 8 + mux_b
            if a_key == b_key and spec.order == "high":
                partner = next(p for p, q in _ORDER_PARTNER.items() if q == alu.op)
                raise EncodeError(
                    f"add {alu.op} with identical operands (same mux and unpack) is not"
                    f" encodable: operand order is what tells {alu.op} from {partner};"
                    f" write {partner} instead"
                )
            if (a_key > b_key) != (spec.order == "high"):
                a_code, b_code, mux_a, mux_b = b_code, a_code, mux_b, mux_a
        opcode |= (_PACK_CODE[alu.pack] << 4) | (a_code << 2) | b_code
    elif layout == "vfpack":
        opcode = (opcode & ~0xF) | (_F32_UNPACK_CODE[alu.a_unpack] << 2)
        opcode |= _F32_UNPACK_CODE[alu.b_unpack]
    elif layout == "fround":
        mux_b |= _PACK_CODE[alu.pack]
        opcode = (opcode & ~0xC) | (_F32_UNPACK_CODE[alu.a_unpack] << 2)
    elif layout == "ftoi":
        # Replace bits 3:2 (Mesa ORs them in, which turns .l into .h: a Mesa packer bug).
        opcode = (opcode & ~0xC) | (_F32_UNPACK_CODE[alu.a_unpack] << 2)
    elif layout == "vf16":
        opcode |= _F16_UNPACK_CODE[alu.a_unpack]
    if spec.waddr_selector is not None:
        waddr, ma = spec.waddr_selector, 0
    elif spec.ma is not None:
        if alu.magic:
            raise EncodeError(
                f"add {alu.op} writes only the register file: give it an rfN destination"
                + (
                    " (its ma bit selects the _in/_out variant)"
                    if alu.op != "ldvpmp"
                    else ""
                )
            )
        ma = spec.ma
    return (ma << 44) | (waddr << 32) | (opcode << 24) | (mux_b << 15) | (mux_a << 12)


def _encode_mul(alu: AluOp) -> int:
    """Bits of the mul half: op_mul, mul_a, mul_b, waddr_m and mm."""
    spec, mux_a, mux_b = _spec_and_muxes(alu, "mul")
    opcode = spec.opcodes[0]
    layout = spec.layout
    if layout == "fmul":
        opcode += _PACK_CODE[alu.pack] << 4
        opcode |= (_F32_UNPACK_CODE[alu.a_unpack] << 2) | _F32_UNPACK_CODE[alu.b_unpack]
    elif layout == "fmov":
        pack = _PACK_CODE[alu.pack]
        opcode |= pack >> 1
        mux_b = ((pack & 1) << 2) | _F32_UNPACK_CODE[alu.a_unpack]
    elif layout == "vfmul":
        opcode = 4 + _F16_UNPACK_CODE[alu.a_unpack]
    mm = int(bool(alu.magic))
    return (
        (opcode << 58) | (mm << 45) | (alu.waddr << 38) | (mux_b << 21) | (mux_a << 18)
    )


def _unknown_op(
    name: str, alu: str, other_ops: Mapping[str, OpSpec], other: str
) -> str:
    if name in other_ops:
        article = "an" if other == "add" else "a"
        return f"{name} is {article} {other}-ALU op, it cannot go in the {alu} ALU"
    return f"unknown {alu}-ALU op {name!r} (see vc6_isa.encoding.{alu.upper()}_OPS)"


def _encode_alu(instr: AluInstruction) -> int:
    sig = SIGNAL_CODES.get(instr.sigs)
    if sig is None:
        raise EncodeError(
            f"signals {{{', '.join(sorted(instr.sigs))}}} cannot be combined in one instruction"
            " (see vc6_isa.encoding.SIGNAL_SETS for the sets that exist)"
        )
    add, mul = instr.add, instr.mul
    _check_field(instr.raddr_a, 64, "raddr_a")
    _check_field(instr.raddr_b, 64, "raddr_b")
    flags = (add.cond, add.pf, add.uf, mul.cond, mul.pf, mul.uf)
    if instr.sigs & ADDRESS_SIGNALS:
        if flags != _NO_FLAGS:
            raise EncodeError(
                f"signal {', '.join(sorted(instr.sigs & ADDRESS_SIGNALS))} stores its destination"
                " in the cond field: the instruction cannot also have conditions or flag writes"
            )
        _check_field(instr.sig_addr, 64, "signal destination address")
        cond = (int(bool(instr.sig_magic)) << 6) | instr.sig_addr
    else:
        if instr.sig_addr or instr.sig_magic:
            raise EncodeError(
                "sig_addr/sig_magic given but no signal writes an address"
            )
        cond = FLAG_CODES.get(flags)
        if cond is None:
            raise EncodeError(_flags_problem(add, mul))
    if _reads_undefined_immediate(instr):
        raise EncodeError(
            f"small immediate index {instr.raddr_b} does not exist (0-47)"
        )
    return (
        _encode_mul(mul)
        | (sig << 53)
        | (cond << 46)
        | _encode_add(add)
        | (instr.raddr_a << 6)
        | instr.raddr_b
    )


def _flags_problem(add: AluOp, mul: AluOp) -> str:
    for alu, half in ((add, "add"), (mul, "mul")):
        if alu.cond not in (None, *CONDITIONS):
            return f"{half} condition {alu.cond!r} is unknown (use {', '.join(CONDITIONS)})"
        if alu.pf not in PUSHES:
            return f"{half} flag push {alu.pf!r} is unknown (use {_names(PUSHES)})"
        if alu.uf not in UPDATES:
            return (
                f"{half} flag update {alu.uf!r} is unknown (use {_names(set(UPDATES))})"
            )
    parts = [
        f"{half} .{v}"
        for alu, half in ((add, "add"), (mul, "mul"))
        for v in (alu.cond, alu.pf, alu.uf)
        if v
    ]
    return (
        f"flag combination {' + '.join(parts)} is not encodable: one cond field holds at most"
        " one flag write (push or update) and the conditions of both ALUs, and an ALU cannot have"
        " both a condition and a flag write (mul update + any condition is impossible too)"
    )


def _encode_branch(instr: BranchInstruction) -> int:
    cond = _code(_BRANCH_COND_CODE, instr.cond, "branch condition", "branch")
    msfign = _code(_MSFIGN_CODE, instr.msfign, "msfign", "branch")
    bdi = _code(_BDI_CODE, instr.bdi, "target kind (bdi)", "branch")
    _check_field(instr.bdu, 8, "branch bdu")
    _check_field(instr.raddr_a, 64, "branch raddr_a")
    word = (2 << 56) | (cond << 32) | (msfign << 21) | (bdi << 12)
    if instr.ub:
        word |= (1 << 14) | (instr.bdu << 15)
    if instr.link:
        word |= LINK_BIT
    if instr.bdi in ("abs", "rel"):
        offset = instr.offset
        if not isinstance(offset, int) or not -(1 << 31) <= offset < (1 << 32):
            raise EncodeError(f"branch offset {offset!r} does not fit in 32 bits")
        if offset & 7:
            raise EncodeError(
                f"branch offset {offset} is not a multiple of 8 (instruction size)"
            )
        offset &= 0xFFFFFFFF
        word |= ((offset & 0xFFFFFF) >> 3) << 35 | (offset >> 24) << 24
    if instr.bdi == "rf" or (instr.ub and instr.bdu == 3):
        word |= instr.raddr_a << 6
    return word


@lru_cache(maxsize=1 << 16)
def encode(instr: Instruction) -> int:
    """Encode an instruction into its 64-bit word (the inverse of `decode`).

    Follows Mesa's packer (selector muxes at their lowest allowed value; `fadd`/`faddnf` and
    `fmin`/`fmax` told apart by the order of their operands, which the encoder may swap) except
    where Mesa is wrong: `.l` inputs of `ftoin`/`ftoiz`/`ftouz`/`ftoc` are encoded correctly, and
    `faddnf` with identical operands raises instead of silently becoming `fadd`.

    Args:
        instr: An `AluInstruction` or a `BranchInstruction`.

    Returns:
        The instruction word.

    Raises:
        EncodeError: The instruction cannot be encoded; the message says what and why.
    """
    if isinstance(instr, AluInstruction):
        return _encode_alu(instr)
    if isinstance(instr, BranchInstruction):
        return _encode_branch(instr)
    raise EncodeError(
        f"expected an AluInstruction or BranchInstruction, got {type(instr).__name__}"
    )

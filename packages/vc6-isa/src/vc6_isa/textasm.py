"""Text assembler for Mesa's disassembly syntax.

Reads what `vc6_isa.disassemble` prints, one instruction per line:

```text
loop:                                   # a label (alone or before an instruction)
fadd r1, r1, r5 ; nop ; thrsw           // '#' and '//' start comments
sub.pushz rf2, rf2, 1 ; mov r0, r1
b.na0  loop                             # branch target: label, byte offset or
bu  zero_addr+0x00000100, a:unif        # zero_addr+0x..., lri, rfN
```

An ALU line is `add-op ; mul-op ; signals...`; the mul part may be left out (it is then
`nop`), and a line holding a single mul-only op (`fmul`, `mov` ...) gets an add `nop`.
Register-file operands are given by number; the assembler assigns the two read ports itself
(port B is taken by a small immediate). Op names, modifiers, signals and magic registers come
from the tables in `vc6_isa.encoding`. Errors raise `TextAssembleError` with the line
and column and what was expected there.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from .encoding import (
    ADD_OPS,
    ADDRESS_SIGNALS,
    BRANCH_UDESTS,
    CONDITIONS,
    MAGIC_ADDRESSES,
    MUL_OPS,
    MUX_A,
    MUX_B,
    PRINTED_SIGNALS,
    PUSHES,
    SIGNAL_CODES,
    SMALL_IMMEDIATE_INDEX,
    UPDATES,
    OpSpec,
    encode,
)
from .errors import EncodeError, TextAssembleError
from .instruction import AluInstruction, AluOp, BranchInstruction, Instruction

__all__ = ["TextProgram", "assemble_text", "parse_text"]

_LABEL = re.compile(r"\s*([A-Za-z_.$][\w.$]*)\s*:(?!\S)")
_RF = re.compile(r"rf(\d+)$")
_ACC = re.compile(r"r([0-5])$")
_UNKNOWN_DEST = re.compile(r"waddr UNKNOWN (\d+)$")
_INT = re.compile(r"[-+]?(0[xX][0-9a-fA-F]+|\d+)$")
_BRANCH = re.compile(r"(bu?)(?:\.(a0|na0|alla|anyna|anya|allna))?([pq])?$")
_ABS_TARGET = re.compile(r"zero_addr\+(0[xX][0-9a-fA-F]+|\d+)$")

_CONDS = frozenset(CONDITIONS)
_PUSHES = frozenset(p for p in PUSHES if p)
_UPDATES = frozenset(u for u in UPDATES if u)
_SIGNALS = frozenset(PRINTED_SIGNALS)
_UNPACKS = frozenset({"abs", "l", "h", "ff", "ll", "hh", "swp"})
_UDESTS = {text: code for code, text in enumerate(BRANCH_UDESTS) if text != "rf"}


@dataclass(frozen=True)
class TextProgram:
    """A program assembled from text by `assemble_text`.

    Attributes:
        words: The instruction words (uint64, one per instruction).
        labels: Label name to instruction index.
        instructions: The decoded instruction of every word.
    """

    words: np.ndarray  # uint64, one per instruction
    labels: dict[str, int] = field(default_factory=dict)  # label -> instruction index
    instructions: tuple[Instruction, ...] = ()

    def __len__(self) -> int:
        return len(self.words)

    def __iter__(self) -> Iterator[int]:
        return (int(w) for w in self.words)

    def __getitem__(self, index: int) -> int:
        return int(self.words[index])

    def tolist(self) -> list[int]:
        """The words as Python ints.

        Returns:
            One int per instruction.
        """
        return [int(w) for w in self.words]

    def to_bytes(self) -> bytes:
        """The program as the GPU reads it.

        Returns:
            Raw little-endian 64-bit words.
        """
        return self.words.astype("<u8").tobytes()


def assemble_text(source: str, *, filename: str | None = None) -> TextProgram:
    """Assemble Mesa-syntax text into instruction words.

    `assemble_text(disassemble(words, labels=True))` gives back words with the same text.

    Args:
        source: The program text, one instruction per line; labels end with `:`, comments start
            with `#` or `//`.
        filename: The file name to show in error messages.

    Returns:
        The words, labels and decoded instructions.

    Raises:
        TextAssembleError: The first error, with its line, column and what was expected there.
    """
    instructions, labels = parse_text(source, filename=filename)
    words = np.fromiter(
        (encode(i) for i in instructions), dtype=np.uint64, count=len(instructions)
    )
    return TextProgram(words, labels, tuple(instructions))


def parse_text(
    source: str, *, filename: str | None = None
) -> tuple[list[Instruction], dict]:
    """Parse text into instruction values (checked to be encodable) and the label table."""
    lines = _split_lines(source)
    labels: dict[str, int] = {}
    for line in lines:
        for name, column in line.labels:
            if name in labels:
                raise line.error(f"label {name!r} is defined twice", column, filename)
            if _RF.match(name) or name in ("lri", "zero_addr"):
                raise line.error(
                    f"{name!r} cannot be a label: it names a register", column, filename
                )
            labels[name] = line.index
    instructions = []
    for line in lines:
        if line.body is None:
            continue
        parser = _LineParser(line, labels, filename)
        instr = parser.parse()
        try:
            encode(instr)
        except EncodeError as exc:
            raise line.error(
                f"cannot encode this instruction: {exc}", line.body_column, filename
            )
        instructions.append(instr)
    return instructions, labels


@dataclass
class _Line:
    number: int  # 1-based line number
    text: str  # the full source line
    labels: list[tuple[str, int]]  # (name, 1-based column)
    body: str | None  # the instruction text without labels/comments
    body_column: int  # 1-based column where body starts
    index: int  # index of the instruction this line holds (or of the next one)

    def error(
        self, message: str, column: int | None, filename: str | None
    ) -> TextAssembleError:
        return TextAssembleError(
            message,
            line=self.number,
            column=column,
            source_line=self.text,
            filename=filename,
        )


def _strip_comment(text: str) -> str:
    cut = len(text)
    for marker in ("#", "//"):
        pos = text.find(marker)
        if pos != -1:
            cut = min(cut, pos)
    return text[:cut]


def _split_lines(source: str) -> list[_Line]:
    lines = []
    index = 0
    for number, text in enumerate(source.splitlines(), start=1):
        code = _strip_comment(text).replace("\t", " ")  # one column per tab, as counted
        labels = []
        pos = 0
        while True:
            match = _LABEL.match(code, pos)
            if not match:
                break
            labels.append((match.group(1), match.start(1) + 1))
            pos = match.end()
        rest = code[pos:]
        body = rest.strip() or None
        column = pos + (len(rest) - len(rest.lstrip())) + 1
        lines.append(_Line(number, text, labels, body, column, index))
        if body is not None:
            index += 1
    return lines


@dataclass
class _Operand:
    kind: str  # "acc", "rf" or "imm"
    value: int  # accumulator number, register number or small-immediate index
    unpack: str | None
    column: int
    mux: int = 0  # operand mux, set when read ports are assigned


@dataclass
class _OpText:
    spec: OpSpec
    cond: str | None
    pf: str | None
    uf: str | None
    waddr: int
    magic: bool
    pack: str | None
    sources: list[_Operand]
    column: int


class _LineParser:
    """Parses one instruction line; every error names its column."""

    def __init__(
        self, line: _Line, labels: dict[str, int], filename: str | None
    ) -> None:
        self.line = line
        self.labels = labels
        self.filename = filename

    def fail(self, message: str, column: int) -> TextAssembleError:
        return self.line.error(message, column, self.filename)

    def parse(self) -> Instruction:
        body, col = self.line.body, self.line.body_column
        mnemonic = body.split(None, 1)[0]
        if _BRANCH.match(mnemonic):
            return self.parse_branch(body, col)
        return self.parse_alu(body, col)

    # -- ALU instructions --------------------------------------------------------------------

    def parse_alu(self, body: str, col: int) -> AluInstruction:
        ops: list[_OpText] = []
        sigs: set[str] = set()
        sig_dest: tuple[int, bool] | None = None
        for text, column in _split_with_columns(body, ";", col):
            if not text:
                raise self.fail("empty part between ';' separators", column)
            word = text.split(None, 1)[0].split(".", 1)[0]
            if word in _SIGNALS:
                dest = self.parse_signal(text, column, sigs)
                sig_dest = dest if dest is not None else sig_dest
            elif sigs:
                raise self.fail(
                    f"expected a signal after the signals, got {word!r}", column
                )
            elif len(ops) == 2:
                raise self.fail(
                    f"expected a signal ({', '.join(PRINTED_SIGNALS)}), got {word!r}",
                    column,
                )
            else:
                op = self.parse_op(text, column, first=not ops)
                if ops and ops[0].spec.alu == "mul":
                    raise self.fail(
                        f"{ops[0].spec.name} is a mul-ALU op: put the add op first"
                        f" (e.g. 'nop ; {ops[0].spec.name} ...')",
                        ops[0].column,
                    )
                ops.append(op)
        if not ops:
            raise self.fail("expected an add-ALU op before the signals", col)
        if len(ops) == 1:
            if ops[0].spec.alu == "mul":
                ops.insert(0, self._nop_op(ADD_OPS["nop"], col))
            else:
                ops.append(self._nop_op(MUL_OPS["nop"], col))
        return self.build_alu(ops[0], ops[1], sigs, sig_dest)

    @staticmethod
    def _nop_op(spec: OpSpec, column: int) -> _OpText:
        return _OpText(spec, None, None, None, 6, True, None, [], column)

    def parse_signal(
        self, text: str, column: int, sigs: set[str]
    ) -> tuple[int, bool] | None:
        if " " in text.strip():
            raise self.fail(f"a signal takes no operands: {text.strip()!r}", column)
        name, _, dest = text.strip().partition(".")
        if name in sigs:
            raise self.fail(f"signal {name} given twice", column)
        sigs.add(name)
        if name not in ADDRESS_SIGNALS:
            if dest:
                raise self.fail(
                    f"signal {name} takes no destination", column + len(name)
                )
            return None
        if not dest:
            raise self.fail(
                f"signal {name} needs a destination, e.g. {name}.rf3 or {name}.r4",
                column,
            )
        dest_column = column + len(name) + 1
        if dest.startswith("UNKNOWN") and dest[7:].isdigit():
            return self._waddr(int(dest[7:]), dest_column), True
        return self.parse_register_dest(dest, dest_column)

    def parse_op(self, text: str, column: int, first: bool) -> _OpText:
        head, _, rest = text.partition(" ")
        name, *suffixes = head.split(".")
        spec = self.lookup_op(name, column, first)
        cond = pf = uf = None
        pos = column + len(name)
        for suffix in suffixes:
            pos += 1
            if suffix in _CONDS and cond is None:
                cond = suffix
            elif suffix in _PUSHES and pf is None:
                pf = suffix
            elif suffix in _UPDATES and uf is None:
                uf = suffix
            else:
                raise self.fail(
                    f"expected a condition (.ifa .ifb .ifna .ifnb), flag push (.pushz .pushn"
                    f" .pushc) or flag update (.andz ...), got .{suffix}",
                    pos,
                )
            pos += len(suffix)
        operands = (
            _split_with_columns(rest, ",", column + len(head) + 1)
            if rest.strip()
            else []
        )
        wanted = int(spec.has_dst) + spec.nsrc
        if len(operands) != wanted:
            shape = ["dst"] * spec.has_dst + ["a", "b"][: spec.nsrc]
            raise self.fail(
                f"{spec.name} takes {wanted} operand{'s' * (wanted != 1)}"
                f"{' (' + ', '.join(shape) + ')' if shape else ''}, got {len(operands)}",
                column,
            )
        waddr, magic, pack = 6, True, None
        if spec.has_dst:
            (dest_text, dest_column), *operands = operands
            waddr, magic, pack = self.parse_alu_dest(dest_text, dest_column)
        sources = [self.parse_source(t, c) for t, c in operands]
        return _OpText(spec, cond, pf, uf, waddr, magic, pack, sources, column)

    def lookup_op(self, name: str, column: int, first: bool) -> OpSpec:
        if first and name in ADD_OPS:
            return ADD_OPS[name]
        if name in MUL_OPS:
            return MUL_OPS[name]
        if name in ADD_OPS:
            raise self.fail(
                f"{name} is an add-ALU op; the mul ALU (second part) has only"
                f" {', '.join(sorted(MUL_OPS))}",
                column,
            )
        raise self.fail(
            f"unknown op {name!r} (expected an add- or mul-ALU op or a signal)", column
        )

    def parse_alu_dest(self, text: str, column: int) -> tuple[int, bool, str | None]:
        base, _, pack = text.partition(".")
        if pack and pack not in ("l", "h"):
            raise self.fail(
                f"expected output pack .l or .h, got .{pack}", column + len(base)
            )
        match = _UNKNOWN_DEST.match(base)
        if match:
            return self._waddr(int(match.group(1)), column), True, pack or None
        waddr, magic = self.parse_register_dest(base, column)
        return waddr, magic, pack or None

    def parse_register_dest(self, text: str, column: int) -> tuple[int, bool]:
        match = _RF.match(text)
        if match:
            return self._waddr(int(match.group(1)), column), False
        if text in MAGIC_ADDRESSES:
            return MAGIC_ADDRESSES[text], True
        raise self.fail(
            f"expected a destination (rfN, r0-r5, '-', or a magic register such as tmua),"
            f" got {text!r}",
            column,
        )

    def _waddr(self, value: int, column: int) -> int:
        if value > 63:
            raise self.fail(f"register/address {value} is out of range 0..63", column)
        return value

    def parse_source(self, text: str, column: int) -> _Operand:
        base, _, unpack = text.partition(".")
        if unpack and unpack not in _UNPACKS:
            raise self.fail(
                f"expected an input unpack (.abs .l .h .ff .ll .hh .swp), got .{unpack}",
                column + len(base),
            )
        unpack = unpack or None
        if match := _ACC.match(base):
            return _Operand("acc", int(match.group(1)), unpack, column)
        if match := _RF.match(base):
            return _Operand(
                "rf", self._waddr(int(match.group(1)), column), unpack, column
            )
        if _INT.match(base):
            value = int(base, 0) & 0xFFFFFFFF
            index = SMALL_IMMEDIATE_INDEX.get(value)
            if index is None:
                raise self.fail(
                    f"{base} is not a small immediate (-16..15 or a power of two 2^-8..2^7 as"
                    " its f32 bit pattern, e.g. 0x3f800000)",
                    column,
                )
            return _Operand("imm", index, unpack, column)
        raise self.fail(
            f"expected a source (r0-r5, rfN or a small immediate), got {base!r}", column
        )

    def build_alu(
        self,
        add: _OpText,
        mul: _OpText,
        sigs: set[str],
        sig_dest: tuple[int, bool] | None,
    ) -> AluInstruction:
        sources = add.sources + mul.sources
        imms = {s.value for s in sources if s.kind == "imm"}
        if len(imms) > 1:
            column = next(s.column for s in sources if s.kind == "imm")
            raise self.fail(
                "an instruction holds only one small immediate (raddr_b)", column
            )
        raddr_a, raddr_b = self.assign_ports(add, mul, imms)
        has_imm = bool(imms)
        if has_imm:
            sigs = sigs | {"smimm"}
            raddr_b = imms.pop()
        sig_set = frozenset(sigs)
        if sig_set not in SIGNAL_CODES:
            raise self.fail(
                f"signals {{{', '.join(sorted(sig_set))}}} cannot be combined"
                + (
                    " (a small immediate combines only with ldvary or ldtmu)"
                    if has_imm
                    else ""
                ),
                self.line.body_column,
            )
        addr, magic = sig_dest if sig_dest is not None else (0, False)
        return AluInstruction(
            self.alu_op(add), self.alu_op(mul), sig_set, addr, magic, raddr_a, raddr_b
        )

    def assign_ports(
        self, add: _OpText, mul: _OpText, imms: set[int]
    ) -> tuple[int, int]:
        """Give each register-file operand a read port: mux 6 (raddr_a) or 7 (raddr_b)."""
        registers: list[int] = []
        for op in (add, mul):
            registers.extend(r for r in _order_preference(op) if r not in registers)
        for op in (add, mul):
            for source in op.sources:
                if source.kind == "rf" and source.value not in registers:
                    registers.append(source.value)
        ports = 1 if imms else 2
        # faddnf/fmax of one register twice need both ports: only the operand order
        # (mux 6 vs 7) tells them from fadd/fmin.
        split = [
            op
            for op in (add, mul)
            if op.spec.order == "high"
            and len(op.sources) == 2
            and op.sources[0].kind == op.sources[1].kind == "rf"
            and op.sources[0].value == op.sources[1].value
            and op.sources[0].unpack == op.sources[1].unpack
        ]
        if len(registers) > ports or (split and len(registers) + 1 > ports):
            column = add.column if add.sources else mul.column
            raise self.fail(
                f"too many register-file operands: {len(registers)} different registers"
                f"{' plus a small immediate' if imms else ''}, but an instruction has"
                f" {ports} register-file read port{'s' * (ports > 1)}",
                column,
            )
        port_of = {reg: (MUX_A if i == 0 else MUX_B) for i, reg in enumerate(registers)}
        for op in (add, mul):
            for source in op.sources:
                if source.kind == "rf":
                    source.mux = port_of[source.value]
                elif source.kind == "imm":
                    source.mux = MUX_B
                else:
                    source.mux = source.value
        for op in split:
            op.sources[1].mux = MUX_B
        raddr_a = registers[0] if registers else 0
        raddr_b = registers[1] if len(registers) > 1 else (registers[0] if split else 0)
        return raddr_a, raddr_b

    @staticmethod
    def alu_op(op: _OpText) -> AluOp:
        a = op.sources[0] if op.sources else None
        b = op.sources[1] if len(op.sources) > 1 else None
        return AluOp(
            op.spec.name,
            op.waddr,
            op.magic,
            a.mux if a else 0,
            b.mux if b else 0,
            op.pack,
            a.unpack if a else None,
            b.unpack if b else None,
            op.cond,
            op.pf,
            op.uf,
        )

    # -- branches ----------------------------------------------------------------------------

    def parse_branch(self, body: str, col: int) -> BranchInstruction:
        mnemonic, _, rest = body.partition(" ")
        match = _BRANCH.match(mnemonic)
        ub = match.group(1) == "bu"
        cond, msfign = match.group(2), match.group(3)
        parts = (
            _split_with_columns(rest, ",", col + len(mnemonic) + 1)
            if rest.strip()
            else []
        )
        if not parts or len(parts) > 1 + ub:
            raise self.fail(
                f"{mnemonic} takes a target{' and an optional uniform target' if ub else ''}"
                " (label, byte offset, zero_addr+0x..., lri or rfN)",
                col,
            )
        target, column = parts[0]
        bdi, offset, raddr_a = self.parse_branch_target(target, column)
        bdu = (
            4 if ub else 0
        )  # bu without a uniform target: a code Mesa prints as nothing
        if len(parts) == 2:
            utarget, ucolumn = parts[1]
            if utarget in _UDESTS:
                bdu = _UDESTS[utarget]
            elif match_rf := _RF.match(utarget):
                bdu = 3
                reg = self._waddr(int(match_rf.group(1)), ucolumn)
                if bdi == "rf" and reg != raddr_a:
                    raise self.fail(
                        "code and uniform targets must be the same register (one raddr_a)",
                        ucolumn,
                    )
                raddr_a = reg
            else:
                raise self.fail(
                    f"expected a uniform target (a:unif, r:unif, lri or rfN), got {utarget!r}",
                    ucolumn,
                )
        return BranchInstruction(
            cond=cond,
            msfign=msfign,
            bdi=bdi,
            ub=ub,
            bdu=bdu,
            offset=offset,
            raddr_a=raddr_a,
        )

    def parse_branch_target(self, text: str, column: int) -> tuple[str, int, int]:
        if text == "lri":
            return "lri", 0, 0
        if match := _RF.match(text):
            return "rf", 0, self._waddr(int(match.group(1)), column)
        if match := _ABS_TARGET.match(text):
            return "abs", self._offset(int(match.group(1), 0), column, 0, 1 << 32), 0
        if _INT.match(text):
            return "rel", self._offset(int(text, 0), column, -(1 << 31), 1 << 31), 0
        if text in self.labels:
            # Relative offsets count from the instruction after the three delay slots.
            return "rel", (self.labels[text] - (self.line.index + 4)) * 8, 0
        raise self.fail(
            f"expected a branch target (label, byte offset, zero_addr+0x..., lri or rfN),"
            f" got {text!r}"
            + (" (no such label)" if re.fullmatch(r"[A-Za-z_.$][\w.$]*", text) else ""),
            column,
        )

    def _offset(self, value: int, column: int, low: int, high: int) -> int:
        if not low <= value < high:
            raise self.fail(f"branch offset {value} does not fit in 32 bits", column)
        if value & 7:
            raise self.fail(
                f"branch offset {value} is not a multiple of 8 bytes", column
            )
        return value


def _order_preference(op: _OpText) -> tuple[int, ...]:
    """Registers of an fadd/faddnf/fmin/fmax in the port order that keeps the written order.

    The encoder swaps the operands when their encoded order contradicts the op; with equal
    unpacks that order is the mux order, so giving the first register port A (fadd, fmin) or
    port B (faddnf, fmax) keeps the operands where the text put them.
    """
    if op.spec.order is None or len(op.sources) != 2:
        return ()
    a, b = op.sources
    if a.kind != "rf" or b.kind != "rf" or a.value == b.value or a.unpack != b.unpack:
        return ()
    return (a.value, b.value) if op.spec.order == "low" else (b.value, a.value)


def _split_with_columns(
    text: str, separator: str, column: int
) -> list[tuple[str, int]]:
    """Split `text` at `separator`; each piece stripped, with its 1-based column."""
    pieces = []
    start = 0
    for piece in text.split(separator):
        lead = len(piece) - len(piece.lstrip())
        pieces.append((piece.strip(), column + start + lead))
        start += len(piece) + len(separator)
    return pieces

"""Which instruction wrote each word of GPU memory: an executor wrapper that traces the emulator.

A differing output word is only useful in a bug report if it names the instruction behind it. The
QPUs write memory only through TMU stores, and the emulator performs a store at the instruction
that writes `tmua` (or another TMU lookup register). `ProvenanceExecutor` runs a job
on the emulator with its `trace` option, and after every instruction that writes a TMU register
compares GPU memory with what it held before: each word that changed was stored by that
instruction. It also follows the data back: the store's data came from the thread's last
`tmud` writes, and when such a write is a plain move (`or x, y, y`, `mov`, `fmov` without
modifiers) the value was produced by the instruction that last wrote the moved register (an ALU
op, an SFU write, a `ldtmu` load...). The lane is the one whose store address covers the word,
when the address register's values are known from the trace (`or`/`mov` or `add` of
registers), else None.

Limits: a store that writes a word's old value again leaves no trace (the earlier writer is
reported); accumulators read across a thread switch are followed per thread; a store whose
address register is not known from the trace is attributed only when the memory is small enough to
scan whole (`FULL_SCAN_WORDS`).
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from vc6_isa import encoding
from vc6_isa.emulator.program import load_program
from vc6_isa.instruction import AluInstruction, AluOp

__all__ = ["Origin", "ProvenanceExecutor"]

_TMUD = encoding.MAGIC_ADDRESSES["tmud"]
_STORE_ADDRESS = frozenset({encoding.MAGIC_ADDRESSES["tmua"], encoding.MAGIC_ADDRESSES["tmuau"]})
_MOVES = frozenset({"mov", "fmov"})
#: Memories up to this many words are scanned whole after a store whose addresses are unknown.
FULL_SCAN_WORDS = 1 << 20


@dataclass(frozen=True)
class Step:
    """One executed instruction: where, and its disassembly."""

    qpu: int
    thread: int
    pc: int
    disassembly: str

    def as_dict(self) -> dict[str, Any]:
        return {"qpu": self.qpu, "thread": self.thread, "pc": self.pc, "disassembly": self.disassembly}


@dataclass(frozen=True)
class Origin:
    """Where one 32-bit word of memory came from.

    Attributes:
        stored_by: The instruction whose TMU lookup wrote the word.
        produced_by: The instruction that computed the stored value (the store's `tmud` write
            itself when it is not a plain move); None when no `tmud` write preceded the store.
        lane: The lane whose store address covers the word, None when it is not known.
    """

    stored_by: Step
    produced_by: Step | None
    lane: int | None


def _operand(instr: AluInstruction, mux: int) -> str | None:
    """The register a source mux reads (`r0`-`r5`, `rfN`), None for a small immediate."""
    if mux < 6:
        return f"r{mux}"
    if mux == encoding.MUX_A:
        return f"rf{instr.raddr_a}"
    if "smimm" in instr.sigs:
        return None
    return f"rf{instr.raddr_b}"


def _is_move(alu: AluOp) -> bool:
    plain = alu.pack is None and alu.a_unpack is None and alu.b_unpack is None
    return plain and (alu.op in _MOVES or (alu.op == "or" and alu.a == alu.b))


def _halves(instr: AluInstruction) -> tuple[AluOp, AluOp]:
    return instr.add, instr.mul


class _Tracer:
    """Follows one job's trace records (per QPU thread) and records the origin of stored words."""

    def __init__(self, instructions: tuple, memory: Any, found: dict[int, Origin]) -> None:
        self.instructions = instructions
        self.found = found
        regions = sorted(memory.regions(), key=lambda region: region[0])
        self.bases = [base for base, _ in regions]
        self.words = [data[: data.size // 4 * 4].view(np.uint32) for _, data in regions]
        self.before = [words.copy() for words in self.words]
        self.total_words = sum(words.size for words in self.words)
        self.writers: dict[tuple[int, int], dict[str, Step]] = {}
        self.values: dict[tuple[int, int], dict[str, np.ndarray]] = {}
        self.pending: dict[tuple[int, int], list[Step | None]] = {}
        self.written: set[int] = set()  # indices of the regions this job stored into

    def __call__(self, record: Any) -> None:
        key = (record.qpu, record.thread)
        writers = self.writers.setdefault(key, {})
        values = self.values.setdefault(key, {})
        step = Step(record.qpu, record.thread, record.pc, record.disassembly)
        instr = self.instructions[record.pc] if 0 <= record.pc < len(self.instructions) else None
        if isinstance(instr, AluInstruction):
            self._alu(instr, step, key, writers, values)
        for name, lanes in record.writes.items():
            writers[name] = step
            values[name] = np.asarray(lanes, dtype=np.uint32)

    def _alu(self, instr: AluInstruction, step: Step, key: tuple[int, int], writers: dict[str, Step],
             values: dict[str, np.ndarray]) -> None:
        addresses: np.ndarray | None = None
        stores = False
        for alu in _halves(instr):
            if not alu.magic or alu.op == "nop":
                continue
            if alu.waddr == _TMUD:
                source = _operand(instr, alu.a) if _is_move(alu) else None
                self.pending.setdefault(key, []).append(writers.get(source) if source else step)
            elif alu.waddr in encoding.MAGIC_SFU:
                writers["r4"] = step  # a legacy SFU write lands in r4
            if alu.waddr in encoding.MAGIC_TMU_TERMINATORS:  # this write issues the lookup
                stores = True
                if alu.waddr in _STORE_ADDRESS:
                    addresses = self._addresses(instr, alu, values)
        if stores:
            self._changed(step, addresses, self.pending.pop(key, []))

    def _addresses(self, instr: AluInstruction, alu: AluOp, values: Mapping[str, np.ndarray]) -> np.ndarray | None:
        a = values.get(_operand(instr, alu.a) or "")
        if _is_move(alu):
            return a
        b = values.get(_operand(instr, alu.b) or "")
        if alu.op == "add" and a is not None and b is not None and alu.pack is None and alu.a_unpack is None:
            return (a.astype(np.uint64) + b).astype(np.uint32)
        return None

    def _changed(self, step: Step, addresses: np.ndarray | None, data: list[Step | None]) -> None:
        """Attribute to `step` every word its lookup changed: the words at the lanes' addresses,
        or (address register unknown) every word of a small enough memory."""
        nwords = max(len(data), 1)
        if addresses is not None:
            starts = addresses.astype(np.int64) & ~3
            candidates = np.unique((starts[:, None] + 4 * np.arange(nwords)).reshape(-1))
            places = [self._place(int(address)) for address in candidates]
            places = [p for p in places if p is not None]
        elif self.total_words <= FULL_SCAN_WORDS:
            places = [(r, int(i)) for r, (words, before) in enumerate(zip(self.words, self.before))
                      for i in np.flatnonzero(words != before)]
        else:
            return
        for region, index in places:
            if self.words[region][index] == self.before[region][index]:
                continue
            self.before[region][index] = self.words[region][index]
            self.written.add(region)
            address = self.bases[region] + 4 * index
            lane, word = _lane_of(address, addresses, nwords)
            produced = data[min(word, len(data) - 1)] if data else None
            self.found[address] = Origin(step, produced, lane)

    def _place(self, address: int) -> tuple[int, int] | None:
        """(region, word index) of a GPU address, None outside every region."""
        region = bisect.bisect_right(self.bases, address) - 1
        if region < 0 or address - self.bases[region] >= 4 * self.words[region].size:
            return None
        return region, (address - self.bases[region]) // 4


def _lane_of(address: int, addresses: np.ndarray | None, nwords: int) -> tuple[int | None, int]:
    """(lane, word within the lane's vector) of a store whose lanes start at `addresses`."""
    if addresses is None:
        return None, 0
    offsets = address - addresses.astype(np.int64)
    hits = np.flatnonzero((offsets >= 0) & (offsets < 4 * nwords))
    if hits.size == 0:
        return None, 0
    lane = int(hits[np.argmin(offsets[hits])])
    return lane, int(offsets[lane]) // 4


class ProvenanceExecutor:
    """An executor that runs jobs on `inner` (the vc6-isa emulator) and records, for every word
    of GPU memory a job stores, the `Origin` of its value (in `origins`, by GPU address).

    Args:
        inner: The emulator executor (its `trace` option is used).
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = f"{inner.name} (tracing stores)"
        self.origins: dict[int, Origin] = {}
        self.stored: list[tuple[int, np.ndarray]] = []

    def locate(self, words: np.ndarray) -> int | None:
        """The GPU address of the region the last job stored into that starts with `words`.

        For routines that return a copy of a buffer they allocated themselves.

        Args:
            words: The start of the stored data, as 32-bit words.

        Returns:
            The region's GPU address, or None when no region the last job stored into starts so.
        """
        for base, stored in self.stored:
            if stored.size >= words.size and np.array_equal(stored[: words.size], words.reshape(-1)):
                return base
        return None

    def run_csd(self, job: Any) -> Any:
        """Run one compute job on the inner executor with a tracer attached (the executor protocol).

        Args:
            job: The job, as `v3d_drm`'s emulated backend hands it over.

        Returns:
            The inner executor's result.
        """
        code = int(job.cfg[5]) & ~7
        base, data = next((b, d) for b, d in job.memory.regions() if b <= code < b + d.size)
        program = load_program(data, code - base)
        tracer = _Tracer(program.instructions, job.memory, self.origins)
        result = self.inner.run_csd(replace(job, options={**dict(job.options or {}), "trace": tracer}))
        self.stored = [(tracer.bases[i], tracer.words[i].copy()) for i in sorted(tracer.written)]
        return result

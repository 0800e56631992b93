"""The emulator as the executor of v3d-drm's emulated device (8 QPUs of 16 lanes).

`Executor` is what the `v3d_drm.executors` entry point `emulator` returns. For each job it
reads the seven CSD cfg words, decodes the program once (cached by its bytes), sets up the
machine state and runs the compiled loop. A broken hazard rule becomes a `QPUError`; an
access outside every buffer becomes a `v3d_drm.MMUFault`.

Options, given per job as `dev.dispatch(..., executor_options={...})`:

* `strict` (default True): check the hazard rules the hardware really has (see the
  hazard-rules page); a program that runs correctly on a Pi 4 is never rejected. `"mesa"`
  also checks Mesa's scheduling conventions that the hardware tolerates (`thrsw` two apart, a
  branch right after a `unifa` write, stores not waited for at the end, any accumulator or
  flag read after a thread switch). With False, the rules that have a defined fallback are
  not checked; faults the hardware could not survive (`ldtmu` with nothing pending, running
  off the program, memory faults, a barrier that cannot complete, the cycle budget) still
  raise.
* `trace`: True (records in `job.stats.trace`), a callable receiving each `TraceRecord`, or
  a text file receiving one line per instruction.
* `breakpoints`: an iterable of pcs (instruction indices, as in `Program.labels`), or a
  callable `f(snapshot) -> bool` asked after every instruction.
* `on_break`: a callable receiving the `Snapshot` at a breakpoint; execution continues when
  it returns. Without it a breakpoint raises `Breakpoint` carrying the snapshot.
* `hang_timeout` (float seconds of modelled GPU time, default 0.5; None or 0 turns it off):
  the kernel's hang check. Every `hang_timeout` of modelled time (after the first period)
  the job must have started a new batch since the previous check, else it is reported as a
  hang (a `QPUError` saying "hangs", naming the QPU, thread, pc and the loop it is in), as
  the kernel would reset the GPU. So a single-batch job, or the tail of a dispatch once its
  last batch has started, must end within 0.5-1 s of modelled time, as on a Pi (see
  `_HangTimer` for the evidence).
* `cycle_budget` (int): modelled cycles after which the job counts as hung whatever its
  progress (default 2**32).
* `threads` (1, 2 or 4): thread slots per QPU, overriding what the cfg words imply.
* `cycle_model`: a `CycleModel` replacing the default parameters.
* `profile` (default False): record per instruction its executions, issue cycles and stall
  cycles by cause in `job.profile` (a `Profile`; views in `vc6_isa.emulator.profile`). Off,
  it costs one test per scheduling round; on, the fast path issues one instruction per call.

Jobs run in bounded slices of about `SLICE_SECONDS` of wall time (the run loop releases the
GIL meanwhile): between slices the executor publishes `job.control.progress` (batches
finished / batches) and stops with `v3d_drm.JobCancelled` once `job.control` is cancelled.
Slicing does not change what runs: the loop stops between scheduling rounds. Trace
callbacks, `on_break` and `breakpoints` callables run on the thread that runs the job (the
emulated device's worker thread), not on the thread that waits for it.

Example (trace and a breakpoint):

```python
import numpy as np, v3d_drm
from vc6_isa.asm import *
from vc6_isa.emulator import Breakpoint

@qpu
def kernel(asm):
    eidx(r0)
    shl(r1, r0, 2)
    L.here
    nop(sig=thrsw); nop(sig=thrsw); nop(); nop(); nop(sig=thrsw); nop(); nop()

with v3d_drm.open("emulator") as dev:
    prog = assemble(kernel)
    job = dev.dispatch(prog.words, [], single_seg=False, executor_options={"trace": True})
    job.wait()
    print(job.stats.trace[1])          # QPU 0 thread 0 pc 1: shl r1, r0, 2 ... r1=[0, 4, 8, ...]
    job = dev.dispatch(prog.words, [], executor_options={"breakpoints": [prog.labels["here"]]})
    try:
        job.wait()
    except Breakpoint as stop:
        print(stop.snapshot.acc[1])     # r1 of the stopped thread
```
"""

from __future__ import annotations

import math
import textwrap
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
from v3d_drm import JobCancelled, MMUFault, V3DError, csd

from .. import encoding
from ..instruction import AluInstruction, BranchInstruction, Instruction
from . import hazards as H
from . import layout as L
from .cycle_model import CycleModel, modelled_label
from .jit import JIT_ENABLED, optimisation_level
from .machine.state import Machine
from .profile import Profile, profile_arrays
from .program import LoweredProgram, load_program
from .warmup import COMPILE_SECONDS, compiled

#: What r0-r5 hold before any thread of a QPU wrote them (reference 1.2: undefined).
UNDEFINED_ACCUMULATOR = 0xDEADBEEF

# V3D 4.2 performance counter indices (uapi reference 5.4) the cycle model provides.
CTR_QPU_IDLE = 13
CTR_QPU_VALID_INSTR = 16
CTR_QPU_WAIT_TMU = 17
CTR_CYCLE_COUNT = 32
CTR_COMPUTE_ACTIVE = 86
MODELLED_COUNTERS = (CTR_QPU_IDLE, CTR_QPU_VALID_INSTR, CTR_QPU_WAIT_TMU, CTR_CYCLE_COUNT, CTR_COMPUTE_ACTIVE)

#: Wall time aimed at for one slice of the run loop: a cancelled job stops, and Job.progress()
#: moves, within about this long. The loop's instruction count per slice adapts to reach it.
SLICE_SECONDS = 0.02
_SLICE_FIRST, _SLICE_MIN, _SLICE_MAX = 1 << 16, 1 << 10, 1 << 26  # thread-instructions
#: The kernel's CSD job timeout (uapi reference 4.8: 500 ms, re-armed while batches are issued).
HANG_TIMEOUT_SECONDS = 0.5


@dataclass
class EmulatorStats:
    """What one emulated job did: `job.stats` after `job.wait()` on the emulator.

    Cycle and time figures come from the cycle model of a Pi 4: they are modelled, not measured.

    Attributes:
        modelled: Always True: the figures are the cycle model's.
        cycles: Modelled GPU cycles of the job.
        modelled_seconds: `cycles` at the modelled clock.
        clock_mhz: The modelled QPU clock (500 MHz, a Pi 4's).
        thread_instructions: Instructions executed, summed over all threads.
        alu_utilisation: Share of the ALU issue slots (two per instruction slot, over all QPUs)
            that did useful work (modelled).
        tmu_requests: TMU lookups issued.
        tmu_bytes: Bytes read and written through the TMU.
        wall_seconds: How long the emulator took on this computer (not GPU time).
        thread_instructions_per_second: The emulator's speed on this computer.
        batches: Batches of 16 lanes that ran to their end.
        sfu_operations: SFU operations (`recip`, `rsqrt`, `exp`, `log`, `sin`).
        tmu_stall_cycles: Modelled cycles QPUs spent waiting for TMU data.
        trace: The `TraceRecord`s, when the job ran with `executor_options={"trace": True}`.
        profile: The `Profile` (per-instruction cycles and counts), when the job ran with
            `executor_options={"profile": True}`; also `job.profile`.
    """

    modelled: bool = True
    cycles: int = 0
    modelled_seconds: float = 0.0
    clock_mhz: float = 500.0
    thread_instructions: int = 0
    alu_utilisation: float = 0.0
    tmu_requests: int = 0
    tmu_bytes: int = 0
    wall_seconds: float = 0.0
    thread_instructions_per_second: float = 0.0
    batches: int = 0
    sfu_operations: int = 0
    tmu_stall_cycles: int = 0
    trace: list = field(default_factory=list, repr=False)
    profile: Profile | None = field(default=None, repr=False)

    def __str__(self) -> str:
        return (
            f"{self.cycles} cycles = {self.modelled_seconds * 1e3:.3f} ms at "
            f"{self.clock_mhz:g} MHz ({modelled_label()}); {self.thread_instructions} thread-instructions "
            f"in {self.batches} batch{'es' if self.batches != 1 else ''}; ALU utilisation "
            f"{self.alu_utilisation:.1%} (modelled); "
            f"{self.tmu_requests} TMU lookups, {self.tmu_bytes} bytes; emulator wall time "
            f"{self.wall_seconds:.3g} s ({self.thread_instructions_per_second / 1e6:.3g} M "
            "thread-instructions/s)"
        )


class QPUError(V3DError):
    """A QPU program broke a hazard rule of the hardware; raised by `job.wait()` on the emulator.

    The message says the rule, then where, then the job; the rule's number is the one on the
    hazard-rules page.

    Attributes:
        qpu: The QPU (0-7).
        thread: The thread slot on that QPU.
        pc: The instruction index in the program.
        disassembly: Mesa's text of the instruction.
        rule: The rule's number, such as `"13.6/32"`.
        registers: Name to the 16 lane values (uint32) of the registers the instruction reads.
    """

    def __init__(self, message: str, *, qpu: int, thread: int, pc: int, disassembly: str,
                 rule: str, registers: Mapping[str, np.ndarray]) -> None:  # fmt: skip
        super().__init__(message)
        self.qpu = qpu
        self.thread = thread
        self.pc = pc
        self.disassembly = disassembly
        self.rule = rule
        self.registers = dict(registers)


@dataclass(frozen=True)
class Snapshot:
    """The state of one thread at a breakpoint (arrays are read-only copies).

    Attributes:
        qpu: The QPU (0-7).
        thread: The thread slot on that QPU.
        batch: The batch (of 16 lanes) the thread runs.
        pc: Index of the next instruction to execute.
        disassembly: Mesa's text of that instruction.
        rf: The register file, shape (64, 16), uint32.
        acc: The accumulators `r0`-`r5`, shape (6, 16), uint32.
        flag_a: Flag A of each lane (0 or 1).
        flag_b: Flag B of each lane.
        msf: The multisample flags of each lane (non-zero where the lane carries an invocation).
        uniform_address: Address of the next uniform.
        unifa_address: Address of the next `unifa`-stream word.
        link: The link register.
    """

    qpu: int
    thread: int
    batch: int
    pc: int
    disassembly: str
    rf: np.ndarray  # (64, 16) uint32
    acc: np.ndarray  # (6, 16) uint32: r0-r5
    flag_a: np.ndarray  # (16,) 0/1
    flag_b: np.ndarray
    msf: np.ndarray
    uniform_address: int
    unifa_address: int
    link: int

    def register(self, name: str) -> np.ndarray:
        """The lane values of one register.

        Args:
            name: `"r0"` to `"r5"` or `"rf0"` to `"rf63"`.

        Returns:
            Its 16 lane values (uint32).
        """
        if name.startswith("rf"):
            return self.rf[int(name[2:])]
        return self.acc[int(name[1:])]


class Breakpoint(V3DError):
    """Raised at a breakpoint when no `on_break` callback is given.

    Attributes:
        snapshot: The stopped thread's `Snapshot`.
    """

    def __init__(self, snapshot: Snapshot) -> None:
        """Stop at a breakpoint.

        Args:
            snapshot: The stopped thread's state.
        """
        super().__init__(f"breakpoint: QPU {snapshot.qpu} thread {snapshot.thread} pc {snapshot.pc}: {snapshot.disassembly}")
        self.snapshot = snapshot


@dataclass(frozen=True)
class TraceRecord:
    """One executed instruction, as traced with `executor_options={"trace": ...}`.

    Attributes:
        qpu: The QPU (0-7).
        thread: The thread slot on that QPU.
        pc: The instruction index.
        disassembly: Mesa's text of the instruction.
        writes: Destination name to the 16 lane values it wrote.
    """

    qpu: int
    thread: int
    pc: int
    disassembly: str
    writes: Mapping[str, np.ndarray]

    def __str__(self) -> str:
        vals = "; ".join(f"{k}=[{', '.join(f'{int(v):#x}' for v in a)}]" for k, a in self.writes.items())
        return f"QPU {self.qpu} thread {self.thread} pc {self.pc}: {self.disassembly}" + (f"  -> {vals}" if vals else "")


# ------------------------------------------------------------------------------------------


def _disasm(instr: Instruction | None, word: int) -> str:
    if instr is None:
        return f"<word {word:#018x} does not decode>"
    try:
        from ..disasm import disassemble_instruction

        return " ".join(disassemble_instruction(instr).split())
    except Exception:  # noqa: BLE001 - the message must not fail because the disassembler did
        return f"<word {word:#018x}>"


def _reg_name(waddr: int, magic: bool) -> str:
    return f"rf{waddr}" if not magic else encoding.MAGIC_NAMES.get(waddr, f"magic{waddr}")


def _registers_read(instr: Instruction | None) -> list[tuple[str, int]]:
    """(name, regs row) of every register an instruction reads."""
    out: list[tuple[str, int]] = []
    if instr is None:
        return out
    if isinstance(instr, BranchInstruction):
        if instr.bdi == "rf" or (instr.ub and instr.bdu == 3):
            out.append((f"rf{instr.raddr_a}", instr.raddr_a))
        return out
    for alu, ops in ((instr.add, encoding.ADD_OPS), (instr.mul, encoding.MUL_OPS)):
        spec = ops[alu.op]
        for mux in (alu.a, alu.b)[: spec.nsrc]:
            if mux < 6:
                entry = (f"r{mux}", L.R_ACC + mux)
            elif mux == 6:
                entry = (f"rf{instr.raddr_a}", instr.raddr_a)
            elif "smimm" in instr.sigs or "rot" in instr.sigs:
                continue
            else:
                entry = (f"rf{instr.raddr_b}", instr.raddr_b)
            if entry not in out:
                out.append(entry)
    return out


def _registers_written(instr: Instruction | None) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    if not isinstance(instr, AluInstruction):
        return out
    for alu, ops in ((instr.add, encoding.ADD_OPS), (instr.mul, encoding.MUL_OPS)):
        if ops[alu.op].has_dst:
            if not alu.magic:
                out.append((f"rf{alu.waddr}", alu.waddr))
            elif alu.waddr <= 5:
                out.append((f"r{alu.waddr}", L.R_ACC + alu.waddr))
            elif alu.waddr == 55:
                out.append(("r5", L.R_ACC + 5))
    if instr.sigs & {"ldunif", "ldunifa"}:
        out.append(("r5", L.R_ACC + 5))
    if instr.sigs & {"ldunifrf", "ldunifarf", "ldtmu"}:
        if not instr.sig_magic:
            out.append((f"rf{instr.sig_addr}", instr.sig_addr))
        elif instr.sig_addr <= 5:
            out.append((f"r{instr.sig_addr}", L.R_ACC + instr.sig_addr))
    return out


@dataclass
class _Job:
    """One job: its decoded program, the machine's state record and the BO arrays it points into."""

    prog: LoweredProgram
    m: Machine
    regions: list  # the BO arrays themselves, kept alive while the machine uses `m.hosts`

    def run(self, instructions: int = 0) -> int:
        """Run until an event; with `instructions` > 0, return EV_SLICE after about that many."""
        gs = self.m.gs
        gs[L.G_SLICE_END] = gs[L.G_INSTRS] + instructions if instructions > 0 else L.NEVER
        # imported here: the machine's modules are only needed (and compiled) once a job runs, and
        # `python -m vc6_isa.emulator.dispatch` can regenerate machine/ops.py even when it is stale
        from .machine.run import run, run_profiled

        run_machine = run_profiled if self.m.prof.shape[0] > 0 else run
        if JIT_ENABLED and not run_machine.signatures:  # this call compiles (or loads) the machine
            with optimisation_level():
                return int(run_machine(self.m))
        return int(run_machine(self.m))


def _memory_model_state(cm: CycleModel, nq: int, jp: np.ndarray, profile: bool = False) -> np.ndarray:
    """The memory model's parameters in `jp`/`fp` and its fresh state (layout.py, `F_*`); with
    `profile`, room for each TMU ring entry's idle-bus completion time (`J_F_TQ_IDLE`)."""
    nslices = -(-nq // cm.qpus_per_slice)
    nres = 1 + nslices
    if nres > 8:
        raise V3DError(f"{nq} QPUs make {nslices} slices; the memory model holds at most 7")
    line_shift = cm.line_bytes.bit_length() - 1
    sets = cm.l2_bytes // (cm.line_bytes * cm.l2_ways)
    if 1 << line_shift != cm.line_bytes or sets & (sets - 1) or sets < 1:
        raise V3DError("CycleModel: line_bytes and the number of L2T sets must be powers of two")
    jp[L.J_QPUS_PER_SLICE] = cm.qpus_per_slice
    jp[L.J_SLICE_SHIFT] = _log2_or_minus_one(cm.qpus_per_slice)
    jp[L.J_TMU_LINE_CYCLES] = cm.tmu_cycles_per_line
    jp[L.J_LINE_SHIFT] = line_shift
    jp[L.J_TMU_QUEUE] = cm.tmu_queue_depth
    jp[L.J_CAL_BUCKET] = cm.calendar_bucket_cycles
    jp[L.J_CAL_N] = cm.calendar_buckets
    jp[L.J_CAL_SHIFT] = _log2_or_minus_one(cm.calendar_bucket_cycles)
    jp[L.J_CAL_MASK] = cm.calendar_buckets - 1 if _log2_or_minus_one(cm.calendar_buckets) >= 0 else -1
    jp[L.J_L2_SETS] = sets
    jp[L.J_L2_WAYS] = cm.l2_ways
    jp[L.J_UNIFA_LAT] = cm.unifa_latency
    jp[L.J_F_CAL] = L.F_NCOLS
    jp[L.J_F_L2] = L.F_NCOLS + nres * cm.calendar_buckets
    jp[L.J_F_TQ] = jp[L.J_F_L2] + sets * cm.l2_ways
    ring = nq * cm.tmu_queue_depth
    jp[L.J_F_TQ_IDLE] = jp[L.J_F_TQ] + ring if profile else -1
    jp[L.J_F_CAL_NEXT] = jp[L.J_F_TQ] + ring * (2 if profile else 1)
    fp = np.zeros(int(jp[L.J_F_CAL_NEXT]) + nres * cm.calendar_buckets, np.float64)
    hz = cm.clock_mhz * 1e6
    fp[L.F_READ_COST] = hz / (cm.dram_read_gbps * 1e9)
    fp[L.F_WRITE_COST] = hz / (cm.dram_write_gbps * 1e9)
    fp[int(jp[L.J_F_CAL]) : int(jp[L.J_F_L2])] = cm.calendar_bucket_cycles
    fp[int(jp[L.J_F_L2]) : int(jp[L.J_F_L2]) + sets * cm.l2_ways] = -1.0  # empty tags
    # bucket k of each calendar (slot k at the start) points at itself: nothing used up yet
    fp[int(jp[L.J_F_CAL_NEXT]) :] = np.tile(np.arange(cm.calendar_buckets, dtype=np.float64), nres)
    return fp


def _log2_or_minus_one(n: int) -> int:
    """log2 of `n` when it is a power of two, else -1."""
    return n.bit_length() - 1 if n > 0 and n & (n - 1) == 0 else -1


def _next_slice(instructions: int, seconds: float) -> int:
    """Thread-instructions for the next slice, aiming at SLICE_SECONDS (at most 4x change)."""
    if seconds <= 0:
        return min(_SLICE_MAX, instructions * 4)
    scaled = int(instructions * min(4.0, max(0.25, SLICE_SECONDS / seconds)))
    return max(_SLICE_MIN, min(_SLICE_MAX, scaled))


class _HangTimer:
    """The kernel's CSD hang check (uapi reference 4.8, v3d_csd_job_timedout) on modelled time.

    Every `seconds` of modelled GPU time the timer expires (the run loop returns EV_TIMER once
    every QPU's clock has passed the expiry). The job is progressing if the count of batches
    still to be started (the kernel reads CSD_CURRENT_CFG4) differs from the one recorded at
    the previous expiry; then it is recorded and the timer re-armed, else the job hangs.

    The first expiry always counts as progress. The reference reads the kernel as recording 0
    first, which would reset at 0.5 s every job whose batches have all started; but on a Pi 4
    py-videocore6's sgemm example, one dispatch of 8 batches (one per QPU), took 0.5546 s
    (its README) and was not reset. Presumably the register reads batches-1 counting past 0
    (UNCERTAIN). So a stuck job is reported between one and two windows after its last batch
    started. UNCERTAIN (reference 4.8): whether the counter falls as batches start or as they
    end; "start" is chosen here (G_NEXT_BATCH).
    """

    def __init__(self, st: _Job, seconds: object, clock_mhz: float) -> None:
        self.st = st
        try:
            self.seconds = float(seconds or 0)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            self.seconds = -1.0
        if not self.seconds >= 0:  # also NaN
            raise V3DError(f"executor option hang_timeout={seconds!r}: use seconds > 0, or None to turn it off")
        self.window = max(1, round(self.seconds * clock_mhz * 1e6))  # in cycles
        self.recorded: int | None = None  # nothing equals it: the first expiry passes
        self.checks = 0  # expiries so far
        st.m.gs[L.G_HANG_AT] = self.window if self.seconds > 0 else L.NEVER

    def progressed(self) -> bool:
        """At an expiry: re-arm and return True if the job has progressed, else False."""
        gs, jp = self.st.m.gs, self.st.m.jp
        remaining = int(jp[L.J_NBATCHES] - gs[L.G_NEXT_BATCH])
        self.checks += 1
        if remaining == self.recorded:
            return False
        self.recorded = remaining
        gs[L.G_HANG_AT] += self.window
        return True

    def window_text(self) -> str:
        """Where the failed check lies, for the error message."""
        now = self.checks * self.seconds
        return f"between the hang checks at {now - self.seconds:g} s and {now:g} s of modelled GPU time"


def _branch_target(row: np.ndarray, pc: int, code: int) -> int | None:
    """Instruction index a branch at `pc` jumps to, when it is known without running."""
    offset = int(row[L.P_OFFSET])
    if row[L.P_BDI] == 1:
        return pc + 4 + offset // 8
    if row[L.P_BDI] == 0:
        return (offset - code) // 8
    return None  # to the link register or a register: only known at run time


def _loop_around(st: _Job, pc: int) -> str:
    """Describe the innermost backward branch whose loop (target .. branch + 3 delay slots)
    contains `pc`."""
    table, code = st.prog.table, int(st.m.jp[L.J_CODE])
    best = None
    for b in range(len(table)):
        if table[b, L.P_KIND] != L.K_BRANCH:
            continue
        target = _branch_target(table[b], b, code)
        inside = target is not None and target <= b and target <= pc <= b + 3
        if inside and (best is None or b - target < best[1] - best[0]):
            best = (target, b)
    if best is None:
        return f"in no loop closed by a backward branch to a known target around pc {pc}"
    target, b = best
    branch = _disasm(st.prog.instructions[b], int(st.prog.words[b]))
    return f"in the loop pc {target}..{b + 3}: `{branch}` at pc {b} jumps back to pc {target}"


#: Where the machine's arrays of 16-lane rows start: on a 64-byte boundary, so that no 64-byte
#: row straddles two cache lines (numpy's own allocations start on 16 bytes, numba's on 32).
ROW_ALIGN = 64


def _rows(shape: tuple[int, ...]) -> np.ndarray:
    """np.zeros(shape, np.uint32) starting on a `ROW_ALIGN`-byte boundary: arrays whose last axis
    is a row of 16 lanes, which the machine loads and stores whole (one 64-byte vector move;
    a row across two cache lines is a split access, and a split store is not forwarded to the
    next instruction's load of the row: docs/emulator-internals.md has the figures)."""
    size = int(np.prod(shape)) * 4
    buf = np.zeros(size + ROW_ALIGN, np.uint8)
    start = -buf.ctypes.data % ROW_ALIGN
    return buf[start : start + size].view(np.uint32).reshape(shape)


def empty_job():
    """A `v3d_drm.CsdJob` of one batch of 16 lanes whose program only ends (`Executor.warm_up`)."""
    from v3d_drm.executor import CsdJob, GpuMemory

    from ..asm import assemble, program_end, qpu

    @qpu
    def empty(asm):
        program_end()

    words = np.array(assemble(empty).words, np.uint64)
    base, memory = 0x10000, np.zeros(256, np.uint8)
    memory[: words.nbytes] = words.view(np.uint8)
    cfg = (1 << 16, 1 << 16, 1 << 16, 0x110, 0, base, base + 128)  # one batch of 16 lanes
    return CsdJob(cfg=cfg, coef=(0, 0, 0, 0), memory=GpuMemory([(base, memory)]), perfmon_counters=())


def _initial_registers(nslots: int) -> np.ndarray:
    """Register rows of every slot; the accumulators start as a recognisable undefined value."""
    regs = _rows((nslots, L.R_NROWS, 16))
    regs[:, L.R_ACC :] = UNDEFINED_ACCUMULATOR
    return regs


def decode_cfg(cfg: tuple[int, ...]) -> dict[str, int]:
    """The fields of the seven CSD cfg words, as the emulator reads them.

    The words are checked and decoded by the driver's decoder (`v3d_drm.csd.decode_cfg`: one set
    of rules for both, so a zero workgroup or batch count is an error, and cfg[4] holds the batch
    count minus 1); this adds the workgroup offsets (bits 15:0 of cfg[0..2]).

    Args:
        cfg: The seven cfg words.

    Returns:
        Field name to value: workgroup counts and offsets (`wg_x`, `off_x`, ...), `wg_size`,
        `wgs_per_sg`, `batches_per_sg`, `batches`, `code`, `propagate_nan`, `single_seg`,
        `four_threads`, `uniforms`.

    Raises:
        v3d_drm.InvalidArgument: The words are not seven valid cfg words.
    """
    config = csd.decode_cfg(cfg)
    f = {f"wg_{axis}": n for axis, n in zip("xyz", config.workgroups)}
    f.update({f"off_{axis}": w & 0xFFFF for axis, w in zip("xyz", config.cfg)})
    f["wg_size"] = config.wg_size
    f["wgs_per_sg"] = config.wgs_per_sg
    f["batches_per_sg"] = config.batches_per_sg
    f["batches"] = config.num_batches
    f["code"] = config.code_address
    f["propagate_nan"] = int(config.propagate_nan)
    f["single_seg"] = int(config.single_seg)
    f["four_threads"] = int(config.threading)
    f["uniforms"] = config.uniforms_address
    return f


def strict_level(option: object) -> int:
    """The `strict` executor option as a level of hazards.py (True = the hardware's rules)."""
    if option is True or option == "hardware":
        return H.STRICT_HARDWARE
    if option == "mesa":
        return H.STRICT_MESA
    if option is False or option is None:
        return H.STRICT_OFF
    raise V3DError(f"executor option strict={option!r}: use True (the hardware's rules), 'mesa' "
                   "(also Mesa's scheduling conventions) or False")


#: Error messages fit a terminal and the docs' code blocks: one part per line, at most this wide.
MESSAGE_WIDTH = 100


def _wrap(text: str, indent: str = "") -> str:
    """`text` as lines of at most MESSAGE_WIDTH columns; continuation lines indented by two more."""
    return textwrap.fill(text, MESSAGE_WIDTH, initial_indent=indent, subsequent_indent=indent + "  ",
                         break_long_words=False, break_on_hyphens=False)  # fmt: skip


def _hazard_message(rule: str, what: str, where: str, registers: Mapping[str, np.ndarray],
                    job: str, level: str, context: tuple[str, ...] = ()) -> str:  # fmt: skip
    """A QPUError's text: what broke (the rule), where (and `context` lines about the place),
    the registers read, the job, the mode."""
    lines = [_wrap(f"rule {rule}: {what}"),
             f"  see the hazard rules page, reference/rules.html#{H.rule_anchor(rule)}",
             _wrap(f"at {where}")]  # fmt: skip
    lines += [_wrap(line, "  ") for line in context]
    if registers:
        lines.append("registers read by the instruction (lanes 0-7, then 8-15):")
        for name, values in registers.items():
            words = [f"{int(v):#010x}" for v in values]
            head = f"  {name:>5} = "
            lines += [head + " ".join(words[:8]), " " * len(head) + " ".join(words[8:])]
    if job:
        lines.append(_wrap(f"job: {job}"))
    if level:
        lines.append(_wrap(level))
    return "\n".join(lines)


class Executor:
    """The emulator, as the executor of v3d-drm's emulated device.

    `v3d_drm.open("emulator")` creates one through the entry point; it can be constructed
    without arguments.

    Attributes:
        name: `"vc6-isa emulator"`.
    """

    name = "vc6-isa emulator"
    #: The one-time numba compile, asked about by `v3d_drm.warmup` (see warmup.py).
    compiled = staticmethod(compiled)
    compile_seconds = COMPILE_SECONDS

    def __init__(self, cycle_model: CycleModel | None = None, nqpus: int = 8) -> None:
        """Create an emulator.

        Args:
            cycle_model: The timing parameters (default: `CycleModel()`, a Pi 4).
            nqpus: Number of QPUs to emulate (8 on a Pi 4).
        """
        self.cycle_model = cycle_model or CycleModel()
        self.nqpus = nqpus

    # -- setup -------------------------------------------------------------------------------

    def _prepare(self, job, opts: Mapping[str, object]) -> _Job:
        cm = opts.get("cycle_model") or self.cycle_model
        f = decode_cfg(job.cfg)
        regions = job.memory.regions()
        bases = np.array([b for b, _ in regions], np.int64)
        sizes = np.array([a.size for _, a in regions], np.int64)
        code = f["code"]
        idx = int(np.searchsorted(bases, code, side="right")) - 1
        if idx < 0 or code >= bases[idx] + sizes[idx]:
            raise MMUFault(code, 8, nearest=job.memory.nearest(code), context=_wrap(f"the program's address (cfg word 5) of {job.description or 'the CSD job'}"))
        prog = load_program(regions[idx][1], code - int(bases[idx]))
        threads = int(opts.get("threads") or (4 if f["four_threads"] else 2))
        if threads not in (1, 2, 4):
            raise V3DError(f"executor option threads={threads!r}: use 1, 2 or 4")
        nq = self.nqpus
        nslots = nq * threads
        jp = np.zeros(L.J_NCOLS, np.int64)
        jp[L.J_NQPU] = nq
        jp[L.J_NTHREADS] = threads
        jp[L.J_FIFO] = 16 // threads
        jp[L.J_CODE] = code
        jp[L.J_NROWS] = len(prog.table)
        jp[L.J_UNIF] = f["uniforms"]
        jp[L.J_WG_X], jp[L.J_WG_Y], jp[L.J_WG_Z] = f["wg_x"], f["wg_y"], f["wg_z"]
        jp[L.J_OFF_X], jp[L.J_OFF_Y], jp[L.J_OFF_Z] = f["off_x"], f["off_y"], f["off_z"]
        jp[L.J_WG_SIZE] = f["wg_size"]
        jp[L.J_WGS_PER_SG] = f["wgs_per_sg"]
        jp[L.J_BATCHES_PER_SG] = f["batches_per_sg"]
        jp[L.J_NBATCHES] = f["batches"]
        local_bits = int(math.log2(1 << (max(f["wg_size"], 64) - 1).bit_length()))
        jp[L.J_LOCAL_SHIFT] = 32 - local_bits
        jp[L.J_STRICT] = strict_level(opts.get("strict", True))
        jp[L.J_SINGLE_SEG] = f["single_seg"]
        jp[L.J_BUDGET] = int(opts.get("cycle_budget") or (1 << 32))
        jp[L.J_ISSUE] = cm.issue_cycles
        jp[L.J_TMU_LAT] = cm.tmu_latency
        jp[L.J_CHUNK] = cm.scheduler_chunk
        jp[L.J_BATCH_START] = cm.batch_start_cycles
        # 2-thread mode: thread numbers 0 and 2 (PyVC6 hardware tests assume it; UNCERTAIN,
        # reference 1.2 / F #1). Change the stride here to change the choice.
        jp[L.J_THREAD_NUM_STRIDE] = 2 if threads == 2 else 1
        fp = _memory_model_state(cm, nq, jp, bool(opts.get("profile")))
        ts = np.zeros((nslots, L.T_NCOLS), np.int64)
        for s in range(nslots):
            ts[s, L.T_QPU] = s // threads
            ts[s, L.T_THREAD] = (s % threads) * jp[L.J_THREAD_NUM_STRIDE]
        nsg = -(-f["batches"] // f["batches_per_sg"])
        sg_need = np.full(nsg, f["batches_per_sg"], np.int64)
        sg_need[-1] = f["batches"] - (nsg - 1) * f["batches_per_sg"]
        mem8 = [a for _, a in regions]
        # what the uniform streams read (machine/memory.py, keep_old_page): np.empty leaves the copies'
        # pages uncommitted until the TMU first writes into the BO's page
        copies = [np.empty(a.size, np.uint8) for a in mem8]
        flags = [np.zeros((a.size >> L.UNIFORM_PAGE_SHIFT) + 1, np.uint8) for a in mem8]
        bp = np.zeros(0, np.uint8)
        breakpoints = opts.get("breakpoints")
        if breakpoints is not None and not callable(breakpoints):
            bp = np.zeros(len(prog.table), np.uint8)
            for pc in breakpoints:
                if not 0 <= int(pc) < len(prog.table):
                    raise V3DError(f"breakpoint pc {pc} is outside the program (0..{len(prog.table) - 1})")
                bp[int(pc)] = 1
        qs = np.zeros((nq, L.Q_NCOLS), np.int64)
        qs[:, L.Q_CUR] = -1  # no thread issuing yet
        gs = np.zeros(L.G_NCOLS, np.int64)
        gs[L.G_SLICE_END] = gs[L.G_HANG_AT] = L.NEVER
        regions = mem8 + copies + flags
        return _Job(
            prog=prog,
            m=Machine(
                prog=prog.table,
                regs=_initial_registers(nslots),
                lanes=_rows((nslots, L.L_NROWS, 16)),
                ts=ts,
                qs=qs,
                gs=gs,
                jp=jp,
                fp=fp,
                fifo=_rows((nslots, L.FIFO_CAP, 16)),
                sc=_rows((16, 16)),
                fifo_ready=np.zeros((nslots, L.FIFO_CAP), np.int64),
                bp=bp,
                sg_arrive=np.zeros(nsg, np.int64),
                sg_need=sg_need,
                sg_time=np.zeros(nsg, np.int64),
                hosts=np.array([a.ctypes.data for a in regions], np.int64),
                bases=bases,
                sizes=sizes,
                **profile_arrays(len(prog.table), nq, nslots, bool(opts.get("profile"))),
            ),
            regions=regions,
        )

    # -- running -----------------------------------------------------------------------------

    def warm_up(self) -> None:
        """Load the compiled machine (compile it, the first time on this host: ~30 s) by running
        an empty job.

        The emulated backend calls this once, at a device's first submit, in the submitting
        thread, so that compile time does not count against `Job.wait(timeout)`.
        """
        self.run_csd(empty_job())

    def run_csd(self, job):
        """Run one compute job to completion.

        Args:
            job: The `v3d_drm.CsdJob`: cfg words, memory and options.

        Returns:
            A `v3d_drm.CsdResult` with modelled counters, the `EmulatorStats` and the modelled time.

        Raises:
            QPUError: The program broke a hazard rule.
            MMUFault: The program accessed memory outside every buffer of the job.
            Breakpoint: A breakpoint was reached and no `on_break` callback was given.
        """

        opts = dict(job.options or {})
        start = time.perf_counter()
        st = self._prepare(job, opts)
        stats = EmulatorStats(clock_mhz=(opts.get("cycle_model") or self.cycle_model).clock_mhz)
        trace = opts.get("trace")
        breakpoints = opts.get("breakpoints")
        on_break = opts.get("on_break")
        stepping = bool(trace) or callable(breakpoints)
        st.m.gs[L.G_STEP] = 1 if stepping else 0
        control = getattr(job, "control", None)
        timer = _HangTimer(st, opts.get("hang_timeout", HANG_TIMEOUT_SECONDS), stats.clock_mhz)
        per_slice = _SLICE_FIRST
        while True:
            if control is not None and control.cancelled:
                raise JobCancelled(f"{job.description or 'CSD job'} was stopped: {control.reason}")
            t = time.perf_counter()
            ev = st.run(per_slice)
            if ev == L.EV_SLICE:
                per_slice = _next_slice(per_slice, time.perf_counter() - t)
                if control is not None:
                    control.progress = int(st.m.gs[L.G_ENDED]) / int(st.m.jp[L.J_NBATCHES])
                continue
            if ev == L.EV_TIMER:
                if not timer.progressed():
                    raise self._hang_error(job, st, timer.window_text())
                continue
            if ev == L.EV_DONE:
                break
            if ev == L.EV_STEP:
                snap = None
                if trace:
                    self._trace(st, trace, stats)
                if callable(breakpoints):
                    snap = self._snapshot(st, int(st.m.gs[L.G_EV_SLOT]), int(st.m.ts[int(st.m.gs[L.G_EV_SLOT]), L.T_PC]))
                    if breakpoints(snap):
                        self._stop(snap, on_break)
                continue
            if ev == L.EV_BREAK:
                slot = int(st.m.gs[L.G_EV_SLOT])
                self._stop(self._snapshot(st, slot, int(st.m.gs[L.G_EV_PC])), on_break)
                continue
            if ev == L.EV_MMU:
                raise self._mmu_error(job, st)
            raise self._hazard_error(job, st)
        wall = time.perf_counter() - start
        return self._result(job, st, stats, wall)

    def _stop(self, snap: Snapshot, on_break: Callable | None) -> None:
        if on_break is None:
            raise Breakpoint(snap)
        on_break(snap)

    def _result(self, job, st: _Job, stats: EmulatorStats, wall: float):
        from v3d_drm.executor import CsdResult

        cm = (job.options or {}).get("cycle_model") or self.cycle_model
        qs, gs = st.m.qs, st.m.gs
        tmu_bytes = int(gs[L.G_TMU_RBYTES] + gs[L.G_TMU_WBYTES])
        cycles = int(qs[:, L.Q_TIME].max())
        nq = len(qs)
        issue_slots = max(1, cycles * nq // cm.issue_cycles)
        stats.cycles = cycles
        stats.modelled_seconds = cycles / (stats.clock_mhz * 1e6)
        stats.thread_instructions = int(gs[L.G_INSTRS])
        stats.alu_utilisation = float(gs[L.G_USEFUL]) / (2 * issue_slots)
        stats.tmu_requests = int(gs[L.G_TMU_REQ])
        stats.tmu_bytes = tmu_bytes
        stats.wall_seconds = wall
        stats.thread_instructions_per_second = stats.thread_instructions / wall if wall > 0 else 0.0
        stats.batches = int(gs[L.G_ENDED])
        stats.sfu_operations = int(gs[L.G_SFU])
        stats.tmu_stall_cycles = int(qs[:, L.Q_TMU_STALL].sum())
        busy = int(qs[:, L.Q_BUSY].sum())
        counters = {
            CTR_CYCLE_COUNT: cycles,
            CTR_COMPUTE_ACTIVE: cycles,
            CTR_QPU_VALID_INSTR: busy,
            CTR_QPU_WAIT_TMU: stats.tmu_stall_cycles,
            CTR_QPU_IDLE: max(0, cycles * nq - busy - stats.tmu_stall_cycles),
        }
        if st.m.prof.shape[0] > 0:
            stats.profile = Profile.from_machine(st.prog, st.m, cycles, stats.clock_mhz)
        return CsdResult(counters=counters, stats=stats, modelled_seconds=stats.modelled_seconds)

    # -- reporting ---------------------------------------------------------------------------

    def _where(self, st: _Job, slot: int, pc: int) -> tuple[int, int, str, Instruction | None]:
        qpu = int(st.m.ts[slot, L.T_QPU])
        thread = int(st.m.ts[slot, L.T_THREAD])
        instr = st.prog.instructions[pc] if 0 <= pc < len(st.prog.instructions) else None
        word = int(st.prog.words[pc]) if 0 <= pc < len(st.prog.words) else 0
        return qpu, thread, _disasm(instr, word), instr

    def _hazard_error(self, job, st: _Job) -> QPUError:
        gs = st.m.gs
        code, slot, pc, arg = (int(gs[k]) for k in (L.G_EV_CODE, L.G_EV_SLOT, L.G_EV_PC, L.G_EV_ARG))
        qpu, thread, text, instr = self._where(st, slot, pc)
        rule, what = H.RULES.get(code, ("?", f"hazard code {code}"))
        if code == H.H_PAST_END and pc >= len(st.prog.instructions):
            text = "<past the last decoded word>"
        regs = {name: st.m.regs[slot, row].copy() for name, row in _registers_read(instr)}
        detail = ""
        if code in (H.H_FIFO_OVERFLOW, H.H_END_RESULTS):
            detail = f" ({arg} words outstanding, limit {int(st.m.jp[L.J_FIFO])} with {int(st.m.jp[L.J_NTHREADS])} threads per QPU)"
        elif code == H.H_BRANCH_TARGET:
            detail = f" (target {arg:#010x})"
        elif code == H.H_BUDGET:
            detail = f" ({arg} cycles, executor option cycle_budget)"
        elif code == H.H_MISALIGNED:
            detail = f" (address {arg:#010x})"
        if code in H.MESA_ONLY:
            level = "strict level 'mesa': a Mesa convention the hardware tolerates; strict=True does not check it"
        elif code in H.STRICT_ONLY:
            level = "strict mode: executor_options={'strict': False} turns this check off"
        else:
            level = ""
        address = int(st.m.jp[L.J_CODE]) + 8 * pc
        msg = _hazard_message(rule, what + detail, f"QPU {qpu} thread {thread} pc {pc} ({address:#010x}): `{text}`",
                              regs, getattr(job, "description", ""), level)
        return QPUError(msg, qpu=qpu, thread=thread, pc=pc, disassembly=text, rule=rule, registers=regs)

    def _hang_error(self, job, st: _Job, when: str) -> QPUError:
        slot, pc = int(st.m.gs[L.G_EV_SLOT]), int(st.m.gs[L.G_EV_PC])
        qpu, thread, text, instr = self._where(st, slot, pc)
        address = int(st.m.jp[L.J_CODE]) + 8 * pc
        context = [_loop_around(st, pc)]
        others = [
            f"QPU {int(st.m.ts[s, L.T_QPU])} thread {int(st.m.ts[s, L.T_THREAD])} pc {int(st.m.ts[s, L.T_PC])}"
            for s in range(len(st.m.ts)) if s != slot and st.m.ts[s, L.T_STATUS] != L.TS_FREE
        ]
        if others:
            context.append(f"other live threads: {', '.join(others[:8])}{', ...' if len(others) > 8 else ''}")
        regs = {name: st.m.regs[slot, row].copy() for name, row in _registers_read(instr)}
        rule = "4.8 (uapi)"
        msg = _hazard_message(
            rule,
            f"the job hangs: no new batch started {when} "
            "(a Pi's kernel checks every 500 ms and resets the GPU without progress)",
            f"QPU {qpu} thread {thread} pc {pc} ({address:#010x}): `{text}`", regs,
            getattr(job, "description", ""),
            "executor option hang_timeout sets the period (modelled seconds; None: no checks)",
            tuple(context),
        )
        return QPUError(msg, qpu=qpu, thread=thread, pc=pc, disassembly=text, rule=rule, registers=regs)

    def _mmu_error(self, job, st: _Job) -> MMUFault:
        gs = st.m.gs
        slot, pc, addr, n = (int(gs[k]) for k in (L.G_EV_SLOT, L.G_EV_PC, L.G_EV_ARG, L.G_EV_ARG2))
        qpu, thread, text, _ = self._where(st, slot, pc)
        ctx = _wrap(f"at QPU {qpu} thread {thread} pc {pc}: `{text}`")
        if getattr(job, "description", ""):
            ctx += "\n" + _wrap(f"job: {job.description}")
        return MMUFault(addr, n, nearest=job.memory.nearest(addr), context=ctx)

    def _snapshot(self, st: _Job, slot: int, pc: int) -> Snapshot:
        qpu, thread, text, _ = self._where(st, slot, pc)

        def ro(a: np.ndarray) -> np.ndarray:
            a = a.copy()
            a.flags.writeable = False
            return a

        return Snapshot(
            qpu=qpu, thread=thread, batch=int(st.m.ts[slot, L.T_BATCH]), pc=pc, disassembly=text,
            rf=ro(st.m.regs[slot, :64]), acc=ro(st.m.regs[slot, L.R_ACC : L.R_IMM]),
            flag_a=ro(st.m.lanes[slot, L.L_FA]), flag_b=ro(st.m.lanes[slot, L.L_FB]), msf=ro(st.m.lanes[slot, L.L_MSF]),
            uniform_address=int(st.m.ts[slot, L.T_UNIF]), unifa_address=int(st.m.ts[slot, L.T_UNIFA]),
            link=int(st.m.ts[slot, L.T_LINK]),
        )  # fmt: skip

    def _trace(self, st: _Job, trace, stats: EmulatorStats) -> None:
        slot, pc = int(st.m.gs[L.G_EV_SLOT]), int(st.m.gs[L.G_EV_PC])
        qpu, thread, text, instr = self._where(st, slot, pc)
        writes = {name: st.m.regs[slot, row].copy() for name, row in _registers_written(instr)}
        rec = TraceRecord(qpu, thread, pc, text, writes)
        if trace is True:
            stats.trace.append(rec)
        elif callable(trace):
            trace(rec)
        else:
            trace.write(str(rec) + "\n")

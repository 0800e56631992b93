"""The machine's state record: every array of one job, passed to the machine as one value."""

from typing import NamedTuple

import numpy as np

from ..jit import jit_record


@jit_record
class Machine(NamedTuple):
    """The state of one job as the machine reads and writes it (rows and columns: layout.py).

    A NamedTuple of arrays: numba passes it to compiled code as cheaply as the arrays one by one
    (measured: the same time per call), and the executor holds it as one value. The machine's
    functions take it too (as `m`); inlined by LLVM (jit.py), that measured the same run speed
    and 1-3 s CPU more cold compile than the arrays passed one by one (issue 13). `jit_record`
    has numba pass it into inlined functions as one struct value and across real calls field by
    field: the same machine code, from ~15% fewer IR instructions. Behind one pointer (a
    structref's or jitclass's form) the machine ran slower in every form measured
    (docs/emulator-internals.md, "The state record's form").

    Attributes:
        prog: int64 (instructions, P_NCOLS): the lowered program (program.lower).
        regs: uint32 (slots, rf + accumulators, 16): register file and r0-r5 of each thread slot.
        lanes: uint32 (slots, L_NROWS, 16): per-lane state (flags, MSF, TMU data, ...).
        ts: int64 (slots, T_NCOLS): per-thread state.
        qs: int64 (QPUs, Q_NCOLS): per-QPU state (modelled time, counters).
        gs: int64 (G_NCOLS,): job-wide state, counters and the event record.
        jp: int64 (J_NCOLS,): job parameters (options, cycle model).
        fp: float64: the memory model's state (calendars, L2T tags).
        fifo: uint32 (slots, FIFO_CAP, 16): TMU results waiting for ldtmu.
        sc: uint32 (16, 16): scratch rows: the ALUs' operands, results, carries and masks
            while an instruction issues (their rows: machine.issue, alu).
        fifo_ready: int64 (slots, FIFO_CAP): modelled time each result is ready.
        bp: uint8 (instructions,) or empty: breakpoints.
        sg_arrive: int64 (supergroups,): threads arrived at the barrier.
        sg_need: int64 (supergroups,): threads the barrier waits for.
        sg_time: int64 (supergroups,): modelled time of the latest arrival.
        hosts: int64: host addresses of the BOs' bytes, their copies and page flags (memory.py).
        bases: int64 (BOs,): GPU address of each BO, sorted.
        sizes: int64 (BOs,): size of each BO in bytes.
        prof: int64 (instructions, PF_NCOLS), or no rows when profiling is off: per-pc counts.
        tl: int64 (rows, 4), or no rows when profiling is off: the timeline's closed slices
            (track, TL_* state, start, end); tracks: QPUs, then thread slots.
        tl_open: int64 (tracks, 4): each track's open timeline slice (state, start, end) and,
            for a thread slot, its state while it does not issue (TLO_GAP).
        lk: int64 (rows, LK_NCOLS), or no rows when profiling is off: the TMU lookups.
        lk_pend: int64 (slots, FIFO_CAP): the lookup row of each queued TMU result (profiling).
    """

    prog: np.ndarray
    regs: np.ndarray
    lanes: np.ndarray
    ts: np.ndarray
    qs: np.ndarray
    gs: np.ndarray
    jp: np.ndarray
    fp: np.ndarray
    fifo: np.ndarray
    sc: np.ndarray
    fifo_ready: np.ndarray
    bp: np.ndarray
    sg_arrive: np.ndarray
    sg_need: np.ndarray
    sg_time: np.ndarray
    hosts: np.ndarray
    bases: np.ndarray
    sizes: np.ndarray
    prof: np.ndarray
    tl: np.ndarray
    tl_open: np.ndarray
    lk: np.ndarray
    lk_pend: np.ndarray

"""Column numbers of the arrays that hold a decoded program and the machine state.

The emulator's hot loop (`vc6_isa.emulator.machine`) runs under numba, which handles flat
integer arrays far better than objects. A decoded program is therefore an `int64` table with
one row per instruction word and the `P_*` columns below; the machine state is a handful of
arrays indexed by the `T_*` (per thread slot), `Q_*` (per QPU), `G_*` (whole job) and
`L_*` (per-lane rows) constants. Plain module-level integers: numba folds them into the
compiled code as constants.
"""

# ---- decoded program rows (int64 table, one row per instruction word) -------------------
# Ordered for the fast path (machine.issue.fast_step): the columns it reads at every
# instruction come first (0-31: four cache lines of a row), then what only the general path
# and branches read. The add and mul ALUs' columns have the same layout, the mul ALU's
# P_M* = P_A* + 8 (program._lower_alu fills both with the same offsets).
P_FAST = 0  # FAST_*: whether the run loop may execute it on its fast path (program.fast_path_shape)
P_SIG = 1  # bit set of SIG_* below
# Fast-path operands and destinations, derived from the columns below when the program is
# lowered (program.fast_columns), so the fast path does not work them out at every issue:
P_ACC_READS = 2  # bit set of the accumulators the operands read
P_HIGH_RF = 3  # 1 when the instruction reads or writes rf32-rf63 (which 4-thread mode lacks)
# regs row of operand k (add a, add b, mul a, mul b) at P_SRC + k: its register, or R_IMM for
# the small immediate and for an operand not read (program.fast_columns: the fast path tests no
# operand's kind at run time)
P_SRC = 4
P_ADST = 8  # regs row the add result goes to, or DST_NONE / DST_PERIPHERAL
P_MDST = 9  # the same for the mul result
P_SDST = 10  # regs row the signal's load (ldunif*, ldtmu) goes to, or DST_NONE
P_IMM = 11  # the small immediate (uint32 value) when SIG_SMIMM is set
P_USEFUL = 12  # ops of the two ALUs that are not a nop, 0-2 (for the utilisation figure)
P_WACC = 13  # bit set of the accumulators P_ADST, P_MDST and P_SDST write
P_ACARRY = 14  # 1: the add op's C flag is float_carry of its result, left to the flag update
P_MCARRY = 15  # the same for the mul op (semantics.CARRY_FROM_RESULT; ops of the dispatch only)
P_AOP = 16  # add op id (index into the dispatch's ADD op list)
P_AW = 17  # add destination waddr (-1: the op writes nothing)
P_AAU = 18  # a unpack code (f32: 1 none, 0 abs, 2 l, 3 h; f16: 0 none, 1 ff, 2 ll, 3 hh, 4 swp)
P_ABU = 19  # b unpack code (same coding)
P_ACOND = 20  # 0 none, 1 ifa, 2 ifb, 3 ifna, 4 ifnb
P_APF = 21  # 0 none, 1 pushz, 2 pushn, 3 pushc
P_AUF = 22  # 0 none, 4 andz ... 15 norc (the cond-field codes of reference section 6.1)
P_AFLOAT = 23  # 1 when the result is an f32 (N flag from the float sign rules)
P_MOP = 24
P_MW = 25
P_MAU = 26
P_MBU = 27
P_MCOND = 28
P_MPF = 29
P_MUF = 30
P_MFLOAT = 31
P_AA = 32  # add operand a mux (-1 when the op does not read it)
P_AB = 33  # add operand b mux (-1 when not read)
P_AM = 34  # add destination magic flag
P_APACK = 35  # output pack: 0 none, 1 .l, 2 .h
P_AUNPK = 36  # unpack kind of the op: 0 none, 1 f32, 2 f16 pair
P_KIND = 37  # K_INVALID / K_ALU / K_BRANCH
P_SIGADDR = 38
P_SIGMAGIC = 39
P_MA = 40
P_MB = 41
P_MM = 42
P_MPACK = 43
P_MUNPK = 44
P_RADDR_A = 45
P_RADDR_B = 46
P_BCOND = 47  # branch: 0 always, 2 a0, 3 na0, 4 alla, 5 anyna, 6 anya, 7 allna
P_MSFIGN = 48  # 0 none, 1 p, 2 q
P_BDI = 49  # 0 abs, 1 rel, 2 link register, 3 regfile
P_UB = 50
P_BDU = 51
P_OFFSET = 52  # signed byte offset (rel) or absolute byte address (abs)
P_LINK = 53
P_ANSRC = 54
P_MNSRC = 55
P_STATIC = 56  # hazard code of a rule the instruction breaks by itself (13.1), 0 if none
P_NCOLS = 64  # (padded: 512-byte rows, each hot part in as few cache lines as possible)
DST_NONE = -1  # P_ADST/P_MDST/P_SDST: no destination (none, or the magic nop)
DST_PERIPHERAL = -2  # P_ADST/P_MDST: a TMU register, written by destinations.write_dest
FAST_NO = 0  # P_FAST: the general path (machine.issue.step) issues it
FAST_SHAPE = 1  # P_FAST: a fast-path shape (program.fast_path_shape)
FAST_PLAIN = 2  # P_FAST: a fast-path shape without conditions, flag updates, TMU writes or
# signals other than PLAIN_SIGNALS (program.fast_kind): the fast path's copy for it skips their checks

K_INVALID = 0
K_ALU = 1
K_BRANCH = 2

SIG_THRSW = 1
SIG_LDUNIF = 2
SIG_LDUNIFA = 4
SIG_LDUNIFRF = 8
SIG_LDUNIFARF = 16
SIG_LDTMU = 32
SIG_LDVARY = 64
SIG_LDTLB = 128
SIG_LDTLBU = 256
SIG_UCB = 512
SIG_ROT = 1024
SIG_WRTMUC = 2048
SIG_SMIMM = 4096
#: the signals that load a value the fast path handles (uniforms, a TMU result)
SIG_LOADS = SIG_LDUNIF | SIG_LDUNIFA | SIG_LDUNIFRF | SIG_LDUNIFARF | SIG_LDTMU
#: the signals a FAST_PLAIN row may carry: the small immediate and the loads
PLAIN_SIGNALS = SIG_SMIMM | SIG_LOADS

SIGNAL_BITS = {
    "thrsw": SIG_THRSW, "ldunif": SIG_LDUNIF, "ldunifa": SIG_LDUNIFA, "ldunifrf": SIG_LDUNIFRF,
    "ldunifarf": SIG_LDUNIFARF, "ldtmu": SIG_LDTMU, "ldvary": SIG_LDVARY, "ldtlb": SIG_LDTLB,
    "ldtlbu": SIG_LDTLBU, "ucb": SIG_UCB, "rot": SIG_ROT, "wrtmuc": SIG_WRTMUC, "smimm": SIG_SMIMM,
}  # fmt: skip

# ---- register rows: rf0-rf63 then the accumulators -------------------------------------
R_ACC = 64  # regs[slot, R_ACC + n] is accumulator rn
#: not a register: the small immediate of the instruction machine.issue.fast_step issues, which
#: it fills there so that every operand is a row of `regs` (P_SRC)
R_IMM = R_ACC + 6
R_NROWS = R_IMM + 1  # the rows of `regs` per thread


def operand_row(mux, raddr_a, raddr_b, smimm):
    """Row of `regs` an operand mux reads (r0-r5, raddr_a, raddr_b); -2 for the small
    immediate. Plain Python, so that the program lowering (program.fast_columns) and the
    machine (machine.operands.source_row, compiled) apply the same rule."""
    if mux < 6:
        return R_ACC + mux
    if mux == 6:
        return raddr_a
    if smimm:
        return -2
    return raddr_b

# ---- per-lane state rows (uint32 [slot, row, 16]) ----------------------------------------
L_FA = 0  # flag A (0/1)
L_FB = 1  # flag B
L_MSF = 2  # multisample flags (compute: nonzero for lanes carrying an invocation)
L_RTOP = 3  # hidden multiply temporary (multop -> umul24)
L_R4PEND = 4  # legacy SFU result waiting to land in r4
L_TMUD = 5  # L_TMUD + k: k-th tmud data word of the lookup being assembled (k < 4)
L_ACT = 9  # scratch: lanes taking part in the TMU lookup being issued
L_NROWS = 10

# ---- per-thread-slot scalars (int64 [slot, col]) -----------------------------------------
T_STATUS = 0  # TS_* below
T_PC = 1  # instruction index (row of the program table)
T_UNIF = 2  # uniform pointer (byte address)
T_UNIFA = 3  # unifa pointer
T_LINK = 4  # link register (byte address)
T_BATCH = 5
T_SG = 6  # supergroup of the batch
T_FINAL = 7  # 1 once in the final section (a thrsw there ends the thread)
T_THRSW_CD = 8  # delay slots left before a pending thread switch takes effect (0: none)
T_THRSW_END = 9  # the pending switch ends the thread
T_THRSW_AGE = 10  # instructions since the last thrsw
T_MARKERS = 11  # last-thread-switch markers seen
T_BR_CD = 12  # delay slots left before a taken branch lands (0: none)
T_BR_PC = 13
T_BR_UNIF = 14  # new uniform pointer of the pending branch (-1: unchanged)
T_BR_AGE = 15  # instructions since the last branch
T_R4_CD = 16  # instructions until the legacy SFU result lands in r4
T_UNIFA_AGE = 17  # instructions since the last unifa write
T_TMU_CFG = (
    18  # TMU lookup configuration register (one byte per lookup, 0xff shifted in)
)
T_TMU_NDATA = 19  # tmud words written for the lookup being assembled
T_TMU_SEQ = 20  # 1 while a lookup is being assembled (tmuc/tmud written, no tmua yet)
T_FIFO_HEAD = 21
T_FIFO_COUNT = 22
T_WRITES = 23  # TMU write lookups not yet waited for with tmuwt
T_WRITE_DONE = 24  # modelled time at which the last TMU write completes
T_VALID = 25  # bits 0-5: accumulator r0-r5 defined; bit 6 flags; bit 7 rtop
T_PREV_ACC = 26  # accumulators written by the previous instruction (bit set)
T_PREV_RF0 = 27  # register-file entries written by the previous instruction (-1: none)
T_PREV_RF1 = 28
T_PREV_RF2 = 29
T_BARRIER = 30  # a syncb write is waiting for the next thread switch
T_READY = 31  # modelled time from which the thread may issue
T_QPU = 32
T_THREAD = 33  # thread number reported by tidx
T_INSTRS = 34
T_END_AGE = 35  # -1, or instructions executed since the thread-end thrsw
T_BP_SKIP = 36  # 1: do not stop at a breakpoint on the next instruction (resuming)
T_THRSW_NEXT = 37  # 1: a thrsw sat in the last delay slot of the pending switch (Appendix G.3)
T_BR_UNIF_ALT = 38  # uniform pointer of the pending branch if a unifa write lands in its delay slots
T_UNIFA_LINE = 39  # cache line the unifa stream last fetched (-1: none; a unifa write resets it)
T_UNIF_BO = 40  # the BO of the thread's last fast-path uniform read (a search hint: machine.issue.uniform_region)
T_NCOLS = 41

TS_FREE = 0
TS_RUN = 1
TS_BARRIER = 2

V_FLAGS = 64
V_RTOP = 128
V_ALL = 255

# ---- the profile (int64 [pc, col]; zero rows when profiling is off) ---------------------
PF_EXECS = 0  # thread-instructions issued at this pc
PF_ISSUE = 1  # cycles spent issuing it
PF_TMU_STALL = 2  # cycles its ldtmu / tmuwt / TMU-queue waits stalled the QPU (less PF_ROOF)
PF_SWITCHED = 3  # cycles the QPU had no runnable thread before this instruction resumed
PF_OTHER = 4  # other stall cycles while it issued (a thread end waiting for its TMU writes)
PF_TMU_REQ = 5  # TMU lookups it issued
PF_SFU = 6  # SFU operations it started
PF_ROOF = 7  # the part of its TMU waits due to the shared memory bus being booked (the roof)
PF_UNIFA = 8  # cycles its ldunifa / ldunifarf waited for a new line of the unifa stream
PF_BARRIER = 9  # cycles the QPU idled before this instruction because its threads sat at a barrier
PF_NCOLS = 10

# ---- the profile's timeline: rows (track, TL_* state, start, end) of modelled cycles -----
# track q < QPUs: QPU q; track QPUs + slot: thread slot `slot` (slot // threads is its QPU)
TL_ISSUING = 0
TL_TMU = 1  # waiting for a TMU result, the TMU queue or TMU writes (tmuwt)
TL_SWITCHED = 2  # QPU: no runnable thread
TL_OTHER = 3
TL_SWITCHED_OUT = 4  # thread: alive, but not issuing (another thread has the QPU, or not ready)
TL_BARRIER = 5  # thread: waiting at a barrier; QPU: idle because its threads wait at one
TL_IDLE = 6  # thread slot: no thread (before its batch starts, after it ends)
TL_ROOF = 7  # waiting for a TMU result or queue slot, delayed by the booked memory bus
TL_UNIFA = 8  # waiting for a line of the unifa stream
TL_NSTATES = 9
TLO_GAP = 3  # tl_open column: a thread track's state while it does not issue (TL_*)

# ---- the profile's TMU lookups: rows (int64 [lookup, col]) --------------------------------
LK_QPU = 0
LK_SLOT = 1
LK_PC = 2  # pc of the instruction that issued it
LK_ISSUE_T = 3  # modelled cycle the issuing instruction started
LK_READY = 4  # cycle its data (or write completion) arrives
LK_READY_IDLE = 5  # cycle it would arrive with nothing else booked on the memory bus
LK_BYTES = 6  # bytes read or written
LK_WRITE = 7  # 1: a write (no result to pop)
LK_POP_PC = 8  # pc of the ldtmu that popped its first result word (-1: none)
LK_POP_T = 9  # cycle that ldtmu started
LK_NCOLS = 10

# ---- per-QPU scalars (int64 [qpu, col]) -------------------------------------------------
Q_TIME = 0  # modelled cycle counter of the QPU
Q_CUR = 1  # thread slot currently issuing (-1: none)
Q_CHUNK = 2  # instructions issued since the scheduler last picked this QPU
Q_TMU_QUEUE = 3  # next entry of this QPU's ring of outstanding TMU lookups (memory model)
Q_IDLE = 4  # cycles with no runnable thread
Q_TMU_STALL = 5  # cycles stalled on ldtmu / tmuwt
Q_BUSY = 6  # cycles spent issuing instructions
Q_NCOLS = 7

# ---- job scalars (int64 [col]) ----------------------------------------------------------
G_NEXT_BATCH = 0
G_LIVE = 1  # threads started and not yet ended
G_EVENT = 2  # EV_* below: why the run loop returned
G_EV_SLOT = 3
G_EV_PC = 4
G_EV_CODE = 5  # hazard code (hazards.py)
G_EV_ARG = 6  # extra detail: an address, a register, a count
G_INSTRS = 7  # thread-instructions issued
G_USEFUL = 8  # useful add+mul issues
G_TMU_REQ = 9  # TMU lookups
G_TMU_RBYTES = 10
G_TMU_WBYTES = 11
G_UNIF_READS = 12
G_STEP = 13  # 1: return after every instruction (trace / breakpoints)
G_ENDED = 14  # threads ended
G_SFU = 15  # SFU operations
G_EV_ARG2 = 16
G_SLICE_END = 17  # run returns EV_SLICE once G_INSTRS reaches this (NEVER: no slices)
G_HANG_AT = 18  # modelled cycle after which run returns EV_TIMER, the hang timer (NEVER: off)
G_TL_ROWS = 19  # profiling: timeline slices closed (rows past the timeline array are dropped)
G_LK_ROWS = 20  # profiling: TMU lookups logged (rows past the lookup array are dropped)
G_NCOLS = 21
NEVER = 1 << 62  # a G_SLICE_END or G_HANG_AT that is never reached

EV_NONE = 0
EV_DONE = 1
EV_HAZARD = 2
EV_MMU = 3
EV_STEP = 4
EV_BREAK = 5
EV_SLICE = 6  # a bounded slice of work is over (resume with run)
EV_TIMER = 7  # the hang timer expired (G_EV_SLOT/G_EV_PC: the thread that would issue next)

# ---- job parameters (int64 [col]) -------------------------------------------------------
J_NQPU = 0
J_NTHREADS = 1  # thread slots per QPU (1, 2 or 4)
J_FIFO = 2  # TMU output FIFO words per thread (16 / threads)
J_CODE = 3  # GPU address of instruction 0
J_NROWS = 4
J_UNIF = 5
J_WG_X = 6
J_WG_Y = 7
J_WG_Z = 8
J_OFF_X = 9
J_OFF_Y = 10
J_OFF_Z = 11
J_WG_SIZE = 12
J_WGS_PER_SG = 13
J_BATCHES_PER_SG = 14
J_NBATCHES = 15
J_LOCAL_SHIFT = 16  # 32 - L (reference 15.3)
J_STRICT = 17
J_SINGLE_SEG = 18
J_BUDGET = 19  # cycle budget
J_ISSUE = 20  # cycles per instruction issue
J_TMU_LAT = 21  # TMU lookup latency in cycles
J_CHUNK = 22  # instructions a QPU runs before the scheduler looks again
J_SFU_LAT = 23
J_BATCH_START = 24  # cycles to start a batch on a thread slot
J_THREAD_NUM_STRIDE = (
    25  # thread number = slot index on the QPU * stride (2-thread mode: 2)
)
# memory model (executor.CycleModel; offsets into fp are computed by the executor)
J_QPUS_PER_SLICE = 26
J_TMU_LINE_CYCLES = 27  # TMU occupancy per distinct cache line of a lookup
J_LINE_SHIFT = 28  # log2 of the cache line size
J_TMU_QUEUE = 29  # outstanding TMU lookups per QPU before a new one stalls
J_CAL_BUCKET = 30  # cycles per bucket of a resource calendar
J_CAL_N = 31  # buckets per calendar
J_L2_SETS = 32
J_L2_WAYS = 33
J_F_CAL = 34  # fp offset of the calendars
J_F_L2 = 35  # fp offset of the L2T tags (each set's lines in order of last use: memory_model.l2_access)
J_F_TQ = 36  # fp offset of the per-QPU rings of lookup completion times
J_UNIFA_LAT = 37  # cycles from a unifa-stream line request to its data
J_F_TQ_IDLE = 38  # profiling: fp offset of each ring entry's idle-bus completion time (-1: off)
J_CAL_SHIFT = 39  # log2 of J_CAL_BUCKET when it is a power of two, else -1 (a shift, not a division)
J_CAL_MASK = 40  # J_CAL_N - 1 when J_CAL_N is a power of two, else -1 (a mask, not a modulo)
J_F_CAL_NEXT = 41  # fp offset of the calendars' pointers over used-up buckets (memory_model.cal_book)
J_SLICE_SHIFT = 42  # log2 of J_QPUS_PER_SLICE when it is a power of two, else -1 (a QPU's slice: a shift)
J_NCOLS = 43

# float parameters, then the memory model's state (fp[J_F_CAL:], laid out by the executor):
# one calendar per shared resource (resource 0: the memory bus behind L2T; 1 + s: the TMU of
# slice s), each J_CAL_N buckets of remaining capacity in cycles; the L2T tags; the
# per-QPU rings of TMU lookup completion times; each calendar's bucket pointers (cal_book).
F_READ_COST = 0  # memory-bus cycles per byte read from DRAM
F_WRITE_COST = 1  # memory-bus cycles per byte written to DRAM
F_CAL_BASE = 2  # F_CAL_BASE + r: first bucket index held by resource r's calendar (r < 8)
F_NCOLS = 10

UNIFORM_PAGE_SHIFT = 12  # pages of BO memory copied aside for the uniform streams (machine/memory.py)

FIFO_CAP = 64  # physical depth of the emulated FIFO (the architectural limit is checked separately)

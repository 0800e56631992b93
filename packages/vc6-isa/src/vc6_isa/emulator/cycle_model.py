"""The emulator's cycle model: its parameters, the Pi 4 timings that fixed them, and its error.

Everything the emulator reports in cycles or seconds comes from :class:`CycleModel`'s
parameters (applied by the machine, `vc6_isa.emulator.machine`), is *modelled*, not measured, and carries the band
:data:`CALIBRATION_ERROR`. :func:`modelled_label` is the one label every printer uses.

Calibration (`benchmarks/calibrate.py` reruns it): py-videocore6's examples, whose times on a
Pi 4 at 500 MHz its README publishes, run unchanged through :mod:`vc6_isa.compat` on the
emulator. Three fix the parameters (`CALIBRATION_PROGRAMS`, role "fitted"); the others
were not used to choose any value and are predictions (role "held out").

What the timings pin and what they do not: the read and write rates (summation, memset), and
one combination of TMU line cost and latency (sgemm): 4 cycles per line with a 100-cycle
latency fits as well as 5 with 50 (sgemm +0.3%, summation 0.0%; the held-out errors do not
change). The model keeps Mesa's 100-cycle estimate, the slower of the two for a program that
does not hide latency. sgemm's fit also rests on L2T catching the 16-fold reuse of its A
gathers: with no L2T its modelled time would be about 50% longer.

What runs where on V3D 4.2 in a BCM2711 (reference vc6-isa.md 1.1; v3d42-performance-facts.md
section 1): 2 slices of 4 QPUs; per QPU the instruction issue; per slice one TMU and the
uniform, instruction and L1T caches; for the whole GPU one L2T and one memory bus.

What the model leaves out (none of it is pinned by a published timing):

* instruction-cache and uniform-cache misses of code and of the ordinary uniform stream
  (both are free), and any effect of code alignment (py-videocore6 aligns its loops);
* the per-slice L1T: a lookup's lines each take a TMU slot whether they hit L1T or not;
* L2T write-back: written bytes cross the bus at once and do not allocate lines;
* thread-switch, barrier and `tmuwt` costs beyond their instructions and waits; SFU
  throughput (strict mode rejects reading an SFU result early, so no SFU stall is modelled);
* DRAM pages, refresh and contention with the CPU or the display; the GPU clock's ramp-up
  after idle (py-videocore6 timed with `force_turbo=1`);
* per-quad versus per-pixel TMU access and partial-line writes (bytes are charged as written).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

__all__ = [
    "CALIBRATION_ERROR",
    "CALIBRATION_PROGRAMS",
    "CalibrationProgram",
    "CycleModel",
    "calibration_program",
    "modelled_label",
    "parameter_table",
]


def _p(default: object, source: str) -> object:
    return field(default=default, metadata={"source": source})


@dataclass(frozen=True)
class CycleModel:
    """Every parameter of the modelled timing, each with the source or measurement that fixed
    it (`dataclasses.fields(CycleModel)[i].metadata["source"]`; `parameter_table`).

    Pass a changed copy as the executor option `cycle_model` (`dataclasses.replace`) to
    ask what-if questions; figures from a changed model are outside the calibration.

    Attributes:
        clock_mhz: The modelled QPU clock in MHz (a Pi 4's 500).
        issue_cycles: Cycles a QPU spends issuing one 16-lane instruction.
        tmu_latency: Cycles from a lookup's TMU and bus service to its data.
        tmu_cycles_per_line: TMU cycles (per slice) for each distinct cache line a lookup touches.
        tmu_queue_depth: Lookups a QPU may have outstanding before the next one stalls.
        qpus_per_slice: QPUs sharing one TMU (a slice).
        line_bytes: Cache line size in bytes (assumed).
        l2_bytes: L2T cache size in bytes (assumed), empty at every job start.
        l2_ways: L2T associativity (assumed).
        dram_read_gbps: Read bandwidth of the shared memory bus, GB/s.
        dram_write_gbps: Write bandwidth of the shared memory bus, GB/s.
        unifa_latency: Stall, in cycles, for each new line of the `unifa` stream (conservative).
        batch_start_cycles: Cycles to start a batch on a free thread slot.
        dispatch_overhead_us: Host submit + wait per job, added only when comparing with
            published wall times.
        scheduler_chunk: Emulator setting: instructions a QPU runs before the scheduler looks again.
        calendar_bucket_cycles: Emulator setting: time resolution of the shared-resource calendars.
        calendar_buckets: Emulator setting: calendar window for QPUs simulated out of step.
    """

    clock_mhz: float = _p(500.0, "Pi 4 default v3d_freq (config.txt docs); PV6 measured 500.5 MHz")
    issue_cycles: int = _p(
        4, "per QPU: 16 lanes on 4 physical lanes; 8 QPUs x 16 x 2 flop / 4 x 500 MHz = 32 Gflop/s (PV6 README)"
    )
    tmu_latency: int = _p(
        100,
        "cycles from a lookup's TMU and bus service to its data or write completion; Mesa's scheduler "
        "estimate, kept because it fits: with tmu_cycles_per_line it fixes sgemm (-0.6%), and summation, "
        "with only 2 vec4 loads in flight per QPU, turns latency-bound above it (+3.1% at 100)",
    )
    tmu_cycles_per_line: int = _p(
        4,
        "per slice: TMU cycles per distinct 64-byte line a lookup touches (a 16-lane gather = 16 lines, "
        "a contiguous vec4 = 4); fitted to PV6 sgemm (a 16-line gather of A + a row of B per k step)",
    )
    tmu_queue_depth: int = _p(
        8, "per QPU: outstanding lookups before the next stalls (Mesa's limit; PV6 'eight-depth' queue)"
    )
    qpus_per_slice: int = _p(4, "BCM2711: 2 slices x 4 QPUs, one TMU per slice (CORE_IDENT1; reference 1.1)")
    line_bytes: int = _p(64, "ASSUMED (not published; Mesa's scratch code calls 64 bytes a cache line)")
    l2_bytes: int = _p(128 * 1024, "ASSUMED L2T size (not published); shared, invalidated at every job start")
    l2_ways: int = _p(8, "ASSUMED L2T associativity (not published); LRU, hashed set index")
    dram_read_gbps: float = _p(
        7.27, "shared bus, reads: PV6 summation's rate (128 MiB in 18.53 ms less the dispatch overhead)"
    )
    dram_write_gbps: float = _p(
        3.77, "shared bus, writes: fitted to PV6 memset (64 MiB in 17.89 ms less the dispatch overhead)"
    )
    unifa_latency: int = _p(
        100,
        "CONSERVATIVE, not pinned: each new 64-byte line of the unifa stream stalls the thread this long "
        "plus its bus time (no prefetch, no L2T hit: Mesa notes ldunifa may bypass L2T)",
    )
    batch_start_cycles: int = _p(8, "cost of starting a batch on a free thread slot (unknown; small)")
    dispatch_overhead_us: float = _p(
        70.0,
        "host submit + wait per job, in published wall times, not in a job's GPU time (VkFFT on v3dv: "
        "~70 us per dispatch; the SUBMIT_CSD ioctl alone 32 us)",
    )
    scheduler_chunk: int = _p(64, "emulator: instructions a QPU runs before the scheduler looks again")
    calendar_bucket_cycles: int = _p(16, "emulator: time resolution of the shared-resource calendars")
    calendar_buckets: int = _p(2048, "emulator: calendar window (buckets) for QPUs simulated out of step")


def parameter_table(model: CycleModel | None = None) -> list[tuple[str, object, str]]:
    """`(name, value, source)` of every parameter of `model` (default: the calibrated one)."""
    model = model or CycleModel()
    return [(f.name, getattr(model, f.name), f.metadata["source"]) for f in fields(model)]


@dataclass(frozen=True)
class CalibrationProgram:
    """A py-videocore6 example with a published Pi 4 wall time (one dispatch + wait).

    Attributes:
        name: what it is, e.g. `"sgemm 1024^3"`.
        path: the example in the py-videocore6 repository.
        commit: the commit whose program was timed.
        measured_seconds: the published time, including one dispatch's host overhead.
        source: where the time is published.
        role: `"fitted"` (fixed a parameter) or `"held out"` (a prediction).
        modelled_gpu_seconds: the job's modelled GPU time in the calibrated model (no dispatch
            overhead), as `benchmarks/calibrate.py` last printed it (it says when it is stale);
            what printers compare our routines with.
    """

    name: str
    path: str
    commit: str
    measured_seconds: float
    source: str
    role: str
    modelled_gpu_seconds: float


#: py-videocore6 (github.com/Idein/py-videocore6) examples timed on a Pi 4 (500 MHz,
#: force_turbo=1). The 2020 versions are scalar-TMU predecessors of the same examples.
CALIBRATION_PROGRAMS: tuple[CalibrationProgram, ...] = (
    CalibrationProgram("sgemm 1024^3", "examples/sgemm.py", "175741a", 0.5546, "README (since 699f1d4)",
                       "fitted", 0.551024),
    CalibrationProgram("summation 32 Mi uint32", "examples/summation.py", "175741a", 0.01853448400004254,
                       "README (fab9e2d)", "fitted", 0.019037),
    CalibrationProgram("memset 64 MiB", "examples/memset.py", "175741a", 0.01788834699993913,
                       "README (fab9e2d)", "fitted", 0.017805),
    CalibrationProgram("scopy 16 Mi float32", "examples/scopy.py", "175741a", 0.02768789600000332,
                       "README (fab9e2d)", "held out", 0.027034),
    CalibrationProgram("summation, 2020 scalar", "examples/summation.py", "e50d53a", 0.01914575099999638,
                       "README (316a027)", "held out", 0.018464),
    CalibrationProgram("memset, 2020 scalar", "examples/memset.py", "e50d53a", 0.017949476000467257,
                       "README (316a027)", "held out", 0.017805),
    CalibrationProgram("scopy, 2020 scalar", "examples/scopy.py", "e50d53a", 0.028124778999881528,
                       "README (316a027)", "held out", 0.027034),
)  # fmt: skip

#: The error band of every modelled figure: the largest |modelled / measured - 1| over all of
#: CALIBRATION_PROGRAMS, fitted and held out, rounded up to a whole percent. Last run of
#: benchmarks/calibrate.py: sgemm -0.6%, summation +3.1%, memset -0.1% (fitted); scopy -2.1%,
#: 2020 summation -3.2%, memset -0.4%, scopy -3.6% (held out). It holds for programs built from
#: the calibrated mechanisms (TMU loads, stores and gathers, ALU issue, one thread per QPU);
#: figures that lean on unpinned ones (the unifa stream, modelled conservatively; thread
#: switches, modelled as free) carry an unknown error on top.
CALIBRATION_ERROR = 0.04


def calibration_program(name: str) -> CalibrationProgram:
    """The entry of `CALIBRATION_PROGRAMS` called `name`."""
    for prog in CALIBRATION_PROGRAMS:
        if prog.name == name:
            return prog
    raise KeyError(f"no calibration program {name!r}; see CALIBRATION_PROGRAMS")


def modelled_label() -> str:
    """The label of a figure from the cycle model: `"modelled, ±4% calibration error"`."""
    return f"modelled, ±{CALIBRATION_ERROR * 100:.0f}% calibration error"

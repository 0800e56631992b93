# ruff: noqa: F811, B018  (pytest fixtures imported from test_emulator_support; DSL labels are expressions)
"""The cycle model: modelled figures are labelled, scale as the model says (4 cycles per
instruction per QPU, 8 QPUs in parallel, TMU latency hidden by thread switches), reach the
perfmon counters, and the emulated device's clock reads 500 MHz modelled."""

from __future__ import annotations

import dataclasses

import numpy as np
import v3d_drm
from test_emulator_support import dev, end_program  # noqa: F401
from vc6_isa.asm import *
from vc6_isa.emulator import (
    CALIBRATION_ERROR,
    CALIBRATION_PROGRAMS,
    CycleModel,
    EmulatorStats,
    modelled_label,
    parameter_table,
)


def loop_kernel(iterations: int):
    @qpu
    def kernel(asm):
        mov(rf[3], 1)
        shl(rf[3], rf[3], iterations)
        L.loop
        sub(rf[3], rf[3], 1, cond="pushz")
        b(R.loop, cond="na0")
        nop()
        nop()
        nop()
        end_program()

    return kernel


def test_stats_are_labelled_modelled_and_consistent(dev):
    job = dev.dispatch(assemble(loop_kernel(10)), [])
    job.wait()
    st = job.stats
    assert isinstance(st, EmulatorStats) and st.modelled
    n = 2 + 5 * 1024 + 7  # prologue, 1024 x (sub, b, 3 delay slots), program end
    assert st.thread_instructions == n
    cm = CycleModel()
    assert st.cycles >= n * cm.issue_cycles
    assert st.cycles < n * cm.issue_cycles + 100
    assert abs(st.modelled_seconds - st.cycles / 500e6) < 1e-12
    assert "modelled" in str(st)
    assert 0 < st.alu_utilisation < 1


def test_eight_qpus_run_in_parallel(dev):
    one = dev.dispatch(assemble(loop_kernel(10)), [], workgroups=(1, 1, 1))
    one.wait()
    eight = dev.dispatch(assemble(loop_kernel(10)), [], workgroups=(8, 1, 1))
    eight.wait()
    assert eight.stats.thread_instructions == 8 * one.stats.thread_instructions
    assert eight.stats.cycles < one.stats.cycles * 1.05  # one batch per QPU, same time
    sixteen = dev.dispatch(assemble(loop_kernel(10)), [], workgroups=(16, 1, 1))
    sixteen.wait()
    assert sixteen.stats.cycles > 1.9 * one.stats.cycles  # two threads per QPU share its issue


def test_thread_switches_hide_tmu_latency(dev):
    """Four threads per QPU each issuing a load then switching: the stall is hidden."""

    def kernel_for(switch: bool):
        @qpu
        def kernel(asm):
            eidx(r0, sig=ldunif)
            shl(r0, r0, 2)
            add(rf[4], r5, r0)
            mov(rf[3], 1)
            shl(rf[3], rf[3], 6)
            L.loop
            mov(tmua, rf[4])
            if switch:
                nop(sig=thrsw)
                nop()
                nop()
            nop(sig=ldtmu(r1))
            sub(rf[3], rf[3], 1, cond="pushz")
            b(R.loop, cond="na0")
            nop()
            nop()
            nop()
            end_program()

        return kernel

    src = dev.array((16,), np.uint32)
    stalls = {}
    for switch in (False, True):
        job = dev.dispatch(assemble(kernel_for(switch)), [src.address], bos=[src], workgroups=(32, 1, 1), threading=True)
        job.wait()
        stalls[switch] = job.stats.tmu_stall_cycles
    assert stalls[True] < stalls[False] / 2
    src.close()


def test_perfmon_counters_and_modelled_clock(dev):
    pm = dev.perfmon(["cycle-count", "QPU-total-clk-cycles-executing-valid-instr"])
    job = dev.dispatch(assemble(loop_kernel(8)), [], workgroups=(8, 1, 1), perfmon=pm)
    job.wait()
    values = pm.values()
    assert values["cycle-count"] == job.stats.cycles
    assert values["QPU-total-clk-cycles-executing-valid-instr"] == 4 * job.stats.thread_instructions
    pm.close()
    clock = v3d_drm.gpu_clock_mhz(dev)
    assert clock.modelled is True
    assert abs(clock.mhz - 500.0) < 1e-6


# ---- the memory model (vc6_isa.emulator.cycle_model): shared bus, per-slice TMU, L2T, unifa


@qpu
def streamer(asm, mode: str, inflight: int = 4):
    """Per QPU (one batch each): ``n`` 16-lane 32-bit lookups walking its own region with
    ``stride`` bytes between lanes (4: one 64-byte line per lookup; 64: 16 lines) and ``step``
    bytes between lookups. mode "read", "write" or "copy" (read, then write the data 4 MiB on).
    Uniforms: base, n, lane stride, step, region bytes per QPU."""
    nop(sig=ldunifrf(rf[1]))  # base
    nop(sig=ldunifrf(rf[3]))  # n
    eidx(r0, sig=ldunifrf(rf[4]))  # lane stride
    umul24(r0, r0, rf[4], sig=ldunifrf(rf[5]))  # lane offset; rf5 = step
    tidx(r1, sig=ldunifrf(rf[6]))  # rf6 = region bytes per QPU
    shr(r1, r1, 2)
    band(r1, r1, 7)
    umul24(r1, r1, rf[6])
    add(r0, r0, r1)
    add(rf[2], rf[1], r0)  # this lane's first address
    mov(r2, 1)
    shl(r2, r2, 11)
    shl(rf[7], r2, 11)  # 4 MiB: copy destination offset
    add(rf[8], rf[2], rf[7])  # copy: where this lane's first word goes
    if mode != "write":
        for _ in range(inflight):
            mov(tmua, rf[2]).add(rf[2], rf[2], rf[5])
    L.loop
    if mode == "write":
        mov(tmud, rf[2])
        mov(tmua, rf[2]).add(rf[2], rf[2], rf[5])
    else:
        nop(sig=ldtmu(r3))
        if mode == "copy":
            mov(tmud, r3)
            mov(tmua, rf[8]).add(rf[8], rf[8], rf[5])
        mov(tmua, rf[2]).add(rf[2], rf[2], rf[5])
    sub(rf[3], rf[3], 1, cond="pushz")
    b(R.loop, cond="na0")
    nop()
    nop()
    nop()
    if mode != "write":
        for _ in range(inflight):
            nop(sig=ldtmu(r3))
    tmuwt()
    end_program()


def stream(dev, mode, n, *, lane_stride=4, step=64, qpus=8, inflight=4, model=None, region=1 << 18):
    buf = dev.array(((8 << 20) // 4,), np.uint32)
    opts = {"cycle_model": model} if model else None
    job = dev.dispatch(assemble(streamer, mode, inflight), [buf.address, n, lane_stride, step, region],
                       bos=[buf], workgroups=(qpus, 1, 1), executor_options=opts)  # fmt: skip
    job.wait()
    buf.close()
    return job.stats


def test_reads_are_capped_by_the_shared_bus_writes_by_their_lower_rate(dev):
    cm = CycleModel()
    n = 2048  # lookups of 64 bytes per QPU, distinct lines
    read = stream(dev, "read", n)
    write = stream(dev, "write", n)
    nbytes = 8 * n * 64
    read_gbps = nbytes / read.modelled_seconds / 1e9
    write_gbps = nbytes / write.modelled_seconds / 1e9
    assert 0.85 * cm.dram_read_gbps < read_gbps <= 1.01 * cm.dram_read_gbps
    assert 0.85 * cm.dram_write_gbps < write_gbps <= 1.01 * cm.dram_write_gbps


def test_a_copy_pays_read_time_plus_write_time(dev):
    """Reads and writes share one bus (the structure scopy checks against hardware)."""
    cm = CycleModel()
    n = 2048
    copy = stream(dev, "copy", n)
    nbytes = 8 * n * 64
    bus_seconds = nbytes / (cm.dram_read_gbps * 1e9) + nbytes / (cm.dram_write_gbps * 1e9)
    assert 0.95 * bus_seconds < copy.modelled_seconds < 1.15 * bus_seconds


def test_a_gather_takes_one_tmu_slot_per_line(dev):
    """One QPU, one lookup at a time: a 16-line gather costs 15 more TMU slots than a
    contiguous 16-lane access (its lines hit L2T after the first pass, so no bus time)."""
    cm = CycleModel()
    n = 64
    # step 0: every lookup reads the same lines (L2T hits after the first)
    contiguous = stream(dev, "read", n, step=0, qpus=1, inflight=1)
    gather = stream(dev, "read", n, lane_stride=64, step=0, qpus=1, inflight=1)
    extra = (gather.cycles - contiguous.cycles) / n
    assert abs(extra - 15 * cm.tmu_cycles_per_line) <= 2


def test_l2t_hits_cost_no_bus_time(dev):
    slow_bus = dataclasses.replace(CycleModel(), dram_read_gbps=0.05)
    n = 256
    same = stream(dev, "read", n, step=0, qpus=1, model=slow_bus)
    fresh = stream(dev, "read", n, step=64, qpus=1, model=slow_bus)
    line_cycles = 64 / 0.05e9 * 500e6
    assert same.cycles < 2 * line_cycles + n * 40
    assert fresh.cycles > 0.9 * n * line_cycles


def test_the_calendar_keeps_bandwidth_when_qpus_run_out_of_step(dev):
    """The scheduler runs QPUs out of step; the shared bus must neither lose nor invent
    capacity because of it."""
    fine = stream(dev, "read", 1024, model=dataclasses.replace(CycleModel(), scheduler_chunk=4))
    coarse = stream(dev, "read", 1024, model=dataclasses.replace(CycleModel(), scheduler_chunk=256))
    assert abs(fine.cycles / coarse.cycles - 1) < 0.03


def test_unifa_stream_stalls_once_per_new_line(dev):
    cm = CycleModel()

    def kernel_for(nwords: int):
        @qpu
        def kernel(asm):
            nop(sig=ldunifrf(rf[1]))
            mov(unifa, rf[1])
            nop()
            nop()
            nop()
            for _ in range(nwords):
                nop(sig=ldunifa)
            end_program()

        return kernel

    buf = dev.array((64,), np.uint32)
    buf.address
    cycles = {}
    for nwords in (1, 16, 17, 32):
        job = dev.dispatch(assemble(kernel_for(nwords)), [buf.address], bos=[buf])
        job.wait()
        cycles[nwords] = job.stats.cycles
    line = cm.unifa_latency + 64 * cm.clock_mhz / (cm.dram_read_gbps * 1e3)
    assert cycles[16] - cycles[1] == 15 * cm.issue_cycles  # same line: no stall
    assert abs(cycles[17] - cycles[16] - cm.issue_cycles - line) <= 2  # a new line
    assert cycles[32] - cycles[17] == 15 * cm.issue_cycles
    buf.close()


def test_every_parameter_has_a_source_and_figures_carry_the_band():
    for name, value, source in parameter_table():
        assert value is not None and len(source) > 10, name
    assert 0 < CALIBRATION_ERROR < 0.15  # the issue's bar; the value comes from calibrate.py
    assert f"±{CALIBRATION_ERROR * 100:.0f}%" in modelled_label()
    roles = {p.role for p in CALIBRATION_PROGRAMS}
    assert roles == {"fitted", "held out"}
    assert all(p.measured_seconds > 0 and p.modelled_gpu_seconds > 0 for p in CALIBRATION_PROGRAMS)
    # the stored modelled figures lie within the band of the measured ones (with the overhead)
    overhead = CycleModel().dispatch_overhead_us * 1e-6
    for p in CALIBRATION_PROGRAMS:
        assert abs((p.modelled_gpu_seconds + overhead) / p.measured_seconds - 1) <= CALIBRATION_ERROR, p.name

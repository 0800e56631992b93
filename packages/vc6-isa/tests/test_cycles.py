# ruff: noqa: F811, B018  (pytest fixtures imported from test_emulator_support; DSL labels are expressions)
"""The cycle model: modelled figures are labelled, scale as the model says (4 cycles per
instruction per QPU, 8 QPUs in parallel, TMU latency hidden by thread switches), reach the
perfmon counters, and the emulated device's clock reads 500 MHz modelled."""

from __future__ import annotations

import numpy as np
import v3d_drm
from test_emulator_support import dev, end_program  # noqa: F401
from vc6_isa.asm import *
from vc6_isa.emulator import CycleModel, EmulatorStats


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

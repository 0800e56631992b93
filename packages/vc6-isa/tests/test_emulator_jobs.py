# ruff: noqa: F811, B018  (pytest fixtures imported from test_emulator_support; DSL labels are expressions)
"""Emulated jobs that can be stopped, the kernel's hang check, progress, and threads sharing a
device: the emulator runs in bounded slices on the device's worker thread."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import v3d_drm
from test_emulator_support import dev, end_program, epilogue, probe, prologue, store  # noqa: F401
from v3d_drm import GPUTimeout, JobCancelled
from vc6_isa.asm import *
from vc6_isa.emulator import QPUError
from vc6_isa.emulator import executor as emulator_executor


@qpu
def forever(asm):
    L.top
    b(R.top)
    nop()
    nop()
    nop()
    end_program()


@qpu
def counted_loop(asm):
    """Every lane: loop (first uniform after the output address) times, then store the count."""
    prologue()
    nop(sig=ldunif)
    mov(r1, r5)
    mov(r2, 0)
    L.loop
    sub(r1, r1, 1, cond="pushz")
    b(R.loop, cond="na0")
    add(r2, r2, 1)
    nop()
    nop()
    store(r2)
    epilogue()


@pytest.fixture
def own_dev():
    """A device of the test's own: closing it stops whatever a failed test left running."""
    with v3d_drm.open("emulator") as device:
        yield device


def loop_job(dev, count: int, batches: int, options=None):
    out = dev.array((1, 16), np.uint32)  # every batch stores the same row
    job = dev.dispatch(assemble(counted_loop), [out.address, count], workgroups=(batches, 1, 1), bos=[out],
                       executor_options=options)  # fmt: skip
    return job, out


def test_endless_loop_times_out_on_time_other_threads_run_and_cancel_stops_it(own_dev):
    dev = own_dev
    probe(dev, counted_loop, 1, [1])  # the machine is loaded (the first job of a process loads it)
    job = dev.dispatch(assemble(forever), [], executor_options={"hang_timeout": None})
    ticks = []
    stop = threading.Event()

    def ticker():
        while not stop.is_set():
            ticks.append(time.monotonic())
            time.sleep(0.005)

    thread = threading.Thread(target=ticker)
    thread.start()
    start = time.monotonic()
    try:
        with pytest.raises(GPUTimeout, match=r"1x1x1 workgroups.*did not complete within 0.5 s; it is still running"):
            job.wait(timeout=0.5)
        waited = time.monotonic() - start
    finally:
        stop.set()
        thread.join()
    assert 0.5 <= waited < 1.0
    assert max(np.diff(ticks)) < 0.2  # the emulator lets other Python threads run
    assert not job.done and job.progress() == 0.0  # one batch, not finished
    assert job.cancel()
    start = time.monotonic()
    with pytest.raises(JobCancelled, match="stopped before it completed: Job.cancel"):
        job.wait()
    assert time.monotonic() - start < 0.5
    out, _ = probe(dev, counted_loop, 1, [3])  # the device is still usable
    assert out[0].tolist() == [3] * 16


def test_closing_the_device_stops_an_endless_job_promptly():
    dev = v3d_drm.open("emulator")
    job = dev.dispatch(assemble(forever), [], executor_options={"hang_timeout": None})
    while job.progress() is None:  # running (past the machine's load)
        time.sleep(0.01)
    start = time.monotonic()
    dev.close()
    assert time.monotonic() - start < 0.5
    assert not dev.backend._worker.is_alive()


def test_a_hang_names_qpu_thread_pc_and_the_loop(own_dev):
    job = own_dev.dispatch(assemble(forever), [], executor_options={"hang_timeout": 1e-4})
    with pytest.raises(QPUError) as info:
        job.wait(timeout=60)
    error = info.value
    assert (error.qpu, error.thread, error.rule) == (0, 0, "4.8 (uapi)")
    assert 0 <= error.pc <= 3
    text = " ".join(str(error).split())  # the message wraps at 100 columns
    assert "the job hangs: no new batch started between the hang checks at 0.0001 s and 0.0002 s" in text
    assert "in the loop pc 0..3: `b -32` at pc 0 jumps back to pc 0" in text
    assert "executor option hang_timeout" in text


@pytest.mark.parametrize("bad", [-1, "soon", float("nan")])
def test_a_bad_hang_timeout_is_a_clear_error(dev, bad):
    with pytest.raises(v3d_drm.V3DError, match="executor option hang_timeout=.*use seconds > 0"):
        dev.dispatch(assemble(forever), [], executor_options={"hang_timeout": bad}).wait(timeout=30)


def test_the_hang_check_is_the_kernels_batch_progress_rule(own_dev):
    dev = own_dev
    # one batch of the loop, to learn its modelled length
    job, out = loop_job(dev, 2000, 1)
    one = job.wait().stats.cycles
    # a job many times longer than the window survives while new batches keep starting ...
    window_s = one / 500e6 * 3
    job, out = loop_job(dev, 2000, 256, {"hang_timeout": window_s})
    timed = job.wait().stats
    assert timed.cycles > 20 * one and (np.array(out) == 2000).all()
    # ... and the timer changes nothing about the run
    job, _ = loop_job(dev, 2000, 256, {"hang_timeout": None})
    untimed = job.wait().stats
    assert (timed.cycles, timed.thread_instructions) == (untimed.cycles, untimed.thread_instructions)
    # a single batch longer than the window hangs, with the same window
    job, _ = loop_job(dev, 2000 * 8, 1, {"hang_timeout": window_s})
    with pytest.raises(QPUError, match="the job hangs"):
        job.wait()


def test_slices_do_not_change_what_runs_and_progress_moves(dev, monkeypatch):
    job, out = loop_job(dev, 300, 96)
    whole = job.wait().stats
    expected = np.array(out)
    slices = []
    original = emulator_executor._next_slice
    polled = threading.Event()

    def tiny(instructions, seconds):
        slices.append(instructions)
        # each slice waits for the test thread to read the progress once more: otherwise the
        # whole job can run within one of Python's thread switch intervals, unobserved (a CI
        # dry run saw no fraction at all)
        polled.wait(timeout=10)
        polled.clear()
        return original(instructions, seconds) and 257

    monkeypatch.setattr(emulator_executor, "_SLICE_FIRST", 257)
    monkeypatch.setattr(emulator_executor, "_next_slice", tiny)
    job, out = loop_job(dev, 300, 96)
    seen = []
    while not job.done:
        seen.append(job.progress())
        polled.set()
    sliced = job.wait().stats
    assert len(slices) > 100
    assert (sliced.cycles, sliced.thread_instructions, sliced.batches) == (whole.cycles, whole.thread_instructions, whole.batches)
    np.testing.assert_array_equal(np.array(out), expected)
    fractions = [p for p in seen if p is not None]
    assert fractions == sorted(fractions) and any(0 < p < 1 for p in fractions)
    assert job.progress() == 1.0


@qpu
def store_without_tmuwt(asm, immediate):
    """out[lane] = value + 4 * lane + immediate; ends without tmuwt (strict level "mesa": rule
    13.6/32; otherwise the store lands, as on the hardware)."""
    eidx(r0, sig=ldunif)  # r5 = out address
    shl(r0, r0, 2)
    add(r1, r5, r0, sig=ldunif)  # r1 = out + 4 * lane; r5 = value
    add(r2, r5, r0)
    add(tmud, r2, immediate)
    mov(tmua, r1)
    end_program()


def test_threads_sharing_a_device_each_get_their_own_options_programs_and_buffers(dev):
    threads, jobs_each = 4, 60
    checked, swaps, errors = [], [], []
    programs = [assemble(store_without_tmuwt, immediate=t + 1) for t in range(threads)]

    def worker(t: int) -> None:
        try:
            for i in range(jobs_each):
                out = dev.array(16, np.uint32)
                value = 1000 * t + 10 * i
                strict = "mesa" if (i + t) % 2 == 0 else False  # 13.6/32 is a Mesa-level rule
                job = dev.dispatch(programs[t], [out.address, value], bos=[out],
                                   executor_options={"strict": "mesa" if strict else False})
                try:
                    job.wait()
                    outcome = "ran"
                except QPUError as exc:
                    # the message names this thread's own job (on its "job:" line, maybe wrapped)
                    own = " ".join(job.description.split()) in " ".join(str(exc).split())
                    outcome = "13.6/32" if exc.rule == "13.6/32" and own else str(exc)
                if outcome != ("13.6/32" if strict else "ran"):
                    swaps.append((t, i, strict, outcome))
                elif not strict and out.tolist() != [value + 4 * lane + t + 1 for lane in range(16)]:
                    swaps.append((t, i, strict, out.tolist()))
                checked.append((t, i))
                out.bo.close()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert errors == [] and swaps == []
    assert len(checked) == threads * jobs_each


@qpu
def plus_one(asm):
    """data[lane] += 1 (first uniform: the address of data)."""
    eidx(r0, sig=ldunif)
    shl(r0, r0, 2)
    add(r1, r5, r0)
    mov(tmua, r1)
    nop(sig=ldtmu(r2))
    add(tmud, r2, 1)
    mov(tmua, r1)
    epilogue()


CTRL_C_CHILD = textwrap.dedent("""
    import json, signal, sys, time
    import numpy as np, v3d_drm
    # a shell that starts the suite in the background (`cmd &`) starts it with SIGINT ignored,
    # which the child would inherit: Ctrl-C is what this test sends
    signal.signal(signal.SIGINT, signal.default_int_handler)
    from vc6_isa.asm import assemble
    sys.path.insert(0, sys.argv[1])
    from test_emulator_jobs import forever, plus_one

    dev = v3d_drm.open("emulator")
    job = dev.dispatch(assemble(forever), [], executor_options={"hang_timeout": None, "cycle_budget": 1 << 60})
    while job.progress() is None:
        time.sleep(0.01)
    print("waiting", flush=True)
    try:
        job.wait()
        result = {"interrupted": False}
    except KeyboardInterrupt:
        result = {"interrupted": True, "at": time.monotonic()}
    try:
        job.wait(timeout=2)
    except v3d_drm.JobCancelled as exc:
        result["cancelled"] = str(exc)
    data = dev.asarray(np.arange(16, dtype=np.uint32) * 3)
    dev.dispatch(assemble(plus_one), [data.address], bos=[data]).wait(timeout=30)
    result["after"] = data.tolist()
    print(json.dumps(result), flush=True)
""")


def test_ctrl_c_during_a_wait_interrupts_promptly_and_stops_the_job():
    # The job is endless, so a wait that Ctrl-C could not interrupt would never return. The
    # 0.5 s target (issue 14) is measured by benchmarks/job_control.py; here the bound leaves
    # room for a loaded host, where the child itself may not be scheduled for a while (and the
    # cycle budget is out of reach: on a loaded host the job ran into the default one).
    child = subprocess.Popen([sys.executable, "-c", CTRL_C_CHILD, str(Path(__file__).parent)], stdout=subprocess.PIPE, text=True,
                             env=dict(os.environ, V3D_DEVICE="emulator"))  # fmt: skip
    try:
        assert child.stdout.readline().strip() == "waiting"
        time.sleep(0.5)
        sent = time.monotonic()
        child.send_signal(signal.SIGINT)
        result = json.loads(child.stdout.readline())
    finally:
        child.kill()
        child.wait()
    assert result["interrupted"] and result["at"] - sent < 2.0
    assert "stopped before it completed: Ctrl-C" in result["cancelled"]
    assert result["after"] == [3 * lane + 1 for lane in range(16)]


def test_rows_with_only_a_load_signal_take_the_plain_fast_path_copy():
    """`program.fast_kind`: a fast-path row whose only signals are a load (ldunif, ldunifa,
    ldtmu, their rf forms) or smimm is plain; a condition, a flag update, a TMU write, rot or
    an f32 input unpack (which the dispatch copies inlined into the plain copy leave out) sends
    it to the other copy of `machine.issue.fast_step`, which checks and applies them."""
    from vc6_isa.emulator import layout
    from vc6_isa.emulator.program import decode_words

    @qpu
    def kernel(asm):
        fadd(rf[1], rf[1], r0).fmul(r0, r5, rf[2])  # plain
        fadd(rf[1], rf[1], r0, sig=ldunifa).fmul(r0, r5, rf[2])  # plain: a load
        nop(sig=ldtmu(r1))  # plain: a load
        mov(rf[3], r5, sig=ldunifrf(rf[4]))  # plain: a load into the rf
        add(rf[5], rf[5], 1)  # plain: smimm
        add(rf[5], rf[5], 1, cond="pushz")  # a flag push
        mov(rf[6], r1, cond="ifa")  # a condition
        add(tmua, rf[7], rf[8])  # a TMU write
        rotate(r4, r2, 3)  # rot
        fadd(rf[1], rf[1].unpack("abs"), r0)  # an f32 input unpack (add ALU, a)
        fmul(r0, r5, rf[2].unpack("h"))  # an f32 input unpack (mul ALU, b)
        nop(sig=thrsw)  # not a fast-path shape

    kinds = decode_words(np.asarray(assemble(kernel), np.uint64)).table[:, layout.P_FAST].tolist()
    plain, shape, no = layout.FAST_PLAIN, layout.FAST_SHAPE, layout.FAST_NO
    assert kinds[:12] == [plain] * 5 + [shape] * 6 + [no]


@qpu
def reads_before_writes(asm, push=None):
    """Rows whose mul ALU reads a register the add ALU writes in the same instruction: plain
    rows, or with `push` (a flag push on the add, which changes no result) the fast path's other
    copy."""
    eidx(r0)
    mov(rf[1], r0)
    mov(r2, 7)
    nop()
    add(rf[1], rf[1], r0, cond=push).mov(r1, rf[1])  # mov reads rf1 before the add's write: lane
    add(r2, r2, r0, cond=push).sub(r3, r2, r0)  # sub reads r2 before the add's write: 7 - lane
    nop(sig=ldunif)
    shl(r0, r0, 2)
    for value in (r1, rf[1], r2, r3):
        add(rf[3], r5, r0)
        mov(tmud, value)
        mov(tmua, rf[3], sig=ldunif if value is not r3 else None)
    epilogue()


@pytest.mark.parametrize("push", [None, "pushz"])
def test_fast_rows_read_every_operand_before_either_alu_writes(dev, push):
    """Both copies of `issue.fast_step` read register operands in place
    (`lanes.register_row`): a register one ALU writes is still the old value for the other
    ALU of the same instruction (reference 10.1: operands are read before any write)."""
    from vc6_isa.emulator import layout
    from vc6_isa.emulator.program import decode_words

    code = assemble(reads_before_writes, push)
    kinds = decode_words(np.asarray(code, np.uint64)).table[:, layout.P_FAST].tolist()
    assert kinds[4:6] == [layout.FAST_PLAIN if push is None else layout.FAST_SHAPE] * 2
    outs = [dev.array((16,), np.uint32) for _ in range(4)]
    dev.dispatch(code, [o.address for o in outs], bos=outs).wait(timeout=30)
    lane = np.arange(16)
    assert [o.tolist() for o in outs] == [lane.tolist(), (2 * lane).tolist(), (7 + lane).tolist(), ((7 - lane) % 2**32).tolist()]

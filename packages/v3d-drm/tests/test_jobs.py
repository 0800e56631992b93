"""Jobs that can be stopped, and devices that threads share (emulated device, fake executor).

The fake executor's ``spin`` option makes a job work for that many seconds in 1 ms slices,
stopping when cancelled, like the vc6-isa emulator does with real programs (its own tests,
test_emulator_jobs.py, do the same with an endless QPU loop).
"""

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
from v3d_drm import GPUTimeout, JobCancelled, uapi
from v3d_drm.clock import CLOCK_LOOP_PROGRAM
from v3d_drm.sync import WAIT_SLICE_SECONDS

CODE = np.array(CLOCK_LOOP_PROGRAM, dtype=np.uint64)


def test_wait_times_out_on_time_naming_the_job_which_keeps_running(dev):
    job = dev.dispatch(CODE, [1], workgroups=5, executor_options={"spin": 30})
    start = time.monotonic()
    with pytest.raises(GPUTimeout, match=r"5x1x1 workgroups.*did not complete within 0.3 s; it is still running"):
        job.wait(timeout=0.3)
    assert 0.3 <= time.monotonic() - start < 0.8
    assert not job.done
    first = job.progress()
    time.sleep(0.05)
    assert 0 < first < job.progress() < 1  # it goes on in the background
    assert job.cancel()
    start = time.monotonic()
    with pytest.raises(JobCancelled, match="5x1x1 workgroups.*stopped before it completed: Job.cancel"):
        job.wait()
    assert time.monotonic() - start < 0.5
    assert job.done and job.progress() == 1.0 and not job.cancel()
    assert dev.dispatch(CODE, [7]).wait().stats["loop_count"] == 7  # the device is still usable


def test_jobs_run_in_order_and_done_polls_without_blocking(dev):
    slow = dev.dispatch(CODE, [1], executor_options={"spin": 0.3})
    after = dev.dispatch(CODE, [2])
    assert not slow.done and not after.done and after.progress() is None  # queued: nothing known
    while not after.done:
        time.sleep(0.01)
    assert slow.done  # one job at a time, in submission order, like the kernel's CSD queue
    assert after.wait().stats["loop_count"] == 2


def test_closing_a_job_or_the_device_stops_running_and_queued_jobs(executor):
    dev = v3d_drm.open("emulator", executor=executor)
    running = dev.dispatch(CODE, [1], executor_options={"spin": 30})
    queued = dev.dispatch(CODE, [2], executor_options={"spin": 30})
    while running.progress() in (None, 0):
        time.sleep(0.005)
    running.close()
    with pytest.raises(JobCancelled, match="closed before it completed"):
        running.wait()
    while queued.progress() in (None, 0):  # the next job starts once the closed one has stopped
        time.sleep(0.005)
    start = time.monotonic()
    dev.close()
    assert time.monotonic() - start < 0.5
    assert dev.backend._worker is not None and not dev.backend._worker.is_alive()
    assert not queued.done and queued.progress() is None  # the device is gone: nothing to ask


def test_wait_bo_fallback_is_sliced_and_times_out(dev):
    out = dev.array(4, np.uint32)
    job = dev.dispatch(CODE, [1], bos=[out], executor_options={"spin": 30})
    start = time.monotonic()
    with pytest.raises(GPUTimeout, match="spinning job did not complete within 0.25 s"):
        dev._wait_bos([out.bo], 0.25, "spinning job")
    assert 0.25 <= time.monotonic() - start < 0.75
    job.cancel()
    dev._wait_bos([out.bo], 5, "spinning job")  # the cancelled job's fence signals


def test_threads_sharing_a_device_each_get_their_own_options_buffers_and_descriptions(dev):
    threads, jobs_each = 8, 150
    checked, swaps, errors = [], [], []

    def worker(t: int) -> None:
        try:
            for i in range(jobs_each):
                out = dev.array(4, np.uint32)
                tag = t * 100_000 + i
                job = dev.dispatch(CODE, [i], workgroups=t + 1, bos=[out],
                                   executor_options={"marker_address": out.address + 4, "marker": tag, "tag": tag})
                job.wait()
                got = (out.tolist()[1], job.stats["options"]["tag"], job.stats["loop_count"], job.stats["description"])
                if got != (tag, tag, i, job.description) or f"{t + 1}x1x1 workgroups" not in job.description:
                    swaps.append((t, i, got))
                checked.append(tag)
                out.bo.close()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert not errors and swaps == []
    assert len(set(checked)) == threads * jobs_each


def test_alloc_free_and_perfmons_from_several_threads(dev, executor):
    threads, rounds = 8, 60
    errors = []
    table = dev.counter_table()
    cycle, other = (next(c for c in table if c.name == "cycle-count"), table[3])

    def worker(t: int) -> None:
        try:
            pm = dev.perfmon([cycle.name, other.index])
            expected = 0
            for i in range(rounds):
                bos = [dev.alloc(4096 * (1 + (i + t) % 3)) for _ in range(3)]
                for k, bo in enumerate(bos):
                    np.frombuffer(bo.buffer, np.uint32)[:] = t * 1000 + k
                loop = t + i
                dev.dispatch(CODE, [loop], bos=bos, perfmon=pm).wait()
                expected += 4 * (2 + 5 * loop + 7)  # the clock loop: 2 + 5n + 7 instructions
                for k, bo in enumerate(bos):
                    assert (np.frombuffer(bo.buffer, np.uint32) == t * 1000 + k).all(), "a BO was shared"
                    bo.close()
            assert pm.values() == {cycle.name: expected, other.name: (1000 + other.index) * rounds}
            pm.close()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    before = (len(dev.backend._handles), len(dev.backend._perfmons))
    pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert errors == []
    addresses = [(bo.address, bo.size) for bo in dev.backend._bos.values()]
    assert (len(dev.backend._handles), len(dev.backend._perfmons)) == before
    assert len({a for a, _ in addresses}) == len(addresses)


CTRL_C_CHILD = textwrap.dedent("""
    import json, signal, sys, time
    # a shell that starts the suite in the background (`cmd &`) starts it with SIGINT ignored,
    # which the child would inherit: Ctrl-C is what this test sends
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.path.insert(0, sys.argv[1])
    import numpy as np, v3d_drm
    from fake_executor import FakeExecutor
    from v3d_drm.clock import CLOCK_LOOP_PROGRAM
    dev = v3d_drm.open("emulator", executor=FakeExecutor())
    job = dev.dispatch(np.array(CLOCK_LOOP_PROGRAM, np.uint64), [1], executor_options={"spin": 60})
    print("waiting", flush=True)
    try:
        job.wait()
        result = {"interrupted": False}
    except KeyboardInterrupt:
        result = {"interrupted": True, "at": time.monotonic()}
    try:
        job.wait(timeout=1)
    except v3d_drm.JobCancelled as exc:
        result["cancelled"] = str(exc)
    result["after"] = dev.dispatch(np.array(CLOCK_LOOP_PROGRAM, np.uint64), [4]).wait(timeout=5).stats["loop_count"]
    print(json.dumps(result), flush=True)
""")


def test_ctrl_c_during_a_wait_interrupts_within_half_a_second_and_stops_the_job():
    child = subprocess.Popen([sys.executable, "-c", CTRL_C_CHILD, str(Path(__file__).parent)],
                             stdout=subprocess.PIPE, text=True, env=dict(os.environ, V3D_DEVICE="emulator"))
    try:
        assert child.stdout.readline().strip() == "waiting"
        time.sleep(0.3)
        sent = time.monotonic()
        child.send_signal(signal.SIGINT)
        result = json.loads(child.stdout.readline())
    finally:
        child.kill()
        child.wait()
    assert result["interrupted"] and result["at"] - sent < 0.5
    assert "stopped before it completed: Ctrl-C" in result["cancelled"]
    assert result["after"] == 4


def test_a_finalizer_that_runs_inside_the_backend_waits_for_the_outer_call(dev):
    """Garbage collection may run a forgotten BO's finalizer (unmap + GEM_CLOSE) in the middle of
    another ioctl of the same thread, e.g. while SUBMIT_CSD walks the BOs (seen in the stress
    test before: "dictionary changed size during iteration"). Here the finalizer runs at once."""
    backend = dev.backend
    bo = dev.alloc(4096)
    handle, address = bo.handle, bo.address
    with backend._inside():  # as if an ioctl of this thread were walking the BOs
        walk = iter(backend._bos)
        bo.close()  # the finalizer's munmap and GEM_CLOSE
        next(walk)  # would raise RuntimeError if the BOs had changed under the walk
        assert handle in backend._handles and address in backend._bos
    assert handle not in backend._handles and address not in backend._bos
    assert not backend._deferred


def test_waits_are_a_series_of_short_syncobj_waits(dev, monkeypatch):
    """What keeps Ctrl-C prompt on the kernel device too, where an interrupted wait may be
    restarted by the kernel itself: no single SYNCOBJ_WAIT blocks longer than WAIT_SLICE_SECONDS."""
    slices = []
    ioctl = dev.backend.ioctl

    def recording(request, arg):
        if request == uapi.DRM_IOCTL_SYNCOBJ_WAIT:
            slices.append((arg.timeout_nsec - time.monotonic_ns()) / 1e9)
        return ioctl(request, arg)

    monkeypatch.setattr(dev.backend, "ioctl", recording)
    job = dev.dispatch(CODE, [1], executor_options={"spin": 30})
    with pytest.raises(GPUTimeout):
        job.wait(timeout=0.35)
    assert len(slices) >= 4 and max(slices) <= WAIT_SLICE_SECONDS
    job.cancel()


def test_device_wait_timeout_covers_all_its_jobs(dev):
    jobs = [dev.dispatch(CODE, [i], executor_options={"spin": spin}) for i, spin in enumerate((0.2, 30, 30))]
    start = time.monotonic()
    with pytest.raises(GPUTimeout):
        dev.wait(*jobs, timeout=0.3)
    assert 0.3 <= time.monotonic() - start < 0.45  # not 0.2 + 0.3: the first job used part of it
    for job in jobs[1:]:
        job.cancel()
        with pytest.raises(JobCancelled):
            job.wait(timeout=5)

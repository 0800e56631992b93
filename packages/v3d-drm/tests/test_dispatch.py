"""Dispatch, jobs, sync, perfmons and the clock on the emulated device (fake executor)."""

import gc

import numpy as np
import pytest
import v3d_drm
from fake_executor import MARKER, FakeExecutor
from v3d_drm import GPUTimeout, InvalidArgument, MMUFault, V3DError
from v3d_drm.clock import CLOCK_LOOP_PROGRAM

CODE = np.array(CLOCK_LOOP_PROGRAM, dtype=np.uint64)


def test_dispatch_hands_the_executor_mesa_cfg_words(dev, executor):
    out = dev.array(4, np.uint32)
    job = dev.dispatch(CODE, [3], workgroups=(8, 1, 1), threading=True, bos=[out],
                       executor_options={"marker_address": out.address + 8})
    job.wait()
    seen = executor.jobs[-1]
    assert seen.cfg[:5] == (8 << 16, 1 << 16, 1 << 16, 0x110, 7)
    assert seen.cfg[5] & 7 == 0b101 and seen.coef == (0, 0, 0, 0)
    np.testing.assert_array_equal(executor.code_seen[-1][: CODE.size], CODE)  # staged code is really there
    assert executor.uniforms_seen[-1][0] == 3
    assert out.tolist() == [0, 0, MARKER, 0]
    assert job.done and job.stats["loop_count"] == 3 and job.stats["cycles"] == 4 * (2 + 15 + 7)
    assert "8x1x1 workgroups" in seen.description


def test_code_and_uniforms_can_be_device_arrays(dev, executor):
    code = dev.asarray(CODE)
    uniforms = dev.asarray(np.array([2, 0], dtype=np.uint32))
    dev.dispatch(code, uniforms).wait()
    assert (executor.jobs[-1].cfg[5] & ~7, executor.jobs[-1].cfg[6]) == (code.address, uniforms.address)


def test_uniform_values_float32_and_negative(dev, executor):
    dev.dispatch(CODE, np.array([1.0], dtype=np.float32)).wait()
    assert executor.uniforms_seen[-1][:1].view(np.float32)[0] == 1.0
    dev.dispatch(CODE, [-1, 5]).wait()  # two's complement
    assert executor.uniforms_seen[-1][:2].tolist() == [0xFFFFFFFF, 5]


def test_staged_bos_are_freed_when_the_job_is_collected(dev):
    before = len(dev.backend._handles)
    job = dev.dispatch(CODE, [1])
    assert len(dev.backend._handles) == before + 1
    job.wait()
    assert len(dev.backend._handles) == before
    dev.dispatch(CODE, [1])  # never waited for: the finalizer frees it
    gc.collect()
    assert len(dev.backend._handles) == before and not dev.backend._syncobjs


def test_several_jobs_in_flight_and_chained(dev, executor):
    jobs = [dev.dispatch(CODE, [i]) for i in range(5)]
    chained = dev.dispatch(CODE, [9], in_sync=jobs[-1])
    dev.wait(*jobs, chained)
    assert [j.stats["loop_count"] for j in jobs + [chained]] == [0, 1, 2, 3, 4, 9]
    after_done = dev.dispatch(CODE, [1], in_sync=jobs[0])  # a finished job is no dependency
    after_done.wait()


def test_in_sync_without_a_fence_is_a_typed_error(dev):
    empty = dev.syncobj()
    with pytest.raises(InvalidArgument, match="holds no fence") as info:
        dev.dispatch(CODE, [1], in_sync=empty)
    assert info.value.ioctl == "DRM_IOCTL_V3D_SUBMIT_CSD"
    dev.dispatch(CODE, [1], in_sync=dev.syncobj(signaled=True)).wait()


def test_foreign_jobs_and_syncobjs_are_rejected(dev):
    with v3d_drm.open("emulator", executor=FakeExecutor()) as other:
        foreign = other.dispatch(CODE, [1])
        with pytest.raises(InvalidArgument, match="another device"):
            dev.dispatch(CODE, [1], in_sync=foreign)
        with pytest.raises(InvalidArgument, match="not a job of this device"):
            dev.wait(foreign)
        with pytest.raises(InvalidArgument, match="another device"):
            dev.dispatch(CODE, [1], in_sync=other.syncobj(signaled=True))
    dev.dispatch(CODE, [1]).wait()


def test_wait_timeout_names_the_job(dev):
    job = dev.dispatch(CODE, [1], workgroups=3)
    job.syncobj.reset()  # as if the job's fence never arrived
    with pytest.raises(GPUTimeout, match="3x1x1 workgroups.*did not complete within 0.05 s"):
        job.wait(timeout=0.05)
    assert not job.done
    done = dev.dispatch(CODE, [1])
    while not done.done:  # polling never blocks
        pass
    done.wait(timeout=0)


def test_executor_errors_are_re_raised_by_wait(dev):
    out = dev.array(4, np.uint32)
    job = dev.dispatch(CODE, [1], bos=[out], executor_options={"marker_address": out.address + out.bo.size})
    with pytest.raises(MMUFault) as info:
        job.wait()
    assert info.value.address == out.address + out.bo.size
    assert info.value.nearest == (out.bo.address, out.bo.size)
    assert "nearest buffer" in str(info.value)
    assert any("while running CSD dispatch" in note for note in info.value.__notes__)
    with pytest.raises(MMUFault):
        job.wait()  # still reports the failure
    custom = V3DError("qpu exploded")
    with pytest.raises(V3DError, match="qpu exploded"):
        dev.dispatch(CODE, [1], executor_options={"raise": custom}).wait()
    dev.dispatch(CODE, [1]).wait()


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"workgroups": (0, 1, 1)}, "zero count"),
        ({"local_size": (300, 1, 1)}, "local_size"),
        ({"wgs_per_sg": 20}, "wgs_per_sg"),
        ({"batches": 0}, "batches"),
        ({"bos": [object()]}, "BufferObjects or DeviceArrays"),
        ({"perfmon": "cycle-count"}, "perfmon"),
        ({"in_sync": 5}, "in_sync must be"),
    ],
)
def test_bad_dispatch_arguments(dev, kwargs, words):
    before = len(dev.backend._handles)
    with pytest.raises(InvalidArgument, match=words):
        dev.dispatch(CODE, [1], **kwargs)
    assert len(dev.backend._handles) == before  # the staged BO was released
    dev.dispatch(CODE, [1]).wait()


@pytest.mark.parametrize(
    "code, uniforms, words",
    [
        ([], [1], "code is empty"),
        ([1.5], [1], "integer words"),
        ([1 << 64], [1], "64 bits"),
        (CODE, [1 << 32], "32 bits"),
        (CODE, ["a"], "integer words"),
    ],
)
def test_bad_code_or_uniforms(dev, code, uniforms, words):
    with pytest.raises(InvalidArgument, match=words):
        dev.dispatch(code, uniforms)


def test_misaligned_device_array_code_is_rejected(dev):
    words = dev.array(8, np.uint32)
    with pytest.raises(InvalidArgument, match="8-byte aligned"):
        dev.dispatch(words[1:], [1])


def test_submit_csd_checks_the_raw_words(dev):
    bo = dev.alloc(4096)
    good = [1 << 16, 1 << 16, 1 << 16, 0x110, 0, bo.address, bo.address + 64]
    dev.submit_csd(good, bos=[bo]).wait()
    with pytest.raises(InvalidArgument, match="not inside any BO listed"):
        dev.submit_csd(good[:5] + [bo.address + 8192, good[6]], bos=[bo])
    with pytest.raises(InvalidArgument, match="uniforms address"):
        dev.submit_csd(good[:6] + [0x10], bos=[bo])
    with pytest.raises(InvalidArgument, match="at least one BO"):
        dev.submit_csd(good, bos=[])
    with pytest.raises(InvalidArgument, match="coef"):
        dev.submit_csd(good, bos=[bo], coef=(0, 0, 0))
    with pytest.raises(InvalidArgument, match="NUM_WGS_Y"):
        dev.submit_csd(good[:1] + [0] + good[2:], bos=[bo])


def test_perfmon_values_by_name(dev):
    with dev.perfmon(["cycle-count", "QPU-total-idle-clk-cycles", 86]) as pm:
        dev.dispatch(CODE, [2], perfmon=pm).wait()
        dev.dispatch(CODE, [2], perfmon=pm).wait()
        values = pm.values()
    assert values == {"cycle-count": 2 * 4 * 19, "QPU-total-idle-clk-cycles": 2 * 1013, "compute-active-cycles": 2 * 1086}
    with pytest.raises(InvalidArgument, match="closed"):
        pm.values()


def test_perfmon_bad_names(dev):
    with pytest.raises(InvalidArgument, match="did you mean cycle-count"):
        dev.perfmon(["cycle-cout"])
    with pytest.raises(InvalidArgument, match="1..32"):
        dev.perfmon(list(range(33)))
    with pytest.raises(InvalidArgument, match="out of range"):
        dev.perfmon([87])
    dev.perfmon(["cycle-count"]).close()


def test_gpu_clock_is_modelled_on_the_emulator():
    for mhz in (500.0, 250.0):
        with v3d_drm.open("emulator", executor=FakeExecutor(clock_mhz=mhz)) as dev:
            clock = v3d_drm.gpu_clock_mhz(dev)
            assert clock.modelled is True
            assert clock.mhz == pytest.approx(mhz)
            assert "modelled" in str(clock)


def test_closed_device_refuses_everything(executor):
    dev = v3d_drm.open("emulator", executor=executor)
    job = dev.dispatch(CODE, [1])
    dev.close()
    for call in (lambda: dev.dispatch(CODE, [1]), lambda: dev.perfmon(["cycle-count"]),
                 lambda: job.wait(), lambda: dev.array(3)):
        with pytest.raises(InvalidArgument, match="closed"):
            call()


def test_code_from_an_object_with_words(dev, executor):
    class Program:  # the shape of vc6_isa.asm.Program
        words = CODE

    dev.dispatch(Program(), [4]).wait()
    np.testing.assert_array_equal(executor.code_seen[-1][: CODE.size], CODE)


def test_jobs_from_several_threads(dev, executor):
    import threading

    errors = []

    def worker(base):
        try:
            for i in range(50):
                dev.dispatch(CODE, [base + i]).wait()
        except Exception as exc:  # noqa: BLE001 - collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(1000 * t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(u[0] for u in executor.uniforms_seen) == sorted(1000 * t + i for t in range(4) for i in range(50))


def test_hardware_clock_uses_the_difference_of_two_runs(monkeypatch):
    from types import SimpleNamespace

    from v3d_drm import clock

    runs = {}

    def fake_run(dev, n):  # 20 cycles per iteration at 500 MHz, plus a fixed 1 ms of overhead
        runs[n] = True
        return 20 * n + 12345, 20 * n / 500e6 + 1e-3, None

    monkeypatch.setattr(clock, "_timed_run", fake_run)
    measured = clock.gpu_clock_mhz(SimpleNamespace(info=SimpleNamespace(backend="kernel")), iterations=1000)
    assert sorted(runs) == [1000, 2000]
    assert measured.modelled is False and measured.mhz == pytest.approx(500.0)
    assert "measured" in str(measured)

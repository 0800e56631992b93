import numpy as np
import pytest
import v3d_drm
import vc6_kernels
from vc6_isa.asm import Program
from vc6_kernels import KernelTypeError, KernelValueError


def test_default_device_is_opened_once():
    assert vc6_kernels.default_device() is vc6_kernels.default_device()


def test_every_routine_program_is_inspectable_and_cached():
    programs = [
        vc6_kernels.sgemm.program(100, False),
        vc6_kernels.summation.program(np.float32),
        vc6_kernels.scopy.program(),
        vc6_kernels.memset.program(1),
        vc6_kernels.stencil.program(),
    ]
    for prog in programs:
        assert isinstance(prog, Program) and len(prog) > 10
        assert "thrsw" in prog.disassembly()
    assert vc6_kernels.memset.program(2) is vc6_kernels.memset.program(2)


def test_record_is_empty_outside_and_collects_in_order():
    with vc6_kernels.record() as rec:
        vc6_kernels.memset(np.zeros(10, np.uint8), 1)
        vc6_kernels.summation(np.ones(10, np.int32))
    assert len(rec.jobs) == 2 and all(job.done for job in rec.jobs)
    vc6_kernels.memset(np.zeros(10, np.uint8), 1)
    assert len(rec.jobs) == 2


def test_record_profile_profiles_every_job_inside():
    with vc6_kernels.record(profile=True, executor_options={"strict": True}) as rec:
        vc6_kernels.summation(np.ones(1000, np.int32))
    (job,) = rec.jobs
    assert rec.executor_options == {"strict": True, "profile": True}
    assert int(job.profile.executions.sum()) == job.stats.thread_instructions
    assert int(job.profile.tmu_requests.sum()) == job.stats.tmu_requests
    with vc6_kernels.record() as rec:
        vc6_kernels.summation(np.ones(1000, np.int32))
    assert rec.jobs[0].profile is None


def test_error_classes_are_numpy_like():
    assert issubclass(KernelTypeError, TypeError) and issubclass(
        KernelValueError, ValueError
    )


def test_wrong_device_type():
    with pytest.raises(TypeError, match="v3d_drm.Device"):
        vc6_kernels.summation(np.ones(3, np.float32), device="emulator")


def test_non_contiguous_device_view_is_refused(dev):
    buf = dev.array((20,), np.float32)
    with pytest.raises(ValueError, match="non-contiguous"):
        vc6_kernels.summation(buf[::2])


def test_explicit_device(dev):
    assert isinstance(dev, v3d_drm.Device)
    assert vc6_kernels.summation(np.arange(100, dtype=np.int32), device=dev) == 4950

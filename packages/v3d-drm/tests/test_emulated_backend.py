"""The emulated backend answers the kernel's ioctls with the kernel's structs and errnos."""

import ctypes
import errno
import mmap

import numpy as np
import pytest
from fake_executor import FakeExecutor
from v3d_drm import uapi
from v3d_drm.backends.emulated import (
    GPU_VA_ALIGNMENT,
    MMAP_OFFSET_BASE,
    EmulatedBackend,
)


@pytest.fixture
def be():
    backend = EmulatedBackend(FakeExecutor())
    yield backend
    backend.close()


def errno_of(be, request, arg):
    with pytest.raises(OSError) as info:
        be.ioctl(request, arg)
    return info.value.errno


def create(be, size):
    arg = uapi.drm_v3d_create_bo(size=size)
    be.ioctl(uapi.DRM_IOCTL_V3D_CREATE_BO, arg)
    return arg.handle, arg.offset


def gem_close(be, handle):
    be.ioctl(uapi.DRM_IOCTL_GEM_CLOSE, uapi.drm_gem_close(handle=handle))


def test_version_reports_v3d_with_kernel_truncation_semantics(be):
    probe = uapi.drm_version()
    be.ioctl(uapi.DRM_IOCTL_VERSION, probe)  # NULL buffers: only the lengths come back
    assert (probe.name_len, probe.desc_len) == (3, len("Broadcom V3D graphics"))
    buf = ctypes.create_string_buffer(b"\xff" * 8)
    short = uapi.drm_version(name_len=2, name=ctypes.addressof(buf))
    be.ioctl(uapi.DRM_IOCTL_VERSION, short)
    assert buf.raw[:3] == b"v3\xff" and short.name_len == 3  # truncated, no NUL written


def test_get_param_is_a_pi4_and_checks_pad_value_and_range(be):
    arg = uapi.drm_v3d_get_param(param=uapi.DRM_V3D_PARAM_V3D_CORE0_IDENT1)
    be.ioctl(uapi.DRM_IOCTL_V3D_GET_PARAM, arg)
    assert arg.value == 0x81001422
    assert errno_of(be, uapi.DRM_IOCTL_V3D_GET_PARAM, uapi.drm_v3d_get_param(param=99)) == errno.EINVAL
    assert errno_of(be, uapi.DRM_IOCTL_V3D_GET_PARAM, uapi.drm_v3d_get_param(param=1, pad=1)) == errno.EINVAL
    assert errno_of(be, uapi.DRM_IOCTL_V3D_GET_PARAM, uapi.drm_v3d_get_param(param=1, value=5)) == errno.EINVAL


def test_handles_start_at_1_and_the_lowest_free_is_reused(be):
    handles = [create(be, 4096)[0] for _ in range(3)]
    assert handles == [1, 2, 3]
    gem_close(be, 2)
    gem_close(be, 1)
    assert create(be, 1)[0] == 1
    assert create(be, 1)[0] == 2
    assert create(be, 1)[0] == 4


def test_gpu_addresses_are_nonzero_aligned_in_4gib_and_reused(be):
    (_, a1), (h2, a2) = create(be, 1), create(be, 3 * GPU_VA_ALIGNMENT + 1)
    _, a3 = create(be, 1)
    assert a1 == GPU_VA_ALIGNMENT  # page 0 is never handed out
    assert a2 == a1 + GPU_VA_ALIGNMENT and a3 == a2 + 4 * GPU_VA_ALIGNMENT
    assert all(a % GPU_VA_ALIGNMENT == 0 and 0 < a < 1 << 32 for a in (a1, a2, a3))
    gem_close(be, h2)
    assert create(be, 2 * GPU_VA_ALIGNMENT)[1] == a2  # first fit reuses the freed range


def test_bo_errnos_mirror_the_kernel(be):
    assert errno_of(be, uapi.DRM_IOCTL_V3D_CREATE_BO, uapi.drm_v3d_create_bo(size=0)) == errno.EINVAL
    assert errno_of(be, uapi.DRM_IOCTL_V3D_CREATE_BO, uapi.drm_v3d_create_bo(size=1, flags=1)) == errno.EINVAL
    assert errno_of(be, uapi.DRM_IOCTL_V3D_CREATE_BO, uapi.drm_v3d_create_bo(size=0xFFFFFFFF)) == errno.ENOMEM
    assert errno_of(be, uapi.DRM_IOCTL_GEM_CLOSE, uapi.drm_gem_close(handle=7)) == errno.EINVAL
    assert errno_of(be, uapi.DRM_IOCTL_V3D_MMAP_BO, uapi.drm_v3d_mmap_bo(handle=7)) == errno.ENOENT
    assert errno_of(be, uapi.DRM_IOCTL_V3D_GET_BO_OFFSET, uapi.drm_v3d_get_bo_offset(handle=7)) == errno.ENOENT
    assert errno_of(be, uapi.DRM_IOCTL_V3D_WAIT_BO, uapi.drm_v3d_wait_bo(handle=7)) == errno.EINVAL
    handle, _ = create(be, 1)
    assert errno_of(be, uapi.DRM_IOCTL_V3D_MMAP_BO, uapi.drm_v3d_mmap_bo(handle=handle, flags=1)) == errno.EINVAL


def test_mmap_at_the_mmap_bo_offset_and_reused_memory_reads_zero(be):
    handle, address = create(be, 100)
    arg = uapi.drm_v3d_mmap_bo(handle=handle)
    be.ioctl(uapi.DRM_IOCTL_V3D_MMAP_BO, arg)
    assert arg.offset == MMAP_OFFSET_BASE + address and arg.offset % mmap.PAGESIZE == 0
    with pytest.raises(OSError):
        be.mmap(2 * mmap.PAGESIZE, arg.offset)  # longer than the BO
    m = be.mmap(mmap.PAGESIZE, arg.offset)
    m[:4] = b"\x01\x02\x03\x04"
    gem_close(be, handle)
    assert m[:4] == b"\x01\x02\x03\x04"  # the mapping keeps the object alive after GEM_CLOSE
    be.munmap(m)
    handle2, address2 = create(be, 100)
    assert address2 == address  # range reused ...
    arg2 = uapi.drm_v3d_mmap_bo(handle=handle2)
    be.ioctl(uapi.DRM_IOCTL_V3D_MMAP_BO, arg2)
    m2 = be.mmap(mmap.PAGESIZE, arg2.offset)
    assert m2[:4] == bytes(4)  # ... and zero-filled like a fresh kernel BO
    be.munmap(m2)


def submit(be, handles, request=uapi.DRM_IOCTL_V3D_SUBMIT_CSD, struct=uapi.drm_v3d_submit_csd, **fields):
    arr = (ctypes.c_uint32 * len(handles))(*handles)
    arg = struct(bo_handles=ctypes.addressof(arr) if handles else 0, bo_handle_count=len(handles), **fields)
    arg.cfg[:] = [1 << 16, 1 << 16, 1 << 16, 0x110, 0, 0x20000, 0x20000]
    be.ioctl(request, arg)
    # The submit returns at once, as on the kernel; WAIT_BO on a listed BO waits for the job.
    be.ioctl(uapi.DRM_IOCTL_V3D_WAIT_BO, uapi.drm_v3d_wait_bo(handle=handles[0], timeout_ns=10**10))
    return arg


def test_submit_csd_errnos_in_kernel_order(be):
    handle, _ = create(be, 4096)
    with pytest.raises(OSError) as e:
        submit(be, [handle], pad=1)
    assert e.value.errno == errno.EINVAL
    with pytest.raises(OSError) as e:
        submit(be, [handle], flags=1)
    assert e.value.errno == errno.EINVAL
    with pytest.raises(OSError) as e:
        submit(be, [])
    assert e.value.errno == errno.EINVAL
    with pytest.raises(OSError) as e:
        submit(be, [handle, 42])
    assert e.value.errno == errno.ENOENT
    with pytest.raises(OSError) as e:
        submit(be, [handle], perfmon_id=3)
    assert e.value.errno == errno.ENOENT
    empty = uapi.drm_syncobj_create()
    be.ioctl(uapi.DRM_IOCTL_SYNCOBJ_CREATE, empty)
    with pytest.raises(OSError) as e:
        submit(be, [handle], in_sync=empty.handle)
    assert e.value.errno == errno.EINVAL  # an in_sync without a fence
    submit(be, [handle], in_sync=999, out_sync=998)  # unknown handles are ignored, as in the kernel


def test_old_72_byte_submit_struct_is_accepted(be):
    # py-videocore6 still sends the 5.3-5.16 layout; drm_ioctl() zero-extends it (rule 1 of 1.6).
    class drm_v3d_submit_csd_72(ctypes.Structure):
        _fields_ = uapi.drm_v3d_submit_csd._fields_[:7]  # cfg..perfmon_id
    assert ctypes.sizeof(drm_v3d_submit_csd_72) == 72
    request = uapi._IOW(uapi.DRM_IOCTL_BASE, uapi.DRM_COMMAND_BASE + uapi.DRM_V3D_SUBMIT_CSD, drm_v3d_submit_csd_72)
    assert request == 0x40486447
    handle, _ = create(be, 4096)
    submit(be, [handle], request=request, struct=drm_v3d_submit_csd_72)
    assert be.executor.jobs[-1].cfg[3] == 0x110


def test_syncobj_semantics(be):
    created = uapi.drm_syncobj_create()
    be.ioctl(uapi.DRM_IOCTL_SYNCOBJ_CREATE, created)
    handles = (ctypes.c_uint32 * 1)(created.handle)
    wait = uapi.drm_syncobj_wait(handles=ctypes.addressof(handles), count_handles=1, timeout_nsec=0)
    assert errno_of(be, uapi.DRM_IOCTL_SYNCOBJ_WAIT, wait) == errno.EINVAL  # no fence, no WAIT_FOR_SUBMIT
    wait.flags = uapi.DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT
    assert errno_of(be, uapi.DRM_IOCTL_SYNCOBJ_WAIT, wait) == errno.ETIME
    handle, _ = create(be, 4096)
    submit(be, [handle], out_sync=created.handle)
    be.ioctl(uapi.DRM_IOCTL_SYNCOBJ_WAIT, wait)  # the job's fence is signalled
    be.ioctl(uapi.DRM_IOCTL_SYNCOBJ_RESET, uapi.drm_syncobj_array(handles=ctypes.addressof(handles), count_handles=1))
    assert errno_of(be, uapi.DRM_IOCTL_SYNCOBJ_WAIT, wait) == errno.ETIME
    bogus = (ctypes.c_uint32 * 1)(77)
    assert errno_of(be, uapi.DRM_IOCTL_SYNCOBJ_WAIT, uapi.drm_syncobj_wait(handles=ctypes.addressof(bogus), count_handles=1)) == errno.ENOENT
    assert errno_of(be, uapi.DRM_IOCTL_SYNCOBJ_DESTROY, uapi.drm_syncobj_destroy(handle=77)) == errno.EINVAL


def test_perfmon_ioctls(be):
    bad = uapi.drm_v3d_perfmon_create(ncounters=0)
    assert errno_of(be, uapi.DRM_IOCTL_V3D_PERFMON_CREATE, bad) == errno.EINVAL
    bad = uapi.drm_v3d_perfmon_create(ncounters=33)
    assert errno_of(be, uapi.DRM_IOCTL_V3D_PERFMON_CREATE, bad) == errno.EINVAL
    bad = uapi.drm_v3d_perfmon_create(ncounters=1)
    bad.counters[0] = 87
    assert errno_of(be, uapi.DRM_IOCTL_V3D_PERFMON_CREATE, bad) == errno.EINVAL
    pm = uapi.drm_v3d_perfmon_create(ncounters=2)
    pm.counters[0], pm.counters[1] = 32, 13
    be.ioctl(uapi.DRM_IOCTL_V3D_PERFMON_CREATE, pm)
    assert pm.id == 1
    handle, _ = create(be, 4096)
    for _ in range(2):  # totals accumulate over jobs
        submit(be, [handle], perfmon_id=pm.id)
    values = (ctypes.c_uint64 * 2)()
    be.ioctl(uapi.DRM_IOCTL_V3D_PERFMON_GET_VALUES, uapi.drm_v3d_perfmon_get_values(id=pm.id, values_ptr=ctypes.addressof(values)))
    assert list(values) == [2 * 4 * 9, 2 * 1013]  # fake executor: loop count 0 -> 9 instructions
    assert errno_of(be, uapi.DRM_IOCTL_V3D_PERFMON_GET_VALUES, uapi.drm_v3d_perfmon_get_values(id=5)) == errno.EINVAL
    assert errno_of(be, uapi.DRM_IOCTL_V3D_PERFMON_DESTROY, uapi.drm_v3d_perfmon_destroy(id=5)) == errno.EINVAL
    be.ioctl(uapi.DRM_IOCTL_V3D_PERFMON_DESTROY, uapi.drm_v3d_perfmon_destroy(id=pm.id))


def test_perfmon_get_counter_returns_the_kernel_strings(be):
    arg = uapi.drm_v3d_perfmon_get_counter(counter=32)
    be.ioctl(uapi.DRM_IOCTL_V3D_PERFMON_GET_COUNTER, arg)
    assert (uapi.c_string(arg.name), uapi.c_string(arg.category)) == ("cycle-count", "CORE")
    assert errno_of(be, uapi.DRM_IOCTL_V3D_PERFMON_GET_COUNTER, uapi.drm_v3d_perfmon_get_counter(counter=87)) == errno.EINVAL


def test_unknown_and_graphics_ioctls(be):
    assert errno_of(be, uapi._IOWR(uapi.DRM_IOCTL_BASE, 0x5F, uapi.drm_gem_close), uapi.drm_gem_close()) == errno.EINVAL
    assert errno_of(be, uapi.DRM_IOCTL_V3D_SUBMIT_TFU, uapi.drm_v3d_submit_tfu()) == errno.EOPNOTSUPP


def test_executor_sees_every_live_bo(be):
    (h1, a1), (_, a2) = create(be, 4096), create(be, 8192)
    submit(be, [h1])
    regions = be.executor.jobs[-1].memory.regions()
    assert [(base, data.size) for base, data in regions] == [(a1, 4096), (a2, 8192)]
    assert all(data.dtype == np.uint8 and data.flags.writeable for _, data in regions)


def test_multisync_extension(be):
    handle, _ = create(be, 4096)
    syncs = []
    for flags in (uapi.DRM_SYNCOBJ_CREATE_SIGNALED, 0, 0):
        arg = uapi.drm_syncobj_create(flags=flags)
        be.ioctl(uapi.DRM_IOCTL_SYNCOBJ_CREATE, arg)
        syncs.append(arg.handle)
    ins = (uapi.drm_v3d_sem * 1)()
    ins[0].handle = syncs[0]
    outs = (uapi.drm_v3d_sem * 2)()
    outs[0].handle, outs[1].handle = syncs[1], syncs[2]
    ms = uapi.drm_v3d_multi_sync(in_syncs=ctypes.addressof(ins), in_sync_count=1, out_syncs=ctypes.addressof(outs),
                                 out_sync_count=2, wait_stage=uapi.V3D_CSD)
    ms.base.id = uapi.DRM_V3D_EXT_ID_MULTI_SYNC
    submit(be, [handle], flags=uapi.DRM_V3D_SUBMIT_EXTENSION, extensions=ctypes.addressof(ms))
    for h in syncs[1:]:  # both out-syncs now hold the job's fence
        handles = (ctypes.c_uint32 * 1)(h)
        be.ioctl(uapi.DRM_IOCTL_SYNCOBJ_WAIT, uapi.drm_syncobj_wait(handles=ctypes.addressof(handles), count_handles=1))
    reset = (ctypes.c_uint32 * 1)(syncs[1])  # kept alive: the struct only holds its address
    be.ioctl(uapi.DRM_IOCTL_SYNCOBJ_RESET, uapi.drm_syncobj_array(handles=ctypes.addressof(reset), count_handles=1))
    ins[0].handle = syncs[1]  # now fenceless: refused as an in-sync
    with pytest.raises(OSError) as e:
        submit(be, [handle], flags=uapi.DRM_V3D_SUBMIT_EXTENSION, extensions=ctypes.addressof(ms))
    assert e.value.errno == errno.EINVAL
    outs[1].handle = 99  # unknown out-sync
    ins[0].handle = syncs[0]
    with pytest.raises(OSError) as e:
        submit(be, [handle], flags=uapi.DRM_V3D_SUBMIT_EXTENSION, extensions=ctypes.addressof(ms))
    assert e.value.errno == errno.EINVAL
    ms.base.id = uapi.DRM_V3D_EXT_ID_CPU_INDIRECT_CSD
    with pytest.raises(OSError) as e:
        submit(be, [handle], flags=uapi.DRM_V3D_SUBMIT_EXTENSION, extensions=ctypes.addressof(ms))
    assert e.value.errno == errno.EINVAL

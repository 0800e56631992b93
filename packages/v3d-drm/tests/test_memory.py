"""BOs and DeviceArrays: mapping, addresses, views, and release on every path."""

import gc
import os

import numpy as np
import pytest
import v3d_drm
from fake_executor import FakeExecutor
from v3d_drm import DeviceArray, InvalidArgument


def live_bos(dev):
    return len(dev.backend._bos)


def test_alloc_maps_the_bo_writable(dev):
    bo = dev.alloc(100)
    assert bo.size == os.sysconf("SC_PAGE_SIZE") and bo.handle >= 1 and bo.address > 0
    bo.buffer[:3] = b"abc"
    assert bytes(bo.buffer[:3]) == b"abc"
    assert np.frombuffer(bo.buffer, np.uint8)[:4].tolist() == [97, 98, 99, 0]  # rest zero-filled


@pytest.mark.parametrize("size", [0, -1, 1 << 32, 1 << 40, 2.5, "1", True])
def test_bad_sizes_raise_invalid_argument_and_the_device_stays_usable(dev, size):
    with pytest.raises(InvalidArgument, match="size"):
        dev.alloc(size)
    assert dev.alloc(16).size > 0


def test_too_big_for_the_device_is_a_typed_error(dev):
    with pytest.raises(InvalidArgument) as info:
        dev.alloc(0xFFFF_F000)
    assert info.value.ioctl == "DRM_IOCTL_V3D_CREATE_BO" and info.value.value == 0xFFFF_F000
    assert "ENOMEM" in str(info.value)
    dev.alloc(16)


def test_array_addresses_and_views(dev):
    a = dev.array((4, 6), np.float32)
    assert isinstance(a, DeviceArray) and a.dtype == np.float32 and not a.any()
    assert a.address == a.bo.address
    view = a[1:, 2::2]
    assert isinstance(view, DeviceArray) and view.bo is a.bo
    assert view.address == a.address + (1 * 6 + 2) * 4
    expected = a.address + 4 * (6 * np.arange(1, 4)[:, None] + np.arange(2, 6, 2)[None, :])
    assert view.addresses().dtype == np.uint32
    np.testing.assert_array_equal(view.addresses(), expected)
    reversed_view = a[::-1, 0]
    assert reversed_view.addresses()[0] == a.address + 3 * 6 * 4
    assert a.T.address == a.address and a.reshape(-1)[5:].address == a.address + 20


def test_views_write_through_to_the_bo(dev):
    a = dev.array(8, np.uint32)
    a[2:4] = [7, 9]
    assert np.frombuffer(a.bo.buffer, np.uint32)[:5].tolist() == [0, 0, 7, 9, 0]


def test_computed_results_are_plain_arrays(dev):
    a = dev.array(4, np.float32)
    b = a + 1
    assert type(b) is np.ndarray
    c = a.copy()
    with pytest.raises(InvalidArgument, match="not in GPU memory"):
        _ = c.address


def test_asarray_copies_into_gpu_memory(dev):
    a = dev.asarray(np.arange(5, dtype=np.int32))
    assert a.tolist() == [0, 1, 2, 3, 4] and a.dtype == np.int32 and a.address == a.bo.address


def test_empty_array_still_has_a_bo(dev):
    a = dev.array((0, 3), np.float32)
    assert a.size == 0 and a.bo.size > 0


def test_bad_shape_or_dtype(dev):
    with pytest.raises(InvalidArgument):
        dev.array((-1, 2))
    with pytest.raises(InvalidArgument):
        dev.array(3, object)
    with pytest.raises(InvalidArgument):
        dev.array("x")


def test_close_is_idempotent_and_views_do_not_double_free(dev):
    a = dev.array(16, np.uint32)
    view = a[4:]
    before = live_bos(dev)
    view.close()
    a.close()
    a.bo.close()
    gc.collect()
    assert a.bo.closed
    with pytest.raises(InvalidArgument, match="closed"):
        _ = a.address
    del a, view
    gc.collect()
    assert live_bos(dev) == before - 1


def test_arrays_keep_working_after_an_explicit_close_until_dropped(dev):
    a = dev.array(4, np.uint32)
    a[:] = 5
    a.close()  # handle closed; the mapping stays while the array exists (kernel semantics)
    assert a.tolist() == [5, 5, 5, 5]


def test_context_managers(dev):
    with dev.alloc(10) as bo:
        assert not bo.closed
    assert bo.closed
    with dev.array(3) as arr:
        handle = arr.bo.handle
    assert arr.bo.closed and handle not in dev.backend._handles


def test_finalizer_releases_a_forgotten_bo(dev):
    before = live_bos(dev)
    dev.array(1000)  # dropped at once
    dev.alloc(5000)
    gc.collect()
    assert live_bos(dev) == before


def test_closing_the_device_closes_its_bos():
    dev = v3d_drm.open("emulator", executor=FakeExecutor())
    bo, arr = dev.alloc(10), dev.array(10)
    dev.close()
    assert bo.closed and arr.bo.closed and dev.closed
    with pytest.raises(InvalidArgument, match="closed"):
        dev.alloc(10)
    with pytest.raises(InvalidArgument, match="closed"):
        _ = bo.buffer
    dev.close()  # idempotent


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _maps() -> int:
    with open("/proc/self/maps") as f:
        return sum(1 for _ in f)


def test_10000_alloc_free_cycles_leak_nothing(dev):
    # Warm up (lazy imports, allocator pools), then count fds, mappings and handles.
    for _ in range(50):
        dev.alloc(4096).close()
    gc.collect()
    fds, maps, handles, bos = _fds(), _maps(), len(dev.backend._handles), live_bos(dev)
    for i in range(10_000):
        if i % 3 == 0:
            with dev.alloc(4096 * (1 + i % 4)) as bo:
                bo.buffer[0] = 1
        elif i % 3 == 1:
            arr = dev.array((8, 8), np.float32)
            arr[3:5] = 1.0
            arr.close()
            del arr
        else:
            dev.array(64, np.uint32)[2:]  # forgotten: the finalizer must release it
    gc.collect()
    assert (_fds(), _maps(), len(dev.backend._handles), live_bos(dev)) == (fds, maps, handles, bos)


def test_bo_from_another_device_is_rejected(dev):
    with v3d_drm.open("emulator", executor=FakeExecutor()) as other:
        foreign = other.array(4, np.uint32)
        with pytest.raises(InvalidArgument, match="another device"):
            dev.dispatch([0], [0], bos=[foreign])


class _ForgetfulExecutor:
    """Keeps no reference to jobs (the fake executor records them, which pins their memory views)."""

    name = "forgetful"

    def run_csd(self, job):
        job.memory.view(job.cfg[6], 4)  # touch memory like a real executor
        return v3d_drm.CsdResult()


def test_2000_dispatches_leak_nothing():
    code = np.zeros(4, dtype=np.uint64)
    with v3d_drm.open("emulator", executor=_ForgetfulExecutor()) as dev:
        out = dev.array(16, np.uint32)
        for _ in range(20):
            dev.dispatch(code, [out.address], bos=[out]).wait()
        gc.collect()
        state = lambda: (_fds(), _maps(), len(dev.backend._handles), live_bos(dev), len(dev.backend._syncobjs))
        before = state()
        for i in range(2000):
            job = dev.dispatch(code, [out.address, i], bos=[out])
            if i % 2:
                job.wait()  # the others are collected unwaited
        del job
        dev.dispatch(code, [out.address], bos=[out]).wait()  # jobs run in order: all have ended
        gc.collect()
        assert state() == before

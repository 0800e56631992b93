"""Host-side layout of the machine's state: its arrays of 16-lane rows start on a cache line, and
the host prefetch hint of the unifa stream reads nothing and faults on no address."""

import numba
import numpy as np
import pytest
from vc6_isa.emulator import executor
from vc6_isa.emulator.hostmem import peek32, prefetch
from vc6_isa.emulator.jit import JIT_ENABLED


@pytest.mark.parametrize("shape", [(16, 16), (3, 70, 16), (1, 1, 16)])
def test_rows_start_on_a_cache_line_and_are_zero(shape):
    rows = executor._rows(shape)
    assert rows.ctypes.data % executor.ROW_ALIGN == 0
    assert rows.shape == shape and rows.dtype == np.uint32 and rows.flags.c_contiguous
    assert not rows.any()


def test_a_jobs_row_arrays_start_on_a_cache_line():
    job = executor.empty_job()
    for threads in (1, 2, 4):
        m = executor.Executor()._prepare(job, {"threads": threads}).m
        for rows in (m.regs, m.lanes, m.fifo, m.sc):
            assert rows.ctypes.data % executor.ROW_ALIGN == 0
            assert rows.shape[-1] == 16 and rows.dtype == np.uint32


def _prefetched_word(addr, elsewhere):
    prefetch(elsewhere)
    prefetch(addr + 64)
    return peek32(addr)


if JIT_ENABLED:  # compiled, as in the machine (VC6_NO_JIT=1: the plain functions)
    _prefetched_word = numba.njit(_prefetched_word)


def test_prefetch_is_only_a_hint():
    words = np.arange(64, dtype=np.uint32)
    # unmapped and null addresses do not fault, and nothing is read or written
    for elsewhere in (0, 8, 1 << 47, words.ctypes.data + (1 << 40)):
        assert _prefetched_word(words.ctypes.data + 12, elsewhere) == 3
    assert (words == np.arange(64)).all()

"""The machine's 16-lane row operations (`machine.lanes`): compiled (vector loads and stores) when
numba is present, numpy otherwise; both must move exactly the 16 lanes of the rows they name, and
both must summarise a TMU lookup's lanes and read and write its words alike."""

from __future__ import annotations

import numpy as np
import pytest
from vc6_isa.emulator.jit import JIT_ENABLED
from vc6_isa.emulator.machine.lanes import (
    active_lanes,
    copy_row,
    fill_row,
    gather_words,
    read_words,
    scatter_words,
    scratch_row,
    select_row,
    word_run,
    write_words,
)
from vc6_isa.emulator.machine.tmu import word_address


def _moves(regs, sc):
    copy_row(sc[0], regs[1, 3])  # a register row into a scratch row
    fill_row(sc[1], -16)  # a small immediate (negative: its 32-bit pattern)
    select_row(regs[0, 2], sc[2], sc[3])  # a conditional write: lanes where sc[3] is set


if JIT_ENABLED:
    import numba

    _moves = numba.njit(_moves)


def test_row_moves_touch_the_16_lanes_they_name_and_nothing_else():
    rng = np.random.default_rng(13)
    regs = rng.integers(0, 1 << 32, (2, 5, 16), dtype=np.uint64).astype(np.uint32)
    sc = rng.integers(0, 1 << 32, (4, 16), dtype=np.uint64).astype(np.uint32)
    sc[3] = np.arange(16) % 3 == 0
    want_regs, want_sc = regs.copy(), sc.copy()
    want_sc[0] = regs[1, 3]
    want_sc[1] = 0xFFFFFFF0
    want_regs[0, 2] = np.where(sc[3] != 0, sc[2], regs[0, 2])
    _moves(regs, sc)
    assert np.array_equal(regs, want_regs)
    assert np.array_equal(sc, want_sc)


def _through_rows(sc, k, j):
    a, b = scratch_row(sc, k), scratch_row(sc, j)
    for i in range(16):
        b[i] = a[i] + 1  # a lane loop over two views, as ops.add_alu runs one
    return b.shape[0]


if JIT_ENABLED:
    _through_rows = numba.njit(_through_rows)


def test_a_scratch_row_is_the_16_lanes_of_its_row():
    rng = np.random.default_rng(14)
    sc = rng.integers(0, 1 << 32, (16, 16), dtype=np.uint64).astype(np.uint32)
    want = sc.copy()
    want[13] = sc[4] + np.uint32(1)
    assert _through_rows(sc, 4, 13) == 16
    assert np.array_equal(sc, want)  # row 13 written, every other row as it was


@pytest.mark.skipif(not JIT_ENABLED, reason="type checks of the compiled intrinsics")
def test_row_moves_take_only_uint32_rows():
    import numba
    from numba.core.errors import TypingError

    @numba.njit
    def copy_int64(a, b):
        copy_row(a[0], b[0])

    with pytest.raises(TypingError):
        copy_int64(np.zeros((1, 16), np.int64), np.zeros((1, 16), np.int64))

    @numba.njit
    def row_of_int64(a):
        return scratch_row(a, 0)[0]

    with pytest.raises(TypingError):
        row_of_int64(np.zeros((1, 16), np.int64))


def _summary(act, mask, msf, addrs, per_pixel):
    return active_lanes(act, mask, msf, addrs, per_pixel)


if JIT_ENABLED:
    _summary = numba.njit(_summary)


@pytest.mark.parametrize("per_pixel", [0, 1])
def test_active_lanes_follow_the_mask_and_the_quads_invocations(per_pixel):
    """Lane i takes part when its mask is set and its quad carries an invocation (its own MSF too
    for per-pixel lookups); the summary is their count and their addresses' min, max and OR."""
    rng = np.random.default_rng(7 + per_pixel)
    for trial in range(200):
        mask = (rng.random(16) < 0.7).astype(np.uint32)
        msf = (rng.random(16) < (0.5 if trial % 3 else 0.1)).astype(np.uint32) * rng.integers(1, 3, 16, dtype=np.uint32)
        addrs = rng.integers(0, 1 << 32, 16, dtype=np.uint64).astype(np.uint32)
        act = np.full(16, 7, np.uint32)
        want = [bool(mask[i]) and msf[4 * (i // 4): 4 * (i // 4) + 4].any() and (per_pixel == 0 or bool(msf[i]))
                for i in range(16)]
        got = _summary(act, mask, msf, addrs, per_pixel)
        assert act.tolist() == [int(w) for w in want]
        on = [int(a) for a, w in zip(addrs, want) if w]
        if on:
            ored = 0
            for a in on:
                ored |= a
            assert tuple(got) == (len(on), min(on), max(on), ored)
        else:
            assert tuple(got) == (0, 0xFFFFFFFF, 0, 0)


def _gather(dst, host, addrs, act, k):
    gather_words(dst, host, addrs, act, k)


if JIT_ENABLED:
    _gather = numba.njit(_gather)


@pytest.mark.parametrize("k", [0, 1, 3])
def test_gather_words_reads_the_active_lanes_words_where_tmu_word_address_says(k):
    """Word k of each active lane at `tmu.word_address` (low bits ignored, vectors wrapping in the
    lane's 16 bytes), 0 in the other lanes; inactive lanes point outside memory and are not read."""
    rng = np.random.default_rng(11 + k)
    mem = rng.integers(0, 1 << 32, 1024, dtype=np.uint64).astype(np.uint32)
    addrs = rng.integers(0, 4 * 1024, 16, dtype=np.uint32)
    act = (rng.random(16) < 0.6).astype(np.uint32)
    addrs[act == 0] = 0xFFFFFF00  # far outside `mem`
    dst = np.full(16, 5, np.uint32)
    _gather(dst, mem.ctypes.data, addrs, act, k)
    want = [int(mem[word_address.py_func(int(a), k) // 4]) if on else 0 for a, on in zip(addrs, act)]
    assert dst.tolist() == want


def _scatter(host, addrs, act, src):
    scatter_words(host, addrs, act, src)


if JIT_ENABLED:
    _scatter = numba.njit(_scatter)


def test_scatter_words_writes_the_active_lanes_in_lane_order():
    """Each active lane's word at its address (low bits ignored); where lanes share a word the
    highest lane's value stays; inactive lanes point outside memory and write nothing."""
    rng = np.random.default_rng(17)
    for _ in range(50):
        mem = np.zeros(64, np.uint32)
        addrs = rng.integers(0, 4 * 16, 16, dtype=np.uint32)  # 16 words: lanes often collide
        act = (rng.random(16) < 0.7).astype(np.uint32)
        addrs[act == 0] = 0xFFFFFF00
        src = rng.integers(1, 1 << 32, 16, dtype=np.uint64).astype(np.uint32)
        want = mem.copy()
        for i in range(16):
            if act[i]:
                want[word_address.py_func(int(addrs[i]), 0) // 4] = src[i]
        _scatter(mem.ctypes.data, addrs, act, src)
        assert mem.tolist() == want.tolist()


def _run(mask, msf, addrs):
    return word_run(mask, msf, addrs)


def _words(mem_host, dst, src):
    read_words(dst, mem_host + 4)
    write_words(mem_host + 128, src)


if JIT_ENABLED:
    _run = numba.njit(_run)
    _words = numba.njit(_words)


def test_word_run_is_all_16_lanes_on_consecutive_words():
    """True exactly when every lane's mask and MSF are set and lane i's address is lane 0's
    + 4 i without passing 2^32: then `active_lanes` counts 16 lanes and their words are the 16
    from lane 0's on. One changed lane (mask, MSF, address, order) or a wrap makes it False."""
    rng = np.random.default_rng(23)
    for trial in range(300):
        a0 = int(rng.integers(0, 1 << 32)) if trial % 5 else 0xFFFFFFFF - 60 - int(rng.integers(-8, 8)) * 4
        addrs = ((a0 + 4 * np.arange(16)) & 0xFFFFFFFF).astype(np.uint32)
        mask = rng.integers(1, 3, 16, dtype=np.uint32)
        msf = rng.integers(1, 3, 16, dtype=np.uint32)
        change = trial % 4
        lane = int(rng.integers(0, 16))
        if change == 1:
            (mask if trial % 8 == 1 else msf)[lane] = 0
        elif change == 2:
            addrs[lane] ^= np.uint32(1 << int(rng.integers(0, 32)))
        elif change == 3:
            other = (lane + 1 + int(rng.integers(0, 15))) % 16
            addrs[lane], addrs[other] = addrs[other], addrs[lane]
        want = bool((mask != 0).all() and (msf != 0).all() and a0 + 60 < (1 << 32)
                    and all(int(addrs[i]) == a0 + 4 * i for i in range(16)))
        assert _run(mask, msf, addrs) is want, (trial, change, lane, hex(a0))
        if want:
            act = np.zeros(16, np.uint32)
            assert tuple(_summary(act, mask, msf, addrs, 1))[:3] == (16, a0, a0 + 60)


def test_read_and_write_words_move_16_consecutive_words():
    rng = np.random.default_rng(29)
    mem = rng.integers(0, 1 << 32, 64, dtype=np.uint64).astype(np.uint32)
    want = mem.copy()
    src = rng.integers(0, 1 << 32, 16, dtype=np.uint64).astype(np.uint32)
    want[32:48] = src
    dst = np.full(20, 9, np.uint32)
    _words(mem.ctypes.data, dst, src)
    assert dst[:16].tolist() == mem[1:17].tolist() and dst[16:].tolist() == [9] * 4
    assert mem.tolist() == want.tolist()

"""Port of py-videocore6 tests/test_tmu.py (ran on a Pi 4): general-memory TMU reads and writes,
per-lookup configuration bytes consumed one per lookup, vector accesses wrapping inside their
16-byte block, vectors split across blocks, memory consistency and the uniform cache. The
programs are py-videocore6's (re-typed in test_asm_pyvc6). Those of test_tmu_vec_write and
test_tmu_vec_read end with TMU writes not waited for (tmuwt); that works on hardware."""

from __future__ import annotations

import numpy as np
from hw_support import pi, run
from test_asm_pyvc6 import (
    qpu_tmu_keeps_memory_consistency,
    qpu_tmu_read,
    qpu_tmu_read_tmu_write_uniform_read,
    qpu_tmu_vec_n_contiguous_read,
    qpu_tmu_vec_n_contiguous_write,
    qpu_tmu_vec_n_naive_read,
    qpu_tmu_vec_n_naive_write,
    qpu_tmu_vec_read,
    qpu_tmu_vec_write,
    qpu_tmu_write,
)

LANES = np.arange(16)
VEC_CONFIG = {1: 0xFF, 2: 0xFA, 3: 0xFB, 4: 0xFC}  # per-pixel regular access of 1-4 words


def _config_word(sizes):
    """One 32-bit configuration for consecutive lookups of the given vector sizes: first lookup
    in the low byte; bytes past the last are 0xff (reference 12.1)."""
    word = 0
    for k, size in enumerate(sizes):
        word |= VEC_CONFIG[size] << (8 * k)
    for k in range(len(sizes), 4):
        word |= 0xFF << (8 * k)
    return word


def _wrapped(address, k):
    """Address of element k of a vector access at ``address``: inside its 16-byte block."""
    return (address & ~15) | ((address + 4 * k) & 15)


# -- plain reads and writes -----------------------------------------------------------------


def test_tmu_write():
    n = 4096
    with pi(data_area_size=n * 16 * 4 + 2 * 4) as drv:
        code = drv.program(qpu_tmu_write)
        data = drv.alloc(n * 16, dtype=np.uint32)
        unif = drv.alloc(2, dtype=np.uint32)
        data[:] = 0xDEADBEAF
        unif[:] = [n, data.address]
        run(drv, code, unif)
        assert (data == np.arange(n * 16)).all()


def test_tmu_read():
    n = 4096
    with pi() as drv:
        code = drv.program(qpu_tmu_read)
        data = drv.alloc(n * 16, dtype=np.uint32)
        unif = drv.alloc(3, dtype=np.uint32)
        data[:] = np.arange(data.size)
        unif[:] = [n, data.address, data.address]  # in place
        run(drv, code, unif)
        assert (data == np.arange(1, n * 16 + 1)).all()


# -- configuration bytes, one per lookup, for vec1-vec4 accesses -----------------------------


def test_tmu_vec_write():
    n, sizes, word_offset, untouched = 123, [4, 3, 2, 1], 3, 0xDEADBEEF
    with pi() as drv:
        code = drv.program(qpu_tmu_vec_write, sizes, word_offset)
        data = drv.alloc(16 * 4 * len(sizes) * n, dtype=np.uint32)
        unif = drv.alloc(2 + n, dtype=np.uint32)
        data[:] = untouched
        unif[:2] = [data.address, n]
        unif[2:] = _config_word(sizes)
        run(drv, code, unif)
        for r, row in enumerate(data.reshape(-1, 64)):
            size = sizes[r % len(sizes)]
            for lane, block in enumerate(row.reshape(16, 4)):
                want = [(lane << 16) + k for k in range(size)] + [untouched] * (4 - size)
                # element k landed at word (word_offset + k) mod 4 of the lane's block
                assert (np.roll(block, -word_offset) == want).all(), (r, lane)


def test_tmu_vec_read():
    n, sizes, word_offset = 123, [4, 3, 2, 1], 1
    with pi() as drv:
        code = drv.program(qpu_tmu_vec_read, sizes, word_offset)
        src = drv.alloc((n, 16 * 4 * len(sizes)), dtype=np.uint32)
        dst = drv.alloc((n, 16), dtype=np.uint32)
        unif = drv.alloc(3 + n, dtype=np.uint32)
        src[:] = np.arange(src.size, dtype=np.uint32).reshape(src.shape)
        dst[:] = 0
        unif[:3] = [src.address, dst.address, n]
        unif[3:] = _config_word(sizes)
        run(drv, code, unif)
        for r in range(n):
            blocks = np.array(src[r]).reshape(len(sizes), 16, 4)
            want = np.zeros(16, np.uint32)
            for k, size in enumerate(sizes):
                for lane in LANES:
                    want[lane] += sum(blocks[k, lane, (word_offset + e) % 4] for e in range(size))
                    want[lane] += lane * (4 - size)
            assert (dst[r] == want).all(), r


# -- ordering and coherency --------------------------------------------------------------------


def test_tmu_keeps_memory_consistency():
    # all 16 lanes read and write the same word; the second read sees the first write
    with pi() as drv:
        code = drv.program(qpu_tmu_keeps_memory_consistency)
        data = drv.alloc(16, dtype=np.uint32)
        unif = drv.alloc(3, dtype=np.uint32)
        data[:] = 1
        unif[0] = data.address
        run(drv, code, unif)
        assert data[0] == 3
        assert (data[1:] == 1).all()


def test_tmu_read_tmu_write_uniform_read():
    # The uniform read after the TMU write (and tmuwt) returns the value from before the write:
    # the uniform cache does not see TMU writes of the same job (reference 11.3, Appendix G.5).
    with pi() as drv:
        code = drv.program(qpu_tmu_read_tmu_write_uniform_read)
        data = drv.alloc(16, dtype=np.uint32)
        result = drv.alloc(16, dtype=np.uint32)
        unif = drv.alloc(3, dtype=np.uint32)
        data[:] = 1
        unif[:2] = [data.address, result.address]
        run(drv, code, unif)
        assert (data == 2).all()
        assert (result == 2).all()  # 1 + 1, not 2 + 1


# -- vectors at arbitrary word offsets ----------------------------------------------------------


def _check_naive_write(size):
    with pi() as drv:
        code = drv.program(qpu_tmu_vec_n_naive_write, size)
        result = drv.alloc((16, 16), dtype=np.uint32)
        unif = drv.alloc(16, dtype=np.uint32)
        assert result.address % 64 == 0
        result[:] = 0
        unif[:] = result.addresses()[LANES, LANES]  # lane i writes at result[i, i]
        run(drv, code, unif)
        want = np.zeros(256, np.uint32)
        for lane in LANES:
            for k in range(size):
                want[_wrapped(4 * (17 * lane), k) // 4] = 16 * k + lane + 1
        assert (result.ravel() == want).all()


def test_tmu_vec4_naive_write():
    _check_naive_write(4)


def test_tmu_vec3_naive_write():
    _check_naive_write(3)


def test_tmu_vec2_naive_write():
    _check_naive_write(2)


def _check_naive_read(size):
    with pi() as drv:
        code = drv.program(qpu_tmu_vec_n_naive_read, size)
        data = drv.alloc((16, 16), dtype=np.uint32)
        result = drv.alloc((size, 16), dtype=np.uint32)
        unif = drv.alloc(17, dtype=np.uint32)
        assert result.address % 64 == 0
        data[:] = np.arange(1, 257, dtype=np.uint32).reshape(16, 16)
        result[:] = 0
        unif[:16] = data.addresses()[LANES, LANES]
        unif[16] = result.address
        run(drv, code, unif)
        flat = np.array(data).ravel()
        want = [[flat[_wrapped(4 * 17 * lane, k) // 4] for lane in LANES] for k in range(size)]
        assert (result == np.array(want)).all()


def test_tmu_vec4_naive_read():
    _check_naive_read(4)


def test_tmu_vec3_naive_read():
    _check_naive_read(3)


def test_tmu_vec2_naive_read():
    _check_naive_read(2)


def _check_contiguous_write(size):
    with pi() as drv:
        code = drv.program(qpu_tmu_vec_n_contiguous_write, size)
        result = drv.alloc((16, 19), dtype=np.uint32)
        unif = drv.alloc(16, dtype=np.uint32)
        result[:] = 0
        unif[:] = result.addresses()[LANES, LANES]
        run(drv, code, unif)
        want = np.zeros((16, 19), np.uint32)
        for lane in LANES:
            want[lane, lane : lane + size] = 16 * np.arange(size) + lane + 1
        assert (result == want).all()


def test_tmu_vec4_contiguous_write():
    _check_contiguous_write(4)


def test_tmu_vec3_contiguous_write():
    _check_contiguous_write(3)


def test_tmu_vec2_contiguous_write():
    _check_contiguous_write(2)


def _check_contiguous_read(size):
    # The program pushes flag A, switches threads (thrsw after each lookup) and then writes
    # under `ifa`: on hardware the flags, like r0-r5, survive a switch when no other thread
    # ran on the QPU (evidence for reference 1.2 beyond Appendix G.2, which names r0-r3).
    with pi() as drv:
        code = drv.program(qpu_tmu_vec_n_contiguous_read, size)
        data = drv.alloc((16, 20), dtype=np.uint32)
        result = drv.alloc((size, 16), dtype=np.uint32)
        unif = drv.alloc(17, dtype=np.uint32)
        assert result.address % 64 == 0
        values = np.arange(1, 16 * size + 1, dtype=np.uint32).reshape(16, size)
        data[:] = 0
        for lane in LANES:
            data[lane, lane : lane + size] = values[lane]
        result[:] = 0
        unif[:16] = data.addresses()[LANES, LANES]
        unif[16] = result.address
        run(drv, code, unif)
        assert (result == values.T).all()


def test_tmu_vec4_contiguous_read():
    _check_contiguous_read(4)


def test_tmu_vec3_contiguous_read():
    _check_contiguous_read(3)


def test_tmu_vec2_contiguous_read():
    _check_contiguous_read(2)

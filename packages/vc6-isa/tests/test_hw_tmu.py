# ruff: noqa: B018  (DSL labels are expressions: `L.name` places a label)
"""Port of py-videocore6 tests/test_tmu.py (ran on a Pi 4): general-memory TMU reads and writes,
per-lookup configuration bytes consumed one per lookup, vector accesses wrapping inside their
16-byte block, vectors split across blocks, memory consistency and the uniform cache."""

from __future__ import annotations

import numpy as np
from hw_support import finish, pi, run
from vc6_isa.asm import *

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


@qpu
def write_rows(asm):
    # uniforms: n, address. Writes 16 * n consecutive words, value = index.
    nop(sig=ldunif)
    mov(r1, r5, sig=ldunif)
    eidx(r0).mov(r2, r5)
    shl(r0, r0, 2).mov(rf0, r0)
    add(r2, r2, r0)
    with loop as again:
        sub(r1, r1, 1, cond="pushz").mov(tmud, rf0)
        again.b(cond="anyna")
        sub(rf0, rf0, -16).mov(tmua, r2)  # delay slot: issue the write, next 16 values
        shl(r0, 4, 4)
        tmuwt().add(r2, r2, r0)
    finish()


def test_tmu_write():
    n = 4096
    with pi(data_area_size=n * 16 * 4 + 2 * 4) as drv:
        code = drv.program(write_rows)
        data = drv.alloc(n * 16, dtype=np.uint32)
        unif = drv.alloc(2, dtype=np.uint32)
        data[:] = 0xDEADBEAF
        unif[:] = [n, data.address]
        run(drv, code, unif)
        assert (data == np.arange(n * 16)).all()


@qpu
def increment_rows(asm):
    # uniforms: n, source, destination. destination[i] = source[i] + 1
    eidx(r2, sig=ldunif)
    mov(r0, r5, sig=ldunif)
    shl(r2, r2, 2).mov(r1, r5)
    add(r1, r1, r2, sig=ldunif)
    add(r2, r5, r2)
    with loop as again:
        mov(tmua, r1, sig=thrsw)
        nop()
        nop()
        nop(sig=ldtmu(rf0))
        sub(r0, r0, 1, cond="pushz").add(tmud, rf0, 1)
        again.b(cond="anyna")
        shl(r3, 4, 4).mov(tmua, r2)
        add(r1, r1, r3).add(r2, r2, r3)
        tmuwt()
    finish()


def test_tmu_read():
    n = 4096
    with pi() as drv:
        code = drv.program(increment_rows)
        data = drv.alloc(n * 16, dtype=np.uint32)
        unif = drv.alloc(3, dtype=np.uint32)
        data[:] = np.arange(data.size)
        unif[:] = [n, data.address, data.address]  # in place
        run(drv, code, unif)
        assert (data == np.arange(1, n * 16 + 1)).all()


# -- configuration bytes, one per lookup, for vec1-vec4 accesses -----------------------------


@qpu
def vector_writes(asm, sizes, word_offset):
    # uniforms: address, n, then one configuration word per pass (for the tmuau of each pass)
    nop(sig=ldunifrf(rf0))
    nop(sig=ldunifrf(rf1))
    with loop as again:
        for k, size in enumerate(sizes):
            eidx(r0)
            shl(r0, r0, 0xFFFFFFF0)  # shift by -16 mod 32 = 16: lane << 16
            for _ in range(size):
                mov(tmud, r0).add(r0, r0, 1)
            eidx(r0)
            shl(r0, r0, 4)
            sub(r0, r0, -4 * word_offset)  # 16 bytes per lane, plus the offset
            add(tmuau if k == 0 else tmua, rf0, r0)  # the first lookup takes a config uniform
            shl(r0, 4, 4)
            umul24(r0, r0, len(sizes))
            add(rf0, rf0, r0)
        sub(rf1, rf1, 1, cond="pushz")
        again.b(cond="na0")
        nop()
        nop()
        nop()
    finish()  # no tmuwt: the hardware completes the writes with the job


def test_tmu_vec_write():
    n, sizes, word_offset, untouched = 123, [4, 3, 2, 1], 3, 0xDEADBEEF
    with pi() as drv:
        code = drv.program(vector_writes, sizes, word_offset)
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


@qpu
def vector_reads(asm, sizes, word_offset):
    # uniforms: source, destination, n, then one configuration word per pass
    nop(sig=ldunifrf(rf0))
    nop(sig=ldunifrf(rf1))
    nop(sig=ldunifrf(rf2))
    eidx(r0)
    shl(r0, r0, 2)
    add(rf1, rf1, r0)
    with loop as again:
        mov(r4, 0)
        for k, size in enumerate(sizes):
            eidx(r0)
            shl(r0, r0, 4)
            sub(r0, r0, -4 * word_offset)
            add(tmuau if k == 0 else tmua, rf0, r0, sig=thrsw)
            nop()
            nop()
            nop(sig=ldtmu(r0))
            # missing elements are replaced by the lane number
            for reg in (r1, r2, r3):
                if size > {r1: 1, r2: 2, r3: 3}[reg]:
                    nop(sig=ldtmu(reg))
                else:
                    eidx(reg)
            add(r0, r0, r1).add(r2, r2, r3)
            add(r0, r0, r2)
            add(r4, r4, r0)  # r4 (and r0-r3) carry on across the thrsw: Appendix G.2
            shl(r0, 4, 4)
            umul24(r0, r0, 4)
            add(rf0, rf0, r0)
        mov(tmud, r4)
        mov(tmua, rf1)  # the configuration bytes are used up: 0xff, a 32-bit write
        shl(r0, 4, 4)
        add(rf1, rf1, r0)
        sub(rf2, rf2, 1, cond="pushz")
        again.b(cond="na0")
        nop()
        nop()
        nop()
    finish()


def test_tmu_vec_read():
    n, sizes, word_offset = 123, [4, 3, 2, 1], 1
    with pi() as drv:
        code = drv.program(vector_reads, sizes, word_offset)
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


@qpu
def increment_twice(asm):
    nop(sig=ldunifrf(r0))
    for _ in range(2):
        mov(tmua, r0, sig=thrsw)
        nop()
        nop()
        nop(sig=ldtmu(r1))
        add(tmud, r1, 1)
        mov(tmua, r0)
        tmuwt()
    finish()


def test_tmu_keeps_memory_consistency():
    # all 16 lanes read and write the same word; the second read sees the first write
    with pi() as drv:
        code = drv.program(increment_twice)
        data = drv.alloc(16, dtype=np.uint32)
        unif = drv.alloc(3, dtype=np.uint32)
        data[:] = 1
        unif[0] = data.address
        run(drv, code, unif)
        assert data[0] == 3
        assert (data[1:] == 1).all()


@qpu
def write_then_read_as_uniform(asm):
    eidx(r0, sig=ldunifrf(rf0))
    shl(r0, r0, 2)
    add(rf0, rf0, r0, sig=ldunifrf(rf1))
    add(rf1, rf1, r0)
    mov(tmua, rf0, sig=thrsw)
    nop()
    nop()
    nop(sig=ldtmu(r0))
    add(tmud, r0, 1)
    mov(tmua, rf0)  # data <- 2
    tmuwt()
    b(R.redirected, cond="always").unif_addr(rf0)  # lane 1's address: data[1]
    nop()
    nop()
    nop()
    L.redirected
    nop(sig=ldunifrf(r0))
    add(tmud, r0, 1)
    mov(tmua, rf1)
    tmuwt()
    finish()


def test_tmu_read_tmu_write_uniform_read():
    # The uniform read after the TMU write (and tmuwt) returns the value from before the write:
    # the uniform cache does not see TMU writes of the same job (reference 11.3, Appendix G.5).
    with pi() as drv:
        code = drv.program(write_then_read_as_uniform)
        data = drv.alloc(16, dtype=np.uint32)
        result = drv.alloc(16, dtype=np.uint32)
        unif = drv.alloc(3, dtype=np.uint32)
        data[:] = 1
        unif[:2] = [data.address, result.address]
        run(drv, code, unif)
        assert (data == 2).all()
        assert (result == 2).all()  # 1 + 1, not 2 + 1


# -- vectors at arbitrary word offsets ----------------------------------------------------------


def _per_lane_uniform(dst):
    """dst[lane] = the lane-th of the next 16 uniforms."""
    eidx(rf1, cond="pushz")
    nop(sig=ldunifrf(rf2))
    mov(dst, rf2, cond="ifa")
    for _ in range(15):
        nop(sig=ldunifrf(rf2))
        sub(rf1, rf1, 1, cond="pushz")
        mov(dst, rf2, cond="ifa")


def _vector_data():
    """rf20 + k = 16 * k + lane + 1 for k < 4 (the values written)."""
    mov(rf1, 8)
    add(rf1, rf1, 8)
    eidx(rf20)
    add(rf20, rf20, 1)
    add(rf21, rf20, rf1)
    add(rf22, rf21, rf1)
    add(rf23, rf22, rf1)


def _config(size):
    bnot(tmuc, 7 - size)  # ~(7 - size): per-pixel regular access, type vec<size>


def _store_registers(first, count):
    """Store rf<first> ... as rows of the output whose address is the next uniform."""
    eidx(rf1, sig=ldunifrf(rf10))
    shl(rf1, rf1, 2)
    add(rf10, rf10, rf1)
    shl(rf2, 4, 4)
    for k in range(count):
        mov(tmud, rf[first + k])
        mov(tmua, rf10).add(rf10, rf10, rf2)


@qpu
def naive_vector_write(asm, size):
    _per_lane_uniform(rf10)
    _vector_data()
    _config(size)
    for k in range(size):
        mov(tmud, rf[20 + k])
    mov(tmua, rf10)
    tmuwt()
    finish()


def _check_naive_write(size):
    with pi() as drv:
        code = drv.program(naive_vector_write, size)
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


@qpu
def naive_vector_read(asm, size):
    _per_lane_uniform(rf10)
    _config(size)
    mov(tmua, rf10, sig=thrsw)
    nop()
    nop()
    for k in range(size):
        nop(sig=ldtmu(rf[20 + k]))
    _store_registers(20, size)
    tmuwt()
    finish()


def _check_naive_read(size):
    with pi() as drv:
        code = drv.program(naive_vector_read, size)
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


def _split_points():
    """rf11 = word index of the lane's address within its 16-byte block; rf12 = the next block."""
    shr(rf11, rf10, 2)
    band(rf11, rf11, 3)
    shr(rf12, rf10, 4)
    add(rf12, rf12, 1)
    shl(rf12, rf12, 4)


@qpu
def contiguous_vector_write(asm, size):
    # A vector that crosses a 16-byte block is written as two lookups: the part up to the end
    # of the block at the address, the rest at the start of the next block.
    _per_lane_uniform(rf10)
    _vector_data()
    _split_points()
    sub(null, rf11, 5 - size, cond="pushn")  # A: the vector fits in its block
    b(R.fits_done, cond="allna")
    nop()
    nop()
    nop()
    _config(size)
    for k in range(size):
        mov(tmud, rf[20 + k])
    mov(tmua, rf10, cond="ifa")
    L.fits_done
    for tail in range(1, size):  # `tail` elements go to the next block
        with namespace(f"tail{tail}"):
            sub(null, rf11, 4 + tail - size, cond="pushz")
            b(R.done, cond="allna")
            nop()
            nop()
            nop()
            head = size - tail
            if head > 1:
                _config(head)
            for k in range(head):
                mov(tmud, rf[20 + k])
            mov(tmua, rf10, cond="ifa")
            if tail > 1:
                _config(tail)
            for k in range(tail):
                mov(tmud, rf[20 + head + k])
            mov(tmua, rf12, cond="ifa")
            L.done
    tmuwt()
    finish()


def _check_contiguous_write(size):
    with pi() as drv:
        code = drv.program(contiguous_vector_write, size)
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


@qpu
def contiguous_vector_read(asm, size):
    _per_lane_uniform(rf10)
    _split_points()
    for k in range(size):
        mov(rf[20 + k], 0)
    sub(null, rf11, 5 - size, cond="pushn")
    b(R.fits_done, cond="allna")
    nop()
    nop()
    nop()
    _config(size)
    mov(tmua, rf10, cond="ifa", sig=thrsw)
    nop()
    nop()
    for k in range(size):
        nop(sig=ldtmu(rf[30 + k]))
        mov(rf[20 + k], rf[30 + k], cond="ifa")  # flag A set before the thrsw (Appendix G.2)
    L.fits_done
    for tail in range(1, size):
        with namespace(f"tail{tail}"):
            sub(null, rf11, 4 + tail - size, cond="pushz")
            b(R.done, cond="allna")
            nop()
            nop()
            nop()
            head = size - tail
            if head > 1:
                _config(head)
            mov(tmua, rf10, cond="ifa", sig=thrsw)
            nop()
            nop()
            for k in range(head):
                nop(sig=ldtmu(rf[30 + k]))
            if tail > 1:
                _config(tail)
            mov(tmua, rf12, cond="ifa", sig=thrsw)
            nop()
            nop()
            for k in range(tail):
                nop(sig=ldtmu(rf[30 + head + k]))
            for k in range(size):
                mov(rf[20 + k], rf[30 + k], cond="ifa")
            L.done
    _store_registers(20, size)
    tmuwt()
    finish()


def _check_contiguous_read(size):
    with pi() as drv:
        code = drv.program(contiguous_vector_read, size)
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

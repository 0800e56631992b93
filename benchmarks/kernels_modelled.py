"""Modelled figures of the vc6-kernels routines on the emulator, at py-videocore6's record sizes.

    /work/venv/bin/python benchmarks/kernels_modelled.py [--routines sgemm,summation,...]
                                                          [--sgemm-size 1024]

For each routine: the cycle model's time for a 500 MHz Pi 4, the Gflop/s or MB/s that implies,
the ALU utilisation (all three *modelled*, from `job.stats`), and the emulator's own wall time
(which is how long this machine took to emulate it, not GPU performance). For sgemm also the
static share of inner-loop instructions that dual-issue a useful fmul and fadd (goal >= 75%),
and the wall time of the 1024^3 run (goal for `vc6-bench sgemm --size 1024`: < 60 s).
Every result is verified against numpy before its figures are printed.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import vc6_kernels
from vc6_isa.emulator import modelled_label
from vc6_kernels.sgemm import dual_issue_share
from vc6_kernels.sgemm import program as sgemm_program
from vc6_kernels.stencil import reference as stencil_reference


def _run(fn):
    start = time.perf_counter()
    with vc6_kernels.record() as rec:
        result = fn()
    wall = time.perf_counter() - start
    stats = [job.stats for job in rec.jobs]
    return result, wall, stats


def _line(name, size, stats, wall, *, flops=None, nbytes=None):
    """Print one routine's modelled figures; returns them as a dict (``seconds`` is modelled)."""
    seconds = sum(s.modelled_seconds for s in stats)
    issue = sum(s.thread_instructions for s in stats)
    util = sum(s.alu_utilisation * s.cycles for s in stats) / max(
        1, sum(s.cycles for s in stats)
    )
    emu = sum(s.wall_seconds for s in stats)
    rate = (
        f"{flops / seconds * 1e-9:8.2f} Gflop/s"
        if flops is not None
        else f"{nbytes / seconds * 1e-6:8.0f} MB/s"
    )
    print(
        f"{name:10s} {size:22s} {seconds * 1e3:9.3f} ms  {rate}  "
        f"ALU utilisation {util * 100:5.1f}%  ({modelled_label()})  "
        f"{issue / 1e6:7.2f} M thread-instructions  emulator {emu:7.2f} s (call {wall:7.2f} s wall)"
    )
    return {"routine": name, "size": size, "seconds": seconds, "rate": rate.strip()}


def bench_sgemm(n: int) -> None:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    got, wall, stats = _run(lambda: vc6_kernels.sgemm(a, b))
    err = np.abs(got - a.astype(np.float64) @ b.astype(np.float64)).max()
    assert err < 1e-3 * n, err
    share = dual_issue_share(sgemm_program(n))
    print(
        f"sgemm inner loop: {share * 100:.1f}% of instructions dual-issue fmul+fadd (static)"
    )
    return _line("sgemm", f"{n}^3", stats, wall, flops=2.0 * n**3)


def bench_summation(n: int) -> None:
    x = np.arange(n, dtype=np.uint32)
    got, wall, stats = _run(lambda: vc6_kernels.summation(x))
    assert got == x.sum(dtype=np.uint32)
    return _line("summation", f"{n // 2**20} Mi uint32", stats, wall, nbytes=4 * n)


def bench_memset(nbytes: int) -> None:
    dev = vc6_kernels.default_device()
    out = dev.array((nbytes // 4,), np.uint32)
    try:
        got, wall, stats = _run(lambda: vc6_kernels.memset(out, 0x5A5A5A5A))
        assert np.all(got == 0x5A5A5A5A)
    finally:
        out.close()
    return _line("memset", f"{nbytes // 2**20} MiB", stats, wall, nbytes=nbytes)


def bench_scopy(n: int) -> None:
    dev = vc6_kernels.default_device()
    x, y = dev.array((n,), np.float32), dev.array((n,), np.float32)
    try:
        x[...] = np.arange(n, dtype=np.float32)
        got, wall, stats = _run(lambda: vc6_kernels.scopy(x, y))
        assert np.array_equal(got, x)
    finally:
        x.close()
        y.close()
    # py-videocore6 counts the bytes copied once (n * 4)
    return _line("scopy", f"{n // 2**20} Mi float32", stats, wall, nbytes=4 * n)


def bench_stencil(size: int, steps: int) -> None:
    g = np.random.default_rng(0).standard_normal((size, size)).astype(np.float32)
    got, wall, stats = _run(lambda: vc6_kernels.stencil(g, steps))
    assert np.array_equal(got, stencil_reference(g, steps))
    cells = (size - 2) ** 2 * steps
    return _line(
        "stencil", f"{size}x{size} x {steps} steps", stats, wall, flops=11.0 * cells
    )  # 7 adds for the 8 neighbours, then 2 mul + 2 sub (QPULib count)


#: our routine at py-videocore6's record size -> py-videocore6's program for the same work
#: (vc6_isa.emulator.CALIBRATION_PROGRAMS)
PY_VIDEOCORE6 = {
    "sgemm": "sgemm 1024^3",
    "summation": "summation 32 Mi uint32",
    "memset": "memset 64 MiB",
    "scopy": "scopy 16 Mi float32",
}
ROUTINES = ("sgemm", "summation", "memset", "scopy", "stencil")


def run(routines=ROUTINES, sgemm_size: int = 1024) -> list[dict]:
    """Run ``routines`` at py-videocore6's record sizes (sgemm at ``sgemm_size``); their figures."""
    # warm the emulator's JIT so the first wall time is not compile time
    vc6_kernels.summation(np.ones(4096, np.float32))
    vc6_kernels.sgemm(np.ones((20, 20), np.float32), np.ones((20, 20), np.float32))
    benches = {
        "sgemm": lambda: bench_sgemm(sgemm_size),
        "summation": lambda: bench_summation(32 * 2**20),
        "memset": lambda: bench_memset(64 * 2**20),
        "scopy": lambda: bench_scopy(16 * 2**20),
        "stencil": lambda: bench_stencil(512, 10),
    }
    rows = [benches[name]() for name in ROUTINES if name in routines]
    for row in rows:
        row["py_videocore6"] = PY_VIDEOCORE6.get(row["routine"]) if row["routine"] != "sgemm" or sgemm_size == 1024 else None
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--routines", default=",".join(ROUTINES))
    parser.add_argument("--sgemm-size", type=int, default=1024)
    args = parser.parse_args()
    run(args.routines.split(","), args.sgemm_size)


if __name__ == "__main__":
    main()

# ruff: noqa: B018  (DSL labels are expressions)
"""Emulator speed: emulated thread-instructions per second (one instruction issued by one QPU
thread over its 16 lanes) on a dense ALU kernel and on a TMU-heavy kernel, excluding numba
compile time, which is measured separately (a fresh process with an empty machine cache).

    /work/venv/bin/python benchmarks/emulator_speed.py [--iterations N] [--no-cold] [--profile]

Target (issue 4): >= 5 M thread-instructions/s on one core, aiming for 50 M.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np
import v3d_drm
from vc6_isa.asm import *

THREADS = 16  # 8 QPUs x 2 threads


@qpu
def dense_alu(asm, iterations):
    """Loop of dual-issue float work: 8 instructions with add+mul each, then the loop control."""
    eidx(r0, sig=ldunif)  # r5 = iterations
    itof(r1, r0)
    mov(r2, 1.0)
    mov(rf[3], r5)
    L.loop
    for _ in range(4):
        fadd(r1, r1, r2).fmul(r3, r1, r2)
        fsub(r1, r1, r3).fmul(r2, r2, r2)
    sub(rf[3], rf[3], 1, cond="pushz")
    b(R.loop, cond="na0")
    fadd(r0, r0, r1).fmul(r3, r3, r3)
    fadd(r0, r0, r1).fmul(r3, r3, r3)
    fadd(r0, r0, r1).fmul(r3, r3, r3)
    program_end()


@qpu
def tmu_heavy(asm):
    """Loop copying 16 words per lane-vector: read, pop, write, every iteration."""
    eidx(r0, sig=ldunif)  # iterations
    mov(rf[3], r5, sig=ldunif)  # src
    shl(r0, r0, 2)
    add(rf[4], r5, r0, sig=ldunif)  # src + 4 * lane
    add(rf[5], r5, r0)  # dst + 4 * lane
    L.loop
    mov(tmua, rf[4])
    mov(tmua, rf[4])
    nop(sig=ldtmu(r1))
    nop(sig=ldtmu(r2))
    mov(tmud, r1)
    mov(tmua, rf[5])
    sub(rf[3], rf[3], 1, cond="pushz")
    b(R.loop, cond="na0")
    nop()
    nop()
    nop()
    tmuwt()
    program_end()


PROFILE = False  # --profile: run with executor_options={"profile": True}


def timed(dev, prog, uniforms, bos=()):
    job = dev.dispatch(prog, uniforms, workgroups=(THREADS, 1, 1), bos=bos, executor_options={"profile": PROFILE})
    job.wait()
    return job.stats


def cold_compile_seconds() -> tuple[float, float]:
    """(wall, CPU) seconds from import to the end of a first tiny job, in a fresh process whose
    numba cache is empty (so it includes numba compiling the machine). CPU seconds are what a
    shared machine does not distort."""
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
        here = os.path.dirname(os.path.abspath(__file__))
        code = (
            f"import sys, time; sys.path.insert(0, {here!r}); t = time.perf_counter(); "
            "import v3d_drm, emulator_speed as b; from vc6_isa.asm import assemble; "
            "dev = v3d_drm.open('emulator'); b.timed(dev, assemble(b.dense_alu, iterations=1), [1]); "
            "print(time.perf_counter() - t)"
        )
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        import_and_load = float(out.stdout.strip())
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return import_and_load, after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iterations", type=int, default=20000)
    ap.add_argument("--no-cold", action="store_true", help="skip the cold compile measurement")
    ap.add_argument("--profile", action="store_true", help="profile the jobs (executor_options profile=True)")
    args = ap.parse_args()
    global PROFILE
    PROFILE = args.profile
    if not args.no_cold:
        wall, cpu = cold_compile_seconds()
        print(f"cold compile (fresh cache, import + numba compile of the machine): {wall:.1f} s wall, {cpu:.1f} s CPU")
    with v3d_drm.open("emulator") as dev:
        t = time.perf_counter()
        timed(dev, assemble(dense_alu, iterations=1), [1])
        print(f"warm start (load cached machine + first tiny job): {time.perf_counter() - t:.2f} s")
        st = timed(dev, assemble(dense_alu, iterations=args.iterations), [args.iterations])
        print(f"dense ALU : {st.thread_instructions / st.wall_seconds / 1e6:6.2f} M thread-instructions/s "
              f"({st.thread_instructions} in {st.wall_seconds:.2f} s); {st}")
        n = args.iterations // 4
        src = dev.array((THREADS * 16,), np.uint32)
        dst = dev.array((THREADS * 16,), np.uint32)
        src[:] = np.arange(src.size)
        st = timed(dev, assemble(tmu_heavy), [n, src.address, dst.address], bos=[src, dst])
        assert (np.array(dst)[:16] == np.arange(16)).all()
        print(f"TMU-heavy : {st.thread_instructions / st.wall_seconds / 1e6:6.2f} M thread-instructions/s "
              f"({st.thread_instructions} in {st.wall_seconds:.2f} s); {st}")


if __name__ == "__main__":
    main()

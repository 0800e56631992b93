# ruff: noqa: B018  (DSL labels are expressions)
"""Emulator speed: emulated thread-instructions per second (one instruction issued by one QPU
thread over its 16 lanes) on a dense ALU kernel and on a TMU-heavy kernel, excluding numba
compile time, which is measured separately (a fresh process with an empty machine cache).

    /work/venv/bin/python benchmarks/emulator_speed.py [--iterations N] [--no-cold] [--profile]
        [--sgemm N] [--main-job] [--against DIR [--at-once]]

Rates are thread-instructions per CPU second of this process (what a shared machine does not
distort; the wall-clock rate is in the stats line). `--sgemm N` adds vc6_kernels.sgemm of N x N
matrices; `--main-job` times the README's main job, `vc6-bench sgemm --size 1024`, as a fresh
process with a warm numba cache and bytecode (CPU and wall seconds). `--against DIR` runs the
same measurements again, in a fresh process, on another tree's packages (DIR/packages/*/src first on
`sys.path`, numba cache in DIR/.numba-cache; e.g. an export of main:
`git archive main | tar -x -C DIR`), so both are measured side by side in one run. With
`--at-once` the two trees run at the same time, each in its own process (one core each on a
2-core host), every line printed as it comes with its tree's name in front: on a shared host whose load
changes from minute to minute, runs taken one after the other differ by 10-30%, while two runs
taken together see the same load (issue 13, sgemm 1024 at load 4-6: 12 of 12 pairs taken together
found the same tree faster; of 6 sequential pairs, 2 did).

Targets: issue 4, >= 5 M thread-instructions/s on one core; issue 13, >= 50 M on sgemm 1024 and
a warm `vc6-bench sgemm --size 1024` <= 5 s.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

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
    """Run one job; its stats and the CPU seconds it took. Python's garbage is collected first:
    a full collection over the ~300,000 objects of a loaded machine takes ~50 ms, which fell
    into the 0.03 s TMU-heavy job in some trees and not in others."""
    gc.collect()
    cpu = time.process_time()
    job = dev.dispatch(prog, uniforms, workgroups=(THREADS, 1, 1), bos=bos, executor_options={"profile": PROFILE})
    job.wait()
    return job.stats, time.process_time() - cpu


def tree_env(src_root: str) -> dict[str, str]:
    """Environment for a subprocess that runs another tree's packages (DIR/packages/*/src first
    on `sys.path`) with its own numba cache (DIR/.numba-cache)."""
    env = dict(os.environ)
    paths = sorted(str(p) for p in Path(src_root, "packages").glob("*/src"))
    env["PYTHONPATH"] = os.pathsep.join([*paths, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["NUMBA_CACHE_DIR"] = str(Path(src_root) / ".numba-cache")
    return env


def sgemm_rate(n: int) -> None:
    """Emulate vc6_kernels.sgemm of n x n matrices; print thread-instructions per CPU second."""
    import vc6_kernels

    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    vc6_kernels.sgemm(a[:8, :8].copy(), b[:8, :8].copy())  # warm: program build and machine load
    cpu = time.process_time()
    with vc6_kernels.record() as rec:
        c = vc6_kernels.sgemm(a, b)
    cpu = time.process_time() - cpu
    assert np.abs(c - a.astype(np.float64) @ b.astype(np.float64)).max() < 1e-3 * n
    n_instr = sum(job.stats.thread_instructions for job in rec.jobs)
    print(f"sgemm {n}: {n_instr / cpu / 1e6:6.2f} M thread-instructions/s ({n_instr} in {cpu:.2f} s CPU)", flush=True)


def main_job_seconds(env: dict[str, str] | None = None) -> tuple[float, float]:
    """(wall, CPU) seconds of `vc6-bench sgemm --size 1024` in a fresh process started as the
    console script starts it, warm: the numba cache and Python's bytecode of every module it
    imports are already written, as after any earlier run (PYTHONDONTWRITEBYTECODE, if set, is
    dropped for this, so the timed run does not compile ~80 modules from source)."""
    env = {k: v for k, v in (env or os.environ).items() if k != "PYTHONDONTWRITEBYTECODE"}
    warm = "import vc6_bench.cli, vc6_kernels, vc6_isa.emulator.machine.run"
    subprocess.run([sys.executable, "-c", warm], env=env, check=True)
    # the console script's own entry (`console`; trees older than it have only `main`)
    code = "import sys, vc6_bench.cli as cli; getattr(cli, 'console', lambda: sys.exit(cli.main()))()"
    cmd = [sys.executable, "-c", code, "sgemm", "--size", "1024"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


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


def measure(args) -> None:
    """This tree's figures (the measurements `main` selects)."""
    if not args.no_cold:
        wall, cpu = cold_compile_seconds()
        print(f"cold compile (fresh cache, import + numba compile of the machine): {wall:.1f} s wall, {cpu:.1f} s CPU")
    with v3d_drm.open("emulator") as dev:
        t = time.perf_counter()
        timed(dev, assemble(dense_alu, iterations=1), [1])
        print(f"warm start (load cached machine + first tiny job): {time.perf_counter() - t:.2f} s")
        st, cpu = timed(dev, assemble(dense_alu, iterations=args.iterations), [args.iterations])
        print(f"dense ALU : {st.thread_instructions / cpu / 1e6:6.2f} M thread-instructions/s "
              f"({st.thread_instructions} in {cpu:.2f} s CPU); {st}")
        n = args.iterations // 4
        src = dev.array((THREADS * 16,), np.uint32)
        dst = dev.array((THREADS * 16,), np.uint32)
        src[:] = np.arange(src.size)
        st, cpu = timed(dev, assemble(tmu_heavy), [n, src.address, dst.address], bos=[src, dst])
        assert (np.array(dst)[:16] == np.arange(16)).all()
        print(f"TMU-heavy : {st.thread_instructions / cpu / 1e6:6.2f} M thread-instructions/s "
              f"({st.thread_instructions} in {cpu:.2f} s CPU); {st}")
    if args.sgemm:
        sgemm_rate(args.sgemm)
    if args.main_job:
        wall, cpu = main_job_seconds()
        print(f"main job, warm `vc6-bench sgemm --size 1024`: {wall:.1f} s wall, {cpu:.1f} s CPU")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iterations", type=int, default=20000)
    ap.add_argument("--no-cold", action="store_true", help="skip the cold compile measurement")
    ap.add_argument("--profile", action="store_true", help="profile the jobs (executor_options profile=True)")
    ap.add_argument("--sgemm", type=int, default=0, metavar="N", help="also emulate sgemm of N x N matrices")
    ap.add_argument("--main-job", action="store_true", help="also time `vc6-bench sgemm --size 1024`")
    ap.add_argument("--against", metavar="DIR", help="measure DIR's packages too, side by side")
    ap.add_argument("--at-once", action="store_true", help="with --against: run both trees at the same time")
    args = ap.parse_args()
    global PROFILE
    PROFILE = args.profile
    if args.against:
        rest = [a for a in sys.argv[1:] if a not in ("--against", args.against, "--at-once")]
        if args.at_once:
            side_by_side_at_once(rest, args.against)
            return
        print(f"== {args.against}", flush=True)
        subprocess.run([sys.executable, __file__, *rest], env=tree_env(args.against), check=True)
        print("== this tree", flush=True)
    elif args.at_once:
        ap.error("--at-once needs --against DIR")
    measure(args)


def side_by_side_at_once(rest: list[str], against: str) -> None:
    """Measure `against` and this tree in two processes started together, printing each line as
    it comes, prefixed with its tree's name (`[DIR]` or `[this tree]`)."""
    trees = {against: tree_env(against), "this tree": None}
    procs = {name: subprocess.Popen([sys.executable, __file__, *rest], env=env, stdout=subprocess.PIPE, text=True)
             for name, env in trees.items()}  # fmt: skip
    lock = threading.Lock()

    def relay(name: str, proc: subprocess.Popen) -> None:
        for line in proc.stdout:
            with lock:
                print(f"[{name}] {line}", end="", flush=True)

    relays = [threading.Thread(target=relay, args=item) for item in procs.items()]
    for t in relays:
        t.start()
    for t in relays:
        t.join()
    failed = [name for name, proc in procs.items() if proc.wait() != 0]
    if failed:
        sys.exit(f"emulator_speed: the measurement of {', '.join(failed)} failed (its error is above)")


if __name__ == "__main__":
    main()

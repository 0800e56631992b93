# ruff: noqa: B018  (DSL labels are expressions)
"""Emulator speed: emulated thread-instructions per second (one instruction issued by one QPU
thread over its 16 lanes) on a dense ALU kernel and on a TMU-heavy kernel, excluding numba
compile time, which is measured separately (a fresh process with an empty machine cache).

    /work/venv/bin/python benchmarks/emulator_speed.py [--iterations N] [--no-cold] [--profile]
        [--sgemm N] [--main-job] [--against DIR [--at-once] [--pairs N [--json]]]

Rates are thread-instructions per CPU second of this process (what a shared machine does not
distort; the wall-clock rate is in the stats line). `--sgemm N` adds vc6_kernels.sgemm of N x N
matrices; `--main-job` times the README's main job, `vc6-bench sgemm --size 1024`, as a fresh
process with a warm numba cache and bytecode (CPU and wall seconds). `--against DIR` runs the
same measurements again, in a fresh process, on another tree's packages (DIR/packages/*/src first on
`sys.path`, numba cache in DIR/.numba-cache; e.g. an export of main:
`git archive main | tar -x -C DIR`), so both are measured side by side in one run. With
`--at-once` the two trees are first warmed one after the other (as for `--pairs`, below) and
then run at the same time, each in its own process (one core each on a 2-core host), every line
printed as it comes with its tree's name in front: on a shared host whose load
changes from minute to minute, runs taken one after the other differ by 10-30%, while two runs
taken together see the same load (issue 13, sgemm 1024 at load 4-6: 12 of 12 pairs taken together
found the same tree faster; of 6 sequential pairs, 2 did).

`--pairs N` (with `--against`) takes N pairs instead of one and summarises them: one pair means
little on a host with slow spells that slow a whole process 1.6-2x (docs/emulator-internals.md,
"The TMU lookup"). Both trees are first warmed one after the other (a tiny run of each, so that
neither compiles its machine while the other is measured); then each pair measures both trees in
fresh processes, at the same time with `--at-once`, else one after the other with the order
swapped every pair so that neither tree always goes first. A line per pair goes to stderr; stdout
gets, per figure, each tree's median and range, the median of the per-pair ratios (this tree /
DIR) and in how many pairs this tree was faster (with `--json`, the same as one JSON object).

Targets: issue 4, >= 5 M thread-instructions/s on one core; issue 13, >= 50 M on sgemm 1024 and
a warm `vc6-bench sgemm --size 1024` <= 5 s.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import statistics
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
THIS_TREE = "this tree"  # --pairs: the name this tree's figures go by, beside DIR's
# A figure's unit says which way is faster: a rate (M thread-instructions per CPU second) or seconds.
HIGHER_IS_FASTER = {"M/s": True, "s": False}


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


def sgemm_rate(n: int) -> float:
    """Emulate vc6_kernels.sgemm of n x n matrices; print and return M thread-instructions per CPU
    second."""
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
    return n_instr / cpu / 1e6


MAIN_JOB_IMPORTS = "import vc6_bench.cli, vc6_kernels, vc6_isa.emulator.machine.run"  # what the main job loads


def main_job_seconds(env: dict[str, str] | None = None) -> tuple[float, float]:
    """(wall, CPU) seconds of `vc6-bench sgemm --size 1024` in a fresh process started as the
    console script starts it, warm: the numba cache and Python's bytecode of every module it
    imports are already written, as after any earlier run (PYTHONDONTWRITEBYTECODE, if set, is
    dropped for this, so the timed run does not compile ~80 modules from source)."""
    env = {k: v for k, v in (env or os.environ).items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-c", MAIN_JOB_IMPORTS], env=env, check=True)
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


def measure(args) -> dict[str, tuple[float, str]]:
    """Print this tree's figures (the measurements `main` selects) and return them by name, each
    with its unit (`M/s`, thread-instructions per CPU second, or `s`), for `--pairs`."""
    figures = {}
    if not args.no_cold:
        wall, cpu = cold_compile_seconds()
        print(f"cold compile (fresh cache, import + numba compile of the machine): {wall:.1f} s wall, {cpu:.1f} s CPU")
        figures["cold compile CPU"] = (cpu, "s")
    with v3d_drm.open("emulator") as dev:
        t = time.perf_counter()
        timed(dev, assemble(dense_alu, iterations=1), [1])
        print(f"warm start (load cached machine + first tiny job): {time.perf_counter() - t:.2f} s")
        st, cpu = timed(dev, assemble(dense_alu, iterations=args.iterations), [args.iterations])
        print(f"dense ALU : {st.thread_instructions / cpu / 1e6:6.2f} M thread-instructions/s "
              f"({st.thread_instructions} in {cpu:.2f} s CPU); {st}")
        figures["dense ALU"] = (st.thread_instructions / cpu / 1e6, "M/s")
        n = args.iterations // 4
        src = dev.array((THREADS * 16,), np.uint32)
        dst = dev.array((THREADS * 16,), np.uint32)
        src[:] = np.arange(src.size)
        st, cpu = timed(dev, assemble(tmu_heavy), [n, src.address, dst.address], bos=[src, dst])
        assert (np.array(dst)[:16] == np.arange(16)).all()
        print(f"TMU-heavy : {st.thread_instructions / cpu / 1e6:6.2f} M thread-instructions/s "
              f"({st.thread_instructions} in {cpu:.2f} s CPU); {st}")
        figures["TMU-heavy"] = (st.thread_instructions / cpu / 1e6, "M/s")
    if args.sgemm:
        figures[f"sgemm {args.sgemm}"] = (sgemm_rate(args.sgemm), "M/s")
    if args.main_job:
        wall, cpu = main_job_seconds()
        print(f"main job, warm `vc6-bench sgemm --size 1024`: {wall:.1f} s wall, {cpu:.1f} s CPU")
        figures["main job wall"] = (wall, "s")
        figures["main job CPU"] = (cpu, "s")
    return figures


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iterations", type=int, default=20000)
    ap.add_argument("--no-cold", action="store_true", help="skip the cold compile measurement")
    ap.add_argument("--profile", action="store_true", help="profile the jobs (executor_options profile=True)")
    ap.add_argument("--sgemm", type=int, default=0, metavar="N", help="also emulate sgemm of N x N matrices")
    ap.add_argument("--main-job", action="store_true", help="also time `vc6-bench sgemm --size 1024`")
    ap.add_argument("--against", metavar="DIR", help="measure DIR's packages too, side by side")
    ap.add_argument("--at-once", action="store_true", help="with --against: run both trees at the same time")
    ap.add_argument("--pairs", type=int, default=1, metavar="N",
                    help="with --against: take N pairs, then print each figure's medians, ratio and wins")
    ap.add_argument("--json", action="store_true", help="with --against: print the pairs' summary as JSON")
    ap.add_argument("--figures-to", metavar="FILE", help=argparse.SUPPRESS)  # a pair's child: figures as JSON
    args = ap.parse_args()
    global PROFILE
    PROFILE = args.profile
    if args.pairs < 1:
        ap.error("--pairs needs N >= 1")
    if args.against:
        rest = child_args(args)
        if args.pairs > 1 or args.json:
            run_pairs(rest, args.against, args.pairs, at_once=args.at_once, as_json=args.json)
            return
        if args.at_once:
            side_by_side_at_once(rest, args.against)
            return
        print(f"== {args.against}", flush=True)
        subprocess.run([sys.executable, __file__, *rest], env=tree_env(args.against), check=True)
        print("== this tree", flush=True)
    elif args.at_once or args.pairs > 1 or args.json:
        ap.error("--at-once, --pairs and --json need --against DIR")
    figures = measure(args)
    if args.figures_to:
        Path(args.figures_to).write_text(json.dumps(figures))


def child_args(args: argparse.Namespace) -> list[str]:
    """The options that select the measurements, for a child process that measures one tree
    (rebuilt from `args` rather than filtered from `sys.argv`, where a value such as `--pairs 3`'s
    could equal another option's)."""
    rest = ["--iterations", str(args.iterations)]
    rest += ["--no-cold"] * args.no_cold + ["--profile"] * args.profile + ["--main-job"] * args.main_job
    return rest + (["--sgemm", str(args.sgemm)] if args.sgemm else [])


def side_by_side_at_once(rest: list[str], against: str) -> None:
    """Warm both trees (`warm_trees`: a tree with an empty cache would otherwise compile its
    machine while the other is measured), then measure `against` and this tree in two processes
    started together, printing each line as it comes, prefixed with its tree's name (`[DIR]` or
    `[this tree]`)."""
    trees = {against: tree_env(against), THIS_TREE: dict(os.environ)}
    warm_trees(trees, rest)
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


def run_pairs(rest: list[str], against: str, pairs: int, *, at_once: bool, as_json: bool) -> None:
    """Warm both trees, measure `pairs` pairs (a line per pair on stderr), then print the summary
    (`summarize` per figure) on stdout, as a table or as JSON."""
    trees = {against: tree_env(against), THIS_TREE: dict(os.environ)}
    warm_trees(trees, rest)
    runs: dict[str, list[dict[str, tuple[float, str]]]] = {name: [] for name in trees}
    for i in range(pairs):
        order = list(trees) if at_once or i % 2 == 0 else list(trees)[::-1]
        figures = measure_trees({name: trees[name] for name in order}, rest, at_once=at_once)
        for name in trees:
            runs[name].append(figures[name])
        how = "at once" if at_once else f"{order[0]} first"
        shown = ", ".join(f"{key} {value:.2f} / {figures[against][key][0]:.2f} {unit}"
                          for key, (value, unit) in figures[THIS_TREE].items())  # fmt: skip
        print(f"pair {i + 1}/{pairs} ({how}; this tree / {against}): {shown}", file=sys.stderr, flush=True)
    summary = {key: summarize([run[key][0] for run in runs[THIS_TREE]], [run[key][0] for run in runs[against]], unit)
               for key, (_, unit) in runs[THIS_TREE][0].items()}  # fmt: skip
    if as_json:
        print(json.dumps({"against": against, "pairs": pairs, "at_once": at_once, "figures": summary}, indent=1))
    else:
        print_summary(summary, against, pairs, at_once)


def warm_trees(trees: dict[str, dict[str, str]], rest: list[str]) -> None:
    """Run every tree once on tiny jobs, one tree after the other, so that each has compiled its
    machine into its numba cache (and written its bytecode, the main job's modules' too when it
    is measured) before any pair is timed: a tree that compiled during the first pair took a core
    from the other tree's measurement."""
    tiny = ["--iterations", "8", "--no-cold", *(["--sgemm", "8"] if "--sgemm" in rest else [])]
    for name, env in trees.items():
        print(f"warming {name} (compiles its machine if its cache is empty)", file=sys.stderr, flush=True)
        env = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
        subprocess.run([sys.executable, __file__, *tiny], env=env, check=True, stdout=subprocess.DEVNULL)
        if "--main-job" in rest:
            subprocess.run([sys.executable, "-c", MAIN_JOB_IMPORTS], env=env, check=True)


def measure_trees(trees: dict[str, dict[str, str]], rest: list[str], *, at_once: bool):
    """Measure each tree in a fresh process, all started together (`at_once`) or one after the
    other in the order given; their figures by tree name. Each child's output goes to a file, not
    a pipe, so that a child never waits on a full pipe while the other one is read."""
    with tempfile.TemporaryDirectory() as tmp:
        procs = {}
        for i, (name, env) in enumerate(trees.items()):
            log = open(Path(tmp, f"{i}.log"), "w")  # noqa: SIM115 (closed below, after the child ends)
            cmd = [sys.executable, __file__, *rest, "--figures-to", str(Path(tmp, f"{i}.json"))]
            procs[name] = (subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT), log)
            if not at_once:
                procs[name][0].wait()
        figures = {}
        for i, (name, (proc, log)) in enumerate(procs.items()):
            proc.wait()
            log.close()
            if proc.returncode != 0:
                sys.exit(f"emulator_speed: the measurement of {name} failed:\n{Path(tmp, f'{i}.log').read_text()}")
            figures[name] = {key: tuple(value) for key, value in json.loads(Path(tmp, f"{i}.json").read_text()).items()}
        return figures


def spread(values: list[float]) -> dict[str, float | list[float]]:
    """Median, smallest and largest of one tree's values of a figure, and the values in pair order."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "values": values}


def summarize(this: list[float], other: list[float], unit: str) -> dict:
    """One figure over the pairs: each tree's `spread`, the median of the per-pair ratios this
    tree / the other (the ratio of medians would mix pairs taken under different loads), and in
    how many pairs this tree was faster (a higher rate or fewer seconds, by `unit`)."""
    ratios = [a / b for a, b in zip(this, other, strict=True)]
    faster = sum(a > b if HIGHER_IS_FASTER[unit] else a < b for a, b in zip(this, other, strict=True))
    return {"unit": unit, "this_tree": spread(this), "against": spread(other),
            "ratio_median": statistics.median(ratios), "faster": faster, "pairs": len(this)}  # fmt: skip


def print_summary(summary: dict[str, dict], against: str, pairs: int, at_once: bool) -> None:
    """The summary as a table: a row per figure."""
    how = "at once" if at_once else "alternating which tree goes first"
    print(f"{pairs} pairs ({how}), this tree against {against}: median (range); ratio = median of the "
          "pairs' this tree / against; faster = a higher M/s or fewer s")  # fmt: skip
    print(f"{'figure':<16} {'unit':<4} {'this tree':<22} {'against':<22} {'ratio':>6}  this tree faster")
    for key, fig in summary.items():
        cells = [f"{t['median']:.2f} ({t['min']:.2f}-{t['max']:.2f})" for t in (fig["this_tree"], fig["against"])]
        print(f"{key:<16} {fig['unit']:<4} {cells[0]:<22} {cells[1]:<22} {fig['ratio_median']:6.3f}  "
              f"in {fig['faster']} of {fig['pairs']}")


if __name__ == "__main__":
    main()

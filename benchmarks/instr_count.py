"""Host instructions per emulated thread-instruction, counted by valgrind: exact and repeatable,
whatever else the host does (AVX2 build of the machine).

    .venv/bin/python benchmarks/instr_count.py [--sgemm N] [--iterations N] [--shape S ...]
        [--no-shapes] [--no-sgemm] [--against DIR] [--by-function] [--annotate DIR] [--json]

Why: on this shared 2-core VM a timing is only good to a few percent (docs/emulator-internals.md,
"The TMU lookup"), while a cut of one row's work is 2-5%; a count does not move with the host's
load. What a count is good for (docs/emulator-internals.md, "Counting instructions"): it says
exactly what a change adds or removes, and across row kinds it tracks the host's time
(correlation 0.98 over 20 shapes); but it does not predict a single change's time: a cut of 17%
of sgemm's instructions ran ~8% slower, and identical code in two trees timed 3.5% apart. Judge
a change by side-by-side time (emulator_speed.py --at-once), with its count beside it.

What is counted: every host instruction executed in the machine's compiled code (the functions
of the numba libraries it loads: the entry `run` with what it inlines, and the functions it calls)
while the machine's entry runs (`executor._Job.run`), with callgrind's instrumentation on only
there (`--instr-atstart=no` and client requests from a small C helper built with the system's C
compiler and `valgrind/callgrind.h`). Python's start-up, numba's import, the cache load and the
jobs' preparation are not counted, nor is code outside the machine's (Python's entry call, other
threads: the emulated device's waiting threads run Python at times that vary from run to run).
The jobs run in one slice each (the executor's time-based slicing would make the number of
entry calls depend on the host's speed). Repeated runs give the same figures to ~0.01%.

- `sgemm N`: `vc6_kernels.sgemm` of N x N matrices, host instructions per thread-instruction of
  the whole job (sgemm 128, 256, 512 and 1024: 427.0, 423.2, 422.2 and 423.9: sgemm 256, the
  default, is within 0.5% of sgemm 1024, which takes ~5 minutes).
- each shape of benchmarks/emulator_shapes.py, and emulator_speed.py's dense ALU and TMU-heavy
  kernels: by difference of two jobs, `--iterations` and twice
  that, so the job's start and end cancel and the figure is the loop's own (for a shape: 64 rows
  of it and the loop's 9 control rows, as emulator_shapes.py times them). Each job has a device of its
  own, so its buffers' addresses do not depend on the other jobs.

Valgrind does not run AVX-512 code, so the machine is compiled for `x86-64-v3` (AVX2, no AVX-512:
`NUMBA_CPU_NAME`, `NUMBA_CPU_FEATURES=""`), natively first (its own numba cache folder, under the
system's temporary folder per tree), then only loaded under valgrind. The counts are of that
build, not of the AVX-512 build the host runs: how well they track the host's time is in
docs/emulator-internals.md ("Counting instructions"). `--against DIR` counts another tree's
packages the same way (an export, as for emulator_speed.py) and prints both and the ratio.
`--by-function` adds the split of each figure by the machine's compiled functions (callgrind
names code without symbols by its entry address; the functions' addresses come from the loaded
objects' symbols), with `outside` for the rest. `--annotate DIR` writes each job's disassembly of
every machine function it ran with the instructions executed at each instruction
(DIR/<tree>/<job>-<function>-<address>.ann, benchmarks/perf_symbols.py's listing): a count that
is a multiple of the job's lookups or rows tells which row kind runs that code.

Takes ~1.5 minutes per tree with the defaults (sgemm 256, every shape and both kernels at 20 and
40 iterations), plus the tree's AVX2 compile (~35 s CPU) the first time; it prints the elapsed
time on a terminal while it runs. Needs valgrind (3.19 tested), a C compiler and `nm`.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Self

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # its sibling scripts (emulator_speed, emulator_shapes, perf_symbols)
    sys.path.insert(0, str(HERE))
AVX2_CPU = "x86-64-v3"
THIS_TREE = "this tree"
OUTSIDE = "outside"  # by function: code outside the machine's (Python, libc, other threads)

#: The client requests around the counted code (valgrind/callgrind.h): instrumentation on while
#: the machine runs, and a dump of the costs (then zeroed) per job, named for the job.
HELPER_SOURCE = r"""
#include <valgrind/callgrind.h>
void vc6_count_on(void) { CALLGRIND_START_INSTRUMENTATION; }
void vc6_count_off(void) { CALLGRIND_STOP_INSTRUMENTATION; }
void vc6_count_dump(const char *name) { CALLGRIND_DUMP_STATS_AT(name); }
int vc6_on_valgrind(void) { return RUNNING_ON_VALGRIND; }
"""


def build_helper(folder: Path) -> Path:
    """Compile `HELPER_SOURCE` into `folder`/count.so; raise a clear error without a compiler or
    valgrind's headers."""
    cc = shutil.which(os.environ.get("CC", "cc"))
    if cc is None:
        raise SystemExit("instr_count.py needs a C compiler (cc) for its valgrind client requests; set CC")
    source = folder / "count.c"
    source.write_text(HELPER_SOURCE)
    out = folder / "count.so"
    done = subprocess.run([cc, "-O1", "-shared", "-fPIC", "-o", str(out), str(source)], check=False,
                          capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"building the client-request helper failed (is valgrind's valgrind/callgrind.h installed?):\n{done.stderr}")
    return out


def avx2_env(env: dict[str, str], cache: Path) -> dict[str, str]:
    """`env` with numba compiling for `AVX2_CPU` (no AVX-512) into its own cache folder `cache`."""
    return dict(env, NUMBA_CPU_NAME=AVX2_CPU, NUMBA_CPU_FEATURES="", NUMBA_CACHE_DIR=str(cache),
                VC6_INSTR_COUNT_CPU=AVX2_CPU)


def pin_host_cpu() -> None:
    """Make the machine's build key (compile_cache.build_key, from LLVM's view of the host CPU)
    the same natively and under valgrind, whose emulated CPU LLVM sees differently: both name the
    AVX2 target, so valgrind loads the native AVX2 build instead of compiling (~50x slower)."""
    import llvmlite.binding as ll

    name = os.environ["VC6_INSTR_COUNT_CPU"]
    ll.get_host_cpu_name = lambda: name
    ll.get_host_cpu_features = lambda: ll.FeatureMap()


def cache_folder(tree: Path) -> Path:
    """The AVX2 build's numba cache folder of `tree` (one per tree, under the temporary folder)."""
    digest = hashlib.sha256(str(tree.resolve()).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir(), "vc6-instr-count", f"{tree.resolve().name}-{digest}")


def tree_env(tree: Path | None) -> dict[str, str]:
    """The environment that runs `tree`'s packages (None: this process's own)."""
    if tree is None:
        return dict(os.environ)
    from emulator_speed import tree_env as other_tree

    return other_tree(str(tree))


# --- the worker: runs inside the counted process ---------------------------------------------


def sgemm_job(n: int):
    """A function running vc6_kernels.sgemm of n x n matrices, returning its thread-instructions."""
    import numpy as np
    import vc6_kernels

    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)

    def run() -> int:
        with vc6_kernels.record() as rec:
            vc6_kernels.sgemm(a, b)
        return sum(job.stats.thread_instructions for job in rec.jobs)

    return run


#: emulator_speed.py's two kernels, counted as the shapes are (by difference of two loop counts)
SPEED_KERNELS = ("dense ALU", "TMU-heavy")


def shape_job(shape: str, iterations: int):
    """A function running emulator_shapes.py's loop of `shape` (or one of `SPEED_KERNELS`) for
    `iterations`, returning its thread-instructions. Each job has a device of its own, so its
    buffers' addresses (which the modelled caches and lines see) do not depend on the jobs built
    before it."""
    import emulator_shapes as shapes
    import emulator_speed as speed
    import numpy as np
    import v3d_drm
    from vc6_isa.asm import assemble

    dev = v3d_drm.open("emulator")
    if shape == "dense ALU":
        prog, unifs, bos = assemble(speed.dense_alu, iterations=iterations), [iterations], []
    elif shape == "TMU-heavy":
        src = dev.array((speed.THREADS * 16,), np.uint32)
        dst = dev.array((speed.THREADS * 16,), np.uint32)
        prog, unifs, bos = assemble(speed.tmu_heavy), [iterations, src.address, dst.address], [src, dst]
    else:
        buf = dev.array((shapes.UNROLL * 16,), np.uint32)
        buf[:] = 1
        prog, unifs, bos = assemble(shapes.kernel_for(shape)), [iterations, buf.address] + [7] * (shapes.UNROLL * iterations + 8), [buf]
    uni = dev.array((len(unifs),), np.uint32)
    uni[:] = unifs

    def run() -> int:
        job = dev.dispatch(prog, uni, workgroups=(shapes.THREADS, 1, 1), bos=bos)
        job.wait()
        return job.stats.thread_instructions

    return run


def worker(specs: list[str], helper: str | None, functions_out: str | None, code_out: str | None = None) -> None:
    """Run the jobs `specs` ("sgemm:N", "shape:NAME:ITERATIONS"), each counted when `helper` (the
    client-request library) is given, and print one JSON line per job: its name and
    thread-instructions. Without `helper` (the native warm-up) nothing is counted. At the end, the
    machine's functions go to `functions_out` (`write_functions`), their code bytes to `code_out`."""
    pin_host_cpu()
    from vc6_isa.emulator import executor

    # one entry call per job: the slices' size follows the host's speed (valgrind's too)
    for name in ("_SLICE_FIRST", "_SLICE_MIN", "_SLICE_MAX"):
        if hasattr(executor, name):
            setattr(executor, name, 1 << 60)
    loaded = record_objects() if functions_out else []
    lib = ctypes.CDLL(helper) if helper else None
    if lib is not None and not lib.vc6_on_valgrind():
        raise SystemExit("the counting worker must run under valgrind")
    run_entry = executor._Job.run

    def counted(self, instructions: int = 0) -> int:
        lib.vc6_count_on()
        try:
            return run_entry(self, instructions)
        finally:
            lib.vc6_count_off()

    jobs = []
    for spec in specs:
        kind, *rest = spec.split(":")
        jobs.append((spec, sgemm_job(int(rest[0])) if kind == "sgemm" else shape_job(rest[0], int(rest[1]))))
    sgemm_job(8)()  # loads (or compiles) the machine, uncounted
    # a collection that fell inside an entry call (its arguments' boxing allocates) would be
    # counted: ~50,000-100,000 instructions at a time, at points that vary from run to run
    gc.collect()
    gc.disable()
    if lib is not None:
        executor._Job.run = counted
        sgemm_job(8)()  # the wrapper's and the dispatcher's first calls (~200,000 instructions of Python)
        lib.vc6_count_dump(b"warm-up")
    for spec, run in jobs:
        n = run()
        if lib is not None:
            lib.vc6_count_dump(spec.encode())
        print(json.dumps({"job": spec, "thread_instructions": n}), flush=True)
    if functions_out:
        write_functions(functions_out, loaded, code_out)


def record_objects() -> list:
    """Keep the object code of every numba library loaded from the cache from now on (numba hands
    it to LLVM and drops it): (library, object bytes) pairs, for `write_functions`."""
    from numba.core import codegen

    loaded: list = []
    unserialize = codegen.JITCodeLibrary._unserialize.__func__

    def keep(cls, cg, state):
        lib = unserialize(cls, cg, state)
        if state[1] == "object":
            loaded.append((lib, state[2][0]))
        return lib

    codegen.JITCodeLibrary._unserialize = classmethod(keep)
    return loaded


def write_functions(path: str, loaded: list, code_out: str | None = None) -> None:
    """Write [address, size, symbol] of every function in the loaded objects `loaded` (their
    symbols by `nm`, their addresses from LLVM's engine) to `path` as JSON, and with `code_out`
    each function's machine code to `code_out`/<address>.bin."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for lib, code in loaded:
            obj = Path(tmp, "lib.o")
            obj.write_bytes(code)
            listing = subprocess.run(["nm", "-S", "--defined-only", str(obj)], capture_output=True, text=True, check=True)
            engine = lib._codegen._engine
            for line in listing.stdout.splitlines():
                parts = line.split()
                if len(parts) == 4 and parts[2] in "tT":
                    address = engine.get_function_address(parts[3])
                    if address:
                        rows.append((address, int(parts[1], 16), parts[3]))
    Path(path).write_text(json.dumps(sorted(rows)))
    if code_out:
        Path(code_out).mkdir(parents=True, exist_ok=True)
        for address, size, _ in rows:
            Path(code_out, f"{address:x}.bin").write_bytes(ctypes.string_at(address, size))


# --- the parent: builds, runs valgrind, reads its dumps ---------------------------------------


class Ticker:
    """Elapsed seconds on stderr every few seconds while a long step runs (a terminal only)."""

    def __init__(self, what: str) -> None:
        self.what, self.start, self.stop = what, time.perf_counter(), threading.Event()
        self.thread = threading.Thread(target=self._tick, daemon=True)

    def _tick(self) -> None:
        while not self.stop.wait(2.0):
            sys.stderr.write(f"\r{self.what}: {time.perf_counter() - self.start:5.0f} s")
            sys.stderr.flush()

    def __enter__(self) -> Self:
        if sys.stderr.isatty():
            self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        if self.thread.is_alive():
            self.thread.join()
            sys.stderr.write(f"\r{self.what}: {time.perf_counter() - self.start:5.0f} s\n")


def read_dumps(folder: Path) -> dict[str, int]:
    """Instructions per job from callgrind's dump files in `folder`: each dump's trigger names
    the job (`vc6_count_dump`), its `totals:` line holds the instructions (Ir)."""
    counts = {}
    for path in folder.glob("callgrind.out*"):
        text = path.read_text(errors="replace")
        trigger = re.search(r"^desc: Trigger: Client Request: (.+)$", text, re.MULTILINE)
        totals = re.search(r"^totals: (\d+)", text, re.MULTILINE)  # (its `summary:` line stays 0 for a dump)
        if trigger and totals:
            counts[trigger.group(1).strip()] = int(totals.group(1))
    return counts


def own_costs(path: Path):
    """(callgrind function name, instruction address or None, Ir) for each cost line of the
    dump at `path` that is a function's own cost: the line after a `calls=` line is the call's
    inclusive cost and is left out. Addresses are there with `--dump-instr=yes` (positions
    `instr line`; relative positions follow the line before, the call's included)."""
    names: dict[str, str] = {}
    current, after_call, npos, address = OUTSIDE, False, 1, None
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("positions:"):
            npos = len(line.split()) - 1
        elif line.startswith("fn="):
            current = _compressed(line[3:], names)
        elif line.startswith(("cfn=", "cfi=", "cob=", "fl=", "fi=", "fe=", "ob=")):
            _compressed(line.split("=", 1)[1], names)
        elif line.startswith("calls="):
            after_call = True
        elif line and (line[0].isdigit() or line[0] in "+-*"):
            fields = line.split()
            if npos == 2 and fields[0] != "*":
                step = int(fields[0].lstrip("+-"), 0)
                address = step if fields[0][0] not in "+-" else address + (step if fields[0][0] == "+" else -step)
            if not after_call and len(fields) > npos:
                yield current, address, int(fields[npos])
            after_call = False


def dump_of(folder: Path, spec: str) -> Path:
    """The dump file of job `spec` in `folder`."""
    return next(p for p in folder.glob("callgrind.out*") if f"Client Request: {spec}\n" in p.read_text(errors="replace"))


def function_split(folder: Path, spec: str, functions: list) -> dict[str, int]:
    """The instructions of job `spec` by machine function (self cost: what the function's own
    code executed). callgrind names code without symbols by its entry address, which is placed
    in `functions` ([address, size, symbol]); what falls outside them (libc, Python, other
    threads) is `OUTSIDE`."""
    split: dict[str, int] = {}
    for name, _, ir in own_costs(dump_of(folder, spec)):
        key = _function_of(name, functions)
        split[key] = split.get(key, 0) + ir
    return split


def annotate(folder: Path, spec: str, functions: list, code: Path) -> None:
    """Write, for job `spec`, each machine function's disassembly with the instructions executed
    at each of its instructions (perf_symbols.py's listing: count, offset, instruction) to
    `code`/<job>-<function>.ann, from the code bytes the worker wrote to `code`."""
    from perf_symbols import write_listing

    counts: dict[int, int] = {}
    for _, address, ir in own_costs(dump_of(folder, spec)):
        if address is not None:
            counts[address] = counts.get(address, 0) + ir
    for start, size, symbol in functions:
        binary = code / f"{start:x}.bin"
        mine = {a - start: c for a, c in counts.items() if start <= a < start + size}
        if binary.exists() and mine:
            name = _function_of(f"{start:#x}", functions)
            job = re.sub(r"[^\w.+-]", "_", spec)
            path = code / f"{job}-{name}-{start:x}.ann"
            write_listing(binary, start, mine, path)
            print(f"{spec}: {name} ({sum(mine.values())} instructions) -> {path}", file=sys.stderr)


def _compressed(text: str, names: dict[str, str]) -> str:
    """A callgrind name from its compressed form: "(id) name" defines id, "(id)" refers to it."""
    found = re.match(r"\((\d+)\)\s*(.*)", text)
    if not found:
        return text
    if found.group(2):
        names[found.group(1)] = found.group(2)
    return names.get(found.group(1), text)


def _function_of(name: str, functions: list) -> str:
    """The machine function (`module.function`) whose code holds callgrind's function `name` (an
    address), else `OUTSIDE`."""
    if not name.startswith("0x"):
        return OUTSIDE
    address = int(name.split()[0].split("'")[0], 16)  # name'2: a recursive call's copy
    for start, size, symbol in functions:
        if start <= address < start + size:
            found = re.search(r"machine\d+(\w+?)\d+(\w+?)B\d", symbol)
            return f"{found.group(1)}.{found.group(2)}" if found else symbol[:40]
    return OUTSIDE


def count_tree(name: str, env: dict[str, str], specs: list[str], cache: Path, code: Path | None = None) -> dict:
    """Build `name`'s AVX2 machine natively (once), then count `specs` under callgrind; returns
    {"counts": {spec: instructions}, "thread_instructions": {spec: n}, "functions": split}."""
    env = avx2_env(env, cache)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker"]
    with Ticker(f"{name}: AVX2 machine build (native)"):
        subprocess.run([*cmd, "sgemm:8"], env=env, check=True, stdout=subprocess.DEVNULL)
    with tempfile.TemporaryDirectory(prefix="instr-count-") as tmp:
        folder = Path(tmp)
        helper = build_helper(folder)
        functions_path = folder / "functions.json"
        vg = ["valgrind", "-q", "--tool=callgrind", "--instr-atstart=no", "--smc-check=all-non-file",
              f"--callgrind-out-file={folder / 'callgrind.out'}"]
        worker_args = ["--helper", str(helper), "--functions-out", str(functions_path)]
        if code is not None:  # --annotate: per-instruction costs, and the code to place them on
            vg.append("--dump-instr=yes")
            worker_args += ["--code-out", str(code)]
        worker_cmd = [*vg, *cmd, *worker_args]
        thread_instructions = {}
        with Ticker(f"{name}: counting {len(specs)} jobs under valgrind"):
            proc = subprocess.Popen([*worker_cmd, *specs], env=env, stdout=subprocess.PIPE, text=True)
            for line in proc.stdout:
                row = json.loads(line)
                thread_instructions[row["job"]] = row["thread_instructions"]
                if sys.stderr.isatty():
                    sys.stderr.write(f"\r{name}: counted {row['job']}{' ' * 20}\n")
            if proc.wait():
                raise SystemExit(f"valgrind's run of {name} failed ({proc.returncode})")
        totals = read_dumps(folder)
        functions = json.loads(functions_path.read_text())
        split = {spec: function_split(folder, spec, functions) for spec in specs}
        for spec in specs if code is not None else ():
            annotate(folder, spec, functions, code)
    # the machine's own code only: callgrind counts every thread, and the device's waiting
    # threads run Python at times that vary from run to run (up to ~70,000 instructions a job)
    counts = {spec: sum(v for fn, v in per_job.items() if fn != OUTSIDE) for spec, per_job in split.items()}
    return {"counts": counts, "totals": totals, "thread_instructions": thread_instructions, "functions": split}


def figures(counts: dict[str, int], n: dict[str, int], sgemm: list[int], shapes: list[str], iterations: int) -> dict[str, float]:
    """Host instructions per thread-instruction by figure name, from instructions `counts` and
    thread-instructions `n` per job: whole jobs for sgemm, the difference of the two sizes for a
    shape."""
    out = {}
    for size in sgemm:
        spec = f"sgemm:{size}"
        out[f"sgemm {size}"] = counts.get(spec, 0) / n[spec]
    for shape in shapes:
        small, large = f"shape:{shape}:{iterations}", f"shape:{shape}:{2 * iterations}"
        out[shape] = (counts.get(large, 0) - counts.get(small, 0)) / (n[large] - n[small])
    return out


def by_function(result: dict, sgemm: list[int], shapes: list[str], iterations: int) -> dict[str, dict[str, float]]:
    """Per figure, host instructions per thread-instruction by machine function."""
    split, n = result["functions"], result["thread_instructions"]
    names = sorted({fn for per_job in split.values() for fn in per_job})
    table: dict[str, dict[str, float]] = {}
    for fn in names:
        counts = {spec: per_job.get(fn, 0) for spec, per_job in split.items()}
        for fig, value in figures(counts, n, sgemm, shapes, iterations).items():
            table.setdefault(fig, {})[fn] = value
    return table


def job_specs(sgemm: list[int], shapes: list[str], iterations: int) -> list[str]:
    """The worker's job names for these measurements."""
    specs = [f"sgemm:{n}" for n in sgemm]
    for shape in shapes:
        specs += [f"shape:{shape}:{iterations}", f"shape:{shape}:{2 * iterations}"]
    return specs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sgemm", type=int, action="append", help="sgemm sizes (repeatable; default 256)")
    ap.add_argument("--no-sgemm", action="store_true")
    ap.add_argument("--iterations", type=int, default=20, help="the shapes' loop count (and twice it)")
    ap.add_argument("--shape", action="append",
                    help="only these shapes of emulator_shapes.py, or 'dense ALU'/'TMU-heavy' (repeatable)")
    ap.add_argument("--no-shapes", action="store_true")
    ap.add_argument("--against", metavar="DIR", help="count another tree's packages too, and print the ratio")
    ap.add_argument("--by-function", action="store_true", help="split sgemm's count by machine function")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--helper", help=argparse.SUPPRESS)
    ap.add_argument("--functions-out", help=argparse.SUPPRESS)
    ap.add_argument("--code-out", help=argparse.SUPPRESS)
    ap.add_argument("--annotate", metavar="DIR",
                    help="write each job's per-instruction counts on the machine's disassembly to DIR/<job>-<function>.ann")
    args, rest = ap.parse_known_args()
    if args.worker:
        worker(rest, args.helper, args.functions_out, args.code_out)
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("instr_count.py needs valgrind (apt-get install valgrind)")
    import emulator_shapes

    sgemm = [] if args.no_sgemm else (args.sgemm or [256])
    known = [*emulator_shapes.SHAPES, *SPEED_KERNELS]
    shapes = [] if args.no_shapes else (args.shape or known)
    unknown = [s for s in shapes if s not in known]
    if unknown:
        raise SystemExit(f"unknown shapes {unknown}; there are {known}")
    specs = job_specs(sgemm, shapes, args.iterations)
    trees = {THIS_TREE: None} if not args.against else {args.against: Path(args.against), THIS_TREE: None}
    results = {}
    for name, tree in trees.items():
        code = Path(args.annotate, "this-tree" if tree is None else tree.resolve().name) if args.annotate else None
        results[name] = count_tree(name, tree_env(tree), specs, cache_folder(tree or HERE.parent), code)
    table = {name: figures(r["counts"], r["thread_instructions"], sgemm, shapes, args.iterations) for name, r in results.items()}
    split = {name: by_function(r, sgemm, shapes, args.iterations) for name, r in results.items()} if args.by_function else {}
    if args.json:
        print(json.dumps({"cpu": AVX2_CPU, "figures": table,
                          "functions": split}, indent=1))
        return
    print(f"host instructions per thread-instruction, machine built for {AVX2_CPU} (AVX2, not the AVX-512 build the host runs),"
          " counted by callgrind")
    names = list(table)
    print(f"{'':20s}" + "".join(f"{n[-14:]:>16s}" for n in names) + ("     ratio" if len(names) == 2 else ""))
    for fig in table[THIS_TREE]:
        values = [table[n][fig] for n in names]
        ratio = f"{values[-1] / values[0]:10.4f}" if len(values) == 2 else ""
        print(f"{fig:20s}" + "".join(f"{v:16.2f}" for v in values) + ratio)
    for name, per_figure in split.items():
        print(f"{name} by machine function (its own instructions per thread-instruction):")
        for fig, per_function in per_figure.items():
            parts = sorted(per_function.items(), key=lambda kv: -abs(kv[1]))
            print(f"  {fig:20s}" + "  ".join(f"{fn} {v:.1f}" for fn, v in parts if abs(v) >= 0.05))


if __name__ == "__main__":
    main()

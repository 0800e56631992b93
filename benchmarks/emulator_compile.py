"""Where the emulator's one-time compile goes: numba's compile events of a cold compile, by function,
by source module and by compiler pass.

    /work/venv/bin/python benchmarks/emulator_compile.py [--top N] [--dump PREFIX]

Runs the smallest job in a fresh process whose compile cache is empty (a temporary
`NUMBA_CACHE_DIR`), listening to numba's `numba:compile`, `numba:run_pass` and `numba:llvm_lock`
events (`numba.core.event`). Times are exclusive: a function's compile minus the compiles of its
callees that happened inside it (numba compiles callees while it types the caller); a pass's time
minus the passes of callee compiles nested in it. `llvm` is the time spent holding numba's LLVM
lock (optimisation and machine code), part of the passes' times. The events carry wall-clock times,
which other jobs on the machine stretch; the process's total CPU time is the figure to compare
(benchmarks/emulator_speed.py prints the same cold compile).

`--dump PREFIX` also writes the machine's optimised LLVM IR (PREFIX.ll) and machine code
(PREFIX.s), with the numbers numba puts in symbol names (a count of its compiles) taken out: a
change to how the machine is compiled that claims to leave the code alone can be checked with
`diff` against the files of the code before it.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile

CHILD = r"""
import json, re, resource, sys, time
sys.path.insert(0, sys.argv[1])
import numba.core.event as ev
listeners = {kind: ev.RecordingListener() for kind in ("numba:compile", "numba:run_pass", "numba:llvm_lock")}
for kind, listener in listeners.items():
    ev.register(kind, listener)
start = time.perf_counter()
import v3d_drm
import emulator_speed as bench
from vc6_isa.asm import assemble
with v3d_drm.open("emulator") as dev:
    bench.timed(dev, assemble(bench.dense_alu, iterations=1), [1])
usage = resource.getrusage(resource.RUSAGE_SELF)
if sys.argv[2]:
    from vc6_isa.emulator.machine.run import run
    (library,) = [cres.library for cres in run.overloads.values()]
    for text, ext in ((library.get_llvm_str(), ".ll"), (library.get_asm_str(), ".s")):
        with open(sys.argv[2] + ext, "w") as f:
            f.write(re.sub(r"B[0-9]+v[0-9]+B", "BvB", text))  # numba's compile count in names
def rows(kind, name):
    return [(ts, e.is_start, name(e) if e.is_start else None) for ts, e in listeners[kind].buffer]
def func(e):
    d = e.data["dispatcher"].py_func
    return d.__module__.rsplit(".", 1)[-1] + "." + d.__qualname__
json.dump({"wall": time.perf_counter() - start, "cpu": usage.ru_utime + usage.ru_stime,
           "compile": rows("numba:compile", func),
           "pass": rows("numba:run_pass", lambda e: e.data["name"].split(" [")[0]),
           "llvm": rows("numba:llvm_lock", lambda e: "llvm")}, sys.stdout)
"""


def exclusive(events: list) -> tuple[collections.Counter, collections.Counter]:
    """(exclusive seconds, count) per name from nested start/end events."""
    stack: list[list] = []
    seconds: collections.Counter = collections.Counter()
    count: collections.Counter = collections.Counter()
    for ts, is_start, name in events:
        if is_start:
            stack.append([name, ts, 0.0])
            continue
        name, start, children = stack.pop()
        seconds[name] += ts - start - children
        count[name] += 1
        if stack:
            stack[-1][2] += ts - start
    return seconds, count


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--top", type=int, default=15, help="how many functions and passes to list")
    ap.add_argument("--dump", metavar="PREFIX", default="",
                    help="write the machine's optimised LLVM IR and machine code to PREFIX.ll, PREFIX.s")
    args = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        env.pop("VC6_NO_JIT", None)
        print("compiling the emulator in a fresh process (about 30 s) ...", file=sys.stderr)
        dump = os.path.abspath(args.dump) if args.dump else ""
        out = subprocess.run([sys.executable, "-c", CHILD, here, dump], env=env, capture_output=True, text=True,
                             check=True)
    data = json.loads(out.stdout)
    funcs, calls = exclusive(data["compile"])
    modules: collections.Counter = collections.Counter()
    for name, s in funcs.items():
        modules[name.split(".")[0]] += s
    passes, _ = exclusive(data["pass"])
    llvm, _ = exclusive(data["llvm"])
    print(f"cold compile: {data['wall']:.1f} s wall, {data['cpu']:.1f} s CPU; {sum(calls.values())} compiles of "
          f"{len(funcs)} functions; llvm {sum(llvm.values()):.1f} s")
    print("by module: " + ", ".join(f"{m} {s:.1f} s" for m, s in modules.most_common()))
    print("functions (exclusive):")
    for name, s in funcs.most_common(args.top):
        print(f"  {s:6.2f} s  x{calls[name]}  {name}")
    print("passes (exclusive):")
    for name, s in passes.most_common(args.top):
        print(f"  {s:6.2f} s  {name}")


if __name__ == "__main__":
    main()

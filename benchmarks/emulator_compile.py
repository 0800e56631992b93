"""Where the emulator's one-time compile goes: numba's compile events of a cold compile, by function,
by source module and by compiler pass.

    /work/venv/bin/python benchmarks/emulator_compile.py [--top N] [--dump PREFIX]

Runs the smallest job in a fresh process whose compile cache is empty (a temporary
`NUMBA_CACHE_DIR`), listening to numba's `numba:compile`, `numba:run_pass` and `numba:llvm_lock`
events (`numba.core.event`), each stamped with the CPU time of the thread that sends it (other
jobs on a shared machine stretch wall-clock times, not CPU times). Times are exclusive: a
function's compile minus the compiles of its callees that happened inside it (numba compiles
callees while it types the caller); a pass's time minus the passes of callee compiles nested in
it. `llvm` is the time spent holding llvmlite's LLVM lock (parsing, optimisation and machine
code), per thread: the compiling thread's is part of the passes' times; jit.py's LLVM worker
(`vc6-llvm`, which parses and optimises the link-only functions while the compiling thread goes
on) is not. The first line also gives the compiling thread's own CPU time: on an idle second
core, the compile's wall time is about that.

Per function: how many compiles of each kind of dispatcher (the machine's link-only functions,
`@overload` implementations, the entry), the functions compiled more than once (one compile per
argument types), and the median of the smallest compiles: a function's fixed cost through numba's
pipeline, whatever its size.

The compile runs in one process (`VC6_FORK_COMPILE=0`, unless set otherwise): a forked process's
compiles (jit.py, `compile_split`) are not seen by the listeners, and the CPU figures count
this process only. `VC6_FORK_COMPILE=2` measures the forked compile (the `--dump` of its code).

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
import statistics
import subprocess
import sys
import tempfile

CHILD = r"""
import json, re, resource, sys, threading, time
sys.path.insert(0, sys.argv[1])
import numba.core.event as ev
class CPUListener(ev.Listener):
    def __init__(self):
        self.buffer = []
    def on_start(self, event):
        self.buffer.append((time.thread_time(), event, threading.current_thread().name))
    def on_end(self, event):
        self.buffer.append((time.thread_time(), event, threading.current_thread().name))
listeners = {kind: CPUListener() for kind in ("numba:compile", "numba:run_pass", "numba:llvm_lock")}
for kind, listener in listeners.items():
    ev.register(kind, listener)
start, start_cpu = time.perf_counter(), time.thread_time()
import v3d_drm
import emulator_speed as bench
from vc6_isa.asm import assemble
with v3d_drm.open("emulator") as dev:
    bench.timed(dev, assemble(bench.dense_alu, iterations=1), [1])
usage = resource.getrusage(resource.RUSAGE_SELF)
main_cpu = time.thread_time() - start_cpu
if sys.argv[2]:
    from vc6_isa.emulator.machine.run import run
    (library,) = [cres.library for cres in run.overloads.values()]
    for text, ext in ((library.get_llvm_str(), ".ll"), (library.get_asm_str(), ".s")):
        with open(sys.argv[2] + ext, "w") as f:
            f.write(re.sub(r"B[0-9]+v[0-9]+B", "BvB", text))  # numba's compile count in names
def rows(kind, name):
    return [(ts, e.is_start, name(e, thread) if e.is_start else None) for ts, e, thread in listeners[kind].buffer]
def func(e):
    d = e.data["dispatcher"].py_func
    return d.__module__.rsplit(".", 1)[-1] + "." + d.__qualname__
def compiled(e, thread):
    return [func(e), str(e.data["args"]), type(e.data["dispatcher"]).__name__]
json.dump({"wall": time.perf_counter() - start, "cpu": usage.ru_utime + usage.ru_stime, "main_cpu": main_cpu,
           "compile": rows("numba:compile", compiled),
           "pass": rows("numba:run_pass", lambda e, thread: e.data["name"].split(" [")[0]),
           "llvm": rows("numba:llvm_lock", lambda e, thread: thread)}, sys.stdout)
"""


def spans(events: list) -> list[tuple]:
    """(name, exclusive seconds) of each span, from nested start/end events."""
    stack: list[list] = []
    found = []
    for ts, is_start, name in events:
        if is_start:
            stack.append([name, ts, 0.0])
            continue
        name, start, children = stack.pop()
        found.append((name, ts - start - children))
        if stack:
            stack[-1][2] += ts - start
    return found


def exclusive(events: list) -> tuple[collections.Counter, collections.Counter]:
    """(exclusive seconds, count) per name from nested start/end events."""
    seconds: collections.Counter = collections.Counter()
    count: collections.Counter = collections.Counter()
    for name, s in spans(events):
        seconds[name] += s
        count[name] += 1
    return seconds, count


def per_function(events: list) -> None:
    """Print the compiles by kind of dispatcher, the functions compiled more than once and the
    fixed cost of a compile (the median of the smallest 40)."""
    compiles = [((name, kind), args, s) for (name, args, kind), s in spans(events)]
    seconds: collections.Counter = collections.Counter()
    count: collections.Counter = collections.Counter()
    signatures = collections.defaultdict(list)
    for (name, kind), args, s in compiles:
        seconds[kind] += s
        count[kind] += 1
        signatures[name].append((args, s))
    print("by dispatcher: " + ", ".join(f"{kind} x{count[kind]} {s:.2f} s" for kind, s in seconds.most_common()))
    smallest = sorted(s for _, _, s in compiles)[:40]
    print(f"fixed cost: median of the {len(smallest)} smallest compiles {1000 * statistics.median(smallest):.0f} ms")
    again = {name: found for name, found in signatures.items() if len(found) > 1}
    print(f"compiled more than once: {len(again)} functions")
    for name, found in sorted(again.items(), key=lambda item: -sum(s for _, s in item[1])):
        print(f"  {sum(s for _, s in found):6.2f} s  x{len(found)}  {name}: " + "; ".join(args for args, _ in found))


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
        env.setdefault("VC6_FORK_COMPILE", "0")  # the whole compile in the process listened to
        print("compiling the emulator in a fresh process (about 30 s) ...", file=sys.stderr)
        dump = os.path.abspath(args.dump) if args.dump else ""
        out = subprocess.run([sys.executable, "-c", CHILD, here, dump], env=env, capture_output=True, text=True,
                             check=True)
    data = json.loads(out.stdout)
    funcs, calls = exclusive([(ts, start, name and name[0]) for ts, start, name in data["compile"]])
    modules: collections.Counter = collections.Counter()
    for name, s in funcs.items():
        modules[name.split(".")[0]] += s
    passes, _ = exclusive(data["pass"])
    llvm, _ = exclusive(data["llvm"])
    print(f"cold compile: {data['wall']:.1f} s wall, {data['cpu']:.1f} s CPU ({data['main_cpu']:.1f} s in the compiling "
          f"thread); {sum(calls.values())} compiles of {len(funcs)} functions; llvm {sum(llvm.values()):.1f} s ("
          + ", ".join(f"{s:.1f} s on {thread}" for thread, s in llvm.most_common()) + ")")
    print("by module: " + ", ".join(f"{m} {s:.1f} s" for m, s in modules.most_common()))
    per_function(data["compile"])
    print("functions (exclusive):")
    for name, s in funcs.most_common(args.top):
        print(f"  {s:6.2f} s  x{calls[name]}  {name}")
    print("passes (exclusive):")
    for name, s in passes.most_common(args.top):
        print(f"  {s:6.2f} s  {name}")


if __name__ == "__main__":
    main()

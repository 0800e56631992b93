# ruff: noqa: B018  (DSL labels are expressions)
"""Emulator cost per instruction shape: ns of CPU per thread-instruction for loops of one
unrolled instruction shape (16 threads), to see where an instruction's time goes.

    python benchmarks/emulator_shapes.py [--iterations N] [--repeat R] [--rounds N] [--against DIR]

Each kernel runs a loop of UNROLL copies of one shape plus the loop control (5 instructions);
the `nop` row is the interpreter's fixed cost per instruction. The `tmu ...` rows alternate a TMU
write with its `ldtmu` (or a tmud with its tmua): 16 consecutive words (one line), a gather of 16
lines, and a store. `--against DIR` runs the same in a fresh process on another tree's packages
(as benchmarks/emulator_speed.py does).

The shapes run in `--rounds` passes over all of them and each reports its best run: on this
shared host a process's CPU time per instruction rises ~1.6-2x, for every shape nop included,
in episodes of ~0.1-3 s (docs/emulator-internals.md, "The TMU lookup"); back-to-back runs of
one shape fall into one episode together, runs a pass apart mostly do not.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import numpy as np
import v3d_drm
from vc6_isa.asm import *

THREADS = 16
UNROLL = 64


def _prologue(asm):
    nop(sig=ldunif)  # r5 = iterations
    mov(rf[3], r5, sig=ldunif)  # r5 = address of the unifa buffer
    mov(rf[5], r5)
    eidx(r0)
    shl(rf[6], r0, 2)
    add(rf[6], rf[6], rf[5])  # the buffer + 4 * lane: 16 consecutive words
    shl(rf[7], r0, 6)
    add(rf[7], rf[7], rf[5])  # the buffer + 64 * lane: one word in each of 16 lines
    itof(r1, r0)
    mov(r2, 1.0)
    mov(r3, 1.0)
    mov(r4, 1.0)
    mov(rf[24], 1.0)


def _loop(asm, body):
    L.loop
    mov(unifa, rf[5])
    nop()
    nop()
    nop()
    for k in range(UNROLL):
        body(k)
    sub(rf[3], rf[3], 1, cond="pushz")
    b(R.loop, cond="na0")
    nop()
    nop()
    nop()
    tmuwt()
    program_end()


SHAPES = {
    "nop": lambda k: nop(),
    "fadd": lambda k: fadd(rf[32 + k % 16], r0, rf[32 + k % 16]),
    "fmul": lambda k: fmul(r1, r2, rf[24]),
    "fadd+fmul": lambda k: fadd(rf[32 + k % 16], r0, rf[32 + k % 16]).fmul(r1, r2, rf[24]),
    "fadd+fmul+ldunifa": lambda k: fadd(rf[32 + k % 16], r0, rf[32 + k % 16]).fmul(r1, r2, rf[24], sig=ldunifa),
    "add": lambda k: add(rf[32 + k % 16], r0, rf[32 + k % 16]),
    "add+mul24": lambda k: add(rf[32 + k % 16], r0, rf[32 + k % 16]).umul24(r1, r2, rf[24]),
    "shl/and": lambda k: shl(r1, r2, r3) if k % 2 else band(r1, r2, rf[24]),
    "shl/and to rf": lambda k: shl(rf[32 + k % 16], r2, r3) if k % 2 else band(rf[32 + k % 16], r2, rf[24]),
    "and": lambda k: band(rf[32 + k % 16], r2, rf[24]),
    "shl": lambda k: shl(rf[32 + k % 16], r2, r3),
    "fadd+mov": lambda k: fadd(rf[32 + k % 16], r0, rf[32 + k % 16]).mov(r1, r2),
    "mov": lambda k: mov(rf[32 + k % 16], r2),
    "add.pushz": lambda k: add(rf[32 + k % 16], r0, rf[32 + k % 16], cond="pushz"),
    "ldunif": lambda k: nop(sig=ldunif),
    "ldunifa": lambda k: nop(sig=ldunifa),
    "rotate": lambda k: rotate(r4, r2, 1 + k % 15),
    "tmu load+ldtmu": lambda k: nop(sig=ldtmu(r1)) if k % 2 else mov(tmua, rf[6]),
    "tmu gather+ldtmu": lambda k: nop(sig=ldtmu(r1)) if k % 2 else mov(tmua, rf[7]),
    "tmu store": lambda k: mov(tmua, rf[6]) if k % 2 else mov(tmud, r2),
}


def kernel_for(shape):
    body = SHAPES[shape]

    @qpu
    def kern(asm):
        _prologue(asm)
        _loop(asm, body)

    return kern


def run(iterations: int, repeat: int, rounds: int, shapes: list[str]) -> None:
    with v3d_drm.open("emulator") as dev:
        buf = dev.array((UNROLL * 16,), np.uint32)
        buf[:] = 1
        jobs = {}
        for shape in shapes:
            unifs = [iterations, buf.address] + [7] * (UNROLL * iterations + 8)
            uni = dev.array((len(unifs),), np.uint32)
            uni[:] = unifs
            jobs[shape] = (assemble(kernel_for(shape)), uni)
        best: dict[str, float] = {}
        for r in range(rounds):
            for shape, (prog, uni) in jobs.items():
                for k in range(repeat + (r == 0)):
                    cpu = time.process_time()
                    job = dev.dispatch(prog, uni, workgroups=(THREADS, 1, 1), bos=[buf])
                    job.wait()
                    t = time.process_time() - cpu
                    if r or k:  # the first run of a shape warms it up
                        # the least disturbed run (a shared host adds, never removes, time)
                        best[shape] = min(best.get(shape, t), t)
                if r == rounds - 1:
                    n = job.stats.thread_instructions
                    t = best[shape]
                    print(f"{shape:20s} {1e9 * t / n:6.1f} ns/thread-instruction ({n} in {t:.3f} s CPU)", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iterations", type=int, default=400)
    ap.add_argument("--repeat", type=int, default=1, help="timed runs of a shape in each round")
    ap.add_argument("--rounds", type=int, default=3,
                    help="passes over all shapes; a shape's figure is its best run of any round")
    ap.add_argument("--against", metavar="DIR")
    ap.add_argument("--shape", action="append", choices=list(SHAPES), help="only these shapes (repeatable)")
    args = ap.parse_args()
    if args.against:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from emulator_speed import tree_env

        print(f"== {args.against}", flush=True)
        cmd = [sys.executable, os.path.abspath(__file__), "--iterations", str(args.iterations), "--repeat", str(args.repeat), "--rounds", str(args.rounds)]
        cmd += [f"--shape={s}" for s in args.shape or ()]
        subprocess.run(cmd, env=tree_env(args.against), check=True)
        print("== this tree", flush=True)
    run(args.iterations, args.repeat, args.rounds, args.shape or list(SHAPES))


if __name__ == "__main__":
    main()

"""How fast the Python assembler DSL (vc6_isa.asm) assembles: DSL instructions per second.

Goal: >= 190,000 instructions/s on a realistic kernel with cold caches (py-videocore6, whose
assembler rewrites module globals on every @qpu call and re-packs each instruction, does about
19,000/s by its maintainers' account; this is >= 10x that).

Three programs, each assembled several times (best run reported):

* `sgemm`: a py-videocore6-style sgemm kernel (dual issue, rotations, TMU loads, loops with
  labels and branches), about 1,100 instructions, many of them repeated with other registers;
* `summation`: a streaming loop unrolled 32 times (long runs of identical instructions);
* `distinct`: 4,096 instructions that are all different (the worst case: every one is encoded).

Two cache states: `cold` empties the DSL's word cache and the encoder's cache before each run
(what the first assembly of a kernel in a process sees), `warm` keeps them (assembling the same
kernel again, e.g. with other arguments that change few instructions).

Run: `python benchmarks/asm_speed.py [--repeat N]`; exits 1 if the headline figure (sgemm,
cold) is below the goal.
"""

from __future__ import annotations

import argparse
import sys
import time

from vc6_isa.asm import *
from vc6_isa.asm import clear_cache
from vc6_isa.encoding import encode

GOAL = 190_000


@qpu
def sgemm(asm, unroll=4):
    """An sgemm inner kernel in the shape of py-videocore6's examples/sgemm.py."""
    p, q, a_cur, b_cur, b_stride, k = rf32, rf33, rf43, rf44, rf38, rf48
    for i in range(16):
        mov(rf[i], 0.0).mov(rf[i + 16], 0.0)
    add(r0, p, 15)
    shr(rf46, r0, 4)
    with loop as li:
        mov(k, q)
        with loop as lk:
            for _ in range(unroll):
                eidx(r0)
                umul24(r1, r0, rf36)
                add(r1, r1, a_cur).add(a_cur, a_cur, 4)
                mov(tmua, r1, sig=thrsw)
                shl(r1, r0, 2)
                add(r1, r1, b_cur).add(b_cur, b_cur, b_stride)
                mov(tmua, r1, sig=thrsw)
                nop(sig=ldtmu(r0))
                mov(r5rep, r0)
                nop(sig=ldtmu(r4))
                nop().fmul(r3, r5, r4)
                for i in range(1, 16):
                    rotate(r5rep, r0, -i)
                    fadd(rf[i - 1], rf[i - 1], r3).fmul(r3, r5, r4)
                fadd(rf15, rf15, r3)
            sub(k, k, 1, cond="pushz")
            lk.b(cond="anyna")
            nop()
            nop()
            nop()
        eidx(r0)
        shl(r0, r0, 2)
        add(r1, rf45, r0)
        for i in range(16):
            mov(tmua, r1, sig=thrsw).add(r1, r1, rf40)
            fmul(rf[i], rf[i], rf41, sig=ldtmu(rf[i + 16]))
        for i in range(16):
            fadd(rf[i], rf[i], r3).fmul(r3, rf[i + 16], r0)
            mov(tmud, rf[i])
            mov(tmua, r1).add(r1, r1, rf40)
            tmuwt()
        sub(rf46, rf46, 1, cond="pushz")
        li.b(cond="anyna")
        nop()
        nop()
        nop()
    for _ in range(3):
        nop(sig=thrsw)
        nop()


@qpu
def summation(asm, unroll=32):
    length, src, stride, total = rf0, rf1, rf4, rf5
    nop(sig=ldunifrf(length))
    nop(sig=ldunifrf(src))
    bxor(total, 1, 1).mov(r1, 1)
    with loop as lp:
        for _ in range(7):
            mov(tmua, src).add(src, src, stride)
        mov(tmua, src).sub(length, length, r1, cond="pushz")
        add(src, src, stride, sig=ldtmu(r0))
        for _ in range(unroll - 1):
            for _ in range(8):
                mov(tmua, src).add(src, src, stride)
                add(total, total, r0, sig=ldtmu(r0))
        lp.b(cond="na0")
        add(total, total, r0, sig=ldtmu(r0))
        add(total, total, r0, sig=ldtmu(r0))
        add(total, total, r0)


@qpu
def distinct(asm, n=4096):
    for i in range(n):
        add(rf[i % 64], rf[(i // 64) % 64], r1)


def rate(kernel, cold: bool, repeat: int) -> tuple[float, int]:
    """Best instructions/second over `repeat` runs, and the program length."""
    best, length = 0.0, 0
    if not cold:
        assemble(kernel)  # fill the caches once
    for _ in range(repeat):
        if cold:
            clear_cache()
            encode.cache_clear()
        start = time.perf_counter()
        program = assemble(kernel)
        elapsed = time.perf_counter() - start
        length = len(program)
        best = max(best, length / elapsed)
    return best, length


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repeat", type=int, default=7, help="runs per figure (best is kept)"
    )
    args = parser.parse_args(argv)
    print(
        f"{'program':<11}{'instructions':>13}{'cold, instr/s':>16}{'warm, instr/s':>16}"
    )
    headline = 0.0
    for name, kernel in (
        ("sgemm", sgemm),
        ("summation", summation),
        ("distinct", distinct),
    ):
        cold, length = rate(kernel, True, args.repeat)
        warm, _ = rate(kernel, False, args.repeat)
        print(f"{name:<11}{length:>13,}{cold:>16,.0f}{warm:>16,.0f}")
        if name == "sgemm":
            headline = cold
    verdict = "meets" if headline >= GOAL else "MISSES"
    print(
        f"headline (sgemm, cold): {headline:,.0f} instructions/s, {verdict} the goal of {GOAL:,}"
    )
    return 0 if headline >= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())

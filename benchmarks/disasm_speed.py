"""Speed of the vc6_isa codec: words decoded+disassembled per second, instructions encoded per
second (uncached and through the encode cache), and text assembled per second.

    python benchmarks/disasm_speed.py [--words N] [--repeat R]

Uses distinct random valid instruction words (so caches never help the cold figures). Goal from
the DSL: encoding >= 190,000 instructions/s end to end.
"""

from __future__ import annotations

import argparse
import random
import time

from vc6_isa import DecodeError, EncodeError, assemble_text, decode, disassemble, encode
from vc6_isa.disasm import disassemble_instruction

ENCODE_GOAL = 190_000


def valid_words(count: int, seed: int = 42) -> list[int]:
    """`count` distinct random words that decode and re-encode (Mesa-valid instructions)."""
    rng = random.Random(seed)
    words: dict[int, None] = {}
    while len(words) < count:
        word = rng.getrandbits(64)
        if rng.random() < 0.02:
            word &= (1 << 58) - 1  # some branches
            word = (word & ~(3 << 56)) | (2 << 56)
        try:
            encode(decode(word))
        except (DecodeError, EncodeError):
            continue
        words[word] = None
    return list(words)


def best_rate(run, items: int, repeat: int, before=None) -> float:
    """Items per second of the fastest of `repeat` runs."""
    best = float("inf")
    for _ in range(repeat):
        if before:
            before()
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return items / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--words", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    words = valid_words(args.words)
    n = len(words)
    instrs = [decode(w) for w in words]

    def clear():
        decode.cache_clear()
        encode.cache_clear()

    dis_rate = best_rate(
        lambda: [disassemble_instruction(decode(w)) for w in words],
        n,
        args.repeat,
        clear,
    )
    dis_bulk = best_rate(lambda: disassemble(words), n, args.repeat, clear)
    enc_cold = best_rate(lambda: [encode(i) for i in instrs], n, args.repeat, clear)
    raw_encode = encode.__wrapped__
    enc_raw = best_rate(lambda: [raw_encode(i) for i in instrs], n, args.repeat)
    # A typical program repeats instructions (nops, loop bodies): the cache then answers.
    program = instrs[:200] * 50
    encode.cache_clear()
    enc_warm = best_rate(
        lambda: [encode(i) for i in program], len(program), args.repeat
    )
    text = disassemble(words[:5000])
    asm_rate = best_rate(
        lambda: assemble_text(text), 5000, max(1, args.repeat // 2), clear
    )

    print(f"distinct valid words: {n}")
    print(f"decode + disassemble (uncached), per word:   {dis_rate:12,.0f} words/s")
    print(f"disassemble(list of words) (uncached):        {dis_bulk:12,.0f} words/s")
    print(
        f"encode, distinct instructions (cache misses): {enc_cold:12,.0f} instructions/s"
    )
    print(
        f"encode, no cache at all:                      {enc_raw:12,.0f} instructions/s"
    )
    print(
        f"encode, typical program (repeats, cached):    {enc_warm:12,.0f} instructions/s"
    )
    print(f"assemble_text (parse + encode):               {asm_rate:12,.0f} lines/s")
    verdict = "meets" if enc_raw >= ENCODE_GOAL else "MISSES"
    print(f"uncached encode {verdict} the DSL goal of {ENCODE_GOAL:,} instructions/s")


if __name__ == "__main__":
    main()

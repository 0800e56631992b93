"""Code quality of vc6_isa.lang: compiled kernels against hand-written assembly, in *modelled*
cycles (the emulator's cycle model for a 500 MHz Pi 4), plus compile times.

    .venv/bin/python benchmarks/lang_quality.py [--steps 3]

* QPULib's GCD and rot3D versions 1-3 against the cookbook's hand-written programs
  (docs/cookbook/gcd.md and rotate.md, run here from the pages themselves) on the same data.
  Target: rot3D version 3 on 8 QPUs within 1.25x.
* The heat step with cursors on a 512x512 grid against `vc6_kernels.stencil`, per step.
  Target: within 1.5x. (The two compute the same kind of 8-neighbour step in a different
  operation order; each is checked against its own numpy reference.)
* Compile time of every example kernel: the first compilation (parsing the source included)
  and the best of 3 recompilations. Target: < 0.3 s.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import numpy as np
import vc6_kernels
from vc6_isa.emulator import modelled_label
from vc6_isa.lang import examples as ex

ROOT = Path(__file__).resolve().parent.parent


def cookbook_outputs(page: str) -> str:
    """What the runnable examples of a cookbook page print (run here, not read from the page)."""
    sys.path.insert(0, str(ROOT / "docs" / "tests"))
    from doc_examples import find_examples, run_example

    return "".join(run_example(e) for e in find_examples(ROOT / "docs" / "cookbook" / page))


def handwritten_rotation_cycles() -> dict[str, int]:
    """Modelled cycles of the cookbook's hand-written rot3D programs, by configuration."""
    out = cookbook_outputs("rotate.md")
    found = re.findall(r"^([a-z ,0-9]+QPUs?)\s+(\d+) cycles", out, re.MULTILINE)
    return {k.strip(): int(v) for k, v in found}


def handwritten_gcd_cycles() -> int:
    m = re.search(r"^(\d+) cycles\b.*\(modelled", cookbook_outputs("gcd.md"), re.MULTILINE)
    if m is None:
        raise RuntimeError("the GCD recipe no longer prints its modelled cycles")
    return int(m.group(1))


def compiled_gcd_cycles() -> int:
    """The GCD recipe's 16 pairs (same generator, same seed)."""
    rng = np.random.default_rng(1)
    common = rng.integers(1, 20, 16)
    a = (common * rng.integers(1, 50, 16)).astype(np.int32)
    b = (common * rng.integers(1, 50, 16)).astype(np.int32)
    r = np.zeros(16, np.int32)
    job = ex.gcd(a, b, r)
    assert np.array_equal(r, np.gcd(a, b))
    return job.stats.cycles


def compiled_rotation_cycles(k, qpus: int, n: int = 1024) -> int:
    x = np.zeros(n + ex.rot3d_slack(qpus), np.float32)
    y = np.zeros_like(x)
    x[:n] = np.linspace(-1, 1, n)
    y[:n] = np.linspace(2, 0, n)
    c, s = np.float32(np.cos(np.pi / 6)), np.float32(np.sin(np.pi / 6))
    want_x = x[:n] * c - y[:n] * s
    job = k(n, np.cos(np.pi / 6), np.sin(np.pi / 6), x, y, num_qpus=qpus)
    assert np.array_equal(x[:n], want_x)
    return job.stats.cycles


def heat_cycles(steps: int, size: int = 512) -> tuple[float, float]:
    """(compiled heat step, vc6_kernels.stencil) modelled cycles per step."""
    rng = np.random.default_rng(0)
    grid = rng.random((size, size), dtype=np.float32) * 100
    bufs = [np.zeros((size + 1, size), np.float32) for _ in range(2)]
    for b in bufs:
        b[:size] = grid
    want, total = grid.copy(), 0
    for s in range(steps):
        job = ex.heat_step(bufs[s % 2], bufs[(s + 1) % 2], size, size, 0.25, num_qpus=8)
        total += job.stats.cycles
        want = ex.heat_reference(want, 0.25)
    assert np.array_equal(bufs[steps % 2][:size], want), "heat step differs from numpy"
    with vc6_kernels.record() as rec:
        got = vc6_kernels.stencil(grid, steps)
    assert np.array_equal(got, vc6_kernels.stencil.reference(grid, steps))
    hand = sum(j.stats.cycles for j in rec.jobs)
    return total / steps, hand / steps


def compile_seconds(k) -> tuple[float, float]:
    """(first compilation including parsing the source, best of 3 recompilations)."""
    from vc6_isa.lang import api
    from vc6_isa.lang.kernel import Kernel

    api._parse_cached.cache_clear()
    t0 = time.perf_counter()
    Kernel(k.func, k.threads).compile()
    first = time.perf_counter() - t0
    types = tuple(t for _, t in k.params)
    return first, min(k._compile(types).compile_seconds for _ in range(3))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--steps", type=int, default=3, help="heat steps to average over"
    )
    args = parser.parse_args()
    print(
        "running (each line takes a few seconds on the emulator) ...", file=sys.stderr
    )
    hand_rot = handwritten_rotation_cycles()
    heat_c, heat_h = heat_cycles(args.steps)
    rows = [
        ("GCD of 16 pairs", compiled_gcd_cycles(), handwritten_gcd_cycles(), "gcd.md", None),
        ("rot3D v1, 1 QPU, n=1024", compiled_rotation_cycles(ex.rot3d_1, 1),
         hand_rot["blocking loads, 1 QPU"], "rotate.md v1", None),
        ("rot3D v2, 1 QPU, n=1024", compiled_rotation_cycles(ex.rot3d_2, 1),
         hand_rot["prefetch, 1 QPU"], "rotate.md v2", None),
        ("rot3D v3, 8 QPUs, n=1024", compiled_rotation_cycles(ex.rot3d_3, 8),
         hand_rot["prefetch, 8 QPUs"], "rotate.md v3", 1.25),
        ("heat step, 512x512, 8 QPUs", heat_c, heat_h, "vc6_kernels.stencil", 1.5),
    ]  # fmt: skip
    print(
        f"{'kernel':28s} {'compiled':>12s} {'hand-written':>13s} {'ratio':>6s} target  (cycles, {modelled_label()})"
    )
    ok = True
    for name, c, h, ref, target in rows:
        ratio = c / h
        ok &= target is None or ratio <= target
        goal = f"<= {target}" if target else "       "
        print(f"{name:28s} {c:12.0f} {h:13.0f} {ratio:6.2f} {goal}  vs {ref}")
    print()
    print(f"{'compile time (s)':28s} {'first':>8s} {'best of 3':>10s} {'instructions':>13s}")
    kernels = (ex.gcd, ex.gcd_unrolled, ex.rot3d_1, ex.rot3d_2, ex.rot3d_3, ex.heat_step)
    for k in kernels:
        first, best = compile_seconds(k)
        ok &= first < 0.3
        print(f"{k.name:28s} {first:8.4f} {best:10.4f} {len(k.compile()):13d}")
    print("all targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    t0 = time.perf_counter()
    code = main()
    print(f"({time.perf_counter() - t0:.1f} s)", file=sys.stderr)
    raise SystemExit(code)

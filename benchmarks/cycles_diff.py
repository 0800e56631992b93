"""Modelled-counter diff: every kernel, many sizes, this tree against another tree's packages.

    /work/venv/bin/python benchmarks/cycles_diff.py --against /tmp/main-src [--quick]
    /work/venv/bin/python benchmarks/cycles_diff.py --dump out.json [--quick]

A change that only makes the emulator faster must leave every modelled figure unchanged. This
runs sgemm, summation, scopy, memset and stencil over a range of sizes (up to the record sizes
of benchmarks/kernels_modelled.py unless `--quick`) plus both kernels of
benchmarks/emulator_speed.py, and records, per job, the exact modelled counters (cycles,
thread-instructions, TMU requests and bytes, TMU stall cycles, batches, SFU operations) and a
digest of the result. With `--against DIR` it does that twice, in two fresh processes: one on
this tree's installed packages, one with DIR/packages/*/src first on `sys.path` (e.g. an export
of main: `git archive main | tar -x -C DIR`) and its own numba cache, then prints every
difference; the exit status is 1 when anything differs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

COUNTERS = (
    "cycles",
    "thread_instructions",
    "tmu_requests",
    "tmu_bytes",
    "tmu_stall_cycles",
    "batches",
    "sfu_operations",
)

#: (routine, size) cases; `--quick` keeps the ones that run in seconds.
SGEMM = (1, 7, 16, 33, 64, 100, 128, 256, 512, 1024)
SUMMATION = (1, 100, 4096, 65536 + 3, 2**20, 32 * 2**20)
SCOPY = (1, 1000, 2**16 + 5, 2**20, 16 * 2**20)
MEMSET = (4, 4096, 2**20 + 12, 64 * 2**20)
STENCIL = ((8, 1), (64, 3), (130, 2), (512, 10))
QUICK_LIMIT = 2**20


def _digest(x) -> str:
    return hashlib.blake2b(np.ascontiguousarray(np.asarray(x)).tobytes(), digest_size=8).hexdigest()


def _cases(quick: bool):
    import vc6_kernels

    rng = np.random.default_rng(0)
    dev = vc6_kernels.default_device()
    for n in SGEMM:
        if quick and n > 256:
            continue
        a = rng.standard_normal((n, n), dtype=np.float32)
        b = rng.standard_normal((n, n), dtype=np.float32)
        yield f"sgemm {n}", lambda a=a, b=b: vc6_kernels.sgemm(a, b)
    for n in SUMMATION:
        if quick and n > QUICK_LIMIT:
            continue
        x = (np.arange(n, dtype=np.uint32) * 2654435761).astype(np.uint32)
        yield f"summation {n}", lambda x=x: vc6_kernels.summation(x)
    for n in SCOPY:
        if quick and n > QUICK_LIMIT:
            continue

        def scopy(n=n):
            x, y = dev.array((n,), np.float32), dev.array((n,), np.float32)
            try:
                x[...] = np.arange(n, dtype=np.float32)
                return np.array(vc6_kernels.scopy(x, y))
            finally:
                x.close()
                y.close()

        yield f"scopy {n}", scopy
    for nbytes in MEMSET:
        if quick and nbytes > QUICK_LIMIT:
            continue

        def memset(nbytes=nbytes):
            out = dev.array((nbytes // 4,), np.uint32)
            try:
                return np.array(vc6_kernels.memset(out, 0x5A5A5A5A))
            finally:
                out.close()

        yield f"memset {nbytes}", memset
    for size, steps in STENCIL:
        if quick and size > 256:
            continue
        g = rng.standard_normal((size, size)).astype(np.float32)
        yield f"stencil {size}x{steps}", lambda g=g, steps=steps: vc6_kernels.stencil(g, steps)


def _speed_kernels(rows: dict) -> None:
    """The two kernels of benchmarks/emulator_speed.py, at a small iteration count."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import emulator_speed as es
    import v3d_drm
    from vc6_isa.asm import assemble

    with v3d_drm.open("emulator") as dev:
        st, _ = es.timed(dev, assemble(es.dense_alu, iterations=500), [500])
        rows["emulator_speed dense_alu 500"] = {k: getattr(st, k) for k in COUNTERS}
        src = dev.array((es.THREADS * 16,), np.uint32)
        dst = dev.array((es.THREADS * 16,), np.uint32)
        src[:] = np.arange(src.size)
        st, _ = es.timed(dev, assemble(es.tmu_heavy), [100, src.address, dst.address], bos=[src, dst])
        rows["emulator_speed tmu_heavy 100"] = {k: getattr(st, k) for k in COUNTERS}
        rows["emulator_speed tmu_heavy 100"]["result"] = _digest(dst)
        src.close()
        dst.close()


def dump(quick: bool) -> dict:
    """Every case's counters (summed over its jobs, and per job) and result digest."""
    import vc6_kernels

    rows: dict = {}
    for name, fn in _cases(quick):
        t = time.perf_counter()
        with vc6_kernels.record() as rec:
            result = fn()
        row = {k: sum(getattr(job.stats, k) for job in rec.jobs) for k in COUNTERS}
        row["jobs"] = [[getattr(job.stats, k) for k in COUNTERS] for job in rec.jobs]
        row["result"] = _digest(result)
        rows[name] = row
        print(f"  {name}: {row['cycles']} cycles ({time.perf_counter() - t:.1f} s)", file=sys.stderr, flush=True)
    _speed_kernels(rows)
    return rows


def _run_tree(src_root: str | None, quick: bool, out: Path) -> dict:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from emulator_speed import tree_env

    env = None if src_root is None else tree_env(src_root)
    cmd = [sys.executable, __file__, "--dump", str(out)] + (["--quick"] if quick else [])
    print(f"running {'this tree' if src_root is None else src_root} ...", file=sys.stderr, flush=True)
    subprocess.run(cmd, env=env, check=True)
    return json.loads(out.read_text())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--against", help="a source tree (its packages/*/src) to compare with")
    ap.add_argument("--dump", help="write this tree's counters to this JSON file and stop")
    ap.add_argument("--quick", action="store_true", help=f"sizes up to {QUICK_LIMIT} elements / sgemm 256 only")
    args = ap.parse_args()
    if args.dump:
        Path(args.dump).write_text(json.dumps(dump(args.quick), indent=1))
        return 0
    if not args.against:
        ap.error("give --against DIR or --dump FILE")
    with tempfile.TemporaryDirectory() as tmp:
        ours = _run_tree(None, args.quick, Path(tmp, "ours.json"))
        theirs = _run_tree(args.against, args.quick, Path(tmp, "theirs.json"))
    diffs = 0
    for name in sorted(set(ours) | set(theirs)):
        a, b = ours.get(name), theirs.get(name)
        if a != b:
            diffs += 1
            print(f"DIFFERS {name}:\n  this tree: {a}\n  {args.against}: {b}")
    print(f"{len(ours)} cases, {sum(len(r.get('jobs', [0])) for r in ours.values())} jobs: "
          f"{'identical' if diffs == 0 else f'{diffs} differ'} (modelled counters and result digests)")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())

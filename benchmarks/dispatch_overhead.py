"""Python-side cost of submitting and waiting for an empty CSD job on the emulated device.

The executor does nothing (returns an empty CsdResult at once), so the figure is v3d-drm's own
overhead per job: argument checks, cfg words, syncobj create/wait/destroy, the SUBMIT_CSD
ioctl path and Job bookkeeping. Three paths are timed:

  submit_csd   raw cfg words, code/uniforms already in a BO
  dispatch     cfg computed from workgroups/local_size, code/uniforms already DeviceArrays
  dispatch+stage  code and uniforms given as host arrays (staged into a temporary BO per job)

Usage: python benchmarks/dispatch_overhead.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import v3d_drm
from v3d_drm import CsdResult


class NullExecutor:
    name = "null"

    def run_csd(self, job):
        return CsdResult()


def median_us(fn, runs: int) -> tuple[float, float]:
    for _ in range(min(200, runs)):  # warm-up
        fn()
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter_ns()
        fn()
        samples.append(time.perf_counter_ns() - t0)
    samples.sort()
    return statistics.median(samples) / 1e3, samples[int(0.9 * (len(samples) - 1))] / 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5000)
    args = parser.parse_args()
    with v3d_drm.open("emulator", executor=NullExecutor()) as dev:
        code = dev.asarray(np.zeros(8, dtype=np.uint64))
        uniforms = dev.asarray(np.zeros(4, dtype=np.uint32))
        cfg = [1 << 16, 1 << 16, 1 << 16, 0x110, 0, code.address, uniforms.address]
        host_code, host_uniforms = np.zeros(8, dtype=np.uint64), np.zeros(4, dtype=np.uint32)
        paths = {
            "submit_csd": lambda: dev.submit_csd(cfg, bos=[code, uniforms]).wait(),
            "dispatch": lambda: dev.dispatch(code, uniforms).wait(),
            "dispatch+stage": lambda: dev.dispatch(host_code, host_uniforms).wait(),
        }
        print(f"submit + wait of an empty job, emulated backend, null executor, {args.runs} runs")
        for name, fn in paths.items():
            median, p90 = median_us(fn, args.runs)
            print(f"  {name:15s} median {median:7.1f} us   p90 {p90:7.1f} us   (Python side, measured)")


if __name__ == "__main__":
    main()

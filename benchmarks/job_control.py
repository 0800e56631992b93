# ruff: noqa: B018  (DSL labels are expressions)
"""Job control on the emulated device: how soon a timeout and Ctrl-C take effect, how long a
hang takes to be reported, and whether threads sharing a device ever get each other's options.

    .venv/bin/python benchmarks/job_control.py [--trials N] [--threads T] [--jobs M]

Targets (issue 14): GPUTimeout within the timeout + 0.5 s; KeyboardInterrupt within 0.5 s of
SIGINT; 0 jobs with another job's options in T threads x M jobs.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import v3d_drm
from vc6_isa.asm import *
from vc6_isa.emulator import QPUError

HERE = os.path.dirname(os.path.abspath(__file__))


@qpu
def forever(asm):
    L.top
    b(R.top)
    nop()
    nop()
    nop()
    program_end()


@qpu
def store_without_tmuwt(asm, immediate):
    """out[lane] = value + 4 * lane + immediate, no tmuwt: strict="mesa" refuses it (rule 13.6/32)."""
    eidx(r0, sig=ldunif)
    shl(r0, r0, 2)
    add(r1, r5, r0, sig=ldunif)
    add(r2, r5, r0)
    add(tmud, r2, immediate)
    mov(tmua, r1)
    program_end()


def timeout_overshoot(dev, timeout: float, trials: int) -> list[float]:
    """Seconds past ``timeout`` at which wait() raised GPUTimeout on an endless loop."""
    late = []
    for _ in range(trials):
        job = dev.dispatch(assemble(forever), [], executor_options={"hang_timeout": None})
        start = time.monotonic()
        try:
            job.wait(timeout=timeout)
        except v3d_drm.GPUTimeout:
            late.append(time.monotonic() - start - timeout)
        job.cancel()
        try:
            job.wait()
        except v3d_drm.JobCancelled:
            pass
    return late


CHILD = textwrap.dedent("""
    import json, signal, sys, time, v3d_drm
    signal.signal(signal.SIGINT, signal.default_int_handler)  # also when started with SIGINT ignored (`cmd &`)
    from vc6_isa.asm import assemble
    sys.path.insert(0, sys.argv[1])
    from job_control import forever
    dev = v3d_drm.open("emulator")
    job = dev.dispatch(assemble(forever), [], executor_options={"hang_timeout": None})
    while job.progress() is None:
        time.sleep(0.01)
    print("waiting", flush=True)
    try:
        job.wait()
    except KeyboardInterrupt:
        print(json.dumps(time.monotonic()), flush=True)
""")


def sigint_latency(trials: int) -> list[float]:
    """Seconds from SIGINT to KeyboardInterrupt in a process waiting for an endless job."""
    out = []
    for _ in range(trials):
        child = subprocess.Popen([sys.executable, "-c", CHILD, HERE], stdout=subprocess.PIPE, text=True,
                                 env=dict(os.environ, V3D_DEVICE="emulator"))  # fmt: skip
        try:
            child.stdout.readline()
            time.sleep(0.3)
            sent = time.monotonic()
            child.send_signal(signal.SIGINT)
            out.append(json.loads(child.stdout.readline()) - sent)
        finally:
            child.kill()
            child.wait()
    return out


def hang_report_seconds(dev) -> float:
    """Wall seconds until the default hang check reports an endless loop."""
    start = time.monotonic()
    try:
        dev.dispatch(assemble(forever), []).wait()
    except QPUError:
        pass
    return time.monotonic() - start


def stress(dev, threads: int, jobs: int) -> tuple[int, int]:
    """(jobs checked, jobs that saw another job's options or wrote the wrong result)."""
    programs = [assemble(store_without_tmuwt, immediate=t + 1) for t in range(threads)]
    checked, swaps = [0], []

    def worker(t: int) -> None:
        for i in range(jobs):
            out = dev.array(16, np.uint32)
            value, strict = 1000 * t + 10 * i, "mesa" if (i + t) % 2 == 0 else True
            job = dev.dispatch(programs[t], [out.address, value], bos=[out], executor_options={"strict": strict})
            try:
                job.wait()
                ok = strict is True and out.tolist() == [value + 4 * lane + t + 1 for lane in range(16)]
            except QPUError as exc:
                own = " ".join(job.description.split()) in " ".join(str(exc).split())  # names its own job
                ok = strict == "mesa" and exc.rule == "13.6/32" and own
            if not ok:
                swaps.append((t, i))
            checked[0] += 1
            out.bo.close()

    pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return checked[0], len(swaps)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=5)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--jobs", type=int, default=300)
    args = ap.parse_args()
    with v3d_drm.open("emulator") as dev:
        dev.dispatch(assemble(forever), [], executor_options={"hang_timeout": 1e-5})  # load the machine
        late = timeout_overshoot(dev, 1.0, args.trials)
        print(f"wait(timeout=1) on an endless loop: GPUTimeout {statistics.median(late) * 1e3:.1f} ms late "
              f"(median; max {max(late) * 1e3:.1f} ms; {len(late)} trials)")
        print("default hang check (every 0.5 s modelled; an endless one-batch loop fails the second, at 1 s "
              f"modelled) reports it after {hang_report_seconds(dev):.1f} s wall")
        checked, swaps = stress(dev, args.threads, args.jobs)
        print(f"{args.threads} threads x {args.jobs} jobs on one device, strict 'mesa'/True alternating: "
              f"{checked} jobs checked, {swaps} with another job's options or a wrong result")
    lat = sigint_latency(args.trials)
    print(f"SIGINT during wait -> KeyboardInterrupt: {statistics.median(lat) * 1e3:.1f} ms (median; "
          f"max {max(lat) * 1e3:.1f} ms; {len(lat)} trials)")


if __name__ == "__main__":
    main()

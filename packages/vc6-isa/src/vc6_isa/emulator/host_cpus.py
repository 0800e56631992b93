"""How many of the host's CPUs are idle for a second process or thread of ours, now.

A cold compile of the emulator's machine forks a second process (`jit._forked_compile`), or
else starts a second thread for LLVM's work (`jit._LLVMWorker`), only when a core is idle for it:
with both cores busy, either made the compile's wall time longer, not shorter (measured:
docs/emulator-internals.md, "The second core"). `idle_cores` answers from `/proc/stat` over a
window that starts when this module is imported (before numba's import, by `jit`) and ends when
the compile starts, so it costs no wall time; the small helpers take readings as arguments, so
that tests feed them numbers. Standard library only.
"""

from __future__ import annotations

import contextlib
import os
import re
import time


def cpu_ticks(stat: str, cpus: set[int]) -> tuple[int, int]:
    """(busy, all) clock ticks since boot of the CPUs `cpus`, from `/proc/stat`'s text `stat`:
    of the first eight columns idle and iowait are idle, the others busy (guest time is
    counted in user and nice already)."""
    busy = total = 0
    for line in stat.splitlines():
        name, *columns = line.split()
        if name[:3] == "cpu" and name[3:].isdigit() and int(name[3:]) in cpus:
            ticks = [int(c) for c in columns[:8]]
            total += sum(ticks)
            busy += sum(ticks) - ticks[3] - ticks[4]
    return busy, total


def quota_cpus(limit: str) -> float | None:
    """The CPUs a cgroup CPU limit `"<quota> <period>"` allows (cgroup v2's `cpu.max` as it
    reads; v1's `cpu.cfs_quota_us` and `cpu.cfs_period_us` joined), None for no limit."""
    quota, period = limit.split()[:2]
    return None if quota in ("max", "-1") else int(quota) / int(period)


def others_busy(busy: int, total: int, cpus: int, own: float) -> float:
    """The cores other processes kept busy over a window: of its `busy` and `total` ticks on
    `cpus` CPUs, those not this process's `own`."""
    return max(0.0, busy - own) * cpus / total if total > 0 else 0.0


def spare_cores(usable: float, others: float) -> float:
    """The CPUs left for a second process or thread of ours: the `usable` CPUs (a fraction
    counting down) less the one this process computes on, less the cores that `others` (other
    processes' CPU seconds per second) keep busy, half a core and more counting as one."""
    return max(0.0, float(int(usable) - 1 - int(others + 0.5)))


def read_text(path: str) -> str | None:
    """The text of file `path`, None where it cannot be read (no `/proc`, no cgroup file)."""
    try:
        with open(path) as file:
            return file.read()
    except OSError:
        return None


def cgroup_cpus() -> float | None:
    """The CPUs this process's cgroup limits allow (the least limit of its group and the
    groups above it, v2 `cpu.max` or v1 `cpu.cfs_quota_us`), None without a readable limit."""
    limits = []
    for line in (read_text("/proc/self/cgroup") or "").splitlines():
        _, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if controllers and "cpu" not in controllers.split(","):
            continue
        parts = [p for p in path.split("/") if p]
        for depth in range(len(parts), -1, -1):
            group = "/".join(["/sys/fs/cgroup", *([controllers] if controllers else []), *parts[:depth]])
            if controllers:  # v1
                quota, period = read_text(group + "/cpu.cfs_quota_us"), read_text(group + "/cpu.cfs_period_us")
                limit = f"{quota} {period}" if quota and period else None
            else:
                limit = read_text(group + "/cpu.max")
            if limit:
                with contextlib.suppress(ValueError):  # a limit we cannot read is none
                    limits.append(quota_cpus(limit))
    return min((limit for limit in limits if limit is not None), default=None)


def our_cpus() -> set[int]:
    """The CPUs this process may run on (its affinity mask where the system has one)."""
    return os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set(range(os.cpu_count() or 1))


def usage_now() -> tuple[float, int, int, float] | None:
    """(wall clock s, busy and all ticks of our CPUs, this process's CPU ticks) now; None
    without `/proc/stat`."""
    stat = read_text("/proc/stat")
    if stat is None:
        return None
    times = os.times()
    return (time.monotonic(), *cpu_ticks(stat, our_cpus()),
            (times.user + times.system) * os.sysconf("SC_CLK_TCK"))


#: The start of `idle_cores`' window: this module's import, before numba's.
USAGE_AT_IMPORT = usage_now()
#: A window shorter than this (s) is too coarse for 10 ms ticks (`idle_cores`).
MIN_IDLE_WINDOW = 0.1


def idle_cores() -> float:
    """How many CPUs are idle for a second process or thread of ours, besides the one this
    process computes on: the CPUs it may use (affinity mask, cgroup CPU limit) less those
    other processes keep busy now (`spare_cores`).

    "Now" is the window from this module's import to the call (the compile's start), so it
    costs no wall time: `/proc/stat`'s busy ticks of our CPUs over the window less this
    process's own (it was busy importing). The 1-minute load average used before lagged both
    ways: after a few compiles in a row it closed the gate on an idle host, and for a minute
    after another job started it left it open. A window shorter than `MIN_IDLE_WINDOW`
    counts the processes running now instead (`procs_running`, less this one); without
    `/proc`, the 1-minute load less this process. A process that compiles long after its
    import (a test session) gets the average since its import.

    `jit._LLVMWorker` pays only with an idle core: measured with other jobs on both cores of a
    2-core host (load 2.3-3.6), the compile's wall time was 3-4 s longer with the worker than
    without (4 alternating pairs; docs/emulator-internals.md): the compiling thread waited
    longer for a core, and for the GIL and LLVM's lock while the worker held them off its
    core. So does the forked compile (`jit._fork_wanted`). With one CPU there is never an idle one.
    """
    cpus = len(our_cpus())
    usable = min(cpus, cgroup_cpus() or cpus)
    now = usage_now()
    if now is None or USAGE_AT_IMPORT is None:
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else cpus
        return spare_cores(usable, max(0.0, load - 1))
    if now[0] - USAGE_AT_IMPORT[0] < MIN_IDLE_WINDOW:
        running = re.search(r"^procs_running (\d+)", read_text("/proc/stat") or "", re.MULTILINE)
        return spare_cores(usable, int(running.group(1)) - 1 if running else cpus)
    busy, total, own = (b - a for a, b in zip(USAGE_AT_IMPORT[1:], now[1:]))
    return spare_cores(usable, others_busy(busy, total, cpus, own))

"""The idle-core gate (`host_cpus.idle_cores`), which decides whether a cold compile of the
machine forks a second process or starts the LLVM worker thread (jit.py): readings of `/proc/stat`, this process's CPU time and
cgroup CPU limits in, the spare cores out, fed numbers rather than read from this host."""

import pytest
from vc6_isa.emulator import host_cpus

TICKS = 100  # clock ticks per second, as on Linux


def _stat(*cpus: tuple[int, int]) -> str:
    """`/proc/stat`'s text for CPUs of (busy, idle) ticks: busy split into user and system, idle
    into idle and iowait, and an aggregate line and other lines that are not one CPU's."""
    lines = ["cpu  1 2 3 4 5 6 7 8 9 10"]
    lines += [f"cpu{n} {busy - busy // 3} 0 {busy // 3} {idle - idle // 4} {idle // 4} 0 0 0 7 0"
              for n, (busy, idle) in enumerate(cpus)]
    return "\n".join([*lines, "intr 5 0 1", "ctxt 99", "procs_running 3", "cpuset 1"])


def _others(before: str, after: str, own_seconds: float, cpus=frozenset({0, 1})) -> float:
    (busy0, total0), (busy1, total1) = host_cpus.cpu_ticks(before, set(cpus)), host_cpus.cpu_ticks(after, set(cpus))
    return host_cpus.others_busy(busy1 - busy0, total1 - total0, len(cpus), own_seconds * TICKS)


def test_cpu_ticks_count_idle_and_iowait_as_idle_of_the_listed_cpus_only():
    stat = _stat((300, 1000), (50, 2000), (7000, 0))
    assert host_cpus.cpu_ticks(stat, {0, 1}) == (350, 3350)
    assert host_cpus.cpu_ticks(stat, {2}) == (7000, 7000)


def test_an_idle_host_opens_the_gate():
    """Over a 0.5 s window on 2 CPUs, this process busy on one (importing) and a few ticks of
    other work: one core is spare."""
    before = _stat((1000, 5000), (1000, 5000))
    after = _stat((1050, 5000), (1002, 5048))  # ours: 50 ticks; someone else's: 2
    others = _others(before, after, own_seconds=0.5)
    assert others == pytest.approx(0.04)
    assert host_cpus.spare_cores(2, others) == 1


def test_our_own_import_is_not_counted_as_another_job():
    """The same window with this process's CPU not subtracted would count a core busy."""
    before = _stat((1000, 5000), (1000, 5000))
    after = _stat((1050, 5000), (1000, 5050))
    assert host_cpus.spare_cores(2, _others(before, after, own_seconds=0.5)) == 1
    assert host_cpus.spare_cores(2, _others(before, after, own_seconds=0.0)) == 0


def test_other_jobs_on_the_cores_close_the_gate():
    before = _stat((1000, 5000), (1000, 5000))
    one_job = _stat((1050, 5000), (1050, 5000))  # ours and one spinning job
    assert _others(before, one_job, own_seconds=0.5) == pytest.approx(1.0)
    assert host_cpus.spare_cores(2, _others(before, one_job, own_seconds=0.5)) == 0
    two_jobs = _stat((1050, 5000), (1050, 5000))  # ours and two jobs sharing 2 cores: 1/3 each
    assert host_cpus.spare_cores(2, _others(before, two_jobs, own_seconds=1 / 3)) == 0
    half_a_job = _stat((1050, 5000), (1020, 5030))  # 0.4 of a core: still counts as idle
    assert host_cpus.spare_cores(2, _others(before, half_a_job, own_seconds=0.5)) == 1
    assert host_cpus.spare_cores(4, 2.0) == 1  # 4 cores, two of them busy: one spare besides ours


def test_a_cgroup_limit_of_one_cpu_closes_the_gate(monkeypatch):
    assert host_cpus.quota_cpus("100000 100000") == 1.0
    assert host_cpus.quota_cpus("150000 100000\n") == 1.5
    assert host_cpus.quota_cpus("max 100000") is None
    assert host_cpus.quota_cpus("-1 100000") is None
    assert host_cpus.spare_cores(1.0, 0.0) == 0
    assert host_cpus.spare_cores(1.5, 0.0) == 0  # a fraction of a CPU is not a spare core
    files = {"/proc/self/cgroup": "0::/user.slice/job\n",
             "/sys/fs/cgroup/user.slice/job/cpu.max": "max 100000\n",
             "/sys/fs/cgroup/user.slice/cpu.max": "100000 100000\n",
             "/sys/fs/cgroup/cpu.max": "300000 100000\n"}
    monkeypatch.setattr(host_cpus, "read_text", files.get)
    assert host_cpus.cgroup_cpus() == 1.0  # the parent group's limit holds its children
    files["/sys/fs/cgroup/user.slice/cpu.max"] = "no number\n"
    assert host_cpus.cgroup_cpus() == 3.0  # a limit that does not read is none
    files.clear()
    files.update({"/proc/self/cgroup": "4:memory:/x\n2:cpu,cpuacct:/docker/abc\n",
                  "/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us": "100000\n",
                  "/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us": "100000\n",
                  "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us": "-1\n",
                  "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us": "100000\n"})
    assert host_cpus.cgroup_cpus() == 1.0
    # on a big idle host, the limit decides
    monkeypatch.setattr(host_cpus, "our_cpus", lambda: set(range(64)))
    monkeypatch.setattr(host_cpus, "usage_now", lambda: None)
    monkeypatch.setattr(host_cpus.os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    assert host_cpus.idle_cores() == 0
    files["/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us"] = "-1\n"
    assert host_cpus.idle_cores() == 63


def test_the_window_since_the_import_decides(monkeypatch):
    """`_idle_cores` takes the window from `_USAGE_AT_IMPORT` to now; a window too short for the
    ticks counts the processes running now (less this one)."""
    monkeypatch.setattr(host_cpus, "our_cpus", lambda: {0, 1})
    monkeypatch.setattr(host_cpus, "cgroup_cpus", lambda: None)
    monkeypatch.setattr(host_cpus, "USAGE_AT_IMPORT", (10.0, 2000, 12000, 500.0))
    monkeypatch.setattr(host_cpus, "usage_now", lambda: (10.5, 2052, 12100, 550.0))  # 2 ticks not ours
    assert host_cpus.idle_cores() == 1
    monkeypatch.setattr(host_cpus, "usage_now", lambda: (10.5, 2100, 12100, 550.0))  # a job on the other
    assert host_cpus.idle_cores() == 0
    monkeypatch.setattr(host_cpus, "usage_now", lambda: (10.05, 2100, 12100, 550.0))
    stat = "cpu0 1 1 1 1 1 1 1 1\nprocs_running {}\n"
    monkeypatch.setattr(host_cpus, "read_text", lambda path: stat.format(1) if path == "/proc/stat" else None)
    assert host_cpus.idle_cores() == 1  # only this process runs
    monkeypatch.setattr(host_cpus, "read_text", lambda path: stat.format(2) if path == "/proc/stat" else None)
    assert host_cpus.idle_cores() == 0


def test_without_proc_the_load_average_decides(monkeypatch):
    """Where there is no `/proc` (no reading at the import or now), the 1-minute load average
    less this process is the other processes' work."""
    monkeypatch.setattr(host_cpus, "our_cpus", lambda: {0, 1})
    monkeypatch.setattr(host_cpus, "read_text", lambda path: None)
    monkeypatch.setattr(host_cpus, "USAGE_AT_IMPORT", None)
    assert host_cpus.usage_now() is None and host_cpus.cgroup_cpus() is None
    monkeypatch.setattr(host_cpus.os, "getloadavg", lambda: (1.2, 3.0, 3.0))
    assert host_cpus.idle_cores() == 1
    monkeypatch.setattr(host_cpus.os, "getloadavg", lambda: (2.1, 0.0, 0.0))
    assert host_cpus.idle_cores() == 0

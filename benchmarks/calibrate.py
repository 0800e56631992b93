"""Calibration of the emulator's cycle model against py-videocore6's published Pi 4 timings.

    python benchmarks/calibrate.py [--pv6 GITDIR] [--only sgemm,scopy,...] [--no-ours] [--json]
                                   [--report FILE [FILE ...]] [--include-emulated] [--no-pv6]

Runs py-videocore6's examples (vc6_isa.emulator.CALIBRATION_PROGRAMS) on the emulator through
``vc6_isa.compat``, and prints for each the published Pi 4 wall time, the modelled one (the
job's modelled GPU time plus the model's host dispatch overhead per job), their ratio and the
error; then the model's parameters with their sources. Programs marked "fitted" fixed the
parameters; "held out" ones are predictions. The band every modelled figure carries
(CALIBRATION_ERROR) must cover every error printed here; the script says when it does not.

The examples are read from a py-videocore6 git repository (``--pv6``, env ``PV6_REPO``, default
the local mirror; ``git clone https://github.com/Idein/py-videocore6`` makes one) at the timed
commit, never copied into this repository. Only their import lines change (``videocore6.*`` ->
``vc6_isa.asm`` / ``vc6_isa.compat``); the 2020 versions also get two host-side fixes for
numpy 2 (their QPU programs are untouched). Each example checks its own GPU result. Their
printouts (emulator wall times, which say nothing about a Pi) are suppressed.

Then (unless ``--no-ours``) it runs our vc6-kernels routines on the same problems
(``kernels_modelled.py``) and prints them side by side with py-videocore6's programs in the same
model: the speed-up is py-videocore6's modelled time over ours.

Emulator time on the shared (loaded) 2-core development machine: 2-3 min for py-videocore6's
sgemm 1024^3 (198 M thread-instructions), under 10 s for each of the others, about 1 min for
ours; 5-6 min for the whole run.

``--report FILE ...`` adds the ground truth of ``vc6-bench selftest`` JSON reports (made on a Pi 4:
our kernels at two sizes each, with measured cycles): each usable entry
(``vc6_bench.selftest.load_ground_truth``) is run again on the emulator with today's model (the
same routine, size and seeded inputs as the selftest's run) and printed as measured vs modelled
cycles with the ratio, in a section of its own beside the py-videocore6 rows: those compare wall
times with the host dispatch overhead, these the GPU's busy cycles at the clock the Pi measured,
so one table would mix two measures. Both count in the verdict: the band CALIBRATION_ERROR is
claimed for every modelled figure, so a Pi's entry outside it fails the run like a py-videocore6
program does. Reports of an emulated "GPU" (``--fake-hardware``) say nothing about a Pi; they are
skipped unless ``--include-emulated`` (which tests this path without a Pi), and even then shown
as "emulated" and never counted. ``--no-pv6`` skips py-videocore6's examples (and our routines).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import time
import types
from dataclasses import asdict

from vc6_isa import compat
from vc6_isa.emulator import (
    CALIBRATION_ERROR,
    CALIBRATION_PROGRAMS,
    CycleModel,
    calibration_program,
    modelled_label,
    parameter_table,
)

DEFAULT_PV6 = "/work/.mirror/Idein+py-videocore6/repo"

#: import lines of py-videocore6 examples -> ours (the only change to current examples)
IMPORTS = {
    "from videocore6.assembler import *": "from vc6_isa.asm import *",
    "from videocore6.assembler import qpu": "from vc6_isa.asm import *",
    "from videocore6.driver import Array, Driver": "from vc6_isa.compat import Array, Driver",
    "from videocore6.driver import Driver": "from vc6_isa.compat import Driver",
}

#: host-side numpy 2 fixes of the 2020 examples (numpy 1 wrapped uint32 scalars silently)
HOST_FIXES = {
    ("e50d53a", "examples/summation.py"): [
        ("assert sum(Y) % 2**32 ==", "assert int(sum(Y.astype(int))) % 2**32 =="),
    ],
    ("e50d53a", "examples/memset.py"): [("X.fill(~fill)", "X.fill(~fill & 0xFFFFFFFF)")],
}


def example_source(repo: str, commit: str, path: str) -> str:
    """The example at ``commit`` with our imports (and the host fixes listed above)."""
    try:
        text = subprocess.run(["git", "-C", repo, "show", f"{commit}:{path}"], check=True,
                              capture_output=True, text=True).stdout  # fmt: skip
    except (OSError, subprocess.CalledProcessError) as e:
        detail = getattr(e, "stderr", "") or str(e)
        sys.exit(f"cannot read {path} at {commit} from the py-videocore6 repository {repo!r}: {detail.strip()}\n"
                 "  fix: git clone https://github.com/Idein/py-videocore6 and pass --pv6 <that directory>")  # fmt: skip
    lines = [IMPORTS.get(line.strip(), line) for line in text.splitlines()]
    text = "\n".join(lines) + "\n"
    for old, new in HOST_FIXES.get((commit, path), []):
        if text.count(old) != 1:
            sys.exit(f"{path}@{commit}: expected one {old!r} to fix")
        text = text.replace(old, new)
    if "videocore6." in text.replace("vc6_isa", ""):
        sys.exit(f"{path}@{commit}: an import of py-videocore6 is left; extend IMPORTS")
    return text


def run_example(source: str, name: str, model: CycleModel) -> list:
    """Run the example's ``main()`` on the emulator; the stats of every job it dispatched."""
    jobs: list = []

    class RecordingDriver(compat.Driver):
        def __init__(self, **kwargs):
            kwargs.setdefault("device", "emulator")
            kwargs["executor_options"] = {"cycle_model": model}
            super().__init__(**kwargs)

        def _submit(self, cfg, timeout_sec):
            job = super()._submit(cfg, timeout_sec)
            jobs.append(job)
            return job

    module = types.ModuleType(f"pv6_{name.split()[0]}")
    exec(compile(source, f"<py-videocore6 {name}>", "exec"), module.__dict__)  # noqa: S102
    module.Driver = RecordingDriver
    with contextlib.redirect_stdout(io.StringIO()):
        module.main()
    return [job.stats for job in jobs]


def side_by_side(rows: list[dict], wanted: list[str]) -> list[dict]:
    """Run our routines (kernels_modelled.py) and pair each with py-videocore6's program for the
    same problem: its modelled GPU time from this run, or the stored one."""
    import kernels_modelled

    print("running our routines on the same problems on the emulator...", file=sys.stderr, flush=True)
    with contextlib.redirect_stdout(io.StringIO()):
        ours = kernels_modelled.run([r for r in kernels_modelled.ROUTINES if not wanted or r in wanted])
    ran = {r["program"]: r["modelled_gpu_s"] for r in rows}
    for o in ours:
        if o["py_videocore6"]:
            prog = calibration_program(o["py_videocore6"])
            o["pv6_modelled_s"] = ran.get(prog.name, prog.modelled_gpu_seconds)
            o["pv6_measured_s"] = prog.measured_seconds
    return ours


def report_rows(paths: list[str], model: CycleModel, include_emulated: bool) -> list[dict]:
    """The ground truth of selftest reports, each entry re-modelled with ``model``."""
    from vc6_bench.selftest.truth import ReportError, load_ground_truth, model_cycles

    try:
        entries = load_ground_truth(paths, include_emulated=include_emulated)
    except ReportError as error:
        sys.exit(f"calibrate.py: {error}")
    rows = []
    for truth in entries:
        label = truth.problem.get("label")
        print(f"re-modelling {truth.program} {label} of {truth.source}...", file=sys.stderr, flush=True)
        try:
            cycles = model_cycles(truth, model)
        except ReportError as error:
            sys.exit(f"calibrate.py: {error}")
        ratio = truth.measured_cycles / cycles  # as the selftest report prints it
        rows.append({
            "program": truth.program, "problem": label, "source": truth.source,
            "from_hardware": truth.from_hardware, "counted": truth.from_hardware,
            "clock_mhz": truth.clock_mhz, "measured_cycles": truth.measured_cycles,
            "cycles_counter": truth.cycles_counter, "measured_s": truth.measured_seconds,
            "modelled_cycles": cycles, "modelled_s": cycles / (model.clock_mhz * 1e6),
            "reported_modelled_cycles": truth.modelled_cycles, "ratio": ratio, "error": 1 / ratio - 1,
        })  # fmt: skip
    if not rows:
        print(f"no usable ground truth in {', '.join(paths)} (entries measured on a Pi whose values matched; "
              "--include-emulated also takes those of an emulated device)", file=sys.stderr)  # fmt: skip
    return rows


def print_report_rows(rows: list[dict]) -> None:
    """The reports' section: measured vs modelled cycles, their ratio (measured / modelled, as the
    selftest prints it) and the model's error (modelled / measured - 1, as for py-videocore6's)."""
    print(f"\nselftest reports: measured GPU cycles vs this model's ({modelled_label()})")
    print("ratio = measured / modelled (as in the report: > 1 means the GPU was slower than modelled); "
          "error = modelled / measured - 1")
    print(f"{'program':20s} {'problem':22s} {'measured':>22s} {'modelled':>13s} {'ratio':>6s} {'error':>7s}  "
          f"{'report modelled':>17s}  source")  # fmt: skip
    for r in rows:
        measured = f"{r['measured_cycles']:.0f} cycles" + (" (emulated)" if not r["from_hardware"] else "")
        print(f"{r['program']:20s} {r['problem']:22s} {measured:>22s} {r['modelled_cycles']:>6d} cycles "
              f"{r['ratio']:6.3f} {r['error'] * 100:+6.1f}%  {r['reported_modelled_cycles']!s:>17s}  {r['source']}")  # fmt: skip
    skipped = sum(not r["counted"] for r in rows)
    if skipped:
        print(f"{skipped} entr{'y' if skipped == 1 else 'ies'} measured on an EMULATED device: shown, not counted")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pv6", default=os.environ.get("PV6_REPO", DEFAULT_PV6), help="py-videocore6 git repository")
    ap.add_argument("--only", default="", help="comma-separated words matching program names (e.g. scopy,2020)")
    ap.add_argument("--no-ours", action="store_true", help="skip running our routines side by side")
    ap.add_argument("--json", action="store_true", help="machine-readable results on stdout")
    ap.add_argument("--report", nargs="+", default=[], metavar="FILE",
                    help="vc6-bench selftest JSON reports whose ground truth to add")
    ap.add_argument("--include-emulated", action="store_true",
                    help="also show report entries of an emulated 'GPU' (--fake-hardware; never counted)")
    ap.add_argument("--no-pv6", action="store_true", help="skip py-videocore6's examples and our routines")
    args = ap.parse_args()
    model = CycleModel()
    wanted = [w for w in args.only.split(",") if w]
    programs = [] if args.no_pv6 else [p for p in CALIBRATION_PROGRAMS if not wanted or any(w in p.name for w in wanted)]
    rows = []
    for prog in programs:
        print(f"running {prog.name} ({prog.path}@{prog.commit}) on the emulator...", file=sys.stderr, flush=True)
        start = time.perf_counter()
        stats = run_example(example_source(args.pv6, prog.commit, prog.path), prog.name, model)
        gpu = sum(s.modelled_seconds for s in stats)
        modelled = gpu + len(stats) * model.dispatch_overhead_us * 1e-6
        rows.append({
            "program": prog.name, "example": f"{prog.path}@{prog.commit}", "role": prog.role,
            "measured_s": prog.measured_seconds, "measured_source": prog.source, "modelled_s": modelled,
            "jobs": len(stats), "ratio": modelled / prog.measured_seconds,
            "error": modelled / prog.measured_seconds - 1, "emulator_s": time.perf_counter() - start,
            "modelled_gpu_s": gpu, "stored_gpu_s": prog.modelled_gpu_seconds,
        })  # fmt: skip
    reports = report_rows(args.report, model, args.include_emulated)
    worst = max((abs(r["error"]) for r in rows + reports if r.get("counted", True)), default=0.0)
    ours = [] if args.no_ours or args.no_pv6 else side_by_side(rows, wanted)
    if args.json:
        json.dump({"rows": rows, "reports": reports, "band": CALIBRATION_ERROR, "within_band": worst <= CALIBRATION_ERROR,
                   "ours": ours, "model": asdict(model)}, sys.stdout, indent=1)  # fmt: skip
        print()
        sys.exit(0 if worst <= CALIBRATION_ERROR else 1)
    if rows:
        print_pv6_rows(rows, model)
    if reports:
        print_report_rows(reports)
    counted = len(rows) + sum(r["counted"] for r in reports)
    verdict = "within" if worst <= CALIBRATION_ERROR else "OUTSIDE"
    if counted:
        print(f"\nlargest |error| of {counted} counted figure(s) {worst * 100:.1f}%: {verdict} the quoted band of "
              f"±{CALIBRATION_ERROR * 100:.0f}% (vc6_isa.emulator.CALIBRATION_ERROR)\n")  # fmt: skip
    else:
        print("\nno figure measured on a Pi 4 was checked: the band is neither confirmed nor contradicted\n")
    if rows:
        print_stale_and_parameters(rows, model)
    if ours:
        print_ours(ours)
    if worst > CALIBRATION_ERROR:
        sys.exit(1)


def print_pv6_rows(rows: list[dict], model: CycleModel) -> None:
    """py-videocore6's examples: published Pi 4 wall time vs modelled, ratio = modelled / measured."""
    print(f"{'program':24s} {'example':30s} {'role':9s} {'Pi 4 (measured)':>16s} {'modelled':>12s} "
          f"{'ratio':>6s} {'error':>7s} {'emulator':>9s}")  # fmt: skip
    for r in rows:
        print(f"{r['program']:24s} {r['example']:30s} {r['role']:9s} {r['measured_s'] * 1e3:13.2f} ms "
              f"{r['modelled_s'] * 1e3:9.2f} ms {r['ratio']:6.3f} {r['error'] * 100:+6.1f}% {r['emulator_s']:7.1f} s")  # fmt: skip
    print(f"\nmodelled = the job's modelled GPU time + {model.dispatch_overhead_us:g} us host dispatch overhead; "
          "measured = py-videocore6 README (Pi 4, 500 MHz, force_turbo=1); ratio = modelled / measured")  # fmt: skip


def print_stale_and_parameters(rows: list[dict], model: CycleModel) -> None:
    """Stored figures this run contradicts, then the model's parameters with their sources."""
    stale = [r for r in rows if abs(r["modelled_gpu_s"] / r["stored_gpu_s"] - 1) > 0.002]
    for r in stale:
        print(f"STALE: CALIBRATION_PROGRAMS[{r['program']!r}].modelled_gpu_seconds is {r['stored_gpu_s']:.6f}; "
              f"this run gives {r['modelled_gpu_s']:.6f} (update cycle_model.py)")  # fmt: skip
    print("parameters (vc6_isa.emulator.CycleModel):")
    for name, value, source in parameter_table(model):
        print(f"  {name:24s} {value!s:>10s}  {source}")


def print_ours(ours: list[dict]) -> None:
    """Our routines beside py-videocore6's programs, both in this model."""
    if ours:
        print(f"\nour routines vs py-videocore6 on the same problems, both in this model ({modelled_label()}):")
        print(f"{'routine':10s} {'problem':18s} {'ours':>11s} {'rate':>16s} {'py-videocore6':>14s} {'speed-up':>9s} "
              f"{'(py-videocore6 on a Pi 4)':>26s}")  # fmt: skip
        for o in ours:
            theirs = o.get("pv6_modelled_s")
            cols = (f"{theirs * 1e3:11.2f} ms {theirs / o['seconds']:8.2f}x {o['pv6_measured_s'] * 1e3:20.2f} ms"
                    if theirs else f"{'-':>14s} {'-':>9s} {'(no counterpart)':>26s}")  # fmt: skip
            print(f"{o['routine']:10s} {o['size']:18s} {o['seconds'] * 1e3:8.2f} ms {o['rate']:>16s} {cols}")


if __name__ == "__main__":
    main()

"""The `vc6-bench` command line: one subcommand per routine, plus `clock`, `info` and `all`.

Exit codes: 0 all results verified, 1 a result failed verification (or the routine raised),
2 usage error (bad size, shape, option or device name), 3 no device.
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from . import method
from .platform import DeviceError, Platform, RealPlatform
from .profile import write_profile
from .progress import Progress
from .report import (
    banner_lines,
    device_lines,
    render_csv,
    render_json,
    result_lines,
    summary_lines,
    title_lines,
)
from .routines import ROUTINES, Problem, Routine
from .selftest import command as selftest_command
from .sizes import Count, SizeError, parse_count, parse_shape

__all__ = ["EXIT_NO_DEVICE", "EXIT_OK", "EXIT_USAGE", "EXIT_VERIFY", "build_parser", "console", "main"]

EXIT_OK, EXIT_VERIFY, EXIT_USAGE, EXIT_NO_DEVICE = 0, 1, 2, 3
SCHEMA_VERSION = 1
PROG = "vc6-bench"


# ---- arguments ---------------------------------------------------------------------------------


def _size_arg(text: str) -> Count:
    try:
        return parse_count(text)
    except SizeError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _shape_arg(ndim: int, what: str):
    def parse(text: str) -> str:
        try:
            parse_shape(text, ndim, what)
        except SizeError as error:
            raise argparse.ArgumentTypeError(str(error)) from None
        return text

    return parse


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {value}")
    return value


def _common_options(parser: argparse.ArgumentParser, suppress: bool) -> None:
    """Options accepted both before and after the subcommand (after wins)."""

    def default(value: Any) -> Any:
        return argparse.SUPPRESS if suppress else value

    parser.add_argument("--device", default=default(None),
                        help="'emulator' or a V3D render node path (default: as v3d_drm.open(): V3D_DEVICE, "
                             "else the render node, else the emulator)")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", dest="format", action="store_const", const="json", default=default("table"),
                        help="print one JSON document (schema: tests/result.schema.json)")
    output.add_argument("--csv", dest="format", action="store_const", const="csv", default=default("table"),
                        help="print CSV, one row per routine")
    parser.add_argument("--repeat", type=_positive_int, default=default(None), metavar="N",
                        help=f"timed runs per routine (default {method.HARDWARE_REPEAT} on a Pi, "
                             f"{method.EMULATOR_REPEAT} on the emulator)")
    parser.add_argument("--no-progress", action="store_true", default=default(False),
                        help="never draw the progress bar")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Benchmark the vc6-kernels routines on the Raspberry Pi 4 GPU (or the emulator), "
                    "verified against numpy.",
        epilog="Exit codes: 0 ok, 1 verification failed, 2 usage error, 3 no device.",
    )
    _common_options(parser, suppress=False)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for routine in ROUTINES.values():
        sub = commands.add_parser(routine.name, help=routine.summary, description=routine.summary)
        _common_options(sub, suppress=True)
        sub.add_argument("--size", type=_size_arg, help=routine.size_help)
        sub.add_argument("--profile", metavar="DIR", type=Path,
                         help="emulator only: profile one more run and write DIR/annotate.txt, DIR/timeline.json "
                              "(Perfetto) and, with matplotlib (vc6-bench[plot]), DIR/roofline.png and .svg")
        if routine.name == "sgemm":
            sub.add_argument("--shape", type=_shape_arg(3, "MxNxK"), help="MxNxK, e.g. 1000x300x777")
        if routine.name == "stencil":
            sub.add_argument("--shape", type=_shape_arg(2, "ROWSxCOLS"), help="ROWSxCOLS, e.g. 512x768")
            sub.add_argument("--steps", type=_positive_int, help="time steps (default 10)")
    for name, text in (
        ("all", "every routine at its default size"),
        ("clock", "the QPU clock, from the perf counters"),
        ("info", "device, kernel and package versions"),
    ):
        _common_options(commands.add_parser(name, help=text, description=text), suppress=True)
    selftest = commands.add_parser("selftest", help=selftest_command.SUMMARY, description=selftest_command.SUMMARY,
                                   epilog="Exit codes: 0 agrees, 1 differs, 2 usage error, 3 no Pi GPU here.")
    selftest_command.add_arguments(selftest)
    return parser


# ---- running -----------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None, *, platform: Platform | None = None,
         stdout: TextIO | None = None, stderr: TextIO | None = None,
         prepared: Callable[[], None] | None = None) -> int:
    """Run the `vc6-bench` command.

    Args:
        argv: The arguments, without the program name (default: `sys.argv[1:]`).
        platform: What the harness runs on (default: the real kernels and devices; tests pass a
            fake).
        stdout: Where results go (default: `sys.stdout`).
        stderr: Where messages and progress go (default: `sys.stderr`).
        prepared: Called once the device is open and its one-time preparation (the emulator's
            compile) is done, before anything is measured (`console` passes `gc.freeze`).

    Returns:
        The exit code: 0 ok, 1 verification failed, 2 usage error, 3 no device.
    """
    stdout = stdout if stdout is not None else sys.stdout
    stderr = stderr if stderr is not None else sys.stderr
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:  # argparse has printed usage and a one-line error
        return int(exit_.code or 0)
    if args.command == "selftest":
        return selftest_command.main(args, stdout, stderr, platform)
    platform = platform if platform is not None else RealPlatform()
    try:
        return _run(args, platform, stdout, stderr, prepared or (lambda: None))
    except SizeError as error:
        stderr.write(f"{PROG}: error: {error}\n")
        return EXIT_USAGE
    except DeviceError as error:
        stderr.write(f"{PROG}: error: {error}\n")
        return error.exit_code


def console() -> None:
    """The `vc6-bench` command itself (the console script): `main` as a process of its own.

    Such a process can tell Python's garbage collector that every object alive once the device
    is prepared, and again once the report is written, stays until exit (`gc.freeze`: full
    collections skip them), which `main` called from a process that goes on (tests, a notebook)
    must not do: garbage frozen there would never be freed. What it saves is the emulator's
    first run: numba's one-time compile of the machine leaves ~300,000 objects (its compiler's
    state and cyclic garbage). Unfrozen, the next full collection scans them all, 0.6-1.0 s in
    the first run's warm-up, and the interpreter's exit does so again, 0.6-1.2 s (measured on a
    2-core host, issue 13). The garbage is then never freed; the process already reached its
    peak memory while compiling, and it ends soon after.
    """
    code = main(prepared=gc.freeze)
    gc.freeze()
    sys.exit(code)


def _run(args: argparse.Namespace, platform: Platform, stdout: TextIO, stderr: TextIO,
         prepared: Callable[[], None]) -> int:
    """Measure and report. A table streams as it is known (title at once, the banner once the
    device is open, the device line after the clock, each routine when measured, the summary
    last); JSON and CSV are written whole at the end."""
    names = list(ROUTINES) if args.command == "all" else [args.command] if args.command in ROUTINES else []
    # Sizes given on the command line are checked before any device is opened.
    explicit = {name: _explicit_problem(args, ROUTINES[name]) for name in names}
    document: dict[str, Any] = {"tool": PROG, "schema_version": SCHEMA_VERSION, "command": args.command}
    table = args.format == "table"
    with Progress(total=2 + len(names) * (4 + (args.repeat or 1)), stream=stderr,
                  enabled=not args.no_progress) as progress:

        def show(lines: list[str]) -> None:
            if table and lines:
                progress.above(stdout, "\n".join(lines) + "\n")

        versions = platform.versions()
        show(title_lines({**document, "versions": versions}))
        progress.step("opening the device")
        dev = platform.open(args.device)
        try:
            document["device"] = _device(platform, dev)
            progress.total = 2 + len(names) * (4 + _repeat(args, document["device"]["emulated"]))
            show(banner_lines(document))
            progress.step("preparing the emulator" if document["device"]["emulated"] else "the device's clock")
            platform.warm_up(dev, progress.note)
            prepared()
            _clock(platform, dev, document["device"])
            document["versions"] = versions
            show(device_lines(document))
            if names:
                document["results"] = _bench_all(args, platform, dev, names, explicit, document, progress,
                                                 lambda result: show(result_lines(result)))
                show(summary_lines(document["results"]))
        finally:
            close = getattr(dev, "close", None)
            if close is not None:
                close()
    if not table:
        stdout.write({"json": render_json, "csv": render_csv}[args.format](document))
    failed = [r["routine"] for r in document.get("results", []) if not r["verification"]["passed"]]
    stderr.writelines(f"{PROG}: verification FAILED for {name}\n" for name in failed)
    return EXIT_VERIFY if failed else EXIT_OK


def _repeat(args: argparse.Namespace, emulated: bool) -> int:
    return args.repeat or (method.EMULATOR_REPEAT if emulated else method.HARDWARE_REPEAT)


def _explicit_problem(args: argparse.Namespace, routine: Routine) -> Problem | None:
    """The problem the command line names, or None when it names no size (the default applies)."""
    size: Count | None = getattr(args, "size", None)
    shape, steps = getattr(args, "shape", None), getattr(args, "steps", None)
    if size is None and shape is None:
        return None  # a stencil --steps alone is applied to the default grid by _default_problem
    return routine.parse(size, shape, steps)


def _device(platform: Platform, dev: Any) -> dict[str, Any]:
    device = platform.device_info(dev)
    device["emulated"] = platform.is_emulated(dev)
    return device


def _clock(platform: Platform, dev: Any, device: dict[str, Any]) -> None:
    try:
        device["clock_mhz"], device["clock_modelled"] = platform.clock(dev)
    except Exception as error:  # noqa: BLE001 - the clock is reported, never needed: say why it is missing
        device["clock_mhz"], device["clock_modelled"] = None, device["emulated"]
        device["clock_error"] = f"{type(error).__name__}: {error}"


def _default_problem(args: argparse.Namespace, routine: Routine, emulated: bool) -> tuple[Problem, str | None]:
    """The routine's default size, or its emulator default, with a note saying which and why."""
    steps = getattr(args, "steps", None)
    if emulated and routine.emulator_default is not None:
        chosen = routine.emulator_default
        note = (f"emulator default size: the Pi default {routine.default.label} is "
                f"{_work_ratio(routine, routine.default, chosen):.0f}x the work and takes a minute or more on the "
                "emulator (give --size to run it anyway)")
    else:
        chosen, note = routine.default, None
    if steps is not None:
        chosen = routine.parse(None, "x".join(str(chosen[d]) for d in ("rows", "cols")), steps)
    return chosen, note


def _work_ratio(routine: Routine, big: Problem, small: Problem) -> float:
    """How many times more work `big` is than `small` (flops, or bytes when there are none)."""
    if routine.flops(small):
        return routine.flops(big) / routine.flops(small)
    return routine.bytes_moved(big) / routine.bytes_moved(small)


def _bench_all(args: argparse.Namespace, platform: Platform, dev: Any, names: list[str],
               explicit: dict[str, Problem | None], document: dict[str, Any], progress: Progress,
               done: Callable[[dict[str, Any]], None]) -> list[dict[str, Any]]:
    """Measure each routine; `done` receives each result as soon as it is complete."""
    emulated = document["device"]["emulated"]
    repeat = _repeat(args, emulated)
    results = []
    for name in names:
        routine = ROUTINES[name]
        problem, note = (explicit[name], None) if explicit[name] is not None else _default_problem(args, routine, emulated)
        settings = method.Settings(repeat=args.repeat, clock_mhz=document["device"]["clock_mhz"],
                                   progress=lambda label, n=name: progress.step(f"{n}: {label}"),
                                   watch=progress.watch)
        try:
            result = method.bench_routine(platform, dev, routine, problem, settings)
        except Exception as error:  # noqa: BLE001 - a routine that raises has no verified result
            result = method.failed_result(routine, problem, repeat, emulated, f"{type(error).__name__}: {error}")
        result["problem"]["note"] = note
        if getattr(args, "profile", None) is not None:
            _write_profile(args.profile, platform, dev, routine, problem, result, emulated, progress)
        result["device"] = document["device"]
        result["versions"] = document["versions"]
        results.append(result)
        done(result)
    return results


def _write_profile(directory: Path, platform: Platform, dev: Any, routine: Routine, problem: Problem,
                   result: dict[str, Any], emulated: bool, progress: Progress) -> None:
    """`--profile DIR`: the profiled run's files; notes go to the terminal, never to stdout."""
    if not emulated:
        progress.above(progress.stream, f"{PROG}: --profile: skipped, profiles come from the emulator's cycle model "
                                        "(use --device emulator)\n")
        return
    from vc6_isa.emulator.warmup import COMPILE_SECONDS, PROFILED_ENTRY, compiled

    first = "" if compiled(PROFILED_ENTRY) else f" (first time: compiling the profiler, one time, ~{COMPILE_SECONDS:.0f} s)"
    progress.step(f"{routine.name}: profiling{first}")
    written, note = write_profile(directory, method.profile_run(platform, dev, routine, problem),
                                  {**result, "device": result.get("device") or {}})
    lines = [f"--profile: wrote {', '.join(str(p) for p in written)} (modelled)"] + ([note] if note else [])
    progress.above(progress.stream, "".join(f"{PROG}: {line}\n" for line in lines))


if __name__ == "__main__":
    console()

"""The `vc6-bench selftest` subcommand: its options, choosing the device under test, the output.

Exit codes: 0 the GPU agrees with the emulator and its cycle model, 1 something differs (the
report says what), 2 usage error, 3 no Raspberry Pi GPU here.
"""

from __future__ import annotations

import argparse
import os
from typing import Any, TextIO

from ..platform import Platform, RealPlatform
from ..progress import Progress
from ..report import render_json
from .defaults import (
    DEFAULT_MAX_LANES,
    DEFAULT_TIMING_TOLERANCE,
    DEFAULT_TRACE_LIMIT,
    SIZES,
)

__all__ = ["FAKE_HARDWARE_ENV", "add_arguments", "main"]

#: Environment variable with the same meaning as ``--fake-hardware``.
FAKE_HARDWARE_ENV = "VC6_SELFTEST_FAKE_HARDWARE"
DEFAULT_REPORT = "vc6-bench-selftest.json"
EXIT_OK, EXIT_DIFFERS, EXIT_USAGE, EXIT_NO_PI = 0, 1, 2, 3
SUMMARY = "check the emulator and its cycle model against this Pi's GPU (writes a JSON report)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The selftest's options. Those the main parser also has (given before `selftest`) default to
    SUPPRESS here, so that an option given after the subcommand wins and one given before stays."""
    parser.add_argument("--device", default=argparse.SUPPRESS, metavar="NODE",
                        help="the V3D render node (default: the one whose DRM driver is v3d)")
    parser.add_argument("--json", dest="format", action="store_const", const="json", default=argparse.SUPPRESS,
                        help="print the JSON report instead of the text")
    parser.add_argument("--repeat", type=int, default=argparse.SUPPRESS, metavar="N",
                        help="timed runs per kernel on the GPU, after one warm-up (default 5)")
    parser.add_argument("--no-progress", action="store_true", default=argparse.SUPPRESS,
                        help="never draw the progress bar")
    parser.add_argument("--report", default=DEFAULT_REPORT, metavar="PATH",
                        help=f"where to write the JSON report (default {DEFAULT_REPORT}; '' writes none)")
    parser.add_argument("--only", metavar="NAMES",
                        help="comma-separated name prefixes or globs of the programs to run, e.g. 'alu.,kernel.*:small'")
    parser.add_argument("--sizes", default=",".join(SIZES), metavar="SIZES",
                        help="kernel sizes: small (vc6-bench's warm-up size), pi (its default), or both (default)")
    parser.add_argument("--timing-tolerance", type=float, default=DEFAULT_TIMING_TOLERANCE, metavar="F",
                        help=f"flag a kernel whose measured cycles differ from the modelled by more than this "
                             f"fraction (default {DEFAULT_TIMING_TOLERANCE})")
    parser.add_argument("--max-lanes", type=int, default=DEFAULT_MAX_LANES, metavar="N",
                        help=f"differing words listed per program (all are counted; default {DEFAULT_MAX_LANES})")
    parser.add_argument("--trace-limit", type=int, default=DEFAULT_TRACE_LIMIT, metavar="N",
                        help="thread-instructions above which differences are not traced to instructions "
                             f"(default {DEFAULT_TRACE_LIMIT})")
    parser.add_argument("--ports", metavar="DIR",
                        help="the ported py-videocore6 hardware tests (default: packages/vc6-isa/tests under the "
                             "current directory, i.e. a clone of the repository; '' leaves them out)")
    parser.add_argument("--list", action="store_true", help="list the programs and exit")
    parser.add_argument("--fake-hardware", metavar="EXECUTOR", default=os.environ.get(FAKE_HARDWARE_ENV) or None,
                        help="for testing the selftest without a Pi: use an emulated device with this executor "
                             "(entry point name or module:callable, e.g. vc6_bench.selftest.perturb:flip_bit) "
                             f"as the 'hardware' (env {FAKE_HARDWARE_ENV})")


def main(args: argparse.Namespace, stdout: TextIO, stderr: TextIO, platform: Platform | None = None) -> int:
    """Run the subcommand; return the exit code."""
    from .render import render_text
    from .runner import (  # the emulator and the cases: imported only when used
        Options,
        programs,
        run,
        select_ports,
    )

    if args.format == "csv":
        stderr.write("vc6-bench selftest: error: the report has no CSV form; use --json or the default text\n")
        return EXIT_USAGE
    try:
        sizes = tuple(s.strip() for s in args.sizes.split(",") if s.strip())
        selected = programs(args.only, sizes, select_ports(args.ports)[0])
    except ValueError as error:
        stderr.write(f"vc6-bench selftest: error: {error}\n")
        return EXIT_USAGE
    if not selected:
        stderr.write(f"vc6-bench selftest: error: --only {args.only!r} matches no program (see --list)\n")
        return EXIT_USAGE
    if args.list:
        stdout.writelines(f"{p.name}\n" for p in selected)
        return EXIT_OK
    hardware, problem = _open_hardware(args)
    if hardware is None:
        stderr.write(f"vc6-bench selftest: {problem}\n")
        return EXIT_NO_PI if problem.startswith("no Raspberry Pi GPU") else EXIT_USAGE
    progress = Progress(total=len(selected) + 1, stream=stderr, enabled=not args.no_progress)
    options = Options(only=args.only, sizes=sizes, repeat=args.repeat, timing_tolerance=args.timing_tolerance,
                      max_lanes=args.max_lanes, trace_limit=args.trace_limit, ports=args.ports,
                      progress=progress.step)
    try:
        document = run(hardware, options=options, platform=platform or RealPlatform())
    finally:
        progress.finish()
        hardware.close()
    stdout.write(render_json(document) if args.format == "json" else render_text(document))
    if args.report:
        _write(args.report, document)
        (stderr if args.format == "json" else stdout).write(
            f"report: {os.path.abspath(args.report)} (attach it to a bug report)\n")
    return EXIT_OK if document["summary"]["agree"] else EXIT_DIFFERS


def _open_hardware(args: argparse.Namespace) -> tuple[Any, str]:
    """The device under test, or None and a one-line reason."""
    import v3d_drm

    if args.fake_hardware:
        try:
            return v3d_drm.open("emulator", executor=args.fake_hardware), ""
        except v3d_drm.V3DError as error:
            return None, f"error: --fake-hardware {args.fake_hardware!r}: {str(error).splitlines()[0]}"
    node = args.device
    if node == "emulator":
        return None, "error: the selftest compares a GPU with the emulator; give a V3D render node, not 'emulator'"
    if node is None:
        from v3d_drm.backends.kernel import find_v3d_node

        node, tried = find_v3d_node()
        if node is None:
            return None, ("no Raspberry Pi GPU here (no V3D render node; " + "; ".join(tried)[:120]
                          + "): run this on a Pi 4, where it compares the GPU with the emulator")
    try:
        return v3d_drm.open(node), ""
    except (v3d_drm.DeviceNotFound, v3d_drm.PermissionDenied) as error:
        return None, f"no Raspberry Pi GPU here ({node}: {str(error).splitlines()[0]})"


def _write(path: str, document: dict[str, Any]) -> None:
    with open(path, "w", encoding="utf-8") as file:
        file.write(render_json(document))

"""`python -m v3d_drm` (also `v3d-drm-info`): say which V3D device is available and what it is."""

from __future__ import annotations

import argparse
import sys

from . import open as open_device
from .clock import gpu_clock_mhz
from .errors import V3DError
from .status import StatusLine
from .warmup import warm_up

DESCRIPTION = "Say which V3D device is available (a Raspberry Pi 4 render node, or the emulator) and what it is."


def build_parser() -> argparse.ArgumentParser:
    """The command's argument parser (the docs' command-line reference is generated from it).

    Returns:
        The parser of `python -m v3d_drm`.
    """
    parser = argparse.ArgumentParser(prog="python -m v3d_drm", description=DESCRIPTION)
    parser.add_argument("--device", help='a /dev/dri node, or "emulator" (default: env V3D_DEVICE, else auto)')
    parser.add_argument("--executor", help='emulator executor: entry point name or "module:callable"')
    parser.add_argument("--clock", action="store_true", help="also measure the QPU clock with a timed job")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Print what the device is (and its clock with `--clock`).

    Args:
        argv: The arguments, without the program name (default: `sys.argv[1:]`).

    Returns:
        The exit status: 0, or 1 when no device could be opened.
    """
    args = build_parser().parse_args(argv)
    doing = {"now": "opening the device"}
    status = StatusLine(describe=lambda: doing["now"])
    try:
        with open_device(args.device, executor=args.executor) as dev, status:
            text = str(dev.info)
            if dev.info.emulated:
                text += ("\n  note:           this is an EMULATED V3D 4.2 (Raspberry Pi 4 values); "
                         "timings from it are modelled, not measured")
            status.above(sys.stdout, text + "\n")
            if args.clock:
                doing["now"] = "compiling the emulator"
                warm_up(dev, status.note)
                doing["now"] = "measuring the QPU clock"
                status.above(sys.stdout, f"  QPU clock:      {gpu_clock_mhz(dev)}\n")
    except V3DError as exc:
        print(f"v3d_drm: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

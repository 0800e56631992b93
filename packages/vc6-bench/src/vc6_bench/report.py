"""Render a vc6-bench document (the JSON-shaped dict built by the CLI) as a table, JSON or CSV.

The JSON document is the single source: the table and the CSV are views of it. Wherever a figure
comes from the emulator's cycle model the table says "modelled"; the emulator's own wall time is
printed as the emulator's, never as Pi 4 performance.
"""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Any

from vc6_isa.emulator.cycle_model import CALIBRATION_ERROR

from . import ceilings

__all__ = [
    "EMULATOR_BANNER",
    "banner_lines",
    "device_lines",
    "render_csv",
    "render_json",
    "render_table",
    "result_lines",
    "summary_lines",
    "title_lines",
]

EMULATOR_BANNER = (
    "EMULATOR: no Raspberry Pi GPU here. GPU times and the rates derived from them are MODELLED by the\n"
    "emulator's cycle model of a 500 MHz Pi 4 (labelled 'modelled'), calibrated on py-videocore6's Pi 4\n"
    f"timings to ±{CALIBRATION_ERROR * 100:.0f}% (benchmarks/calibrate.py). The emulator's own wall time is "
    "reported apart\nand is not Pi 4 performance."
)


# ---- JSON and CSV ------------------------------------------------------------------------------


def render_json(document: dict[str, Any]) -> str:
    return json.dumps(_finite(document), indent=2) + "\n"


def _finite(value: Any) -> Any:
    """JSON has no inf/nan: write them as strings so the document stays standard JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def render_csv(document: dict[str, Any]) -> str:
    """One row per routine; columns are the result's fields flattened with dots (gpu.seconds.median)."""
    rows = [_flatten(result) for result in document.get("results", [])]
    if not rows:
        rows = [_flatten({k: v for k, v in document.items() if k != "results"})]
    columns: list[str] = []
    for row in rows:
        columns += [key for key in row if key not in columns]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(_flatten(item, f"{prefix}{key}."))
        return flat
    return {prefix[:-1]: "" if value is None else value}


# ---- the table ---------------------------------------------------------------------------------


def render_table(document: dict[str, Any]) -> str:
    """The whole table: what the CLI streams piece by piece, in the same order."""
    lines = title_lines(document) + banner_lines(document) + device_lines(document)
    for result in document.get("results", []):
        lines += result_lines(result)
    lines += summary_lines(document.get("results", []))
    return "\n".join(lines) + "\n"


def title_lines(document: dict[str, Any]) -> list[str]:
    """The first line: tool, version, command (known before any device is opened)."""
    return [f"vc6-bench {document['versions'].get('vc6-bench') or ''} {document['command']}".rstrip()]


def banner_lines(document: dict[str, Any]) -> list[str]:
    """The EMULATOR banner when the device is emulated (known once it is open)."""
    device = document.get("device")
    return EMULATOR_BANNER.splitlines() if device and device.get("emulated") else []


def device_lines(document: dict[str, Any]) -> list[str]:
    """The device line (with its clock), and what `info` and `clock` print."""
    device = document.get("device")
    lines = [_device_line(device)] if device else []
    if document["command"] == "info":
        lines += _info_lines(document)
    elif document["command"] == "clock":
        lines.append(_clock_line(document["device"]))
    return lines


def result_lines(result: dict[str, Any]) -> list[str]:
    """One routine's details, printed as soon as it has been measured."""
    return ["", *_details(result)]


def summary_lines(results: list[dict[str, Any]]) -> list[str]:
    """The one-row-per-routine table, after the details, when there is more than one routine."""
    return ["", *_summary(results)] if len(results) > 1 else []


def _device_line(device: dict[str, Any]) -> str:
    where = device.get("node") or device.get("executor") or ""
    return (
        f"device: {device['backend']}{f' ({where})' if where else ''}, V3D {device['v3d_version']}, "
        f"{device['qpus']} QPUs, QPU clock {_clock_text(device)}"
    )


def _clock_text(device: dict[str, Any]) -> str:
    if device.get("clock_mhz") is None:
        return "unknown"
    how = "modelled" if device["clock_modelled"] else "measured from the perf counters"
    return f"{device['clock_mhz']:.1f} MHz ({how})"


def _clock_line(device: dict[str, Any]) -> str:
    why = f" ({device['clock_error']})" if device.get("clock_mhz") is None and device.get("clock_error") else ""
    return f"QPU clock: {_clock_text(device)}{why}"


def _info_lines(document: dict[str, Any]) -> list[str]:
    lines = ["", "versions:"]
    for name, version in document["versions"].items():
        lines.append(f"  {name:<12} {version if version is not None else 'not installed'}")
    return lines


_SUMMARY_COLUMNS = ("routine", "size", "GPU time", "Gflop/s", "MB/s", "% of ceiling", "numpy", "speed-up",
                    "vs py-videocore6", "check")


def _summary(results: list[dict[str, Any]]) -> list[str]:
    rows = [_SUMMARY_COLUMNS]
    modelled = False
    for r in results:
        gpu = r.get("gpu") or {}
        modelled |= bool(gpu.get("modelled"))
        mark = "*" if gpu.get("modelled") else ""
        rows.append((
            r["routine"],
            r["problem"]["label"],
            _seconds((gpu.get("seconds") or {}).get("median")) + mark,
            _number(gpu.get("gflops")) + (mark if gpu.get("gflops") is not None else ""),
            _number(gpu.get("mb_per_s")) + (mark if gpu.get("mb_per_s") is not None else ""),
            _shares(gpu) + (mark if _shares(gpu) != "-" else ""),
            _seconds(((r.get("baseline") or {}).get("seconds") or {}).get("median")),
            _speedup((r.get("baseline") or {}).get("speedup")) + (mark if (r.get("baseline") or {}).get("speedup") else ""),
            _ratio((r.get("py_videocore6") or {}).get("speedup")) + (mark if (r.get("py_videocore6") or {}).get("speedup") else ""),
            _verdict(r["verification"]),
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(_SUMMARY_COLUMNS))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    if modelled:
        lines.append(f"* modelled by the emulator's cycle model of a 500 MHz Pi 4 (calibrated on py-videocore6's Pi 4 "
                     f"timings{_band(results)}); numpy is timed on this host's CPU")
    return lines


def _band(results: list[dict[str, Any]]) -> str:
    """", ±N% calibration error" of the modelled figures in ``results`` ("" if none carry one)."""
    errors = {(r.get("gpu") or {}).get("calibration_error") for r in results} - {None}
    return "".join(f", ±{e * 100:.0f}% calibration error" for e in sorted(errors))


def _details(r: dict[str, Any]) -> list[str]:
    lines = [f"{r['routine']}: {r['summary']}, {r['problem']['label']}"]
    if r["problem"].get("note"):
        lines.append(f"  note: {r['problem']['note']}")
    method = r["method"]
    if method.get("repeat_note"):
        lines.append(f"  note: {method['repeat_note']}")
    if r.get("error"):
        lines.append(f"  ERROR: {r['error']}")
    lines.append(f"  {'verification':<22}{_verification_text(r['verification'])}")
    gpu = r.get("gpu")
    if gpu and gpu.get("seconds"):
        label = "modelled" if gpu["modelled"] else "measured"
        band = f" (±{gpu['calibration_error'] * 100:.0f}% calibration error)" if gpu.get("calibration_error") else ""
        lines.append(f"  {f'GPU time ({label})':<22}{_spread_text(gpu['seconds'])}{band}")
        rate = _rate_text(gpu)
        if rate:
            lines.append(f"  {f'rate ({label})':<22}{rate}{band}")
    emulator = r.get("emulator")
    if emulator:
        lines.append(
            f"  {'emulator (this host)':<22}wall {_spread_text(emulator['wall_seconds'])}; "
            f"{_number(emulator['thread_instructions_per_second'])} thread-instructions/s "
            f"({emulator['thread_instructions']} thread-instructions) - the emulator's speed, not the Pi's"
        )
        lines.append(
            f"  {'cycle model':<22}{emulator['modelled_cycles']} cycles at {emulator['modelled_clock_mhz']:.0f} MHz "
            f"(modelled{_band([r])}), ALU utilisation {emulator['alu_utilisation']:.1%} (modelled), "
            f"TMU {emulator['tmu_requests']} requests / {_bytes_text(emulator['tmu_bytes'])}"
        )
    counters = r.get("counters")
    if counters:
        label = "counters (modelled)" if counters["modelled"] else "counters (perfmon)"
        values = ", ".join(f"{k} {v}" for k, v in counters["values"].items())
        busy = counters.get("compute_active_seconds")
        if busy is not None:
            values += f"; compute active {_seconds(busy)}"
        lines.append(f"  {label:<22}{values}")
    overhead = r.get("dispatch_overhead")
    if overhead:
        lines.append(f"  {'dispatch overhead':<22}{_overhead_text(overhead)}")
    staging = r.get("staging") or {}
    if staging.get("to_device_seconds"):
        lines.append(
            f"  {'staging (not in GPU)':<22}to device {_seconds(staging['to_device_seconds']['median'])}, "
            f"from device {_seconds((staging.get('from_device_seconds') or {}).get('median'))} (median, host copies)"
        )
    baseline = r.get("baseline")
    if baseline and baseline.get("seconds"):
        lines.append(f"  {'numpy baseline':<22}{_baseline_text(baseline)}")
    pv6 = r.get("py_videocore6")
    if pv6:
        lines.append(f"  {'py-videocore6':<22}{_pv6_text(pv6)}")
    return lines


def _pv6_text(pv6: dict[str, Any]) -> str:
    speedup = f"; this routine {_ratio(pv6['speedup'])} as fast ({pv6['speedup_note']})" if pv6["speedup"] else ""
    return (f"{pv6['program']}: {_seconds(pv6['measured_seconds'])} measured on a Pi 4, "
            f"{_seconds(pv6['modelled_seconds'])} modelled{speedup}")


def _verification_text(v: dict[str, Any]) -> str:
    if not v["passed"]:
        return f"FAILED: {v.get('message')}"
    kind = "exact match" if v["exact_expected"] else f"max abs error {v['max_abs_error']:.3g}, max rel error {v['max_rel_error']:.3g}"
    return f"passed ({v['runs_checked']} runs checked against numpy; {kind})"


def _rate_text(gpu: dict[str, Any]) -> str:
    parts = []
    if gpu.get("gflops") is not None:
        share = gpu.get("share_of_peak_flops")
        peak = f" = {share:.1%} of the {ceilings.PEAK_FLOPS / 1e9:.0f} Gflop/s peak" if share is not None else ""
        parts.append(f"{_number(gpu['gflops'])} Gflop/s{peak}")
    if gpu.get("mb_per_s") is not None:
        share = gpu.get("share_of_peak_bandwidth")
        peak = f" = {share:.1%} of the {ceilings.PEAK_BYTES_PER_SECOND / 1e6:.0f} MB/s LPDDR4 ceiling" if share is not None else ""
        parts.append(f"{_number(gpu['mb_per_s'])} MB/s{peak}")
    return "; ".join(parts)


def _overhead_text(overhead: dict[str, Any]) -> str:
    wall = overhead["wall_seconds"]
    if overhead.get("modelled_seconds") is not None:
        return (
            f"{_seconds(overhead['modelled_seconds'])} on the GPU (modelled); {_seconds(wall['median'])} "
            f"emulator wall, median ({overhead['what']})"
        )
    return f"{_spread_text(wall)} ({overhead['what']})"


def _baseline_text(baseline: dict[str, Any]) -> str:
    rates = []
    if baseline.get("gflops") is not None:
        rates.append(f"{_number(baseline['gflops'])} Gflop/s")
    if baseline.get("mb_per_s") is not None:
        rates.append(f"{_number(baseline['mb_per_s'])} MB/s")
    speedup = baseline.get("speedup")
    tail = f"; GPU speed-up {_speedup(speedup)} ({baseline['speedup_note']})" if speedup else ""
    return f"median {_seconds(baseline['seconds']['median'])}, {', '.join(rates)} on this host{tail}"


def _spread_text(s: dict[str, Any]) -> str:
    if s["runs"] == 1:
        return f"{_seconds(s['median'])} (1 run)"
    return f"min {_seconds(s['min'])}  median {_seconds(s['median'])}  max {_seconds(s['max'])} ({s['runs']} runs)"


def _shares(gpu: dict[str, Any]) -> str:
    parts = []
    if gpu.get("share_of_peak_flops") is not None:
        parts.append(f"{gpu['share_of_peak_flops']:.1%} flop")
    if gpu.get("share_of_peak_bandwidth") is not None:
        parts.append(f"{gpu['share_of_peak_bandwidth']:.1%} mem")
    return ", ".join(parts) or "-"


def _verdict(v: dict[str, Any]) -> str:
    if not v["passed"]:
        return "FAILED"
    return "exact" if v["exact_expected"] else "ok"


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if value >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value / 1e-9:.3g} ns"


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 1e5:
        return f"{value:.3g}"
    return f"{value:#.4g}" if value < 100 else f"{value:.0f}"  # '#': 1.000, not a bare 1


def _speedup(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}x"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def _bytes_text(nbytes: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if nbytes >= scale:
            return f"{nbytes / scale:.3g} {unit}"
    return f"{nbytes} B"

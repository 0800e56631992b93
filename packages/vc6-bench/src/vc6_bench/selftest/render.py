"""The selftest report as text: one line per program, every differing word under its program with
the instruction behind it, then the kernels' measured against modelled times.

The JSON document (`vc6_bench.selftest.run`) is the source; this is a view of it.
"""

from __future__ import annotations

from typing import Any

from vc6_isa.emulator.cycle_model import modelled_label

from ..report import _seconds

__all__ = ["render_text"]

NAME_WIDTH = 44


def render_text(document: dict[str, Any]) -> str:
    """The report as lines of text.

    Args:
        document: A report of `run` (or read back from its JSON).

    Returns:
        The text, ending with a newline.
    """
    lines = ["vc6-bench selftest: the GPU against the emulator, bit for bit and cycle for cycle",
             _device_line("hardware", document["hardware"]), _device_line("emulator", document["model"])]
    if document["hardware"]["emulated"]:
        lines.append("NOTE: the 'hardware' is an EMULATED device (test mode): its differences are deliberate")
    results = document["programs"]
    lines += ["", f"values (every word compared; {len(results)} programs):"]
    if document.get("ports_note"):
        lines.append(f"  note: {document['ports_note']}")
    for entry in results:
        lines += _value_lines(entry)
    timed = [r for r in results if r.get("timing") and r["kind"] == "kernel"]
    if timed:
        tolerance = document["settings"]["timing_tolerance"]
        lines += ["", (f"timing (kernels; median of {document['settings']['repeat']} run(s) after 1 warm-up; "
                      f"flagged beyond +-{tolerance:.0%}):")]
        lines += _timing_lines(timed)
    lines += _case_timing_lines([r for r in results if r.get("timing") and r["kind"] == "case"])
    lines += ["", _summary_line(document["summary"])]
    return "\n".join(lines) + "\n"


def _device_line(role: str, device: dict[str, Any]) -> str:
    where = device.get("node") if device["backend"] == "kernel" else device.get("executor")
    clock = "clock unknown"
    if device.get("clock_mhz") is not None:
        how = "modelled" if device["clock_modelled"] else "measured"
        clock = f"QPU clock {device['clock_mhz']:.1f} MHz ({how})"
    return f"{role + ':':<10}{device['backend']} ({where}), V3D {device['version_full']}, {device['qpus']} QPUs, {clock}"


def _value_lines(entry: dict[str, Any]) -> list[str]:
    name = entry["name"]
    if entry.get("error"):
        return [f"  {name:<{NAME_WIDTH}} ERROR: {entry['error']}"]
    values = entry["values"]
    if not values["differing_words"]:
        verdict = f"{values['compared_words']} words, all equal"
    else:
        verdict = f"{values['differing_words']} of {values['compared_words']} words DIFFER"
    lines = [f"  {name:<{NAME_WIDTH}} {verdict}"]
    for diff in values["differences"]:
        lines += _difference_lines(diff)
    if values["listed"] < values["differing_words"]:
        lines.append(f"      ... {values['differing_words'] - values['listed']} more in the JSON report's count "
                     "(raise --max-lanes to list them)")
    if values["differing_words"] and values.get("provenance") and values["provenance"].startswith("not traced"):
        lines.append(f"      instructions {values['provenance']}")
    lines += _expectation_lines(entry)
    return lines


def _difference_lines(diff: dict[str, Any]) -> list[str]:
    where = f"{diff['buffer']}[{', '.join(str(i) for i in diff['index'])}]"
    lane = f" lane {diff['lane']}" if diff["lane"] is not None else ""
    lines = [f"    {where}{lane}: GPU {diff['hardware']}, emulator {diff['emulator']} (bits {diff['bits']})"]
    produced, stored = diff.get("instruction"), diff.get("stored_by")
    if produced is not None:
        lines.append(f"      computed by {_step(produced)}")
    if stored is not None:
        lines.append(f"      stored by   {_step(stored)}")
    return lines


def _step(step: dict[str, Any]) -> str:
    return f"pc {step['pc']} `{step['disassembly']}` (QPU {step['qpu']} thread {step['thread']})"


def _expectation_lines(entry: dict[str, Any]) -> list[str]:
    checked = entry.get("expectation") or entry.get("verification") or {}
    if not entry["values"]["differing_words"] and not checked.get("sides_disagree"):
        return []
    if entry["kind"] in ("case", "port"):
        expectation = entry.get("expectation") or {}
        if expectation.get("hardware") is None:
            return []
        return [f"      documented expectation: GPU {_short(expectation['hardware'])}; emulator {_short(expectation['emulator'])}"]
    verification = entry.get("verification") or {}
    return [(f"      against numpy: GPU {_check(verification.get('hardware'))}; "
            f"emulator {_check(verification.get('emulator'))}")]


def _check(check: dict[str, Any] | None) -> str:
    if check is None:
        return "-"
    return "passed" if check["passed"] else _short(f"FAILED ({check.get('message')})")


def _short(text: str, limit: int = 60) -> str:
    """`text` cut to `limit` characters (the JSON report has it whole)."""
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def _timing_lines(timed: list[dict[str, Any]]) -> list[str]:
    rows = [("program", "measured", "modelled", "ratio", "")]
    for entry in timed:
        timing = entry["timing"]
        measured, modelled = timing["measured"], timing["modelled"]
        cycles = (measured.get("cycles") or {}).get("median")
        rows.append((
            entry["name"],
            _cycles(cycles, measured.get("seconds")) if cycles is not None
            else f"wall {_seconds((measured.get('wall_seconds') or {}).get('median'))}",
            _cycles(modelled.get("cycles"), modelled.get("seconds")) + f" ({modelled_label()})",
            f"{timing['ratio']:.3f}" if timing["ratio"] is not None else "-",
            "DIFFERS" + _counter_hint(timing) if timing["flagged"] else "",
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return ["  " + "  ".join(cell.ljust(w) for cell, w in zip(row, (*widths, 0))).rstrip() for row in rows]


def _case_timing_lines(timed: list[dict[str, Any]]) -> list[str]:
    """One line for the cases' cycle counts: recorded for calibration, never flagged."""
    ratios = sorted(r["timing"]["ratio"] for r in timed if r["timing"]["ratio"] is not None)
    if not ratios:
        return []
    median = ratios[len(ratios) // 2]
    return ["", "timing (cases; recorded, not flagged: job start-up dominates programs this short):",
            (f"  measured/modelled cycles ({modelled_label()}): median {median:.3f}, range {ratios[0]:.3f} to {ratios[-1]:.3f} "
            f"over {len(ratios)} cases")]


def _counter_hint(timing: dict[str, Any]) -> str:
    """The perf counter whose measured/modelled ratio is furthest from 1: where the time went."""
    ratios = {k: v for k, v in timing.get("counter_ratios", {}).items()
              if k not in ("cycle-count", "compute-active-cycles") and v}
    if not ratios:
        return ""
    name = max(ratios, key=lambda k: max(ratios[k], 1 / ratios[k]))
    return f" (furthest counter: {name} x{ratios[name]:.2f})"


def _cycles(cycles: float | None, seconds: float | None) -> str:
    if cycles is None:
        return "-"
    return f"{int(cycles)} cycles" + (f" = {_seconds(seconds)}" if seconds else "")


def _summary_line(summary: dict[str, Any]) -> str:
    if summary["agree"]:
        return f"summary: all {summary['programs']} programs agree with the emulator and its cycle model"
    parts = []
    if summary["values_differ"]:
        parts.append(f"{len(summary['values_differ'])} differ in values ({summary['differing_words']} words)")
    if summary["timing_differs"]:
        parts.append(f"{len(summary['timing_differs'])} differ in timing")
    if summary["expectation_differs"]:
        parts.append(f"{len(summary['expectation_differs'])} meet their documented expectation on one side only")
    if summary["errors"]:
        parts.append(f"{len(summary['errors'])} raised errors")
    return f"summary: of {summary['programs']} programs, " + "; ".join(parts)

"""MkDocs hook: the performance page's tables, from a saved `vc6-bench all --json` run.

Our figures are not typed into the page: `docs/data/bench-emulator.json` is the output of

    vc6-bench all --json --no-progress > docs/data/bench-emulator.json

(on the emulator, so every GPU time in it is modelled), and the marker `<!-- perf:compare -->`
becomes a table of those figures beside py-videocore6's published Pi 4 measurements, converted
to the same units. `<!-- perf:run -->` says which run the figures come from.
"""

from __future__ import annotations

import json
from pathlib import Path

_DATA = Path(__file__).resolve().parents[1] / "data" / "bench-emulator.json"

#: py-videocore6's README (Idein/py-videocore6): its examples on a Pi 4, measured wall time.
#: routine -> (problem as the README states it, seconds, the README's rate, what the rate counts)
PY_VIDEOCORE6_PI4 = {
    "sgemm": ("1024 x 1024 times 1024 x 1024", 0.5546, "3.878 Gflop/s", "flops"),
    "summation": ("32 Mi uint32 elements", 0.01853448400004254, "7241.5 MB/s", "bytes read"),
    "memset": ("64 MiB", 0.01788834699993913, "3751.5 MB/s", "bytes written"),
    "scopy": ("16 Mi float32 elements", 0.02768789600000332, "2423.8 MB/s", "bytes copied once"),
}


def _run() -> dict:
    return json.loads(_DATA.read_text(encoding="utf-8"))


def _rate(routine: str, result: dict, seconds: float) -> str:
    """Our modelled rate in py-videocore6's unit (scopy: bytes copied once, as it counts)."""
    if routine == "sgemm":
        return f"{result['work']['flops'] / seconds / 1e9:.2f} Gflop/s"
    nbytes = result["work"]["bytes"]
    if routine == "scopy":  # vc6-bench counts read + write; py-videocore6 the bytes copied once
        nbytes //= 2
    return f"{nbytes / seconds / 1e6:.1f} MB/s"


def _calibration(result: dict) -> str:
    """The model's calibration error as the run reports it (`gpu.calibration_error`, a fraction)."""
    error = result["gpu"].get("calibration_error")
    if error is None:
        return "not yet calibrated"
    return f"±{error * 100:.0f}%" if isinstance(error, (int, float)) else str(error)


def _compare() -> str:
    rows = [
        (
            "| routine | problem | py-videocore6, Pi 4 (**measured**) | this project (**modelled**) "
            "| modelled / measured time | model calibration error |"
        ),
        "|---|---|---|---|---|---|",
    ]
    for result in _run()["results"]:
        routine = result["routine"]
        seconds = result["gpu"]["seconds"]["median"]
        ours = f"{seconds * 1e3:.1f} ms, {_rate(routine, result, seconds)}"
        if routine in PY_VIDEOCORE6_PI4:
            problem, theirs_s, theirs_rate, _ = PY_VIDEOCORE6_PI4[routine]
            theirs = f"{theirs_s * 1e3:.1f} ms, {theirs_rate}"
            ratio = f"{seconds / theirs_s:.2f}"
        else:
            problem, theirs, ratio = result["problem"]["label"], "(no published figure)", ""
        rows.append(
            f"| `{routine}` | {problem} | {theirs} | {ours} | {ratio} | {_calibration(result)} |"
        )
    return "\n".join(rows)


def _run_note() -> str:
    run = _run()
    versions = run["versions"]
    device = run["device"]
    return (
        f"Run: `vc6-bench all --json` on the {device['backend']} device "
        f"({device['executor']}, {device['clock_mhz']:.0f} MHz modelled clock), vc6 packages "
        f"{versions['vc6-bench']}, numpy {versions['numpy']}, Python {versions['python']}, "
        f"on {versions.get('machine', 'an unnamed machine')}."
    )


def on_page_markdown(markdown: str, **kwargs) -> str:
    """Replace the `<!-- perf:compare -->` and `<!-- perf:run -->` marker lines."""
    if "<!-- perf:" not in markdown:
        return markdown
    return markdown.replace("<!-- perf:compare -->", _compare()).replace(
        "<!-- perf:run -->", _run_note()
    )

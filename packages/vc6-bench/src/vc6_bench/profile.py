"""`vc6-bench ROUTINE --profile DIR`: where one emulated run's modelled cycles went, written as
an annotated disassembly, a Perfetto timeline and (with matplotlib, `pip install
vc6-bench[plot]`) a roofline plot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from vc6_isa.emulator.profile import Profile, annotate, trace_events

from . import ceilings

#: What `write_profile` says when matplotlib is missing.
NO_MATPLOTLIB = "roofline plot skipped: matplotlib is not installed (pip install 'vc6-bench[plot]')"


def merged_timeline(profiles: list[Profile]) -> dict[str, Any]:
    """The trace events of a run's jobs, one after another on each QPU's track.

    Args:
        profiles: The profiles of the run's jobs, in dispatch order.

    Returns:
        A Chrome trace-event document (`traceEvents`), timestamps in modelled microseconds.
    """
    events: list[dict[str, Any]] = []
    seen: set[tuple[str, int, int]] = set()  # each track's metadata once
    offset = 0.0
    for n, p in enumerate(profiles):
        for ev in trace_events(p, start_us=offset, job=n)["traceEvents"]:
            if ev["ph"] == "M":
                key = (ev["name"], ev["pid"], ev["tid"])
                if key in seen:
                    continue
                seen.add(key)
            events.append(ev)
        offset += p.cycles / p.clock_mhz
    return {"traceEvents": events, "displayTimeUnit": "ns"}


def write_roofline(result: dict[str, Any], directory: Path) -> list[Path]:
    """Plot the routine's modelled result against the compute and memory roofs, as PNG and SVG.

    Args:
        result: The routine's result record (`method.bench_routine`).
        directory: Where to write `roofline.png` and `roofline.svg`.

    Returns:
        The files written.

    Raises:
        ImportError: matplotlib is not installed.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    work, gpu = result["work"], result["gpu"]
    clock = result["device"].get("clock_mhz") or ceilings.NOMINAL_CLOCK_MHZ
    peak, bw = ceilings.peak_flops_at(clock), ceilings.PEAK_BYTES_PER_SECOND
    intensity = np.logspace(-3, 3, 200)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.loglog(intensity, np.minimum(peak, intensity * bw) / 1e9, "k-", label="roofs (peak flops, DRAM bandwidth)")
    seconds = gpu["seconds"]["median"] if gpu.get("seconds") else None
    if work["flops"] and work["bytes"] and seconds:
        ai = work["flops"] / work["bytes"]
        ax.loglog([ai], [work["flops"] / seconds / 1e9], "o", label=f"{result['routine']} (modelled)")
        base = (result.get("baseline") or {}).get("seconds") or {}
        if base.get("median"):
            ax.loglog([ai], [work["flops"] / base["median"] / 1e9], "s", label="numpy on this host")
    ax.set_xlabel("arithmetic intensity (flop / byte)")
    ax.set_ylabel("Gflop/s")
    ax.set_title(f"{result['routine']} {result['problem']['label']}: roofline (modelled)")
    ax.legend(fontsize="small")
    out = [directory / "roofline.png", directory / "roofline.svg"]
    for path in out:
        fig.savefig(path)
    plt.close(fig)
    return out


def write_profile(directory: str | Path, profiles: list[Profile], result: dict[str, Any]) -> tuple[list[Path], str | None]:
    """Write `annotate.txt`, `timeline.json` and, with matplotlib, `roofline.png`/`.svg`.

    Args:
        directory: The output directory (created if missing).
        profiles: The profiles of one run's jobs.
        result: The routine's result record.

    Returns:
        The files written, and a note for the user (why the roofline is missing) or None.
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    text = "\n\n".join(f"== job {n} of {len(profiles)} ==\n{annotate(p)}" for n, p in enumerate(profiles))
    (out / "annotate.txt").write_text(text + "\n", encoding="utf-8")
    (out / "timeline.json").write_text(json.dumps(merged_timeline(profiles)), encoding="utf-8")
    written = [out / "annotate.txt", out / "timeline.json"]
    try:
        written += write_roofline(result, out)
    except ImportError:
        return written, NO_MATPLOTLIB
    return written, None

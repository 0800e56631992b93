"""`vc6-bench ROUTINE --profile DIR`: where one emulated run's modelled cycles went, written as
an annotated disassembly, a Perfetto timeline and (with matplotlib, `pip install
vc6-bench[plot]`) a roofline plot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from vc6_isa.emulator import CycleModel, modelled_label
from vc6_isa.emulator.profile import TIMELINE_STATES, Profile, annotate, trace_events

from . import ceilings

#: What `write_profile` says when matplotlib is missing.
NO_MATPLOTLIB = ("roofline plot and timeline picture skipped: matplotlib is not installed "
                 "(pip install 'vc6-bench[plot]')")


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


def memory_roofs(result: dict[str, Any], model: CycleModel | None = None) -> dict[str, float]:
    """The calibrated memory roofs in bytes/s: reads, writes, and the routine's own mix of them.

    Reads and writes share one bus in the cycle model (each byte books `1 / dram_read_gbps` or
    `1 / dram_write_gbps` of it), so a routine that reads `r` and writes `w` bytes cannot move
    them faster than `(r + w) / (r / read + w / write)`.

    Args:
        result: The routine's result record (`work.bytes`, `work.bytes_written`).
        model: The cycle model (default: the calibrated one).

    Returns:
        `read`, `write` and `mix` (the routine's roof), in bytes per second.
    """
    model = model or CycleModel()
    read, write = model.dram_read_gbps * 1e9, model.dram_write_gbps * 1e9
    total = result["work"]["bytes"]
    written = min(result["work"].get("bytes_written", 0), total)
    mix = total / ((total - written) / read + written / write) if total else read
    return {"read": read, "write": write, "mix": mix}


def write_roofline(result: dict[str, Any], directory: Path) -> list[Path]:
    """Plot the routine's modelled result against the compute roof and the separate read and
    write memory roofs, as PNG and SVG: a roofline (flop/s against flop/byte) and the bytes/s
    it moves against the read, write and mixed roofs (for routines without flops, the only
    panel that says anything).

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
    peak, roofs = ceilings.peak_flops_at(clock), memory_roofs(result)
    seconds = gpu["seconds"]["median"] if gpu.get("seconds") else None
    base = ((result.get("baseline") or {}).get("seconds") or {}).get("median")
    intensity = np.logspace(-3, 3, 200)
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(10, 4))
    ax.loglog(intensity, np.full_like(intensity, peak / 1e9), "k-", label=f"compute roof ({peak / 1e9:.0f} Gflop/s)")
    for name, style in (("read", "C0-"), ("write", "C3--")):
        ax.loglog(intensity, np.minimum(peak, intensity * roofs[name]) / 1e9, style,
                  label=f"{name} roof ({roofs[name] / 1e9:.2f} GB/s)")
    if 0 < work.get("bytes_written", 0) < work["bytes"]:
        ax.loglog(intensity, np.minimum(peak, intensity * roofs["mix"]) / 1e9, "C2:",
                  label=f"its read/write mix ({roofs['mix'] / 1e9:.2f} GB/s)")
    if work["flops"] and work["bytes"] and seconds:
        ai = work["flops"] / work["bytes"]
        ax.loglog([ai], [work["flops"] / seconds / 1e9], "o", label=f"{result['routine']} (modelled)")
        if base:
            ax.loglog([ai], [work["flops"] / base / 1e9], "s", label="numpy on this host")
    ax.set_xlabel("arithmetic intensity (flop / byte)")
    ax.set_ylabel("Gflop/s")
    ax.set_title("roofline (modelled)")
    ax.legend(fontsize="x-small")
    bars = {f"{result['routine']}\n(modelled)": work["bytes"] / seconds / 1e9 if seconds else 0.0}
    if base:
        bars["numpy on\nthis host"] = work["bytes"] / base / 1e9
    bx.bar(list(bars), list(bars.values()), color=["C1", "C4"][: len(bars)])
    for name, style in (("read", "C0-"), ("write", "C3--"), ("mix", "C2:")):
        bx.axhline(roofs[name] / 1e9, linestyle=style[2:], color=style[:2],
                   label=f"{'its read/write mix' if name == 'mix' else name + ' roof'} ({roofs[name] / 1e9:.2f} GB/s)")
    bx.set_ylabel("GB/s (compulsory bytes)")
    bx.set_title("memory traffic against the roofs (modelled)")
    bx.legend(fontsize="x-small")
    fig.suptitle(f"{result['routine']} {result['problem']['label']} ({modelled_label()})", fontsize="medium")
    fig.tight_layout()
    out = [directory / "roofline.png", directory / "roofline.svg"]
    for path in out:
        fig.savefig(path)
    plt.close(fig)
    return out


#: Colours of the timeline states in `timeline_figure` (index: `TIMELINE_STATES`).
STATE_COLOURS = ("#2ca02c", "#d62728", "#c7c7c7", "#8c564b", "#aec7e8", "#9467bd", "#f7f7f7", "#ff7f0e", "#e377c2")


def timeline_figure(profiles: dict[str, Profile], qpus: int | None = None):
    """A picture of profiled jobs' timelines: per job a panel, in it one row per QPU track and
    thread track, each tiled by its states (`TIMELINE_STATES`) in modelled cycles.

    Args:
        profiles: Title of each panel to the job's `Profile`.
        qpus: Draw only the first `qpus` QPUs (default: all).

    Returns:
        The matplotlib `Figure` (save it with `savefig`).

    Raises:
        ImportError: matplotlib is not installed.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    heights = [min(qpus or len(p.qpu_end), len(p.qpu_end)) * (1 + p.threads) for p in profiles.values()]
    fig, axes = plt.subplots(len(profiles), 1, figsize=(10, 1.2 + 0.18 * sum(heights)), sharex=True,
                             gridspec_kw={"height_ratios": heights}, squeeze=False)
    used: set[int] = set()
    for ax, (title, p) in zip(axes[:, 0], profiles.items(), strict=True):
        shown = min(qpus or len(p.qpu_end), len(p.qpu_end))
        labels = []
        for q in range(shown):
            for t in range(-1, p.threads):
                track = q if t < 0 else len(p.qpu_end) + q * p.threads + t
                rows = p.timeline[p.timeline[:, 0] == track]
                y = len(labels)
                for state in set(rows[:, 1].tolist()):
                    mine = rows[rows[:, 1] == state]
                    ax.broken_barh(list(zip(mine[:, 2].tolist(), (mine[:, 3] - mine[:, 2]).tolist(), strict=True)),
                                   (y - 0.4, 0.8), facecolors=STATE_COLOURS[state], edgecolor="none")
                    used.add(state)
                labels.append(f"QPU {q}" if t < 0 else f"  thread {t}")
        ax.set_yticks(range(len(labels)), labels, fontsize="x-small")
        ax.invert_yaxis()
        ax.set_title(f"{title}: {p.cycles} cycles", fontsize="small", loc="left")
    axes[-1, 0].set_xlabel(f"cycles ({modelled_label()})")
    fig.legend(handles=[Patch(facecolor=STATE_COLOURS[s], edgecolor="0.5", label=TIMELINE_STATES[s])
                        for s in sorted(used)], loc="upper right", fontsize="x-small", ncol=len(used))
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    return fig


def write_timeline(profiles: dict[str, Profile], path: str | Path, qpus: int | None = None) -> Path:
    """Save `timeline_figure(profiles, qpus)` to `path` (PNG or SVG, by its suffix).

    Args:
        profiles: Title of each panel to the job's `Profile`.
        path: The file to write.
        qpus: Draw only the first `qpus` QPUs (default: all).

    Returns:
        The path written.

    Raises:
        ImportError: matplotlib is not installed.
    """
    import matplotlib.pyplot as plt

    fig = timeline_figure(profiles, qpus)
    fig.savefig(path, metadata={"Date": None} if str(path).endswith(".svg") else None)
    plt.close(fig)
    return Path(path)


def write_profile(directory: str | Path, profiles: list[Profile], result: dict[str, Any]) -> tuple[list[Path], str | None]:
    """Write `annotate.txt`, `timeline.json` and, with matplotlib, `roofline.png`/`.svg` and a
    picture of the timeline, `timeline.png`.

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
    (out / "timeline.json").write_text(json.dumps(merged_timeline(profiles), separators=(",", ":")), encoding="utf-8")
    written = [out / "annotate.txt", out / "timeline.json"]
    try:
        written += write_roofline(result, out)
        written.append(write_timeline({f"job {n}": p for n, p in enumerate(profiles)}, out / "timeline.png"))
    except ImportError:
        return written, NO_MATPLOTLIB
    return written, None

"""Progress on stderr: a live bar on a terminal, plain lines in a log, nothing for short runs.

On a terminal the bar (steps done, the current step, the running job's own progress when its
`Job.progress()` reports one, elapsed time) is redrawn from a background thread by
`v3d_drm.status.StatusLine`, so it moves during a long emulated job, and the report lines
printed through `Progress.above` appear above it. Anywhere else (a pipe, a file, a CI log) each
step that starts once the run has lasted `SHOW_AFTER_SECONDS` gets one plain line, and nothing
is ever redrawn. Standard output carries only the report, so `--json`/`--csv` stay clean.
"""

from __future__ import annotations

from typing import Any, Self, TextIO

from v3d_drm.status import StatusLine

__all__ = ["Progress"]

SHOW_AFTER_SECONDS = 1.5
BAR_WIDTH = 24


class Progress:
    """Counts `total` steps; `step(label)` marks the start of the next one."""

    def __init__(self, total: int, stream: TextIO | None = None, enabled: bool = True) -> None:
        self.status = StatusLine(stream, describe=self.describe, enabled=enabled, show_after=SHOW_AFTER_SECONDS)
        self.stream = self.status.stream
        self.enabled = self.status.live
        self.total = max(total, 1)
        self.done = -1
        self.label = "starting"
        self.jobs: list[Any] = []

    def __enter__(self) -> Self:
        self.status.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.finish()

    def describe(self) -> str:
        """The live line: bar, steps, current step and the running job's own progress."""
        done = max(self.done, 0)
        filled = BAR_WIDTH * done // self.total
        text = f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{self.total} {self.label}"
        fraction = _job_progress(self.jobs)
        return text if fraction is None else f"{text}, job {fraction:.0%}"

    def step(self, label: str) -> None:
        """Start the next step; `label` says what it is."""
        self.done = min(self.done + 1, self.total)
        self.label = label
        self.jobs = []
        if self.status.elapsed() < self.status.show_after:
            return
        if self.status.live:
            self.status.redraw()
        elif self.status.enabled:
            self.status.note(f"{self.done}/{self.total} {label} ({self.status.elapsed():.1f} s)")

    def watch(self, jobs: list[Any]) -> None:
        """Show the progress of the last job in `jobs` (a list the caller keeps appending to)."""
        self.jobs = jobs

    def note(self, text: str) -> None:
        """A line that stays (e.g. "compiling the emulator ..."), on a terminal or not."""
        self.status.note(text)

    def above(self, out: TextIO, text: str) -> None:
        """Write report text to `out` without mixing it with the bar."""
        self.status.above(out, text)

    def finish(self) -> None:
        """Stop the bar and erase it, so the report continues on a clean line."""
        self.status.close()


def _job_progress(jobs: list[Any]) -> float | None:
    """The running job's `progress()` (0..1), when it has one (v3d-drm jobs that report it)."""
    if not jobs:
        return None
    progress = getattr(jobs[-1], "progress", None)  # never ask ``done`` here: it may collect the job
    if not callable(progress):
        return None
    value = progress()
    # None: the device cannot say. 0: nothing finished yet, which for a job whose few batches
    # all run at once (sgemm: one per QPU) lasts until the end; the elapsed time says more.
    return min(float(value), 1.0) if value else None

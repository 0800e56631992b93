"""A progress bar on stderr, shown only on a terminal and only once a run has lasted a while.

Short runs print nothing extra, and piped or redirected output (`--json > file`) never gets
control characters.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["Progress"]

SHOW_AFTER_SECONDS = 1.5
BAR_WIDTH = 24


class Progress:
    """Counts `total` steps; `step(label)` marks the start of the next one."""

    def __init__(self, total: int, stream: TextIO | None = None, enabled: bool = True) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled and _is_terminal(self.stream)
        self.total = max(total, 1)
        self.done = -1
        self.start = time.monotonic()
        self.drawn = False

    def step(self, label: str) -> None:
        self.done = min(self.done + 1, self.total)
        elapsed = time.monotonic() - self.start
        if not self.enabled or elapsed < SHOW_AFTER_SECONDS:
            return
        filled = BAR_WIDTH * self.done // self.total
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        self.stream.write(f"\r[{bar}] {self.done}/{self.total} {label[:40]:<40} {elapsed:6.1f} s")
        self.stream.flush()
        self.drawn = True

    def finish(self) -> None:
        """Erase the bar so the report starts on a clean line."""
        if self.drawn:
            self.stream.write("\r" + " " * (BAR_WIDTH + 60) + "\r")
            self.stream.flush()
            self.drawn = False


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False

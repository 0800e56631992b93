"""A live status line for command-line tools (`python -m v3d_drm`, `vc6-bench`).

On a terminal, one line on the status stream (stderr) is redrawn by a background thread every
`INTERVAL` seconds once the command has run for `SHOW_AFTER` seconds: the caller's
`describe()` text and the elapsed time, so the screen keeps moving during a long emulated job
(between the emulator's slices; a compiled call that holds the GIL pauses it). Anything else
written to the terminal goes through `StatusLine.above`, which erases the live line first, so
output and status never mix. On anything but a terminal (a pipe, a file, a CI log) nothing is
redrawn: `note` prints plain lines and the live line is never drawn. Standard output gets only
what the caller writes through `above`; machine-readable output stays clean.
"""

from __future__ import annotations

import shutil
import sys
import threading
import time
from collections.abc import Callable
from typing import Self, TextIO

__all__ = ["INTERVAL", "SHOW_AFTER", "StatusLine"]

SHOW_AFTER = 1.0  # seconds before the live line first appears: short commands never show it
INTERVAL = 0.25  # seconds between redraws
_ERASE = "\r\x1b[K"  # carriage return + erase to the end of the line (VT100, every terminal)


def is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class StatusLine:
    """A redrawn line on a terminal, plain notes elsewhere. Use as a context manager.

    Args:
        stream: where the status goes (default `sys.stderr`).
        describe: returns the text of the live line (called from the drawing thread).
        enabled: False draws nothing and prints no notes (`--no-progress`).
        show_after: seconds before the live line first appears.
    """

    def __init__(self, stream: TextIO | None = None, describe: Callable[[], str] = lambda: "",
                 enabled: bool = True, show_after: float = SHOW_AFTER) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.describe = describe
        self.enabled = enabled
        self.live = enabled and is_terminal(self.stream)
        self.show_after = show_after
        self.start = time.monotonic()
        self._lock = threading.RLock()
        self._drawn = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Self:
        if self.live:
            self._thread = threading.Thread(target=self._tick, name="status-line", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def _tick(self) -> None:
        while not self._stop.wait(INTERVAL):
            self.redraw()

    def redraw(self) -> None:
        """Draw the live line now (a terminal only, once `SHOW_AFTER` has passed)."""
        if not self.live or self.elapsed() < self.show_after:
            return
        try:
            text = self.describe()
        except Exception as error:  # noqa: BLE001 - a failing description must not kill the display
            text = f"({type(error).__name__}: {error})"
        tail = f"  {self.elapsed():.1f} s"
        width = max(shutil.get_terminal_size().columns - 1, 20)
        with self._lock:
            if self._stop.is_set():
                return
            self.stream.write(_ERASE + text[: width - len(tail)] + tail)
            self.stream.flush()
            self._drawn = True

    def _erase(self) -> None:
        if self._drawn:
            self.stream.write(_ERASE)
            self.stream.flush()
            self._drawn = False

    def above(self, out: TextIO, text: str) -> None:
        """Write `text` to `out` (stdout, say) with the live line out of its way."""
        with self._lock:
            self._erase()
            out.write(text)
            out.flush()
        self.redraw()

    def note(self, text: str) -> None:
        """A message that stays: a line of its own, above the live line on a terminal."""
        if self.enabled:
            self.above(self.stream, text + "\n")

    def close(self) -> None:
        """Stop redrawing and erase the live line."""
        with self._lock:
            self._stop.set()
            self._erase()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=1.0)

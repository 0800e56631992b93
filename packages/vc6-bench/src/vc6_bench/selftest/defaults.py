"""The selftest's defaults, in a module light enough for the CLI to import at start-up."""

from __future__ import annotations

__all__ = ["DEFAULT_MAX_LANES", "DEFAULT_TIMING_TOLERANCE", "DEFAULT_TRACE_LIMIT", "FORMAT", "SIZES"]

#: The report's format name; bump the number when a field changes meaning.
FORMAT = "vc6-bench-selftest/1"
#: Measured and modelled cycles of a kernel may differ by this fraction before the timing is flagged.
DEFAULT_TIMING_TOLERANCE = 0.10
#: Programs whose emulated run executes more thread-instructions than this are not traced for
#: provenance (tracing runs Python per instruction: about 10^5 instructions per second).
DEFAULT_TRACE_LIMIT = 2_000_000
#: Differing words listed per program (all are counted).
DEFAULT_MAX_LANES = 512
#: Kernel sizes: vc6-bench's warm-up size and its Pi default.
SIZES = ("small", "pi")

"""The selftest's defaults, in a module light enough for the CLI to import at start-up."""

from __future__ import annotations

__all__ = ["DEFAULT_MAX_LANES", "DEFAULT_TIMING_TOLERANCE", "DEFAULT_TRACE_LIMIT", "FORMAT", "SIZES"]

#: The report's format name; bump the number when a field changes meaning.
FORMAT = "vc6-bench-selftest/1"
#: Measured and modelled cycles of a kernel may differ by this fraction before the timing is flagged.
DEFAULT_TIMING_TOLERANCE = 0.10
#: Programs whose emulated run executes more thread-instructions than this are not traced for
#: provenance. Tracing runs Python per instruction (the emulator builds a trace record with its
#: disassembly at every step): memset at its Pi default, 2.9 million thread-instructions, took
#: 10 minutes on a busy 2-core x86 host, so the limit keeps a trace under a minute or so.
DEFAULT_TRACE_LIMIT = 200_000
#: Differing words listed per program (all are counted).
DEFAULT_MAX_LANES = 512
#: Kernel sizes: vc6-bench's warm-up size and its Pi default.
SIZES = ("small", "pi")

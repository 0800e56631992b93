"""`vc6-bench selftest`: check the emulator and the cycle model against a Raspberry Pi 4's GPU.

    import v3d_drm
    from vc6_bench import selftest
    with v3d_drm.open() as gpu:              # the V3D render node of a Pi 4
        report = selftest.run(gpu)           # JSON-ready document
    print(selftest.render_text(report))
"""

from importlib import import_module
from typing import Any

# Re-exported lazily: ``vc6-bench`` imports the subcommand's options at start-up, and the runner
# brings in the emulator and the case library (about 2 s), which only ``selftest`` itself needs.
_EXPORTS = {
    "Comparison": "compare", "Difference": "compare", "differences": "compare",
    "Origin": "provenance", "ProvenanceExecutor": "provenance",
    "render_text": "render",
    "GroundTruth": "truth", "load_ground_truth": "truth",
    "FORMAT": "defaults", "Options": "runner", "Program": "runner", "programs": "runner", "run": "runner",
}

__all__ = ["FORMAT", "Comparison", "Difference", "GroundTruth", "Options", "Origin", "Program",
           "ProvenanceExecutor", "differences", "load_ground_truth", "programs", "render_text", "run"]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

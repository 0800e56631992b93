"""``vc6-bench selftest``: check the emulator and the cycle model against a Raspberry Pi 4's GPU.

    import v3d_drm
    from vc6_bench import selftest
    with v3d_drm.open() as gpu:              # the V3D render node of a Pi 4
        report = selftest.run(gpu)           # JSON-ready document
    print(selftest.render_text(report))
"""

from .compare import Comparison, Difference, differences
from .provenance import Origin, ProvenanceExecutor
from .render import render_text
from .run import FORMAT, Options, Program, programs, run

__all__ = ["FORMAT", "Comparison", "Difference", "Options", "Origin", "Program", "ProvenanceExecutor",
           "differences", "programs", "render_text", "run"]

"""Port of py-videocore6 tests/test_labels.py (ran on a Pi 4): the same label name in
different (and nested) namespaces names different places. The program is py-videocore6's
(re-typed in test_asm_pyvc6)."""

from __future__ import annotations

import numpy as np
from hw_support import pi, run
from test_asm_pyvc6 import qpu_label_with_namespace


def test_label_with_namespace():
    with pi() as drv:
        code = drv.program(qpu_label_with_namespace)
        data = drv.alloc(16, dtype=np.uint32)
        unif = drv.alloc(1, dtype=np.uint32)
        data[:] = 1234
        unif[0] = data.address
        run(drv, code, unif)
        assert (data == 5).all()  # five branches, each skipping its `+ 10`

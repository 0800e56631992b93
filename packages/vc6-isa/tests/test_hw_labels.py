# ruff: noqa: B018  (DSL labels are expressions: `L.name` places a label)
"""Port of py-videocore6 tests/test_labels.py (ran on a Pi 4): the same label name in
different (and nested) namespaces names different places."""

from __future__ import annotations

import numpy as np
from hw_support import finish, pi, run
from vc6_isa.asm import *


def _skip_one_add():
    """Branch over `r0 += 10` to `r0 += 1`, via this namespace's label `test`."""
    b(R.test, cond="always")
    nop()
    nop()
    nop()
    add(r0, r0, 10)
    L.test
    add(r0, r0, 1)


@qpu
def namespaced_labels(asm):
    mov(r0, 0)
    with namespace("ns1"):
        _skip_one_add()
        with namespace("nested"):
            _skip_one_add()
    with namespace("ns2"):
        _skip_one_add()
    _skip_one_add()  # the top-level `test`
    with namespace("ns3"):
        _skip_one_add()
    eidx(r1, sig=ldunifrf(rf2))
    shl(r1, r1, 2)
    mov(tmud, r0)
    add(tmua, rf2, r1)
    tmuwt()
    finish()


def test_label_with_namespace():
    with pi() as drv:
        code = drv.program(namespaced_labels)
        data = drv.alloc(16, dtype=np.uint32)
        unif = drv.alloc(1, dtype=np.uint32)
        data[:] = 1234
        unif[0] = data.address
        run(drv, code, unif)
        assert (data == 5).all()  # five branches, each skipping its `+ 10`

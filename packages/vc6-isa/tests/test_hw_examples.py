"""py-videocore6's examples/sgemm.py program (ran on a Pi 4, re-typed in test_asm_pyvc6) through
vc6_isa.compat on the emulator, at a small size: 8 batches of one 16-invocation workgroup
(Appendix G.1), each computing a 2 x 4 block of C = alpha * A B + beta * C with accumulators
kept across its thread switches (G.2)."""

from __future__ import annotations

import numpy as np
from hw_support import pi, run, seeded
from test_asm_pyvc6 import qpu_sgemm_rnn_naive

BATCHES = 8


def test_sgemm_example_program():
    p, q, r = 64, 32, 128  # the program needs p % 32 == 0 and r % 64 == 0 (2 x 4 blocks)
    rng = seeded("test_sgemm_example_program")
    with pi() as drv:
        code = drv.program(qpu_sgemm_rnn_naive, BATCHES)
        a = drv.alloc((p, q), dtype=np.float32)
        b = drv.alloc((q, r), dtype=np.float32)
        c = drv.alloc((p, r), dtype=np.float32)
        alpha, beta = np.float32(rng.standard_normal()), np.float32(rng.standard_normal())
        a[:] = rng.standard_normal(a.shape)
        b[:] = rng.standard_normal(b.shape)
        c[:] = rng.standard_normal(c.shape)
        want = alpha * (np.array(a) @ np.array(b)) + beta * np.array(c)
        rows, cols = p // 2, r // 4
        params = drv.alloc((BATCHES, 11), dtype=np.uint32)
        for k in range(BATCHES):
            i, j = divmod(k, 4)  # batch k computes block (i, j)
            params[k] = [
                rows, q, cols,
                a.addresses()[rows * i, 0], a.strides[0],
                b.addresses()[0, cols * j], b.strides[0],
                c.addresses()[rows * i, cols * j], c.strides[0],
                alpha.view(np.uint32), beta.view(np.uint32),
            ]  # fmt: skip
        unif = drv.alloc(2, dtype=np.uint32)
        unif[:] = [params.address, params.shape[1]]
        run(drv, code, unif, thread=BATCHES)
        assert drv.last_job.stats.batches == BATCHES
        assert np.allclose(c, want, rtol=1e-4, atol=1e-4)

"""Every routine's program, at sizes that reach every code path, under the emulator's strict
hazard checks (explicitly on), and proof that strict mode is not silently ignored."""

import numpy as np
import pytest
import vc6_isa.emulator
import vc6_kernels

STRICT = {"strict": True}


@pytest.mark.parametrize("n", [1, 17, 1025, 2048 + 4099])
def test_vector_routines_are_hazard_free(dev, n):
    buf = dev.array((n + 4,), np.float32)
    out = dev.array((n + 4,), np.float32)
    buf[...] = 1.0
    with vc6_kernels.record(executor_options=STRICT) as rec:
        for off in (0, 1):
            vc6_kernels.summation(buf[off : off + n])
            vc6_kernels.scopy(buf[off : off + n], out[off : off + n])
            vc6_kernels.scopy(buf[off : off + n], out[1 - off : 1 - off + n])
            vc6_kernels.memset(out[off : off + n].view(np.uint8), 3)
            vc6_kernels.memset(out[off : off + n].view(np.uint16), 3)
    assert len(rec.jobs) == 10 and all(job.done for job in rec.jobs)


@pytest.mark.parametrize(
    "m,n,k", [(1, 1, 1), (17, 33, 2), (16, 32, 3), (33, 65, 4), (5, 7, 9)]
)
@pytest.mark.parametrize("beta", [0.0, 1.0])
def test_sgemm_and_stencil_are_hazard_free(rng, m, n, k, beta):
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    c = np.zeros((m, n), np.float32)
    with vc6_kernels.record(executor_options=STRICT) as rec:
        vc6_kernels.sgemm(a, b, c, beta=beta)
        vc6_kernels.stencil(rng.standard_normal((m + 2, n + 2)).astype(np.float32), 2)
    assert len(rec.jobs) == 3


def test_strict_mode_reaches_the_emulator(dev):
    """A program that breaks a strict-only rule (reading an accumulator undefined at thread
    start) fails with the options the routines pass and runs without them, so the passing
    tests above mean the strict checks ran."""
    from vc6_isa.asm import add, assemble, nop, qpu, r0, thrsw

    @qpu
    def bad(asm):
        add(r0, r0, r0)
        nop(sig=thrsw)
        nop()
        nop()

    words = assemble(bad).words
    job = dev.dispatch(words, [0], single_seg=True, executor_options=STRICT)
    with pytest.raises(vc6_isa.emulator.QPUError, match="undefined"):
        job.wait()
    dev.dispatch(words, [0], single_seg=True, executor_options={"strict": False}).wait()

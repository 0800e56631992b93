"""vc6_isa.compat: py-videocore6's Driver API on v3d_drm (here on the emulated device)."""

from __future__ import annotations

import numpy as np
import pytest
import v3d_drm
from test_emulator_support import epilogue
from vc6_isa.asm import *
from vc6_isa.compat import Array, Driver, DriverError


@qpu
def lane_ids(asm):
    """out[batch * 16 + lane] = tidx-derived batch number * 16 + lane, by per-pixel TMU writes;
    uniforms: the output address."""
    tidx(r0, sig=ldunifrf(rf0))
    shr(r0, r0, 2)  # QPU number: one batch per QPU with 8 batches
    shl(r1, r0, 4)
    eidx(r2)
    add(r1, r1, r2)
    shl(r0, r1, 2).mov(tmud, r1)
    add(tmua, rf0, r0)
    epilogue()


@pytest.fixture(scope="module")
def drv():
    with Driver(device="emulator", data_area_size=1 << 20) as d:
        yield d


def test_alloc_lays_arrays_out_one_after_another(drv):
    a = drv.alloc((3, 5), dtype=np.uint32)
    b = drv.alloc(7, dtype=np.float32)
    c = drv.alloc(2)
    assert isinstance(a, Array) and a.shape == (3, 5) and a.dtype == np.uint32
    assert c.dtype == np.float64  # numpy's default, as in py-videocore6
    assert b.address == a.address + a.nbytes and c.address == b.address + b.nbytes
    assert (a.addresses()[1] == a.address + 20 + 4 * np.arange(5)).all()
    a[:] = 7
    assert (a == 7).all()


def test_program_goes_to_the_code_area(drv):
    code = drv.program(lane_ids)
    assert code.dtype == np.uint64
    assert (code == assemble(lane_ids).words).all()
    assert code.address < drv.alloc(1, dtype=np.uint32).address  # code area comes first
    words = drv.program(list(assemble(lane_ids).words))
    assert words.address == code.address + code.nbytes


def test_execute_8_batches_of_one_workgroup_all_lanes_write(drv):
    # py-videocore6's way to use the 8 QPUs: one 16-invocation workgroup, thread=8 batches.
    # On hardware every lane of every batch takes part (reference Appendix G.1).
    code = drv.program(lane_ids)
    out = drv.alloc(8 * 16, dtype=np.uint32)
    unif = drv.alloc(1, dtype=np.uint32)
    unif[0] = out.address
    out[:] = 0xFFFFFFFF
    drv.execute(code, local_invocation=(16, 1, 1), uniforms=unif.addresses()[0], thread=8)
    assert (out == np.arange(128)).all()
    assert drv.last_job.stats.batches == 8


def test_older_positional_execute_form(drv):
    code = drv.program(lane_ids)
    out = drv.alloc(8 * 16, dtype=np.uint32)
    unif = drv.alloc(1, dtype=np.uint32)
    unif[0] = out.address
    drv.execute(code, unif.addresses()[0], thread=8)  # (code, uniforms, ...) as memset does
    assert (out == np.arange(128)).all()
    cfg = drv.last_job.description
    assert "16x1x1 workgroups of 16" in cfg  # workgroup=(16, 1, 1) was count and size then


def test_dispatcher_waits_when_the_block_ends(drv):
    code = drv.program(lane_ids)
    outs = [drv.alloc(8 * 16, dtype=np.uint32) for _ in range(2)]
    unif = drv.alloc(2, dtype=np.uint32)
    unif[:] = [o.address for o in outs]
    with drv.compute_shader_dispatcher() as csd:
        for k in range(2):
            csd.dispatch(code, (16, 1, 1), unif.addresses()[k], thread=8)
    for out in outs:
        assert (out == np.arange(128)).all()


def test_timeout_is_a_modelled_time_bound_on_the_emulator(drv):
    @qpu
    def spin(asm):
        with loop as l:
            l.b()
            nop()
            nop()
            nop()

    code = drv.program(spin)
    with pytest.raises(v3d_drm.V3DError, match="cycle budget"):
        drv.execute(code, timeout_sec=1e-5)


def test_bad_arguments_are_refused_before_submitting(drv):
    code = drv.program(lane_ids)
    with pytest.raises(v3d_drm.InvalidArgument, match="local_invocation"):
        drv.execute(code, local_invocation=16)
    with pytest.raises(v3d_drm.InvalidArgument, match="unexpected argument"):
        drv.execute(code, threads=8)
    with pytest.raises(DriverError, match="data_area_size"):
        drv.alloc(1 << 30, dtype=np.uint8)


def test_closed_driver():
    d = Driver(device="emulator", code_area_size=4096, data_area_size=4096)
    with pytest.raises(DriverError, match="code_area_size"):
        d.program([0] * 1024)
    d.close()
    d.close()
    with pytest.raises(DriverError, match="closed"):
        d.alloc(4)

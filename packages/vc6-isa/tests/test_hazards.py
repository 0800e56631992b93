# ruff: noqa: F811, B018  (pytest fixtures imported from test_emulator_support; DSL labels are expressions)
"""Strict mode: one program per hazard rule; each must raise QPUError (or MMUFault) whose
message names the QPU, thread, pc, the instruction's disassembly and the rule."""

from __future__ import annotations

import numpy as np
import pytest
import v3d_drm
from test_emulator_support import dev, end_program, epilogue, probe, prologue, store  # noqa: F401
from vc6_isa.asm import *
from vc6_isa.emulator import QPUError


def run(dev, body, *, options=None, **kw):
    out = dev.array((4, 16), np.uint32)

    @qpu
    def kernel(asm):
        prologue()
        body()

    try:
        job = dev.dispatch(assemble(kernel), [out.address, out.address], bos=[out], executor_options=options, **kw)
        job.wait()
        return job
    finally:
        out.close()


def expect(dev, body, rule, text, **kw):
    with pytest.raises(QPUError) as info:
        run(dev, body, **kw)
    err = info.value
    msg = str(err)
    assert f"rule {rule}" in msg and err.rule == rule
    assert "QPU 0 thread 0 pc" in msg
    assert text in err.disassembly, err.disassembly
    assert f"`{err.disassembly}`" in msg
    return err


def test_r4_read_right_after_legacy_sfu_write(dev):
    def body():
        mov(r0, 1)
        mov(recip, r0)
        mov(r1, r4)
        epilogue()

    err = expect(dev, body, "13.2/6", "r4")
    assert "r4" in err.registers and err.registers["r4"].shape == (16,)
    assert "registers read by the instruction" in str(err)
    # strict=False: the read sees the old r4 and the program runs
    run(dev, lambda: (mov(r4, 0), mov(recip, r4), mov(r1, r4), epilogue()), options={"strict": False})


def test_branch_in_branch_delay_slot(dev):
    def body():
        b(R.x)
        b(R.x)
        nop()
        nop()
        L.x
        nop()
        nop()
        nop()
        epilogue()

    expect(dev, body, "13.3/13", "b")


def test_thrsw_in_branch_delay_slot(dev):
    def body():
        b(R.x)
        nop(sig=thrsw)
        nop()
        nop()
        L.x
        epilogue()

    expect(dev, body, "13.3/14", "thrsw")


def test_tmu_output_fifo_overflow(dev):
    def body():
        for _ in range(5):  # 4 threads per QPU: 16 / 4 = 4 words
            mov(tmua, rf[10])
        for _ in range(5):
            nop(sig=ldtmu(r0))
        epilogue()

    err = expect(dev, body, "13.6/31", "tmua", threading=True)
    assert "limit 4 with 4 threads" in str(err)


def test_ldtmu_with_nothing_pending_raises_even_when_not_strict(dev):
    def body():
        nop(sig=ldtmu(r0))
        epilogue()

    expect(dev, body, "12.1", "ldtmu")
    expect(dev, body, "12.1", "ldtmu", options={"strict": False})


def test_two_peripheral_accesses(dev):
    def body():
        mov(tmua, rf[10]).mov(recip, rf[10])
        epilogue()

    expect(dev, body, "13.1/1", "tmua")


def test_same_register_written_twice(dev):
    def body():
        add(r0, rf[10], 1).mov(r0, rf[10])
        epilogue()

    expect(dev, body, "13.1/5", "r0")


def test_ldunifa_too_soon_after_unifa(dev):
    def body():
        mov(unifa, rf[10])
        nop()
        nop(sig=ldunifa)
        epilogue()

    expect(dev, body, "13.2/9", "ldunifa")


def test_rotation_of_a_source_written_by_the_previous_instruction(dev):
    def body():
        mov(r1, 1)
        rotate(r2, r1, 2)
        epilogue()

    expect(dev, body, "13.2/10", "r1")


def test_running_past_the_end_of_the_program(dev):
    def body():
        nop()

    err = expect(dev, body, "13.4/19", "")
    assert "past the end" in str(err)


def test_register_file_write_in_the_last_instructions(dev):
    def body():
        tmuwt()
        nop(sig=thrsw)
        nop(sig=thrsw)
        nop()
        nop()
        nop(sig=thrsw)
        mov(rf[3], 1)
        nop()

    expect(dev, body, "13.5/26", "rf3")


def test_tmuwt_in_the_last_instruction(dev):
    def body():
        tmuwt()
        nop(sig=thrsw)
        nop(sig=thrsw)
        nop()
        nop()
        nop(sig=thrsw)
        nop()
        tmuwt()

    expect(dev, body, "13.5/28", "tmuwt")


def test_results_not_popped_and_writes_not_waited(dev):
    def unpopped():
        mov(tmua, rf[10])
        end_program()

    def unwaited():
        mov(tmud, 1)
        mov(tmua, rf[10])
        end_program()

    assert "not popped" in str(expect(dev, unpopped, "13.6/32", "nop"))
    # Unwaited writes at the end are a Mesa convention: py-videocore6's test_tmu_vec_read ends
    # that way on hardware (reference Appendix G), so only the "mesa" level rejects it.
    run(dev, unwaited)
    mesa = {"strict": "mesa"}
    assert "not waited" in str(expect(dev, unwaited, "13.6/32", "nop", options=mesa))


def _read_r0_after_a_switch():
    tidx(r0)  # differs between the two threads of a QPU
    nop(sig=thrsw)
    nop()
    nop()
    mov(r1, r0)
    store(r1)
    epilogue()


def test_accumulator_read_after_thread_switch(dev):
    # Alone on its QPU the thread finds r0 as it left it (Appendix G.2) ...
    out = dev.array((4, 16), np.uint32)
    prog = assemble(qpu(lambda asm: (prologue(), _read_r0_after_a_switch())))
    dev.dispatch(prog, [out.address], bos=[out]).wait()
    assert (out[0] == 0).all()  # tidx of QPU 0, thread 0
    # ... Mesa's convention treats every accumulator as lost at a switch.
    err = expect(dev, _read_r0_after_a_switch, "1.2", "r0", options={"strict": "mesa"})
    assert "after a thread switch" in str(err)


def test_accumulator_read_after_another_thread_ran(dev):
    # 9 batches on 8 QPUs: QPU 0 runs batches 0 and 8 as its two threads, so when batch 0
    # comes back from its switch the other thread has run and r0 is what it left (its tidx).
    err = expect(dev, _read_r0_after_a_switch, "1.2", "r0", batches=9)
    assert "another thread" in str(err)
    job = run(dev, _read_r0_after_a_switch, batches=9, options={"strict": False})
    assert job.stats.batches == 9


def test_accumulator_the_other_thread_left_unchanged(dev):
    # Both threads of QPU 0 keep the same value in r0 across the switch: nothing was clobbered
    # (a constant such as a row stride, as py-videocore6 programs keep in r3).
    def body():
        mov(r0, 1)
        nop(sig=thrsw)
        nop()
        nop()
        mov(r1, r0)
        epilogue()

    run(dev, body, batches=9)
    expect(dev, body, "1.2", "r0", options={"strict": "mesa"})


def test_cycle_budget(dev):
    def body():
        L.loop
        b(R.loop)
        nop()
        nop()
        nop()

    err = expect(dev, body, "4.8 (uapi)", "", options={"cycle_budget": 100_000})
    assert "100000 cycles" in str(err)


def test_memory_access_outside_every_bo(dev):
    def body():
        mov(r0, 1)
        shl(r0, r0, -2)  # 1 << 30: no BO there
        mov(tmua, r0)
        nop(sig=ldtmu(r1))
        epilogue()

    with pytest.raises(v3d_drm.MMUFault) as info:
        run(dev, body)
    assert info.value.address == 1 << 30
    assert info.value.nearest is not None
    assert "QPU 0 thread 0 pc" in str(info.value) and "tmua" in str(info.value)


def test_thrsw_rules(dev):
    def too_close():
        nop(sig=thrsw)
        nop()
        nop(sig=thrsw)
        epilogue()

    def second_marker():
        nop(sig=thrsw)
        nop(sig=thrsw)
        nop()
        nop()
        nop(sig=thrsw)
        nop(sig=thrsw)
        epilogue()

    def sfu_in_delay_slot():
        nop(sig=thrsw)
        mov(recip, rf[10])
        nop()
        epilogue()

    run(dev, too_close)  # two apart runs on hardware (Appendix G.3): a Mesa convention
    expect(dev, too_close, "13.4/17", "thrsw", options={"strict": "mesa"})
    expect(dev, second_marker, "13.4/17", "thrsw")
    expect(dev, sfu_in_delay_slot, "13.4/20", "recip")


def test_unifa_rules(dev):
    def branch_after_unifa():
        mov(unifa, rf[10])
        b(R.x)
        nop()
        nop()
        nop()
        L.x
        epilogue()

    def unifa_across_switch():
        nop(sig=thrsw)
        nop()
        mov(unifa, rf[10])
        nop()
        nop()
        nop()
        epilogue()

    run(dev, branch_after_unifa)  # works on hardware (Appendix G.4): a Mesa convention
    expect(dev, branch_after_unifa, "13.3/15", "b", options={"strict": "mesa"})
    expect(dev, unifa_across_switch, "13.4/23", "unifa")


def test_upper_register_file_in_4_thread_mode(dev):
    def body():
        mov(rf[40], 1)
        epilogue()

    expect(dev, body, "1.3", "rf40", threading=True)
    run(dev, body)  # 2 threads per QPU: rf0-rf63 belong to the thread


def test_wrtmuc_consumes_a_uniform(dev):
    out = dev.array((16,), np.uint32)

    @qpu
    def kernel(asm):
        prologue()
        nop(sig=wrtmuc)
        nop(sig=ldunif)
        mov(r0, r5)
        store(r0)
        epilogue()

    dev.dispatch(assemble(kernel), [out.address, 111, 222], bos=[out]).wait()
    assert (np.array(out) == 222).all()
    out.close()

"""The emulator's error messages fit a terminal and a page: the rule first, then where, then
the job; one part per line, no line wider than 100 columns."""

from __future__ import annotations

import numpy as np
import pytest
import v3d_drm
from vc6_isa.asm import *
from vc6_isa.emulator import QPUError
from vc6_isa.emulator.executor import MESSAGE_WIDTH
from vc6_isa.emulator.hazards import rule_anchor


@qpu
def _fifo_overflow(asm):
    # nine 32-bit loads in flight with 2 threads per QPU (limit 8): rule 13.6/31, with a register dump
    eidx(r0, sig=ldunif)
    shl(r0, r0, 2)
    add(r0, r0, r5)
    for _ in range(9):
        mov(tmua, r0)
    for _ in range(9):
        nop(sig=ldtmu(r1))
    nop(sig=thrsw)
    nop()
    nop()


@qpu
def _outside_every_buffer(asm):
    mov(r0, 0)
    mov(tmua, r0)
    nop(sig=ldtmu(r1))
    nop(sig=thrsw)
    nop()
    nop()


def test_hazard_message_order_and_width() -> None:
    with v3d_drm.open("emulator") as dev:
        data = dev.array(16 * 9, np.uint32)
        with pytest.raises(QPUError) as info:
            dev.dispatch(assemble(_fifo_overflow), [data.address], bos=[data], single_seg=True).wait()
    lines = str(info.value).splitlines()
    assert max(len(line) for line in lines) <= MESSAGE_WIDTH, str(info.value)
    assert lines[0].startswith(f"rule {info.value.rule}: ")
    assert lines[2].endswith(f"#{rule_anchor(info.value.rule)}")
    at = next(i for i, line in enumerate(lines) if line.startswith("at QPU 0 thread"))
    registers = next(i for i, line in enumerate(lines) if line.startswith("registers read"))
    job = next(i for i, line in enumerate(lines) if line.startswith("job: CSD dispatch"))
    assert 0 < at < registers < job
    assert f"`{info.value.disassembly}`" in lines[at]
    dump = lines[registers + 1 : registers + 3]
    assert len(" ".join(dump).split()) == 2 + 16  # "r0 =" and the 16 lanes, in two rows of 8


def test_memory_fault_message_order_and_width() -> None:
    with v3d_drm.open("emulator") as dev:
        data = dev.array(16, np.uint32)
        with pytest.raises(v3d_drm.MMUFault) as info:
            dev.dispatch(assemble(_outside_every_buffer), [data.address], bos=[data], single_seg=True).wait()
    lines = str(info.value).splitlines()
    assert max(len(line) for line in lines) <= MESSAGE_WIDTH, str(info.value)
    assert lines[0].startswith("GPU access of 4 byte(s) at 0x00000000 is outside every buffer object")
    assert lines[1].startswith("  nearest buffer: [")
    assert lines[2].startswith("at QPU 0 thread 0 pc 1: `or tmua")
    assert lines[3].startswith("job: CSD dispatch")

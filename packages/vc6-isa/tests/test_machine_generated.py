"""The machine's generated op dispatch (`vc6_isa.emulator.machine.ops`) matches the ISA table."""

from vc6_isa import encoding
from vc6_isa.emulator import dispatch
from vc6_isa.emulator.machine import ops


def test_checked_in_dispatch_is_up_to_date():
    # regenerate with: python -m vc6_isa.emulator.dispatch
    assert dispatch.write(check=True), "machine/ops.py is out of date with the ISA table"


def test_magic_constants_come_from_the_table():
    assert set(range(ops.MAGIC_SFU_FIRST, ops.MAGIC_SFU_LAST + 1)) == encoding.MAGIC_SFU
    assert ops.WADDR_TMUD == encoding.MAGIC_ADDRESSES["tmud"]
    assert ops.WADDR_UNIFA == encoding.WADDR_UNIFA

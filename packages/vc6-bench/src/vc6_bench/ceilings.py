"""The Raspberry Pi 4 hardware ceilings a result is compared against, written once.

Peak arithmetic: 8 QPUs x 16 lanes, each QPU issuing one add and one mul ALU op per instruction,
and an instruction takes 4 clocks (the 16 lanes go through a 4-wide pipeline), so at the nominal
500 MHz V3D clock: 8 * 16 * 2 / 4 * 500e6 = 32e9 flop/s.

Peak memory bandwidth: the Pi 4 Model B runs its LPDDR4 at 3200 MT/s on a 32-bit bus (Raspberry Pi's
product brief and the official Beginner's Guide both say LPDDR4-3200), so 3200e6 * 4 B = 12.8 GB/s.
The memory chips fitted are often rated for 4266 MT/s, but the BCM2711 memory controller clocks them
at 3200 MT/s; 4266 would give 17.1 GB/s, a ceiling no Pi 4 reaches. Shared with the CPU and display.
"""

from __future__ import annotations

__all__ = [
    "LANES",
    "MEMORY_BUS_BYTES",
    "MEMORY_TRANSFERS_PER_SECOND",
    "NOMINAL_CLOCK_MHZ",
    "PEAK_BYTES_PER_SECOND",
    "PEAK_FLOPS",
    "QPUS",
    "peak_flops_at",
]

NOMINAL_CLOCK_MHZ = 500.0
QPUS = 8
LANES = 16
_FLOPS_PER_LANE_PER_INSTRUCTION = 2  # one add-ALU and one mul-ALU op, dual issued
_CLOCKS_PER_INSTRUCTION = 4  # 16 lanes through a 4-wide pipeline

MEMORY_TRANSFERS_PER_SECOND = 3200e6
MEMORY_BUS_BYTES = 4


def peak_flops_at(clock_mhz: float) -> float:
    """Peak float32 flop/s of the 8 QPUs at `clock_mhz`."""
    return QPUS * LANES * _FLOPS_PER_LANE_PER_INSTRUCTION / _CLOCKS_PER_INSTRUCTION * clock_mhz * 1e6


PEAK_FLOPS = peak_flops_at(NOMINAL_CLOCK_MHZ)  # 32e9
PEAK_BYTES_PER_SECOND = MEMORY_TRANSFERS_PER_SECOND * MEMORY_BUS_BYTES  # 12.8e9

"""The probe layout every hardware-behaviour case uses: row k of a (rows, 16) uint32 output holds
the 16 lanes of the k-th value the program stores, so an output word names its lane (the column)
and, through the store that wrote it, the instruction that produced it.

A probe program starts with `prologue` (rf10 = output + 4 * lane, rf11 = 64 bytes, one row),
writes each value with `store`, and ends with `epilogue` (`tmuwt` + the
multi-segment program end of reference vc6-isa.md section 14). Registers rf10 and rf11 belong to
the layout; a case uses any others.
"""

from __future__ import annotations

from ..asm import (
    add,
    eidx,
    ldtmu,
    ldunif,
    mov,
    nop,
    program_end,
    r0,
    r5,
    rf,
    shl,
    tmua,
    tmud,
)

__all__ = ["end_program", "epilogue", "load_rows", "prologue", "store"]

#: Bytes between output rows: 16 lanes of 32 bits.
ROW_BYTES = 64
#: The first register of the layout (rf10 output pointer, rf11 row bytes, rf12 input pointer).
LAYOUT_REGISTER = 10


def prologue() -> None:
    """rf10 = first uniform + 4 * lane; rf11 = 64 (one output row)."""
    eidx(r0, sig=ldunif)
    shl(r0, r0, 2)
    add(rf[10], r5, r0)
    mov(rf[11], 1)
    shl(rf[11], rf[11], 6)


def store(src) -> None:
    """Write the 16 lanes of `src` to the next output row."""
    mov(tmud, src)
    mov(tmua, rf[10])
    add(rf[10], rf[10], rf[11])


def load_rows(rows: int) -> None:
    """rf0 .. rf<rows-1> = the rows of a (rows, 16) uint32 input whose address is the next uniform.

    Uses rf12 as the read pointer (needs `prologue` first for rf11 = 64).

    Raises:
        ValueError: More than 10 rows (rf10 onwards hold the layout's pointers).
    """
    if not 0 <= rows <= LAYOUT_REGISTER:
        raise ValueError(f"load_rows loads at most {LAYOUT_REGISTER} rows into rf0..rf9 (rf10-rf12 hold the "
                         f"probe layout's pointers), got {rows}")
    nop(sig=ldunif)
    eidx(r0)
    shl(r0, r0, 2)
    add(rf[12], r5, r0)
    for k in range(rows):
        mov(tmua, rf[12])
        add(rf[12], rf[12], rf[11])
        nop(sig=ldtmu(rf[k]))


def end_program() -> None:
    """Multi-segment program end."""
    program_end()


def epilogue() -> None:
    """Wait for every TMU write, then end the program."""
    program_end(wait_writes=True)

"""The instruction sequences that end a QPU program, written once for every program to call.

A thread ends with a `thrsw` whose two delay slots write nothing to the register file
(hazard rules 13.5/26 and 13.5/28). A multi-segment dispatch (the default) ends with three
`thrsw`: the last switch marker, the end switch, and one whose delay slots finish the
thread (the sequence Mesa emits and py-videocore6's programs end with); a single-segment
dispatch needs only the last one. TMU writes still in flight must be waited for with `tmuwt`
first where the program needs them visible (hardware runs programs that skip it, Appendix G).
"""

from __future__ import annotations

from .instructions import DSL_FUNCTIONS
from .operands import SIGNALS


def program_end(*, single_segment: bool = False, wait_writes: bool = False) -> None:
    """Emit the end of a program into the program being assembled.

    Args:
        single_segment: End a single-segment dispatch (one `thrsw` and its two delay slots)
            instead of the default multi-segment one (seven instructions).
        wait_writes: Start with `tmuwt`, so that every TMU write of the thread has landed.
    """
    nop, thrsw = DSL_FUNCTIONS["nop"], SIGNALS["thrsw"]
    if wait_writes:
        DSL_FUNCTIONS["tmuwt"]()
    if not single_segment:
        nop(sig=thrsw)
        nop(sig=thrsw)
        nop()
        nop()
    nop(sig=thrsw)
    nop()
    nop()

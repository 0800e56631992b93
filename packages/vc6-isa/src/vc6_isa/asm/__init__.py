"""The Python assembler DSL for VideoCore VI QPU programs, py-videocore6 compatible.

`from vc6_isa.asm import *` gives every name a py-videocore6 program uses:

```python
@qpu
def kernel(asm, n):
    eidx(r0, sig=ldunif)
    add(r0, r0, r5).fmul(r1, r2, r3)      # dual issue: chain the mul op
    L.top
    sub(r2, r2, 1, cond='pushz')
    b(R.top, cond='na0'); nop(); nop(); nop()

prog = assemble(kernel, n=4)              # Program: .words, .labels, .disassembly()
```

Op names and operand counts come from `vc6_isa.encoding`; Mesa's names work alongside
py-videocore6's (`band`/`and_`, `imin`/`min_`: Mesa names that are Python keywords or
builtins take a trailing underscore). The program being built lives in a context variable set by
`@qpu`/`assemble`; nothing rewrites the caller's globals.
"""

from ..errors import AssembleError
from .assembly import (
    Assembly,
    L,
    Label,
    LabelNameSpace,
    Link,
    Loop,
    LoopHelper,
    R,
    Reference,
    link,
    loop,
    namespace,
)
from .build import clear_cache
from .endings import program_end
from .instructions import ALU, DSL_FUNCTIONS, PYVC6_ALIASES, Branch, Raw
from .operands import (
    REGISTERS,
    RF,
    SIGNALS,
    Register,
    RotateSignal,
    SFURegister,
    Signal,
    SmallImmediate,
    WriteSignal,
    small_imm,
)
from .program import Program, assemble, get_label_positions, qpu

#: py-videocore6's names of the types that appear in its annotations.
SFUIntegrator = SFURegister
SignalArg = Signal | list[Signal] | None
rf = RF

# The DSL's instruction functions, registers and signals are made from the encoding table;
# bind them as attributes of this module so that `from vc6_isa.asm import *` brings them in.
globals().update(DSL_FUNCTIONS)
globals().update(REGISTERS)
globals().update(SIGNALS)

__all__ = [
    "ALU",
    "PYVC6_ALIASES",
    "AssembleError",
    "Assembly",
    "Branch",
    "L",
    "Label",
    "LabelNameSpace",
    "Link",
    "Loop",
    "LoopHelper",
    "Program",
    "R",
    "Raw",
    "Reference",
    "Register",
    "RotateSignal",
    "SFUIntegrator",
    "SFURegister",
    "Signal",
    "SignalArg",
    "SmallImmediate",
    "WriteSignal",
    "assemble",
    "clear_cache",
    "get_label_positions",
    "link",
    "loop",
    "namespace",
    "program_end",
    "qpu",
    "rf",
    "small_imm",
]  # fmt: skip
__all__.extend((*DSL_FUNCTIONS, *REGISTERS, *SIGNALS))

"""vc6_isa.lang: a QPULib-style language for the QPUs, compiled from restricted Python.

```python
from vc6_isa.lang import kernel, Int, Ptr

@kernel
def gcd(p: Ptr[Int], q: Ptr[Int], r: Ptr[Int]):
    a = p[0]
    b = q[0]
    while any(a != b):
        if a > b:
            a = a - b
        if a < b:
            b = b - a
    r[0] = a
```

The frontend (`frontend`) walks the function's AST; `builder` selects machine ops into the IR
(`ir`), `optimize` removes dead code, `regalloc` assigns registers by liveness, `schedule`
packs dual-issue instructions without hazards and `codegen` encodes them. `interp` runs the
same source semantics in numpy (the oracle of the differential tests).
"""

from .api import (
    exp2,
    gather,
    index,
    inline,
    log2,
    me,
    num_qpus,
    receive,
    recip,
    rotate,
    rsqrt,
    sin,
    sqrt,
    static_range,
    store,
    to_float,
    to_int,
)
from .errors import LangError
from .kernel import Kernel, KernelArgumentError, Program, default_device, kernel
from .types import Float, Int, Ptr

__all__ = [
    "Float",
    "Int",
    "Kernel",
    "KernelArgumentError",
    "LangError",
    "Program",
    "Ptr",
    "default_device",
    "exp2",
    "gather",
    "index",
    "inline",
    "kernel",
    "log2",
    "me",
    "num_qpus",
    "receive",
    "recip",
    "rotate",
    "rsqrt",
    "sin",
    "sqrt",
    "static_range",
    "store",
    "to_float",
    "to_int",
]

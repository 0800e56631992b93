"""vc6_isa.lang: a QPULib-style language for the QPUs, compiled from restricted Python.

```python
from vc6_isa.lang import kernel, Float, Ptr

@kernel
def axpy(a: Float, x: Ptr[Float], y: Ptr[Float]):
    y[0] = a * x[0] + y[0]        # 16 lanes: the 16 elements starting at x and y

axpy(2.0, xs, ys)                 # numpy float32 arrays of 16: compiled, run, copied back
```

`vc6_isa.lang.examples` has QPULib's GCD, rot3D and heat-flow examples.

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

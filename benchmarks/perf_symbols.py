"""Run a script with the emulator's numba functions named for `perf` (a perf map at exit).

    NUMBA_CACHE_DIR=$(mktemp -d) perf record -F 2000 -o perf.data \\
        /work/venv/bin/python benchmarks/perf_symbols.py benchmarks/emulator_speed.py --no-cold
    perf report -i perf.data --no-children --sort sym

numba's machine code has no symbols that perf can see, so a profile shows bare addresses. This
records every code library numba finalises while the script runs and, when it ends, writes
/tmp/perf-<pid>.map (perf's map format for JIT code: start, size, name) with the address of every
function those libraries define. Only code compiled in this process is seen, so run it with an
empty numba cache (the compile then shows in the profile too; the emulated part is the rows
named after the machine's modules: `issue`, `ops`, `tmu`, ...). Sizes are the distance to the
next symbol.
"""

from __future__ import annotations

import atexit
import os
import runpy
import sys

from numba.core import codegen

_LIBRARIES: list = []
_finalize = codegen.CPUCodeLibrary._finalize_final_module


def _record(self):
    result = _finalize(self)
    _LIBRARIES.append(self)
    return result


def write_map() -> None:
    """Write /tmp/perf-<pid>.map for the functions of every library recorded so far."""
    rows = set()
    for lib in _LIBRARIES:
        engine = lib._codegen._engine
        for fn in lib._final_module.functions:
            if fn.is_declaration:
                continue
            address = engine.get_function_address(fn.name)
            if address:
                rows.add((address, fn.name.split("machine")[-1][:100]))
    ordered = sorted(rows)
    with open(f"/tmp/perf-{os.getpid()}.map", "w") as out:
        for k, (address, name) in enumerate(ordered):
            size = min(ordered[k + 1][0] - address, 1 << 17) if k + 1 < len(ordered) else 1 << 12
            out.write(f"{address:x} {size:x} {name}\n")
    print(f"perf map: {len(ordered)} functions in /tmp/perf-{os.getpid()}.map", file=sys.stderr)


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    if sys.argv[1] in ("-h", "--help"):
        print(__doc__)
        return
    codegen.CPUCodeLibrary._finalize_final_module = _record
    atexit.register(write_map)
    script = sys.argv[1]
    sys.argv = sys.argv[1:]
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()

"""Run a script with the emulator's numba functions named for `perf` (a perf map at exit), and
place a profile's samples in their machine code.

    NUMBA_CACHE_DIR=$(mktemp -d) perf record -e cpu-clock -F 4000 -o perf.data \\
        .venv/bin/python benchmarks/perf_symbols.py --dump /tmp/code benchmarks/emulator_speed.py --no-cold
    perf report -i perf.data --no-children --sort sym
    perf script -i perf.data -F ip > /tmp/ips.txt
    python benchmarks/perf_symbols.py --annotate /tmp/code /tmp/ips.txt

numba's machine code has no symbols that perf can see, so a profile shows bare addresses. This
records every code library numba finalises while the script runs and, when it ends, writes
/tmp/perf-<pid>.map (perf's map format for JIT code: start, size, name) with the address of every
function those libraries define. Only code compiled in this process is seen, so run it with an
empty numba cache (the compile then shows in the profile too; the emulated part is the rows
named after the machine's modules: `issue`, `ops`, `tmu`, ...). Sizes are the distance to the
next symbol.

The machine inlines nearly everything into its entry (`run`), so a profile by symbol says little
(issue 13's sessions placed the samples by address instead, each with throwaway scripts).
`--dump DIR` also writes, at exit, the bytes of the machine's called functions (`DUMPED`: the
entry, the TMU lookup, the ALUs' called dispatch, the general path) to DIR with an index;
`--annotate DIR IPS` (the instruction pointers of `perf script -F ip`, one per line) prints each
dumped function's samples and share and writes DIR/<function>.ann: the function's disassembly
(`objdump`), each instruction with its samples and its offset in the function, so that a
listing can be compared with one from another build by offset.
"""

from __future__ import annotations

import atexit
import collections
import ctypes
import os
import runpy
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from numba.core import codegen

_LIBRARIES: list = []
_finalize = codegen.CPUCodeLibrary._finalize_final_module

#: Name parts (after the module path) of the functions `--dump` writes: the machine's entry and
#: the functions it calls rather than inlines.
DUMPED = ("3run3run", "tmu_lookup", "add_alu", "mul_alu", "issue4step")


def _record(self):
    result = _finalize(self)
    _LIBRARIES.append(self)
    return result


def functions() -> list[tuple[int, int, str]]:
    """(address, size, name) of every function of the libraries recorded so far, by address; a
    size is the distance to the next function (at most 128 KiB; 4 KiB for the last)."""
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
    return [(address, min(ordered[k + 1][0] - address, 1 << 17) if k + 1 < len(ordered) else 1 << 12, name)
            for k, (address, name) in enumerate(ordered)]


def write_map() -> None:
    """Write /tmp/perf-<pid>.map for the functions of every library recorded so far."""
    rows = functions()
    with open(f"/tmp/perf-{os.getpid()}.map", "w") as out:
        out.writelines(f"{address:x} {size:x} {name}\n" for address, size, name in rows)
    print(f"perf map: {len(rows)} functions in /tmp/perf-{os.getpid()}.map", file=sys.stderr)


def dump_code(directory: str) -> None:
    """Write the machine code of the functions named in `DUMPED` to `directory`: <address>.bin
    each, and index.txt (address, size, name per line)."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "index.txt", "w") as index:
        for address, size, name in functions():
            if any(part in name for part in DUMPED):
                (out / f"{address:x}.bin").write_bytes(ctypes.string_at(address, size))
                index.write(f"{address:x} {size:x} {name}\n")
    print(f"machine code of {', '.join(DUMPED)} in {out}", file=sys.stderr)


def place_samples(index: list[tuple[int, int, str]], ips: list[int]) -> dict[int, collections.Counter]:
    """The samples `ips` (instruction pointers) that fall in the functions of `index` (address,
    size, name): per function address, a count per offset in the function."""
    placed: dict[int, collections.Counter] = {address: collections.Counter() for address, _, _ in index}
    for ip in ips:
        for address, size, _ in index:
            if address <= ip < address + size:
                placed[address][ip - address] += 1
                break
    return placed


def annotate(directory: str, ips_path: str) -> None:
    """Print the samples of each function dumped in `directory` (`dump_code`) and write its
    annotated disassembly to <directory>/<name>.ann (samples, offset, instruction per line)."""
    folder = Path(directory)
    index = []
    for line in (folder / "index.txt").read_text().splitlines():
        address, size, name = line.split(maxsplit=2)
        index.append((int(address, 16), int(size, 16), name))
    ips = []
    for line in Path(ips_path).read_text().splitlines():
        try:
            ips.append(int(line.strip(), 16))
        except ValueError:
            continue  # a header or an empty line
    placed = place_samples(index, ips)
    total = sum(sum(c.values()) for c in placed.values())
    print(f"{total} of {len(ips)} samples in the dumped functions")
    for address, size, name in index:
        counts = placed[address]
        short = next((part for part in DUMPED if part in name), "function")
        path = folder / f"{short}-{address:x}.ann"
        write_listing(folder / f"{address:x}.bin", address, counts, path)
        share = 100 * sum(counts.values()) / total if total else 0.0
        print(f"{sum(counts.values()):8d} {share:5.1f}%  {short} ({size:#x} bytes) -> {path}")


def write_listing(binary: Path, address: int, counts: Mapping[int, int], path: Path) -> None:
    """Write the disassembly (`objdump`) of the machine code in `binary`, loaded at `address`, to
    `path`: per instruction its count (`counts`, by offset in the function: samples here,
    executed instructions in benchmarks/instr_count.py), its offset and its text."""
    listing = subprocess.run(["objdump", "-D", "-b", "binary", "-mi386:x86-64", f"--adjust-vma={address:#x}",
                              str(binary)], capture_output=True, text=True, check=True).stdout
    with open(path, "w") as out:
        for line in listing.splitlines():
            head, _, rest = line.partition(":")
            try:
                ip = int(head.strip(), 16)
            except ValueError:
                continue
            text = rest.split("\t")[-1].strip() if "\t" in rest else ""
            out.write(f"{counts.get(ip - address, 0):6d} {ip - address:6x} {text}\n")


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    if sys.argv[1] in ("-h", "--help"):
        print(__doc__)
        return
    if sys.argv[1] == "--annotate":
        if len(sys.argv) != 4:
            sys.exit("usage: perf_symbols.py --annotate DIR IPS")
        annotate(sys.argv[2], sys.argv[3])
        return
    dump_to = None
    if sys.argv[1] == "--dump":
        dump_to = sys.argv[2]
        del sys.argv[1:3]
    codegen.CPUCodeLibrary._finalize_final_module = _record
    atexit.register(write_map)
    if dump_to is not None:
        atexit.register(dump_code, dump_to)
    script = sys.argv[1]
    sys.argv = sys.argv[1:]
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()

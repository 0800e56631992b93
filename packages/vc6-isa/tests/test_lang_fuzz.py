"""Differential fuzzer of vc6_isa.lang: random kernels, compiled (for 1, 2 or 4 threads per
QPU) and run on the emulator (strict mode) versus interpreted in numpy; every output word must
agree.

A fixed seed and a fixed budget keep it deterministic and CI-fast; raise the budget locally
with ``VC6_LANG_FUZZ=<kernels>`` (and the seed with ``VC6_LANG_FUZZ_SEED``). A failing
kernel's source is printed, and left in pytest's tmp_path, to reproduce it.
"""

from __future__ import annotations

import importlib.util
import os
import random

import numpy as np
import pytest
from vc6_isa.lang import LangError, kernel

BUDGET = int(os.environ.get("VC6_LANG_FUZZ", "36"))
SEED = int(os.environ.get("VC6_LANG_FUZZ_SEED", "2026"))
L = 16

HEADER = """\
from vc6_isa.lang import (Float, Int, Ptr, index, me, num_qpus, rotate, static_range,
                          to_float, to_int, gather, receive, store, kernel, recip, sqrt)


@kernel
def fuzz(a: Ptr[Int], f: Ptr[Float], n: Int, out: Ptr[Int], fout: Ptr[Float], s: Ptr[Int]):
    x0 = a[0]
    x1 = a[16]
    x2 = index() + n
    y0 = f[0]
    y1 = f[16]
    y2 = to_float(x0 >> 20)
"""

INT_CONSTS = [0, 1, 2, 3, 7, 15, -1, -16, 16, 100, -12345, 65536, 2**31 - 1]
FLOAT_CONSTS = ["0.0", "1.0", "0.5", "2.0", "-3.5", "0.1", "100.0", "1e-3", "-0.0"]


class Gen:
    """Random statements over three Int (x0..x2) and three Float (y0..y2) variables."""

    def __init__(self, rng: random.Random) -> None:
        self.r = rng
        self.lines: list[str] = []
        self.loops = 0

    def ivar(self) -> str:
        return self.r.choice(["x0", "x1", "x2"])

    def fvar(self) -> str:
        return self.r.choice(["y0", "y1", "y2"])

    def iexpr(self, d: int = 0) -> str:
        r = self.r
        k = r.randrange(12 if d < 2 else 2)
        if k == 0:
            return self.ivar()
        if k == 1:
            return str(r.choice(INT_CONSTS)) if r.random() < 0.5 else self.ivar()
        if k == 2:
            op = r.choice(["+", "-", "*", "&", "|", "^"])
            return f"({self.iexpr(d + 1)} {op} {self.iexpr(d + 1)})"
        if k == 3:
            op = r.choice(["<<", ">>", "//", "%"])
            amount = r.randrange(32) if op in ("<<", ">>") else 2 ** r.randrange(6)
            return f"({self.iexpr(d + 1)} {op} {amount})"
        if k == 4:
            return (
                f"{r.choice(['min', 'max'])}({self.iexpr(d + 1)}, {self.iexpr(d + 1)})"
            )
        if k == 5:
            return f"{r.choice(['-', '~'])}{self.iexpr(d + 1)}"
        if k == 6:
            return f"abs({self.iexpr(d + 1)})"
        if k == 7:
            return f"rotate({self.iexpr(d + 1)}, {r.randrange(-15, 16)})"
        if k == 8:
            return f"to_int({self.fexpr(d + 1)})"
        if k == 9:
            return f"({self.iexpr(d + 1)} + index())"
        if k == 10:
            return f"rotate({self.ivar()}, {self.ivar()})"
        return f"({self.iexpr(d + 1)} - me() * num_qpus())"

    def fexpr(self, d: int = 0) -> str:
        r = self.r
        k = r.randrange(9 if d < 2 else 2)
        if k == 0:
            return self.fvar()
        if k == 1:
            return r.choice(FLOAT_CONSTS) if r.random() < 0.5 else self.fvar()
        if k in (2, 3):
            op = r.choice(["+", "-", "*"])
            return f"({self.fexpr(d + 1)} {op} {self.fexpr(d + 1)})"
        if k == 4:
            return (
                f"{r.choice(['min', 'max'])}({self.fexpr(d + 1)}, {self.fexpr(d + 1)})"
            )
        if k == 5:
            return (
                f"-{self.fexpr(d + 1)}"
                if r.random() < 0.5
                else f"abs({self.fexpr(d + 1)})"
            )
        if k == 6:
            return f"to_float({self.iexpr(d + 1)})"
        if k == 7:
            return f"rotate({self.fexpr(d + 1)}, {r.randrange(-15, 16)})"
        return f"sqrt(abs({self.fexpr(d + 1)}) + 1.0)"

    def cond(self, d: int = 0) -> str:
        r = self.r
        k = r.randrange(5 if d < 1 else 2)
        op = r.choice(["==", "!=", "<", "<=", ">", ">="])
        if k == 0:
            return f"({self.iexpr(1)} {op} {self.iexpr(1)})"
        if k == 1:
            return f"({self.fexpr(1)} {op} {self.fexpr(1)})"
        if k == 2:
            return f"({self.cond(d + 1)} & {self.cond(d + 1)})"
        if k == 3:
            return f"({self.cond(d + 1)} | {self.cond(d + 1)})"
        return f"~{self.cond(d + 1)}"

    def block(self, indent: int, n: int, depth: int) -> None:
        for _ in range(n):
            self.stmt(indent, depth)

    def emit(self, indent: int, text: str) -> None:
        self.lines.append("    " * indent + text)

    def stmt(self, indent: int, depth: int) -> None:
        r = self.r
        k = r.randrange(14 if depth < 2 else 4)
        if k < 2:
            self.emit(indent, f"{self.ivar()} = {self.iexpr()}")
        elif k < 4:
            self.emit(indent, f"{self.fvar()} = {self.fexpr()}")
        elif k < 6:
            self.emit(indent, f"if {self.cond()}:")
            self.block(indent + 1, r.randint(1, 3), depth + 1)
            if r.random() < 0.5:
                if r.random() < 0.3:
                    self.emit(indent, f"elif {self.cond()}:")
                    self.block(indent + 1, r.randint(1, 2), depth + 1)
                self.emit(indent, "else:")
                self.block(indent + 1, r.randint(1, 2), depth + 1)
        elif k == 6:
            self.emit(indent, f"if {r.choice(['any', 'all'])}({self.cond()}):")
            self.block(indent + 1, r.randint(1, 3), depth + 1)
            if r.random() < 0.5:
                self.emit(indent, "else:")
                self.block(indent + 1, r.randint(1, 2), depth + 1)
        elif k == 7:
            self.loops += 1
            v = f"i{self.loops}"
            self.emit(indent, f"for {v} in range({r.randint(0, 3)}):")
            self.block(indent + 1, r.randint(1, 3), depth + 1)
            self.emit(indent + 1, f"x{r.randrange(3)} = x{r.randrange(3)} + {v}")
        elif k == 8:
            self.loops += 1
            v = f"c{self.loops}"
            self.emit(indent, f"{v} = index() & 3")
            self.emit(indent, f"while any({v} < {r.randint(1, 4)}):")
            self.block(indent + 1, r.randint(1, 2), depth + 1)
            self.emit(indent + 1, f"{v} = {v} + 1")
        elif k == 9:
            self.emit(indent, "for k in static_range(2):")
            self.emit(indent + 1, f"{self.ivar()} = {self.iexpr(1)} + k")
        elif k == 10:  # non-blocking loads, received later (in range: offsets 0..30)
            self.emit(indent, f"gather(a + index() + ({self.iexpr(1)} & 15))")
            self.emit(indent, f"gather(f + index() + ({self.iexpr(1)} & 15))")
            self.emit(indent, f"{self.ivar()} = {self.iexpr(1)}")
            if r.random() < 0.3:  # a load while the gathers are in flight
                self.emit(indent, f"{self.ivar()} = a[{self.iexpr(1)} & 15] + {self.ivar()}")
            if r.random() < 0.3:
                self.emit(indent, "store(receive(), s + me() * 32 + index())")
            else:
                self.emit(indent, f"{self.ivar()} = receive() + {self.ivar()}")
            self.emit(indent, f"{self.fvar()} = receive() * 0.5 + {self.fvar()}")
        elif k == 11:
            if r.random() < 0.5:
                self.emit(indent, f"{self.ivar()} = a[{self.iexpr(1)} & 15] - {self.ivar()}")
            else:
                self.emit(indent, f"{self.fvar()} = f[{self.iexpr(1)} & 15]")
        elif k == 12:  # stores into this QPU's half of the scratch array, one word per lane
            if r.random() < 0.5:
                self.emit(indent, f"store({self.iexpr(1)}, s + me() * 32 + index())")
            else:
                self.emit(indent, f"(s + me() * 32)[16] = {self.iexpr(1)}")
        else:
            self.loops += 1
            m = f"m{self.loops}"
            self.emit(indent, f"{m} = {self.cond()}")
            self.emit(indent, f"if {m} | ({self.ivar()} > 3):")
            self.block(indent + 1, r.randint(1, 2), depth + 1)
            self.emit(indent, f"if any({m}):")
            self.block(indent + 1, 1, depth + 1)

    def kernel(self) -> str:
        self.block(1, self.r.randint(3, 8), 0)
        self.emit(1, "po = out + me() * 48")
        self.emit(1, "pf = fout + me() * 48")
        for i in range(3):
            self.emit(1, f"po[{16 * i}] = x{i}")
            self.emit(1, f"pf[{16 * i}] = y{i}")
        return HEADER + "\n".join(self.lines) + "\n"


def _load(path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.fuzz


def _same_words(x: np.ndarray, y: np.ndarray) -> bool:
    if x.dtype == np.float32:
        both_nan = np.isnan(x) & np.isnan(y)
        return bool(np.all(both_nan | (x.view(np.uint32) == y.view(np.uint32))))
    return bool(np.array_equal(x, y))


@pytest.mark.parametrize("case", range(BUDGET))
def test_random_kernel_compiled_matches_interpreted(case, tmp_path):
    rng = random.Random(SEED * 100_003 + case)
    source = Gen(rng).kernel()
    path = tmp_path / f"lang_fuzz_{case}.py"
    path.write_text(source)
    threads = rng.choice((1, 1, 2, 4))
    k = kernel(_load(path).func, threads=threads)
    if threads == 4:
        try:
            k.compile()
        except LangError as err:  # 32 registers may be too few for a big random kernel
            assert "too many values are live at once" in str(err)
            threads, k = 2, kernel(k.func, threads=2)
    data = np.random.default_rng(SEED + case)
    a = data.integers(-(2**31), 2**31 - 1, 2 * L, endpoint=True).astype(np.int32)
    a[: L // 2] = data.integers(-50, 50, L // 2)
    f = (data.standard_normal(2 * L) * 10).astype(np.float32)
    n = int(data.integers(-5, 6))
    nq = int(data.integers(1, 3)) if threads == 1 else int(data.choice((1, 2, 10)))
    outs = []
    for run in ("interpret", "compiled"):
        out = np.zeros(3 * L * nq, np.int32)
        fout = np.zeros(3 * L * nq, np.float32)
        scratch = np.zeros(2 * L * nq, np.int32)
        args = (a.copy(), f.copy(), n, out, fout, scratch)
        if run == "interpret":
            k.interpret(*args, num_qpus=nq)
        else:
            k(*args, num_qpus=nq)
        outs.append((out, fout, scratch))
    (io, fo, so), (ic, fc, sc) = outs
    ok = _same_words(io, ic) and _same_words(fo, fc) and _same_words(so, sc)
    assert ok, (
        f"compiled != interpreted for kernel {path}:\n{source}\n"
        f"int interp {io}\nint compiled {ic}\nfloat interp {fo}\nfloat compiled {fc}"
    )

"""The routine table: everything the harness knows about each routine, as data, in one place.

For each routine: its name, how a size is given and its default sizes (on a Pi, and a smaller one on
the emulator where the Pi default would take too long there), how to build inputs, how to call the
vc6-kernels routine on device-resident arrays, its numpy baseline (timed on the CPU), the float64
reference it is verified against, the tolerance (or exactness), and the flops and bytes it must move.
The measuring code (`vc6_bench.method`) knows nothing routine-specific.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .sizes import Count, SizeError, elements_from, parse_shape

__all__ = ["ROUTINES", "Problem", "Routine", "routine_names"]

F32 = np.dtype(np.float32)
UNIT_ROUNDOFF = 2.0**-24  # float32, round to nearest

# Tolerances for inexact routines are error bounds, not fudge factors. Rounding errors of a sum of n
# terms grow like sqrt(n) (Higham & Mary, "A new approach to probabilistic rounding error analysis",
# SIAM J. Sci. Comput. 2019): |error| <= LAMBDA * sqrt(n) * u * sum|terms| except with probability
# about 2*exp(-LAMBDA**2 / 2) per element, which for LAMBDA = 8 is ~1e-14: safe over millions of
# elements yet tight enough that a missing block of data or a wrong lane fails.
LAMBDA = 8.0


@dataclass(frozen=True)
class Problem:
    """One problem size.

    Attributes:
        dims: Named dimensions, such as `{"m": 1024, "n": 1024, "k": 1024}`.
        label: A short label for reports, such as `"1024x1024x1024"`.
    """

    dims: Mapping[str, int]
    label: str

    def __getitem__(self, name: str) -> int:
        return self.dims[name]


Inputs = dict[str, np.ndarray]


@dataclass(frozen=True)
class Routine:
    """How to size, feed, run, time on numpy, and verify one routine.

    Attributes:
        name: The subcommand name, such as `"sgemm"`.
        summary: One line for the help text.
        size_help: Help text of `--size`.
        parse: Turns `--size`, `--shape` and `--steps` into a `Problem`.
        default: The problem size on a Pi.
        emulator_default: A smaller default on the emulator (`None`: the Pi's is quick enough).
        warmup: A small problem for the warm-up run.
        make_inputs: Makes the host input arrays for a problem, from a seeded generator.
        outputs: The device arrays a problem needs (name to shape and dtype).
        call: Runs the routine: `(kernels, device arrays, problem, device)`.
        numpy: The numpy baseline, in float32 like the GPU.
        reference: What the result must equal (float64 where the routine is inexact).
        tolerance: The allowed error per element; `None` when the result must be exact.
        flops: Floating-point operations of a problem.
        bytes_moved: Compulsory memory traffic: each input read and each output written once.
        bytes_written: The part of `bytes_moved` that is written (the rest is read): the
            roofline draws a routine against the read and write roofs in this mix.
        ceilings: Which ceilings apply: `"flops"`, `"bandwidth"`.
        exact: Whether the result must match the reference bit for bit (no `tolerance`).
        py_videocore6: The py-videocore6 program of the calibration that this routine is
            compared with (its name there and its record-size problem), or `None`.
    """

    name: str
    summary: str
    size_help: str
    parse: Callable[[Count | None, str | None, int | None], Problem]
    default: Problem
    emulator_default: Problem | None  # None: the Pi default is quick enough on the emulator
    warmup: Problem  # small problem used to warm up on the emulator (compiles the emulator's JIT)
    make_inputs: Callable[[Problem, np.random.Generator], Inputs]  # host arrays, staged to the device
    outputs: Callable[[Problem], Mapping[str, tuple[tuple[int, ...], np.dtype]]]  # device arrays to allocate
    call: Callable[[Any, Mapping[str, np.ndarray], Problem, Any], Any]  # (kernels, device arrays, problem, device)
    numpy: Callable[[Inputs, Problem], Any]  # the CPU baseline, in float32 like the GPU
    reference: Callable[[Inputs, Problem], np.ndarray]  # what the result must equal (float64 where inexact)
    tolerance: Callable[[Inputs, Problem, np.ndarray], np.ndarray | float] | None  # None: exact match expected
    flops: Callable[[Problem], int]
    bytes_moved: Callable[[Problem], int]  # compulsory DRAM traffic: each input read, each output written once
    bytes_written: Callable[[Problem], int]  # the written part of bytes_moved
    ceilings: tuple[str, ...]  # which ceilings apply: "flops", "bandwidth"
    # py-videocore6's program for the same work (a vc6_isa.emulator.CALIBRATION_PROGRAMS name) and
    # the problem it solves; its timings are compared with ours on that problem only
    py_videocore6: tuple[str, Problem] | None = None

    @property
    def exact(self) -> bool:
        return self.tolerance is None


# ---- sizes -------------------------------------------------------------------------------------


def _refuse_steps(name: str, steps: int | None) -> None:
    if steps is not None:
        raise SizeError(f"--steps applies to stencil only, not {name}")


def _parse_cube(size: Count | None, shape: str | None, steps: int | None) -> Problem:
    _refuse_steps("sgemm", steps)
    if size is not None and shape is not None:
        raise SizeError("give either --size N (an N x N x N sgemm) or --shape MxNxK, not both")
    if shape is not None:
        m, n, k = parse_shape(shape, 3, "MxNxK")
    else:
        if size.is_bytes:
            raise SizeError(f"sgemm --size counts rows, not bytes: drop the B from {size.text!r}")
        m = n = k = size.value
    return _cube(m, n, k)


def _cube(m: int, n: int, k: int) -> Problem:
    return Problem({"m": m, "n": n, "k": k}, f"{m}x{n}x{k}")


def _vector_parser(name: str):
    def parse(size: Count | None, shape: str | None, steps: int | None) -> Problem:
        _refuse_steps(name, steps)
        if shape is not None:
            raise SizeError(f"--shape applies to sgemm and stencil, not {name}: use --size (e.g. 32Mi or 64MiB)")
        return _vector(elements_from(size, F32.itemsize))

    return parse


def _vector(n: int) -> Problem:
    return Problem({"n": n}, f"{n} float32 ({_binary(n * F32.itemsize)})")


def _binary(nbytes: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if nbytes >= scale and nbytes % scale == 0:
            return f"{nbytes // scale} {unit}"
    return f"{nbytes} B"


DEFAULT_STEPS = 10


def _parse_grid(size: Count | None, shape: str | None, steps: int | None) -> Problem:
    if size is not None and shape is not None:
        raise SizeError("give either --size N (an N x N grid) or --shape ROWSxCOLS, not both")
    if shape is not None:
        rows, cols = parse_shape(shape, 2, "ROWSxCOLS")
    else:
        if size.is_bytes:
            raise SizeError(f"stencil --size counts rows, not bytes: drop the B from {size.text!r}")
        rows = cols = size.value
    if rows < 3 or cols < 3:
        raise SizeError(f"stencil needs a grid of at least 3x3 (it keeps a fixed border), got {rows}x{cols}")
    if steps is not None and steps <= 0:
        raise SizeError(f"--steps must be positive, got {steps}")
    return _grid(rows, cols, DEFAULT_STEPS if steps is None else steps)


def _grid(rows: int, cols: int, steps: int) -> Problem:
    return Problem({"rows": rows, "cols": cols, "steps": steps}, f"{rows}x{cols} x {steps} steps")


# ---- inputs ------------------------------------------------------------------------------------


def _uniform(rng: np.random.Generator, shape, low: float, high: float) -> np.ndarray:
    return rng.uniform(low, high, size=shape).astype(np.float32)


def _sgemm_inputs(p: Problem, rng: np.random.Generator) -> Inputs:
    return {"a": _uniform(rng, (p["m"], p["k"]), -1, 1), "b": _uniform(rng, (p["k"], p["n"]), -1, 1)}


def _vector_inputs(p: Problem, rng: np.random.Generator) -> Inputs:
    return {"x": _uniform(rng, (p["n"],), 0, 1)}


# memset writes a value whose bits are not all equal bytes, so a byte-wise fill of the wrong byte fails.
MEMSET_VALUE = np.float32(1.2345678)


def _grid_inputs(p: Problem, rng: np.random.Generator) -> Inputs:
    return {"grid": _uniform(rng, (p["rows"], p["cols"]), 0, 1)}


# ---- the stencil, written once for the baseline and the reference --------------------------------

STENCIL_K = 0.25


def stencil_numpy(grid: np.ndarray, steps: int, k: float = STENCIL_K) -> np.ndarray:
    """QPULib's heat-flow step, `steps` times: each interior cell moves toward the mean of its 8
    neighbours by the factor k, c' = c - k (c - mean); the border cells keep their value.

    Evaluated in float32 in vc6-kernels' documented order of operations (column sums
    V = (up + mid) + down, then S = ((V[x-1] + V[x+1]) + up[x]) + down[x], then
    c - (c - S * 0.125) * k), each step rounded to nearest even, so the GPU must match it bit for bit.
    """
    g = np.array(grid, dtype=np.float32)
    k32, eighth = np.float32(k), np.float32(0.125)
    for _ in range(int(steps)):
        column = (g[:-2] + g[1:-1]) + g[2:]
        neighbours = ((column[:, :-2] + column[:, 2:]) + g[:-2, 1:-1]) + g[2:, 1:-1]
        centre = g[1:-1, 1:-1]
        nxt = g.copy()
        nxt[1:-1, 1:-1] = centre - (centre - neighbours * eighth) * k32
        g = nxt
    return g


# ---- tolerances --------------------------------------------------------------------------------


def _sgemm_tolerance(inputs: Inputs, p: Problem, reference: np.ndarray) -> np.ndarray:
    """per element: 8 sqrt(K+1) u (|A| @ |B|) + u |C| (probabilistic float32 rounding bound, u = 2^-24)"""
    a, b = inputs["a"].astype(np.float64), inputs["b"].astype(np.float64)
    k = a.shape[1]
    return LAMBDA * math.sqrt(k + 1) * UNIT_ROUNDOFF * (np.abs(a) @ np.abs(b)) + UNIT_ROUNDOFF * np.abs(reference)


def _summation_tolerance(inputs: Inputs, p: Problem, reference: np.ndarray) -> float:
    """8 sqrt(n) u sum|x| + u |sum| (probabilistic float32 rounding bound, u = 2^-24)"""
    x = inputs["x"]
    return LAMBDA * math.sqrt(x.size) * UNIT_ROUNDOFF * float(np.abs(x, dtype=np.float64).sum()) + UNIT_ROUNDOFF * float(
        abs(reference)
    )


# ---- the table ---------------------------------------------------------------------------------

ROUTINES: dict[str, Routine] = {
    r.name: r
    for r in (
        Routine(
            name="sgemm",
            summary="C = A @ B in float32 (M x K times K x N)",
            size_help="N for an N x N x N product, or --shape MxNxK",
            parse=_parse_cube,
            default=_cube(1024, 1024, 1024),
            emulator_default=None,  # 1024^3 runs in ~3 s of emulator time since the fast path
            warmup=_cube(32, 32, 32),
            make_inputs=_sgemm_inputs,
            outputs=lambda p: {"c": ((p["m"], p["n"]), F32)},
            call=lambda kernels, d, p, device: kernels.sgemm(d["a"], d["b"], d["c"], device=device),
            numpy=lambda i, p: i["a"] @ i["b"],
            reference=lambda i, p: i["a"].astype(np.float64) @ i["b"].astype(np.float64),
            tolerance=_sgemm_tolerance,
            flops=lambda p: 2 * p["m"] * p["n"] * p["k"],
            bytes_moved=lambda p: 4 * (p["m"] * p["k"] + p["k"] * p["n"] + p["m"] * p["n"]),
            bytes_written=lambda p: 4 * p["m"] * p["n"],
            ceilings=("flops",),
            py_videocore6=("sgemm 1024^3", _cube(1024, 1024, 1024)),
        ),
        Routine(
            name="summation",
            summary="sum of a float32 vector",
            size_help="number of elements (32Mi) or bytes (128MiB)",
            parse=_vector_parser("summation"),
            default=_vector(32 * 2**20),
            emulator_default=None,
            warmup=_vector(4096),
            make_inputs=_vector_inputs,
            outputs=lambda p: {},
            call=lambda kernels, d, p, device: kernels.summation(d["x"], device=device),
            numpy=lambda i, p: i["x"].sum(),
            reference=lambda i, p: np.array(i["x"].sum(dtype=np.float64)),
            tolerance=_summation_tolerance,
            flops=lambda p: p["n"] - 1,
            bytes_moved=lambda p: 4 * p["n"],
            bytes_written=lambda p: 0,  # one sum per batch: negligible
            ceilings=("bandwidth",),
            py_videocore6=("summation 32 Mi uint32", _vector(32 * 2**20)),
        ),
        Routine(
            name="scopy",
            summary="copy a float32 vector",
            size_help="number of elements (16Mi) or bytes (64MiB)",
            parse=_vector_parser("scopy"),
            default=_vector(16 * 2**20),
            emulator_default=None,
            warmup=_vector(4096),
            make_inputs=_vector_inputs,
            outputs=lambda p: {"out": ((p["n"],), F32)},
            call=lambda kernels, d, p, device: kernels.scopy(d["x"], d["out"], device=device),
            numpy=lambda i, p: i["x"].copy(),
            reference=lambda i, p: i["x"],
            tolerance=None,
            flops=lambda p: 0,
            bytes_moved=lambda p: 2 * 4 * p["n"],
            bytes_written=lambda p: 4 * p["n"],
            ceilings=("bandwidth",),
            py_videocore6=("scopy 16 Mi float32", _vector(16 * 2**20)),
        ),
        Routine(
            name="memset",
            summary="fill a float32 vector with one value",
            size_help="bytes (64MiB) or number of elements (16Mi)",
            parse=_vector_parser("memset"),
            default=_vector(16 * 2**20),
            emulator_default=None,
            warmup=_vector(4096),
            make_inputs=lambda p, rng: {},
            outputs=lambda p: {"out": ((p["n"],), F32)},
            call=lambda kernels, d, p, device: kernels.memset(d["out"], MEMSET_VALUE, device=device),
            numpy=lambda i, p: np.full(p["n"], MEMSET_VALUE, dtype=np.float32),
            reference=lambda i, p: np.full(p["n"], MEMSET_VALUE, dtype=np.float32),
            tolerance=None,
            flops=lambda p: 0,
            bytes_moved=lambda p: 4 * p["n"],
            bytes_written=lambda p: 4 * p["n"],
            ceilings=("bandwidth",),
            py_videocore6=("memset 64 MiB", _vector(16 * 2**20)),
        ),
        Routine(
            name="stencil",
            summary="QPULib heat-flow steps (8-neighbour mean, k = 0.25, fixed border) on a float32 grid",
            size_help="N for an N x N grid, or --shape ROWSxCOLS; --steps S (default 10)",
            parse=_parse_grid,
            default=_grid(512, 512, DEFAULT_STEPS),
            emulator_default=None,
            warmup=_grid(32, 32, 2),
            make_inputs=_grid_inputs,
            outputs=lambda p: {},
            call=lambda kernels, d, p, device: kernels.stencil(d["grid"], p["steps"], k=STENCIL_K, device=device),
            numpy=lambda i, p: stencil_numpy(i["grid"], p["steps"]),
            reference=lambda i, p: stencil_numpy(i["grid"], p["steps"]),
            tolerance=None,  # same float32 operations in the same order: bit-exact
            # per interior cell and step, with column sums shared by neighbouring cells:
            # 2 adds (column sum) + 3 adds + 2 muls + 2 subtracts
            flops=lambda p: 9 * max(p["rows"] - 2, 0) * max(p["cols"] - 2, 0) * p["steps"],
            # each step reads the grid and writes it once
            bytes_moved=lambda p: 2 * 4 * p["rows"] * p["cols"] * p["steps"],
            bytes_written=lambda p: 4 * p["rows"] * p["cols"] * p["steps"],
            ceilings=("bandwidth", "flops"),
        ),
    )
}


def routine_names() -> list[str]:
    """Routine names in table order (the order `vc6-bench all` runs them)."""
    return list(ROUTINES)

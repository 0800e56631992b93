"""QPULib's three examples written in vc6_isa.lang, with numpy references.

* `gcd` / `gcd_unrolled`: greatest common divisors of 16 pairs (Euclid by subtraction); the
  second unrolls four steps of the loop body with `static_range`.
* `rot3d_1`, `rot3d_2`, `rot3d_3`: rotate points about the z axis; version 1 loads and
  stores with `p[i]`, version 2 gathers one block ahead, version 3 also splits the blocks
  over `num_qpus()` QPUs. Versions 2 and 3 read one block (per QPU) past the end of the
  arrays, as QPULib's do: give the arrays that much slack (`rot3d_slack`).
* `heat_step`: one Jacobi step of QPULib's heat-flow example, written with its cursors
  (`cursor_init`, `cursor_prime`, `cursor_advance`, `shift_left`, `shift_right` as `@inline`
  helpers); `heat_reference` does the same float32 operations in the same order in numpy.
  QPULib's original keeps the edges cold with zero padding around the grid; this one keeps
  the border cells fixed (a per-lane `if`), and its grids need one spare row after the last
  (the cursors read one block ahead).
"""

from __future__ import annotations

import numpy as np

from .api import (
    gather,
    index,
    inline,
    me,
    num_qpus,
    receive,
    rotate,
    static_range,
    store,
)
from .kernel import kernel
from .types import Float, Int, Ptr

__all__ = [
    "cursor_advance",
    "cursor_init",
    "cursor_prime",
    "gcd",
    "gcd_unrolled",
    "heat_reference",
    "heat_step",
    "rot3d_1",
    "rot3d_2",
    "rot3d_3",
    "rot3d_slack",
    "shift_left",
    "shift_right",
]


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


@kernel
def gcd_unrolled(p: Ptr[Int], q: Ptr[Int], r: Ptr[Int]):
    a = p[0]
    b = q[0]
    while any(a != b):
        for _ in static_range(4):
            if a > b:
                a = a - b
            if a < b:
                b = b - a
    r[0] = a


@kernel
def rot3d_1(n: Int, cos_t: Float, sin_t: Float, x: Ptr[Float], y: Ptr[Float]):
    for i in range(0, n, 16):
        x_old = x[i]
        y_old = y[i]
        x[i] = x_old * cos_t - y_old * sin_t
        y[i] = y_old * cos_t + x_old * sin_t


@kernel
def rot3d_2(n: Int, cos_t: Float, sin_t: Float, x: Ptr[Float], y: Ptr[Float]):
    p = x + index()
    q = y + index()
    gather(p)
    gather(q)
    for i in range(0, n, 16):
        gather(p + 16)
        gather(q + 16)
        x_old = receive()
        y_old = receive()
        store(x_old * cos_t - y_old * sin_t, p)
        store(y_old * cos_t + x_old * sin_t, q)
        p = p + 16
        q = q + 16
    receive()
    receive()


@kernel
def rot3d_3(n: Int, cos_t: Float, sin_t: Float, x: Ptr[Float], y: Ptr[Float]):
    inc = num_qpus() << 4
    p = x + index() + (me() << 4)
    q = y + index() + (me() << 4)
    gather(p)
    gather(q)
    for i in range(0, n, inc):
        gather(p + inc)
        gather(q + inc)
        x_old = receive()
        y_old = receive()
        store(x_old * cos_t - y_old * sin_t, p)
        store(y_old * cos_t + x_old * sin_t, q)
        p = p + inc
        q = q + inc
    receive()
    receive()


def rot3d_slack(num_qpus: int = 8) -> int:
    """Elements the prefetching versions read past the end of x and y."""
    return 16 * num_qpus


@inline
def cursor_init(p):
    """Start a cursor on the row at `p`: ask for its first block; returns the next address."""
    gather(p)
    return p + 16


@inline
def cursor_prime(addr):
    """Receive the first block (it becomes `next`) and ask for the second."""
    nxt = receive()
    gather(addr)
    return nxt


@inline
def cursor_advance(addr, cur, nxt):
    """Move one block right: returns (addr, prev, current, next)."""
    addr = addr + 16
    prev = cur
    gather(addr)
    cur = nxt
    nxt = receive()
    return addr, prev, cur, nxt


@inline
def shift_left(cur, nxt, last):
    """Each lane's right-hand neighbour: lane 15 takes lane 0 of the next block."""
    result = rotate(cur, 15)
    if last:
        result = rotate(nxt, 15)
    return result


@inline
def shift_right(cur, prev, first):
    """Each lane's left-hand neighbour: lane 0 takes lane 15 of the previous block."""
    result = rotate(cur, 1)
    if first:
        result = rotate(prev, 1)
    return result


@kernel
def heat_step(grid: Ptr[Float], out: Ptr[Float], width: Int, height: Int, k: Float):
    first = index() == 0
    last = index() == 15
    for y in range(me(), height - 2, num_qpus()):
        row = grid + y * width + index()
        a0 = cursor_init(row)
        a1 = cursor_init(row + width)
        a2 = cursor_init(row + 2 * width)
        c0 = Float(0.0)
        c1 = Float(0.0)
        c2 = Float(0.0)
        n0 = cursor_prime(a0)
        n1 = cursor_prime(a1)
        n2 = cursor_prime(a2)
        p = out + (y + 1) * width + index()
        for x in range(0, width, 16):
            a0, p0, c0, n0 = cursor_advance(a0, c0, n0)
            a1, p1, c1, n1 = cursor_advance(a1, c1, n1)
            a2, p2, c2, n2 = cursor_advance(a2, c2, n2)
            s = (
                shift_right(c0, p0, first) + c0 + shift_left(c0, n0, last)
                + shift_right(c1, p1, first) + shift_left(c1, n1, last)
                + shift_right(c2, p2, first) + c2 + shift_left(c2, n2, last)
            )  # fmt: skip
            v = c1 - k * (c1 - s * 0.125)
            col = x + index()
            if (col == 0) | (col == width - 1):
                v = c1  # the border keeps its value
            store(v, p)
            p = p + 16
        receive()
        receive()
        receive()


def heat_reference(grid: np.ndarray, k: float) -> np.ndarray:
    """`heat_step` in numpy: the same float32 operations in the same order."""
    k = np.float32(k)
    new = grid.copy()
    up, mid, down = grid[:-2], grid[1:-1], grid[2:]
    s = (
        up[:, :-2] + up[:, 1:-1] + up[:, 2:] + mid[:, :-2] + mid[:, 2:]
        + down[:, :-2] + down[:, 1:-1] + down[:, 2:]
    )  # fmt: skip
    c = mid[:, 1:-1]
    new[1:-1, 1:-1] = c - k * (c - s * np.float32(0.125))
    return new

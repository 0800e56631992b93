"""vc6_isa.lang feature by feature: each operator and construct, compiled and run on the
emulator (strict mode) and interpreted in numpy; both must agree bit for bit and with numpy."""

from __future__ import annotations

import numpy as np
import pytest
from vc6_isa.lang import (
    Float,
    Int,
    Ptr,
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
from vc6_isa.lang import kernel as lang_kernel

RNG = np.random.default_rng(12)
L = 16


def both(k, *args, num_qpus=1):
    """Run ``k`` interpreted and compiled on copies of ``args``; assert the arrays agree
    bitwise and return the compiled run's arrays."""
    a1 = [x.copy() if isinstance(x, np.ndarray) else x for x in args]
    a2 = [x.copy() if isinstance(x, np.ndarray) else x for x in args]
    k.interpret(*a1, num_qpus=num_qpus)
    k(*a2, num_qpus=num_qpus)
    for i, (x, y) in enumerate(zip(a1, a2)):
        if isinstance(x, np.ndarray):
            assert np.array_equal(x.view(np.uint32), y.view(np.uint32)), (
                f"argument {i}: interpreter {x} != compiled {y}"
            )
    return a2


def ints(lo=-(2**31), hi=2**31 - 1, n=L):
    return RNG.integers(lo, hi, n, endpoint=True).astype(np.int32)


@lang_kernel
def int_ops(a: Ptr[Int], b: Ptr[Int], out: Ptr[Int]):
    x = a[0]
    y = b[0]
    out[0] = x + y
    out[16] = x - y
    out[32] = x * y
    out[48] = x << (y & 31)
    out[64] = x >> (y & 31)
    out[80] = x & y
    out[96] = x | y
    out[112] = x ^ y
    out[128] = ~x
    out[144] = -x
    out[160] = min(x, y)
    out[176] = max(x, y)
    out[192] = abs(x)
    out[208] = x * 8 + 100000 - (y >> 3)


def test_int_operators():
    a, b = ints(), ints()
    a[:4] = [-(2**31), 2**31 - 1, 0, -1]
    out = np.zeros(14 * L, np.int32)
    (_, _, got) = both(int_ops, a, b, out)
    with np.errstate(over="ignore"):
        ua, ub = a.view(np.uint32), b.view(np.uint32)
        s = (b & 31).astype(np.uint32)
        want = [
            (ua + ub).view(np.int32), (ua - ub).view(np.int32), (ua * ub).view(np.int32),
            (ua << s).view(np.int32), a >> s.astype(np.int32), a & b, a | b, a ^ b, ~a,
            (np.uint32(0) - ua).view(np.int32), np.minimum(a, b), np.maximum(a, b),
            np.where(a == -(2**31), a, np.abs(a)),
            ((ua * np.uint32(8)) + np.uint32(100000) - (b >> 3).view(np.uint32)).view(np.int32),
        ]  # fmt: skip
    for row, w in enumerate(want):
        assert np.array_equal(got[row * L : (row + 1) * L], w), row


@lang_kernel
def float_ops(
    a: Ptr[Float], b: Ptr[Float], i: Ptr[Int], out: Ptr[Float], iout: Ptr[Int]
):
    x = a[0]
    y = b[0]
    out[0] = x + y
    out[16] = x - y
    out[32] = x * y
    out[48] = -x
    out[64] = abs(x)
    out[80] = min(x, y)
    out[96] = max(x, y)
    out[112] = to_float(i[0])
    out[128] = x * 0.5 + 3.25 - y * 1.0e-3
    iout[0] = to_int(x * 100.0)


def test_float_operators():
    a = (RNG.standard_normal(L) * 10).astype(np.float32)
    b = (RNG.standard_normal(L) * 10).astype(np.float32)
    a[:3] = [0.0, -0.0, 1.5]
    b[:3] = [-0.0, 0.0, 1.5]
    i = ints(-(2**30), 2**30)
    out = np.zeros(9 * L, np.float32)
    iout = np.zeros(L, np.int32)
    _, _, _, got, igot = both(float_ops, a, b, i, out, iout)
    want = [a + b, a - b, a * b, -a, np.abs(a), None, None, i.astype(np.float32),
            a * np.float32(0.5) + np.float32(3.25) - b * np.float32(1.0e-3)]  # fmt: skip
    for row, w in enumerate(want):
        if w is not None:
            assert np.array_equal(
                got[row * L : (row + 1) * L].view(np.uint32), w.view(np.uint32)
            ), row
    assert np.array_equal(got[80:96], np.minimum(a, b))
    assert np.array_equal(got[96:112], np.maximum(a, b))
    # -0 < +0 for fmin/fmax (reference 10.3, the emulator's choice)
    assert np.signbit(got[80]) and np.signbit(got[81]) and not np.signbit(got[96])
    assert np.array_equal(igot, np.trunc(a * np.float32(100.0)).astype(np.int32))


@lang_kernel
def sfu_ops(a: Ptr[Float], out: Ptr[Float]):
    x = a[0]
    out[0] = sqrt(x)
    out[16] = recip(x)
    out[32] = rsqrt(x)
    out[48] = exp2(x)
    out[64] = log2(x)
    out[80] = sin(x)
    out[96] = x / (x + 1.0)


def test_sfu_functions_agree_with_numpy_within_the_sfu_tolerance():
    a = RNG.uniform(0.1, 8.0, L).astype(np.float32)
    out = np.zeros(7 * L, np.float32)
    _, got = both(sfu_ops, a, out)
    want = [
        np.sqrt(a),
        1 / a,
        1 / np.sqrt(a),
        np.exp2(a),
        np.log2(a),
        np.sin(a),
        a / (a + 1),
    ]
    for row, w in enumerate(want):
        np.testing.assert_allclose(
            got[row * L : (row + 1) * L], w, rtol=1e-5, atol=1e-5
        )


@lang_kernel
def compares(a: Ptr[Int], b: Ptr[Int], fa: Ptr[Float], fb: Ptr[Float], out: Ptr[Int]):
    x = a[0]
    y = b[0]
    u = fa[0]
    v = fb[0]
    for k in static_range(12):
        r = Int(0)
        if k == 0:
            c = x == y
        elif k == 1:
            c = x != y
        elif k == 2:
            c = x < y
        elif k == 3:
            c = x <= y
        elif k == 4:
            c = x > y
        elif k == 5:
            c = x >= y
        elif k == 6:
            c = u == v
        elif k == 7:
            c = u != v
        elif k == 8:
            c = u < v
        elif k == 9:
            c = u <= v
        elif k == 10:
            c = u > v
        else:
            c = u >= v
        if c:
            r = 1
        out[16 * k] = r


def test_comparisons():
    a, b = ints(), ints()
    a[:6] = [5, -(2**31), 2**31 - 1, 7, -1, 0]
    b[:6] = [5, 2**31 - 1, -(2**31), 8, 0, -1]
    fa = RNG.integers(-3, 3, L).astype(np.float32)
    fb = RNG.integers(-3, 3, L).astype(np.float32)
    fa[:2], fb[:2] = [0.0, np.inf], [-0.0, np.inf]
    out = np.zeros(12 * L, np.int32)
    *_, got = both(compares, a, b, fa, fb, out)
    import operator as o

    fns = [o.eq, o.ne, o.lt, o.le, o.gt, o.ge]
    for k, f in enumerate(fns):
        assert np.array_equal(got[16 * k : 16 * k + 16], f(a, b).astype(np.int32)), k
        assert np.array_equal(
            got[16 * (k + 6) : 16 * (k + 7)], f(fa, fb).astype(np.int32)
        ), k + 6


@lang_kernel
def bool_ops(a: Ptr[Int], b: Ptr[Int], out: Ptr[Int]):
    x = a[0]
    y = b[0]
    both_pos = (x > 0) & (y > 0)
    either = (x > 0) | (y > 0)
    r = Int(0)
    if both_pos:
        r = r + 1
    if either:
        r = r + 2
    if ~either:
        r = r + 4
    if ~(x == y) & either:
        r = r + 8
    out[0] = r


def test_bool_combinations():
    a = RNG.integers(-2, 3, L).astype(np.int32)
    b = RNG.integers(-2, 3, L).astype(np.int32)
    out = np.zeros(L, np.int32)
    *_, got = both(bool_ops, a, b, out)
    bp, ei = (a > 0) & (b > 0), (a > 0) | (b > 0)
    want = bp * 1 + ei * 2 + (~ei) * 4 + ((a != b) & ei) * 8
    assert np.array_equal(got, want)


@lang_kernel
def nested_where(a: Ptr[Int], out: Ptr[Int]):
    x = a[0]
    r = Int(0)
    if x > 10:
        if x > 20:
            r = 3
        else:
            r = 2
        x = x - 1
    elif x < -10:
        r = -1
    else:
        r = x * 2
    out[0] = r
    out[16] = x


def test_nested_per_lane_if_elif_else():
    a = RNG.integers(-30, 30, L).astype(np.int32)
    out = np.zeros(2 * L, np.int32)
    _, got = both(nested_where, a, out)
    want = np.where(a > 10, np.where(a > 20, 3, 2), np.where(a < -10, -1, a * 2))
    assert np.array_equal(got[:16], want)
    assert np.array_equal(got[16:], np.where(a > 10, a - 1, a))


@lang_kernel
def uniform_control(a: Ptr[Int], n: Int, out: Ptr[Int]):
    x = a[0]
    steps = Int(0)
    while all(x > 0):
        x = x - 3
        steps = steps + 1
    if any(x < -5):
        x = x + 100
    else:
        x = x - 100
    total = Int(0)
    for i in range(n, 0, -2):
        total = total + i
    for j in range(3):
        total = total + j
    out[0] = x
    out[16] = steps
    out[32] = total


def test_any_all_branches_and_runtime_for():
    a = RNG.integers(5, 40, L).astype(np.int32)
    out = np.zeros(3 * L, np.int32)
    _, _, got = both(uniform_control, a, 9, out)
    x, steps = a.copy(), 0
    while np.all(x > 0):
        x, steps = x - 3, steps + 1
    x = x + 100 if np.any(x < -5) else x - 100
    assert np.array_equal(got[:16], x)
    assert np.all(got[16:32] == steps)
    assert np.all(got[32:] == sum(range(9, 0, -2)) + 3)


@lang_kernel
def where_with_loop(a: Ptr[Int], out: Ptr[Int]):
    x = a[0]
    if x > 0:
        while any(x > 7):
            x = x - 7
    out[0] = x


def test_uniform_loop_inside_a_per_lane_if_respects_the_mask():
    a = RNG.integers(-20, 50, L).astype(np.int32)
    out = np.zeros(L, np.int32)
    _, got = both(where_with_loop, a, out)
    x, m = a.copy(), a > 0
    while np.any(
        (x > 7) & m
    ):  # the whole masked group iterates until no lane of it is > 7
        x = np.where(m, x - 7, x)
    assert np.array_equal(got, x)


@inline
def swap_sorted(x, y):
    return min(x, y), max(x, y)


@inline
def sort3(x, y, z):
    x, y = swap_sorted(x, y)
    y, z = swap_sorted(y, z)
    x, y = swap_sorted(x, y)
    return x, y, z


@lang_kernel
def inline_sort(a: Ptr[Float], out: Ptr[Float]):
    x, y, z = sort3(a[0], a[16], a[32])
    out[0] = x
    out[16] = y
    out[32] = z
    out[48] = x + y + z
    t = y
    y = z
    out[64] = t - y


def test_inline_helpers_and_tuples():
    a = RNG.standard_normal(3 * L).astype(np.float32)
    out = np.zeros(5 * L, np.float32)
    _, got = both(inline_sort, a, out)
    s = np.sort(a.reshape(3, L), axis=0)
    assert np.array_equal(got[:48].reshape(3, L), s)
    assert np.array_equal(got[48:64], s[0] + s[1] + s[2])
    assert np.array_equal(got[64:80], s[1] - s[2])


SHIFTS = (1, 3, 15)


@lang_kernel
def rotations(a: Ptr[Int], n: Int, out: Ptr[Int]):
    x = a[0]
    for k in static_range(len(SHIFTS)):
        out[16 * k] = rotate(x, SHIFTS[k])
    out[48] = rotate(x, n)
    out[64] = rotate(x, -1)
    r = rotate(x, 2)
    if index() < 4:
        r = rotate(x + 1, 5)
    out[80] = r


def test_rotate_by_constants_and_by_an_int():
    a = np.arange(100, 116, dtype=np.int32)
    out = np.zeros(6 * L, np.int32)
    _, _, got = both(rotations, a, 6, out)
    for k, s in enumerate(SHIFTS):
        assert np.array_equal(got[16 * k : 16 * k + 16], np.roll(a, s))
    assert np.array_equal(got[48:64], np.roll(a, 6))
    assert np.array_equal(got[64:80], np.roll(a, -1))
    assert np.array_equal(
        got[80:96], np.where(np.arange(L) < 4, np.roll(a + 1, 5), np.roll(a, 2))
    )


@lang_kernel
def ids(out: Ptr[Int]):
    p = out + (me() << 4)
    p[0] = index() * 100 + me() * 10 + num_qpus()


def test_index_me_num_qpus_on_four_qpus():
    out = np.zeros(4 * L, np.int32)
    (got,) = both(ids, out, num_qpus=4)
    want = np.arange(L)[None, :] * 100 + np.arange(4)[:, None] * 10 + 4
    assert np.array_equal(got.reshape(4, L), want)


@lang_kernel
def memory(src: Ptr[Float], dst: Ptr[Float], n: Int):
    p = src + index()
    q = dst + index()
    gather(p)
    gather(p + 16)
    x = receive()
    y = receive()
    store(x + y, q)
    i = Int(0)
    while any(i < n):
        v = src[i + 32]
        if v > 0.0:
            dst[i + 16] = v
        i = i + 16


def test_gather_receive_store_loads_and_masked_stores():
    src = RNG.standard_normal(64).astype(np.float32)
    dst = np.full(48, -7.0, np.float32)
    _, got, _ = both(memory, src, dst, 32)
    assert np.array_equal(got[:16], src[:16] + src[16:32])
    tail = src[32:64]
    assert np.array_equal(got[16:48], np.where(tail > 0, tail, np.float32(-7.0)))


SCALE = 3


@lang_kernel
def consts(out: Ptr[Float]):
    acc = Float(0.0)
    for k in static_range(4):
        acc = acc + float(k + 1) * SCALE
    out[0] = acc + 0.1


def test_compile_time_constants_fold():
    out = np.zeros(L, np.float32)
    (got,) = both(consts, out)
    assert np.all(got == np.float32(30.0) + np.float32(0.1))


def test_device_arrays_are_used_in_place_and_numpy_scalars_are_accepted():
    from vc6_isa.lang import default_device

    dev = default_device()
    a = dev.array(L, np.int32)
    b = dev.array(L, np.int32)
    out = dev.array(14 * L, np.int32)
    try:
        a[:] = np.arange(L)
        b[:] = 3
        out[:] = 0
        int_ops(a, b, out)
        assert np.array_equal(out[:16], np.arange(L) + 3)
        vals = np.zeros(3 * L, np.int32)
        uniform_control(np.full(L, 10, np.int32), np.int64(4), vals)
        assert np.all(vals[32:] == 4 + 2 + 3)
    finally:
        for x in (a, b, out):
            x.close()


def test_programs_are_cached_per_argument_types_and_disassemble():
    from vc6_isa.lang.examples import gcd_unrolled

    p1 = gcd_unrolled.compile()
    p2 = gcd_unrolled.compile()
    assert p1 is p2
    text = gcd_unrolled.disassemble()
    assert "thrsw" in text and "ldtmu" in text and "b.any" in text


def test_unannotated_parameters_take_the_argument_types():
    @lang_kernel
    def scale(x, s, out):
        out[0] = x[0] * s

    x = np.arange(L, dtype=np.float32)
    out = np.zeros(L, np.float32)
    both(scale, x, 2.5, out)
    assert np.array_equal(out * 0, out * 0)
    _, _, got = both(scale, x, 2.5, out)
    assert np.array_equal(got, x * np.float32(2.5))
    xi = np.arange(L, dtype=np.int32)
    _, _, goti = both(scale, xi, 3, np.zeros(L, np.int32))
    assert np.array_equal(goti, xi * 3)


@pytest.mark.parametrize("nq", [1, 3])
def test_num_qpus_splits_work(nq):
    @lang_kernel
    def add_one(x: Ptr[Int], n: Int):
        for i in range(me() << 4, n, num_qpus() << 4):
            x[i] = x[i] + 1

    x = np.arange(160, dtype=np.int32)
    (got, _) = both(add_one, x, 160, num_qpus=nq)
    assert np.array_equal(got, np.arange(160) + 1)


def test_scheduler_dual_issues_and_fills_the_loop_branch_delay_slots():
    from vc6_isa.lang import examples as ex

    text = ex.rot3d_3.disassemble().splitlines()
    loop = text[text.index("L2:") + 1 : text.index("L3:")]
    both_alus = [ln for ln in loop if not ln.startswith("nop ") and "; nop " not in ln[:60]]
    assert len(both_alus) >= 2, loop  # add and mul ops issued together
    branch = next(i for i, ln in enumerate(loop) if ln.startswith("b."))
    slots = loop[branch + 1 : branch + 4]
    assert len(slots) == 3
    assert any(not ln.startswith("nop                           ; nop") for ln in slots), slots


def test_interpreter_reports_out_of_bounds_lanes():
    from vc6_isa.lang import LangError

    @lang_kernel
    def oob(x: Ptr[Int]):
        x[index()] = 1

    with pytest.raises(LangError, match="outside every array"):
        oob.interpret(np.zeros(L, np.int32))


def test_compile_with_explicit_types():
    from vc6_isa.lang.types import FLOAT, ptr_of

    @lang_kernel
    def scale2(x, s, out):
        out[0] = x[0] * s

    prog = scale2.compile(ptr_of(FLOAT), FLOAT, ptr_of(FLOAT))
    assert prog is scale2.compile(np.zeros(L, np.float32), 1.0, np.zeros(L, np.float32))
    assert prog.compile_seconds < 5


@lang_kernel
def sfu_and_pop_into_stores(x: Ptr[Float], out: Ptr[Float]):
    p = x + index()
    q = out + index()
    gather(p)
    store(receive(), q + 16)
    store(sqrt(x[0]), q)


def test_sfu_results_and_tmu_pops_are_stored_through_registers():
    x = np.arange(1, L + 1, dtype=np.float32)
    out = np.zeros(2 * L, np.float32)
    _, got = both(sfu_and_pop_into_stores, x, out)
    assert np.array_equal(got[16:], x)
    np.testing.assert_allclose(got[:16], np.sqrt(x), rtol=1e-6)
    text = sfu_and_pop_into_stores.disassemble()
    assert "ldtmu.tmud" not in text and "rsqrt tmud" not in text and "recip tmud" not in text


@lang_kernel
def pow2_div_mod(a: Ptr[Int], out: Ptr[Int]):
    x = a[0]
    out[0] = x // 16
    out[16] = x % 16
    out[32] = x // 1 + x % 1


def test_floor_division_and_modulo_by_powers_of_two_follow_python():
    a = ints(-1000, 1000)
    out = np.zeros(3 * L, np.int32)
    _, got = both(pow2_div_mod, a, out)
    assert np.array_equal(got[:16], a // 16)
    assert np.array_equal(got[16:32], a % 16)
    assert np.array_equal(got[32:], a)


@lang_kernel
def updates(a: Ptr[Int], f: Ptr[Float]):
    a[0] += 5
    a[16] <<= 2
    x = f[0]
    x *= 2.0
    f[0] -= x
    f[16] = x


def test_augmented_assignments_to_names_and_elements():
    a = ints(-1000, 1000, 2 * L)
    f = RNG.standard_normal(2 * L).astype(np.float32)
    got_a, got_f = both(updates, a, f)
    assert np.array_equal(got_a[:16], a[:16] + 5)
    assert np.array_equal(got_a[16:], a[16:] << 2)
    assert np.array_equal(got_f[16:], f[:16] * np.float32(2.0))
    assert np.array_equal(got_f[:16], f[:16] - f[:16] * np.float32(2.0))


@lang_kernel
def loads_between_gathers(a: Ptr[Float], out: Ptr[Float]):
    gather(a + index())
    gather(a + index() + 16)
    c = a[32]  # the two gathers are popped first; receive() then returns them
    x = receive()
    gather(a + index() + 48)
    y = receive()
    z = receive()
    out[0] = x + y * 2.0 + z * 4.0 + c * 8.0


def test_p_i_loads_while_gathers_are_in_flight():
    a = RNG.standard_normal(4 * L).astype(np.float32)
    out = np.zeros(L, np.float32)
    _, got = both(loads_between_gathers, a, out)
    x, y, c, z = a[:16], a[16:32], a[32:48], a[48:64]
    want = x + y * np.float32(2.0) + z * np.float32(4.0) + c * np.float32(8.0)
    assert np.array_equal(got, want)

"""vc6_isa.lang errors: raised at compile time (before any device is touched), naming the
kernel's file:line, showing the source line with a caret, and saying how to fix it."""

from __future__ import annotations

import numpy as np
import pytest
from vc6_isa.lang import (
    Float,
    Int,
    KernelArgumentError,
    LangError,
    Ptr,
    gather,
    index,
    kernel,
    receive,
    static_range,
    to_float,
)


def compile_error(k) -> LangError:
    with pytest.raises(LangError) as info:
        k.compile()
    return info.value


def test_int_plus_float_points_at_the_expression():
    @kernel
    def bad(p: Ptr[Int], q: Ptr[Float]):
        a = p[0]
        q[0] = a + q[0]

    err = compile_error(bad)
    text = str(err)
    lines = text.splitlines()
    assert lines[0] == "Int + Float needs an explicit conversion"
    assert f'File "{__file__}", line {err.line}, in kernel bad' in lines[1]
    assert lines[2].strip() == "q[0] = a + q[0]"
    assert lines[3].strip() == "^" * len("a + q[0]")
    assert lines[3].index("^") == lines[2].index("a + q[0]")
    assert (
        lines[-1]
        == "fix: write to_float(x) or to_int(x) so both operands have the same type"
    )
    assert err.filename == __file__


def test_undefined_name():
    @kernel
    def bad(p: Ptr[Int]):
        p[0] = missing + 1  # noqa: F821

    err = compile_error(bad)
    assert "name 'missing' is not defined" in str(err)
    assert "^^^^^^^" in str(err)


def test_a_per_lane_while_condition_asks_for_any_or_all():
    @kernel
    def bad(p: Ptr[Int]):
        a = p[0]
        while a > 0:
            a = a - 1
        p[0] = a

    err = str(compile_error(bad))
    assert "a while condition must be the same for all 16 lanes" in err
    assert "while any(cond)" in err


def test_statements_outside_the_language():
    @kernel
    def bad(p: Ptr[Int]):
        assert p is not None

    err = str(compile_error(bad))
    assert "'assert' statements are not part of the kernel language" in err


def test_variable_first_assigned_in_a_per_lane_if():
    @kernel
    def bad(p: Ptr[Int]):
        a = p[0]
        if a > 0:
            b = a + 1
        p[0] = b

    err = str(compile_error(bad))
    assert (
        "'b' is not defined here: it was first assigned inside a per-lane 'if'" in err
    )
    assert "fix: give b a value before that block" in err


def test_gathers_not_received_and_unbalanced_loops():
    @kernel
    def never_received(p: Ptr[Int]):
        gather(p)

    assert "1 gathered value(s) never received" in str(compile_error(never_received))

    @kernel
    def unbalanced(p: Ptr[Int], n: Int):
        for i in range(n):
            gather(p + index())
        p[0] = 0

    err = str(compile_error(unbalanced))
    assert "changes the number of outstanding gathers from 0 to 1" in err

    @kernel
    def too_many(p: Ptr[Int]):
        for k in static_range(9):
            gather(p + k)
        for k in static_range(9):
            receive()

    assert "more than 8 gathers outstanding" in str(compile_error(too_many))

    @kernel
    def nothing(p: Ptr[Int]):
        p[0] = receive()

    assert "receive() with nothing gathered" in str(compile_error(nothing))


@pytest.mark.parametrize("threads", [1, 4])
def test_too_many_live_values(threads):
    @kernel(threads=threads)
    def bad(p: Ptr[Float]):
        vals = ()
        for k in static_range(80):
            vals = vals + (p[0] * float(k),)
        s = Float(0.0)
        for k in static_range(80):
            s = s + vals[k]
        p[0] = s

    err = str(compile_error(bad))
    assert "too many values are live at once" in err
    if threads == 4:
        assert "29 register-file entries and 5 accumulators of a 4-way threaded" in err
        assert "compile with threads=2" in err
    else:
        assert "61 register-file entries" in err


def test_type_errors_of_calls_and_conversions():
    @kernel
    def bad(p: Ptr[Int]):
        p[0] = to_float(p[0])

    assert "type mismatch: expected Int, got Float" in str(compile_error(bad))

    @kernel
    def bad2(p: Ptr[Float]):
        p[0] = p[0] << 2

    assert "<< applies to Int only" in str(compile_error(bad2))

    @kernel
    def bad3(p: Ptr[Int]):
        p[0] = p[0] / 2

    assert "/ is Float division" in str(compile_error(bad3))


def test_argument_errors_before_dispatch():
    @kernel
    def k(p: Ptr[Int], n: Int):
        p[0] = n

    with pytest.raises(KernelArgumentError, match="must be an array of int32"):
        k(np.zeros(16, np.float64), 1)
    with pytest.raises(KernelArgumentError, match="takes 2 argument"):
        k(np.zeros(16, np.int32))
    with pytest.raises(
        KernelArgumentError, match="num_qpus must be an int from 1 to 8"
    ):
        k(np.zeros(16, np.int32), 1, num_qpus=9)


def test_markers_outside_kernels_raise():
    with pytest.raises(LangError, match="only be used inside a @kernel"):
        index()
    with pytest.raises(LangError, match="only meaningful inside"):
        Int(3)


def test_kernels_return_nothing_and_do_not_call_kernels():
    @kernel
    def returns(p: Ptr[Int]):
        return p[0]

    assert "a kernel returns nothing" in str(compile_error(returns))

    @kernel
    def callee(p: Ptr[Int]):
        p[0] = 1

    @kernel
    def caller(p: Ptr[Int]):
        callee(p)

    assert "a kernel cannot call another kernel" in str(compile_error(caller))


def test_four_threads_allow_four_gathers_in_flight():
    def five(p: Ptr[Int]):
        for k in static_range(5):
            gather(p + k)
        for k in static_range(5):
            receive()

    kernel(five).compile()  # one thread: 8 in flight
    err = str(compile_error(kernel(five, threads=4)))
    assert "more than 4 gathers outstanding" in err
    with pytest.raises(KernelArgumentError, match="threads must be 1, 2 or 4"):
        kernel(five, threads=3)


def test_break_and_branches_that_disagree_about_the_tmu_queue():
    @kernel
    def brk(p: Ptr[Int], n: Int):
        for i in range(n):
            break

    assert "'break' is not supported in kernels" in str(compile_error(brk))

    @kernel
    def uneven(p: Ptr[Int]):
        a = p[0]
        if any(a > 0):
            gather(p + index())
        else:
            a = a + 1
        p[0] = a

    assert "this if changes the number of outstanding gathers" in str(compile_error(uneven))


def test_floor_division_by_other_values_is_refused():
    @kernel
    def bad(p: Ptr[Int]):
        p[0] = p[0] // 3

    assert "Int // and % take a power-of-two constant" in str(compile_error(bad))


def test_python_conversions_of_vectors_point_to_the_kernel_ones():
    @kernel
    def bad(p: Ptr[Int], q: Ptr[Float]):
        q[0] = float(p[0])

    err = str(compile_error(bad))
    assert "float() converts compile-time numbers" in err
    assert "fix: write to_float(x)" in err

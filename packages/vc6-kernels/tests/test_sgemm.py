import numpy as np
import pytest
import vc6_kernels
from vc6_kernels import sgemm
from vc6_kernels.sgemm import dual_issue_share, program

SIZES = [1, 2, 15, 16, 17, 31, 33, 63, 64, 65]


def ref(a, b, c=None, alpha=1.0, beta=0.0, trans_a=False, trans_b=False):
    oa = (a.T if trans_a else a).astype(np.float64)
    ob = (b.T if trans_b else b).astype(np.float64)
    out = alpha * (oa @ ob)
    if beta != 0:
        out = out + beta * c.astype(np.float64)
    return out


def check(got, a, b, want, trans_a=False, trans_b=False, alpha=1.0):
    oa = np.abs(a.T if trans_a else a).astype(np.float64)
    ob = np.abs(b.T if trans_b else b).astype(np.float64)
    k = oa.shape[1]
    # K sequential float32 fmul+fadd per element, then the alpha/beta step
    bound = (k + 3) * 2.0**-23 * (abs(alpha) * (oa @ ob) + np.abs(want)) + 1e-30
    assert got.dtype == np.float32 and got.shape == want.shape
    assert np.all(np.abs(got - want) <= bound)


@pytest.mark.parametrize("m", SIZES)
def test_square_and_edge_sizes(rng, m):
    a = rng.standard_normal((m, m), dtype=np.float32)
    b = rng.standard_normal((m, m), dtype=np.float32)
    check(sgemm(a, b), a, b, ref(a, b))


@pytest.mark.parametrize(
    "m,n,k",
    [(1, 97, 3), (97, 1, 5), (13, 7, 101), (37, 41, 43), (5, 70, 1), (70, 5, 2)],
)
def test_non_square_and_primes(rng, m, n, k):
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    check(sgemm(a, b), a, b, ref(a, b))


@pytest.mark.parametrize("trans_a", [False, True])
@pytest.mark.parametrize("trans_b", [False, True])
def test_transposes(rng, trans_a, trans_b):
    m, n, k = 19, 35, 23
    a = rng.standard_normal((k, m) if trans_a else (m, k), dtype=np.float32)
    b = rng.standard_normal((n, k) if trans_b else (k, n), dtype=np.float32)
    got = sgemm(a, b, trans_a=trans_a, trans_b=trans_b)
    check(got, a, b, ref(a, b, trans_a=trans_a, trans_b=trans_b), trans_a, trans_b)


@pytest.mark.parametrize(
    "alpha,beta", [(2.5, 0.0), (-0.5, 1.0), (1.0, -3.0), (0.0, 2.0)]
)
def test_alpha_beta_updates_c(rng, alpha, beta):
    m, n, k = 18, 34, 7
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    c = rng.standard_normal((m, n), dtype=np.float32)
    c0 = c.copy()
    got = sgemm(a, b, c, alpha=alpha, beta=beta)
    want = ref(a, b, c0, alpha, beta)
    check(got, a, b, want, alpha=alpha)
    assert np.array_equal(c, got)  # updated in place


def test_beta_zero_does_not_read_c(rng):
    a = rng.standard_normal((5, 3), dtype=np.float32)
    b = rng.standard_normal((3, 6), dtype=np.float32)
    c = np.full((5, 6), np.nan, np.float32)
    got = sgemm(a, b, c)
    assert np.all(np.isfinite(got))


def test_device_arrays_in_place(dev, rng):
    m, n, k = 20, 40, 9
    a = dev.array((m, k), np.float32)
    b = dev.array((k, n), np.float32)
    c = dev.array((m, n), np.float32)
    a[...] = rng.standard_normal((m, k))
    b[...] = rng.standard_normal((k, n))
    c[...] = 1.0
    got = sgemm(a, b, c, beta=1.0)
    want = ref(np.asarray(a), np.asarray(b), np.ones((m, n), np.float32), 1.0, 1.0)
    check(got, np.asarray(a), np.asarray(b), want)
    assert type(got) is np.ndarray
    assert np.array_equal(np.asarray(c), got)


def test_inner_loop_dual_issue_share():
    for k in (1, 2, 3, 4, 1024):
        for use_beta in (False, True):
            assert dual_issue_share(program(k, use_beta)) >= 0.75
    # the share is counted from the words, so a loop without fmul+fadd would fail
    assert 0.85 < dual_issue_share(program(1024)) < 1.0  # 32 of 37: 4 B loads + the branch


def test_program_is_cached_and_inspectable():
    assert program(1024) is program(512)
    assert "kloop" in program(1024).labels
    assert "ldunifa" in program(1024).disassembly()
    assert vc6_kernels.sgemm.program is program


def test_record_collects_jobs_with_stats(rng):
    a = rng.standard_normal((4, 4), dtype=np.float32)
    with vc6_kernels.record() as outer:
        with vc6_kernels.record() as inner:
            sgemm(a, a)
        sgemm(a, a)
    assert len(inner.jobs) == 1 and len(outer.jobs) == 2
    stats = outer.jobs[0].stats
    assert stats is not None and stats.cycles > 0


@pytest.mark.parametrize(
    "args,kwargs,exc,match",
    [
        (
            (np.ones((2, 3), np.float64), np.ones((3, 2), np.float32)),
            {},
            TypeError,
            "dtype float64",
        ),
        (
            (np.ones((2, 3), np.float32), np.ones((2, 2), np.float32)),
            {},
            ValueError,
            "inner dimensions",
        ),
        ((np.ones(3, np.float32), np.ones((3, 2), np.float32)), {}, ValueError, "2-D"),
        (([[1.0]], np.ones((1, 1), np.float32)), {}, TypeError, "numpy array"),
        (
            (np.ones((2, 2), np.float32), np.ones((2, 2), np.float32)),
            {"beta": 1.0},
            ValueError,
            "needs a c",
        ),
        (
            (
                np.ones((2, 2), np.float32),
                np.ones((2, 2), np.float32),
                np.ones((3, 2), np.float32),
            ),
            {},
            ValueError,
            "shape",
        ),
        (
            (np.ones((2, 2), np.float32), np.ones((2, 2), np.float32)),
            {"alpha": "2"},
            TypeError,
            "real number",
        ),
        (
            (np.ones((0, 2), np.float32), np.ones((2, 2), np.float32)),
            {},
            ValueError,
            ">= 1",
        ),
    ],
)
def test_bad_arguments_raise_before_submit(args, kwargs, exc, match):
    with vc6_kernels.record() as rec, pytest.raises(exc, match=match):
        sgemm(*args, **kwargs)
    assert rec.jobs == []


def test_c_overlapping_an_input_is_refused(rng):
    a = rng.standard_normal((4, 4), dtype=np.float32)
    with pytest.raises(ValueError, match="overlaps"):
        sgemm(a, a, a)

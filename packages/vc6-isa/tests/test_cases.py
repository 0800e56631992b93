# ruff: noqa: F811  (pytest fixtures imported from test_emulator_support)
"""The hardware-behaviour case library (vc6_isa.cases) that ``vc6-bench selftest`` runs on a Pi:
every case runs in strict mode, and the op sweep computes, lane by lane, what the per-lane
semantics compute (a differential test of the machine against emulator/semantics.py)."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from test_emulator_support import dev  # noqa: F401
from vc6_isa import encoding
from vc6_isa.asm import assemble, qpu
from vc6_isa.cases import CASES, load_rows, ops, prologue, run_case
from vc6_isa.emulator.semantics import SEMANTICS


def test_case_names_are_unique_and_grouped():
    names = [case.name for case in CASES.values()]
    assert len(names) == len(set(names))
    assert {name.split(".")[0] for name in names} == {"alu", "sfu", "branch", "signal", "tmu", "unifa", "thread", "barrier", "program", "op"}


def test_the_sweep_covers_every_value_op_of_the_table_but_the_skipped():
    swept = {name for _, name in ops.swept_ops()}
    table = {name for table in (encoding.ADD_OPS, encoding.MUL_OPS) for name, spec in table.items()
             if spec.has_dst and spec.nsrc in (1, 2) and name in SEMANTICS}
    assert swept == table - set(ops.SKIPPED)
    assert len(ops.CASES) == len(ops.swept_ops())


def _plain(name: str) -> bool:
    """Ops whose semantics take one lane's operands only (no rtop, no neighbouring lanes)."""
    function = getattr(SEMANTICS[name], "py_func", SEMANTICS[name])
    return list(inspect.signature(function).parameters) in (["a"], ["a", "b"])


PLAIN = [case for case in ops.CASES if _plain(case.name.split(".")[2])]
OTHERS = [case for case in ops.CASES if case not in PLAIN]


@pytest.mark.parametrize("case", OTHERS, ids=lambda case: case.name)
def test_ops_whose_semantics_need_more_than_the_lane_run_in_strict_mode(dev, case):
    # fdx/fdy read neighbouring lanes and umul24 the rtop of a multop: test_semantics checks
    # their values; here the programs must run without breaking a rule and store every row.
    out = run_case(dev, case).outputs["out"]
    assert out.shape == (case.rows, 16) and not (out == 0xCCCCCCCC).all(axis=1).any()


@pytest.mark.parametrize("case", PLAIN, ids=lambda case: case.name)
def test_each_swept_op_gives_its_semantics_lane_by_lane(dev, case):
    _, alu, name = case.name.split(".")
    result = run_case(dev, case)  # strict mode: the sweep breaks no rule
    out, rows = result.outputs["out"], result.inputs["rows"]
    spec = (encoding.ADD_OPS if alu == "add" else encoding.MUL_OPS)[name]
    pairs = ops.PAIRS if spec.nsrc == 2 else tuple((a, a) for a in ops.SINGLES)
    function = SEMANTICS[name]
    for row, (a, b) in enumerate(pairs):
        # read the operands as the encoded word does: fmax/faddnf are told from fmin/fadd by order
        word = encoding.decode(ops._word(alu, name, a, b))
        half = word.add if alu == "add" else word.mul
        port = {encoding.MUX_A: word.raddr_a, encoding.MUX_B: word.raddr_b}
        operands = [rows[port[mux]] for mux in (half.a, half.b)[: spec.nsrc]]
        want = [int(function(*(int(x[lane]) for x in operands))[0]) & 0xFFFFFFFF for lane in range(16)]
        np.testing.assert_array_equal(out[row], np.array(want, np.uint32), err_msg=f"{case.name} row {row}")


def test_load_rows_refuses_to_clobber_the_layout_registers():
    @qpu
    def kernel(asm):
        prologue()
        load_rows(11)

    with pytest.raises(Exception, match="at most 10 rows"):
        assemble(kernel)


def test_a_case_with_its_own_uniform_layout_and_no_out_buffer(dev):
    """The shape of a ported py-videocore6 test: its own buffers, uniforms in its own order."""
    from vc6_isa.asm import add, eidx, ldunif, mov, nop, r0, r1, r5, shl, tmua, tmud
    from vc6_isa.cases import Case, epilogue

    @qpu
    def kernel(asm):
        nop(sig=ldunif)  # the constant (first uniform here)
        mov(r1, r5, sig=ldunif)  # then the buffer's address
        eidx(r0)
        shl(r0, r0, 2)
        add(tmud, r1, r0)
        add(tmua, r5, r0)
        epilogue()

    case = Case("test.own_layout", "own uniform layout", kernel, rows=0,
                buffers=lambda: {"x": np.zeros(16, np.uint32)},
                uniforms=lambda addresses: [1000, addresses["x"]])
    result = run_case(dev, case)
    assert "out" not in result.outputs
    np.testing.assert_array_equal(result.outputs["x"], 1000 + 4 * np.arange(16))

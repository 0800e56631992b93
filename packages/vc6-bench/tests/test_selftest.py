"""vc6-bench selftest without a Pi: the "hardware" is a second emulated device whose executor is
deliberately wrong (a flipped result bit, a slower memory model), and every perturbation must be
reported with its program, lane and instruction; an unperturbed one must agree exactly."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import jsonschema
import numpy as np
import pytest
import v3d_drm
from vc6_bench import cli, selftest
from vc6_bench.selftest import perturb
from vc6_isa.cases import CASES, alu
from vc6_isa.emulator import Executor, modelled_label

SCHEMA = json.loads((Path(__file__).parent / "selftest.schema.json").read_text())
CASE_NAMES = ",".join(CASES)


def run_selftest(executor, only: str, **options) -> dict:
    with v3d_drm.open("emulator", executor=executor) as hardware:
        document = selftest.run(hardware, options=selftest.Options(only=only, sizes=("small",), **options))
    jsonschema.validate(json.loads(json.dumps(document)), SCHEMA)
    return document


def by_name(document: dict) -> dict[str, dict]:
    return {entry["name"]: entry for entry in document["programs"]}


def test_the_emulator_against_itself_agrees_on_every_case_and_small_kernel():
    document = run_selftest(Executor(), f"{CASE_NAMES},kernel.")
    assert document["summary"]["agree"], document["summary"]
    assert len(document["programs"]) == len(CASES) + 5
    for entry in document["programs"]:
        assert entry["error"] is None
        assert entry["values"]["compared_words"] > 0 and entry["values"]["differing_words"] == 0
        if entry["kind"] == "case":
            assert entry["expectation"]["hardware"] in ("passed", None), entry["name"]
    for entry in document["programs"][len(CASES):]:
        assert entry["timing"]["ratio"] == 1.0 and not entry["timing"]["flagged"]
        assert entry["verification"]["hardware"]["passed"]


@pytest.mark.parametrize("pick", [0, -1])
def test_a_flipped_bit_in_any_case_is_reported_with_program_lane_and_instruction(pick):
    # flip the first (last) word each case stores: for the cases whose first out row is left out
    # of the comparison (tidx: the hardware's choice of QPU), the last word, which is compared
    names = [name for name, case in CASES.items() if (0 in case.device_dependent) == (pick == -1)]
    document = run_selftest(perturb.FlipResultBit(bit=0, pick=pick), ",".join(names))
    assert document["summary"]["values_differ"] == names
    for entry in document["programs"]:
        values = entry["values"]
        assert values["differing_words"] == 1, entry["name"]
        (diff,) = values["differences"]
        assert diff["bits"] == "0x00000001", entry["name"]
        assert diff["lane"] is not None, entry["name"]
        assert diff["instruction"]["disassembly"] and diff["stored_by"]["disassembly"], entry["name"]
        assert "tmua" in diff["stored_by"]["disassembly"]
        if diff["buffer"] == "out":
            assert diff["lane"] == diff["index"][1]  # traced lane = the probe row's column


# The instruction that computes row k of alu.integer_ops (the case's order of ops).
INTEGER_ROWS = [*alu.INT_OPS, "not", "neg", "clz", "smul24", "umul24"]


@pytest.mark.parametrize("row", range(len(INTEGER_ROWS)))
def test_each_flipped_integer_result_names_the_op_that_computed_it(row):
    lane, bit = row % 16, (5 * row + 3) % 32
    document = run_selftest(perturb.FlipResultBit(bit=bit, pick=16 * row + lane), "alu.integer_ops")
    (diff,) = document["programs"][0]["values"]["differences"]
    assert diff["index"] == [row, lane] and diff["lane"] == lane
    assert int(diff["bits"], 16) == 1 << bit
    assert re.search(rf"(^|[ ;]){INTEGER_ROWS[row]} r0, rf0\b", diff["instruction"]["disassembly"])


@pytest.mark.parametrize("name", ["sgemm", "scopy", "memset", "stencil"])
def test_a_flipped_bit_in_a_kernel_result_names_the_store_and_the_instruction(name):
    document = run_selftest(perturb.FlipResultBit(bit=30), f"kernel.{name}:small")
    (entry,) = document["programs"]
    assert entry["values"]["differing_words"] >= 1
    for diff in entry["values"]["differences"]:
        assert diff["stored_by"] is not None and "tmua" in diff["stored_by"]["disassembly"]
        assert diff["instruction"] is not None and diff["lane"] is not None
    assert not entry["verification"]["hardware"]["passed"] and entry["verification"]["emulator"]["passed"]


def test_a_slower_memory_model_is_reported_as_a_timing_difference_for_every_small_kernel():
    document = run_selftest(perturb.slow_memory(1.5), "kernel.")
    assert document["summary"]["values_differ"] == []
    assert document["summary"]["timing_differs"] == [f"kernel.{n}:small" for n in ("sgemm", "summation", "scopy", "memset", "stencil")]
    for entry in document["programs"]:
        timing = entry["timing"]
        assert timing["ratio"] > 1.10 and timing["flagged"] and timing["ratio_basis"] == "cycles"
        assert timing["counter_ratios"]["QPU-total-clk-cycles-waiting-TMU"] > 1.10
    truth = document["ground_truth"]
    assert [t["program"] for t in truth] == [f"vc6_kernels.{n}" for n in ("sgemm", "summation", "scopy", "memset", "stencil")]
    assert all(t["from_hardware"] is False and t["measured_cycles"] > t["modelled_cycles"] for t in truth)
    text = selftest.render_text(document)
    assert text.count("DIFFERS (furthest counter: QPU-total-clk-cycles-waiting-TMU") == 5
    # every modelled figure carries the calibration band
    modelled = [line for line in text.splitlines() if " cycles = " in line]
    assert len(modelled) == 5 and all(modelled_label() in line for line in modelled)


def test_a_timing_difference_within_the_tolerance_is_not_flagged():
    document = run_selftest(perturb.slow_memory(1.5), "kernel.memset", timing_tolerance=1.0)
    assert document["summary"]["agree"] and document["programs"][0]["timing"]["ratio"] > 1.10


def cli_run(argv, monkeypatch=None):
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["selftest", "--no-progress", *argv], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_without_a_pi_it_says_so_in_one_line_and_exits_3(monkeypatch):
    from v3d_drm.backends import kernel

    monkeypatch.delenv(selftest.command.FAKE_HARDWARE_ENV, raising=False)
    monkeypatch.setattr(kernel, "find_v3d_node", lambda: (None, ["no DRM nodes in /dev/dri"]))
    code, out, err = cli_run([])
    assert code == 3 and out == ""
    assert err.count("\n") == 1 and err.startswith("vc6-bench selftest: no Raspberry Pi GPU here")


def test_cli_with_fake_hardware_prints_the_report_writes_json_and_exits_1(tmp_path):
    report = tmp_path / "report.json"
    code, out, err = cli_run(["--fake-hardware", "vc6_bench.selftest.perturb:flip_bit", "--only", "alu.float_ops",
                              "--report", str(report)])
    assert code == 1, err
    assert "alu.float_ops" in out and "1 of 176 words DIFFER" in out and "computed by pc" in out
    assert f"report: {report}" in out
    document = json.loads(report.read_text())
    jsonschema.validate(document, SCHEMA)
    assert document["hardware"]["emulated"] and "perturbed" in document["hardware"]["executor"]


def test_cli_json_goes_to_stdout_clean_and_an_unperturbed_fake_agrees(monkeypatch):
    monkeypatch.setenv(selftest.command.FAKE_HARDWARE_ENV, "emulator")
    code, out, err = cli_run(["--only", "unifa.,kernel.memset", "--sizes", "small", "--json", "--report", ""])
    assert code == 0, err
    document = json.loads(out)
    assert document["format"] == selftest.FORMAT and document["summary"]["agree"]
    assert [p["name"] for p in document["programs"]] == ["unifa.stream", "kernel.memset:small"]


@pytest.mark.parametrize("argv, message", [
    (["--only", "nothing-like-this"], "matches no program"),
    (["--sizes", "huge"], "unknown size"),
    (["--device", "emulator"], "not 'emulator'"),
])
def test_usage_errors_exit_2(argv, message):
    code, _out, err = cli_run(argv)
    assert code == 2 and message in err


def test_csv_given_before_the_subcommand_is_refused():
    out, err = io.StringIO(), io.StringIO()
    assert cli.main(["--csv", "selftest", "--no-progress"], stdout=out, stderr=err) == 2
    assert "no CSV form" in err.getvalue() and out.getvalue() == ""


def test_list_names_every_program():
    code, out, _ = cli_run(["--list", "--ports", ""])
    names = out.split()
    assert code == 0 and names == [p.name for p in selftest.programs()]
    assert len(names) == len(CASES) + 10


def test_ground_truth_loader_keeps_only_matching_hardware_measurements(tmp_path):
    from vc6_bench.selftest.truth import ReportError, load_ground_truth

    document = run_selftest(perturb.slow_memory(1.5), "kernel.memset,kernel.scopy")
    fake = tmp_path / "fake.json"
    fake.write_text(json.dumps(document))
    assert load_ground_truth([fake]) == []  # measured on an emulated device: not ground truth
    # the same report as if a Pi had made it, with one program's values differing
    document["hardware"]["emulated"] = False
    for truth in document["ground_truth"]:
        truth["from_hardware"] = True
    document["ground_truth"][0]["values_match"] = False
    pi = tmp_path / "pi.json"
    pi.write_text(json.dumps(document))
    (truth,) = load_ground_truth([pi])
    assert truth.program == "vc6_kernels.memset" and truth.cycles_counter == "compute-active-cycles"
    assert truth.measured_cycles > truth.modelled_cycles > 0
    (tmp_path / "other.json").write_text('{"format": "something-else"}')
    with pytest.raises(ReportError, match="is not 'vc6-bench-selftest/1'"):
        load_ground_truth([tmp_path / "other.json"])


def test_only_selects_by_exact_name_prefix_or_glob():
    assert [p.name for p in selftest.programs("branch.conditions[0x00f0/msfign=q]")] == ["branch.conditions[0x00f0/msfign=q]"]
    assert len(selftest.programs("branch.conditions[0x00f0")) == 3
    assert [p.name for p in selftest.programs("kernel.*:pi")] == [f"kernel.{n}:pi" for n in
                                                                  ("sgemm", "summation", "scopy", "memset", "stencil")]
    assert all("," not in p.name for p in selftest.programs())  # --only splits on commas


def test_a_wrong_word_in_a_row_left_out_of_the_comparison_still_shows_in_the_expectation():
    # bit 0 of batch 0's tidx: thread 0 becomes 1 (or 2 becomes 3), which 2-thread mode never numbers
    document = run_selftest(perturb.FlipResultBit(bit=0, pick=0), "thread.two_threads_payload")
    (entry,) = document["programs"]
    assert entry["values"]["differing_words"] == 0 and entry["values"]["skipped"]
    assert entry["expectation"]["hardware"].startswith("FAILED") and entry["expectation"]["emulator"] == "passed"
    assert document["summary"]["expectation_differs"] == ["thread.two_threads_payload"]
    assert not document["summary"]["agree"]
    text = selftest.render_text(document)
    assert "documented expectation: GPU FAILED" in text and "1 meet their documented expectation on one side only" in text


SWEEP = np.random.default_rng(17)
COMPARED_CASES = [name for name, case in CASES.items() if not case.device_dependent]


@pytest.mark.parametrize("name, pick, bit", [
    (COMPARED_CASES[int(SWEEP.integers(len(COMPARED_CASES)))], int(SWEEP.integers(6)), int(SWEEP.integers(32)))
    for _ in range(12)
])
def test_random_single_bit_flips_are_each_reported_exactly(name, pick, bit):
    flipper = perturb.FlipResultBit(bit=bit, pick=pick)
    document = run_selftest(flipper, name)
    (entry,) = [e for e in document["programs"] if e["name"] == name]
    (diff,) = entry["values"]["differences"]
    assert int(diff["bits"], 16) == 1 << bit
    assert int(diff["hardware"], 16) ^ int(diff["emulator"], 16) == 1 << bit
    assert diff["lane"] is not None and diff["instruction"] is not None and diff["stored_by"] is not None


class _FailingGpu:
    """An executor whose every job fails, as a GPU that faults would."""

    name = "always faults (perturbed)"

    def run_csd(self, job):
        raise v3d_drm.V3DError("simulated GPU fault")


def test_a_program_that_fails_on_the_gpu_is_reported_and_the_rest_still_run():
    document = run_selftest(_FailingGpu(), "alu.flags,kernel.scopy")
    assert [e["name"] for e in document["programs"]] == ["alu.flags", "kernel.scopy:small"]
    for entry in document["programs"]:
        assert "simulated GPU fault" in entry["error"] and entry["values"] is None
    assert document["summary"]["errors"] == ["alu.flags", "kernel.scopy:small"] and not document["summary"]["agree"]
    assert document["hardware"]["clock_mhz"] is None and "simulated GPU fault" in document["hardware"]["clock_error"]
    assert "ERROR: on the GPU: V3DError: simulated GPU fault" in selftest.render_text(document)


PORTS = Path(__file__).resolve().parents[2] / "vc6-isa" / "tests"


def test_the_ported_py_videocore6_tests_are_found_in_a_checkout():
    from vc6_bench.selftest.ports import find_ports

    ports, note = find_ports(PORTS)
    assert note is None and len(ports) >= 50
    assert all(port.name.startswith("pyvc6.") for port in ports)
    missing, why = find_ports(PORTS.parent / "nowhere")
    assert missing == [] and "hw_support.py" in why and "--ports" in why


PORT_SAMPLE = "pyvc6.tmu.test_tmu_write,pyvc6.alu.test_unary_ops,pyvc6.branch.test_branch_abs_reg,pyvc6.parallel.test_barrier"


def test_ported_tests_agree_with_themselves_and_a_flipped_bit_in_them_is_reported():
    same = run_selftest(Executor(), PORT_SAMPLE, ports=str(PORTS))
    assert same["summary"]["agree"] and len(same["programs"]) == 4
    assert all(e["expectation"]["hardware"] == "passed" for e in same["programs"])
    flipped = run_selftest(perturb.FlipResultBit(bit=5), PORT_SAMPLE, ports=str(PORTS))
    for entry in flipped["programs"]:
        assert entry["values"]["differing_words"] >= 1, entry["name"]
        for diff in entry["values"]["differences"]:
            assert diff["bits"] == "0x00000020" and "tmua" in diff["stored_by"]["disassembly"]
        assert entry["expectation"]["hardware"].startswith("FAILED")  # the hardware-asserted values
        assert entry["expectation"]["emulator"] == "passed"

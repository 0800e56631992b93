import csv
import io
import json
import tomllib
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from fakes import FakeKernels, FakePlatform
from vc6_bench import cli, method, report
from vc6_bench.report import EMULATOR_BANNER
from vc6_bench.routines import ROUTINES

SCHEMA = json.loads((Path(__file__).parent / "result.schema.json").read_text())


def run(argv, platform=None):
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(argv, platform=platform if platform is not None else FakePlatform(), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def run_json(argv, platform=None):
    code, out, err = run([*argv, "--json"], platform)
    document = json.loads(out)
    jsonschema.validate(document, SCHEMA)
    return code, document, err


# ---- exit codes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["sgemm", "--size", "0"],
        ["sgemm", "--size", "-5"],
        ["summation", "--size", "lots"],
        ["frobnicate"],
        ["sgemm", "--shape", "10x10"],
        ["stencil", "--shape", "10x10x10"],
        ["stencil", "--steps", "0"],
        ["sgemm", "--repeat", "0"],
        ["sgemm", "--json", "--csv"],
        [],
    ],
)
def test_bad_arguments_exit_2_with_a_one_line_error(argv, capsys):
    code, out, err = run(argv)
    err += capsys.readouterr().err  # argparse writes to sys.stderr itself
    assert code == cli.EXIT_USAGE
    assert out == ""
    error_lines = [line for line in err.splitlines() if "error:" in line]
    assert len(error_lines) == 1


@pytest.mark.parametrize(
    "argv",
    [
        ["sgemm", "--size", "8", "--shape", "8x8x8"],
        ["memset", "--size", "6B"],
        ["sgemm", "--size", "1KiB"],
        ["sgemm", "--size", "8", "--device", "nosuch"],
    ],
)
def test_custom_validation_exits_2_without_a_traceback(argv):
    platform = FakePlatform()
    code, _out, err = run(argv, platform)
    assert code == cli.EXIT_USAGE
    assert err.startswith("vc6-bench: error: ") and err.count("\n") == 1
    assert "Traceback" not in err


def test_sizes_are_checked_before_a_device_is_opened():
    platform = FakePlatform()
    assert run(["sgemm", "--size", "8", "--shape", "8x8x8"], platform)[0] == cli.EXIT_USAGE
    assert platform.opened == []


def test_unknown_device_path_exits_2_on_the_real_platform():
    code, _, err = run(["info", "--device", "/nonexistent/renderD999"], cli.RealPlatform())
    assert code == cli.EXIT_USAGE
    assert "unknown device" in err and err.count("\n") == 1


def test_no_device_exits_3():
    code, out, err = run(["sgemm", "--size", "8"], FakePlatform(missing=True))
    assert code == cli.EXIT_NO_DEVICE
    assert out == "vc6-bench 0.1.0 sgemm\n"  # the title streams before the device is opened
    assert "no V3D render node" in err
    _, json_out, _ = run(["sgemm", "--size", "8", "--json"], FakePlatform(missing=True))
    assert json_out == ""


def test_a_good_run_exits_0_and_closes_everything():
    platform = FakePlatform()
    code, _out, err = run(["scopy", "--size", "4096"], platform)
    assert code == cli.EXIT_OK, err
    (dev,) = platform.opened
    assert dev.closed and dev.arrays_open == 0


# ---- verification -------------------------------------------------------------------------------


class WrongSgemm(FakeKernels):
    def sgemm(self, a, b, c=None, **kwargs):
        result = super().sgemm(a, b, c, **kwargs)
        result[3, 5] += 1e-3  # one element off by far more than rounding
        return result


class LazyMemset(FakeKernels):
    def memset(self, out, value, *, device=None):
        out[:-1] = value  # forgets the last element
        return out


class StaleScopy(FakeKernels):
    """Copies only on its first call: later runs would pass if outputs were not poisoned between runs."""

    calls = 0

    def scopy(self, x, out=None, *, device=None):
        self.calls += 1
        if self.calls <= 2:  # warm-up and first timed run
            return super().scopy(x, out, device=device)
        return out


class RaisingSummation(FakeKernels):
    def summation(self, x, *, device=None):
        raise RuntimeError("QPU fell over")


@pytest.mark.parametrize(
    ("kernels", "argv", "words"),
    [
        (WrongSgemm, ["sgemm", "--size", "64"], "values wrong"),
        (LazyMemset, ["memset", "--size", "1000"], "expected 1.2345678"),
        (StaleScopy, ["scopy", "--size", "1000", "--repeat", "3"], "values wrong"),
        (RaisingSummation, ["summation", "--size", "1000"], "QPU fell over"),
    ],
)
@pytest.mark.parametrize("emulated", [True, False])
def test_a_wrong_routine_fails_verification_and_exits_1(kernels, argv, words, emulated):
    platform = FakePlatform(emulated=emulated, kernels_impl=kernels(emulated))
    code, document, err = run_json(argv, platform)
    assert code == cli.EXIT_VERIFY
    (result,) = document["results"]
    assert result["verification"]["passed"] is False
    assert words in result["verification"]["message"]
    assert f"verification FAILED for {argv[0]}" in err
    code, table, _ = run(argv, FakePlatform(emulated=emulated, kernels_impl=kernels(emulated)))
    assert code == cli.EXIT_VERIFY and "FAILED" in table


def test_check_tells_exact_from_within_tolerance():
    reference = np.arange(6, dtype=np.float32).reshape(2, 3)
    assert method.check(reference.copy(), reference, None, exact=True)["exact_match"] is True
    nudged = reference.copy()
    nudged[1, 2] = np.nextafter(nudged[1, 2], np.float32(10))
    exact = method.check(nudged, reference, None, exact=True)
    assert not exact["passed"] and "(1, 2)" in exact["message"]
    assert method.check(nudged, reference, 1e-5, exact=False)["passed"]
    assert not method.check(nudged, reference, 1e-9, exact=False)["passed"]
    assert not method.check(reference[:1], reference, 1.0, exact=False)["passed"]
    with_nan = reference.copy()
    with_nan[0, 0] = np.nan
    assert not method.check(with_nan, reference, 1e9, exact=False)["passed"]


# ---- output on the emulator ---------------------------------------------------------------------


def test_the_emulator_table_says_modelled_and_keeps_the_emulator_wall_time_apart():
    code, table, err = run(["sgemm", "--size", "64"])
    assert code == cli.EXIT_OK, err
    assert table.splitlines()[1] == EMULATOR_BANNER.splitlines()[0]
    assert "GPU time (modelled)" in table and "rate (modelled)" in table
    assert "GPU time (measured)" not in table
    assert "emulator (this host)" in table and "not the Pi's" in table
    assert "repeat lowered to 1 on the emulator" in table
    assert "counters (modelled)" in table and "counters (perfmon)" not in table
    device = next(line for line in table.splitlines() if line.startswith("device: "))
    assert "QPU clock 500.0 MHz (modelled)" in device


def test_clock_says_qpu_clock_once():
    code, table, _ = run(["clock"])
    assert code == cli.EXIT_OK
    assert table.splitlines()[-1] == "QPU clock: 500.0 MHz (modelled)"


def test_all_streams_each_routine_then_the_summary():
    code, table, _ = run(["all"])
    assert code == cli.EXIT_OK
    lines = table.splitlines()
    details = [i for i, line in enumerate(lines) if line.startswith(("sgemm:", "stencil:"))]
    summary = lines.index(next(line for line in lines if line.startswith("routine ")))
    assert details[0] < details[-1] < summary


def test_rates_keep_four_figures():
    assert [report._number(v) for v in (1.0, 0.99992, 28.834, 4000.4, 4.19e6)] == [
        "1.000", "0.9999", "28.83", "4000", "4.19e+06"
    ]


def test_the_hardware_table_has_no_modelled_figures():
    code, table, err = run(["sgemm", "--size", "64"], FakePlatform(emulated=False))
    assert code == cli.EXIT_OK, err
    assert "modelled" not in table
    assert "EMULATOR" not in table
    assert "GPU time (measured)" in table and "counters (perfmon)" in table


def test_emulator_json_rates_come_from_modelled_seconds():
    _code, document, _ = run_json(["sgemm", "--size", "64"])
    (result,) = document["results"]
    gpu, emulator = result["gpu"], result["emulator"]
    assert gpu["modelled"] is True and result["method"]["timing"] == "modelled"
    # the fake job for a 64^3 sgemm models 1000 + 64**3 // 64 cycles at 500 MHz
    modelled_seconds = (1000 + 64**3 // 64) / 500e6
    assert gpu["seconds"]["median"] == pytest.approx(modelled_seconds)
    assert gpu["gflops"] == pytest.approx(2 * 64**3 / modelled_seconds / 1e9)
    assert gpu["share_of_peak_flops"] == pytest.approx(gpu["gflops"] / 32)
    assert emulator["thread_instructions"] == 10 * (64**3 // 64) + 1
    assert result["method"]["repeat"] == method.EMULATOR_REPEAT
    assert result["dispatch_overhead"]["modelled_seconds"] == pytest.approx(200 / 500e6)


def test_all_json_validates_and_runs_every_routine_at_its_pi_default():
    code, document, err = run_json(["all", "--repeat", "2"])
    assert code == cli.EXIT_OK, err
    results = {r["routine"]: r for r in document["results"]}
    assert list(results) == ["sgemm", "summation", "scopy", "memset", "stencil"]
    for name in results:  # every Pi default is quick enough on the emulator now
        assert results[name]["problem"]["note"] is None
        assert results[name]["problem"]["label"] == ROUTINES[name].default.label
    for result in results.values():
        assert result["method"]["repeat"] == 2
        assert result["verification"]["runs_checked"] == 3  # warm-up + 2 timed runs
        assert result["device"]["emulated"] is True
        assert result["versions"]["python"]


def test_hardware_json_validates_with_wall_times_and_counters():
    code, document, _ = run_json(["stencil", "--shape", "40x50", "--steps", "3"], FakePlatform(emulated=False))
    assert code == cli.EXIT_OK
    (result,) = document["results"]
    assert result["problem"]["dims"] == {"rows": 40, "cols": 50, "steps": 3}
    assert result["gpu"]["modelled"] is False and result["emulator"] is None
    assert result["gpu"]["seconds"]["runs"] == method.HARDWARE_REPEAT
    assert result["counters"]["values"]["cycle-count"] == 12345
    assert result["counters"]["modelled"] is False
    assert result["counters"]["compute_active_seconds"] == pytest.approx(12000 / 500.4e6)
    assert result["device"]["clock_mhz"] == 500.4 and result["device"]["clock_modelled"] is False


def test_the_schema_rejects_an_emulated_result_claiming_wall_clock_timing():
    _, document, _ = run_json(["scopy", "--size", "64"])
    document["results"][0]["method"]["timing"] = "wall"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, SCHEMA)


def test_csv_has_one_row_per_routine_with_named_columns():
    code, out, _ = run(["memset", "--size", "64MiB", "--csv"], FakePlatform(emulated=False))
    assert code == cli.EXIT_OK
    (row,) = list(csv.DictReader(io.StringIO(out)))
    assert row["routine"] == "memset"
    assert row["problem.dims.n"] == str(16 * 2**20)
    assert float(row["gpu.seconds.median"]) > 0
    assert row["verification.passed"] == "True"


def test_info_and_clock():
    code, document, _ = run_json(["info"])
    assert code == cli.EXIT_OK and "results" not in document
    assert set(document["versions"]) >= {"vc6-bench", "v3d-drm", "vc6-isa", "vc6-kernels", "numpy"}
    code, table, _ = run(["clock"], FakePlatform(emulated=False))
    assert code == cli.EXIT_OK and "500.4 MHz (measured from the perf counters)" in table
    code, table, _ = run(["clock"])
    assert "500.0 MHz (modelled)" in table


def test_options_work_before_and_after_the_subcommand():
    _, document, _ = run_json(["--repeat", "2", "scopy", "--size", "64"])
    assert document["results"][0]["method"]["repeat"] == 2
    _code, out, _ = run(["--json", "scopy", "--size", "64", "--repeat", "3"])
    assert json.loads(out)["results"][0]["method"]["repeat"] == 3


def test_stencil_steps_alone_apply_to_the_default_grid():
    code, document, _ = run_json(["stencil", "--steps", "2"])
    assert code == cli.EXIT_OK
    assert document["results"][0]["problem"]["dims"] == {"rows": 512, "cols": 512, "steps": 2}


# ---- the console script ---------------------------------------------------------------------------


def test_prepared_is_called_once_the_device_is_prepared_and_before_anything_is_measured():
    events = []

    class Recording(FakePlatform):
        def warm_up(self, dev, note):
            events.append("warm-up")

        def clock(self, dev):
            events.append("clock")
            return super().clock(dev)

        def kernels(self):
            events.append("kernels")
            return super().kernels()

    code = cli.main(["scopy", "--size", "64"], platform=Recording(), stdout=io.StringIO(), stderr=io.StringIO(),
                    prepared=lambda: events.append("prepared"))
    assert code == cli.EXIT_OK
    assert events[:3] == ["warm-up", "prepared", "clock"] and events.count("prepared") == 1
    assert "kernels" in events


def test_the_console_script_freezes_the_heap_after_preparing_and_at_the_end(monkeypatch):
    # The console script (and only it: main is also called in-process, by tests) hands gc.freeze
    # to main and freezes once more before exiting with main's code.
    calls = []
    monkeypatch.setattr(cli.gc, "freeze", lambda: calls.append("freeze"))

    def fake_main(argv=None, *, prepared=None, **kwargs):
        prepared()
        calls.append("ran")
        return cli.EXIT_VERIFY

    monkeypatch.setattr(cli, "main", fake_main)
    with pytest.raises(SystemExit) as exit_:
        cli.console()
    assert exit_.value.code == cli.EXIT_VERIFY
    assert calls == ["freeze", "ran", "freeze"]
    scripts = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["vc6-bench"] == "vc6_bench.cli:console"

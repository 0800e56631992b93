"""The CLI on the real layers: v3d-drm's emulated device running vc6-kernels on the vc6-isa emulator."""

import io
import itertools
import json
from pathlib import Path

import jsonschema
import pytest
from vc6_bench import cli
from vc6_bench.profile import memory_roofs
from vc6_isa.emulator import CycleModel
from vc6_isa.emulator.profile import TRACE_EVENT_SCHEMA

SCHEMA = json.loads((Path(__file__).parent / "result.schema.json").read_text())


def run(argv):
    out, err = io.StringIO(), io.StringIO()
    code = cli.main([*argv, "--device", "emulator", "--no-progress"], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(
    "argv",
    [
        ["sgemm", "--shape", "33x17x20"],
        ["summation", "--size", "5000"],
        ["scopy", "--size", "4KiB"],
        ["memset", "--size", "1000"],
        ["stencil", "--shape", "19x37", "--steps", "2"],
    ],
)
def test_each_routine_verifies_on_the_emulator_and_its_json_validates(argv):
    code, out, err = run([*argv, "--json"])
    assert code == cli.EXIT_OK, err
    document = json.loads(out)
    jsonschema.validate(document, SCHEMA)
    (result,) = document["results"]
    assert result["verification"]["passed"] and result["verification"]["runs_checked"] == 2
    assert result["device"]["backend"] == "emulated"
    assert result["gpu"]["modelled"] is True and result["gpu"]["seconds"]["median"] > 0
    assert result["emulator"]["thread_instructions"] > 0
    assert result["emulator"]["modelled_cycles"] > 0
    counters = result["counters"]
    assert counters["modelled"] is True
    assert counters["values"]["compute-active-cycles"] > 0


def test_the_emulator_table_labels_modelled_figures():
    code, table, err = run(["scopy", "--size", "1000"])
    assert code == cli.EXIT_OK, err
    assert "EMULATOR" in table and "GPU time (modelled)" in table and "rate (modelled)" in table
    assert "thread-instructions/s" in table


def test_clock_is_modelled_on_the_emulator():
    code, table, _ = run(["clock"])
    assert code == cli.EXIT_OK and "(modelled)" in table


def test_profile_writes_the_listing_the_timeline_and_the_roofline(tmp_path, monkeypatch):
    code, out, err = run(["summation", "--size", "5000", "--json", "--profile", str(tmp_path / "prof")])
    assert code == cli.EXIT_OK, err
    json.loads(out)  # stdout stays one clean JSON document
    listing = (tmp_path / "prof" / "annotate.txt").read_text()
    assert "hottest pcs" in listing and "┌ loop" in listing and "(modelled" in listing
    doc = json.loads((tmp_path / "prof" / "timeline.json").read_text())
    jsonschema.validate(doc, TRACE_EVENT_SCHEMA)
    slices: dict = {}
    flows: dict = {}
    for ev in doc["traceEvents"]:
        if ev["ph"] == "X":
            slices.setdefault((ev["pid"], ev["tid"]), []).append((ev["ts"], ev["ts"] + ev["dur"]))
        if ev["ph"] in "sf":
            flows.setdefault(ev["id"], set()).add(ev["ph"])
    assert {pid for pid, _ in slices} == set(range(1, 9))  # a process per QPU
    assert len(slices) > 8  # and in it a track for the QPU and one per thread slot
    assert flows and all(ends == {"s", "f"} for ends in flows.values())  # flow ids unique across jobs
    assert any(ev["ph"] == "C" for ev in doc["traceEvents"])
    for spans in slices.values():  # the jobs follow each other on a track without overlap
        spans.sort()
        assert all(a[1] <= b[0] + 1e-9 for a, b in itertools.pairwise(spans))
    pytest.importorskip("matplotlib")
    assert (tmp_path / "prof" / "roofline.png").stat().st_size > 0
    assert (tmp_path / "prof" / "timeline.png").stat().st_size > 0
    svg = (tmp_path / "prof" / "roofline.svg").read_text()
    assert svg.lstrip().startswith("<?xml") and "read roof (7.27 GB/s)" in svg and "write roof (3.77 GB/s)" in svg


def test_memory_roofs_are_the_models_read_and_write_rates_in_the_routines_mix():
    model = CycleModel()
    copy = memory_roofs({"work": {"flops": 0, "bytes": 800, "bytes_written": 400}})
    assert copy["read"] == model.dram_read_gbps * 1e9 and copy["write"] == model.dram_write_gbps * 1e9
    assert copy["mix"] == pytest.approx(800 / (400 / copy["read"] + 400 / copy["write"]))
    assert copy["write"] < copy["mix"] < copy["read"]
    assert memory_roofs({"work": {"flops": 0, "bytes": 8, "bytes_written": 8}})["mix"] == pytest.approx(copy["write"])


def test_profile_without_matplotlib_says_how_to_get_it(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    code, _, err = run(["summation", "--size", "5000", "--profile", str(tmp_path)])
    assert code == cli.EXIT_OK, err
    assert "vc6-bench[plot]" in err and not (tmp_path / "roofline.png").exists()
    assert (tmp_path / "annotate.txt").exists()

"""Choosing and opening a device, DeviceInfo, discovery messages and ``python -m v3d_drm``."""

import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
import v3d_drm
from fake_executor import FakeExecutor
from v3d_drm import DeviceNotFound, InvalidArgument
from v3d_drm import device as device_module
from v3d_drm import executor as executor_module
from v3d_drm.__main__ import main
from v3d_drm.backends import kernel
from v3d_drm.install_hint import emulator_install_command

TESTS = Path(__file__).parent


@pytest.fixture
def no_gpu(monkeypatch):
    """No V3D node, whatever machine this runs on; no V3D_* environment."""
    monkeypatch.setattr(device_module, "find_v3d_node", lambda: (None, ["no DRM nodes in /dev/dri"]))
    for name in ("V3D_DEVICE", "V3D_EXECUTOR"):
        monkeypatch.delenv(name, raising=False)


def set_entry_points(monkeypatch, *specs):
    points = [metadata.EntryPoint(name, value, executor_module.ENTRY_POINT_GROUP) for name, value in specs]
    monkeypatch.setattr(executor_module.metadata, "entry_points", lambda group: points if group == executor_module.ENTRY_POINT_GROUP else [])


def test_info_decodes_a_pi4():
    with v3d_drm.open("emulator", executor=FakeExecutor()) as dev:
        info = dev.info
    assert (info.version, info.version_full, info.ver) == ("4.2", "4.2.14.0", 42)
    assert (info.cores, info.slices, info.qpus_per_slice, info.qpus, info.tmus) == (1, 2, 4, 8, 2)
    assert (info.backend, info.node, info.executor, info.emulated) == ("emulated", "emulator", "fake", True)
    assert info.supports_perfmon and info.max_perf_counters == 87 and info.cfg4_is_count_minus_1
    assert "EMULATED" in str(info)


def test_without_an_executor_open_says_what_was_tried_and_what_to_install(no_gpu, monkeypatch):
    set_entry_points(monkeypatch, ("emulator", "no_such_module_for_v3d_test:Executor"))
    with pytest.raises(DeviceNotFound) as info:
        v3d_drm.open()
    message = str(info.value)
    assert "no DRM nodes in /dev/dri" in message
    assert "entry point 'emulator' = no_such_module_for_v3d_test:Executor: failed to load: ModuleNotFoundError" in message
    assert "does not load" in message


def test_no_entry_points_at_all(no_gpu, monkeypatch):
    set_entry_points(monkeypatch)
    with pytest.raises(DeviceNotFound, match="no entry point in group 'v3d_drm.executors'") as info:
        v3d_drm.open()
    assert "-m pip install" in str(info.value) and "vc6-isa" in str(info.value)


def test_the_install_hint_installs_the_way_v3d_drm_was_installed(tmp_path):
    python = "/venv/bin/python"
    tree = tmp_path / "packages"
    for name in ("v3d-drm", "vc6-isa"):
        (tree / name).mkdir(parents=True)
        (tree / name / "pyproject.toml").write_text("")
    from_tree = {"url": f"file://{tree / 'v3d-drm'}", "dir_info": {"editable": True}}
    assert emulator_install_command(from_tree, python) == (
        f"/venv/bin/python -m pip install -e '{tree / 'vc6-isa'}[fast]'"
    )
    (tmp_path / "v3d_drm-0.1.0-py3-none-any.whl").write_text("")
    (tmp_path / "vc6_isa-0.1.0-py3-none-any.whl").write_text("")
    from_wheel = {"url": f"file://{tmp_path}/v3d_drm-0.1.0-py3-none-any.whl", "archive_info": {}}
    assert emulator_install_command(from_wheel, python) == (
        f"/venv/bin/python -m pip install --find-links {tmp_path} 'vc6-isa[fast]'"
    )
    assert emulator_install_command({}, python) == "/venv/bin/python -m pip install 'vc6-isa[fast]'"


def test_a_bad_v3d_device_variable_is_named(no_gpu, monkeypatch):
    monkeypatch.setenv("V3D_DEVICE", "bogus")
    with pytest.raises(DeviceNotFound, match="^V3D_DEVICE=bogus: bogus does not exist; set V3D_DEVICE to"):
        v3d_drm.open()


def test_a_broken_entry_point_is_skipped_for_a_working_one(no_gpu, monkeypatch):
    set_entry_points(monkeypatch, ("emulator", "no_such_module_for_v3d_test:Executor"), ("fake", "fake_executor:make"))
    with v3d_drm.open() as dev:
        assert dev.info.executor == "fake"


def test_installed_entry_points_never_crash_the_search():
    search = executor_module.find_executor()
    assert search.executor is not None or search.tried  # vc6-isa's emulator may or may not load yet


def test_explicit_choices(no_gpu, monkeypatch):
    with v3d_drm.open(executor="fake_executor:make") as dev:
        assert dev.info.emulated
    monkeypatch.setenv("V3D_DEVICE", "emulator")
    monkeypatch.setenv("V3D_EXECUTOR", "fake_executor:make")
    with v3d_drm.open() as dev:
        assert dev.info.executor == "fake"
    with pytest.raises(DeviceNotFound, match="does not exist"):
        v3d_drm.open("/nonexistent/renderD128")
    with pytest.raises(DeviceNotFound, match="not a V3D device"):
        v3d_drm.open("/dev/null")
    with pytest.raises(InvalidArgument, match="only applies to the emulated device"):
        v3d_drm.open("/dev/null", executor=FakeExecutor())
    with pytest.raises(InvalidArgument, match="run_csd"):
        v3d_drm.open("emulator", executor=object())
    with pytest.raises(DeviceNotFound, match="failed to load"):
        v3d_drm.open("emulator", executor="no_such_module_for_v3d_test:make")


def test_discovery_explains_each_node(tmp_path):
    (tmp_path / "renderD129").symlink_to("/dev/null")
    (tmp_path / "renderD128").mkdir()
    node, tried = kernel.find_v3d_node(str(tmp_path))
    assert node is None
    assert tried[0].startswith(f"{tmp_path}/renderD128: cannot open")  # numeric order, render first
    assert tried[1].startswith(f"{tmp_path}/renderD129: DRM_IOCTL_VERSION failed")
    assert kernel.find_v3d_node(str(tmp_path / "empty"))[1] == [f"no DRM nodes in {tmp_path / 'empty'}"]


def test_main_prints_emulated_info(capsys):
    assert main(["--device", "emulator", "--executor", "fake_executor:make", "--clock"]) == 0
    out = capsys.readouterr().out
    assert "V3D 4.2" in out and "EMULATED" in out and "QPUs:           8" in out
    assert "500.0 MHz, modelled" in out


def test_main_reports_a_missing_executor_without_a_traceback(no_gpu, monkeypatch, capsys):
    set_entry_points(monkeypatch, ("emulator", "no_such_module_for_v3d_test:Executor"))
    assert main([]) == 1
    err = capsys.readouterr().err
    assert "no V3D device available" in err and "ModuleNotFoundError" in err and "Traceback" not in err


def test_python_dash_m_runs_as_a_program():
    env = dict(os.environ, V3D_DEVICE="emulator", V3D_EXECUTOR="fake_executor:make",
               PYTHONPATH=os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, "-m", "v3d_drm"], capture_output=True, text=True, env=env, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "EMULATED" in done.stdout and "V3D 4.2" in done.stdout


def test_falling_back_to_the_emulator_past_an_unopenable_node_warns(monkeypatch):
    monkeypatch.delenv("V3D_DEVICE", raising=False)
    monkeypatch.setenv("V3D_EXECUTOR", "fake_executor:make")
    denied = ["/dev/dri/renderD128: cannot open (EACCES: Permission denied)"]
    monkeypatch.setattr(device_module, "find_v3d_node", lambda: (None, denied))
    with pytest.warns(RuntimeWarning, match="render"), v3d_drm.open() as dev:
        assert dev.info.emulated

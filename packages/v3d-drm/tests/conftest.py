import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import v3d_drm  # noqa: E402
from fake_executor import FakeExecutor  # noqa: E402


@pytest.fixture
def executor():
    return FakeExecutor()


@pytest.fixture
def dev(executor):
    with v3d_drm.open("emulator", executor=executor) as device:
        yield device

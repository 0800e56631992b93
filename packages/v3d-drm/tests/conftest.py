import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import v3d_drm
from fake_executor import FakeExecutor


@pytest.fixture
def executor():
    return FakeExecutor()


@pytest.fixture
def dev(executor):
    with v3d_drm.open("emulator", executor=executor) as device:
        yield device

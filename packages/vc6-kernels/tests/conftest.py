import numpy as np
import pytest
import vc6_kernels


@pytest.fixture(scope="session")
def dev():
    """The process's default device (the emulator on a machine without a Pi)."""
    return vc6_kernels.default_device()


@pytest.fixture
def rng():
    return np.random.default_rng(1234)

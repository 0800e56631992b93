"""Shared set-up of the documentation tests.

The pages show what the examples print on the emulator (modelled cycle counts, `tidx` as the
emulator schedules batches), so every example runs on the emulator, even on a Pi: the device
choice is forced through `V3D_DEVICE` for the duration of each test, and vc6_kernels'
per-process default device is set aside so a real device opened by other tests is not reused.
"""

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(autouse=True)
def _on_the_emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("V3D_DEVICE", "emulator")
    try:
        import vc6_kernels._common as kernels_common
    except ImportError:
        yield
        return
    monkeypatch.setattr(kernels_common, "_default", None)
    yield
    if kernels_common._default is not None:  # the device this test's examples opened
        kernels_common._default[1].close()

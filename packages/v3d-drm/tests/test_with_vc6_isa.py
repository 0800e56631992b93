"""Optional cross-checks against vc6-isa, when it is installed and working.

v3d-drm itself never imports vc6-isa; these tests only confirm that the two agree: the clock
program's hand-written words disassemble to what their comments say, and the real emulator
runs it through the executor contract.
"""

import re
from pathlib import Path

import pytest
import v3d_drm
from v3d_drm import clock
from v3d_drm.executor import find_executor


def _commented_words():
    source = Path(clock.__file__).read_text()
    for match in re.finditer(r"0x([0-9A-F]{16}),\s+#\s+(.*?)(?:\s{2,}\(.*)?$", source, flags=re.MULTILINE):
        yield int(match[1], 16), match[2].strip()


def test_clock_program_comments_are_mesa_disassembly():
    disasm = pytest.importorskip("vc6_isa.disasm", reason="vc6-isa not installed")
    pairs = list(_commented_words())
    assert [w for w, _ in pairs] == list(clock.CLOCK_LOOP_PROGRAM)
    for word, text in pairs:
        assert " ".join(disasm.disassemble(word).split()) == " ".join(text.split()), hex(word)


def test_clock_on_the_real_emulator():
    search = find_executor("emulator")
    if search.executor is None:
        pytest.skip("vc6-isa emulator executor not loadable yet: " + "; ".join(search.tried))
    with v3d_drm.open("emulator", executor=search.executor) as dev:
        measured = v3d_drm.gpu_clock_mhz(dev, iterations=20)
    assert measured.modelled and measured.mhz > 0

"""The live status line of the command-line tools, and the executor warm-up it announces."""

import io
import time

import v3d_drm
from fake_executor import FakeExecutor
from v3d_drm import status
from v3d_drm.__main__ import main
from v3d_drm.warmup import needs_warm_up, warm_up


class Terminal(io.StringIO):
    def isatty(self):
        return True


class CompilingExecutor(FakeExecutor):
    """A fake executor with one-time work: done by its first job."""

    compile_seconds = 12

    def __init__(self):
        super().__init__()
        self.ready = False

    def compiled(self):
        return self.ready

    def run_csd(self, job):
        self.ready = True
        return super().run_csd(job)


def test_the_live_line_redraws_by_itself_on_a_terminal_only(monkeypatch):
    monkeypatch.setattr(status, "INTERVAL", 0.01)
    for stream, live in ((Terminal(), True), (io.StringIO(), False)):
        with status.StatusLine(stream, describe=lambda: "working", show_after=0.0) as line:
            time.sleep(0.15)
            line.note("a note")
        text = stream.getvalue()
        assert (text.count("working") >= 3) is live
        assert ("\x1b" in text) is live
        assert "a note\n" in text


def test_output_through_above_never_shares_a_line_with_the_status():
    term, out = Terminal(), Terminal()
    with status.StatusLine(term, describe=lambda: "busy", show_after=0.0) as line:
        line.redraw()
        line.above(term, "report\n")
    assert "\r\x1b[Kreport\n" in term.getvalue()
    assert out.getvalue() == ""


def test_warm_up_runs_the_one_time_work_first_and_says_so():
    executor = CompilingExecutor()
    notes = []
    with v3d_drm.open("emulator", executor=executor) as dev:
        assert needs_warm_up(dev)
        seconds = warm_up(dev, notes.append)
        assert seconds is not None and len(executor.jobs) == 1
        assert not needs_warm_up(dev) and warm_up(dev, notes.append) is None
    assert notes[0] == "compiling the emulator (one time, ~12 s; cached for the next runs) ..."
    assert notes[1].startswith("compiled the emulator in ")
    with v3d_drm.open("emulator", executor=FakeExecutor()) as dev:
        assert not needs_warm_up(dev)  # no compiled(): nothing to do


def test_main_streams_the_device_before_the_clock_and_help_is_plain_text(capsys):
    assert main(["--device", "emulator", "--executor", "fake_executor:make", "--clock"]) == 0
    out = capsys.readouterr().out
    assert out.index("V3D 4.2") < out.index("QPU clock:")
    try:
        main(["--help"])
    except SystemExit:
        pass
    help_text = capsys.readouterr().out
    assert "``" not in help_text and "Say which V3D device" in help_text

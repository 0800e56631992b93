import io
import time

from v3d_drm import status
from vc6_bench import progress


class Terminal(io.StringIO):
    def isatty(self):
        return True


class FakeJob:
    def progress(self):
        return 0.25


def test_plain_lines_and_no_control_characters_when_not_a_terminal(monkeypatch):
    monkeypatch.setattr(progress, "SHOW_AFTER_SECONDS", 0.0)
    stream = io.StringIO()
    with progress.Progress(3, stream) as bar:
        bar.step("a")
        bar.note("compiling the emulator")
    assert stream.getvalue().splitlines()[0].startswith("0/3 a (")
    assert stream.getvalue().splitlines()[1] == "compiling the emulator"
    assert "\r" not in stream.getvalue() and "\x1b" not in stream.getvalue()


def test_nothing_for_short_runs():
    stream = Terminal()
    with progress.Progress(3, stream) as bar:
        bar.step("a")
    assert stream.getvalue() == ""
    stream = io.StringIO()
    with progress.Progress(3, stream) as bar:
        bar.step("a")
    assert stream.getvalue() == ""


def test_bar_on_a_terminal_once_the_run_is_long_and_erased_at_the_end(monkeypatch):
    monkeypatch.setattr(progress, "SHOW_AFTER_SECONDS", 0.0)
    stream = Terminal()
    bar = progress.Progress(4, stream)
    bar.step("warm-up")
    bar.step("run 1/2")
    assert "1/4 run 1/2" in stream.getvalue()
    bar.finish()
    assert stream.getvalue().endswith("\r\x1b[K")
    assert progress.Progress(4, Terminal(), enabled=False).enabled is False


def test_the_bar_moves_by_itself_and_shows_the_job_progress(monkeypatch):
    monkeypatch.setattr(progress, "SHOW_AFTER_SECONDS", 0.0)
    monkeypatch.setattr(status, "INTERVAL", 0.01)
    stream = Terminal()
    with progress.Progress(4, stream) as bar:
        bar.step("run 1/1")
        bar.watch([FakeJob()])
        time.sleep(0.2)  # no step: only the drawing thread writes
    draws = stream.getvalue().split("\r\x1b[K")
    assert len([d for d in draws if "run 1/1, job 25%" in d]) >= 3


def test_report_lines_go_above_the_bar():
    stream, out = Terminal(), io.StringIO()
    with progress.Progress(2, stream, enabled=True) as bar:
        bar.above(out, "table line\n")
    assert out.getvalue() == "table line\n"

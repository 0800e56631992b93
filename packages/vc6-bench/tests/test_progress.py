import io

from vc6_bench import progress


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_no_bar_when_not_a_terminal(monkeypatch):
    monkeypatch.setattr(progress, "SHOW_AFTER_SECONDS", 0.0)
    stream = io.StringIO()
    bar = progress.Progress(3, stream)
    bar.step("a")
    bar.finish()
    assert stream.getvalue() == ""


def test_no_bar_for_short_runs():
    stream = Terminal()
    bar = progress.Progress(3, stream)
    bar.step("a")
    bar.finish()
    assert stream.getvalue() == ""


def test_bar_on_a_terminal_once_the_run_is_long_and_erased_at_the_end(monkeypatch):
    monkeypatch.setattr(progress, "SHOW_AFTER_SECONDS", 0.0)
    stream = Terminal()
    bar = progress.Progress(4, stream)
    bar.step("warm-up")
    bar.step("run 1/2")
    assert "1/4 run 1/2" in stream.getvalue()
    bar.finish()
    assert stream.getvalue().endswith("\r")
    assert progress.Progress(4, Terminal(), enabled=False).enabled is False

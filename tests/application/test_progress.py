"""Progress: the application's no-op reporter, its tracked loops, and the tqdm adapter's choice."""

from __future__ import annotations

import io

import pytest

from annoflow.adapters.progress import TqdmProgress, progress_for
from annoflow.application.progress import NO_PROGRESS, Progress, ProgressBar, given_progress


class Recorded(ProgressBar):
    def __init__(self, log, description, total, unit):
        self.log = log
        log.append(("open", description, total, unit))

    def advance(self, count=1):
        self.log.append(("advance", count))

    def note(self, text):
        self.log.append(("note", text))

    def close(self):
        self.log.append(("close",))


class Recording(Progress):
    """Every bar opened, advanced, noted and closed, in order."""

    def __init__(self):
        self.log = []

    def bar(self, description, total=None, unit="it"):
        return Recorded(self.log, description, total, unit)


def test_a_tracked_loop_counts_each_item_once_its_turn_ends_and_closes():
    progress = Recording()
    tracked = progress.track(["a", "b", "c"], "loading", unit="task")
    for item in tracked:
        tracked.note(f"{item}: working")
        if item == "b":
            continue
    assert progress.log == [
        ("open", "loading", 3, "task"),
        ("note", "a: working"),
        ("advance", 1),
        ("note", "b: working"),
        ("advance", 1),
        ("note", "c: working"),
        ("advance", 1),
        ("close",),
    ]


def test_a_loop_that_fails_closes_its_bar():
    progress = Recording()
    with pytest.raises(RuntimeError):
        for item in progress.track([1, 2], "loading"):
            raise RuntimeError(item)
    assert progress.log[-1] == ("close",) and ("advance", 1) not in progress.log


def test_the_default_reports_nothing_and_a_given_reporter_is_used():
    with NO_PROGRESS.bar("x", 3) as bar:
        bar.advance(3)
        bar.note("y")
    assert list(NO_PROGRESS.track([1, 2], "x")) == [1, 2]
    recording = Recording()
    assert given_progress(recording) is recording
    assert given_progress(True) is NO_PROGRESS and given_progress(None) is NO_PROGRESS


def test_fiftyones_progress_option_chooses_the_bars():
    assert type(progress_for(False)) is Progress  # nothing shown
    recording = Recording()
    assert progress_for(recording) is recording
    shown = progress_for(True)
    assert isinstance(shown, TqdmProgress) and shown.disable is False
    assert progress_for(None).disable is None  # tqdm: on when its stream (stderr) is a terminal


def test_tqdm_bars_write_the_stage_its_count_and_its_note():
    out = io.StringIO()
    with TqdmProgress(file=out).bar("task 1: uploading media", total=4, unit="file") as bar:
        bar.advance(2)
        bar.advance(2)
        bar.note("CVAT is processing them")
    text = out.getvalue()
    assert "task 1: uploading media" in text and "4/4" in text and "CVAT is processing them" in text
    quiet = io.StringIO()  # not a terminal: None hides the bar
    with TqdmProgress(disable=None, file=quiet).bar("x", total=1) as bar:
        bar.advance()
    assert quiet.getvalue() == ""


def test_bars_hidden_off_a_terminal_build_no_tqdm_at_all(monkeypatch):
    # tqdm's first bar, even a disabled one, imports multiprocessing for its lock (20 ms of every
    # first annotate() in a process); a stream that is no terminal gets the silent bar instead
    import annoflow.adapters.progress as progress_module

    def no_tqdm(*args, **kwargs):
        raise AssertionError("tqdm built for a hidden bar")

    monkeypatch.setattr(progress_module, "tqdm", no_tqdm)
    with TqdmProgress(disable=None, file=io.StringIO()).bar("x", total=1) as bar:
        bar.advance()
    with TqdmProgress(disable=True, file=io.StringIO()).bar("x", total=1) as bar:
        bar.advance()

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    with pytest.raises(AssertionError, match="tqdm built"):
        TqdmProgress(disable=None, file=Terminal()).bar("x", total=1)

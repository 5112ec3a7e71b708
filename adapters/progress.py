"""Progress bars on the terminal with tqdm: the `Progress` of application/progress.py.

``progress_for`` reads FiftyOne's ``progress=``: True shows bars, False shows none, None
shows them when stderr is a terminal (tqdm's own ``disable=None``). Bars go to stderr, so
a program's output stays clean; a stage's bar stays on screen when it ends, as FiftyOne's do.
Bars may advance from the backend's sender threads: tqdm locks its writes.
"""

from __future__ import annotations

import sys
from typing import IO

from tqdm import tqdm

from annoflow.application.progress import Progress, ProgressBar, ProgressOption


class TqdmBar(ProgressBar):
    def __init__(self, bar: tqdm) -> None:
        self._bar = bar

    def advance(self, count: int = 1) -> None:
        self._bar.update(count)

    def note(self, text: str) -> None:
        self._bar.set_postfix_str(text, refresh=True)

    def close(self) -> None:
        self._bar.close()


class TqdmProgress(Progress):
    """A tqdm bar per stage on ``file`` (default: stderr); ``disable=None`` hides them off a terminal."""

    def __init__(self, *, disable: bool | None = False, file: IO[str] | None = None) -> None:
        self.disable = disable
        self.file = file

    def bar(self, description: str, total: int | None = None, unit: str = "it") -> ProgressBar:
        file = self.file if self.file is not None else sys.stderr
        if self.disable or (self.disable is None and not file.isatty()):
            # no tqdm at all: a hidden bar still takes tqdm's lock, whose first use imports multiprocessing
            return ProgressBar()
        return TqdmBar(tqdm(total=total, desc=description, unit=unit, file=file, dynamic_ncols=True))


def progress_for(option: ProgressOption) -> Progress:
    """The reporter for a call's ``progress=``: a `Progress` as given, else tqdm bars (True), none
    (False), or bars only when stderr is a terminal (None)."""
    if isinstance(option, Progress):
        return option
    if option is False:
        return Progress()
    return TqdmProgress(disable=None if option is None else False)

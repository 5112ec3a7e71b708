"""How a long call reports its progress: a bar per stage, shown by an adapter; by default nothing.

annotate() and load_annotations() take FiftyOne's ``progress=`` (True, False, or None: on when
stderr is a terminal). The use cases and the backend report through `Progress`; the wiring
turns the caller's ``progress=`` into one (tqdm bars, adapters/progress.py). The base classes
here show nothing, so the application layer depends on no progress library.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")


class ProgressBar:
    """One stage's advance toward its total; this base shows nothing."""

    def advance(self, count: int = 1) -> None:
        """``count`` more units of the stage are done."""

    def note(self, text: str) -> None:
        """What the stage is doing now (shown beside the bar)."""

    def close(self) -> None:
        """The stage is over."""

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Progress:
    """Where a call reports its stages; this base reports nothing."""

    def bar(self, description: str, total: int | None = None, unit: str = "it") -> ProgressBar:
        """A bar for one stage: ``total`` units (None: unknown) named ``unit``."""
        return ProgressBar()

    def track(self, items: Sequence[T], description: str, unit: str = "it") -> Tracked[T]:
        """``items`` to loop over, advancing a bar as each item's turn ends."""
        return Tracked(items, self.bar(description, len(items), unit))


class Tracked(Generic[T]):
    """A sequence looped over with a bar: each item counts once the loop moves past it (a
    ``continue`` too); the bar closes when the loop ends, however it ends."""

    def __init__(self, items: Sequence[T], bar: ProgressBar) -> None:
        self.items = items
        self.bar = bar

    def __iter__(self) -> Iterator[T]:
        try:
            for item in self.items:
                yield item
                self.bar.advance()
        finally:
            self.bar.close()

    def note(self, text: str) -> None:
        self.bar.note(text)


NO_PROGRESS = Progress()

# FiftyOne's ``progress=``: True, False, None (on when stderr is a terminal), or a Progress.
ProgressOption = bool | Progress | None
# The wiring's choice of reporter for a call's ``progress=``.
ProgressFactory = Callable[[ProgressOption], Progress]


def given_progress(option: ProgressOption) -> Progress:
    """A reporter given as such, else none: the default when no adapter shows bars."""
    return option if isinstance(option, Progress) else NO_PROGRESS

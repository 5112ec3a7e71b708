"""The error every reader and writer of user data raises: which file, which entry, what is wrong."""

from __future__ import annotations

from collections.abc import Sequence

from annoflow.domain.errors import AnnoflowError

_SHOWN = 20  # problems listed in a message; the rest are counted


class DataImportError(AnnoflowError, ValueError):
    """Media or label files that cannot be read as given; nothing was added.

    ``problems`` lists each one as ``"<file>: <entry>: <what is wrong>"``.
    """

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        shown = "\n  ".join(self.problems[:_SHOWN])
        more = len(self.problems) - _SHOWN
        tail = f"\n  ... and {more} more" if more > 0 else ""
        super().__init__(f"{len(self.problems)} problem(s), nothing was added:\n  {shown}{tail}")


class DataExportError(AnnoflowError, ValueError):
    """A dataset that cannot be written in the format asked for; nothing was written."""


def raise_if(problems: Sequence[str]) -> None:
    if problems:
        raise DataImportError(problems)

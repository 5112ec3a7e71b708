"""A secret value that never shows itself: not in a repr, a str, a log line or an error."""

from __future__ import annotations

import attrs


@attrs.frozen(repr=False)
class Secret:
    _value: str = attrs.field(alias="value")

    def reveal(self) -> str:
        """The value itself, for the one place that sends it."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)

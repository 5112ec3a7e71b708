"""attrs converters the value objects share, as named functions: mypy's attrs plugin reads a named
function's parameter as what the class's constructor takes, where it cannot read ``converter=tuple``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def as_tuple(values: Iterable[Any]) -> tuple[Any, ...]:
    """Any iterable as a tuple (the field's annotation says of what)."""
    return tuple(values)

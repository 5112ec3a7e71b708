"""How long a CVAT request may take: the bounds, their names, and how a string becomes one.

Three bounds, in seconds, each a connection setting (keyword argument, ``ANNOFLOW_CVAT_*``
variable, or annoflow's config file; FiftyOne's CVAT backend has no such settings, so the names
are annoflow's):

- ``connect_timeout`` (10): opening the TCP connection (and TLS);
- ``read_timeout`` (60): the longest silence while waiting for the server, or for it to take
  what is sent;
- ``request_deadline`` (600): one HTTP exchange from connecting to the last byte of the answer,
  whatever the server does meanwhile (a server dripping one byte every 2 s never trips the read
  timeout; it trips this). Large enough for a 64 MiB media upload at 1 Mbit/s.

A retried request (see retry.py) gets a fresh deadline for each attempt; the retry policy bounds
the attempts. Waiting for CVAT to process uploaded media is bounded separately (the client's
``wait_timeout``), since that is a series of short requests.
"""

from __future__ import annotations

import math
from typing import Any

import attrs

# name of the setting -> attribute of Timeouts
SETTINGS = {"connect_timeout": "connect", "read_timeout": "read", "request_deadline": "deadline"}


def seconds(name: str, value: Any) -> float:
    """A positive, finite number of seconds from a number or a string; ValueError naming ``name`` otherwise."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive number of seconds, got {value!r}") from None
    if not math.isfinite(number) or number <= 0:
        raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
    return number


def _positive(name: str):
    def check(_instance: Any, _attribute: Any, value: float) -> None:
        seconds(name, value)

    return check


@attrs.frozen
class Timeouts:
    connect: float = attrs.field(default=10.0, converter=float, validator=_positive("connect_timeout"))
    read: float = attrs.field(default=60.0, converter=float, validator=_positive("read_timeout"))
    deadline: float = attrs.field(default=600.0, converter=float, validator=_positive("request_deadline"))

    @classmethod
    def from_settings(cls, values: dict[str, Any]) -> Timeouts:
        """From setting names (``read_timeout=``, ...); a missing one keeps its default."""
        return cls(**{SETTINGS[name]: seconds(name, value) for name, value in values.items() if value is not None})

    @staticmethod
    def setting(bound: str) -> str:
        """The setting's name of a bound (``deadline`` -> ``request_deadline``)."""
        return next(name for name, attribute in SETTINGS.items() if attribute == bound)

    def describe(self, bound: str) -> str:
        """``request_deadline of 600 s``: a bound by its setting name, for error messages."""
        return f"{self.setting(bound)} of {getattr(self, bound):g} s"

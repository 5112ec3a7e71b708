"""Faults written as one line, for the command line and the control endpoint.

    METHOD PATH EFFECT... [xN | always] [after=N]

- METHOD: GET, POST, PUT, PATCH, DELETE, HEAD, or ``*`` for any.
- PATH: the URL path; ``*`` stands for one path segment, ``**`` for any rest; a trailing
  slash is optional, as on CVAT's action routes (``/api/jobs/*/annotations``).
- EFFECT, one or more of: a status code from 400 to 599 to answer instead of the server,
  ``retry-after=SECONDS`` with it, ``hang=SECONDS`` before answering (or before the status),
  ``reset`` to drop the connection unanswered.
- ``xN``: misbehave for N matching requests in a row (default 1); ``always``: every one.
- ``after=N``: let the first N matching requests through.

``PUT /api/jobs/*/annotations 500 x2``: the next two PUTs of a job's annotations answer 500.
"""

from __future__ import annotations

import re

import attrs

METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "*"})


class FaultSpecError(ValueError):
    """A fault line that does not follow the grammar; the message names the part and shows the grammar."""


@attrs.frozen
class FaultSpec:
    text: str
    method: str
    path: str  # a regex of the URL path
    nth: int = 1
    times: int | None = 1  # None: every matching request from the nth on
    status: int | None = None
    retry_after: float | None = None
    hang: float | None = None
    reset: bool = False


def path_pattern(path: str) -> str:
    """``/api/jobs/*/annotations`` as an anchored regex: * one segment, ** any rest, optional trailing slash."""
    parts = re.split(r"(\*\*|\*)", path.rstrip("/") or "/")
    body = "".join(".*" if part == "**" else "[^/]+" if part == "*" else re.escape(part) for part in parts)
    return f"^{body}/?$"


def _seconds(token: str, value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise FaultSpecError(f"{token!r}: {value!r} is not a number of seconds") from None
    if not seconds >= 0:
        raise FaultSpecError(f"{token!r}: a time cannot be negative")
    return seconds


def parse_fault(text: str) -> FaultSpec:
    """One fault line, or FaultSpecError saying what is wrong with it."""
    tokens = text.split()
    if len(tokens) < 3:
        raise FaultSpecError(
            f"{text!r}: a fault is METHOD PATH EFFECT... [xN|always] [after=N], "
            "e.g. 'PUT /api/jobs/*/annotations 500 x2'"
        )
    method, path, *rest = tokens
    method = method.upper()
    if method not in METHODS:
        raise FaultSpecError(f"{text!r}: unknown method {tokens[0]!r} (one of {', '.join(sorted(METHODS))})")
    if not path.startswith("/"):
        raise FaultSpecError(f"{text!r}: the path {path!r} must start with '/'")
    found = dict(_effect(text, token) for token in rest)
    if not ({"status", "hang", "reset"} & found.keys()):
        raise FaultSpecError(f"{text!r}: a fault answers a status, hangs (hang=SECONDS) or resets the connection")
    if "retry_after" in found and "status" not in found:
        raise FaultSpecError(f"{text!r}: retry-after goes with a status (429 or 503)")
    return FaultSpec(text=" ".join(tokens), method=method, path=path_pattern(path), **found)  # type: ignore[arg-type]


def _effect(text: str, token: str) -> tuple[str, object]:
    """One token after the path, as the FaultSpec field it sets and its value (a later token wins)."""
    key, _, value = token.partition("=")
    key = key.lower()
    if token.isdigit():
        if not 400 <= int(token) <= 599:
            raise FaultSpecError(f"{text!r}: status {token} is not an error (400 to 599)")
        return "status", int(token)
    if key in ("retry-after", "hang") and value:
        return key.replace("-", "_"), _seconds(token, value)
    if key == "after" and value:
        if not value.isdigit():
            raise FaultSpecError(f"{text!r}: {token!r} needs a whole number of requests")
        return "nth", int(value) + 1
    if token.lower() == "reset":
        return "reset", True
    if token.lower() == "always":
        return "times", None
    if re.fullmatch(r"x\d+", token.lower()) and int(token[1:]) > 0:
        return "times", int(token[1:])
    raise FaultSpecError(
        f"{text!r}: {token!r} is not a fault effect (a status 400-599, retry-after=S, "
        "hang=S, reset, xN, always, after=N)"
    )

"""Typed CVAT errors: the HTTP status and CVAT's own message, never a credential."""

from __future__ import annotations

import json
from typing import Any

from annoflow.domain.errors import AnnoflowError


class CVATError(AnnoflowError):
    """A request CVAT refused or could not answer."""

    def __init__(
        self, message: str, *, status: int | None = None, method: str | None = None, url: str | None = None
    ) -> None:
        self.status = status
        self.method = method
        self.url = url
        self.detail = message
        where = f" ({method} {url})" if method and url else ""
        code = f"HTTP {status}: " if status is not None else ""
        super().__init__(f"{code}{message}{where}")


class CVATAuthError(CVATError):
    """Bad credentials, an expired session that could not be renewed, or no permission."""


class CVATNotFoundError(CVATError):
    """The task, project or job does not exist (or is not visible in this organization)."""


class CVATTimeoutError(CVATError):
    """The server did not answer, or a background request did not finish, in time.

    ``bound`` names the setting that ran out (``connect_timeout``, ``read_timeout``,
    ``request_deadline``, or ``wait_timeout`` for CVAT's background processing) and ``seconds`` its
    value; both are None when the bound is not known.
    """

    def __init__(self, message: str, *, bound: str | None = None, seconds: float | None = None, **where: Any) -> None:
        self.bound = bound
        self.seconds = seconds
        super().__init__(message, **where)


class CVATConnectionError(CVATError):
    """The server could not be reached, or dropped the connection, after every retry.

    ``connected`` is False when no connection was ever made, so the server received nothing."""

    def __init__(self, message: str, *, connected: bool = True, **where: Any) -> None:
        self.connected = connected
        super().__init__(message, **where)


class CVATAnswerError(CVATError):
    """CVAT answered a request with something its API does not define: not JSON (an HTML page, a
    cut-off body), or JSON of another form (a list where an object belongs, a task's data/meta
    without frames). Nothing of that answer was used; the error names the request."""


class CVATSettingsError(CVATError):
    """A connection setting that cannot work (found before anything is sent); never shows a secret."""


class CredentialsError(CVATSettingsError):
    """No credentials were given and none could be asked for, or they were given twice, differently."""


def cvat_message(body: bytes) -> str:
    """CVAT's explanation from an error body: ``detail``, field errors, or the text itself."""
    try:
        data: Any = json.loads(body)
    except ValueError:
        text = body.decode("utf-8", "replace").strip()
        return text[:500] or "(no message)"
    if isinstance(data, dict):
        if "detail" in data:
            return str(data["detail"])
        parts = []
        for field, problems in data.items():
            items = problems if isinstance(problems, list) else [problems]
            parts.append(f"{field}: {'; '.join(str(p) for p in items)}")
        return ", ".join(parts) or "(no message)"
    if isinstance(data, list):
        return "; ".join(str(p) for p in data)
    return str(data)


def error_for(status: int, body: bytes, method: str, url: str) -> CVATError:
    message = cvat_message(body)
    if status in (401, 403):
        return CVATAuthError(message, status=status, method=method, url=url)
    if status == 404:
        return CVATNotFoundError(message, status=status, method=method, url=url)
    return CVATError(message, status=status, method=method, url=url)

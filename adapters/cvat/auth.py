"""Logging in to CVAT as the server answers: a token, or a session cookie with its CSRF header."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Generator

import httpx

from annoflow.adapters.cvat.errors import CVATAuthError, cvat_message
from annoflow.adapters.cvat.settings import CVATSettings

logger = logging.getLogger(__name__)
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class CVATAuth(httpx.Auth):
    """Logs in lazily, before the first request; logs in again once if the session expired (401)."""

    requires_response_body = True

    def __init__(self, settings: CVATSettings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._token: str | None = None
        self._session: dict[str, str] = {}  # sessionid and csrftoken cookies, when no token came back
        self.logins = 0

    def __repr__(self) -> str:
        return f"CVATAuth(user={self._settings.username or self._settings.email!r}, logged_in={self.logged_in})"

    @property
    def logged_in(self) -> bool:
        return bool(self._token or self._session)

    def forget(self) -> None:
        with self._lock:
            self._token, self._session = None, {}

    def _login_request(self, request: httpx.Request) -> httpx.Request:
        body: dict[str, str] = {"password": self._settings.password.reveal() if self._settings.password else ""}
        if self._settings.username:
            body["username"] = self._settings.username
        if self._settings.email:
            body["email"] = self._settings.email
        url = request.url.copy_with(path="/api/auth/login", query=None)
        headers = {
            k: v
            for k, v in request.headers.items()
            if k.lower() not in ("content-length", "content-type", "authorization", "cookie")
        }
        # A request built here is no Client's: it takes the request's bounds (its timeout extension),
        # or it would wait forever on a server that never answers.
        return httpx.Request("POST", url, json=body, headers=headers, extensions=dict(request.extensions))

    def _remember(self, response: httpx.Response) -> None:
        if response.status_code != 200:
            raise CVATAuthError(
                f"login refused for {self._settings.username or self._settings.email!r}: {cvat_message(response.content)}",
                status=response.status_code,
                method="POST",
                url=str(response.request.url),
            )
        key = None
        with contextlib.suppress(ValueError):  # not JSON: a session login, told by its cookies
            key = response.json().get("key")
        cookies = {name: response.cookies[name] for name in ("sessionid", "csrftoken") if name in response.cookies}
        if key:
            self._token, self._session = key, {}
        elif cookies:
            self._token, self._session = None, cookies
        else:
            raise CVATAuthError(
                "login answered neither a token nor a session", status=200, method="POST", url=str(response.request.url)
            )
        self.logins += 1
        logger.info(
            "logged in to %s as %r (%s)",
            response.request.url.host,
            self._settings.username or self._settings.email,
            "token" if key else "session cookie",
        )

    def _sign(self, request: httpx.Request) -> None:
        if self._token:
            request.headers["Authorization"] = f"Token {self._token}"
        elif self._session:
            request.headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self._session.items())
            if "csrftoken" in self._session:
                # cvat-sdk sends it on every request; CVAT needs it on unsafe ones
                request.headers["X-CSRFToken"] = self._session["csrftoken"]

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if request.url.path.rstrip("/") in ("/api/auth/login", "/api/server/about"):
            yield request
            return
        if not self.logged_in:
            self._remember((yield self._login_request(request)))
        self._sign(request)
        response = yield request
        if response.status_code == 401:
            # the token or session expired (or the server restarted): log in once more
            logger.info("CVAT answered 401 to %s %s: logging in again", request.method, request.url.path)
            self.forget()
            self._remember((yield self._login_request(request)))
            self._sign(request)
            yield request

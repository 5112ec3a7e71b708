"""Retries with backoff, in a transport wrapped around httpx's own.

Which failures are retried, and for which requests:
- 429 and 503: the server refused the request before doing anything, so any method;
- 502, 504, dropped connections and timeouts: the request may have been done, so only
  idempotent methods (GET, HEAD, OPTIONS, PUT, DELETE);
- ``Retry-After`` (seconds or an HTTP date) is honoured, capped at ``max_wait``.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable

import attrs
import httpx

logger = logging.getLogger(__name__)
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
REFUSED = frozenset({429, 503})
MAYBE_DONE = frozenset({502, 504})


@attrs.frozen
class RetryPolicy:
    attempts: int = 5
    backoff: float = 0.5
    max_wait: float = 30.0
    sleep: Callable[[float], None] = attrs.field(default=time.sleep, eq=False, repr=False)
    jitter: Callable[[], float] = attrs.field(default=random.random, eq=False, repr=False)

    def wait(self, attempt: int, response: httpx.Response | None) -> float:
        if response is not None and "retry-after" in response.headers:
            after = _retry_after(response.headers["retry-after"])
            if after is not None:
                return min(after, self.max_wait)
        return min(self.backoff * 2 ** (attempt - 1) * (1 + 0.25 * self.jitter()), self.max_wait)


def _retry_after(value: str) -> float | None:
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class RetryingTransport(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport, policy: RetryPolicy) -> None:
        self.inner = inner
        self.policy = policy
        self.retries = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        idempotent = request.method in IDEMPOTENT
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self.inner.handle_request(request)
            except httpx.TransportError as error:
                if not idempotent or attempt >= self.policy.attempts or isinstance(error, httpx.UnsupportedProtocol):
                    raise
                self._pause(request, attempt, None, type(error).__name__)
                continue
            retry = response.status_code in REFUSED or (idempotent and response.status_code in MAYBE_DONE)
            if not retry or attempt >= self.policy.attempts:
                return response
            response.read()
            response.close()
            self._pause(request, attempt, response, f"HTTP {response.status_code}")

    def _pause(self, request: httpx.Request, attempt: int, response: httpx.Response | None, failure: str) -> None:
        self.retries += 1
        wait = self.policy.wait(attempt, response)
        # The path only: a query may name things, and headers (credentials) are never logged.
        logger.warning(
            "%s %s failed (%s): retry %d of %d in %.1f s",
            request.method,
            request.url.path,
            failure,
            attempt,
            self.policy.attempts - 1,
            wait,
        )
        self.policy.sleep(wait)

    def close(self) -> None:
        self.inner.close()

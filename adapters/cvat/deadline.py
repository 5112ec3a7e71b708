"""httpx's transport with an overall deadline per HTTP exchange, enforced at the socket.

httpx bounds each socket wait (connect, each read, each write) but not their sum, so a server
that answers one byte at a time keeps a request alive forever. Here every socket wait of an
exchange, from connecting to reading the last byte of the body, is cut to what is left of the
exchange's deadline; the wait that runs out raises `DeadlineExceeded` (httpx reports it as a
`httpx.TimeoutException` caused by it). The deadline travels in a context variable, set around
the exchange and around each read of its body, so connections shared by several threads each
see only their own request's deadline.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import ssl
import time
import typing
from collections.abc import Iterator

import httpcore
import httpx

from annoflow.adapters.cvat.timeouts import Timeouts

_ENDS: contextvars.ContextVar[float | None] = contextvars.ContextVar("annoflow_cvat_exchange_ends", default=None)


class DeadlineExceeded(httpcore.TimeoutException):
    """The exchange's overall deadline ran out during a socket wait."""


def httpx_timeout(timeouts: Timeouts) -> httpx.Timeout:
    """The per-wait bounds as httpx takes them: writes and the pool wait as long as reads."""
    return httpx.Timeout(connect=timeouts.connect, read=timeouts.read, write=timeouts.read, pool=timeouts.read)


@contextlib.contextmanager
def _until(ends: float) -> Iterator[None]:
    token = _ENDS.set(ends)
    try:
        yield
    finally:
        _ENDS.reset(token)


def _within(timeout: float | None, wait: typing.Callable[[float | None], typing.Any]) -> typing.Any:
    """Run a socket wait bounded by ``timeout`` and by what is left of the current exchange."""
    ends = _ENDS.get()
    if ends is None:
        return wait(timeout)
    left = ends - time.monotonic()
    if left <= 0:
        raise DeadlineExceeded("the request's deadline ran out")
    if timeout is not None and timeout <= left:
        return wait(timeout)  # the wait's own bound comes first: its timeout is its own
    try:
        return wait(left)
    except httpcore.TimeoutException as error:
        raise DeadlineExceeded("the request's deadline ran out") from error


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return _within(timeout, lambda bound: self._inner.read(max_bytes, bound))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        _within(timeout, lambda bound: self._inner.write(buffer, bound))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        return _Stream(_within(timeout, lambda bound: self._inner.start_tls(ssl_context, server_hostname, bound)))

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.NetworkStream:
        return _Stream(
            _within(timeout, lambda bound: self._inner.connect_tcp(host, port, bound, local_address, socket_options))
        )

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: typing.Iterable[typing.Any] | None = None
    ) -> httpcore.NetworkStream:
        return _Stream(_within(timeout, lambda bound: self._inner.connect_unix_socket(path, bound, socket_options)))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _BoundedBody(httpx.SyncByteStream):
    """A response body whose every read is still bounded by its exchange's deadline."""

    def __init__(self, inner: httpx.SyncByteStream, ends: float) -> None:
        self._inner = inner
        self._ends = ends

    def __iter__(self) -> Iterator[bytes]:
        parts = iter(self._inner)
        while True:
            with _until(self._ends):
                part = next(parts, None)
            if part is None:
                return
            yield part

    def close(self) -> None:
        self._inner.close()


@functools.lru_cache(maxsize=1)
def _tls_context() -> ssl.SSLContext:
    """httpx's default TLS context, made once per process: loading the CA bundle takes 50 ms, which every
    connection to CVAT (an annotate(), a load, a cleanup) paid twice; a context is safe to share."""
    return httpx.create_ssl_context()


class DeadlineTransport(httpx.HTTPTransport):
    """httpx's HTTP transport whose every exchange ends by ``timeouts.deadline``."""

    def __init__(self, timeouts: Timeouts, *, tls: bool = True) -> None:
        """``tls=False`` for a plain-HTTP server (a local CVAT, the simulator): the shared TLS context,
        whose CA bundle a process loads in 25-50 ms, is then not made for it. Should such a client
        still meet an https URL (an absolute link in an answer), httpcore verifies that connection
        with a default context of its own."""
        context = _tls_context() if tls else None
        # the parent's pool is replaced below: its own TLS setting is never used
        super().__init__(verify=context if context is not None else False, retries=0)
        self.timeouts = timeouts
        # httpx has no way to hand httpcore a network backend: give its pool one built the same
        # way (httpx's default limits and TLS context), on our bounded sockets.
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=5.0)
        self._pool = httpcore.ConnectionPool(
            ssl_context=context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_Backend(httpcore.SyncBackend()),
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        # A request built by hand (not by a Client) carries no per-wait bounds: give it ours.
        request.extensions.setdefault("timeout", httpx_timeout(self.timeouts).as_dict())
        ends = time.monotonic() + self.timeouts.deadline
        with _until(ends):
            response = super().handle_request(request)
        response.stream = _BoundedBody(typing.cast(httpx.SyncByteStream, response.stream), ends)
        return response

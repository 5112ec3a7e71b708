"""Every request, the login included, ends by its bounds, against servers that never finish.

The servers (tests/hostile_servers.py) run on 127.0.0.1; the bounds are set short so the tests
stay fast. Each case checks the typed error, the bound it names and the request it names.
"""

from __future__ import annotations

import time

import httpx
import pytest

from annoflow.adapters.cvat import CVATClient, CVATConnectionError, CVATSettings, CVATTimeoutError, RetryPolicy, Secret
from annoflow.adapters.cvat.timeouts import Timeouts
from tests.hostile_servers import HostileServer

# Far above any bound used here, far below forever: a wait that ignores its bound fails the test.
CEILING = 10.0


def _client(url: str, timeouts: Timeouts, **kwargs) -> CVATClient:
    settings = CVATSettings(url=url, username="alice", password=Secret("pw"))
    return CVATClient(settings, timeouts=timeouts, retry=RetryPolicy(attempts=1), **kwargs)


def _fails(call) -> tuple[Exception, float]:
    start = time.monotonic()
    with pytest.raises((CVATTimeoutError, CVATConnectionError)) as caught:
        call()
    return caught.value, time.monotonic() - start


def test_a_login_no_one_answers_ends_at_the_read_timeout(silent_server):
    with _client(silent_server.url, Timeouts(read=0.4, deadline=CEILING)) as client:
        error, took = _fails(lambda: client.find_project("x"))
    assert isinstance(error, CVATTimeoutError) and error.bound == "read_timeout" and error.seconds == 0.4
    assert (error.method, error.url) == ("POST", f"{silent_server.url}/api/auth/login")
    assert "read_timeout of 0.4 s" in str(error) and "/api/auth/login" in str(error)
    assert 0.4 <= took < CEILING


def test_a_silent_server_also_ends_at_the_deadline_when_it_comes_first(silent_server):
    with _client(silent_server.url, Timeouts(read=CEILING, deadline=0.5)) as client:
        error, took = _fails(lambda: client.server_version())
    assert isinstance(error, CVATTimeoutError) and error.bound == "request_deadline"
    assert (error.method, error.url) == ("GET", f"{silent_server.url}/api/server/about")
    assert 0.5 <= took < CEILING


def test_a_server_dripping_its_answer_ends_at_the_deadline(drip_server):
    # A byte every 0.2 s never lets the 1 s read timeout run out; only the deadline ends it.
    with _client(drip_server.url, Timeouts(read=1.0, deadline=1.5)) as client:
        error, took = _fails(lambda: client.find_project("x"))
    assert isinstance(error, CVATTimeoutError) and error.bound == "request_deadline" and error.seconds == 1.5
    assert error.url == f"{drip_server.url}/api/auth/login" and "request_deadline of 1.5 s" in str(error)
    assert drip_server.dripped >= 4, "the server kept answering, byte by byte"
    assert 1.5 <= took < CEILING


def test_a_server_dripping_one_byte_every_two_seconds_ends_at_the_deadline():
    with (
        HostileServer("drip", interval=2.0, lifetime=20) as server,
        _client(server.url, Timeouts(read=3.0, deadline=4.5)) as client,
    ):
        error, took = _fails(lambda: client.server_version())
    assert isinstance(error, CVATTimeoutError) and error.bound == "request_deadline"
    assert server.dripped >= 2 and 4.5 <= took < CEILING


def test_a_server_that_closes_at_once_is_a_connection_error(closing_server):
    with _client(closing_server.url, Timeouts(read=CEILING, deadline=CEILING)) as client:
        error, took = _fails(lambda: client.find_project("x"))
    assert isinstance(error, CVATConnectionError) and error.url == f"{closing_server.url}/api/auth/login"
    assert closing_server.connections == 1 and took < CEILING


def test_a_server_that_never_accepts_ends_at_the_connect_timeout(full_server):
    with _client(full_server.url, Timeouts(connect=0.4, read=CEILING, deadline=CEILING)) as client:
        error, took = _fails(lambda: client.find_project("x"))
    assert isinstance(error, CVATTimeoutError) and error.bound == "connect_timeout"
    assert "connect_timeout of 0.4 s" in str(error) and 0.4 <= took < CEILING


def test_a_retried_read_gets_a_fresh_deadline_and_the_retries_end(silent_server):
    sleeps: list[float] = []
    settings = CVATSettings(url=silent_server.url, username="alice", password=Secret("pw"))
    with CVATClient(
        settings, timeouts=Timeouts(read=CEILING, deadline=0.6), retry=RetryPolicy(attempts=3, sleep=sleeps.append)
    ) as client:
        error, took = _fails(lambda: client.server_version())
    assert isinstance(error, CVATTimeoutError) and error.bound == "request_deadline"
    assert client.retrying.retries == 2 and silent_server.connections == 3 and 1.8 <= took < CEILING


def test_the_login_takes_the_clients_bounds_even_without_the_deadline_transport():
    # httpx's own transport: only the per-wait timeouts bound the exchange. Before the login
    # request carried them it waited until the server went away (here after 5 s).
    with (
        HostileServer("silent", lifetime=5) as server,
        _client(server.url, Timeouts(read=0.4), transport=httpx.HTTPTransport()) as client,
    ):
        error, took = _fails(lambda: client.find_project("x"))
    assert isinstance(error, CVATTimeoutError) and error.bound == "read_timeout" and took < 5


def test_the_login_request_carries_the_timeout_extension():
    seen: list[httpx.Request] = []

    def server(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/api/auth/login":
            return httpx.Response(200, json={"key": "k"})
        return httpx.Response(200, json={"results": [], "next": None, "count": 0})

    with _client("http://cvat.test", Timeouts(connect=1.5, read=2.5), transport=httpx.MockTransport(server)) as client:
        client.find_project("x")
    login, listing = seen
    assert login.url.path == "/api/auth/login"
    assert (
        login.extensions["timeout"]
        == listing.extensions["timeout"]
        == {"connect": 1.5, "read": 2.5, "write": 2.5, "pool": 2.5}
    )

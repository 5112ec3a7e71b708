"""The client logs each retry, each wait, each skipped deletion and each login, never a secret."""

from __future__ import annotations

import logging

import httpx

from tests.cvat_client.test_client_unit import Server, client


def _messages(caplog, level=logging.DEBUG):
    return [r.getMessage() for r in caplog.records if r.name.startswith("annoflow") and r.levelno >= level]


def test_each_retry_is_a_warning_with_the_wait_and_no_credential(caplog):
    server = Server()
    answers = iter(
        [httpx.Response(429, headers={"Retry-After": "2"}), httpx.Response(503), httpx.Response(200, json={"id": 1})]
    )
    server.routes[("GET", "/api/tasks/1")] = lambda r: next(answers)
    with caplog.at_level(logging.DEBUG, logger="annoflow"):
        client(server).task(1)
    warnings = _messages(caplog, logging.WARNING)
    assert warnings == [
        "GET /api/tasks/1 failed (HTTP 429): retry 1 of 4 in 2.0 s",
        "GET /api/tasks/1 failed (HTTP 503): retry 2 of 4 in 1.0 s",
    ]
    everything = " ".join(_messages(caplog))
    assert "pw" not in everything.split() and "k1" not in everything and "X-Proxy" not in everything
    assert "logged in to cvat.test as 'alice' (token)" in everything


def test_a_dropped_connection_retry_names_the_failure(caplog):
    server = Server()
    failures = iter([httpx.ConnectError("reset")])

    def flaky(request):
        for error in failures:
            raise error
        return httpx.Response(200, json={"id": 1})

    server.routes[("GET", "/api/tasks/1")] = flaky
    with caplog.at_level(logging.WARNING, logger="annoflow"):
        client(server).task(1)
    assert _messages(caplog, logging.WARNING) == ["GET /api/tasks/1 failed (ConnectError): retry 1 of 4 in 0.5 s"]


def test_each_wait_is_logged(caplog):
    server = Server()
    states = iter(["queued", "started", "finished"])
    server.routes[("GET", "/api/requests/rq1")] = lambda r: httpx.Response(
        200, json={"status": next(states), "message": ""}
    )
    with caplog.at_level(logging.DEBUG, logger="annoflow"):
        client(server).wait_for_data(1, "rq1")
    messages = _messages(caplog)
    assert "waiting for CVAT to process the data of task 1" in messages
    assert [m for m in messages if "looking again" in m] == [
        "task 1: data queued, looking again in 0.5 s",
        "task 1: data started, looking again in 0.5 s",
    ]
    assert messages[-1] == "task 1: data processed"


def test_a_task_already_gone_is_skipped_and_logged(caplog):
    server = Server()
    server.routes[("DELETE", "/api/tasks/4")] = lambda r: httpx.Response(204)
    with caplog.at_level(logging.INFO, logger="annoflow"):
        c = client(server)
        assert c.delete_task(4) and not c.delete_task(5)
    assert _messages(caplog, logging.INFO)[-2:] == ["task 4 deleted", "task 5 was already gone: skipped"]

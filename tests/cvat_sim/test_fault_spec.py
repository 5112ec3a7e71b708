"""Faults written as one line: the grammar, and its use from the command line and the control endpoint."""

from __future__ import annotations

import contextlib
import re
import signal
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from annoflow.adapters.cvat_sim.fault_spec import FaultSpecError, parse_fault
from annoflow.adapters.cvat_sim.faults import FaultPlan
from tests.cvat_sim.test_server_api import _task_with_data
from tests.cvat_sim.test_standalone import _free_port


def test_the_issue_example():
    spec = parse_fault("PUT /api/jobs/*/annotations 500 x2")
    assert (spec.method, spec.status, spec.times, spec.nth, spec.hang, spec.reset) == ("PUT", 500, 2, 1, None, False)
    path = re.compile(spec.path)
    assert path.search("/api/jobs/12/annotations") and path.search("/api/jobs/12/annotations/")
    for other in (
        "/api/jobs/12/annotations/x",
        "/api/jobs/annotations",
        "/api/jobs/1/2/annotations",
        "/x/api/jobs/1/annotations",
    ):
        assert not path.search(other), other


def test_every_effect():
    spec = parse_fault("post /api/tasks/*/data 503 retry-after=1.5 after=2")
    assert (spec.method, spec.status, spec.retry_after, spec.nth) == ("POST", 503, 1.5, 3)
    spec = parse_fault("*  /api/**  reset always")
    assert (spec.method, spec.reset, spec.times) == ("*", True, None)
    assert re.compile(spec.path).search("/api/tasks/1/data/meta") and spec.text == "* /api/** reset always"
    spec = parse_fault("GET /api/users/self hang=0.5 504")
    assert (spec.hang, spec.status) == (0.5, 504)


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("PUT /api/tasks", "a fault is METHOD PATH EFFECT"),
        ("FETCH /api/tasks 500", "unknown method 'FETCH'"),
        ("PUT api/tasks 500", "must start with '/'"),
        ("PUT /api/tasks 200", "status 200 is not an error"),
        ("PUT /api/tasks x2", "a fault answers a status, hangs"),
        ("PUT /api/tasks retry-after=1", "a fault answers a status, hangs"),
        ("PUT /api/tasks hang=1 retry-after=1", "retry-after goes with a status"),
        ("PUT /api/tasks hang=-1", "a time cannot be negative"),
        ("PUT /api/tasks hang=soon", "'soon' is not a number of seconds"),
        ("PUT /api/tasks 500 x0", "'x0' is not a fault effect"),
        ("PUT /api/tasks 500 after=two", "needs a whole number"),
        ("PUT /api/tasks 500 sometimes", "'sometimes' is not a fault effect"),
    ],
)
def test_what_the_parser_refuses(line, says):
    with pytest.raises(FaultSpecError, match=re.escape(says)):
        parse_fault(line)


def test_a_plan_fires_in_a_row_after_some_and_always():
    plan = FaultPlan()
    twice = plan.add_spec("PUT /api/jobs/*/annotations 500 x2 after=1")
    hits = [plan.match("PUT", "/api/jobs/3/annotations") for _ in range(5)]
    assert [rule is twice for rule in hits] == [False, True, True, False, False]
    assert twice.summary() == {
        "fault": "PUT /api/jobs/*/annotations 500 x2 after=1",
        "seen": 3,
        "fired": 2,
        "done": True,
    }
    always = plan.add_spec("GET /api/tasks 503 always")
    assert all(plan.match("GET", "/api/tasks") is always for _ in range(4))
    assert plan.match("GET", "/_simulator/faults") is None  # the control routes are never faulted


@contextlib.contextmanager
def _login(url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=url, timeout=30) as client:
        client.headers["Authorization"] = (
            "Token " + client.post("/api/auth/login", json={"username": "alice", "password": "pw"}).json()["key"]
        )
        yield client


def test_from_the_command_line_and_the_control_endpoint(images):
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "annoflow.adapters.cvat_sim.cli",
            "--port",
            str(port),
            "--user",
            "alice:pw",
            "--fault",
            "PUT /api/jobs/*/annotations 500 x2",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        process.stdout.readline()
        url = f"http://127.0.0.1:{port}"
        with _login(url) as client:
            task_id = _task_with_data(client, images[:2])
            (job,) = client.get("/api/jobs", params={"task_id": task_id}).json()["results"]
            statuses = [
                client.put(f"/api/jobs/{job['id']}/annotations", json={"shapes": []}).status_code for _ in range(3)
            ]
            assert statuses == [500, 500, 200]

            control = f"{url}/_simulator/faults"
            added = httpx.post(control, json={"fault": "GET /api/tasks 503 retry-after=2"})
            assert added.status_code == 201 and added.json()["faults"][0]["fault"] == "GET /api/tasks 503 retry-after=2"
            refused = client.get("/api/tasks")
            assert refused.status_code == 503 and refused.headers["retry-after"] == "2.0"
            assert client.get("/api/tasks").status_code == 200
            assert [(f["fault"], f["fired"], f["done"]) for f in httpx.get(control).json()["faults"]] == [
                ("PUT /api/jobs/*/annotations 500 x2", 2, True),
                ("GET /api/tasks 503 retry-after=2", 1, True),
            ]
            bad = httpx.post(control, json={"faults": ["GET /api/tasks 503", "GET /api/tasks 200"]})
            assert bad.status_code == 400 and "status 200 is not an error" in bad.json()["fault"][0]
            assert len(httpx.get(control).json()["faults"]) == 2  # all or none: the good line was not added
            httpx.post(control, json={"fault": "* /api/** 500 always"})
            assert client.get("/api/users/self").status_code == 500
            assert httpx.delete(control).status_code == 204
            assert client.get("/api/users/self").status_code == 200

            processing = f"{url}/_simulator/processing"
            assert httpx.put(processing, json={"seconds_per_frame": 0.5}).json() == {"seconds_per_frame": 0.5}
            assert httpx.put(processing, json={"seconds_per_frame": -1}).status_code == 400
            assert httpx.get(processing).json() == {"seconds_per_frame": 0.5}
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
    bad = subprocess.run(
        [sys.executable, "-m", "annoflow.adapters.cvat_sim.cli", "--user", "a:b", "--fault", "PUT /x 200"],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "status 200 is not an error (400 to 599)" in bad.stderr

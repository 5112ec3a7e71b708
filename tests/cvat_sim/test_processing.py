"""The processing-time model: uploaded data go queued, started, finished, and jobs exist only then;
annoflow's client waits for it through the public API."""

from __future__ import annotations

import contextlib
import datetime
import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from annoflow.adapters import wiring
from annoflow.adapters.cvat_sim.processing import STARTED_MESSAGE
from annoflow.adapters.cvat_sim.server import CvatSimulator
from annoflow.adapters.quickstart import load_quickstart
from tests.cvat_sim.conftest import PASSWORD, USER
from tests.cvat_sim.test_server_api import LABELS
from tests.cvat_sim.test_standalone import _free_port


@contextlib.contextmanager
def _login(url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=url, timeout=30) as client:
        client.headers["Authorization"] = (
            "Token " + client.post("/api/auth/login", json={"username": USER, "password": PASSWORD}).json()["key"]
        )
        yield client


def _upload(client: httpx.Client, images: list[str]) -> tuple[int, str]:
    task_id = client.post("/api/tasks", json={"name": "t", "labels": LABELS, "segment_size": 2}).json()["id"]
    files = {f"client_files[{i}]": (p.rsplit("/", 1)[-1], Path(p).read_bytes()) for i, p in enumerate(images)}
    answer = client.post(f"/api/tasks/{task_id}/data/", data={"image_quality": "70"}, files=files)
    assert answer.status_code == 202
    return task_id, answer.json()["rq_id"]


def _until_done(client: httpx.Client, rq_id: str) -> list[dict]:
    """Every answer about a request until it ends."""
    seen = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        seen.append(client.get(f"/api/requests/{rq_id}").json())
        if seen[-1]["status"] in ("finished", "failed"):
            return seen
        time.sleep(0.02)
    raise AssertionError(f"request {rq_id} never ended: {seen[-1]}")


def _stamp(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_data_are_queued_then_started_then_finished_and_jobs_come_last(cvat_schema, images):
    cvat_schema.take_problems()
    simulator = CvatSimulator(users={USER: PASSWORD}, on_exchange=cvat_schema.check, processing_seconds_per_frame=0.1)
    with simulator.serve() as sim, _login(sim.url) as client:
        first, first_rq = _upload(client, images)
        second, second_rq = _upload(client, images)  # waits its turn behind the first: one worker
        assert client.get(f"/api/requests/{second_rq}").json()["status"] == "queued"
        assert client.get(f"/api/tasks/{second}/status").json() == {"state": "Queued", "message": "", "progress": 0.0}
        task = client.get(f"/api/tasks/{first}").json()
        assert (task["size"], task["mode"], task["jobs"]["count"]) == (0, "", 0)
        assert client.get("/api/jobs", params={"task_id": first}).json()["count"] == 0
        assert client.get(f"/api/tasks/{first}/data/meta").json()["frames"] == []
        seen = _until_done(client, first_rq)
        started = [answer for answer in seen if answer["status"] == "started"]
        assert started and started[0]["message"] == STARTED_MESSAGE and 0 <= started[0]["progress"] < 1
        assert seen[-1]["status"] == "finished" and seen[-1]["progress"] == 1.0
        assert client.get("/api/jobs", params={"task_id": first}).json()["count"] == 3  # 5 frames, 2 per job
        assert client.get(f"/api/tasks/{first}").json()["size"] == len(images)
        last = _until_done(client, second_rq)[-1]
        assert _stamp(last["started_date"]) >= _stamp(seen[-1]["finished_date"])
    simulator.close()
    assert cvat_schema.take_problems() == []


def test_stopping_fails_what_was_not_processed(images):
    simulator = CvatSimulator(users={USER: PASSWORD}, processing_seconds_per_frame=5.0)
    with simulator.serve() as sim, _login(sim.url) as client:
        _, first_rq = _upload(client, images)
        _, second_rq = _upload(client, images)
    simulator.close()
    for rq_id in (first_rq, second_rq):
        record = simulator.state.requests[rq_id]
        assert record["status"] == "failed" and "stopped" in record["message"]


def test_annotate_waits_for_processing_through_the_public_api(tmp_path, cvat_schema):
    """annotate() against a simulator that takes its time: each task's annotations go up only once
    CVAT has processed its data and made its jobs, after the client saw the request unfinished."""
    cvat_schema.take_problems()
    seen: list[tuple[float, str, str, int, bytes]] = []

    def record(exchange):
        seen.append((time.time(), exchange.method, exchange.path, exchange.status, exchange.response_body))
        cvat_schema.check(exchange)

    simulator = CvatSimulator(users={USER: PASSWORD}, on_exchange=record, processing_seconds_per_frame=0.08)
    with simulator.serve() as sim:
        dataset = wiring.open_dataset("quickstart", env={"ANNOFLOW_DATA_DIR": str(tmp_path / "data")})
        load_quickstart(dataset.store, tmp_path / "media", num_samples=6, image_size=(64, 48))
        results = dataset.annotate(
            "waits",
            label_field="ground_truth",
            task_size=3,
            segment_size=2,
            url=sim.url,
            username=USER,
            password=PASSWORD,
        )
        assert len(results.task_ids) == 2
        run = dataset.registry.get_run("quickstart", "waits")
        labels = sum(len(s.fields["ground_truth"].detections) for s in dataset.iter_samples())
        assert sum(t.label_count for t in run.tasks.values()) == labels > 0
        with _login(sim.url) as client:
            for task_id in results.task_ids:
                jobs = client.get("/api/jobs", params={"task_id": task_id}).json()["results"]
                assert sorted(j["id"] for j in jobs) == sorted(run.tasks[task_id].job_ids) and len(jobs) == 2
                finished = _stamp(
                    simulator.state.requests[f"action=create&target=task&target_id={task_id}"]["finished"]
                )
                puts = [
                    when
                    for when, method, path, status, _ in seen
                    if method == "PUT"
                    and status == 200
                    and any(path.startswith(f"/api/jobs/{j['id']}/annotations") for j in jobs)
                ]
                assert len(puts) == 2 and min(puts) >= finished.timestamp()
        polls = [
            json.loads(body)["status"]
            for _, method, path, status, body in seen
            if method == "GET" and path.startswith("/api/requests/") and status == 200
        ]
        assert {"queued", "started"} & set(polls) and polls.count("finished") == 2  # it waited, then went on
    simulator.close()
    assert cvat_schema.take_problems() == []


def test_the_command_line_takes_a_processing_time(images):
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "annoflow.adapters.cvat_sim.cli",
            "--port",
            str(port),
            "--user",
            f"{USER}:{PASSWORD}",
            "--processing-time",
            "0.2",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        process.stdout.readline()
        with _login(f"http://127.0.0.1:{port}") as client:
            _, rq_id = _upload(client, images)
            assert client.get(f"/api/requests/{rq_id}").json()["status"] in ("queued", "started")
            assert _until_done(client, rq_id)[-1]["status"] == "finished"
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
    bad = subprocess.run(
        [sys.executable, "-m", "annoflow.adapters.cvat_sim.cli", "--user", "a:b", "--processing-time", "-1"],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "a time cannot be negative" in bad.stderr


def test_without_a_processing_time_the_request_is_finished_at_once(cvat_sim, images):
    with _login(cvat_sim.url) as client:
        _, rq_id = _upload(client, images)
        answer = client.get(f"/api/requests/{rq_id}").json()
        assert answer["status"] == "finished" and answer["started_date"] is not None

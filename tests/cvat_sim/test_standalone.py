"""The simulator runs standalone and keeps its state in a folder across restarts."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys

import httpx

from annoflow.adapters.cvat_sim.server import CvatSimulator


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_state_survives_a_restart(tmp_path, images):
    first = CvatSimulator(users={"alice": "pw"}, media_dir=tmp_path / "sim")
    with first.serve() as sim:
        client = httpx.Client(base_url=sim.url)
        client.headers["Authorization"] = (
            "Token " + client.post("/api/auth/login", json={"username": "alice", "password": "pw"}).json()["key"]
        )
        task = client.post("/api/tasks", json={"name": "kept", "labels": [{"name": "cat"}]}).json()
        with open(images[0], "rb") as handle:
            client.post(
                f"/api/tasks/{task['id']}/data/",
                data={"image_quality": "70"},
                files={"client_files[0]": ("a.jpg", handle)},
            )
        label = client.get("/api/labels", params={"task_id": task["id"]}).json()["results"][0]
        client.put(
            f"/api/tasks/{task['id']}/annotations",
            json={"tags": [{"frame": 0, "label_id": label["id"]}], "shapes": [], "tracks": []},
        )
    second = CvatSimulator(media_dir=tmp_path / "sim")
    with second.serve() as sim:
        client = httpx.Client(base_url=sim.url)
        client.headers["Authorization"] = (
            "Token " + client.post("/api/auth/login", json={"username": "alice", "password": "pw"}).json()["key"]
        )
        assert client.get(f"/api/tasks/{task['id']}").json()["size"] == 1
        assert len(client.get(f"/api/tasks/{task['id']}/annotations").json()["tags"]) == 1
        assert client.get(f"/api/tasks/{task['id']}/data", params={"type": "frame", "number": 0}).status_code == 200
        new = client.post("/api/tasks", json={"name": "next", "labels": [{"name": "dog"}]}).json()
        assert new["id"] == task["id"] + 1  # ids go on where they stopped


def test_command_line(tmp_path):
    port = _free_port()
    users = tmp_path / "users.txt"
    users.write_text("# team\nbob:secret\n")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "annoflow.adapters.cvat_sim.cli",
            "--port",
            str(port),
            "--user",
            "alice:pw",
            "--users-file",
            str(users),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        assert line.startswith(f"CVAT simulator serving http://127.0.0.1:{port}") and "bob" in line
        answer = httpx.post(f"http://127.0.0.1:{port}/api/auth/login", json={"username": "bob", "password": "secret"})
        assert answer.status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
    bad = subprocess.run(
        [sys.executable, "-m", "annoflow.adapters.cvat_sim.cli", "--user", "nopassword"], capture_output=True, text=True
    )
    assert bad.returncode != 0 and "a user is NAME:PASSWORD" in bad.stderr

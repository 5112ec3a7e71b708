"""How fast the CVAT simulator stores and serves a big task's annotations (200,000 shapes)."""

from __future__ import annotations

import resource
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

from annoflow.adapters.cvat_sim.server import CvatSimulator

FRAMES = 1_000
SHAPES_PER_FRAME = 200


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run() -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for i in range(FRAMES):
            path = Path(folder) / f"{i:05d}.png"
            Image.fromarray(np.full((16, 16, 3), i % 255, np.uint8)).save(path)
            paths.append(path)
        simulator = CvatSimulator(users={"bench": "bench"})
        with simulator.serve() as sim, httpx.Client(base_url=sim.url, timeout=300) as client:
            key = client.post("/api/auth/login", json={"username": "bench", "password": "bench"}).json()["key"]
            client.headers["Authorization"] = f"Token {key}"
            task = client.post("/api/tasks", json={"name": "bench", "labels": [{"name": "cat"}]}).json()["id"]
            files = {f"client_files[{i}]": (p.name, p.read_bytes()) for i, p in enumerate(paths)}
            client.post(f"/api/tasks/{task}/data/", data={"image_quality": "70"}, files=files)
            label = client.get("/api/labels", params={"task_id": task}).json()["results"][0]["id"]
            shapes = [
                {
                    "type": "rectangle",
                    "frame": f,
                    "label_id": label,
                    "points": [1.5, 2.5, 10.25, 12.75],
                    "attributes": [],
                }
                for f in range(FRAMES)
                for _ in range(SHAPES_PER_FRAME)
            ]
            started = time.perf_counter()
            client.put(
                f"/api/tasks/{task}/annotations", json={"shapes": shapes, "tags": [], "tracks": []}
            ).raise_for_status()
            put_seconds = time.perf_counter() - started
            started = time.perf_counter()
            body = client.get(f"/api/tasks/{task}/annotations").json()
            get_seconds = time.perf_counter() - started
            assert len(body["shapes"]) == FRAMES * SHAPES_PER_FRAME
        simulator.close()
    count = f"{FRAMES * SHAPES_PER_FRAME:,}"
    return [
        (f"simulator: PUT {count} shapes in one request (client + server)", f"{put_seconds:.2f} s"),
        (f"simulator: GET {count} shapes of one task (client + server)", f"{get_seconds:.2f} s"),
        ("simulator: peak memory of the process (client + server)", f"{_peak_mib():.0f} MiB"),
    ]


if __name__ == "__main__":
    for what, figure in run():
        print(f"| {what} | {figure} |")

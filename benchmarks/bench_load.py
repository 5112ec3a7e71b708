"""load_annotations() after 10% of the shapes were moved in CVAT (simulator in its own process).

Sizes as for annotate(): 1,000 images x 50 detections and 10,000 x 20 (``--quick``: the first).
Figures: seconds of load_annotations(), of a second load that finds nothing new, peak memory of
annoflow's process, and HTTP requests.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from pathlib import Path

import httpx

from bench_annotate import _build, _count_requests, _free_port, main

from annoflow.adapters.cvat_backend import CVATBackend
from annoflow.adapters.label_stores import SqliteLabelStore
from annoflow.application.dataset import Dataset
from annoflow.application.runs.registry import RunRegistry


def _edit_tenth(url: str, task_ids: list[int]) -> int:
    with httpx.Client(base_url=url, timeout=300) as client:
        client.headers["Authorization"] = "Token " + client.post(
            "/api/auth/login", json={"username": "bench", "password": "bench"}).json()["key"]
        moved = 0
        for task_id in task_ids:
            shapes = client.get(f"/api/tasks/{task_id}/annotations").json()["shapes"]
            edits = [{**s, "points": [p + 1.0 for p in s["points"]]} for s in shapes[::10]]
            client.patch(f"/api/tasks/{task_id}/annotations", params={"action": "update"},
                         json={"tags": [], "tracks": [], "shapes": edits}).raise_for_status()
            moved += len(edits)
        return moved


def bench(images: int, objects: int, folder: Path) -> list[tuple[str, str]]:
    store = SqliteLabelStore(_build(images, objects, folder), name=f"q{images}")
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "annoflow.adapters.cvat_sim.cli", "--port", str(port),
                               "--user", "bench:bench"], stdout=subprocess.PIPE, text=True)
    login = {"url": f"http://127.0.0.1:{port}", "username": "bench", "password": "bench"}
    try:
        server.stdout.readline()
        dataset = Dataset(store, RunRegistry(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite",
                                                  "SQLITE_DBNAME": str(folder / f"runs{images}.sqlite")}),
                          {"cvat": CVATBackend(interactive=False, client_options={"poll_interval": 0.05})})
        results = dataset.annotate("bench", label_field="ground_truth", task_size=1000, segment_size=100, **login)
        moved = _edit_tenth(login["url"], results.task_ids)
        counter = _count_requests()
        started = time.perf_counter()
        dataset.load_annotations("bench", unexpected="ignore", **login)
        seconds = time.perf_counter() - started
        edited = dataset.last_load.summary.edited
        assert edited == moved, (edited, moved)
        requests = counter[0]
        started = time.perf_counter()
        dataset.load_annotations("bench", unexpected="ignore", **login)
        again = time.perf_counter() - started
        assert dataset.last_load.summary.unchanged_tasks == len(results.task_ids)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    finally:
        server.terminate()
        server.wait(timeout=30)
    label = f"load_annotations(): {images:,} x {objects}, {moved:,} moved"
    return [
        (f"{label}: seconds", f"{seconds:.1f} s"),
        (f"{label}: a second load, nothing new", f"{again:.1f} s"),
        (f"{label}: peak memory of annoflow's process (annotate and load)", f"{peak:.0f} MiB"),
        (f"{label}: HTTP requests", f"{requests}"),
    ]


if __name__ == "__main__":
    main(bench)

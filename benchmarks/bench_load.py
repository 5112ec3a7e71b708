"""load_annotations() after 10% of the shapes were moved in CVAT (simulator in its own process).

Sizes as for annotate(): 1,000 images x 50 detections and 10,000 x 20 (``--quick``: the first).
Figures: seconds of load_annotations(), of a second load that finds nothing new, peak memory of
annoflow's process, and HTTP requests.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from harness import bench_setup, main


def _edit_tenth(login: dict[str, str], task_ids: list[int]) -> int:
    """Move every tenth shape by a pixel, through CVAT's REST API, as an annotator's tool would."""
    with httpx.Client(base_url=login["url"], timeout=300) as client:
        client.headers["Authorization"] = (
            "Token "
            + client.post(
                "/api/auth/login", json={"username": login["username"], "password": login["password"]}
            ).json()["key"]
        )
        moved = 0
        for task_id in task_ids:
            shapes = client.get(f"/api/tasks/{task_id}/annotations").json()["shapes"]
            edits = [{**s, "points": [p + 1.0 for p in s["points"]]} for s in shapes[::10]]
            client.patch(
                f"/api/tasks/{task_id}/annotations",
                params={"action": "update"},
                json={"tags": [], "tracks": [], "shapes": edits},
            ).raise_for_status()
            moved += len(edits)
        return moved


def bench(images: int, objects: int, folder: Path) -> list[tuple[str, str]]:
    with bench_setup(images, objects, folder) as b:
        results = b.dataset.annotate("bench", label_field="ground_truth", task_size=1000, segment_size=100, **b.login)
        moved = _edit_tenth(b.login, results.task_ids)
        b.requests[0] = 0
        started = time.perf_counter()
        b.dataset.load_annotations("bench", unexpected="ignore", **b.login)
        seconds = time.perf_counter() - started
        assert b.dataset.last_load.summary.edited == moved, (b.dataset.last_load.summary, moved)
        requests = b.requests[0]
        started = time.perf_counter()
        b.dataset.load_annotations("bench", unexpected="ignore", **b.login)
        again = time.perf_counter() - started
        assert b.dataset.last_load.summary.unchanged_tasks == len(results.task_ids)
        peak = b.peak_mib()
    label = f"load_annotations(): {images:,} x {objects}, {moved:,} moved"
    return [
        (f"{label}: seconds", f"{seconds:.1f} s"),
        (f"{label}: a second load, nothing new", f"{again:.1f} s"),
        (f"{label}: peak memory of annoflow's process (annotate and load)", f"{peak:.0f} MiB"),
        (f"{label}: HTTP requests", f"{requests}"),
    ]


if __name__ == "__main__":
    main(bench)

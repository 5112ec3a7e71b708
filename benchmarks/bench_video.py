"""annotate() and load_annotations() of video tracks: 20 videos x 300 frames x 10 tracks (60,000 frame
labels), with 10% of the keyframes moved in CVAT (``--quick``: 2 videos x 30 frames x 10 tracks).

Every labelled frame is a keyframe (the quickstart's labels carry no keyframe marks), so each
video is one task of 10 tracks of 300 shapes. Figures: seconds of annotate(), of load_annotations()
after the moves, of a second load that finds nothing new, peak memory of annoflow's process, and
HTTP requests of each call.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import httpx
from harness import bench_setup

SIZES = [(20, 300, 10)]
QUICK = [(2, 30, 10)]


def _move_tenth(login: dict[str, str], task_ids: list[int]) -> int:
    """Move every tenth keyframe of every track by a pixel, through CVAT's REST API, a task at a time."""
    with httpx.Client(base_url=login["url"], timeout=300) as client:
        client.headers["Authorization"] = (
            "Token "
            + client.post(
                "/api/auth/login", json={"username": login["username"], "password": login["password"]}
            ).json()["key"]
        )
        moved = 0
        for task_id in task_ids:
            tracks = client.get(f"/api/tasks/{task_id}/annotations").json()["tracks"]
            for track in tracks:
                shapes = [s for s in track["shapes"] if not s["outside"]]
                for shape in shapes[::10]:
                    shape["points"] = [p + 1.0 for p in shape["points"]]
                moved += len(shapes[::10])
            client.patch(
                f"/api/tasks/{task_id}/annotations",
                params={"action": "update"},
                json={"tags": [], "shapes": [], "tracks": tracks},
            ).raise_for_status()
        return moved


def bench(videos: int, frames: int, tracks: int, folder: Path) -> list[tuple[str, str]]:
    with bench_setup(videos, tracks, folder, video_frames=frames) as b:
        b.requests[0] = 0
        started = time.perf_counter()
        results = b.dataset.annotate("bench", label_field="frames.detections", attributes=False, **b.login)
        annotate_seconds, annotate_requests = time.perf_counter() - started, b.requests[0]
        moved = _move_tenth(b.login, results.task_ids)
        b.requests[0] = 0
        started = time.perf_counter()
        b.dataset.load_annotations("bench", **b.login)
        load_seconds, load_requests = time.perf_counter() - started, b.requests[0]
        assert b.dataset.last_load.summary.edited == moved, (b.dataset.last_load.summary, moved)
        started = time.perf_counter()
        b.dataset.load_annotations("bench", **b.login)
        again = time.perf_counter() - started
        assert b.dataset.last_load.summary.unchanged_tasks == len(results.task_ids)
        peak = b.peak_mib()
    label = f"{videos} videos x {frames} frames x {tracks} tracks ({videos * frames * tracks:,} frame labels)"
    return [
        (f"annotate(): {label}: seconds", f"{annotate_seconds:.1f} s"),
        (f"annotate(): {label}: HTTP requests", f"{annotate_requests}"),
        (f"load_annotations(): {label}, {moved:,} keyframes moved: seconds", f"{load_seconds:.1f} s"),
        ("same: a second load, nothing new", f"{again:.1f} s"),
        ("same: HTTP requests", f"{load_requests}"),
        ("same: peak memory of annoflow's process (annotate and load)", f"{peak:.0f} MiB"),
    ]


def main() -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        for videos, frames, tracks in QUICK if "--quick" in sys.argv else SIZES:
            for what, figure in bench(videos, frames, tracks, Path(folder)):
                print(f"| {what} | {figure} |")


if __name__ == "__main__":
    main()

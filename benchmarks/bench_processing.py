"""annotate() against a simulator that takes CVAT's time to process uploaded data.

CVAT processes a task's media in a worker before it makes the task's jobs (seconds for
1,000 images); the simulator does so with ``--processing-time`` per frame. annoflow starts
the next task and sends its media while the current task is filled (application/annotate.py,
``start_media``). This compares that with a run where each task's media go up only once its
fill begins (``start_media`` left out), on the same data: 1,000 images x 20 detections in
4 tasks of 250, processed at 4 ms a frame (1 s a task).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from harness import bench_setup

from annoflow.adapters.cvat_backend.backend import CVATSession

IMAGES, OBJECTS, TASK_SIZE, PER_FRAME = 1_000, 20, 250, 0.004


def _annotate(folder: Path, overlap: bool) -> float:
    original = CVATSession.start_media
    if not overlap:
        CVATSession.start_media = lambda self, request, plan, task_id: None  # fill_task sends them itself
    try:
        with bench_setup(IMAGES, OBJECTS, folder, ("--processing-time", str(PER_FRAME))) as b:
            started = time.perf_counter()
            results = b.dataset.annotate(
                "bench", label_field="ground_truth", task_size=TASK_SIZE, segment_size=100, **b.login
            )
            seconds = time.perf_counter() - started
            assert len(results.task_ids) == IMAGES // TASK_SIZE
        return seconds
    finally:
        CVATSession.start_media = original


def run() -> list[tuple[str, str]]:
    figures = {}
    for overlap in (True, False):
        with tempfile.TemporaryDirectory() as folder:
            figures[overlap] = _annotate(Path(folder), overlap)
    what = (
        f"annotate(): {IMAGES:,} images x {OBJECTS} detections, {IMAGES // TASK_SIZE} tasks, "
        f"CVAT processing {PER_FRAME * 1000:g} ms a frame ({PER_FRAME * TASK_SIZE:g} s a task): seconds"
    )
    return [
        (
            what,
            f"{figures[True]:.1f} s with the next task's media sent while a task is filled; "
            f"{figures[False]:.1f} s without",
        )
    ]


if __name__ == "__main__":
    for what, figure in run():
        print(f"| {what} | {figure} |")

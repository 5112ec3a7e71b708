"""annotate() of the quickstart ground truth to the CVAT simulator (running in its own process).

Sizes: 1,000 images x 50 detections and 10,000 images x 20 detections (``--quick`` runs
the first only). Figures: wall seconds of annotate(), peak memory of this process
(annoflow's side only), and HTTP requests sent.
"""

from __future__ import annotations

import time
from pathlib import Path

from harness import bench_setup, main


def bench(images: int, objects: int, folder: Path) -> list[tuple[str, str]]:
    with bench_setup(images, objects, folder) as b:
        before = b.peak_mib()
        started = time.perf_counter()
        results = b.dataset.annotate("bench", label_field="ground_truth", task_size=1000, segment_size=100, **b.login)
        seconds = time.perf_counter() - started
        peak = b.peak_mib()
        run = b.dataset.registry.get_run(b.dataset.name, "bench")
        uploaded = sum(t.label_count for t in run.tasks.values())
        assert uploaded == images * objects, uploaded
    label = f"annotate(): {images:,} images x {objects} detections, {len(results.task_ids)} tasks"
    return [
        (f"{label}: seconds", f"{seconds:.2f} s"),
        (f"{label}: peak memory of annoflow's process", f"{peak:.0f} MiB (before: {before:.0f} MiB)"),
        (f"{label}: HTTP requests", f"{b.requests[0]}"),
    ]


if __name__ == "__main__":
    main(bench)

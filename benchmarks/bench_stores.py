"""annotate() and load_annotations() on the PostgreSQL label store beside the SQLite store.

Sizes as for annotate(): 1,000 images x 50 detections and 10,000 x 20 (``--quick``: the first).
The same work on each store: annotate the ground truth, move every tenth shape in CVAT, load.
PostgreSQL is a throwaway server on 127.0.0.1 from the Debian package's binaries (the tests'
tests/postgres_server.py), with fsync off as in the tests: the figures are the store's own work
and the round trips to a local server, not a disk's flushes. Target (issue 18): within 2x.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from bench_load import _edit_tenth
from harness import bench_setup, main

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.postgres_server import postgres_binaries, running_postgres


def _one_store(images: int, objects: int, folder: Path, postgres: str | None) -> tuple[float, float, int]:
    """(annotate seconds, load seconds, shapes moved) on one store."""
    with bench_setup(images, objects, folder, postgres=postgres) as b:
        started = time.perf_counter()
        results = b.dataset.annotate("bench", label_field="ground_truth", task_size=1000, segment_size=100, **b.login)
        annotate = time.perf_counter() - started
        moved = _edit_tenth(b.login, results.task_ids)
        started = time.perf_counter()
        b.dataset.load_annotations("bench", unexpected="ignore", **b.login)
        load = time.perf_counter() - started
        assert b.dataset.last_load.summary.edited == moved, (b.dataset.last_load.summary, moved)
    return annotate, load, moved


def bench(images: int, objects: int, folder: Path) -> list[tuple[str, str]]:
    bindir = postgres_binaries()
    if bindir is None:
        raise SystemExit("PostgreSQL binaries not found (apt-get install postgresql)")
    places = {store: folder / f"{store}{images}" for store in ("sqlite", "postgres")}  # fresh for each size
    for place in places.values():
        place.mkdir()
    sqlite = _one_store(images, objects, places["sqlite"], None)
    with running_postgres(bindir) as server:
        server.create_database("bench")
        postgres = _one_store(images, objects, places["postgres"], server.dsn("bench"))
    label = f"{images:,} x {objects}, {sqlite[2]:,} moved"
    rows = []
    for i, what in enumerate(("annotate()", "load_annotations()")):
        rows.append(
            (
                f"{what} on the PostgreSQL label store, SQLite beside it: {label}",
                f"{postgres[i]:.1f} s vs {sqlite[i]:.1f} s ({postgres[i] / sqlite[i]:.2f}x)",
            )
        )
    return rows


if __name__ == "__main__":
    main(bench)

"""annotate() of the quickstart ground truth to the CVAT simulator (running in its own process).

Sizes: 1,000 images x 50 detections and 10,000 images x 20 detections (``--quick`` runs
the first only). Figures: wall seconds of annotate(), peak memory of this process
(annoflow's side only), and HTTP requests sent.
"""

from __future__ import annotations

import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from annoflow.adapters.cvat.client import CVATClient
from annoflow.adapters.cvat_backend import CVATBackend
from annoflow.adapters.label_stores import SqliteLabelStore
from annoflow.application.dataset import Dataset
from annoflow.application.runs.registry import RunRegistry

SIZES = [(1_000, 50), (10_000, 20)]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _count_requests() -> list[int]:
    counter = [0]
    original = CVATClient.request

    def counting(self, *args, **kwargs):
        counter[0] += 1
        return original(self, *args, **kwargs)

    CVATClient.request = counting
    return counter


def _build(images: int, objects: int, folder: Path) -> Path:
    """Generate the dataset in another process, so this one's peak memory is annotate()'s."""
    path = folder / f"labels{images}.sqlite"
    script = (
        "from annoflow.adapters.label_stores import SqliteLabelStore;"
        "from annoflow.adapters.quickstart import load_quickstart;"
        f"load_quickstart(SqliteLabelStore({str(path)!r}, name='q{images}'), {str(folder / f'media{images}')!r},"
        f" num_samples={images}, num_objects={objects}, image_size=(64, 48))"
    )
    subprocess.run([sys.executable, "-c", script], check=True)
    return path


def bench(images: int, objects: int, folder: Path) -> list[tuple[str, str]]:
    store = SqliteLabelStore(_build(images, objects, folder), name=f"q{images}")
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "annoflow.adapters.cvat_sim.cli", "--port", str(port),
                               "--user", "bench:bench"], stdout=subprocess.PIPE, text=True)
    try:
        server.stdout.readline()
        dataset = Dataset(store, RunRegistry(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite",
                                                  "SQLITE_DBNAME": str(folder / f"runs{images}.sqlite")}),
                          {"cvat": CVATBackend(interactive=False, client_options={"poll_interval": 0.05})})
        counter = _count_requests()
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        results = dataset.annotate("bench", label_field="ground_truth", task_size=1000, segment_size=100,
                                   url=f"http://127.0.0.1:{port}", username="bench", password="bench")
        seconds = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        uploaded = sum(len(t.uploaded) for t in dataset.registry.get_run(dataset.name, "bench").tasks.values())
        assert uploaded == images * objects, uploaded
    finally:
        server.terminate()
        server.wait(timeout=30)
    label = f"annotate(): {images:,} images x {objects} detections, {len(results.task_ids)} tasks"
    return [
        (f"{label}: seconds", f"{seconds:.1f} s"),
        (f"{label}: peak memory of annoflow's process", f"{peak / 1024:.0f} MiB (before: {before / 1024:.0f} MiB)"),
        (f"{label}: HTTP requests", f"{counter[0]}"),
    ]


def run_sizes(bench_one, quick: bool = False) -> list[tuple[str, str]]:
    """``bench_one(images, objects, folder)`` for each size (the first only when quick)."""
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for images, objects in SIZES[:1] if quick else SIZES:
            rows += bench_one(images, objects, Path(folder))
    return rows


def main(bench_one) -> None:
    for what, figure in run_sizes(bench_one, quick="--quick" in sys.argv):
        print(f"| {what} | {figure} |")


if __name__ == "__main__":
    main(bench)

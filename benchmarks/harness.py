"""What the annotate() and load_annotations() benchmarks share: the data, the server, the dataset.

The dataset is generated in another process (so the benchmark's peak memory is annoflow's
own), the simulator runs in its own process (so its work is not counted as annoflow's
memory, though it shares the machine's cores, as a local CVAT would), and run records go
to SQLite, the embedded default. Labels go to SQLite too, or to the PostgreSQL database
``postgres`` names (a connection string), in a schema of the benchmark's own.
"""

from __future__ import annotations

import contextlib
import resource
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import attrs
import httpx

from annoflow.adapters.cvat.client import CVATClient
from annoflow.adapters.cvat_backend import CVATBackend
from annoflow.adapters.label_stores import SqliteLabelStore
from annoflow.adapters.progress import progress_for
from annoflow.application.dataset import Dataset
from annoflow.application.ports.label_store import LabelStore
from annoflow.application.runs.registry import RunRegistry

SIZES = [(1_000, 50), (10_000, 20)]
USER = ("bench", "bench")


@attrs.define
class Bench:
    dataset: Dataset
    login: dict[str, str]
    requests: list[int] = attrs.field(factory=lambda: [0])

    @staticmethod
    def peak_mib() -> float:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def open_store(images: int, folder: Path, postgres: str | None) -> LabelStore:
    """The benchmark's label store: SQLite in ``folder``, or a schema of its own in ``postgres``."""
    if postgres is None:
        return SqliteLabelStore(folder / f"labels{images}.sqlite", name=f"q{images}")
    from annoflow.adapters.label_stores.postgres import PostgresLabelStore

    return PostgresLabelStore(postgres, name=f"q{images}", schema=f"bench{images}_{folder.name.lower()}")


def _build(
    images: int, objects: int, folder: Path, postgres: str | None, video_frames: int | None = None
) -> LabelStore:
    shape = (
        f"num_objects={objects}, image_size=(64, 48)"
        if video_frames is None
        else f"video=True, num_frames={video_frames}, tracks_per_video=({objects}, {objects}), size=(64, 48)"
    )
    script = (
        f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r});"
        "from pathlib import Path; from harness import open_store;"
        "from annoflow.adapters.quickstart import load_quickstart;"
        f"load_quickstart(open_store({images}, Path({str(folder)!r}), {postgres!r}), {str(folder / f'media{images}')!r},"
        f" num_samples={images}, {shape})"
    )
    subprocess.run([sys.executable, "-c", script], check=True)
    return open_store(images, folder, postgres)


@contextlib.contextmanager
def bench_setup(
    images: int,
    objects: int,
    folder: Path,
    sim_args: tuple[str, ...] = (),
    postgres: str | None = None,
    video_frames: int | None = None,
) -> Iterator[Bench]:
    """A fresh dataset of images x objects detections (in SQLite, or in the PostgreSQL database
    ``postgres`` names), a simulator (``sim_args`` added to its command line), and a request counter.
    With ``video_frames``: ``images`` MP4 videos of that many frames, ``objects`` tracks each."""
    store = _build(images, objects, folder, postgres, video_frames)
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "annoflow.adapters.cvat_sim.cli",
            "--port",
            str(port),
            "--user",
            ":".join(USER),
            *sim_args,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    original = CVATClient.request
    try:
        server.stdout.readline()  # the simulator prints its URL once it listens
        # One request answered before any figure, as a CVAT in service has answered many: a new
        # simulator process takes some 25 ms longer over its first answer than over the next ones.
        httpx.get(f"http://127.0.0.1:{port}/api/server/about", timeout=30).raise_for_status()
        registry = RunRegistry(
            env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(folder / f"runs{images}.sqlite")}
        )
        # Wired as open_dataset() wires a dataset: progress bars on stderr when it is a terminal.
        dataset = Dataset(
            store,
            registry,
            {"cvat": CVATBackend(interactive=False, client_options={"poll_interval": 0.05})},
            progress=progress_for,
        )
        bench = Bench(dataset, {"url": f"http://127.0.0.1:{port}", "username": USER[0], "password": USER[1]})

        def counting(self, *args, **kwargs):
            bench.requests[0] += 1
            return original(self, *args, **kwargs)

        CVATClient.request = counting
        yield bench
    finally:
        CVATClient.request = original
        server.terminate()
        server.wait(timeout=30)
        store.close()


def main(bench_one: Callable[[int, int, Path], list[tuple[str, str]]]) -> None:
    """Print the Markdown rows of ``bench_one(images, objects, folder)`` for each size (``--quick``: the first)."""
    with tempfile.TemporaryDirectory() as folder:
        for images, objects in SIZES[:1] if "--quick" in sys.argv else SIZES:
            for what, figure in bench_one(images, objects, Path(folder)):
                print(f"| {what} | {figure} |")

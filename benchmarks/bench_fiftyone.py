"""FiftyOne's own CVAT backend on the data and the simulator of bench_annotate.py and bench_load.py.

FiftyOne is not one of annoflow's dependencies: this benchmark runs under a Python that has it,

    /path/to/fiftyone-venv/bin/python benchmarks/bench_fiftyone.py [--quick]

or, from annoflow's venv (as ``run.py`` does), with ``FIFTYONE_PYTHON=/path/to/fiftyone-venv/bin/python``
set, which re-executes this file under that Python. Without either, it prints one row saying it was
skipped and exits 0. The data are generated and the simulator runs under annoflow's Python
(``ANNOFLOW_PYTHON``, default: the repository's ``.venv``), each in its own process as in harness.py:
the same quickstart images and boxes (seed 51, 64x48 JPEGs, ``iscrowd`` attribute), the same
``task_size=1000, segment_size=100``, the same edit before the load (every tenth shape moved by a pixel).

Figures: seconds of ``dataset.annotate(...)`` and of ``dataset.load_annotations(...)`` (and of a
second load), peak memory of this process (FiftyOne's samples also live in its mongod, which is
not counted), and HTTP requests (every ``requests.Session.request`` FiftyOne sends; ``--requests``
lists them on stderr with their seconds). FiftyOne's progress bars are off; its logs go to stderr.
FiftyOne runs on a mongod of the benchmark's own (FiftyOne's, started in a temporary folder and
stopped at the end), not on whichever FiftyOne database already runs on the machine;
``FIFTYONE_DATABASE_URI`` names another database to use instead.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SIZES = [(1_000, 50), (10_000, 20)]
USER = ("bench", "bench")
HOW = "FIFTYONE_PYTHON=/path/to/venv-with-fiftyone/bin/python .venv/bin/python benchmarks/bench_fiftyone.py"


def _reexec(script: str = __file__) -> None:
    """Run ``script`` under FIFTYONE_PYTHON when that is set and is not the running Python."""
    wanted = os.environ.get("FIFTYONE_PYTHON")
    # Two venvs' pythons resolve to the same interpreter: compare the paths as given, not resolved.
    if (
        wanted
        and os.path.abspath(wanted) != os.path.abspath(sys.executable)
        and not os.environ.get("_BENCH_FIFTYONE_EXEC")
    ):
        os.environ["_BENCH_FIFTYONE_EXEC"] = "1"
        os.execv(wanted, [wanted, script, *sys.argv[1:]])


def _annoflow_python() -> str:
    return os.environ.get("ANNOFLOW_PYTHON") or str(REPO / ".venv" / "bin" / "python")


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Run by annoflow's Python: the arguments harness.py gives load_quickstart, so the same images and boxes.
_GENERATE = """
import json, sys
from annoflow.adapters.quickstart import generate_quickstart
samples = generate_quickstart(sys.argv[1], num_samples=int(sys.argv[2]), num_objects=int(sys.argv[3]), image_size=(64, 48))
rows = [[s.filepath, s.metadata.width, s.metadata.height,
         [[d.label, list(d.bounding_box), d.attributes["iscrowd"]] for d in s.fields["ground_truth"].detections]]
        for s in samples]
json.dump(rows, sys.stdout)
"""

# Run by FiftyOne's Python: a persistent dataset of those rows (both sides use relative [x, y, w, h] boxes).
_IMPORT = """
import json, sys
import fiftyone as fo
dataset = fo.Dataset(sys.argv[1], persistent=True)
dataset.add_samples([
    fo.Sample(filepath=path, metadata=fo.ImageMetadata(width=width, height=height),
              ground_truth=fo.Detections(detections=[
                  fo.Detection(label=label, bounding_box=box, iscrowd=iscrowd) for label, box, iscrowd in boxes]))
    for path, width, height, boxes in json.load(sys.stdin)
], progress=False)
"""


def _dataset(images: int, objects: int, folder: Path):
    """The quickstart ground truth as a FiftyOne dataset, built in other processes as harness.py does."""
    import fiftyone as fo

    fo.list_datasets()  # connect first: FiftyOne's mongod stays up while one of its clients runs
    rows = subprocess.run(
        [_annoflow_python(), "-c", _GENERATE, str(folder / f"media{images}"), str(images), str(objects)],
        check=True,
        capture_output=True,
    ).stdout
    name = f"bench-fiftyone-{os.getpid()}-{images}"
    subprocess.run([sys.executable, "-c", _IMPORT, name], input=rows, check=True, stdout=sys.stderr)
    return fo.load_dataset(name)


def _edit_tenth(session, url: str, task_ids: list[int]) -> int:
    """Move every tenth shape by a pixel through CVAT's REST API, as bench_load.py does."""
    token = session.post(f"{url}/api/auth/login", json={"username": USER[0], "password": USER[1]}).json()["key"]
    headers = {"Authorization": "Token " + token}
    moved = 0
    for task_id in task_ids:
        shapes = session.get(f"{url}/api/tasks/{task_id}/annotations", headers=headers).json()["shapes"]
        edits = [{**s, "points": [p + 1.0 for p in s["points"]]} for s in shapes[::10]]
        session.patch(
            f"{url}/api/tasks/{task_id}/annotations",
            params={"action": "update"},
            headers=headers,
            json={"tags": [], "tracks": [], "shapes": edits},
        ).raise_for_status()
        moved += len(edits)
    return moved


def count_requests() -> tuple[list[int], Callable[[], None]]:
    """Count every ``requests.Session.request`` from now on (``--requests``: list each on stderr with
    its seconds); returns the count (a one-item list) and the function that stops counting."""
    import requests

    count = [0]
    original = requests.Session.request

    def counting(self, method, url, *args, **kwargs):
        count[0] += 1
        started = time.perf_counter()
        response = original(self, method, url, *args, **kwargs)
        if "--requests" in sys.argv:
            print(f"{time.perf_counter() - started:6.2f} s {method} {url} {response.status_code}", file=sys.stderr)
        return response

    requests.Session.request = counting
    return count, lambda: setattr(requests.Session, "request", original)


def _boxes(dataset) -> dict[str, list[float]]:
    return {d.id: list(d.bounding_box) for dets in dataset.values("ground_truth") for d in dets.detections}


def bench(images: int, objects: int, folder: Path) -> list[tuple[str, str]]:
    import fiftyone as fo
    import requests

    dataset = _dataset(images, objects, folder)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [_annoflow_python(), "-m", "annoflow.adapters.cvat_sim.cli", "--port", str(port), "--user", ":".join(USER)],
        stdout=subprocess.PIPE,
        text=True,
    )
    count, stop_counting = count_requests()
    try:
        server.stdout.readline()  # the simulator prints its URL once it listens
        login = {"url": url, "username": USER[0], "password": USER[1]}
        before = _peak_mib()
        started = time.perf_counter()
        results = dataset.annotate(
            "bench", label_field="ground_truth", backend="cvat", task_size=1000, segment_size=100, **login
        )
        seconds = time.perf_counter() - started
        peak = _peak_mib()
        annotate_requests = count[0]
        task_ids = list(results.task_ids)

        with requests.Session() as session:
            uploaded = sum(
                len(session.get(f"{url}/api/tasks/{t}/annotations", auth=USER).json()["shapes"]) for t in task_ids
            )
            assert uploaded == images * objects, uploaded
            boxes = _boxes(dataset)
            moved = _edit_tenth(session, url, task_ids)

        count[0] = 0
        started = time.perf_counter()
        dataset.load_annotations("bench", **login)
        load_seconds = time.perf_counter() - started
        load_requests = count[0]
        after = _boxes(dataset)
        changed = sum(after.get(i) != box for i, box in boxes.items())
        assert changed == moved and len(after) == len(boxes), (changed, moved, len(after), len(boxes))
        # FiftyOne deletes nothing from CVAT on load by default: the same run loads again.
        started = time.perf_counter()
        dataset.load_annotations("bench", **login)
        again = time.perf_counter() - started
        load_peak = _peak_mib()
    finally:
        stop_counting()
        server.terminate()
        server.wait(timeout=30)
        dataset.delete()
    label = f"FiftyOne {fo.__version__}'s CVAT backend, annotate(): {images:,} images x {objects} detections, {len(task_ids)} tasks"
    load = f"FiftyOne {fo.__version__}'s CVAT backend, load_annotations(): {images:,} x {objects}, {moved:,} moved"
    return [
        (f"{label}: seconds", f"{seconds:.1f} s"),
        (f"{label}: peak memory of FiftyOne's process", f"{peak:.0f} MiB (before: {before:.0f} MiB)"),
        (f"{label}: HTTP requests", f"{annotate_requests}"),
        (f"{load}: seconds", f"{load_seconds:.1f} s"),
        (f"{load}: a second load", f"{again:.1f} s"),
        (f"{load}: peak memory of FiftyOne's process (annotate and load)", f"{load_peak:.0f} MiB"),
        (f"{load}: HTTP requests", f"{load_requests}"),
    ]


def _mongod() -> Path | None:
    """The mongod FiftyOne's database package installed, found without importing FiftyOne."""
    spec = importlib.util.find_spec("fiftyone")
    mongod = Path(spec.origin).parent / "db" / "bin" / "mongod" if spec and spec.origin else None
    return mongod if mongod and mongod.is_file() else None


@contextlib.contextmanager
def _own_database() -> Iterator[None]:
    """FiftyOne on a mongod of the benchmark's own, in a temporary folder, stopped at the end.

    FiftyOne's database service attaches to any FiftyOne database service already running on the
    machine (another process's tests, say), whatever FIFTYONE_DATABASE_DIR says, so that process's
    data and work would share the figures. FIFTYONE_DATABASE_URI, when set, names the database to
    use instead; without FiftyOne's mongod, FiftyOne starts its own service as usual.
    """
    mongod = _mongod()
    if os.environ.get("FIFTYONE_DATABASE_URI") or mongod is None:
        yield
        return
    with tempfile.TemporaryDirectory() as folder:
        port = _free_port()
        server = subprocess.Popen(
            [
                str(mongod),
                "--dbpath",
                folder,
                "--logpath",
                str(Path(folder) / "mongod.log"),
                "--port",
                str(port),
                "--bind_ip",
                "127.0.0.1",
                "--nounixsocket",
            ],
            stdout=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                with socket.socket() as sock:
                    if sock.connect_ex(("127.0.0.1", port)) == 0:
                        break
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{mongod} did not start (exit {server.returncode}); see its log in {folder}")
                time.sleep(0.1)
            # Read when fiftyone is first imported, by this process and the ones it starts.
            os.environ["FIFTYONE_DATABASE_URI"] = f"mongodb://127.0.0.1:{port}"
            yield
        finally:
            server.terminate()
            server.wait(timeout=60)


def print_rows(bench_one: Callable[..., list[tuple[str, str]]], sizes: list[tuple[int, ...]], how: str) -> None:
    """Print ``bench_one(*size, folder)``'s Markdown rows for each size, under FiftyOne's Python."""
    # The Markdown rows go to stdout; FiftyOne's logs and anything else written there go to stderr.
    sys.stdout.flush()
    rows = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    os.environ.setdefault("FIFTYONE_DO_NOT_TRACK", "true")
    os.environ.setdefault("FIFTYONE_SHOW_PROGRESS_BARS", "false")
    if importlib.util.find_spec("fiftyone") is None:
        print(f"| FiftyOne's CVAT backend | skipped: no FiftyOne in this Python (run: `{how}`) |", file=rows)
        return
    with _own_database(), tempfile.TemporaryDirectory() as folder:
        for size in sizes:
            for what, figure in bench_one(*size, Path(folder)):
                print(f"| {what} | {figure} |", file=rows, flush=True)


def main() -> None:
    _reexec()
    print_rows(bench, SIZES[:1] if "--quick" in sys.argv else SIZES, HOW)


if __name__ == "__main__":
    main()

"""annoflow on a FiftyOne dataset (``annoflow.fiftyone``) beside FiftyOne's own CVAT backend on the same data.

Sizes: 1,000 images x 50 detections and 10,000 x 20 (``--quick``: the first). The data, the
simulator and the edit are bench_fiftyone.py's (the quickstart's images and boxes, seed 51,
``task_size=1000, segment_size=100``, every tenth shape moved by a pixel before the load), built
into a persistent FiftyOne dataset; annoflow's side annotates it with ``annoflow.fiftyone.annotate``
and loads with ``annoflow.fiftyone.load_annotations`` (run records in a SQLite file of the
benchmark's own). FiftyOne's side is bench_fiftyone.py's ``bench``, run in its own process so each
side's peak memory is its own (both import FiftyOne; FiftyOne's mongod is counted by neither).
Needs the ``fiftyone`` extra in this Python; without it, one row says it was skipped.

Targets (issue 18): load at least 10x faster than FiftyOne's backend, annotate at least 5x, memory
no higher than FiftyOne's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_fiftyone import SIZES, USER, _boxes, _dataset, _edit_tenth, _free_port, _peak_mib  # noqa: E402

_FIFTYONE_SIDE = """
import json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import bench_fiftyone
rows = bench_fiftyone.bench(int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4]))
print(json.dumps(rows))
"""


def _annoflow_side(images: int, objects: int, folder: Path) -> dict[str, float]:
    import requests

    import annoflow.fiftyone as aff

    os.environ["ANNOFLOW_DATA_DIR"] = str(folder / f"data{images}")
    dataset = _dataset(images, objects, folder)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "-m", "annoflow.adapters.cvat_sim.cli", "--port", str(port),
                               "--user", ":".join(USER)], stdout=subprocess.PIPE, text=True)
    try:
        server.stdout.readline()  # the simulator prints its URL once it listens
        login = {"url": url, "username": USER[0], "password": USER[1]}
        started = time.perf_counter()
        results = aff.annotate(dataset, "bench", label_field="ground_truth", task_size=1000, segment_size=100,
                               progress=False, **login)
        annotate = time.perf_counter() - started
        annotate_peak = _peak_mib()
        boxes = _boxes(dataset)
        with requests.Session() as session:
            moved = _edit_tenth(session, url, list(results.task_ids))
        started = time.perf_counter()
        report = aff.load_annotations(dataset, "bench", unexpected="ignore", progress=False, **login)
        load = time.perf_counter() - started
        after = _boxes(dataset)
        changed = sum(after.get(i) != box for i, box in boxes.items())
        assert report.edited == moved == changed and len(after) == len(boxes), (report.edited, moved, changed)
        started = time.perf_counter()
        aff.load_annotations(dataset, "bench", unexpected="ignore", progress=False, **login)
        again = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
        dataset.delete()
    return {"annotate": annotate, "load": load, "again": again, "moved": moved, "annotate_peak": annotate_peak,
            "peak": _peak_mib()}


def _fiftyone_side(images: int, objects: int, folder: Path) -> dict[str, str]:
    out = subprocess.run([sys.executable, "-c", _FIFTYONE_SIDE, str(HERE), str(images), str(objects), str(folder)],
                         check=True, stdout=subprocess.PIPE, text=True).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def _number(figure: str) -> float:
    return float(figure.split()[0])


def bench(images: int, objects: int, folder: Path) -> list[tuple[str, str]]:
    ours = _annoflow_side(images, objects, folder)
    theirs = _fiftyone_side(images, objects, folder)

    fo_annotate = _number(next(f for w, f in theirs.items() if "annotate()" in w and w.endswith(": seconds")))
    fo_load = _number(next(f for w, f in theirs.items() if "load_annotations()" in w and w.endswith(": seconds")))
    fo_peak = _number(next(f for w, f in theirs.items() if "load_annotations()" in w and "peak memory" in w))
    size = f"{images:,} x {objects}"
    return [
        (f"annoflow on a FiftyOne dataset, annotate(): {size}, FiftyOne's backend beside it",
         f"{ours['annotate']:.1f} s vs {fo_annotate:.1f} s ({fo_annotate / ours['annotate']:.1f}x faster)"),
        (f"annoflow on a FiftyOne dataset, load_annotations(): {size}, {ours['moved']:,} moved, FiftyOne's backend beside it",
         f"{ours['load']:.1f} s vs {fo_load:.1f} s ({fo_load / ours['load']:.1f}x faster)"),
        (f"annoflow on a FiftyOne dataset, a second load that finds nothing new: {size}", f"{ours['again']:.1f} s"),
        (f"annoflow on a FiftyOne dataset, peak memory of its process (annotate and load): {size}, FiftyOne's beside it",
         f"{ours['peak']:.0f} MiB vs {fo_peak:.0f} MiB"),
    ]


def main() -> None:
    # The Markdown rows go to stdout; FiftyOne's logs and anything else written there go to stderr.
    sys.stdout.flush()
    rows = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    os.environ.setdefault("FIFTYONE_DO_NOT_TRACK", "true")
    os.environ.setdefault("FIFTYONE_SHOW_PROGRESS_BARS", "false")
    try:
        import fiftyone  # noqa: F401
    except ImportError:
        print("| annoflow on a FiftyOne dataset | skipped: no FiftyOne in this Python (pip install -e '.[fiftyone]') |",
              file=rows)
        return
    with tempfile.TemporaryDirectory() as folder:
        for images, objects in SIZES[:1] if "--quick" in sys.argv else SIZES:
            for what, figure in bench(images, objects, Path(folder)):
                print(f"| {what} | {figure} |", file=rows, flush=True)


if __name__ == "__main__":
    main()

"""annoflow on a FiftyOne dataset (``annoflow.fiftyone``) beside FiftyOne's own CVAT backend on the same data.

    .venv/bin/python benchmarks/bench_fiftyone_store.py [--quick | --images N --boxes M]

Sizes: 1,000 images x 50 detections and 10,000 x 20 (``--quick``: the first; ``--images``/``--boxes``:
one size of your own). The data, the simulator and the edit are bench_fiftyone.py's (the
quickstart's images and boxes, seed 51, ``task_size=1000, segment_size=100``, every tenth shape moved
by a pixel before the load), imported into two persistent FiftyOne datasets, one a side. annoflow's
side annotates with ``annoflow.fiftyone.annotate`` and loads with ``annoflow.fiftyone.load_annotations``
(run records in a SQLite file of the benchmark's own); FiftyOne's side with ``annotate(backend="cvat")``
and ``load_annotations``. Each side has a simulator of its own.

Each side's annotate() runs in a process of its own, and its load_annotations() (then annoflow's second
load) in another, so a peak is that call's work: the process imports FiftyOne, opens the dataset,
notes its peak so far ("before"), then makes the call. Building the datasets and checking the work
(every box uploaded; after the load, exactly the moved boxes changed and none lost) happen in other
processes, before and after, and count for neither side. FiftyOne's mongod, which holds both
sides' samples, is a process of the benchmark's own (bench_fiftyone.py's) and is counted by neither.
Needs the ``fiftyone`` extra in this Python; without it, one row says it was skipped.

Targets (issue 18): load at least 10x faster than FiftyOne's backend, annotate at least 5x, memory
no higher than FiftyOne's.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_fiftyone import _GENERATE, _IMPORT, SIZES, USER, _edit_tenth, _free_port, _own_database  # noqa: E402

SIDES = ("annoflow", "fiftyone")
_TASKS = {"task_size": 1000, "segment_size": 100}


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- Run in the workers' processes (``--worker``): one call each, and nothing else that holds memory.


def _open(name: str):
    import fiftyone as fo

    return fo.load_dataset(name)


def _annotate(side: str, name: str, login: dict[str, str]) -> dict:
    dataset = _open(name)
    if side == "annoflow":
        import annoflow.fiftyone as aff
    before = _peak_mib()
    started = time.perf_counter()
    if side == "annoflow":
        results = aff.annotate(dataset, "bench", label_field="ground_truth", progress=False, **_TASKS, **login)
    else:
        results = dataset.annotate("bench", label_field="ground_truth", backend="cvat", **_TASKS, **login)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "before": before, "peak": _peak_mib(), "task_ids": list(results.task_ids)}


def _load(side: str, name: str, login: dict[str, str]) -> dict:
    dataset = _open(name)
    if side == "annoflow":
        import annoflow.fiftyone as aff
    before = _peak_mib()
    started = time.perf_counter()
    if side == "annoflow":
        report = aff.load_annotations(dataset, "bench", unexpected="ignore", progress=False, **login)
    else:
        dataset.load_annotations("bench", **login)
    seconds = time.perf_counter() - started
    figures = {"seconds": seconds, "before": before, "peak": _peak_mib()}
    if side == "annoflow":
        # A second load that finds nothing new; FiftyOne's re-reads everything (bench_fiftyone.py times it).
        started = time.perf_counter()
        aff.load_annotations(dataset, "bench", unexpected="ignore", progress=False, **login)
        figures.update(edited=report.edited, again=time.perf_counter() - started, again_peak=_peak_mib())
    return figures


def _boxes(name: str, out: str) -> dict:
    """Every box of the dataset by label id, written to ``out`` (before the load) or compared with it."""
    dataset = _open(name)
    ids, boxes = dataset.values(["ground_truth.detections.id", "ground_truth.detections.bounding_box"])
    now = {
        i: list(b)
        for sample_ids, sample_boxes in zip(ids, boxes, strict=True)
        for i, b in zip(sample_ids or [], sample_boxes or [], strict=True)
    }
    path = Path(out)
    if not path.exists():
        path.write_text(json.dumps(now))
        return {"boxes": len(now)}
    then = json.loads(path.read_text())
    dataset.delete()
    return {
        "boxes": len(now),
        "lost": len(then.keys() - now.keys()),
        "changed": sum(now.get(i) != b for i, b in then.items()),
    }


def _worker(argv: list[str]) -> None:
    what, side, name, url, out = argv
    login = {"url": url, "username": USER[0], "password": USER[1]}
    figures = {
        "annotate": lambda: _annotate(side, name, login),
        "load": lambda: _load(side, name, login),
        "boxes": lambda: _boxes(name, out + ".boxes"),
    }[what]()
    Path(out).write_text(json.dumps(figures))


# --- Run in the benchmark's own process, which never imports FiftyOne.


def _run(what: str, side: str, name: str, url: str, folder: Path) -> dict:
    out = folder / f"{name}.json"
    subprocess.run(
        [sys.executable, __file__, "--worker", what, side, name, url, str(out)], check=True, stdout=sys.stderr
    )
    return json.loads(out.read_text())


def _side(side: str, name: str, images: int, objects: int, folder: Path) -> dict:
    import requests

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "annoflow.adapters.cvat_sim.cli", "--port", str(port), "--user", ":".join(USER)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        server.stdout.readline()  # the simulator prints its URL once it listens
        annotate = _run("annotate", side, name, url, folder)
        with requests.Session() as session:
            uploaded = sum(
                len(session.get(f"{url}/api/tasks/{t}/annotations", auth=USER).json()["shapes"])
                for t in annotate["task_ids"]
            )
            assert uploaded == images * objects, (side, uploaded)
            assert _run("boxes", side, name, url, folder)["boxes"] == images * objects
            moved = _edit_tenth(session, url, annotate["task_ids"])
        load = _run("load", side, name, url, folder)
        check = _run("boxes", side, name, url, folder)
        assert check["changed"] == moved and check["lost"] == 0 and check["boxes"] == images * objects, (
            side,
            check,
            moved,
        )
        assert load.get("edited", moved) == moved, (side, load, moved)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {"annotate": annotate, "load": load, "moved": moved}


def _datasets(images: int, objects: int, folder: Path) -> dict[str, str]:
    """The quickstart ground truth imported into one FiftyOne dataset a side, in other processes."""
    rows = subprocess.run(
        [sys.executable, "-c", _GENERATE, str(folder / f"media{images}"), str(images), str(objects)],
        check=True,
        capture_output=True,
    ).stdout
    names = {side: f"bench-store-{side}-{os.getpid()}-{images}" for side in SIDES}
    for name in names.values():
        subprocess.run([sys.executable, "-c", _IMPORT, name], input=rows, check=True, stdout=sys.stderr)
    return names


def bench(images: int, objects: int, folder: Path) -> list[tuple[str, str]]:
    os.environ["ANNOFLOW_DATA_DIR"] = str(folder / f"data{images}")
    names = _datasets(images, objects, folder)
    ours, theirs = (_side(side, names[side], images, objects, folder) for side in SIDES)
    size = f"{images:,} x {objects}"

    def beside(what: str) -> str:
        a, f = ours[what]["seconds"], theirs[what]["seconds"]
        return f"{a:.1f} s vs {f:.1f} s ({f / a:.1f}x faster)"

    def memory(what: str) -> str:
        a, f = ours[what], theirs[what]
        return (
            f"{a['peak']:.0f} MiB vs {f['peak']:.0f} MiB (before the call: {a['before']:.0f} vs {f['before']:.0f} MiB)"
        )

    return [
        (f"annoflow on a FiftyOne dataset, annotate(): {size}, FiftyOne's backend beside it", beside("annotate")),
        ("same: peak memory of the annotate() process, annoflow vs FiftyOne", memory("annotate")),
        (
            f"annoflow on a FiftyOne dataset, load_annotations(): {size}, {ours['moved']:,} moved, FiftyOne's backend "
            "beside it",
            beside("load"),
        ),
        (
            "same: peak memory of the load_annotations() process, annoflow vs FiftyOne",
            memory("load") + f"; annoflow's after its second load: {ours['load']['again_peak']:.0f} MiB",
        ),
        (
            f"annoflow on a FiftyOne dataset, a second load that finds nothing new: {size}",
            f"{ours['load']['again']:.1f} s",
        ),
    ]


def main() -> None:
    if sys.argv[1:2] == ["--worker"]:
        _worker(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 x 50 only")
    parser.add_argument("--images", type=int, help="one size: this many images (with --boxes)")
    parser.add_argument("--boxes", type=int, help="one size: this many boxes an image (with --images)")
    args = parser.parse_args()
    if (args.images is None) != (args.boxes is None):
        parser.error("--images and --boxes go together")
    sizes = [(args.images, args.boxes)] if args.images else SIZES[:1] if args.quick else SIZES
    # The Markdown rows go to stdout; the workers' and FiftyOne's logs go to stderr.
    sys.stdout.flush()
    rows = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    os.environ.setdefault("FIFTYONE_DO_NOT_TRACK", "true")
    os.environ.setdefault("FIFTYONE_SHOW_PROGRESS_BARS", "false")
    if importlib.util.find_spec("fiftyone") is None:
        print(
            "| annoflow on a FiftyOne dataset | skipped: no FiftyOne in this Python (pip install -e '.[fiftyone]') |",
            file=rows,
        )
        return
    with _own_database(), tempfile.TemporaryDirectory() as folder:
        for images, objects in sizes:
            for what, figure in bench(images, objects, Path(folder)):
                print(f"| {what} | {figure} |", file=rows, flush=True)


if __name__ == "__main__":
    main()

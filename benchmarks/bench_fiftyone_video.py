"""FiftyOne's own CVAT backend on the videos, tracks, edit and simulator of bench_video.py.

Runs as bench_fiftyone.py does: under a Python that has FiftyOne, directly or through
``FIFTYONE_PYTHON`` (this file re-executes itself under it), with the data generated and the
simulator run under annoflow's Python (``ANNOFLOW_PYTHON``, default: the repository's ``.venv``),
each in its own process. Without FiftyOne it prints one row saying it was skipped and exits 0.

The data are bench_video.py's: the quickstart's MP4s (seed 51, 64x48, 10 fps) of 20 videos x 300
frames x 10 tracks (``--quick``: 2 x 30 x 10), imported into a persistent FiftyOne video dataset
with the same boxes in ``frames.detections``, each with its track's ``index`` (so FiftyOne sends
tracks) and ``keyframe=True`` on every frame (annoflow sends every labelled frame as a keyframe
when the labels carry no keyframe marks, as the quickstart's do). Then, as bench_video.py:
``annotate(label_field="frames.detections", attributes=False)`` with the server's default segment
size, every tenth keyframe of every track moved by a pixel through CVAT's API, ``load_annotations``
and a second load. Figures: seconds of each call, peak memory of this process (FiftyOne's frames
also live in its mongod, which is not counted) and HTTP requests (``--requests`` lists them).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from bench_fiftyone import USER, _annoflow_python, _free_port, _peak_mib, _reexec, count_requests, print_rows

# bench_video.py's sizes (not imported: that module needs annoflow, which FiftyOne's Python lacks).
SIZES = [(20, 300, 10)]
QUICK = [(2, 30, 10)]
HOW = "FIFTYONE_PYTHON=/path/to/venv-with-fiftyone/bin/python .venv/bin/python benchmarks/bench_fiftyone_video.py"

# Run by annoflow's Python: the arguments harness.py gives load_quickstart for video, so the same
# MP4s and boxes; one row per video, its frames' boxes as [label, [x, y, w, h], index, type].
_GENERATE = """
import json, sys
from annoflow.adapters.quickstart import generate_quickstart_video
tracks = int(sys.argv[4])
samples = generate_quickstart_video(sys.argv[1], num_samples=int(sys.argv[2]), num_frames=int(sys.argv[3]),
                                    tracks_per_video=(tracks, tracks), size=(64, 48))
rows = [[s.filepath, s.metadata.width, s.metadata.height, s.metadata.frame_count, s.metadata.frame_rate,
         {n: [[d.label, list(d.bounding_box), d.index, d.attributes["type"]] for d in f["detections"].detections]
          for n, f in s.frames.items()}]
        for s in samples]
json.dump(rows, sys.stdout)
"""

# Run by FiftyOne's Python: a persistent video dataset of those rows. The metadata are given, as
# annoflow's quickstart gives them, so FiftyOne's annotate() has no ffprobe to run.
_IMPORT = """
import json, sys
import fiftyone as fo

def video(path, width, height, frame_count, frame_rate, frames):
    sample = fo.Sample(filepath=path, metadata=fo.VideoMetadata(
        frame_width=width, frame_height=height, total_frame_count=frame_count, frame_rate=frame_rate,
        duration=frame_count / frame_rate))
    for number, boxes in frames.items():
        sample.frames[int(number)] = fo.Frame(detections=fo.Detections(detections=[
            fo.Detection(label=label, bounding_box=box, index=index, type=kind, keyframe=True)
            for label, box, index, kind in boxes]))
    return sample

dataset = fo.Dataset(sys.argv[1], persistent=True)
dataset.add_samples([video(*row) for row in json.load(sys.stdin)], progress=False)
"""


def _dataset(videos: int, frames: int, tracks: int, folder: Path):
    """The quickstart videos and tracks as a FiftyOne dataset, built in other processes."""
    import fiftyone as fo

    fo.list_datasets()  # connect first: FiftyOne's mongod stays up while one of its clients runs
    rows = subprocess.run(
        [
            _annoflow_python(),
            "-c",
            _GENERATE,
            str(folder / f"videos{videos}x{frames}"),
            str(videos),
            str(frames),
            str(tracks),
        ],
        check=True,
        capture_output=True,
    ).stdout
    name = f"bench-fiftyone-video-{os.getpid()}-{videos}x{frames}"
    subprocess.run([sys.executable, "-c", _IMPORT, name], input=rows, check=True, stdout=sys.stderr)
    return fo.load_dataset(name)


def _move_tenth(session, url: str, task_ids: list[int]) -> int:
    """Move every tenth keyframe of every track by a pixel through CVAT's REST API, as bench_video.py does."""
    token = session.post(f"{url}/api/auth/login", json={"username": USER[0], "password": USER[1]}).json()["key"]
    headers = {"Authorization": "Token " + token}
    moved = 0
    for task_id in task_ids:
        tracks = session.get(f"{url}/api/tasks/{task_id}/annotations", headers=headers).json()["tracks"]
        for track in tracks:
            shapes = [s for s in track["shapes"] if not s["outside"]]
            for shape in shapes[::10]:
                shape["points"] = [p + 1.0 for p in shape["points"]]
            moved += len(shapes[::10])
        session.patch(
            f"{url}/api/tasks/{task_id}/annotations",
            params={"action": "update"},
            headers=headers,
            json={"tags": [], "shapes": [], "tracks": tracks},
        ).raise_for_status()
    return moved


def _boxes(dataset) -> dict[str, list[float]]:
    """Every frame box by its label id."""
    return {
        d.id: list(d.bounding_box)
        for video in dataset.values("frames.detections")
        for dets in video
        if dets is not None
        for d in dets.detections
    }


def bench(videos: int, frames: int, tracks: int, folder: Path) -> list[tuple[str, str]]:
    import fiftyone as fo
    import requests

    dataset = _dataset(videos, frames, tracks, folder)
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
        results = dataset.annotate("bench", backend="cvat", label_field="frames.detections", attributes=False, **login)
        seconds = time.perf_counter() - started
        peak = _peak_mib()
        annotate_requests = count[0]
        task_ids = list(results.task_ids)

        with requests.Session() as session:
            uploaded = [
                t
                for task in task_ids
                for t in session.get(f"{url}/api/tasks/{task}/annotations", auth=USER).json()["tracks"]
            ]
            # CVAT stores a track's keyframes only (its shapes carry no keyframe flag): count those inside.
            keyframes = sum(not s["outside"] for t in uploaded for s in t["shapes"])
            assert len(uploaded) == videos * tracks and keyframes == videos * frames * tracks, (
                len(uploaded),
                keyframes,
            )
            boxes = _boxes(dataset)
            moved = _move_tenth(session, url, task_ids)

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
    what = f"{videos} videos x {frames} frames x {tracks} tracks ({videos * frames * tracks:,} frame labels)"
    label = f"FiftyOne {fo.__version__}'s CVAT backend, annotate(): {what}, {len(task_ids)} tasks"
    load = f"FiftyOne {fo.__version__}'s CVAT backend, load_annotations(): {what}, {moved:,} keyframes moved"
    return [
        (f"{label}: seconds", f"{seconds:.1f} s"),
        (f"{label}: peak memory of FiftyOne's process", f"{peak:.0f} MiB (before: {before:.0f} MiB)"),
        (f"{label}: HTTP requests", f"{annotate_requests}"),
        (f"{load}: seconds", f"{load_seconds:.1f} s"),
        (f"{load}: a second load", f"{again:.1f} s"),
        (f"{load}: peak memory of FiftyOne's process (annotate and load)", f"{load_peak:.0f} MiB"),
        (f"{load}: HTTP requests", f"{load_requests}"),
    ]


def main() -> None:
    _reexec(__file__)
    print_rows(bench, QUICK if "--quick" in sys.argv else SIZES, HOW)


if __name__ == "__main__":
    main()

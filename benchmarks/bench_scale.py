"""A run of a million labels: what reading, loading and auditing it costs, phase by phase.

50,000 quickstart images x 20 boxes (``--size 10000`` for a smaller one), tasks of 1,000
images, jobs of 100, every tenth box moved in CVAT before the load. Each phase runs in a
process of its own on the same data dir (as a user's separate commands would), so its peak
memory is its own; the simulator runs in another process. Figures: seconds and peak memory of
annotate(), the load, a second load that finds nothing new, a fresh process reading the run
(get_annotation_info, load_annotation_results and its ids), ``annoflow runs info``,
``annoflow audit`` (time to its first line and in all), and runs.sqlite's bytes per label.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_load import _edit_tenth
from harness import USER, _free_port

OBJECTS = 20
KEY = "scale"


def peak_mib() -> float:
    """This process's peak resident memory. VmHWM, not ru_maxrss: a process started from a large
    one inherits that one's ru_maxrss across exec, while VmHWM starts again with the new program."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _phase(folder: Path, url: str, images: int, phase: str) -> dict:
    """Run one phase in a new process; it prints a JSON line of its figures."""
    out = subprocess.run(
        [sys.executable, __file__, "--phase", phase, str(folder), url, str(images)],
        capture_output=True,
        text=True,
        env={**os.environ, "ANNOFLOW_DATA_DIR": str(folder)},
    )
    if out.returncode:  # what the phase said, not only that it failed: a long run is costly to repeat
        sys.exit(f"phase {phase!r} failed (exit {out.returncode}):\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _cli(folder: Path, *args: str) -> dict:
    """Seconds to the first line of output and in all, and the peak memory of ``annoflow ARGS``."""
    script = (
        "import sys, time; from bench_scale import peak_mib; from annoflow.adapters.cli import main;"
        "started = time.perf_counter(); first = []; write = sys.stdout.write;"
        "sys.stdout.write = lambda s: (first or first.append(time.perf_counter() - started), write(s))[1];"
        f"main({list(args)!r}); sys.stdout.write = write;"
        "print('\\nFIGURES', first[0] if first else 0, time.perf_counter() - started, peak_mib())"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).parent,
        env={**os.environ, "ANNOFLOW_DATA_DIR": str(folder)},
    )
    first, total, peak = map(float, out.stdout.strip().splitlines()[-1].split()[1:])
    return {"first": first, "seconds": total, "peak": peak}


def run_phase(phase: str, folder: Path, url: str, images: int) -> dict:
    from annoflow.adapters.cvat_backend import CVATBackend
    from annoflow.adapters.label_stores import SqliteLabelStore
    from annoflow.adapters.quickstart import load_quickstart
    from annoflow.application.dataset import Dataset
    from annoflow.application.runs.registry import RunRegistry

    store = SqliteLabelStore(folder / "datasets.sqlite", name="scale")
    if phase == "build":
        load_quickstart(store, folder / "media", num_samples=images, num_objects=OBJECTS, image_size=(64, 48))
        return {}
    registry = RunRegistry(
        env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(folder / "runs.sqlite")}
    )
    dataset = Dataset(store, registry, {"cvat": CVATBackend(interactive=False, client_options={"poll_interval": 0.05})})
    login = {"url": url, "username": USER[0], "password": USER[1]}
    started = time.perf_counter()
    figures: dict = {}
    if phase == "annotate":
        results = dataset.annotate(KEY, label_field="ground_truth", task_size=1000, segment_size=100, **login)
        figures["task_ids"] = results.task_ids
    elif phase == "load":
        dataset.load_annotations(KEY, unexpected="ignore", **login)
        summary = dataset.last_load.summary
        figures.update(edited=summary.edited, unchanged=summary.unchanged_tasks)
    elif phase == "read":
        info = dataset.get_annotation_info(KEY)
        results = dataset.load_annotation_results(KEY)
        figures.update(
            tasks=len(results.task_ids),
            jobs=sum(map(len, results.job_ids.values())),
            frames=sum(map(len, results.frame_id_map.values())),
            info=len(str(info)),
        )
    figures.update(seconds=time.perf_counter() - started, peak=peak_mib())
    return figures


def bench(images: int) -> list[tuple[str, str]]:
    labels = images * OBJECTS
    size = f"{images:,} x {OBJECTS} ({labels:,} labels)"
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "annoflow.adapters.cvat_sim.cli", "--port", str(port), "--user", ":".join(USER)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        server.stdout.readline()
        url = f"http://127.0.0.1:{port}"
        with tempfile.TemporaryDirectory() as name:
            folder = Path(name)
            _phase(folder, url, images, "build")
            annotated = _phase(folder, url, images, "annotate")
            provenance = (folder / "runs.sqlite").stat().st_size / labels
            moved = _edit_tenth({"url": url, "username": USER[0], "password": USER[1]}, annotated["task_ids"])
            loaded = _phase(folder, url, images, "load")
            assert loaded["edited"] == moved, (loaded, moved)
            again = _phase(folder, url, images, "load")
            assert again["unchanged"] == len(annotated["task_ids"]), again
            read = _phase(folder, url, images, "read")
            info = _cli(folder, "runs", "--dataset", "scale", "info", KEY)
            audit = _cli(folder, "audit", KEY, "--dataset", "scale")
            per_label = (folder / "runs.sqlite").stat().st_size / labels
    finally:
        server.terminate()
        server.wait(timeout=60)
    return [
        (f"annotate(): {size}", f"{annotated['seconds']:.1f} s, {annotated['peak']:.0f} MiB"),
        (f"load_annotations(): {size}, {moved:,} moved", f"{loaded['seconds']:.1f} s, {loaded['peak']:.0f} MiB"),
        (f"a second load, nothing new: {size}", f"{again['seconds']:.1f} s, {again['peak']:.0f} MiB"),
        (
            f"a fresh process reading the run (info, results, ids, frame map): {size}",
            f"{read['seconds']:.2f} s, {read['peak']:.0f} MiB",
        ),
        (f"`annoflow runs info`: {size}", f"{info['seconds']:.2f} s, {info['peak']:.0f} MiB"),
        (
            f"`annoflow audit` of the run: {size}",
            f"first line {audit['first']:.2f} s, all {audit['seconds']:.2f} s, {audit['peak']:.0f} MiB",
        ),
        (
            f"runs.sqlite: {size}",
            f"{provenance:.0f} bytes a label after annotate(), "
            f"{per_label:.0f} after the loads (their changes' audit trail included)",
        ),
    ]


if __name__ == "__main__":
    if "--phase" in sys.argv:
        _, _, phase, folder, url, images = sys.argv
        print(json.dumps(run_phase(phase, Path(folder), url, int(images))))
    else:
        images = int(sys.argv[sys.argv.index("--size") + 1]) if "--size" in sys.argv else 50_000
        for what, figure in bench(images):
            print(f"| {what} | {figure} |")

"""import_annotations() of a project made elsewhere, with its media downloaded, and import_cvat_xml()
of a CVAT XML file of the same size (FiftyOne's CVAT guide, "Importing existing tasks"; issue #14).

Size: 1,000 images x 50 detections (``--quick``: 40 x 5, a smoke test only). The project is made by
annotate() in 1 task and again in 10 tasks, so the import's memory can be read against the number
of tasks (it should not grow with it: tasks are read one at a time). Each import runs in a fresh
process of its own, into a fresh SQLite dataset, so its peak memory is its own. Figures: seconds,
peak memory, HTTP requests (one per frame downloaded, plus a few per task); for the XML: the file's
size, seconds of export_cvat_xml() and of import_cvat_xml(), the import's peak memory.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SIZES = [(1_000, 50)]
QUICK = [(40, 5)]


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _fresh_dataset(folder: Path, name: str):
    from annoflow.adapters.cvat_backend import CVATBackend
    from annoflow.adapters.label_stores import SqliteLabelStore
    from annoflow.application.dataset import Dataset
    from annoflow.application.runs.registry import RunRegistry

    folder.mkdir(parents=True, exist_ok=True)
    registry = RunRegistry(
        env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(folder / "runs.sqlite")}
    )
    return Dataset(
        SqliteLabelStore(folder / "labels.sqlite", name=name),
        registry,
        {"cvat": CVATBackend(interactive=False, client_options={"poll_interval": 0.05})},
    )


def _import_api(url: str, user: str, password: str, project: str, folder: str) -> dict:
    """One import_annotations() in this process: seconds, peak memory, requests, labels."""
    from annoflow.adapters.cvat.client import CVATClient

    dataset = _fresh_dataset(Path(folder), "imported")
    count = [0]
    original = CVATClient.request

    def counting(self, *args, **kwargs):
        count[0] += 1
        return original(self, *args, **kwargs)

    CVATClient.request = counting
    before = _peak_mib()
    started = time.perf_counter()
    dataset.import_annotations(
        project_name=project,
        data_path=str(Path(folder) / "media"),
        download_media=True,
        url=url,
        username=user,
        password=password,
    )
    seconds = time.perf_counter() - started
    labels = dataset.last_load.summary.added
    dataset.store.close()
    return {"seconds": seconds, "peak": _peak_mib(), "before": before, "requests": count[0], "labels": labels}


def _import_xml(xml: str, media: str, folder: str) -> dict:
    """One import_cvat_xml() in this process."""
    from annoflow.adapters.cvat_xml.importing import import_cvat_xml

    dataset = _fresh_dataset(Path(folder), "from_xml")
    before = _peak_mib()
    started = time.perf_counter()
    summary = import_cvat_xml(dataset, xml, media)
    seconds = time.perf_counter() - started
    dataset.store.close()
    return {"seconds": seconds, "peak": _peak_mib(), "before": before, "labels": summary.labels}


def _in_process(*args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def bench(images: int, objects: int, folder: Path) -> list[tuple[str, str]]:
    sys.path.insert(0, str(Path(__file__).parent))
    from harness import bench_setup

    from annoflow.adapters.cvat_xml.exporting import export_cvat_xml

    rows = []
    label = f"{images:,} images x {objects} detections"
    with bench_setup(images, objects, folder) as b:
        for tasks in (1, 10):
            project = f"bench_import_{tasks}"
            b.dataset.annotate(
                project,
                label_field="ground_truth",
                project_name=project,
                task_size=max(images // tasks, 1),
                segment_size=100,
                **b.login,
            )
            got = _in_process(
                "--api", b.login["url"], b.login["username"], b.login["password"], project, str(folder / f"api{tasks}")
            )
            assert got["labels"] == images * objects, got
            what = f"import_annotations(): {label}, {tasks} task{'s' if tasks > 1 else ''}, media downloaded"
            rows += [
                (f"{what}: seconds", f"{got['seconds']:.1f} s"),
                (
                    f"{what}: peak memory of the importing process",
                    f"{got['peak']:.0f} MiB (before: {got['before']:.0f} MiB)",
                ),
                (f"{what}: HTTP requests", f"{got['requests']:,}"),
            ]
        xml = folder / "export.xml"
        started = time.perf_counter()
        export_cvat_xml(b.dataset, xml, label_fields=["ground_truth"])
        exported = time.perf_counter() - started
        media = str(folder / f"media{images}")
    got = _in_process("--xml", str(xml), media, str(folder / "xml"))
    assert got["labels"] == images * objects, got
    what = f"CVAT for images 1.1 XML, {label} ({xml.stat().st_size / 2**20:.1f} MiB)"
    return [
        *rows,
        (f"{what}: export_cvat_xml() seconds", f"{exported:.1f} s"),
        (f"{what}: import_cvat_xml() seconds", f"{got['seconds']:.1f} s"),
        (f"{what}: peak memory of the importing process", f"{got['peak']:.0f} MiB (before: {got['before']:.0f} MiB)"),
    ]


if __name__ == "__main__":
    if sys.argv[1:2] == ["--api"]:
        print(json.dumps(_import_api(*sys.argv[2:7])))
    elif sys.argv[1:2] == ["--xml"]:
        print(json.dumps(_import_xml(*sys.argv[2:5])))
    else:
        with tempfile.TemporaryDirectory() as scratch:
            for images, objects in QUICK if "--quick" in sys.argv else SIZES:
                for what, figure in bench(images, objects, Path(scratch)):
                    print(f"| {what} | {figure} |")

"""The guide's "Basic recipe" steps and a COCO import, beside FiftyOne on the same data.

Data: the quickstart images (seed 51, 64x48 JPEGs) with 20 ground-truth boxes each and their
predictions (about 17 a sample: most objects found with jittered boxes, a few false positives),
10,000 samples (``--quick``: 500). Each figure is measured in a process of its own (peak memory
is that process's), on a dataset built beforehand in SQLite, the embedded default:

- ``evaluate_detections("predictions", gt_field="ground_truth", eval_key="eval")``;
- ``filter_labels("predictions", (F("confidence") > 0.8) & (F("eval") == "fp"))`` then
  ``sort_by(F("predictions.detections").length(), reverse=True)``, read to its ``first()``;
- a COCO import (``Dataset.from_dir(..., "coco")``) of the ground truth, written once by annoflow's
  COCO export: every image's header read, every box checked, one transaction.

FiftyOne's side runs under ``FIFTYONE_PYTHON`` (a Python with FiftyOne, as bench_fiftyone.py
takes it) on the same images and labels: ``fo.Dataset.from_dir(dataset_type=COCODetectionDataset)``
for the import, a dataset added from the same rows for the recipe. Without it, its rows say skipped.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SIZES = [(10_000, 20)]
QUICK = [(500, 20)]
HOW = "FIFTYONE_PYTHON=/path/to/venv-with-fiftyone/bin/python .venv/bin/python benchmarks/bench_recipes.py"


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- annoflow's side, each step in a process of its own -----------------------------------------


def _open(folder: Path, name: str):
    from annoflow.adapters.label_stores import SqliteLabelStore
    from annoflow.adapters.wiring import open_dataset
    from annoflow.application.runs.registry import RunRegistry

    registry = RunRegistry(
        env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(folder / "runs.sqlite")}
    )
    return open_dataset(name, store=SqliteLabelStore(folder / "labels.sqlite", name=name), registry=registry)


def _setup(folder: Path, images: int, objects: int) -> dict:
    """The dataset in SQLite, its ground truth as a COCO file, and the rows FiftyOne's side adds."""
    from annoflow.adapters.formats.coco import write_coco
    from annoflow.adapters.quickstart import load_quickstart

    dataset = _open(folder, "recipe")
    load_quickstart(dataset.store, folder / "media", num_samples=images, num_objects=objects, image_size=(64, 48))
    samples = list(dataset.iter_samples())
    write_coco(samples, folder / "coco.json", "ground_truth", folder / "media")
    rows = [
        [
            s.filepath,
            s.metadata.width,
            s.metadata.height,
            [[d.label, list(d.bounding_box), d.attributes["iscrowd"]] for d in s.fields["ground_truth"].detections],
            [[d.label, list(d.bounding_box), d.confidence] for d in s.fields["predictions"].detections],
        ]
        for s in samples
    ]
    (folder / "rows.json").write_text(json.dumps(rows))
    predictions = sum(len(r[4]) for r in rows)
    return {"predictions": predictions}


def _evaluate(folder: Path) -> dict:
    dataset = _open(folder, "recipe")
    started = time.perf_counter()
    results = dataset.evaluate_detections("predictions", gt_field="ground_truth", eval_key="eval")
    seconds = time.perf_counter() - started
    results.report()
    return {"seconds": seconds, "peak": _peak_mib()}


def _filter_sort(folder: Path) -> dict:
    from annoflow import F

    dataset = _open(folder, "recipe")
    started = time.perf_counter()
    view = dataset.filter_labels("predictions", (F("confidence") > 0.8) & (F("eval") == "fp")).sort_by(
        F("predictions.detections").length(), reverse=True
    )
    first = view.first()
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "peak": _peak_mib(),
        "samples": len(view.sample_ids),
        "first": len(first.fields["predictions"]),
    }


def _coco_import(folder: Path) -> dict:
    from annoflow.adapters.datasets import Dataset

    env = {
        "ANNOFLOW_DATA_DIR": str(folder / "import-data"),
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(folder / "import-runs.sqlite"),
    }
    started = time.perf_counter()
    dataset = Dataset.from_dir("coco", "coco", labels_path=folder / "coco.json", data_path=folder / "media", env=env)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "peak": _peak_mib(), "samples": len(dataset.store)}


# --- FiftyOne's side, under FIFTYONE_PYTHON ------------------------------------------------------


def _fiftyone(folder: Path) -> dict:
    import fiftyone as fo
    from fiftyone import ViewField as F

    out = {"version": fo.__version__}
    name = f"bench-recipes-{os.getpid()}"
    rows = json.loads((folder / "rows.json").read_text())
    dataset = fo.Dataset(name)
    dataset.add_samples(
        [
            fo.Sample(
                filepath=path,
                metadata=fo.ImageMetadata(width=width, height=height),
                ground_truth=fo.Detections(
                    detections=[
                        fo.Detection(label=label, bounding_box=box, iscrowd=crowd) for label, box, crowd in truth
                    ]
                ),
                predictions=fo.Detections(
                    detections=[
                        fo.Detection(label=label, bounding_box=box, confidence=conf) for label, box, conf in preds
                    ]
                ),
            )
            for path, width, height, truth, preds in rows
        ],
        progress=False,
    )
    try:
        started = time.perf_counter()
        dataset.evaluate_detections("predictions", gt_field="ground_truth", eval_key="eval", progress=False)
        out["evaluate"] = time.perf_counter() - started
        started = time.perf_counter()
        view = dataset.filter_labels("predictions", (F("confidence") > 0.8) & (F("eval") == "fp")).sort_by(
            F("predictions.detections").length(), reverse=True
        )
        view.first()
        out["filter_sort"] = time.perf_counter() - started
        out["filter_samples"] = len(view)
    finally:
        dataset.delete()
    started = time.perf_counter()
    imported = fo.Dataset.from_dir(
        dataset_type=fo.types.COCODetectionDataset,
        data_path=str(folder / "media"),
        labels_path=str(folder / "coco.json"),
        label_types="detections",
        label_field="ground_truth",
        name=name + "-coco",
        progress=False,
    )
    out["coco"] = time.perf_counter() - started
    imported.delete()
    out["peak"] = _peak_mib()  # the whole process: FiftyOne's samples also live in its mongod, not counted
    return out


# --- orchestration -----------------------------------------------------------------------------

STEPS = {
    "setup": None,
    "evaluate": _evaluate,
    "filter_sort": _filter_sort,
    "coco_import": _coco_import,
    "fiftyone": _fiftyone,
}


def _step(python: str, step: str, folder: Path, *args: str) -> dict:
    # The data dir too is the benchmark's own: nothing lands in the user's.
    env = {**os.environ, "ANNOFLOW_DATA_DIR": str(folder / "data")}
    out = subprocess.run(
        [python, __file__, "--step", step, str(folder), *args], check=True, capture_output=True, text=True, env=env
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench(images: int, objects: int, folder: Path) -> list[tuple[str, str]]:
    python = sys.executable
    made = _step(python, "setup", folder, str(images), str(objects))
    size = f"{images:,} samples x {objects} boxes, {made['predictions'] / images:.1f} predictions a sample"
    evaluated = _step(python, "evaluate", folder)
    filtered = _step(python, "filter_sort", folder)
    imported = _step(python, "coco_import", folder)
    rows = [
        (f"annoflow evaluate_detections(): {size}", f"{evaluated['seconds']:.2f} s, peak {evaluated['peak']:.0f} MiB"),
        (
            f"annoflow filter_labels + sort_by + first(): {size}",
            f"{filtered['seconds']:.2f} s, peak {filtered['peak']:.0f} MiB ({filtered['samples']:,} samples shown)",
        ),
        (
            f"annoflow COCO import (from_dir): {images:,} images x {objects} boxes",
            f"{imported['seconds']:.2f} s, peak {imported['peak']:.0f} MiB",
        ),
    ]
    fiftyone = os.environ.get("FIFTYONE_PYTHON")
    if not fiftyone:
        rows.append(("FiftyOne: the same steps", f"skipped: FIFTYONE_PYTHON not set (run: `{HOW}`)"))
        return rows
    theirs = _step(fiftyone, "fiftyone", folder)
    label = f"FiftyOne {theirs['version']}"
    rows += [
        (f"{label} evaluate_detections(): {size}", f"{theirs['evaluate']:.2f} s"),
        (
            f"{label} filter_labels + sort_by + first(): {size}",
            f"{theirs['filter_sort']:.2f} s ({theirs['filter_samples']:,} samples shown)",
        ),
        (f"{label} COCO import (from_dir): {images:,} images x {objects} boxes", f"{theirs['coco']:.2f} s"),
        (f"{label}: peak memory of its process over the three", f"{theirs['peak']:.0f} MiB (its mongod not counted)"),
    ]
    return rows


def main() -> None:
    if "--step" in sys.argv:
        at = sys.argv.index("--step")
        step, folder, *args = sys.argv[at + 1 :]
        if step == "setup":
            result = _setup(Path(folder), int(args[0]), int(args[1]))
        elif step == "fiftyone":
            os.environ.setdefault("FIFTYONE_DO_NOT_TRACK", "true")
            from bench_fiftyone import _own_database  # FiftyOne on a mongod of its own, not another process's

            with _own_database():
                result = STEPS[step](Path(folder))
        else:
            result = STEPS[step](Path(folder))
        print(json.dumps(result))
        return
    with tempfile.TemporaryDirectory() as folder:
        for images, objects in QUICK if "--quick" in sys.argv else SIZES:
            for what, figure in bench(images, objects, Path(folder)):
                print(f"| {what} | {figure} |", flush=True)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    main()

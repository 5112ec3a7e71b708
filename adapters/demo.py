"""``annoflow demo``: the workflow so far, end to end, on the embedded defaults.

It builds the synthetic quickstart dataset into the SQLite label store, starts
the CVAT simulator in-process on a free loopback port, sends the samples with
the most high-confidence false positives to CVAT (the "Basic recipe" of FiftyOne's CVAT guide),
plays an annotator who fixes labels through CVAT's REST API (moves one box,
deletes one, draws a new one, and adds a polyline of the wrong type), loads
the annotations back (exactly once: a second load changes nothing), prints
what changed and the run's audit trail from its events, and cleans up.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from annoflow.adapters import wiring
from annoflow.adapters.cvat_sim.annotator import ScriptedAnnotator
from annoflow.adapters.cvat_sim.server import CvatSimulator
from annoflow.adapters.quickstart import load_quickstart
from annoflow.application.audit import run_history
from annoflow.domain.labels import Detection, Detections, labels_in
from annoflow.domain.samples import Sample


def _detections(sample: Sample, field: str) -> tuple[Detection, ...]:
    value = sample.fields.get(field)
    return value.detections if isinstance(value, Detections) else ()


def _false_positives(sample: Sample) -> int:
    truth = {d.label for d in _detections(sample, "ground_truth")}
    return sum(1 for d in _detections(sample, "predictions") if (d.confidence or 0) > 0.8 and d.label not in truth)


_touched: set[str] = set()


def _annotate_in_cvat(url: str, password: str, task_id: int, print_fn: Callable[[str], object]) -> None:
    """What an annotator does in CVAT's UI, through the same REST API."""
    with ScriptedAnnotator(url, "demo", password) as annotator:
        labels = annotator.labels(task_id)
        spec = {a["id"] for label in labels.values() for a in label["attributes"] if a["name"] == "label_id"}
        shapes = annotator.annotations(task_id)["shapes"]
        by_label_id = {next(a["value"] for a in s["attributes"] if a["spec_id"] in spec): s for s in shapes}
        (moved, moved_shape), (deleted, deleted_shape) = list(by_label_id.items())[:2]
        x1, y1, x2, y2 = moved_shape["points"]
        annotator.move_shape(task_id, moved_shape["id"], [x1 + 5, y1 + 5, x2 + 5, y2 + 5])
        annotator.delete(task_id, deleted_shape["id"])
        some_class = next(iter(labels))
        annotator.add_shape(task_id, some_class, 0, "rectangle", [10.0, 10.0, 60.0, 60.0])
        annotator.add_shape(task_id, some_class, 0, "polyline", [5.0, 5.0, 50.0, 20.0])
        _touched.update({moved, deleted})
    print_fn("annotator: moved a box, deleted a box, drew a new box and a polyline of the wrong type")


def run_demo(print_fn: Callable[[str], object] = print, *, samples: int = 200, key: str | None = None) -> int:
    dataset = wiring.open_dataset("quickstart")
    if not len(dataset.store):
        media = wiring.data_dir() / "media" / "quickstart"
        load_quickstart(dataset.store, media, num_samples=samples)
        print_fn(f"built the quickstart dataset: {len(dataset.store)} images in {media}")
    else:
        print_fn(f"using the quickstart dataset: {len(dataset.store)} images")
    most_fp = dataset.match(lambda s: _false_positives(s) > 0, fields=["ground_truth", "predictions"]).sort_by(
        _false_positives, reverse=True, fields=["ground_truth", "predictions"]
    )
    view = most_fp.limit(3)
    print_fn(f"{len(most_fp)} samples have high-confidence false positives; sending the top {len(view)} to CVAT")
    password = secrets.token_urlsafe(12)
    simulator = CvatSimulator(users={"demo": password})
    with simulator.serve() as sim:
        print_fn(f"CVAT simulator serving {sim.url}")
        key = key or f"demo_{secrets.token_hex(3)}"
        results = view.annotate(
            key,
            label_field="ground_truth",
            attributes=["iscrowd"],
            segment_size=2,
            job_assignees=["demo"],
            url=sim.url,
            username="demo",
            password=password,
        )
        print_fn(f"annotation run {key!r}: tasks {results.task_ids}, jobs {results.job_ids}")
        results.print_status(print_fn)
        _annotate_in_cvat(sim.url, password, results.task_ids[0], print_fn)
        before = {label.id: label for s in view.iter_samples() for label in labels_in(s.fields.get("ground_truth"))}
        strays = dataset.load_annotations(key, unexpected="return", url=sim.url, username="demo", password=password)
        after = {label.id: label for s in view.iter_samples() for label in labels_in(s.fields.get("ground_truth"))}
        summary = dataset.last_load.summary
        print_fn(
            f"loaded: {summary.added} added, {summary.edited} edited, {summary.deleted} deleted, "
            f"{summary.rejected} rejected; unexpected: {', '.join(f'{len(v)} {k}' for k, v in strays.items()) or 'none'}"
        )
        print_fn(
            f"  labels before {len(before)}, after {len(after)}; unchanged labels identical: "
            f"{all(after[i] == before[i] for i in before if i in after and i not in _touched)}"
        )
        dataset.load_annotations(
            key, unexpected="ignore", cleanup=True, url=sim.url, username="demo", password=password
        )
        print_fn(
            f"loaded again: {dataset.last_load.summary.unchanged_tasks} task(s) unchanged, nothing merged twice; "
            "CVAT tasks cleaned up"
        )
    simulator.close()
    run = dataset.registry.get_run(dataset.name, key)
    print_fn(
        f"audit trail of {key!r} (from its events in {wiring.registry_env().get('SQLITE_DBNAME', 'the configured store')}):"
    )
    for entry in run_history(dataset.registry, run.id):
        print_fn(f"  {entry}")
    print_fn("runs of the dataset: " + ", ".join(dataset.list_annotation_runs()))
    return 0

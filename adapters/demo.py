"""``annoflow demo``: the workflow so far, end to end, on the embedded defaults.

It builds the synthetic quickstart dataset into the SQLite label store, starts
the CVAT simulator in-process on a free loopback port, sends the samples with
the most high-confidence false positives to CVAT (the seed's basic recipe),
prints the tasks' status and the run's audit trail from its events, then
cleans the CVAT side up. Loading annotations back comes with issue 7.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from annoflow.adapters import wiring
from annoflow.adapters.cvat_sim.server import CvatSimulator
from annoflow.adapters.quickstart import load_quickstart
from annoflow.application.audit import run_history
from annoflow.domain.labels import labels_in
from annoflow.domain.samples import Sample


def _false_positives(sample: Sample) -> int:
    truth = {d.label for d in labels_in(sample.fields.get("ground_truth"))}
    return sum(1 for d in labels_in(sample.fields.get("predictions")) if (d.confidence or 0) > 0.8 and d.label not in truth)


def run_demo(print_fn: Callable[[str], object] = print, *, samples: int = 200, key: str | None = None) -> int:
    dataset = wiring.open_dataset("quickstart")
    if not len(dataset.store):
        media = wiring.data_dir() / "media" / "quickstart"
        load_quickstart(dataset.store, media, num_samples=samples)
        print_fn(f"built the quickstart dataset: {len(dataset.store)} images in {media}")
    else:
        print_fn(f"using the quickstart dataset: {len(dataset.store)} images")
    most_fp = dataset.match(lambda s: _false_positives(s) > 0, fields=["ground_truth", "predictions"]).sort_by(
        _false_positives, reverse=True, fields=["ground_truth", "predictions"])
    view = most_fp.limit(3)
    print_fn(f"{len(most_fp)} samples have high-confidence false positives; sending the top {len(view)} to CVAT")
    password = secrets.token_urlsafe(12)
    simulator = CvatSimulator(users={"demo": password})
    with simulator.serve() as sim:
        print_fn(f"CVAT simulator serving {sim.url}")
        key = key or f"demo_{secrets.token_hex(3)}"
        results = view.annotate(key, label_field="ground_truth", attributes=["iscrowd"], segment_size=2,
                                job_assignees=["demo"], url=sim.url, username="demo", password=password)
        print_fn(f"annotation run {key!r}: tasks {results.task_ids}, jobs {results.job_ids}")
        results.print_status(print_fn)
        results.cleanup()
        print_fn("cleaned up the run's CVAT tasks")
    simulator.close()
    run = dataset.registry.get_run(dataset.name, key)
    print_fn(f"audit trail of {key!r} (from its events in {wiring.registry_env().get('SQLITE_DBNAME', 'the configured store')}):")
    for entry in run_history(dataset.registry, run.id):
        print_fn(f"  {entry}")
    print_fn("runs of the dataset: " + ", ".join(dataset.list_annotation_runs()))
    return 0

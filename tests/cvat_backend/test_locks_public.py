"""A load that meets a file another writer holds stops with a typed error naming it; the next load,
once the file is free, finishes exactly once.

Through the public API: `open_dataset` with a short ``busy_timeout`` (runs.sqlite waits whole
seconds: 1), the simulator, the scripted annotator's edits (a box moved, one deleted, one added).
"""

from __future__ import annotations

import sqlite3
from collections import Counter

import pytest

from annoflow.adapters.cvat_sim.annotator import ScriptedAnnotator
from annoflow.adapters.label_stores.sqlite import LabelStoreLockedError
from annoflow.adapters.quickstart import load_quickstart
from annoflow.adapters.wiring import open_dataset
from annoflow.application.runs.registry import RunRegistryLockedError
from annoflow.domain.labels import labels_in
from annoflow.domain.task_ledger import merged_in
from tests.cvat_backend.conftest import PASSWORD, USER

LOGIN = {"username": USER, "password": PASSWORD}


@pytest.fixture
def edited(tmp_path, cvat_sim):
    """A dataset whose run's task an annotator edited: (dataset, data dir, the labels expected after a load)."""
    data = tmp_path / "data"
    dataset = open_dataset("locks", env={"ANNOFLOW_DATA_DIR": str(data)}, busy_timeout=0.3)
    load_quickstart(dataset.store, tmp_path / "media", num_samples=3, image_size=(64, 48))
    before = {label.id for s in dataset.iter_samples() for label in labels_in(s.fields["ground_truth"])}
    (task_id,) = dataset.annotate("run", label_field="ground_truth", url=cvat_sim.url, **LOGIN).task_ids
    with ScriptedAnnotator(cvat_sim.url, USER, PASSWORD) as annotator:
        moved, deleted = annotator.annotations(task_id)["shapes"][:2]
        annotator.move_shape(task_id, moved["id"], [1.0, 2.0, 30.0, 40.0])
        annotator.delete(task_id, deleted["id"])
        annotator.add_shape(task_id, sorted(annotator.labels(task_id))[0], 0, "rectangle", [5.0, 5.0, 20.0, 20.0])
    yield dataset, data, len(before)
    dataset.store.close()


def _merged(dataset) -> Counter:
    run = dataset.registry.get_run("locks", "run")
    # LabelMerged counts the changes it carries (a load's changes of a task are one event)
    return Counter(
        name
        for e in dataset.registry.history(run.id)
        for name in ([type(e).__name__] * (len(merged_in(e)) if type(e).__name__ == "LabelMerged" else 1))
    )


@pytest.mark.parametrize(
    "held, error", [("datasets.sqlite", LabelStoreLockedError), ("runs.sqlite", RunRegistryLockedError)]
)
def test_a_held_file_stops_the_load_and_the_next_load_finishes_exactly_once(edited, cvat_sim, held, error):
    dataset, data, count = edited
    holder = sqlite3.connect(data / held, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    with pytest.raises(error) as caught:
        dataset.load_annotations("run", url=cvat_sim.url, **LOGIN)
    assert str(data / held) in str(caught.value) and "nothing is lost" in str(caught.value)
    holder.execute("ROLLBACK")
    holder.close()

    dataset.load_annotations("run", url=cvat_sim.url, **LOGIN)
    labels = [label for s in dataset.iter_samples() for label in labels_in(s.fields["ground_truth"])]
    assert len(labels) == count and len({label.id for label in labels}) == count  # one deleted, one added, none twice
    events = _merged(dataset)
    assert events["LabelMerged"] == 3 and events["ChangesApplied"] == 1 and events["LoadCompleted"] == 1
    dataset.load_annotations("run", url=cvat_sim.url, **LOGIN)  # and a third load changes nothing
    assert [label for s in dataset.iter_samples() for label in labels_in(s.fields["ground_truth"])] == labels
    assert _merged(dataset)["LabelMerged"] == 3

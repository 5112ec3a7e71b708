"""Label tags are annoflow's own, as FiftyOne's: they never go to CVAT, and a label an annotator
edits in CVAT keeps them when the load merges it (as it keeps a confidence CVAT does not hold)."""

from __future__ import annotations

import json

import pytest

from annoflow.adapters.cvat import RetryPolicy
from annoflow.adapters.cvat_backend import CVATBackend
from annoflow.adapters.cvat_sim.annotator import ScriptedAnnotator
from annoflow.adapters.label_stores import InMemoryLabelStore, SqliteLabelStore
from annoflow.adapters.quickstart import load_quickstart
from annoflow.application.dataset import Dataset
from annoflow.application.runs.registry import RunRegistry
from annoflow.domain.changes import PutLabel
from annoflow.domain.labels import labels_in
from tests.cvat_backend.conftest import PASSWORD, USER

TAG = "reviewed-before-cvat"


@pytest.fixture(params=["memory", "sqlite"])
def dataset(request, tmp_path):
    # SQLite uploads an image task's boxes from the store's rows, the memory store from built labels
    store = (
        InMemoryLabelStore("quickstart")
        if request.param == "memory"
        else SqliteLabelStore(tmp_path / "labels.sqlite", name="quickstart")
    )
    load_quickstart(store, tmp_path / "media", num_samples=2, image_size=(96, 64))
    yield Dataset(
        store,
        RunRegistry(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}),
        {
            "cvat": CVATBackend(
                interactive=False, client_options={"poll_interval": 0.01, "retry": RetryPolicy(backoff=0.001)}
            )
        },
    )
    store.close()


def _tag_every_prediction(dataset):
    dataset.store.apply(
        [
            PutLabel(s.id, "predictions", label.replace(tags=(TAG, "hard")))
            for s in dataset.iter_samples(fields=["predictions"])
            for label in labels_in(s.fields["predictions"])
        ]
    )


def _predictions(dataset):
    return {
        label.id: label
        for s in dataset.iter_samples(fields=["predictions"])
        for label in labels_in(s.fields["predictions"])
    }


def _by_label_id(annotator, task_id):
    labels = annotator.labels(task_id)
    spec = {a["id"] for label in labels.values() for a in label["attributes"] if a["name"] == "label_id"}
    return {
        next(a["value"] for a in s["attributes"] if a["spec_id"] in spec): s
        for s in annotator.annotations(task_id)["shapes"]
    }


def test_tags_stay_home_and_edited_labels_keep_them(dataset, cvat_sim):
    login = {"url": cvat_sim.url, "username": USER, "password": PASSWORD}
    _tag_every_prediction(dataset)
    before = _predictions(dataset)
    (task_id,) = dataset.annotate("tags", label_field="predictions", attributes=True, **login).task_ids
    with ScriptedAnnotator(cvat_sim.url, USER, PASSWORD) as annotator:
        sent = json.dumps([annotator.annotations(task_id), annotator.labels(task_id)])
        assert TAG not in sent and "hard" not in sent  # no tag reaches CVAT, as an attribute or otherwise
        shapes = _by_label_id(annotator, task_id)
        moved, relabeled, *_ = shapes
        annotator.move_shape(task_id, shapes[moved]["id"], [1.0, 2.0, 30.0, 40.0])
        new_class = next(name for name in annotator.labels(task_id) if name != before[relabeled].label)
        annotator.relabel(task_id, shapes[relabeled]["id"], new_class)
        annotator.add_shape(task_id, new_class, 0, "rectangle", [5.0, 5.0, 20.0, 20.0])
    dataset.load_annotations("tags", unexpected="ignore", **login)
    after = _predictions(dataset)
    summary = dataset.last_load.summary
    assert (summary.added, summary.edited, summary.deleted) == (1, 2, 0)
    assert after[moved].bounding_box != before[moved].bounding_box and after[moved].tags == (TAG, "hard")
    assert after[relabeled].label == new_class and after[relabeled].tags == (TAG, "hard")
    assert after[moved].confidence == before[moved].confidence  # kept the same way: CVAT holds neither
    assert all(after[i] == before[i] for i in set(before) - {moved, relabeled})  # untouched: bit-identical
    (added,) = set(after) - set(before)
    assert after[added].tags == ()  # drawn in CVAT: nothing to keep

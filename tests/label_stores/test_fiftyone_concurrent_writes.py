"""Two processes writing labels into the same field of the same FiftyOne samples at once (two loads into
one dataset): every label of both lands, since each field is written only where it still holds what the
batch read, and a batch that finds a field changed reads it again."""

from __future__ import annotations

import multiprocessing

import pytest

from annoflow.domain.changes import PutLabel
from annoflow.domain.labels import Detection, Detections
from annoflow.domain.samples import Sample

pytestmark = pytest.mark.fiftyone
BATCHES = 40


def _writer(name: str, sample_ids: list[str], label: str, started) -> None:
    import fiftyone as fo

    from annoflow.adapters.label_stores.fiftyone_store import FiftyOneLabelStore

    store = FiftyOneLabelStore(fo.load_dataset(name))  # FiftyOne's children find its database by environment
    started.wait()
    for i in range(BATCHES):
        store.apply(
            [PutLabel(s, "gt", Detection(label=label, bounding_box=(0.1, 0.1, 0.2, 0.2), index=i)) for s in sample_ids]
        )


def test_two_processes_putting_labels_into_one_field_both_land(fiftyone, fo_dataset):
    from annoflow.adapters.label_stores.fiftyone_store import FiftyOneLabelStore

    store = FiftyOneLabelStore(fo_dataset)
    samples = [Sample(filepath=f"/{i}.jpg", media_type="image", fields={"gt": Detections()}) for i in range(3)]
    store.add_samples(samples)
    ids = [s.id for s in samples]
    context = multiprocessing.get_context("spawn")
    started = context.Barrier(2)
    writers = [context.Process(target=_writer, args=(fo_dataset.name, ids, label, started)) for label in ("a", "b")]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=300)
        assert writer.exitcode == 0
    for sample in store.get_samples():
        labels = [(d.label, d.index) for d in sample.fields["gt"].detections]
        assert sorted(labels) == sorted((label, i) for label in "ab" for i in range(BATCHES)), sample.id


# A batch that replaces labels of a list where they stand (a load's edits) compares and sets those labels
# alone; another writer's change between the batch's read and its write (made here right after the read).
def _store_with_two_boxes(fo_dataset):
    from annoflow.adapters.label_stores.fiftyone_store import FiftyOneLabelStore

    store = FiftyOneLabelStore(fo_dataset)
    a, b = (Detection(label=name, bounding_box=(0.1, 0.1, 0.2, 0.2)) for name in "ab")
    sample = Sample(filepath="/0.jpg", media_type="image", fields={"gt": Detections((a, b))})
    store.add_samples([sample])
    return store, sample.id, a, b


def _meanwhile(store, monkeypatch, update) -> None:
    """``update`` (a raw MongoDB update of the sample) made once, right after the batch's first read."""
    read = type(store)._current
    done = []

    def current(self, changes):
        found = read(self, changes)
        if not done:
            done.append(store._dataset._sample_collection.update_one({}, update))
        return found

    monkeypatch.setattr(type(store), "_current", current)


def _boxes(store, sample_id):
    sample = next(store.get_samples([sample_id]))
    return [(d.label, d.bounding_box) for d in sample.fields["gt"].detections]


def test_another_writers_change_to_another_label_of_the_list_stays_without_a_second_read(
    fiftyone, fo_dataset, monkeypatch, caplog
):
    store, sample_id, a, _ = _store_with_two_boxes(fo_dataset)
    _meanwhile(store, monkeypatch, {"$set": {"gt.detections.1.label": "b2"}})
    with caplog.at_level("INFO", logger="annoflow.adapters.label_stores.fiftyone_store"):
        store.apply([PutLabel(sample_id, "gt", Detection(id=a.id, label="a", bounding_box=(0.3, 0.3, 0.2, 0.2)))])
    assert _boxes(store, sample_id) == [("a", (0.3, 0.3, 0.2, 0.2)), ("b2", (0.1, 0.1, 0.2, 0.2))]
    assert "writing again" not in caplog.text


def test_another_writers_change_to_the_label_itself_is_read_again_and_what_annoflow_does_not_model_kept(
    fiftyone, fo_dataset, monkeypatch, caplog
):
    store, sample_id, a, _ = _store_with_two_boxes(fo_dataset)
    _meanwhile(store, monkeypatch, {"$set": {"gt.detections.0.notes": ["kept"]}})
    with caplog.at_level("INFO", logger="annoflow.adapters.label_stores.fiftyone_store"):
        store.apply([PutLabel(sample_id, "gt", Detection(id=a.id, label="a", bounding_box=(0.3, 0.3, 0.2, 0.2)))])
    assert _boxes(store, sample_id) == [("a", (0.3, 0.3, 0.2, 0.2)), ("b", (0.1, 0.1, 0.2, 0.2))]
    assert fo_dataset.first().gt.detections[0]["notes"] == ["kept"]
    assert "writing again" in caplog.text


def test_a_label_another_writer_inserted_before_the_replaced_one_is_kept(fiftyone, fo_dataset, monkeypatch):
    from bson import ObjectId

    store, sample_id, a, b = _store_with_two_boxes(fo_dataset)
    c = {
        "_id": ObjectId(),
        "_cls": "Detection",
        "tags": [],
        "attributes": {},
        "label": "c",
        "bounding_box": [0.5, 0.5, 0.1, 0.1],
    }
    _meanwhile(store, monkeypatch, {"$push": {"gt.detections": {"$each": [c], "$position": 0}}})
    store.apply(
        [
            PutLabel(sample_id, "gt", Detection(id=a.id, label="a", bounding_box=(0.3, 0.3, 0.2, 0.2))),
            PutLabel(sample_id, "gt", Detection(id=b.id, label="b", bounding_box=(0.1, 0.1, 0.3, 0.3))),
        ]
    )
    assert _boxes(store, sample_id) == [
        ("c", (0.5, 0.5, 0.1, 0.1)),
        ("a", (0.3, 0.3, 0.2, 0.2)),
        ("b", (0.1, 0.1, 0.3, 0.3)),
    ]

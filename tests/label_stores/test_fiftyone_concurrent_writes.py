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
        store.apply([PutLabel(s, "gt", Detection(label=label, bounding_box=(0.1, 0.1, 0.2, 0.2), index=i))
                     for s in sample_ids])


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

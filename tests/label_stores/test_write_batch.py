"""LabelStore.write_batch: a batch's samples, changes, field deletions and info land together or
not at all, on every store with transactions (a part refused late undoes the parts before it)."""

from __future__ import annotations

import pytest

from annoflow.application.ports.label_store import Batch, FieldSchemaError, UnknownSampleError
from annoflow.domain.changes import SetValue
from annoflow.domain.labels import Detection, Detections
from annoflow.domain.samples import Sample

STORES = ["memory", "sqlite", "postgres"]  # FiftyOne's has no multi-document transaction: the port's ordered default


def _sample(i):
    return Sample(
        filepath=f"/{i}.jpg",
        media_type="image",
        fields={"gt": Detections([Detection(label="cat", bounding_box=(0, 0, 0.5, 0.5))]), "score": i},
    )


def _state(store):
    return (store.sample_ids(), dict(store.field_schema()), store.read_info(), [s.fields for s in store.get_samples()])


@pytest.fixture
def store(request, make_store):
    return make_store()


@pytest.mark.parametrize("make_store", [*STORES, pytest.param("fiftyone", marks=pytest.mark.fiftyone)], indirect=True)
def test_a_batch_lands_whole(store):
    first = _sample(0)
    store.add_samples([first])
    added = _sample(1)
    store.write_batch(
        Batch(add=[added], changes=[SetValue(first.id, "score", 7)], delete_fields=["gt"], info={"classes": ["cat"]})
    )
    assert store.sample_ids() == [first.id, added.id]
    assert [s.fields for s in store.get_samples()] == [{"score": 7}, {"score": 1}]
    assert "gt" not in store.field_schema() and store.read_info() == {"classes": ["cat"]}


@pytest.mark.parametrize("make_store", STORES, indirect=True)
@pytest.mark.parametrize("late", ["changes", "delete_fields"])
def test_a_part_refused_late_undoes_the_parts_before_it(store, late):
    first = _sample(0)
    store.add_samples([first])
    store.write_info({"before": True})
    before = _state(store)
    parts = {"add": [_sample(1)], "changes": [SetValue(first.id, "score", 7)], "info": {"after": True}}
    if late == "changes":  # the samples are added inside the transaction, then a change names no sample
        parts["changes"] = [*parts["changes"], SetValue("f" * 24, "score", 1)]
        error = UnknownSampleError
    else:  # samples added and changes applied, then a field the schema does not hold
        parts["delete_fields"] = ["no_such_field"]
        error = FieldSchemaError
    with pytest.raises(error):
        store.write_batch(Batch(**parts))
    assert _state(store) == before

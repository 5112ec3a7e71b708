"""What the FiftyOne store's field edits and info mean on FiftyOne's side: FiftyOne's own schema, samples
and ``dataset.info`` show them; FiftyOne's own fields, and those of kinds annoflow does not hold, are
neither edited nor overwritten; an edit a crash cut short is finished by making it again (the store's
docstrings say so, since MongoDB as FiftyOne runs it has no transaction over many documents)."""

from __future__ import annotations

import re

import pytest

from annoflow.application.ports.label_store import FieldSchemaError
from annoflow.domain.fields import FieldKind
from annoflow.domain.labels import Detection, Detections
from annoflow.domain.samples import Sample, VideoMetadata

pytestmark = pytest.mark.fiftyone


def _det(label="cat"):
    return Detection(label=label, bounding_box=(0.1, 0.2, 0.3, 0.4))


@pytest.fixture
def store(fo_dataset):
    from annoflow.adapters.label_stores.fiftyone_store import FiftyOneLabelStore

    return FiftyOneLabelStore(fo_dataset)


def _images(n=3):
    return [
        Sample(filepath=f"/{i}.jpg", media_type="image", fields={"gt": Detections([_det()]), "n": i}) for i in range(n)
    ]


def test_fiftyone_sees_a_rename_and_a_delete(fiftyone, fo_dataset, store):
    samples = _images()
    store.add_samples(samples)
    held = fo_dataset.first()  # a FiftyOne sample a user holds in memory follows the edit
    store.rename_field("gt", "ground_truth")
    store.delete_fields(["n"])
    schema = fo_dataset.get_field_schema()
    assert "ground_truth" in schema and "gt" not in schema and "n" not in schema
    assert schema["ground_truth"].document_type is fiftyone.Detections
    assert fo_dataset.values("ground_truth.detections.id", unwind=True) == [
        s.fields["gt"].detections[0].id for s in samples
    ]
    assert held.ground_truth.detections[0].id == samples[0].fields["gt"].detections[0].id
    assert not held.has_field("gt") and not held.has_field("n")


@pytest.mark.parametrize(
    "edit, path",
    [
        (lambda s: s.delete_fields(["created_at"]), "created_at"),
        (lambda s: s.delete_fields(["gt", "box"]), "box"),
        (lambda s: s.rename_field("box", "boxes"), "box"),
        (lambda s: s.rename_field("gt", "box"), "box"),
        (lambda s: s.rename_field("gt", "last_modified_at"), "last_modified_at"),
    ],
)
def test_fiftyones_own_fields_and_foreign_ones_are_left_alone(fiftyone, fo_dataset, store, edit, path):
    store.add_samples(_images(1))
    fo_dataset.add_sample_field("box", fiftyone.EmbeddedDocumentField, embedded_doc_type=fiftyone.Detection)
    before = fo_dataset.get_field_schema()
    with pytest.raises(FieldSchemaError, match=f"field '{path}' of FiftyOne dataset .* annoflow neither edits"):
        edit(store)
    assert fo_dataset.get_field_schema().keys() == before.keys()
    assert store.field_schema() == {"gt": FieldKind.DETECTIONS, "n": FieldKind.INT}


def test_a_frame_fields_rename_reaches_fiftyones_frames(fiftyone, fo_dataset, store):
    video = Sample(
        filepath="/v.mp4",
        media_type="video",
        metadata=VideoMetadata(64, 48, 3, 5),
        frames={1: {"boxes": Detections([_det()])}, 2: {"boxes": Detections([_det("dog")])}},
    )
    store.add_samples([video])
    store.rename_field("frames.boxes", "frames.detections")
    assert "detections" in fo_dataset.get_frame_field_schema() and "boxes" not in fo_dataset.get_frame_field_schema()
    assert fo_dataset.values("frames.detections.detections.label", unwind=True) == ["cat", "dog"]
    with pytest.raises(FieldSchemaError, match=re.escape("field 'frames.frame_number' of FiftyOne dataset")):
        store.rename_field("frames.detections", "frames.frame_number")


def test_a_rename_a_crash_cut_short_is_finished_by_renaming_again(fo_dataset, store):
    samples = _images()
    store.add_samples(samples)
    # What a crash inside FiftyOne's update_many leaves: one document renamed, the schema not yet.
    fo_dataset._sample_collection.update_one({"filepath": "/0.jpg"}, {"$rename": {"gt": "ground_truth"}})
    store.rename_field("gt", "ground_truth")
    got = list(store.get_samples())
    assert [s.fields["ground_truth"] for s in got] == [s.fields["gt"] for s in samples]
    assert set(store.field_schema()) == {"ground_truth", "n"}


def test_a_delete_a_crash_cut_short_is_finished_by_deleting_again(fo_dataset, store):
    store.add_samples(_images())
    fo_dataset._sample_collection.update_one({"filepath": "/0.jpg"}, {"$unset": {"gt": ""}})
    assert "gt" in store.field_schema()  # the field is still declared: the edit can be made again
    store.delete_fields(["gt"])
    assert store.field_schema() == {"n": FieldKind.INT}
    assert [dict(s.fields) for s in store.get_samples()] == [{"n": 0}, {"n": 1}, {"n": 2}]


def test_info_is_fiftyones_dataset_info(fiftyone, fo_dataset, store):
    store.write_info({"classes": ["cat", "dog"]})
    assert fiftyone.load_dataset(fo_dataset.name).info == {"classes": ["cat", "dog"]}
    # Another process writes it (here straight to the database): the store reads what is stored now.
    fo_dataset._doc._get_collection().update_one({"_id": fo_dataset._doc.id}, {"$set": {"info": {"classes": ["x"]}}})
    assert store.read_info() == {"classes": ["x"]}

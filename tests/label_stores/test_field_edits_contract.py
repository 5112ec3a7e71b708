"""Every label store deletes and renames fields the same way: on every sample and frame, in the
schema, one transaction; a bad edit changes nothing, and another dataset in the same file is untouched."""

from __future__ import annotations

import pytest

from annoflow.application.ports.label_store import FieldSchemaError
from annoflow.domain.fields import FieldKind
from annoflow.domain.labels import Classification, Detection, Detections
from annoflow.domain.samples import ImageMetadata, Sample, VideoMetadata


def _det(label="cat"):
    return Detection(label=label, bounding_box=(0.1, 0.2, 0.3, 0.4))


def _samples():
    image = Sample(filepath="/a.jpg", media_type="image", metadata=ImageMetadata(64, 48),
                   fields={"gt": Detections([_det()]), "pred": Detections([_det("dog")]), "n": 3,
                           "weather": Classification(label="sunny")})
    video = Sample(filepath="/v.mp4", media_type="video", metadata=VideoMetadata(64, 48, 3, 5),
                   frames={1: {"boxes": Detections([_det()])}, 3: {"boxes": Detections([]), "k": 1.5}})
    return image, video


def test_deleting_fields_removes_their_values_labels_and_declarations(make_store):
    store = make_store()
    image, video = _samples()
    store.add_samples([image, video])
    store.delete_fields(["gt", "n", "frames.boxes"])
    assert store.field_schema() == {"pred": FieldKind.DETECTIONS, "weather": FieldKind.CLASSIFICATION,
                                    "frames.k": FieldKind.FLOAT}
    got_image, got_video = store.get_samples()
    assert dict(got_image.fields) == {"pred": image.fields["pred"], "weather": image.fields["weather"]}
    assert {n: dict(f) for n, f in got_video.frames.items()} == {3: {"k": 1.5}}
    store.declare_field("gt", FieldKind.STR)  # the name is free again, for any kind


def test_renaming_a_field_keeps_every_value_and_label_id(make_store):
    store = make_store()
    image, video = _samples()
    store.add_samples([image, video])
    store.rename_field("gt", "ground_truth")
    store.rename_field("frames.boxes", "frames.detections")
    schema = store.field_schema()
    assert schema["ground_truth"] is FieldKind.DETECTIONS and "gt" not in schema
    assert schema["frames.detections"] is FieldKind.DETECTIONS and "frames.boxes" not in schema
    got_image, got_video = store.get_samples()
    assert got_image.fields["ground_truth"] == image.fields["gt"] and "gt" not in got_image.fields
    assert got_video.frames[1]["detections"] == video.frames[1]["boxes"]
    assert got_video.frames[3]["detections"] == Detections([])
    assert list(store.get_samples(fields=["ground_truth"]))[0].fields["ground_truth"].detections[0].id == \
        image.fields["gt"].detections[0].id


@pytest.mark.parametrize("edit, message", [
    (lambda s: s.delete_fields(["gt", "nothing"]), "no field 'nothing'"),
    (lambda s: s.rename_field("nothing", "x"), "no field 'nothing'"),
    (lambda s: s.rename_field("gt", "pred"), "already has a field 'pred'"),
    (lambda s: s.rename_field("gt", "frames.gt"), "a sample field stays a sample field"),
    (lambda s: s.rename_field("gt", "filepath"), "reserved"),
])
def test_a_bad_edit_changes_nothing(make_store, edit, message):
    store = make_store()
    image, video = _samples()
    store.add_samples([image, video])
    schema = store.field_schema()
    with pytest.raises(FieldSchemaError, match=message):
        edit(store)
    assert store.field_schema() == schema and list(store.get_samples()) == [image, video]


def test_another_dataset_in_the_same_file_is_untouched(tmp_path):
    from annoflow.adapters.label_stores import SqliteLabelStore

    mine, other = (SqliteLabelStore(tmp_path / "l.sqlite", name=n) for n in ("mine", "other"))
    image, _ = _samples()
    mine.add_samples([image])
    twin = Sample(filepath="/b.jpg", media_type="image", fields={"gt": Detections([_det()])})
    other.add_samples([twin])
    mine.rename_field("gt", "renamed")
    mine.delete_fields(["pred"])
    assert other.field_schema() == {"gt": FieldKind.DETECTIONS} and list(other.get_samples()) == [twin]
    mine.close()
    other.close()


def test_a_datasets_info_is_written_whole_and_read_back(make_store):
    store = make_store()
    assert store.read_info() == {}
    info = {"categories": [{"id": 7, "name": "cat", "supercategory": "animal"}], "classes": ["b", "a"], "n": 1.5}
    store.write_info(info)
    assert store.read_info() == info
    store.write_info({"classes": ["a"]})
    assert store.read_info() == {"classes": ["a"]}
    with pytest.raises(ValueError):
        store.write_info({"x": float("nan")})  # not JSON
    assert store.read_info() == {"classes": ["a"]}


def test_a_copy_takes_the_info_along(tmp_path):
    from annoflow.adapters.label_stores import InMemoryLabelStore, SqliteLabelStore
    from annoflow.adapters.label_stores.copying import copy_dataset

    source = SqliteLabelStore(tmp_path / "l.sqlite", name="a")
    source.add_samples(list(_samples()))
    source.write_info({"classes": ["cat", "dog"]})
    target = InMemoryLabelStore("a")
    copy_dataset(source, target)
    assert target.read_info() == {"classes": ["cat", "dog"]} and len(target) == 2
    source.close()

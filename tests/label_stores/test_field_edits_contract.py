"""Every label store deletes and renames fields the same way: on every sample and frame, in the
schema, one transaction; a bad edit changes nothing, and another dataset in the same file is untouched.

Each case runs on a dataset of images and on one of videos (sample and frame fields): a FiftyOne
dataset holds one media type (it refuses the other with FieldSchemaError), and nothing here is about
mixing them, so every store is checked on both, FiftyOne's included."""

from __future__ import annotations

import pytest

from annoflow.application.ports.label_store import FieldSchemaError
from annoflow.domain.fields import FieldKind
from annoflow.domain.labels import Classification, Detection, Detections
from annoflow.domain.samples import ImageMetadata, Sample, VideoMetadata

MEDIA = ["image", "video"]


def _det(label="cat"):
    return Detection(label=label, bounding_box=(0.1, 0.2, 0.3, 0.4))


def _samples(media):
    """Two samples of one media type: the first holds every field, the second only some (an edit reaches
    every sample, whether it holds the field or not). A video's sample fields are those of an image."""

    def fields():
        return {
            "gt": Detections([_det()]),
            "pred": Detections([_det("dog")]),
            "n": 3,
            "weather": Classification(label="sunny"),
        }

    if media == "image":
        return [
            Sample(filepath="/a.jpg", media_type="image", metadata=ImageMetadata(64, 48), fields=fields()),
            Sample(filepath="/b.jpg", media_type="image", fields={"n": 4}),
        ]
    return [
        Sample(
            filepath="/v.mp4",
            media_type="video",
            metadata=VideoMetadata(64, 48, 3, 5),
            fields=fields(),
            frames={1: {"boxes": Detections([_det()])}, 3: {"boxes": Detections([]), "k": 1.5}},
        ),
        Sample(filepath="/w.mp4", media_type="video", fields={"n": 4}, frames={2: {"boxes": Detections([_det()])}}),
    ]


@pytest.mark.parametrize("media", MEDIA)
def test_deleting_fields_removes_their_values_labels_and_declarations(make_store, media):
    store = make_store()
    first, second = _samples(media)
    store.add_samples([first, second])
    store.delete_fields(["gt", "n"] + (["frames.boxes"] if media == "video" else []))
    assert store.field_schema() == {
        "pred": FieldKind.DETECTIONS,
        "weather": FieldKind.CLASSIFICATION,
        **({"frames.k": FieldKind.FLOAT} if media == "video" else {}),
    }
    got_first, got_second = store.get_samples()
    assert dict(got_first.fields) == {"pred": first.fields["pred"], "weather": first.fields["weather"]}
    assert dict(got_second.fields) == {}
    if media == "video":
        assert {n: dict(f) for n, f in got_first.frames.items()} == {3: {"k": 1.5}}
        assert dict(got_second.frames) == {}
    store.declare_field("gt", FieldKind.STR)  # the name is free again, for any kind


@pytest.mark.parametrize("media", MEDIA)
def test_renaming_a_field_keeps_every_value_and_label_id(make_store, media):
    store = make_store()
    first, second = _samples(media)
    store.add_samples([first, second])
    store.rename_field("gt", "ground_truth")
    store.rename_field("n", "count")
    schema = store.field_schema()
    assert schema["ground_truth"] is FieldKind.DETECTIONS and "gt" not in schema
    assert schema["count"] is FieldKind.INT and "n" not in schema
    got_first, got_second = store.get_samples()
    assert got_first.fields["ground_truth"] == first.fields["gt"] and "gt" not in got_first.fields
    assert dict(got_second.fields) == {"count": 4}
    only_ground_truth, _ = store.get_samples(fields=["ground_truth"])
    assert only_ground_truth.fields["ground_truth"].detections[0].id == first.fields["gt"].detections[0].id
    if media == "video":
        store.rename_field("frames.boxes", "frames.detections")
        schema = store.field_schema()
        assert schema["frames.detections"] is FieldKind.DETECTIONS and "frames.boxes" not in schema
        got_first, got_second = store.get_samples()
        assert got_first.frames[1]["detections"] == first.frames[1]["boxes"]
        assert got_first.frames[3]["detections"] == Detections([])
        assert dict(got_first.frames[3]) == {"detections": Detections([]), "k": 1.5}
        assert {n: dict(f) for n, f in got_second.frames.items()} == {2: {"detections": second.frames[2]["boxes"]}}


_BAD_EDITS = [
    (lambda s: s.delete_fields(["gt", "nothing"]), "no field 'nothing'"),
    (lambda s: s.rename_field("nothing", "x"), "no field 'nothing'"),
    (lambda s: s.rename_field("gt", "pred"), "already has a field 'pred'"),
    (lambda s: s.rename_field("gt", "frames.gt"), "a sample field stays a sample field"),
    (lambda s: s.rename_field("gt", "filepath"), "reserved"),
]
_BAD_FRAME_EDITS = [
    (lambda s: s.delete_fields(["frames.boxes", "gt", "frames.nothing"]), "no field 'frames.nothing'"),
    (lambda s: s.rename_field("frames.boxes", "frames.k"), "already has a field 'frames.k'"),
    (lambda s: s.rename_field("frames.boxes", "boxes"), "a frame field a frame field"),
]


@pytest.mark.parametrize(
    "media, edit, message",
    [(m, e, t) for m in MEDIA for e, t in _BAD_EDITS] + [("video", e, t) for e, t in _BAD_FRAME_EDITS],
)
def test_a_bad_edit_changes_nothing(make_store, media, edit, message):
    store = make_store()
    samples = _samples(media)
    store.add_samples(samples)
    schema = store.field_schema()
    with pytest.raises(FieldSchemaError, match=message):
        edit(store)
    assert store.field_schema() == schema and list(store.get_samples()) == samples


def test_another_dataset_in_the_same_file_is_untouched(tmp_path):
    from annoflow.adapters.label_stores import SqliteLabelStore

    mine, other = (SqliteLabelStore(tmp_path / "l.sqlite", name=n) for n in ("mine", "other"))
    image, _ = _samples("image")
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
    # An image and a video in one dataset, which SQLite and the in-memory store hold (FiftyOne does not).
    source.add_samples([_samples("image")[0], _samples("video")[0]])
    source.write_info({"classes": ["cat", "dog"]})
    target = InMemoryLabelStore("a")
    copy_dataset(source, target)
    assert target.read_info() == {"classes": ["cat", "dog"]} and len(target) == 2
    source.close()

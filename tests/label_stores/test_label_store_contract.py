"""Both label stores keep the same contract: the same tests run against each."""

from __future__ import annotations

import numpy as np
import pytest

from annoflow.application.ports.label_store import FieldSchemaError, UnknownSampleError
from annoflow.domain.changes import DeleteLabel, PutLabel, SetValue
from annoflow.domain.fields import FieldKind
from annoflow.domain.ids import new_id
from annoflow.domain.labels import Classification, Classifications, Detection, Detections, Segmentation
from annoflow.domain.samples import ImageMetadata, Sample


def det(label="cat", **kw):
    return Detection(label=label, bounding_box=(0.1, 0.2, 0.3, 0.4), **kw)


def image(**fields):
    return Sample(filepath="/img.jpg", media_type="image", metadata=ImageMetadata(64, 48), fields=fields)


def only(store):
    (sample,) = store.get_samples()
    return sample


def test_samples_come_back_in_insertion_order_and_declare_fields(make_store):
    store = make_store()
    a, b = image(gt=Detections([det()]), n=1), image(flag=True, weather=Classification(label="sunny"))
    store.add_samples([a, b])
    assert store.sample_ids() == [a.id, b.id]
    assert list(store.get_samples()) == [a, b]
    assert list(store.get_samples([b.id, a.id])) == [b, a]
    assert store.field_schema() == {
        "gt": FieldKind.DETECTIONS,
        "n": FieldKind.INT,
        "flag": FieldKind.BOOL,
        "weather": FieldKind.CLASSIFICATION,
    }
    assert len(store) == 2


def test_adding_a_sample_twice_or_a_conflicting_kind_is_refused(make_store):
    store = make_store()
    a = image(n=1)
    store.add_samples([a])
    with pytest.raises(ValueError, match="already"):
        store.add_samples([a])
    with pytest.raises(FieldSchemaError, match="field 'n' holds int; it cannot be declared str"):
        store.add_samples([image(n="x")])
    assert store.sample_ids() == [a.id]


def test_declare_field(make_store):
    store = make_store()
    store.declare_field("frames.detections", FieldKind.DETECTIONS)
    store.declare_field("frames.detections", FieldKind.DETECTIONS)  # same kind again is fine
    with pytest.raises(FieldSchemaError, match="cannot be declared keypoints"):
        store.declare_field("frames.detections", FieldKind.KEYPOINTS)
    assert store.field_schema() == {"frames.detections": FieldKind.DETECTIONS}


def test_put_inserts_or_replaces_by_id_keeping_position(make_store):
    store = make_store()
    first, second = det("a"), det("b")
    sample = image(gt=Detections([first, second]))
    store.add_samples([sample])
    third = det("c")
    store.apply([PutLabel(sample.id, "gt", first.replace(label="A")), PutLabel(sample.id, "gt", third)])
    assert [d.label for d in only(store).fields["gt"].detections] == ["A", "b", "c"]


def test_delete_and_set_value(make_store):
    store = make_store()
    first = det("a")
    weather = Classification(label="sunny")
    sample = image(gt=Detections([first]), weather=weather, n=1)
    store.add_samples([sample])
    store.apply(
        [
            DeleteLabel(sample.id, "gt", first.id),
            DeleteLabel(sample.id, "weather", weather.id),
            SetValue(sample.id, "n", 7),
        ]
    )
    got = only(store)
    assert got.fields == {"gt": Detections(), "n": 7}  # an emptied list stays; a single label is unset
    store.apply([DeleteLabel(sample.id, "gt", first.id)])  # deleting twice changes nothing
    store.apply([SetValue(sample.id, "n", None), SetValue(sample.id, "gt", None)])
    assert only(store).fields == {}
    assert store.field_schema()["n"] is FieldKind.INT


def test_single_label_fields_hold_one_label(make_store):
    store = make_store()
    sample = image(seg=Segmentation(mask=np.zeros((2, 2), np.uint8)))
    store.add_samples([sample])
    new = Segmentation(mask=np.ones((3, 3), np.uint8))
    store.apply([PutLabel(sample.id, "seg", new)])
    assert only(store).fields["seg"] == new


def test_set_value_declares_new_fields_from_the_value(make_store):
    store = make_store()
    sample = image()
    store.add_samples([sample])
    store.apply([SetValue(sample.id, "new_field", Classifications([Classification(label="x")]))])
    assert store.field_schema() == {"new_field": FieldKind.CLASSIFICATIONS}
    with pytest.raises(FieldSchemaError, match="setting it to None says nothing of its kind"):
        store.apply([SetValue(sample.id, "other", None)])


@pytest.mark.parametrize(
    "bad, message",
    [
        (
            lambda s: PutLabel(s, "gt", Classification(label="x")),
            "field 'gt' holds detections: a Classification does not fit",
        ),
        (lambda s: PutLabel(s, "nowhere", det()), "field 'nowhere' is not declared"),
        (lambda s: PutLabel(s, "n", det()), "field 'n' holds int scalars, not labels"),
        (lambda s: SetValue(s, "n", "text"), "field 'n' holds int, not str"),
        (lambda s: PutLabel(new_id(), "gt", det()), "has no sample"),
    ],
)
def test_a_bad_change_leaves_the_whole_batch_unapplied(make_store, bad, message):
    store = make_store()
    kept = det("kept")
    sample = image(gt=Detections([kept]), n=1)
    store.add_samples([sample])
    batch = [
        PutLabel(sample.id, "gt", det("new")),
        SetValue(sample.id, "n", 2),
        DeleteLabel(sample.id, "gt", kept.id),
        bad(sample.id),
    ]
    with pytest.raises((FieldSchemaError, UnknownSampleError), match=message):
        store.apply(batch)
    assert only(store) == sample
    assert set(store.field_schema()) == {"gt", "n"}


def test_frame_fields(make_store):
    store = make_store()
    video = Sample(filepath="/v.mp4", media_type="video", frames={1: {"detections": Detections([det()])}})
    store.add_samples([video])
    added = det("dog")
    store.apply([PutLabel(video.id, "frames.detections", added, frame=2)])
    got = only(store)
    assert got.frames[2]["detections"] == Detections([added])
    assert got.frames[1] == video.frames[1]


def test_field_projection_reads_only_what_is_asked(make_store):
    store = make_store()
    video = Sample(
        filepath="/v.mp4",
        media_type="video",
        fields={"note": "x", "n": 2},
        frames={1: {"detections": Detections([det()]), "other": 1}},
    )
    store.add_samples([video])
    got = next(store.get_samples(fields=["n", "frames.detections"]))
    assert got.fields == {"n": 2}
    assert dict(got.frames[1]) == {"detections": video.frames[1]["detections"]}
    bare = next(store.get_samples(fields=()))
    assert bare.fields == {} and bare.frames == {} and bare.filepath == "/v.mp4"


def test_unknown_samples_and_delete(make_store):
    store = make_store()
    a, b = image(n=1), image(n=2)
    store.add_samples([a, b])
    with pytest.raises(UnknownSampleError):
        list(store.get_samples([new_id()]))
    store.delete_samples([a.id])
    assert store.sample_ids() == [b.id]


def test_set_value_replaces_whole_labels_and_frame_values(make_store):
    store = make_store()
    old = det("old")
    video = Sample(filepath="/v.mp4", media_type="video", frames={1: {"detections": Detections([old])}})
    store.add_samples([video])
    b, a = det("b"), det("a")
    store.apply(
        [
            SetValue(video.id, "frames.detections", Detections([b, a]), frame=1),
            SetValue(video.id, "frames.weather", Classification(label="rain"), frame=3),
            SetValue(video.id, "frames.score", 0.25, frame=3),
        ]
    )
    got = only(store)
    assert got.frames[1]["detections"] == Detections([b, a])  # the given order, the old label gone
    assert got.frames[3] == {"weather": Classification(label="rain", id=got.frames[3]["weather"].id), "score": 0.25}
    store.apply([SetValue(video.id, "frames.detections", Detections(), frame=1)])
    assert only(store).frames[1]["detections"] == Detections()  # present and empty, not unset
    store.apply([SetValue(video.id, "frames.detections", None, frame=1)])
    assert 1 not in only(store).frames


def test_a_deleted_sample_is_gone_with_its_labels(make_store):
    store = make_store()
    kept = det("kept")
    a = image(gt=Detections([kept]))
    store.add_samples([a])
    store.delete_samples([a.id])
    with pytest.raises(UnknownSampleError):
        list(store.get_samples([a.id]))
    with pytest.raises(UnknownSampleError):
        store.apply([PutLabel(a.id, "gt", det())])
    again = Sample(id=a.id, filepath="/again.jpg", media_type="image")
    store.add_samples([again])
    assert only(store) == again  # no label of the deleted sample came back
    store.apply([PutLabel(a.id, "gt", det("new"))])
    assert [d.label for d in only(store).fields["gt"].detections] == ["new"]


def test_adding_samples_is_atomic(make_store):
    store = make_store()
    a = image(n=1)
    with pytest.raises(ValueError):
        store.add_samples([image(gt=Detections([det()])), a, a])
    with pytest.raises(FieldSchemaError):
        store.add_samples([image(gt=Detections([det()])), image(gt=Classification(label="x"))])
    assert store.sample_ids() == [] and store.field_schema() == {}


def test_projection_of_single_labels_and_unknown_fields(make_store):
    store = make_store()
    weather = Classification(label="sunny")
    a = image(weather=weather, gt=Detections([det()]), n=3)
    store.add_samples([a])
    got = next(store.get_samples(fields=["weather", "no_such_field"]))
    assert got.fields == {"weather": weather}


def test_label_rows_give_each_sample_s_labels_as_its_samples_hold_them(make_store):
    from annoflow.application.ports.label_store import rows_of_sample
    from annoflow.domain.labels import Keypoint, Keypoints, Polyline, Polylines

    store = make_store()
    mask = np.zeros((4, 6), dtype=bool)
    mask[1:3, 2:5] = True
    a = image(
        gt=Detections([det(attributes={"iscrowd": 0, "note": "x"}), det("dog", mask=mask, confidence=0.5)]),
        weather=Classification(label="sunny"),
        n=3,
        lines=Polylines([Polyline(label="road", points=(((0.1, 0.2), (0.3, 0.4)),), filled=True)]),
        points=Keypoints([Keypoint(label="face", points=((0.1, 0.2), (float("nan"), float("nan"))))]),
    )
    b, c = image(gt=Detections([])), image()
    store.add_samples([a, b, c])
    fields = ("gt", "weather", "lines", "points", "n")
    read = list(store.get_label_rows([c.id, a.id, b.id], fields))
    assert [rows.id for rows in read] == [c.id, a.id, b.id]
    expected = {s.id: rows_of_sample(s, fields) for s in store.get_samples([a.id, b.id, c.id], fields=fields)}
    for rows in read:
        assert [(r.field, r.frame, r.label_id, r.kind) for r in rows.rows] == [
            (r.field, r.frame, r.label_id, r.kind) for r in expected[rows.id].rows
        ]
        assert [r.label() for r in rows.rows] == [r.label() for r in expected[rows.id].rows]
        # the values as JSON gives them (lists for tuples): the same numbers and names
        assert [repr(_as_tuples(dict(r.values))) for r in rows.rows] == [
            repr(_as_tuples(dict(r.values))) for r in expected[rows.id].rows
        ]
    assert [r.label() for r in read[1].rows if r.field == "gt"] == list(a.get("gt").detections)
    assert list(store.get_label_rows([a.id], ())) == [(a.id, [])]
    with pytest.raises(UnknownSampleError):
        list(store.get_label_rows(["0" * 24], fields))


def _as_tuples(value):
    if isinstance(value, (list, tuple)):
        return tuple(map(_as_tuples, value))
    if isinstance(value, dict):
        return {k: _as_tuples(v) for k, v in value.items()}
    return value

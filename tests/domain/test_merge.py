"""The merge policy for scalar fields (one value per sample) and for keypoints whose point count changes."""

from __future__ import annotations

import math

import pytest

from annoflow.domain.fields import FieldKind
from annoflow.domain.label_schema import build_label_schema
from annoflow.domain.labels import Keypoint, Keypoints
from annoflow.domain.merge import ImportedLabel, ImportedValue, merge_task, scalar_as
from annoflow.domain.run_records import FrameRef, MergeAction, MergedChange, TaskRecord, UploadedObject
from annoflow.domain.samples import Sample

NAN = float("nan")


# --- converting what the backend holds to the field's kind -----------------------------------


@pytest.mark.parametrize(
    "kind, value, expected",
    [
        ("int", "5", 5),
        ("int", " -3 ", -3),
        ("int", "9223372036854775808", 2**63),
        ("int", 7, 7),
        ("int", 2.0, 2),
        ("float", "0.1", 0.1),
        ("float", "1e300", 1e300),
        ("float", "-0.0", -0.0),
        ("float", 3, 3.0),
        ("float", "inf", math.inf),
        ("bool", "True", True),
        ("bool", "false", False),
        ("bool", " YES ", True),
        ("bool", "0", False),
        ("bool", False, False),
        ("str", "class1", "class1"),
        ("str", "  spaced  ", "  spaced  "),
        ("str", 5, "5"),
        # no value: None, empty text, and blank text where a number or a bool is expected
        ("str", "", None),
        ("int", "", None),
        ("float", "   ", None),
        ("bool", None, None),
        ("str", None, None),
    ],
)
def test_values_convert_to_the_fields_kind(kind, value, expected):
    got = scalar_as(kind, value)
    assert type(got) is type(expected) and got == expected
    if isinstance(expected, float):
        assert math.copysign(1, got) == math.copysign(1, expected)  # -0.0 stays -0.0


def test_nan_text_is_a_nan_float():
    assert math.isnan(scalar_as("float", "nan"))


@pytest.mark.parametrize(
    "kind, value, message",
    [
        ("int", "5.5", "'5.5' is not an int"),
        ("int", "five", "'five' is not an int"),
        ("int", True, "True is not an int"),
        ("int", 2.5, "2.5 is not an int"),
        ("int", math.inf, "inf is not an int"),
        ("float", "x", "'x' is not a float"),
        ("float", False, "False is not a float"),
        ("bool", "maybe", "'maybe' is not a bool"),
        ("bool", 2, "2 is not a bool"),
        ("complex", "1", "a scalar field holds bool, int, float or str values, not 'complex'"),
    ],
)
def test_values_that_do_not_fit_are_named(kind, value, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        scalar_as(kind, value)


# --- what a scalar change records ----------------------------------------------------------------


def test_a_scalar_change_carries_its_value_and_no_label():
    sample = "a" * 24
    assert MergedChange("added", sample, "count", None, value=3).is_scalar
    assert MergedChange("deleted", sample, "count", None).value is None
    with pytest.raises(ValueError, match="carries its new value, unless it clears the field"):
        MergedChange("edited", sample, "count", None)
    with pytest.raises(ValueError, match="carries its new value, unless it clears the field"):
        MergedChange("deleted", sample, "count", None, value=3)
    with pytest.raises(TypeError, match="bool, int, float or str, got list"):
        MergedChange("added", sample, "count", None, value=[3])
    kp = Keypoint(label="p", points=[(0.1, 0.1)])
    with pytest.raises(ValueError, match="carries a value, not a label"):
        MergedChange("added", sample, "count", None, label=kp)
    with pytest.raises(ValueError, match="carries its label, not a scalar value"):
        MergedChange("added", sample, "kps", kp.id, label=kp, value=3)


# --- merging scalar fields -----------------------------------------------------------------------


def _samples(field, *values):
    return {
        s.id: s
        for s in (
            Sample(filepath=f"/{i}.jpg", media_type="image", fields={field: v} if v is not None else {})
            for i, v in enumerate(values)
        )
    }


def _task(samples):
    return TaskRecord(
        task_id=1,
        project_id=None,
        job_ids=[1],
        frames=[FrameRef(s) for s in samples],
        uploaded=[],
        labels=[],
        attributes=[],
    )


def _schema(field="count", kind=FieldKind.INT, **kwargs):
    return build_label_schema(
        label_field=field, label_type="scalar", field_schema={field: kind} if kind else {}, **kwargs
    )


def _merge(schema, samples, texts, field="count", **kwargs):
    """texts: what CVAT holds per sample, in sample order (None: no tag; a list: several tags)."""
    values = []
    for i, (sample_id, text) in enumerate(zip(samples, texts, strict=True)):
        for one in text if isinstance(text, list) else ([] if text is None else [text]):
            values.append(ImportedValue(field, sample_id, one, remote_id=100 + i))
    return merge_task(schema, _task(samples), samples, [], values=values, **kwargs)


def _summary(changes):
    return [(c.action.value, c.value, type(c.value).__name__) for c in changes]


def test_one_value_per_sample_added_edited_deleted_or_unchanged():
    samples = _samples("count", None, 1, 2, 3)
    changes, rejections = _merge(_schema(), samples, ["7", "1", "5", None])
    assert rejections == []
    assert _summary(changes) == [("added", 7, "int"), ("edited", 5, "int"), ("deleted", None, "NoneType")]
    ids = list(samples)
    assert [c.sample_id for c in changes] == [ids[0], ids[2], ids[3]]
    assert all(c.is_scalar and c.label_id is None and c.field == "count" for c in changes)
    assert changes[0].remote_id == 100 and changes[2].remote_id is None


@pytest.mark.parametrize(
    "kind, before, text, after",
    [
        (FieldKind.INT, 3, "4", 4),
        (FieldKind.FLOAT, 0.5, "0.25", 0.25),
        (FieldKind.BOOL, False, "True", True),
        (FieldKind.STR, "a", "b", "b"),
    ],
)
def test_values_come_back_in_the_fields_kind(kind, before, text, after):
    samples = _samples("f", before)
    (change,), _ = _merge(_schema("f", kind), samples, [text], field="f")
    assert type(change.value) is type(after) and change.value == after


def test_a_new_field_without_a_recorded_kind_holds_text():
    samples = _samples("f", None)
    (change,), _ = _merge(_schema("f", None), samples, ["42"], field="f")
    assert change.value == "42"
    (change,), _ = _merge(_schema("f", None), samples, ["42"], field="f", scalar_kinds={"f": "int"})
    assert change.value == 42  # the kind the loader found declared for the field wins


def test_unchanged_values_change_nothing():
    samples = _samples("x", NAN, -0.0, 1e300)
    changes, rejections = _merge(_schema("x", FieldKind.FLOAT), samples, ["nan", "-0.0", "1e+300"], field="x")
    assert changes == [] and rejections == []
    samples = _samples("s", "", "text")  # '' goes up as empty text, which is how CVAT holds no value
    assert _merge(_schema("s", FieldKind.STR), samples, [None, "text"], field="s") == ([], [])


def test_restrictions_refuse_additions_deletions_and_edits():
    samples = _samples("count", None, 1, 2, 3)
    schema = _schema(allow_additions=False, allow_deletions=False, allow_label_edits=False)
    changes, rejections = _merge(schema, samples, ["7", "1", "5", None])
    assert changes == []
    ids = list(samples)
    assert [(r.sample_id, r.rule, r.attempted, r.label_id, r.remote_id) for r in rejections] == [
        (ids[0], "allow_additions", "set the value 7", None, 100),
        (ids[2], "allow_label_edits", "change the value 2 to 5", None, 102),
        (ids[3], "allow_deletions", "clear the value 3", None, None),
    ]


def test_a_value_that_does_not_fit_is_refused_and_the_field_keeps_its_own():
    samples = _samples("count", 1, None)
    changes, rejections = _merge(_schema(), samples, ["one", "2.5"])
    assert changes == []
    assert [(r.rule, r.attempted) for r in rejections] == [
        ("scalar_kind", "set the value 'one': 'one' is not an int (field 'count' holds int values)"),
        ("scalar_kind", "set the value '2.5': '2.5' is not an int (field 'count' holds int values)"),
    ]


def test_several_different_values_for_one_sample_are_refused():
    samples = _samples("count", 1, 2)
    changes, rejections = _merge(_schema(), samples, [["3", "4"], ["5", " 5", ""]])
    (change,) = changes  # the same value twice (and an empty tag) is one value
    assert (change.action, change.value) == (MergeAction.EDITED, 5)
    (rejection,) = rejections
    assert (
        rejection.rule == "one_value"
        and rejection.attempted == "set 2 values [3, 4]: a scalar field holds one value per sample"
    )


def test_with_classes_the_tag_is_the_value_and_values_outside_them_are_kept():
    schema = _schema("kind", FieldKind.STR, classes=["class1", "class2"])
    samples = _samples("kind", "class1", "other", "class2", None)
    changes, rejections = _merge(schema, samples, ["class2", None, None, "class1"], field="kind")
    assert rejections == []
    # 'other' was never sent (not a class), so CVAT holding nothing deletes nothing
    ids = list(samples)
    assert [(c.sample_id, c.action.value, c.value) for c in changes] == [
        (ids[0], "edited", "class2"),
        (ids[2], "deleted", None),
        (ids[3], "added", "class1"),
    ]


def test_loading_into_another_field_leaves_the_source_alone():
    samples = _samples("count", None, 1, 2, 3)
    changes, rejections = _merge(
        _schema(allow_label_edits=False), samples, ["7", "1", "5", None], dest_field={"count": "count_v2"}
    )
    # what CVAT holds goes to the destination (a refused edit keeps the original value); a cleared value sets nothing
    assert [(c.action.value, c.field, c.value) for c in changes] == [
        ("added", "count_v2", 7),
        ("added", "count_v2", 1),
        ("added", "count_v2", 2),
    ]
    assert [r.rule for r in rejections] == ["allow_label_edits"]


def test_empty_text_loaded_into_another_field_is_copied_as_unchanged():
    samples = _samples("s", "", "text")  # '' goes up as empty text, which is how the tool holds no value
    changes, rejections = _merge(_schema("s", FieldKind.STR), samples, [None, None], field="s", dest_field={"s": "s2"})
    # '' is the value the tool holds, so it is copied; a cleared 'text' sets nothing and leaves the source alone
    assert rejections == [] and [(c.action.value, c.field, c.value) for c in changes] == [("added", "s2", "")]


def test_a_refused_clearing_names_no_remote_object():
    samples = _samples("count", 3)
    # the tool holds a blank value (a tag with empty text, object 100): it clears the field, and the refusal
    # names no object, as a refused clearing with no tag at all does
    (rejection,) = _merge(_schema(allow_deletions=False), samples, ["  "])[1]
    assert (rejection.rule, rejection.attempted, rejection.remote_id) == ("allow_deletions", "clear the value 3", None)


def test_scalar_frame_fields_merge_one_value_per_frame_the_task_shows():
    schema = build_label_schema(
        label_field="frames.count",
        label_type="scalar",
        media_type="video",
        field_schema={"frames.count": FieldKind.INT},
        allow_deletions=False,
    )
    video = Sample(
        filepath="/v.mp4",
        media_type="video",
        frames={1: {"count": 1}, 2: {"count": 2}, 3: {"count": 3}, 5: {"count": 5}},
    )
    # the task shows frames 1, 2, 3 and 4 of the video (frame 5 is outside its range)
    task = TaskRecord(
        task_id=1,
        project_id=None,
        job_ids=[1],
        frames=[FrameRef(video.id, n) for n in (1, 2, 3, 4)],
        uploaded=[],
        labels=[],
        attributes=[],
    )
    values = [
        ImportedValue("frames.count", video.id, "1", 10, 1),
        ImportedValue("frames.count", video.id, "7", 11, 2),
        ImportedValue("frames.count", video.id, "4", 12, 4),
    ]
    changes, rejections = merge_task(schema, task, {video.id: video}, [], values=values)
    assert [(c.action.value, c.frame, c.value, c.remote_id) for c in changes] == [
        ("edited", 2, 7, 11),
        ("added", 4, 4, 12),
    ]
    assert [(r.rule, r.frame) for r in rejections] == [("allow_deletions", 3)]  # frame 3's value cleared, refused


# --- keypoints --------------------------------------------------------------------------------


def _keypoint_task(sample, kp):
    return TaskRecord(
        task_id=1,
        project_id=None,
        job_ids=[1],
        frames=[FrameRef(sample.id)],
        labels=[],
        attributes=[],
        uploaded=[UploadedObject("kps", kp.id, sample.id, "shape", 10)],
    )


def test_keypoints_whose_point_count_changes_lose_their_per_point_confidence():
    kp = Keypoint(label="person", points=[(0.1, 0.1), (NAN, NAN), (0.3, 0.3)], confidence=[0.9, 0.1, 0.8])
    sample = Sample(filepath="/0.jpg", media_type="image", fields={"kps": Keypoints([kp])})
    schema = build_label_schema(label_field="kps", label_type="keypoints", field_schema={"kps": FieldKind.KEYPOINTS})
    task = _keypoint_task(sample, kp)
    moved = kp.replace(points=[(0.2, 0.2), (NAN, NAN), (0.3, 0.3)], confidence=None)
    (change,), _ = merge_task(schema, task, {sample.id: sample}, [ImportedLabel("kps", sample.id, moved, kp.id)])
    assert change.label.points == moved.points and change.label.confidence == kp.confidence  # same count: kept
    added = kp.replace(points=[(0.1, 0.1), (0.2, 0.2), (0.3, 0.3), (0.4, 0.4)], confidence=None)
    (change,), _ = merge_task(schema, task, {sample.id: sample}, [ImportedLabel("kps", sample.id, added, kp.id)])
    assert change.label.points == added.points and change.label.confidence is None


def test_unmoved_keypoints_with_missing_points_are_unchanged():
    kp = Keypoint(label="person", points=[(0.1, 0.1), (NAN, NAN)])
    sample = Sample(filepath="/0.jpg", media_type="image", fields={"kps": Keypoints([kp])})
    schema = build_label_schema(label_field="kps", label_type="keypoints", field_schema={"kps": FieldKind.KEYPOINTS})
    same = kp.replace(points=[(0.1, 0.1), (float("nan"), float("nan"))])  # other NaN objects, same points
    changes, rejections = merge_task(
        schema, _keypoint_task(sample, kp), {sample.id: sample}, [ImportedLabel("kps", sample.id, same, kp.id)]
    )
    assert changes == [] and rejections == []


# --- label tags --------------------------------------------------------------------------------


def test_an_edited_label_keeps_its_tags_which_the_tool_never_holds():
    from annoflow.domain.labels import Detection, Detections

    box = Detection(
        label="cat",
        bounding_box=(0.1, 0.1, 0.2, 0.2),
        confidence=0.7,
        attributes={"note": "a"},
        tags=("reviewed", "hard"),
    )
    sample = Sample(filepath="/0.jpg", media_type="image", fields={"gt": Detections([box])})
    schema = build_label_schema(
        label_field="gt",
        label_type="detections",
        classes=["cat", "dog"],
        attributes={"note": {"type": "text"}},
        field_schema={"gt": FieldKind.DETECTIONS},
    )
    task = TaskRecord(
        task_id=1,
        project_id=None,
        job_ids=[1],
        frames=[FrameRef(sample.id)],
        labels=[],
        attributes=[],
        uploaded=[UploadedObject("gt", box.id, sample.id, "shape", 10)],
    )
    # what the tool gives back holds no tags and no confidence
    edited = Detection(label="dog", bounding_box=(0.3, 0.3, 0.2, 0.2), attributes={"note": "b"}, id=box.id)
    (change,), rejections = merge_task(
        schema, task, {sample.id: sample}, [ImportedLabel("gt", sample.id, edited, box.id)]
    )
    assert rejections == [] and change.action is MergeAction.EDITED
    assert change.label == edited.replace(confidence=0.7, tags=("reviewed", "hard"))
    unedited = Detection(label="cat", bounding_box=box.bounding_box, attributes={"note": "a"}, id=box.id)
    assert merge_task(schema, task, {sample.id: sample}, [ImportedLabel("gt", sample.id, unedited, box.id)]) == ([], [])

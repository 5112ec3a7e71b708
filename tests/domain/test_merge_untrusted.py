"""The merge does not trust the backend's claims: a claim holds for a label of the imported label's own
sample only, and what an unread object names is kept as it is."""

from __future__ import annotations

from annoflow.domain.fields import FieldKind
from annoflow.domain.ids import derived_id
from annoflow.domain.label_schema import build_label_schema
from annoflow.domain.labels import Detection, Detections
from annoflow.domain.merge import ImportedLabel, ImportedValue, merge_task
from annoflow.domain.run_records import FrameRef, MergeAction, Rejection, TaskRecord, UploadedObject
from annoflow.domain.samples import Sample


def _boxes():
    """Two samples with one box each, uploaded as CVAT objects 1 and 2."""
    a = Detection(label="cat", bounding_box=(0.1, 0.1, 0.2, 0.2))
    b = Detection(label="dog", bounding_box=(0.5, 0.5, 0.2, 0.2))
    samples = [
        Sample(filepath=f"/{i}.jpg", media_type="image", fields={"gt": Detections([box])})
        for i, box in enumerate((a, b))
    ]
    task = TaskRecord(
        task_id=1,
        project_id=None,
        job_ids=[1],
        frames=[FrameRef(s.id) for s in samples],
        uploaded=[
            UploadedObject("gt", a.id, samples[0].id, "shape", 1),
            UploadedObject("gt", b.id, samples[1].id, "shape", 2),
        ],
        labels=[],
        attributes=[],
    )
    schema = build_label_schema(label_field="gt", field_schema={"gt": FieldKind.DETECTIONS}, classes=["cat", "dog"])
    return schema, task, {s.id: s for s in samples}, a, b


def _actions(changes):
    return sorted((c.action.value, c.label_id) for c in changes)


def test_a_label_id_of_another_sample_is_no_claim_and_the_cvat_id_decides():
    schema, task, samples, a, b = _boxes()
    moved = Detection(label="cat", bounding_box=(0.3, 0.3, 0.2, 0.2), id=b.id)  # on a's sample, claiming b
    changes, rejections = merge_task(
        schema,
        task,
        samples,
        [
            ImportedLabel("gt", task.frames[0].sample_id, moved, b.id, (1,)),  # a's CVAT object
            ImportedLabel("gt", task.frames[1].sample_id, b, b.id, (2,)),
        ],
    )
    assert rejections == []
    (edit,) = changes
    assert (edit.action, edit.label_id, edit.sample_id) == (MergeAction.EDITED, a.id, task.frames[0].sample_id)
    assert edit.label.bounding_box == (0.3, 0.3, 0.2, 0.2)


def test_a_cvat_id_of_another_sample_is_no_claim_either():
    schema, task, samples, a, b = _boxes()
    stray = Detection(label="dog", bounding_box=(0.3, 0.3, 0.2, 0.2))
    changes, _ = merge_task(
        schema,
        task,
        samples,
        [
            ImportedLabel("gt", task.frames[0].sample_id, a, a.id, (1,)),
            ImportedLabel("gt", task.frames[0].sample_id, stray, None, (2,)),  # b's CVAT id, on a's sample
        ],
    )
    # the stray is new on a's sample; b, which nothing of its own sample claims, was deleted in CVAT
    assert _actions(changes) == sorted([("added", changes[0].label_id), ("deleted", b.id)])
    assert changes[0].sample_id == task.frames[0].sample_id


def test_a_label_an_unread_object_names_is_not_deleted():
    schema, task, samples, a, b = _boxes()
    unread = [
        Rejection(task.frames[1].sample_id, "gt", "malformed", "task 1, job 1, frame 1: shape 2: ...", b.id, None, 2)
    ]
    changes, rejections = merge_task(
        schema, task, samples, [ImportedLabel("gt", task.frames[0].sample_id, a, a.id, (1,))], unread=unread
    )
    assert changes == [] and rejections == []
    changes, _ = merge_task(schema, task, samples, [ImportedLabel("gt", task.frames[0].sample_id, a, a.id, (1,))])
    assert _actions(changes) == [("deleted", b.id)]  # without the refusal, b's object is gone: deleted


def _scalars(*values):
    samples = [
        Sample(filepath=f"/{i}.jpg", media_type="image", fields={"count": v, "note": "x"}) for i, v in enumerate(values)
    ]
    task = TaskRecord(
        task_id=1,
        project_id=None,
        job_ids=[1],
        frames=[FrameRef(s.id) for s in samples],
        uploaded=[],
        labels=[],
        attributes=[],
    )
    schema = build_label_schema(
        label_schema={"count": {"type": "scalar"}, "note": {"type": "scalar"}},
        field_schema={"count": FieldKind.INT, "note": FieldKind.STR},
    )
    return schema, task, {s.id: s for s in samples}


def test_a_scalar_value_on_a_sample_with_an_unread_object_of_its_field_is_kept():
    schema, task, samples = _scalars(1, 2)
    first, second = task.sample_ids
    values = [ImportedValue("note", first, "x"), ImportedValue("note", second, "x")]  # CVAT holds no count
    unread = [Rejection(first, "count", "malformed", "task 1, job 1, frame 0: tag 9: ...", None, None, 9)]
    changes, _ = merge_task(schema, task, samples, [], values=values, unread=unread)
    assert [(c.action.value, c.sample_id, c.field) for c in changes] == [("deleted", second, "count")]


def test_a_refusal_naming_no_field_keeps_every_scalar_of_its_sample():
    schema, task, samples = _scalars(1, 2)
    first, second = task.sample_ids
    unread = [Rejection(first, "", "max_objects_per_frame", "task 1, job 1, frame 0: 10,001 objects ...")]
    changes, _ = merge_task(schema, task, samples, [], values=[ImportedValue("note", second, "y")], unread=unread)
    # the first sample keeps both values; the second's count is gone and its note changed
    assert sorted((c.action.value, c.sample_id, c.field) for c in changes) == sorted(
        [("deleted", second, "count"), ("edited", second, "note")]
    )


def test_a_label_id_claimed_twice_keeps_its_first_claimant_and_the_other_is_new():
    schema, task, samples, a, b = _boxes()
    first = a.replace(bounding_box=(0.2, 0.1, 0.2, 0.2))
    second = a.replace(bounding_box=(0.3, 0.1, 0.2, 0.2))
    sample = task.frames[0].sample_id
    changes, rejections = merge_task(
        schema,
        task,
        samples,
        [
            ImportedLabel("gt", sample, first, a.id, (1,)),
            ImportedLabel("gt", sample, second, a.id, (3,)),  # the same provenance on another object
            ImportedLabel("gt", task.frames[1].sample_id, b, b.id, (2,)),
        ],
    )
    assert rejections == []
    edit, added = changes
    assert (edit.action, edit.label_id, edit.label.bounding_box) == (MergeAction.EDITED, a.id, (0.2, 0.1, 0.2, 0.2))
    assert added.action is MergeAction.ADDED and added.label_id != a.id and added.remote_id == 3


def test_a_label_an_earlier_load_made_from_an_object_is_that_objects_label_again():
    schema, task, samples, a, b = _boxes()
    sample = task.frames[0].sample_id
    # an earlier load added the object 7 as a label whose id it derived; its provenance is lost in the tool
    made = Detection(label="dog", bounding_box=(0.7, 0.7, 0.1, 0.1), id=derived_id("seed", "gt", 7))
    samples[sample] = Sample(filepath="/0.jpg", media_type="image", fields={"gt": Detections([a, made])}, id=sample)
    moved = made.replace(bounding_box=(0.6, 0.7, 0.1, 0.1))
    changes, rejections = merge_task(
        schema,
        task,
        samples,
        [
            ImportedLabel("gt", sample, a, a.id, (1,)),
            ImportedLabel("gt", task.frames[1].sample_id, b, b.id, (2,)),
            ImportedLabel(
                "gt", sample, moved.replace(id=Detection(label="dog", bounding_box=(0, 0, 1, 1)).id), None, (7,)
            ),
        ],
        id_seed="seed",
    )
    assert rejections == []
    (edit,) = changes  # an edit of that label, not a second label from the same object
    assert (edit.action, edit.label_id, edit.label.bounding_box) == (MergeAction.EDITED, made.id, (0.6, 0.7, 0.1, 0.1))


def test_an_uploaded_label_the_dataset_no_longer_holds_is_written_again_into_another_field_under_its_id():
    schema, task, samples, a, b = _boxes()
    sample = task.frames[0].sample_id
    samples[sample] = Sample(filepath="/0.jpg", media_type="image", fields={"gt": Detections([])}, id=sample)
    changes, rejections = merge_task(
        schema,
        task,
        samples,
        [
            ImportedLabel("gt", sample, a, a.id, (1,)),
            ImportedLabel("gt", task.frames[1].sample_id, b, b.id, (2,)),
        ],
        dest_field={"gt": "gt2"},
    )
    assert rejections == []
    assert [(c.action, c.field, c.label_id, c.source_field) for c in changes] == [
        (MergeAction.ADDED, "gt2", a.id, "gt"),
        (MergeAction.ADDED, "gt2", b.id, "gt"),
    ]


def test_a_label_id_of_another_frame_of_the_video_is_no_claim():
    a = Detection(label="cat", bounding_box=(0.1, 0.1, 0.2, 0.2))
    video = Sample(filepath="/v.mp4", media_type="video", frames={1: {"dets": Detections([a])}, 2: {}})
    task = TaskRecord(
        task_id=1,
        project_id=None,
        job_ids=[1],
        frames=[FrameRef(video.id, 1), FrameRef(video.id, 2)],
        uploaded=[UploadedObject("frames.dets", a.id, video.id, "shape", 1, 1)],
        labels=[],
        attributes=[],
    )
    schema = build_label_schema(
        label_field="frames.dets",
        label_type="detections",
        media_type="video",
        field_schema={"frames.dets": FieldKind.DETECTIONS},
        classes=["cat"],
    )
    changes, rejections = merge_task(
        schema, task, {video.id: video}, [ImportedLabel("frames.dets", video.id, a, a.id, (1,), 2)]
    )  # a, but on frame 2
    assert rejections == []
    assert sorted((c.action.value, c.frame, c.label_id == a.id) for c in changes) == [
        ("added", 2, False),
        ("deleted", 1, True),
    ]

"""The merge does not trust the backend's claims: a claim holds for a label of the imported label's own
sample only, and what an unread object names is kept as it is."""

from __future__ import annotations

from annoflow.domain.fields import FieldKind
from annoflow.domain.label_schema import build_label_schema
from annoflow.domain.labels import Detection, Detections
from annoflow.domain.merge import ImportedLabel, ImportedValue, merge_task
from annoflow.domain.run_records import FrameRef, MergeAction, Rejection, TaskRecord, UploadedObject
from annoflow.domain.samples import Sample


def _boxes():
    """Two samples with one box each, uploaded as CVAT objects 1 and 2."""
    a = Detection(label="cat", bounding_box=(0.1, 0.1, 0.2, 0.2))
    b = Detection(label="dog", bounding_box=(0.5, 0.5, 0.2, 0.2))
    samples = [Sample(filepath=f"/{i}.jpg", media_type="image", fields={"gt": Detections([box])})
               for i, box in enumerate((a, b))]
    task = TaskRecord(task_id=1, project_id=None, job_ids=[1], frames=[FrameRef(s.id) for s in samples],
                      uploaded=[UploadedObject("gt", a.id, samples[0].id, "shape", 1),
                                UploadedObject("gt", b.id, samples[1].id, "shape", 2)],
                      labels=[], attributes=[])
    schema = build_label_schema(label_field="gt", field_schema={"gt": FieldKind.DETECTIONS}, classes=["cat", "dog"])
    return schema, task, {s.id: s for s in samples}, a, b


def _actions(changes):
    return sorted((c.action.value, c.label_id) for c in changes)


def test_a_label_id_of_another_sample_is_no_claim_and_the_cvat_id_decides():
    schema, task, samples, a, b = _boxes()
    moved = Detection(label="cat", bounding_box=(0.3, 0.3, 0.2, 0.2), id=b.id)  # on a's sample, claiming b
    changes, rejections = merge_task(schema, task, samples, [
        ImportedLabel("gt", task.frames[0].sample_id, moved, b.id, (1,)),  # a's CVAT object
        ImportedLabel("gt", task.frames[1].sample_id, b, b.id, (2,)),
    ])
    assert rejections == []
    (edit,) = changes
    assert (edit.action, edit.label_id, edit.sample_id) == (MergeAction.EDITED, a.id, task.frames[0].sample_id)
    assert edit.label.bounding_box == (0.3, 0.3, 0.2, 0.2)


def test_a_cvat_id_of_another_sample_is_no_claim_either():
    schema, task, samples, a, b = _boxes()
    stray = Detection(label="dog", bounding_box=(0.3, 0.3, 0.2, 0.2))
    changes, _ = merge_task(schema, task, samples, [
        ImportedLabel("gt", task.frames[0].sample_id, a, a.id, (1,)),
        ImportedLabel("gt", task.frames[0].sample_id, stray, None, (2,)),  # b's CVAT id, on a's sample
    ])
    # the stray is new on a's sample; b, which nothing of its own sample claims, was deleted in CVAT
    assert _actions(changes) == sorted([("added", changes[0].label_id), ("deleted", b.id)])
    assert changes[0].sample_id == task.frames[0].sample_id


def test_a_label_an_unread_object_names_is_not_deleted():
    schema, task, samples, a, b = _boxes()
    unread = [Rejection(task.frames[1].sample_id, "gt", "malformed", "task 1, job 1, frame 1: shape 2: ...", b.id,
                        None, 2)]
    changes, rejections = merge_task(schema, task, samples, [ImportedLabel("gt", task.frames[0].sample_id, a, a.id, (1,))],
                                     unread=unread)
    assert changes == [] and rejections == []
    changes, _ = merge_task(schema, task, samples, [ImportedLabel("gt", task.frames[0].sample_id, a, a.id, (1,))])
    assert _actions(changes) == [("deleted", b.id)]  # without the refusal, b's object is gone: deleted


def _scalars(*values):
    samples = [Sample(filepath=f"/{i}.jpg", media_type="image", fields={"count": v, "note": "x"})
               for i, v in enumerate(values)]
    task = TaskRecord(task_id=1, project_id=None, job_ids=[1], frames=[FrameRef(s.id) for s in samples],
                      uploaded=[], labels=[], attributes=[])
    schema = build_label_schema(label_schema={"count": {"type": "scalar"}, "note": {"type": "scalar"}},
                                field_schema={"count": FieldKind.INT, "note": FieldKind.STR})
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
        [("deleted", second, "count"), ("edited", second, "note")])

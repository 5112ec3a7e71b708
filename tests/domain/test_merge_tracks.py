"""The merge policy for video tracks: index edits (allow_index_edits), keyframes, and a track's labels
found by their frame and index when the tool re-created the track."""

from __future__ import annotations

import attrs

from annoflow.domain.fields import FieldKind
from annoflow.domain.label_schema import build_label_schema
from annoflow.domain.labels import Detection, Detections
from annoflow.domain.merge import ImportedLabel, merge_task
from annoflow.domain.run_records import FrameRef, TaskRecord, UploadedObject
from annoflow.domain.samples import Sample

FIELD = "frames.dets"


def _video(labels_by_frame):
    return Sample(
        filepath="/v.mp4",
        media_type="video",
        frames={n: {"dets": Detections(labels)} for n, labels in labels_by_frame.items()},
    )


def _box(index, x=0.1, keyframe=None):
    return Detection(label="car", bounding_box=(x, 0.1, 0.2, 0.2), index=index, keyframe=keyframe)


def _task(video, track_ids):
    """Each label uploaded as part of CVAT track ``track_ids[index]``."""
    rows = [
        UploadedObject(FIELD, label.id, video.id, "track", track_ids[label.index], n)
        for n, frame in video.frames.items()
        for label in frame["dets"].detections
    ]
    return TaskRecord(
        task_id=1,
        project_id=None,
        job_ids=[1],
        frames=[FrameRef(video.id, n) for n in video.frames],
        uploaded=rows,
        labels=[],
        attributes=[],
    )


def _schema(**flags):
    return build_label_schema(
        label_field=FIELD,
        label_type="detections",
        media_type="video",
        field_schema={FIELD: FieldKind.DETECTIONS},
        **flags,
    )


def _read(video, n, label, remote_id, **changes):
    return ImportedLabel(FIELD, video.id, attrs.evolve(label, **changes), label.id, (remote_id,), n)


def test_an_index_edit_applies_or_is_refused_with_the_rest_of_the_edit_kept():
    a = _box(1)
    video = _video({1: [a]})
    task = _task(video, {1: 50})
    (change,), rejections = merge_task(_schema(), task, {video.id: video}, [_read(video, 1, a, 50, index=3)])
    assert change.label.index == 3 and rejections == []
    (change,), (rejection,) = merge_task(
        _schema(allow_index_edits=False),
        task,
        {video.id: video},
        [_read(video, 1, a, 50, index=3, bounding_box=(0.3, 0.1, 0.2, 0.2))],
    )
    assert change.label.index == 1 and change.label.bounding_box == (0.3, 0.1, 0.2, 0.2)
    assert (rejection.rule, rejection.frame, rejection.attempted) == (
        "allow_index_edits",
        1,
        "move it from track 1 to track 3",
    )


def test_keyframe_follows_the_tool_only_on_a_label_otherwise_changed():
    a, b = _box(1, keyframe=False), _box(1, keyframe=None)
    video = _video({1: [a], 2: [b]})
    task = _task(video, {1: 50})
    # the tool made frame 1 a keyframe (a segment's first frame) and nothing else changed: no edit
    assert merge_task(
        _schema(),
        task,
        {video.id: video},
        [_read(video, 1, a, 50, keyframe=True), _read(video, 2, b, 50, keyframe=False)],
    ) == ([], [])
    (change,), _ = merge_task(
        _schema(),
        task,
        {video.id: video},
        [_read(video, 1, a, 50, keyframe=True, bounding_box=(0.3, 0.1, 0.2, 0.2)), _read(video, 2, b, 50)],
    )
    assert change.label.keyframe is True


def test_a_recreated_tracks_labels_without_provenance_continue_the_labels_of_their_frame_and_index():
    a1, a2, b2 = _box(1), _box(1), _box(2, x=0.5)
    video = _video({1: [a1], 2: [a2, b2]})
    task = _task(video, {1: 50, 2: 51})
    # track 50 re-created as 60 (no CVAT id known): frame 1 keeps its label_id, frame 2 (interpolated) has none
    read = [
        _read(video, 1, a1, 60),
        ImportedLabel(FIELD, video.id, attrs.evolve(a2, id="f" * 24), None, (60,), 2),
        _read(video, 2, b2, 51),
    ]
    assert merge_task(_schema(), task, {video.id: video}, read) == ([], [])
    # the frame's label of another index is never taken
    stray = ImportedLabel(FIELD, video.id, attrs.evolve(a2, id="f" * 24, index=7), None, (61,), 2)
    changes, _ = merge_task(
        _schema(), task, {video.id: video}, [_read(video, 1, a1, 60), stray, _read(video, 2, b2, 51)]
    )
    assert sorted((c.action.value, c.label_id == a2.id) for c in changes) == [("added", False), ("deleted", True)]


def test_with_index_edits_refused_a_recreated_tracks_labels_are_found_at_the_index_it_had():
    a1, a2 = _box(1), _box(1)
    video = _video({1: [a1], 2: [a2]})
    task = _task(video, {1: 50})
    # the tool's track 60 took index 3 (the later part of a split); its frame 2 has no provenance
    read = [
        _read(video, 1, a1, 60, index=3),
        ImportedLabel(FIELD, video.id, attrs.evolve(a2, id="f" * 24, index=3), None, (60,), 2),
    ]
    changes, rejections = merge_task(_schema(allow_index_edits=False), task, {video.id: video}, read)
    assert changes == [] and [(r.rule, r.frame) for r in rejections] == [
        ("allow_index_edits", 1),
        ("allow_index_edits", 2),
    ]
    changes, _ = merge_task(_schema(), task, {video.id: video}, read)  # allowed: frame 2 is a new label of track 3
    assert sorted((c.action.value, c.frame) for c in changes) == [("added", 2), ("deleted", 2), ("edited", 1)]

"""Video datasets against the simulator: frame fields up and back, the per-frame frame map."""

from __future__ import annotations

import attrs
import numpy as np
import pytest

from annoflow.adapters.cvat import RetryPolicy
from annoflow.adapters.cvat_backend import CVATBackend
from annoflow.adapters.cvat_format.interpolation import interpolate
from annoflow.adapters.cvat_sim.annotator import ScriptedAnnotator
from annoflow.adapters.label_stores import InMemoryLabelStore
from annoflow.adapters.quickstart import generate_quickstart_video
from annoflow.application.audit import change_lines
from annoflow.application.dataset import Dataset
from annoflow.application.runs.registry import RunRegistry
from annoflow.domain.changes import SetValue
from annoflow.domain.label_schema import LabelSchemaError
from annoflow.domain.labels import Detection, Detections, Keypoint, Keypoints, Polyline, Polylines
from annoflow.domain.task_plan import TaskPlanError
from tests.cvat_backend.conftest import PASSWORD, USER

FRAMES = 8


@pytest.fixture
def videos(tmp_path):
    store = InMemoryLabelStore("quickstart-video")
    store.add_samples(
        generate_quickstart_video(
            tmp_path / "media", num_samples=2, num_frames=FRAMES, size=(64, 48), tracks_per_video=(2, 2)
        )
    )
    return Dataset(
        store,
        RunRegistry(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}),
        {
            "cvat": CVATBackend(
                interactive=False, client_options={"poll_interval": 0.01, "retry": RetryPolicy(backoff=0.001)}
            )
        },
    )


def test_a_video_task_maps_every_frame(videos, login):
    results = videos.take(1, seed=1).annotate("v0", label_field="frames.detections", **login)
    (task_id,) = results.task_ids
    sample = videos.take(1, seed=1).first()
    assert results.frame_id_map[task_id] == {
        index: {"sample_id": sample.id, "frame_number": index + 1} for index in range(FRAMES)
    }


def test_a_sample_tag_on_any_frame_of_a_video_loads_onto_the_video(videos, login, cvat_sim):
    view = videos.take(1, seed=1)
    results = view.annotate("cls", label_field="kind", label_type="classification", classes=["day", "night"], **login)
    (task_id,) = results.task_ids
    with ScriptedAnnotator(cvat_sim.url, USER, PASSWORD) as annotator:
        annotator.add_tag(task_id, "day", 7)
    videos.load_annotations("cls", **login)
    assert view.first().fields["kind"].label == "day"
    videos.load_annotations("cls", **login)  # and again: nothing changes, nothing crashes
    assert videos.last_load.summary.unchanged_tasks == 1


def test_a_video_classification_holds_one_label_whatever_frames_its_tags_are_on(videos, login, cvat_sim):
    """Tags of one class on several frames are one label of the video; tags of two classes are refused
    (one_label) and the video keeps its label, as a scalar field keeps its value."""
    view = videos.take(1, seed=1)
    results = view.annotate("cls", label_field="kind", label_type="classification", classes=["day", "night"], **login)
    (task_id,) = results.task_ids
    with ScriptedAnnotator(cvat_sim.url, USER, PASSWORD) as annotator:
        annotator.add_tag(task_id, "day", 1)
        annotator.add_tag(task_id, "day", 6)
    videos.load_annotations("cls", **login)
    assert videos.last_load.summary.added == 1 and view.first().fields["kind"].label == "day"
    day = view.first().fields["kind"]
    with ScriptedAnnotator(cvat_sim.url, USER, PASSWORD) as annotator:
        annotator.add_tag(task_id, "night", 4)
    videos.load_annotations("cls", **login)
    summary = videos.last_load.summary
    assert (summary.added, summary.edited, summary.deleted, summary.rejected) == (0, 0, 0, 1)
    assert view.first().fields["kind"] == day
    (refusal,) = _rejected(videos, "cls")
    assert refusal.rule == "one_label" and "a classification field holds one label per sample" in refusal.attempted
    videos.load_annotations("cls", **login)
    assert videos.last_load.summary.unchanged_tasks == 1


def _frame_labels(sample, field="detections"):
    return {(number, label.id): label for number, frame in sample.frames.items() for label in frame[field].detections}


def _without_index(dataset, view):
    """Frame labels that are no track: their index taken out."""
    sample = view.first()
    dataset.store.apply(
        [
            SetValue(
                sample.id,
                "frames.detections",
                Detections([attrs.evolve(d, index=None) for d in frame["detections"].detections]),
                number,
            )
            for number, frame in sample.frames.items()
        ]
    )


def test_frame_labels_without_index_come_back_per_frame_exactly_once(videos, login, cvat_sim):
    view = videos.take(1, seed=1)
    _without_index(videos, view)
    results = view.annotate("plain", label_field="frames.detections", attributes=False, **login)
    (task_id,) = results.task_ids
    before = _frame_labels(view.first())
    with ScriptedAnnotator(cvat_sim.url, USER, PASSWORD) as annotator:
        stored = annotator.annotations(task_id)
        assert len(stored["shapes"]) == len(before) == 2 * FRAMES  # labels without index: shapes
        annotator.add_shape(task_id, "vehicle", 5, "rectangle", [2.0, 2.0, 20.0, 10.0])
        first = min((s for s in stored["shapes"] if s["frame"] == 3), key=lambda s: s["id"])
        annotator.move_shape(task_id, first["id"], [1.0, 1.0, 17.0, 9.0])
        annotator.delete(task_id, max((s for s in stored["shapes"] if s["frame"] == 0), key=lambda s: s["id"])["id"])
    videos.load_annotations("plain", **login)
    summary = videos.last_load.summary
    assert (summary.added, summary.edited, summary.deleted) == (1, 1, 1)
    after = view.first()
    assert len(after.frames[6]["detections"].detections) == 3  # task frame 5 is frame 6 of the video
    assert len(after.frames[1]["detections"].detections) == 1
    moved = [
        label
        for label in after.frames[4]["detections"].detections
        if label.bounding_box == (1 / 64, 1 / 48, 16 / 64, 8 / 48)
    ]
    assert len(moved) == 1 and moved[0].id in {i for (_, i) in before}
    unchanged = {key: label for key, label in _frame_labels(after).items() if key[0] not in (1, 4, 6)}
    assert all(before[key] == label for key, label in unchanged.items())
    videos.load_annotations("plain", **login)
    assert videos.last_load.summary.unchanged_tasks == 1 and _frame_labels(view.first()) == _frame_labels(after)


def _tracks(sample):
    """index -> {frame number: label} of a video's frames.detections."""
    found: dict[int, dict[int, object]] = {}
    for number, frame in sample.frames.items():
        for label in frame["detections"].detections:
            found.setdefault(label.index, {})[number] = label
    return found


def _set_frames(dataset, sample, keep):
    """Rewrite a video's frames.detections: ``keep(number, label)`` returns the label to keep, or None."""
    changes = []
    for number, frame in sample.frames.items():
        labels = [kept for label in frame["detections"].detections if (kept := keep(number, label)) is not None]
        changes.append(SetValue(sample.id, "frames.detections", Detections(labels), number))
    dataset.store.apply(changes)


def test_labels_sharing_an_index_go_up_as_tracks_and_come_back_unchanged(videos, login, cvat_sim):
    view = videos.take(1, seed=1)
    before = _tracks(view.first())
    results = view.annotate("tracks", label_field="frames.detections", attributes=False, **login)
    (task_id,) = results.task_ids
    with ScriptedAnnotator(cvat_sim.url, USER, PASSWORD) as annotator:
        stored = annotator.annotations(task_id)
    assert stored["shapes"] == [] and len(stored["tracks"]) == len(before) == 2
    for track in stored["tracks"]:  # every labelled frame is a keyframe; the object is on every frame: no outside
        assert [s["frame"] for s in track["shapes"]] == list(range(FRAMES))
        assert not any(s["outside"] for s in track["shapes"])
    videos.load_annotations("tracks", **login)
    summary = videos.last_load.summary
    assert (summary.added, summary.edited, summary.deleted, summary.rejected) == (0, 0, 0, 0)
    assert _tracks(view.first()) == before


def test_a_track_with_gaps_is_closed_by_outside_shapes_and_comes_back_on_its_frames(videos, login, cvat_sim):
    view = videos.take(1, seed=1)
    sample = view.first()
    # track 1 leaves on video frames 3 and 4 and comes back; track 2 is seen on frame 2 only
    _set_frames(
        videos,
        sample,
        lambda n, label: None if (label.index == 1 and n in (3, 4)) or (label.index == 2 and n != 2) else label,
    )
    before = _tracks(view.first())
    results = view.annotate("gaps", label_field="frames.detections", attributes=False, **login)
    (task_id,) = results.task_ids
    with ScriptedAnnotator(cvat_sim.url, USER, PASSWORD) as annotator:
        tracks = sorted(annotator.annotations(task_id)["tracks"], key=lambda t: t["frame"])
    shapes = [[(s["frame"], s["outside"]) for s in t["shapes"]] for t in tracks]
    assert shapes == [
        [(0, False), (1, False), (2, True), (4, False), (5, False), (6, False), (7, False)],
        [(1, False), (2, True)],
    ]
    videos.load_annotations("gaps", **login)
    summary = videos.last_load.summary
    assert (summary.added, summary.edited, summary.deleted) == (0, 0, 0)
    assert _tracks(view.first()) == before


def test_keyframes_only_go_up_and_frames_between_come_back_interpolated_as_cvat_does(videos, login, cvat_sim):
    view = videos.take(1, seed=1)
    keyframes = {1, 4, 8}
    _set_frames(videos, view.first(), lambda n, label: attrs.evolve(label, keyframe=n in keyframes))
    before = _tracks(view.first())
    results = view.annotate("keys", label_field="frames.detections", attributes=False, **login)
    (task_id,) = results.task_ids
    with ScriptedAnnotator(cvat_sim.url, USER, PASSWORD) as annotator:
        track = min(annotator.annotations(task_id)["tracks"], key=lambda t: t["id"])
        assert [s["frame"] for s in track["shapes"]] == [0, 3, 7]
        moved = next(s for s in track["shapes"] if s["frame"] == 3)
        points = [1.0, 2.0, 21.0, 12.0]
        annotator.client.patch(
            f"/api/tasks/{task_id}/annotations",
            params={"action": "update"},
            json={
                "version": 0,
                "tags": [],
                "shapes": [],
                "tracks": [
                    {**track, "shapes": [{**s, "points": points} if s is moved else s for s in track["shapes"]]}
                ],
            },
        ).raise_for_status()
    videos.load_annotations("keys", **login)
    after = _tracks(view.first())
    index = next(i for i, frames in before.items() if frames[4].bounding_box != after[i][4].bounding_box)
    first = [v * s for v, s in zip(before[index][1].bounding_box, (64, 48, 64, 48), strict=True)]
    first = [first[0], first[1], first[0] + first[2], first[1] + first[3]]
    for number in (2, 3):  # task frames 1, 2: between the keyframes on task frames 0 and 3, as CVAT computes them
        offset = (number - 1) / 3
        expected = np.asarray(first) + np.subtract(points, first) * offset
        x1, y1, x2, y2 = expected.tolist()
        assert after[index][number].bounding_box == pytest.approx(
            (x1 / 64, y1 / 48, (x2 - x1) / 64, (y2 - y1) / 48), abs=1e-12
        )
        assert after[index][number].keyframe is False and after[index][number].id == before[index][number].id
    assert after[index][4].bounding_box == pytest.approx((1 / 64, 2 / 48, 20 / 64, 10 / 48))
    assert after[index][1] == before[index][1] and after[index][8] == before[index][8]
    other = next(i for i in before if i != index)
    assert after[other] == before[other]
    videos.load_annotations("keys", **login)
    assert videos.last_load.summary.unchanged_tasks == 1 and _tracks(view.first()) == after


@pytest.mark.parametrize(
    "options, message",
    [
        (
            {"frame_start": FRAMES},
            f"frame_start {FRAMES} selects no frame of .*video_00.\\.mp4: it has {FRAMES} frames",
        ),
        ({"frame_start": [0, FRAMES + 3]}, f"frame_start {FRAMES + 3} selects no frame"),
        ({"frame_step": 2}, "holds tracks \\(labels with an index\\), which cannot go up with frame_step 2"),
    ],
)
def test_a_frame_range_is_checked_against_each_video_before_anything_is_recorded(
    videos, login, cvat_sim, options, message
):
    with pytest.raises(TaskPlanError, match=message):
        videos.annotate("range", label_field="frames.detections", **options, **login)
    assert videos.list_annotation_runs() == [] and cvat_sim.state.tasks == {}


def test_an_index_shared_by_two_labels_on_one_frame_is_refused_before_anything_is_recorded(videos, login, cvat_sim):
    sample = videos.take(1, seed=1).first()
    _set_frames(videos, sample, lambda n, label: attrs.evolve(label, index=1) if n == 3 else label)
    with pytest.raises(
        TaskPlanError,
        match=f"{sample.filepath}: frame 3 of frames.detections has several labels "
        "with index 1: an index is one object, on a frame once",
    ):
        videos.annotate("shared", label_field="frames.detections", **login)
    assert videos.list_annotation_runs() == [] and cvat_sim.state.tasks == {}


def test_a_track_with_a_keyframe_past_the_videos_end_is_refused_before_anything_is_recorded(videos, login, cvat_sim):
    sample = videos.take(1, seed=1).first()
    last = sample.frames[FRAMES]["detections"].detections[0]
    videos.store.apply(
        [SetValue(sample.id, "frames.detections", Detections([attrs.evolve(last, keyframe=True)]), FRAMES + 2)]
    )
    with pytest.raises(
        TaskPlanError,
        match=f"{sample.filepath}: frames.detections has labels on frame {FRAMES + 2}, "
        f"past the video's {FRAMES} frames",
    ):
        videos.annotate("past", label_field="frames.detections", **login)
    assert videos.list_annotation_runs() == [] and cvat_sim.state.tasks == {} and cvat_sim.state.projects == {}


def test_a_frame_field_on_an_image_dataset_is_refused_before_anything_is_recorded(dataset, login, cvat_sim):
    with pytest.raises(LabelSchemaError, match="frame fields need a video dataset"):
        dataset.annotate("frames", label_field="frames.detections", label_type="detections", classes=["car"], **login)
    assert dataset.list_annotation_runs() == [] and cvat_sim.state.tasks == {}


def test_a_subsampled_task_maps_its_frames_back_to_the_video_frames_exactly(videos, login, cvat_sim):
    view = videos.take(1, seed=1)
    _without_index(videos, view)  # labels without index may go up with a step
    before = _frame_labels(view.first())
    results = view.annotate(
        "sub", label_field="frames.detections", attributes=False, frame_start=1, frame_stop=6, frame_step=2, **login
    )
    (task_id,) = results.task_ids
    sample_id = view.first().id
    # CVAT's frames 1, 3, 5 (0-based) are the video's frames 2, 4, 6
    assert results.frame_id_map[task_id] == {
        0: {"sample_id": sample_id, "frame_number": 2},
        1: {"sample_id": sample_id, "frame_number": 4},
        2: {"sample_id": sample_id, "frame_number": 6},
    }
    with ScriptedAnnotator(cvat_sim.url, USER, PASSWORD) as annotator:
        assert sorted({s["frame"] for s in annotator.annotations(task_id)["shapes"]}) == [0, 1, 2]
        annotator.add_shape(task_id, "vehicle", 2, "rectangle", [2.0, 2.0, 20.0, 10.0])
    videos.load_annotations("sub", **login)
    assert (videos.last_load.summary.added, videos.last_load.summary.deleted) == (1, 0)
    after = _frame_labels(view.first())
    (new,) = set(after) - set(before)
    assert new[0] == 6 and after[new].bounding_box == (2 / 64, 2 / 48, 18 / 64, 8 / 48)
    assert all(after[key] == label for key, label in before.items())  # frames the task skips are left alone


def test_a_sample_field_shape_on_any_frame_of_a_video_loads_onto_the_video(videos, login, cvat_sim):
    view = videos.take(1, seed=1)
    results = view.annotate("boxes", label_field="boxes", label_type="detections", classes=["sign"], **login)
    (task_id,) = results.task_ids
    with ScriptedAnnotator(cvat_sim.url, USER, PASSWORD) as annotator:
        annotator.add_shape(task_id, "sign", 6, "rectangle", [2.0, 2.0, 20.0, 10.0])
        annotator.add_track(task_id, "sign", {2: [1.0, 1.0, 9.0, 9.0], 5: [3.0, 3.0, 11.0, 11.0]})
    videos.load_annotations("boxes", **login)
    boxes = view.first().fields["boxes"].detections  # the shape, and the track's first frame
    assert sorted(d.bounding_box for d in boxes) == [
        (1 / 64, 1 / 48, 8 / 64, 8 / 48),
        (2 / 64, 2 / 48, 18 / 64, 8 / 48),
    ]
    videos.load_annotations("boxes", **login)
    assert videos.last_load.summary.unchanged_tasks == 1


def _rejected(dataset, key):
    return [
        e.rejection
        for e in dataset.registry.iter_history(dataset.registry.get_run(dataset.name, key).id, details=True)
        if type(e).__name__ == "Rejected"
    ]


@pytest.mark.parametrize("keyframes", [None, {1, 3, 6, 8}])
@pytest.mark.parametrize("index_edits", [True, False])
def test_a_track_split_in_cvat_becomes_a_new_track_from_the_cut(videos, login, cvat_sim, keyframes, index_edits):
    """CVAT re-creates both parts (new ids); its label_ids survive on keyframes only. The later part is a new
    object: its labels take a new index (FiftyOne's rule), or keep theirs when index edits are not allowed.
    Interpolated frames of the later part lose their provenance ("CVAT limitations"): they are replaced."""
    view = videos.take(1, seed=1)
    if keyframes:
        _set_frames(videos, view.first(), lambda n, label: attrs.evolve(label, keyframe=n in keyframes))
    before = _tracks(view.first())
    results = view.annotate(
        "split", label_field="frames.detections", attributes=False, allow_index_edits=index_edits, **login
    )
    (task_id,) = results.task_ids
    with ScriptedAnnotator(cvat_sim.url, USER, PASSWORD) as annotator:
        track = min(annotator.annotations(task_id)["tracks"], key=lambda t: t["id"])
        index = next(
            i
            for i, frames in before.items()
            if frames[1].bounding_box[0] * 64 == pytest.approx(track["shapes"][0]["points"][0])
        )
        annotator.split_track(task_id, track["id"], 5)  # task frame 5: video frame 6, a keyframe either way
    videos.load_annotations("split", **login)
    after = _tracks(view.first())
    other = next(i for i in before if i != index)
    assert after[other] == before[other]
    cut = range(6, FRAMES + 1)
    interpolated_after_cut = [n for n in cut if keyframes and n not in keyframes]  # frame 7: no provenance left
    summary = videos.last_load.summary
    if index_edits:
        assert set(after) == {index, other, 3}  # the video held indexes 1 and 2
        assert after[index] == {n: before[index][n] for n in range(1, 6)}
        assert sorted(after[3]) == list(cut)
        for n in cut:
            if n in interpolated_after_cut:
                assert after[3][n].id != before[index][n].id
            else:
                assert after[3][n] == attrs.evolve(before[index][n], index=3, keyframe=True)
        assert (summary.added, summary.edited, summary.deleted) == (
            len(interpolated_after_cut),
            len(cut) - len(interpolated_after_cut),
            len(interpolated_after_cut),
        )
        assert _rejected(videos, "split") == []
    else:
        assert after == before
        assert (summary.added, summary.edited, summary.deleted) == (0, 0, 0)
        assert sorted((r.rule, r.frame) for r in _rejected(videos, "split")) == [("allow_index_edits", n) for n in cut]
    videos.load_annotations("split", **login)
    assert videos.last_load.summary.unchanged_tasks == 1 and _tracks(view.first()) == after


@pytest.mark.parametrize("index_edits", [True, False])
def test_tracks_merged_in_cvat_take_the_smaller_index(videos, login, cvat_sim, index_edits):
    view = videos.take(1, seed=1)
    sample = view.first()
    # index 1 is seen on frames 1-4 only, index 2 on frames 5-8: the annotator joins them into one object
    _set_frames(videos, sample, lambda n, label: label if (label.index == 1) == (n <= 4) else None)
    before = _tracks(view.first())
    results = view.annotate(
        "merge", label_field="frames.detections", attributes=False, allow_index_edits=index_edits, **login
    )
    (task_id,) = results.task_ids
    with ScriptedAnnotator(cvat_sim.url, USER, PASSWORD) as annotator:
        tracks = sorted(annotator.annotations(task_id)["tracks"], key=lambda t: t["frame"])
        annotator.merge_tracks(task_id, [t["id"] for t in tracks])
        (merged,) = annotator.annotations(task_id)["tracks"]
        assert [(s["frame"], s["outside"]) for s in merged["shapes"]] == [(f, False) for f in range(FRAMES)]
    videos.load_annotations("merge", **login)
    after = _tracks(view.first())
    summary = videos.last_load.summary
    if index_edits:
        assert after == {
            1: {**before[1], **{n: attrs.evolve(label, index=1, keyframe=True) for n, label in before[2].items()}}
        }
        assert (summary.added, summary.edited, summary.deleted) == (0, 4, 0)
        # the audit trail names the frames and tracks the load changed
        lines = list(
            change_lines(videos.registry.iter_history(videos.registry.get_run(videos.name, "merge").id, details=True))
        )
        assert lines[-1].endswith(f": changed frames 5-8 of video {sample.id}; tracks 1")
        assert sum(line.endswith(", track 1") and " edited Detection " in line for line in lines) == 4
    else:
        assert after == before
        assert sorted((r.rule, r.frame) for r in _rejected(videos, "merge")) == [
            ("allow_index_edits", n) for n in (5, 6, 7, 8)
        ]
    videos.load_annotations("merge", **login)
    assert videos.last_load.summary.unchanged_tasks == 1


def test_restricted_edits_of_frame_labels_are_refused_on_their_frame(videos, login, cvat_sim):
    view = videos.take(1, seed=1)
    before = _tracks(view.first())
    results = view.annotate(
        "fixed",
        label_field="frames.detections",
        attributes=False,
        allow_spatial_edits=False,
        allow_additions=False,
        **login,
    )
    (task_id,) = results.task_ids
    with ScriptedAnnotator(cvat_sim.url, USER, PASSWORD) as annotator:
        track = min(annotator.annotations(task_id)["tracks"], key=lambda t: t["id"])
        annotator.move_keyframe(task_id, track["id"], 2, [1.0, 2.0, 21.0, 12.0])
        annotator.add_track(task_id, "vehicle", {5: [1.0, 1.0, 9.0, 9.0]})
    videos.load_annotations("fixed", **login)
    assert _tracks(view.first()) == before
    rejected = _rejected(videos, "fixed")
    assert {(r.rule, r.frame) for r in rejected} == {("allow_spatial_edits", 3)} | {
        ("allow_additions", number) for number in range(6, FRAMES + 1)
    }


def test_a_frame_classification_field_goes_up_and_back_as_tags_per_frame(videos, login, cvat_sim):
    view = videos.take(1, seed=1)
    results = view.annotate(
        "light", label_field="frames.light", label_type="classification", classes=["day", "night"], **login
    )
    (task_id,) = results.task_ids
    with ScriptedAnnotator(cvat_sim.url, USER, PASSWORD) as annotator:
        annotator.add_tag(task_id, "night", 3)
    videos.load_annotations("light", **login)
    frames = view.first().frames
    assert frames[4]["light"].label == "night"
    assert [n for n, f in frames.items() if "light" in f] == [4]
    videos.load_annotations("light", **login)
    assert videos.last_load.summary.unchanged_tasks == 1


@pytest.mark.parametrize("kind", ["polygons", "keypoints"])
def test_a_polygon_or_keypoints_track_comes_back_interpolated_as_cvat_does(videos, login, cvat_sim, kind):
    view = videos.take(1, seed=1)
    sample = view.first()
    keyframes = {1, 4, 8}

    def label(number):
        x = 2.0 * number
        points = [(x / 64, 4 / 48), ((x + 10) / 64, 4 / 48), ((x + 10) / 64, 14 / 48), (x / 64, 14 / 48)]
        common = dict(label="road", index=1, keyframe=number in keyframes)
        if kind == "polygons":
            return Polylines([Polyline(points=[points], closed=True, filled=True, **common)])
        return Keypoints([Keypoint(points=points, **common)])

    field = f"frames.{kind}"
    videos.store.apply([SetValue(sample.id, field, label(number), number) for number in sample.frames])
    before = {n: f[kind] for n, f in view.first().frames.items()}
    results = view.annotate(kind, label_field=field, label_type=kind, classes=["road"], attributes=False, **login)
    (task_id,) = results.task_ids
    new_points = [30.0, 20.0, 40.0, 20.0, 44.0, 30.0, 35.0, 38.0, 28.0, 30.0]  # five points where there were four
    with ScriptedAnnotator(cvat_sim.url, USER, PASSWORD) as annotator:
        (track,) = annotator.annotations(task_id)["tracks"]
        assert [s["frame"] for s in track["shapes"]] == [0, 3, 7]
        first = next(s for s in track["shapes"] if s["frame"] == 0)["points"]
        last = next(s for s in track["shapes"] if s["frame"] == 7)["points"]
        annotator.move_keyframe(task_id, track["id"], 3, new_points)
    videos.load_annotations(kind, **login)
    after = {n: f[kind] for n, f in view.first().frames.items()}
    shape_type = "polygon" if kind == "polygons" else "points"

    def expected(points0, points1, frame0, frame1, frame):
        (got,) = [
            p
            for f, p, _ in interpolate(
                {"type": shape_type, "frame": frame0, "points": points0},
                {"type": shape_type, "frame": frame1, "points": points1},
            )
            if f == frame
        ]
        return [(x / 64, y / 48) for x, y in zip(got[0::2], got[1::2], strict=True)]

    def points_of(value):
        (one,) = value.polylines if kind == "polygons" else value.keypoints
        return list(one.points[0]) if kind == "polygons" else list(one.points), one

    for number in (2, 3, 5, 6, 7):  # task frames 1, 2 (between 0 and 3) and 4..6 (between 3 and 7)
        points, one = points_of(after[number])
        task_frame = number - 1
        if task_frame < 3:
            assert points == expected(first, new_points, 0, 3, task_frame)
        else:
            assert points == expected(new_points, last, 3, 7, task_frame)
        assert one.keyframe is False and one.id == points_of(before[number])[1].id and one.index == 1
    points, one = points_of(after[4])
    assert (
        points == [(x / 64, y / 48) for x, y in zip(new_points[0::2], new_points[1::2], strict=True)]
        and one.keyframe is True
    )
    assert after[1] == before[1] and after[8] == before[8]
    videos.load_annotations(kind, **login)
    assert videos.last_load.summary.unchanged_tasks == 1


def test_scalar_fields_of_videos_and_of_their_frames_go_up_and_merge(videos, login, cvat_sim):
    view = videos.take(1, seed=1)
    sample = view.first()
    videos.store.apply(
        [SetValue(sample.id, "frames.light", "day" if n <= 4 else "night", n) for n in sample.frames]
        + [SetValue(sample.id, "weather", "sunny")]
    )
    results = view.annotate(
        "scalars",
        label_schema={
            "frames.light": {"type": "scalar", "classes": ["day", "night", "dusk"]},
            "weather": {"type": "scalar"},
        },
        **login,
    )
    (task_id,) = results.task_ids
    with ScriptedAnnotator(cvat_sim.url, USER, PASSWORD) as annotator:
        tags = annotator.annotations(task_id)["tags"]
        # one tag per frame of the frame field, and the video's own value once
        assert sorted(t["frame"] for t in tags) == sorted([*range(FRAMES), 0])
        labels = {label["id"]: label["name"] for label in annotator.labels(task_id).values()}
        on_frame_2 = next(t for t in tags if t["frame"] == 2 and labels[t["label_id"]] != "weather")
        annotator.delete(task_id, on_frame_2["id"], kind="tags")
        annotator.add_tag(task_id, "dusk", 2)
        annotator.delete(
            task_id, next(t for t in tags if t["frame"] == 6 and labels[t["label_id"]] != "weather")["id"], kind="tags"
        )
        weather = next(t for t in tags if labels[t["label_id"]] == "weather")
        annotator.set_attribute(task_id, weather["id"], "value", "rainy", kind="tags")
    videos.load_annotations("scalars", **login)
    summary = videos.last_load.summary
    assert (summary.added, summary.edited, summary.deleted) == (0, 2, 1)
    after = view.first()
    assert after.get("weather") == "rainy"
    assert {n: after.get("frames.light", n) for n in after.frames} == {
        1: "day",
        2: "day",
        3: "dusk",
        4: "day",
        5: "night",
        6: "night",
        7: None,
        8: "night",
    }
    videos.load_annotations("scalars", **login)
    assert videos.last_load.summary.unchanged_tasks == 1


def test_tracks_and_shapes_of_one_field_whose_cvat_ids_coincide_keep_their_own_labels(videos, login, cvat_sim):
    """CVAT numbers tags, shapes and tracks in tables of their own: track 2 and shape 2 may share a frame,
    where the track's frame is interpolated and only its CVAT id and frame tell which label it is."""
    view = videos.take(1, seed=1)
    sample = view.first()
    keyframes = {1, 4, 8}
    # both objects tracks with keyframes, and a plain copy (no index) of the second on every frame
    videos.store.apply(
        [
            SetValue(
                sample.id,
                "frames.detections",
                Detections(
                    [attrs.evolve(d, keyframe=n in keyframes) for d in frame["detections"].detections]
                    + [
                        Detection(label=d.label, bounding_box=(0.0, 0.0, 0.25, 0.25))
                        for d in frame["detections"].detections
                        if d.index == 2
                    ]
                ),
                n,
            )
            for n, frame in sample.frames.items()
        ]
    )
    before = _frame_labels(view.first())
    results = view.annotate("ids", label_field="frames.detections", attributes=False, **login)
    (task_id,) = results.task_ids
    with ScriptedAnnotator(cvat_sim.url, USER, PASSWORD) as annotator:
        stored = annotator.annotations(task_id)
        interpolated = {
            (t["id"], f) for t in stored["tracks"] for f in range(8) if f not in {s["frame"] for s in t["shapes"]}
        }
        assert interpolated & {(s["id"], s["frame"]) for s in stored["shapes"]}  # the ids coincide, as in CVAT
    videos.load_annotations("ids", **login)
    summary = videos.last_load.summary
    assert (summary.added, summary.edited, summary.deleted) == (0, 0, 0)
    assert _frame_labels(view.first()) == before


def test_a_keyframed_track_that_ends_before_the_video_comes_back_unchanged(videos, login, cvat_sim):
    """The last frame of each segment goes up as a keyframe (as its first does), so CVAT shows the object
    where the dataset has it up to its last frame and hides it on the next; an untouched load changes nothing."""
    view = videos.take(1, seed=1)
    sample = view.first()
    # track 1 on frames 1-5 and 7-8, keyframes on 1 and 3 only; track 2 everywhere, keyframes on 1 and 8
    _set_frames(
        videos,
        sample,
        lambda n, label: (
            None
            if label.index == 1 and n == 6
            else attrs.evolve(label, keyframe=n in ({1, 3} if label.index == 1 else {1, 8}))
        ),
    )
    before = _tracks(view.first())
    results = view.annotate("ends", label_field="frames.detections", attributes=False, **login)
    (task_id,) = results.task_ids
    with ScriptedAnnotator(cvat_sim.url, USER, PASSWORD) as annotator:
        tracks = annotator.annotations(task_id)["tracks"]
    shapes = sorted([(s["frame"], s["outside"]) for s in t["shapes"]] for t in tracks)
    assert shapes == [[(0, False), (2, False), (4, False), (5, True), (6, False), (7, False)], [(0, False), (7, False)]]
    videos.load_annotations("ends", **login)
    summary = videos.last_load.summary
    assert (summary.added, summary.edited, summary.deleted) == (0, 0, 0)
    assert _tracks(view.first()) == before


def test_one_task_per_video_whatever_task_size_with_one_assignee_each_round_robin(videos, login, cvat_sim):
    results = videos.annotate(
        "assign", label_field="frames.detections", task_size=5, task_assignee=["reviewer", USER], **login
    )
    assert len(results.task_ids) == 2  # task_size is ignored for videos, as the guide says
    samples = [s.id for s in videos.iter_samples()]
    with ScriptedAnnotator(cvat_sim.url, USER, PASSWORD) as annotator:
        assignees = {}
        for task_id in results.task_ids:
            task = annotator.client.get(f"/api/tasks/{task_id}").json()
            assignees[results.frame_id_map[task_id][0]["sample_id"]] = task["assignee"]["username"]
    assert [assignees[s] for s in samples] == ["reviewer", USER]

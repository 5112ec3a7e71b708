"""Video datasets against the simulator: frame fields up and back, the per-frame frame map."""

from __future__ import annotations

import attrs
import pytest

from annoflow.adapters.cvat import RetryPolicy
from annoflow.adapters.cvat_backend import CVATBackend
from annoflow.adapters.cvat_sim.annotator import ScriptedAnnotator
from annoflow.adapters.label_stores import InMemoryLabelStore
from annoflow.adapters.quickstart import generate_quickstart_video
from annoflow.application.dataset import Dataset
from annoflow.application.runs.registry import RunRegistry
from annoflow.domain.changes import SetValue
from annoflow.domain.labels import Detections
from tests.cvat_backend.conftest import PASSWORD, USER

FRAMES = 8


@pytest.fixture
def videos(tmp_path):
    store = InMemoryLabelStore("quickstart-video")
    store.add_samples(generate_quickstart_video(tmp_path / "media", num_samples=2, num_frames=FRAMES, size=(64, 48),
                                                tracks_per_video=(2, 2)))
    return Dataset(store, RunRegistry(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}),
                   {"cvat": CVATBackend(interactive=False, client_options={
                       "poll_interval": 0.01, "retry": RetryPolicy(backoff=0.001)})})


def test_a_video_task_maps_every_frame(videos, login):
    results = videos.take(1, seed=1).annotate("v0", label_field="frames.detections", **login)
    (task_id,) = results.task_ids
    sample = videos.take(1, seed=1).first()
    assert results.frame_id_map[task_id] == {
        index: {"sample_id": sample.id, "frame_number": index + 1} for index in range(FRAMES)}


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


def _frame_labels(sample, field="detections"):
    return {(number, label.id): label for number, frame in sample.frames.items() for label in frame[field].detections}


def _without_index(dataset, view):
    """Frame labels that are no track: their index taken out."""
    sample = view.first()
    dataset.store.apply([SetValue(sample.id, "frames.detections", Detections(
        [attrs.evolve(d, index=None) for d in frame["detections"].detections]), number)
        for number, frame in sample.frames.items()])


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
    moved = [l for l in after.frames[4]["detections"].detections if l.bounding_box == (1 / 64, 1 / 48, 16 / 64, 8 / 48)]
    assert len(moved) == 1 and moved[0].id in {i for (_, i) in before}
    unchanged = {key: label for key, label in _frame_labels(after).items() if key[0] not in (1, 4, 6)}
    assert all(before[key] == label for key, label in unchanged.items())
    videos.load_annotations("plain", **login)
    assert videos.last_load.summary.unchanged_tasks == 1 and _frame_labels(view.first()) == _frame_labels(after)

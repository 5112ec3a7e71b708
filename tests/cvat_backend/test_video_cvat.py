"""Video datasets against the simulator: frame fields up and back, the per-frame frame map."""

from __future__ import annotations

import pytest

from annoflow.adapters.cvat import RetryPolicy
from annoflow.adapters.cvat_backend import CVATBackend
from annoflow.adapters.cvat_sim.annotator import ScriptedAnnotator
from annoflow.adapters.label_stores import InMemoryLabelStore
from annoflow.adapters.quickstart import generate_quickstart_video
from annoflow.application.dataset import Dataset
from annoflow.application.runs.registry import RunRegistry
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

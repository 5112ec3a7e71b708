"""Labels edited in place as FiftyOne's guide writes it ("Editing frame-level label tracks"):
``sample.frames[n].detections.detections[i].keyframe = True; sample.save()``, then only the
keyframes go up to CVAT; a label edited through a filtered view keeps the labels it hid."""

from __future__ import annotations

import httpx
import pytest

from annoflow import F
from annoflow.adapters.cvat import RetryPolicy
from annoflow.adapters.cvat_backend import CVATBackend
from annoflow.adapters.label_stores import InMemoryLabelStore
from annoflow.adapters.quickstart import generate_quickstart_video
from annoflow.application.dataset import Dataset
from annoflow.application.runs.registry import RunRegistry
from annoflow.domain.changes import PutLabel
from tests.cvat_backend.conftest import PASSWORD, USER

FRAMES = 12


@pytest.fixture
def videos(tmp_path):
    store = InMemoryLabelStore("videos")
    store.add_samples(
        generate_quickstart_video(
            tmp_path / "media", num_samples=1, num_frames=FRAMES, size=(64, 48), tracks_per_video=(2, 2)
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


def _stored(dataset):
    (sample,) = dataset.store.get_samples(dataset.store.sample_ids())
    return sample


def test_keyframes_marked_in_place_are_saved_in_one_batch_of_those_labels_only(videos, monkeypatch):
    batches = []
    apply = videos.store.apply
    monkeypatch.setattr(videos.store, "apply", lambda changes: batches.append(list(changes)) or apply(changes))
    before = _stored(videos)
    sample = videos.first()
    for number in (1, 5, FRAMES):
        for det in sample.frames[number].detections.detections:
            det.keyframe = True
    assert _stored(videos) == before  # nothing written before save()
    assert all(d.keyframe for d in sample.frames[5].detections.detections)  # the sample reads its own edits
    sample.save()
    (batch,) = batches
    assert {(type(c), c.frame) for c in batch} == {(PutLabel, 1), (PutLabel, 5), (PutLabel, FRAMES)} and len(batch) == 6
    after = _stored(videos)
    for number in range(1, FRAMES + 1):
        for old, new in zip(
            before.get("frames.detections", number).detections,
            after.get("frames.detections", number).detections,
            strict=True,
        ):
            assert new == (old.replace(keyframe=True) if number in (1, 5, FRAMES) else old)
    sample.save()  # nothing left to write
    assert len(batches) == 1


def test_only_the_keyframes_go_up_as_the_guide_says(videos, cvat_sim):
    sample = videos.first()
    keyframes = {1, 6, FRAMES}
    for number in keyframes:
        for det in sample.frames[number].detections.detections:
            det.keyframe = True
    sample.save()
    results = videos.annotate(
        "tracks", label_field="frames.detections", url=cvat_sim.url, username=USER, password=PASSWORD
    )
    (task_id,) = results.task_ids
    with httpx.Client(base_url=cvat_sim.url, auth=(USER, PASSWORD)) as client:
        tracks = client.get(f"/api/tasks/{task_id}/annotations").json()["tracks"]
    assert len(tracks) == 2
    for track in tracks:  # task frames are 0-based
        assert {shape["frame"] for shape in track["shapes"] if not shape["outside"]} == {n - 1 for n in keyframes}


def test_a_label_edited_through_a_filtered_view_keeps_what_the_view_hid(videos):
    full = _stored(videos).get("frames.detections", 3).detections
    assert len(full) == 2
    shown = full[0]
    view = videos.filter_labels("frames.detections", F("_id") == shown.id)
    sample = view.first()
    (det,) = sample.frames[3].detections.detections
    det.label = "renamed"
    det.occluded_by = "tree"  # not a field of a box: a custom attribute, as FiftyOne takes it
    sample.save()
    after = _stored(videos).get("frames.detections", 3).detections
    assert after == (shown.replace(label="renamed", attributes={**shown.attributes, "occluded_by": "tree"}), full[1])


def test_what_cannot_be_edited_in_place_is_refused_by_name(videos):
    sample = videos.first()
    det = sample.frames[2].detections.detections[0]
    with pytest.raises(AttributeError, match="id cannot be changed"):
        det.id = "0" * 24
    with pytest.raises(ValueError):
        det.bounding_box = (0.5, 0.5, 2.0, 2.0)  # the label's own checks still hold
    with pytest.raises(KeyError, match="no frame 99"):
        sample.frames[99]
    with pytest.raises(AttributeError, match="no field 'nothing'"):
        sample.frames[2].nothing  # noqa: B018 - reading it is what raises


def test_a_frame_field_set_and_a_whole_field_set_after_an_edit_write_the_last_value(videos):
    sample = videos.first()
    det = sample.frames[4].detections.detections[0]
    det.keyframe = True
    sample.frames[4]["weather"] = "rain"
    sample.frames[4].detections = None  # the field cleared after its label was edited: the clearing wins
    sample.save()
    stored = _stored(videos)
    assert stored.get("frames.weather", 4) == "rain" and stored.get("frames.detections", 4) is None
    assert stored.get("frames.detections", 5) is not None


def test_sample_level_labels_edit_in_place_too(tmp_path):
    from annoflow.adapters.quickstart import generate_quickstart

    store = InMemoryLabelStore("images")
    store.add_samples(generate_quickstart(tmp_path / "media", num_samples=1, num_objects=3, image_size=(64, 48)))
    dataset = Dataset(store, RunRegistry(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}), {})
    sample = dataset.first()
    first = sample.ground_truth.detections[0]
    first.label = "relabelled"
    assert sample["ground_truth"].detections[0].label == "relabelled"
    sample.save()
    (stored,) = store.get_samples(store.sample_ids())
    assert stored.get("ground_truth").detections[0].label == "relabelled"

"""A track's frames CVAT returns as uploaded skip expansion and conversion: a load must merge exactly as without
the shortcut, whatever the annotator did to the tracks."""

from __future__ import annotations

import attrs
import pytest

from annoflow.adapters.cvat import RetryPolicy
from annoflow.adapters.cvat_backend import CVATBackend
from annoflow.adapters.cvat_format.unchanged_tracks import UnchangedTracks
from annoflow.adapters.cvat_sim.annotator import ScriptedAnnotator
from annoflow.adapters.label_stores import InMemoryLabelStore
from annoflow.adapters.quickstart import generate_quickstart_video
from annoflow.application.annotate import PLAN_OPTIONS
from annoflow.application.dataset import Dataset
from annoflow.application.ports.annotation_backend import UploadRequest
from annoflow.application.runs.registry import RunRegistry
from annoflow.domain.changes import SetValue
from annoflow.domain.labels import Detections, labels_in
from annoflow.domain.merge import merge_task
from annoflow.domain.samples import field_labels
from tests.cvat_backend.conftest import PASSWORD, USER

FRAMES = 10
FIELD = "frames.detections"


@pytest.fixture
def video(tmp_path):
    store = InMemoryLabelStore("tracked")
    store.add_samples(
        generate_quickstart_video(
            tmp_path / "media", num_samples=1, num_frames=FRAMES, size=(64, 48), tracks_per_video=(5, 5)
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


def _set_labels(dataset, keep):
    sample = dataset.first()
    dataset.store.apply(
        [
            SetValue(sample.id, FIELD, Detections([keep(n, label) for label in frame["detections"].detections]), n)
            for n, frame in sample.frames.items()
        ]
    )


def _outcome(dataset, key, login):
    """What a load would record now (changes, refusals, objects not read, labels read), without applying it."""
    run = dataset.registry.get_run(dataset.name, key)
    backend = dataset.backends["cvat"]
    first = next(dataset.store.get_samples(run.sample_ids[:1], fields=()))
    config = backend.parse_config(
        {**{k: v for k, v in run.config.items() if k not in PLAN_OPTIONS}, **login}, first.media_type
    )
    request = UploadRequest(dataset.name, key, run.label_schema, run.media_field, first.media_type, config)
    (task_id,) = run.tasks
    task = dataset.registry.get_ledger(run, task_id).record()
    samples = {s.id: s for s in dataset.store.get_samples(task.sample_ids, fields=(FIELD,))}
    with backend.connect(config) as session:
        downloaded = session.download_task(
            request,
            task_id,
            lambda: task,
            lambda: {label.id: label for s in samples.values() for _, label in field_labels(s, FIELD)},
        )
    changes, refused = merge_task(run.label_schema, task, samples, downloaded.imported, id_seed="seed")
    return (
        sorted(map(repr, changes)),
        sorted(map(repr, refused)),
        sorted(map(repr, downloaded.unread)),
        len(downloaded.imported),
    )


def _patch_track(annotator, task_id, track):
    answer = annotator.client.patch(
        f"/api/tasks/{task_id}/annotations",
        params={"action": "update"},
        json={"version": 0, "tags": [], "shapes": [], "tracks": [track]},
    )
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("keyframes", [None, {1, 4, 5, 8}])
@pytest.mark.parametrize("widgets", [False, True])
@pytest.mark.parametrize("restricted", [False, True])
def test_the_shortcut_changes_nothing_in_what_a_load_merges(
    video, login, cvat_sim, monkeypatch, keyframes, widgets, restricted
):
    _set_labels(
        video,
        lambda n, label: attrs.evolve(
            label,
            attributes={"note": f"n{label.index}", "make": "ford", **({"occluded": n == 3} if widgets else {})},
            keyframe=None if keyframes is None else n in keyframes,
        ),
    )
    attributes = {"note": {"type": "text"}, "make": {"type": "text", "mutable": False}}
    schema = {
        FIELD: {
            "type": "detections",
            "classes": ["person", "vehicle"],
            "attributes": attributes,
            "allow_index_edits": not restricted,
            "allow_spatial_edits": not restricted,
        }
    }
    linked = {"occluded_attr": "occluded", "group_id_attr": "group"} if widgets else {}
    results = video.annotate("fast", label_schema=schema, **linked, **login)
    (task_id,) = results.task_ids
    with ScriptedAnnotator(cvat_sim.url, USER, PASSWORD) as annotator:
        tracks = sorted(annotator.annotations(task_id)["tracks"], key=lambda t: t["id"])
        assert len(tracks) == 5
        labels = annotator.labels(task_id)
        specs = {a["name"]: a["id"] for a in labels["vehicle"]["attributes"]}
        first, second, third, fourth, fifth = tracks
        # a keyframe moved, another's mutable attribute changed, a third occluded, and a new keyframe made
        shapes = first["shapes"]
        shapes[1] = {**shapes[1], "points": [p + 1.0 for p in shapes[1]["points"]]}
        shapes[-1] = {
            **shapes[-1],
            "attributes": [a for a in shapes[-1]["attributes"] if a["spec_id"] != specs["note"]]
            + [{"spec_id": specs["note"], "value": "changed"}],
        }
        shapes[2] = {**shapes[2], "occluded": not shapes[2]["occluded"]}
        _patch_track(annotator, task_id, {**first, "shapes": shapes})
        annotator.move_keyframe(task_id, first["id"], 6, [2.0, 3.0, 20.0, 30.0])
        # the track's immutable attribute and its class
        _patch_track(annotator, task_id, {**second, "attributes": [{"spec_id": specs["make"], "value": "fiat"}]})
        person = {a["name"]: a["id"] for a in labels["person"]["attributes"]}
        names = {spec: name for name, spec in specs.items()}

        def relabelled(items):
            return [{"spec_id": person[names[a["spec_id"]]], "value": a["value"]} for a in items]

        _patch_track(
            annotator,
            task_id,
            {
                **third,
                "label_id": labels["person"]["id"],
                "attributes": relabelled(third["attributes"]),
                "shapes": [{**s, "attributes": relabelled(s["attributes"])} for s in third["shapes"]],
            },
        )
        # a keyframe deleted from the middle of a track, its label_id pasted on a new shape
        gone = fourth["shapes"][2]
        _patch_track(annotator, task_id, {**fourth, "shapes": [s for s in fourth["shapes"] if s is not gone]})
        annotator.add_shape(
            task_id,
            "vehicle",
            gone["frame"],
            "rectangle",
            gone["points"],
            attributes={"label_id": next(a["value"] for a in gone["attributes"] if a["spec_id"] == specs["label_id"])},
        )
        # a track cut in two: new ids, the label_ids survive on keyframes
        annotator.split_track(task_id, fifth["id"], 5)
    taken = []
    frames_of = UnchangedTracks.frames_of
    monkeypatch.setattr(
        UnchangedTracks, "frames_of", lambda self, *args: taken.append(frames_of(self, *args)) or taken[-1]
    )
    with_shortcut = _outcome(video, "fast", login)
    shortcut_frames = sum(len(frames) for frames in taken)
    # untouched frames of the tracks the annotator changed are taken too (not a whole track's)
    assert 0 < shortcut_frames < sum(len(list(labels_in(f["detections"]))) for f in video.first().frames.values())
    # rows where a label or an object's frame shows twice are read one by one: the same frames are taken
    monkeypatch.setattr(UnchangedTracks, "_plain", staticmethod(lambda *args: False))
    assert (
        _outcome(video, "fast", login) == with_shortcut and sum(len(frames) for frames in taken) == 2 * shortcut_frames
    )
    monkeypatch.setattr(UnchangedTracks, "frames_of", lambda self, *args: set())
    without = _outcome(video, "fast", login)
    assert with_shortcut == without
    assert with_shortcut[0]  # the edits were seen


def test_an_untouched_video_is_read_without_converting_its_tracks(video, login, cvat_sim, monkeypatch):
    import annoflow.adapters.cvat_format.download as download

    results = video.annotate("same", label_field=FIELD, attributes=False, **login)
    converted = []
    convert = download.Downloader._convert
    monkeypatch.setattr(
        download.Downloader, "_convert", lambda self, *args: converted.append(1) or convert(self, *args)
    )
    before = video.first()
    video.load_annotations("same", recheck=True, **login)
    summary = video.last_load.summary
    assert (summary.added, summary.edited, summary.deleted, summary.rejected) == (0, 0, 0, 0)
    assert converted == [] and video.first() == before and results.task_ids

"""import_annotations(): a project made with cvat-sdk (CVAT's own client, independent of annoflow)
against the simulator, imported into an empty dataset (FiftyOne's CVAT guide, "Importing existing tasks")."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from cvat_sdk import make_client, models
from cvat_sdk.core.proxies.tasks import ResourceType

from annoflow.adapters.cvat import RetryPolicy
from annoflow.adapters.cvat.media_names import UnsafeMediaPathError
from annoflow.adapters.cvat_backend import CVATBackend
from annoflow.adapters.cvat_sim.testing import PASSWORD, USER
from annoflow.adapters.label_stores import InMemoryLabelStore
from annoflow.adapters.quickstart import generate_quickstart
from annoflow.application.audit import run_history
from annoflow.application.dataset import Dataset
from annoflow.application.ports.annotation_backend import MediaNotFoundError, ProjectNotFoundError
from annoflow.application.runs.registry import RunRegistry
from annoflow.domain.annotation_run import RunError
from annoflow.domain.labels import Keypoints, Polylines


def move_first_box(url: str, task_id: int, points: list[float]) -> int:
    """An annotator, through CVAT's own SDK, moves the task's first rectangle to ``points``; its CVAT id."""
    with make_client(host=url, credentials=(USER, PASSWORD)) as client:
        task = client.tasks.retrieve(task_id)
        shape = next(s for s in task.get_annotations().shapes if s.type.value == "rectangle")
        task.update_annotations(
            models.PatchedLabeledDataRequest(
                shapes=[
                    models.LabeledShapeRequest(
                        id=shape.id, type="rectangle", frame=shape.frame, label_id=shape.label_id, points=points
                    )
                ]
            ),
        )
    return shape.id


@pytest.fixture
def images(tmp_path):
    return [
        s.filepath for s in generate_quickstart(tmp_path / "made_elsewhere", num_samples=4, image_size=(64, 48), seed=5)
    ]


@pytest.fixture
def project(cvat_sim, images):
    """A project of two tasks made with cvat-sdk: boxes, a polygon, points, a tag."""
    with make_client(host=cvat_sim.url, credentials=(USER, PASSWORD)) as client:
        project = client.projects.create(
            models.ProjectWriteRequest(
                name="made elsewhere",
                labels=[
                    models.PatchedLabelRequest(
                        name="cat",
                        attributes=[
                            models.AttributeRequest(
                                name="age", mutable=True, input_type="number", values=["0", "20", "1"]
                            )
                        ],
                    ),
                    models.PatchedLabelRequest(
                        name="dog",
                        attributes=[
                            models.AttributeRequest(
                                name="sleeping", mutable=False, input_type="checkbox", values=["false"]
                            ),
                            models.AttributeRequest(
                                name="coat", mutable=True, input_type="select", values=["short", "long"]
                            ),
                        ],
                    ),
                ],
            )
        )
        tasks = []
        for name, files in (("first", images[:2]), ("second", images[2:])):
            task = client.tasks.create_from_data(
                spec=models.TaskWriteRequest(name=name, project_id=project.id),
                resource_type=ResourceType.LOCAL,
                resources=files,
                data_params={"image_quality": 75},
            )
            found = {label.name: label for label in task.get_labels()}
            labels = {name: label.id for name, label in found.items()}
            spec = {(name, a.name): a.id for name, label in found.items() for a in label.attributes}
            shapes = [
                models.LabeledShapeRequest(
                    type="rectangle",
                    frame=0,
                    label_id=labels["cat"],
                    points=[1.0, 2.0, 30.0, 40.0],
                    attributes=[models.AttributeValRequest(spec_id=spec["cat", "age"], value="3")],
                ),
                models.LabeledShapeRequest(
                    type="polygon",
                    frame=1,
                    label_id=labels["dog"],
                    points=[1.0, 1.0, 10.0, 1.0, 10.0, 10.0],
                    attributes=[
                        models.AttributeValRequest(spec_id=spec["dog", "sleeping"], value="true"),
                        models.AttributeValRequest(spec_id=spec["dog", "coat"], value="long"),
                    ],
                ),
                models.LabeledShapeRequest(
                    type="points", frame=1, label_id=labels["cat"], points=[3.0, 4.0], occluded=True, group=2
                ),
            ]
            task.set_annotations(
                models.LabeledDataRequest(
                    shapes=shapes, tags=[models.LabeledImageRequest(frame=0, label_id=labels["dog"])]
                )
            )
            tasks.append(task.id)
        return {"id": project.id, "tasks": tasks}


@pytest.fixture
def dataset():
    return Dataset(
        InMemoryLabelStore("imported"),
        RunRegistry(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}),
        {
            "cvat": CVATBackend(
                interactive=False, client_options={"poll_interval": 0.01, "retry": RetryPolicy(backoff=0.001)}
            )
        },
    )


def _login(cvat_sim):
    return {"url": cvat_sim.url, "username": USER, "password": PASSWORD}


def _labels(dataset):
    samples = list(dataset.store.get_samples(dataset.store.sample_ids()))
    return {Path(s.filepath).name: {k: v for k, v in s.fields.items() if v is not None} for s in samples}


def test_a_project_imports_with_its_media_downloaded(cvat_sim, project, dataset, tmp_path, images):
    key = dataset.import_annotations(
        project_name="made elsewhere", data_path=str(tmp_path / "downloaded"), download_media=True, **_login(cvat_sim)
    )
    assert key == f"cvat_import_project_{project['id']}"
    downloaded = sorted((tmp_path / "downloaded").iterdir())
    assert [p.name for p in downloaded] == sorted(Path(p).name for p in images)
    assert all(
        p.read_bytes() == Path(next(i for i in images if Path(i).name == p.name)).read_bytes() for p in downloaded
    )
    labels = _labels(dataset)
    assert len(labels) == 4
    first, second = sorted(Path(p).name for p in images[:2])
    assert [d.label for d in labels[first]["detections"].detections] == ["cat"]
    box = labels[first]["detections"].detections[0].bounding_box
    assert box == pytest.approx((1 / 64, 2 / 48, 29 / 64, 38 / 48))
    assert [c.label for c in labels[first]["classifications"].classifications] == ["dog"]
    assert isinstance(labels[second]["polylines"], Polylines) and labels[second]["polylines"].polylines[0].closed
    # attributes typed from CVAT's input types: number (whole range) as int, checkbox as bool, select as text
    assert dict(labels[first]["detections"].detections[0].attributes) == {"age": 3}
    assert dict(labels[second]["polylines"].polylines[0].attributes) == {"sleeping": True, "coat": "long"}
    assert isinstance(labels[second]["keypoints"], Keypoints)
    # recorded as a run: the audit shows the import and its load
    run = dataset.registry.get_run("imported", key)
    events = [entry.event for entry in run_history(dataset.registry, run.id)]
    assert events[:1] == ["Requested"] and events.count("TaskCreated") == 2 and "UploadCompleted" in events
    assert run.task_ids == tuple(project["tasks"])


def test_importing_the_same_tasks_again_adds_nothing(cvat_sim, project, dataset, tmp_path):
    for _ in range(2):
        dataset.import_annotations(
            project_id=project["id"], data_path=str(tmp_path / "media"), download_media=True, **_login(cvat_sim)
        )
    before = _labels(dataset)
    dataset.import_annotations(
        project_id=project["id"], data_path=str(tmp_path / "media"), download_media=True, **_login(cvat_sim)
    )
    assert _labels(dataset) == before and len(before) == 4
    assert sorted(p.name for p in (tmp_path / "media").iterdir()) == sorted(before)  # no second copy of a file
    assert sum(len(v["detections"].detections) for v in before.values() if "detections" in v) == 2


def test_an_imported_run_loads_like_an_annotated_one(cvat_sim, project, dataset, tmp_path):
    key = dataset.import_annotations(
        task_ids=project["tasks"][:1],
        data_path=str(tmp_path / "media"),
        download_media=True,
        label_types={"detections": "ground_truth"},
        **_login(cvat_sim),
    )
    labels = _labels(dataset)
    assert {field for v in labels.values() for field in v} == {"ground_truth"}  # only the types asked for
    box = next(v["ground_truth"] for v in labels.values() if "ground_truth" in v).detections[0]
    # an annotator moves the box in CVAT; the next load edits the same label (its CVAT id is its provenance)
    shape_id = move_first_box(cvat_sim.url, project["tasks"][0], [5.0, 6.0, 30.0, 40.0])
    dataset.load_annotations(key, unexpected="ignore", **_login(cvat_sim))
    moved = [d for v in _labels(dataset).values() if "ground_truth" in v for d in v["ground_truth"].detections]
    assert [d.id for d in moved] == [box.id] and moved[0].bounding_box[0] == pytest.approx(5 / 64)
    assert dataset.last_load.summary.edited == 1
    # and deleted in CVAT, it is deleted from the dataset: its CVAT id is its provenance
    with make_client(host=cvat_sim.url, credentials=(USER, PASSWORD)) as client:
        client.tasks.retrieve(project["tasks"][0]).remove_annotations(ids=[shape_id])
    dataset.load_annotations(key, unexpected="ignore", **_login(cvat_sim))
    assert dataset.last_load.summary.deleted == 1
    assert not [d for v in _labels(dataset).values() if "ground_truth" in v for d in v["ground_truth"].detections]
    with pytest.raises(RunError, match="made outside annoflow"):
        dataset.load_annotation_results(key, **_login(cvat_sim)).cleanup()
    assert cvat_sim.state.tasks  # nothing deleted


def test_media_looked_up_in_a_dict_or_a_folder_and_missing_ones_named_first(
    cvat_sim, project, dataset, tmp_path, images
):
    folder = tmp_path / "local"
    folder.mkdir()
    for path in images[:3]:
        shutil.copy(path, folder)
    with pytest.raises(MediaNotFoundError, match=Path(images[3]).name):
        dataset.import_annotations(project_name="made elsewhere", data_path=str(folder), **_login(cvat_sim))
    assert len(dataset.store) == 0 and dataset.list_annotation_runs() == []  # nothing written
    data_map = {Path(p).name: p for p in images}
    dataset.import_annotations(project_name="made elsewhere", data_path=data_map, **_login(cvat_sim))
    assert sorted(s.filepath for s in dataset.store.get_samples(dataset.store.sample_ids(), fields=())) == sorted(
        images
    )


def test_refusals_before_anything_is_sent(cvat_sim, project, dataset, tmp_path):
    with pytest.raises(ValueError, match="exactly one of"):
        dataset.import_annotations(project_name="made elsewhere", task_ids=[1], data_path="x", **_login(cvat_sim))
    with pytest.raises(ValueError, match="needs data_path"):
        dataset.import_annotations(project_name="made elsewhere", download_media=True, **_login(cvat_sim))
    with pytest.raises(ValueError, match="unknown label types"):
        dataset.import_annotations(
            project_name="made elsewhere", data_path="x", label_types=["boxes"], **_login(cvat_sim)
        )
    with pytest.raises(ProjectNotFoundError):
        dataset.import_annotations(project_name="nobody's", data_path="x", **_login(cvat_sim))


def test_a_download_never_writes_through_a_symlink(cvat_sim, project, dataset, tmp_path, images):
    folder = tmp_path / "downloads"
    folder.mkdir()
    outside = tmp_path / "precious"
    outside.write_bytes(b"keep")
    (folder / Path(images[0]).name).symlink_to(outside)
    with pytest.raises(UnsafeMediaPathError):
        dataset.import_annotations(
            project_name="made elsewhere", data_path=str(folder), download_media=True, **_login(cvat_sim)
        )
    assert outside.read_bytes() == b"keep" and len(dataset.store) == 0


def test_the_command_line_imports_a_project_and_audit_shows_it(cvat_sim, project, tmp_path, monkeypatch, capsys):
    from annoflow.adapters import cli

    monkeypatch.setenv("ANNOFLOW_DATA_DIR", str(tmp_path / "data"))
    for name, value in (("URL", cvat_sim.url), ("USERNAME", USER), ("PASSWORD", PASSWORD)):
        monkeypatch.setenv(f"FIFTYONE_CVAT_{name}", value)
    argv = [
        "import",
        "--project",
        "made elsewhere",
        "--dataset",
        "mine",
        "--data-path",
        str(tmp_path / "m"),
        "--download-media",
    ]
    assert cli.main(argv) == 0
    first = capsys.readouterr().out
    assert "4 new samples, 8 labels added" in first, first
    assert cli.main(argv) == 0  # the same tasks again
    assert "0 new samples, 0 labels added, 0 edited, 2 tasks unchanged" in capsys.readouterr().out
    assert cli.main(["audit", f"cvat_import_project_{project['id']}", "--dataset", "mine"]) == 0
    audit = capsys.readouterr().out
    assert "Requested" in audit or "requested" in audit, audit
    assert cli.main(["import", "--task", "999", "--dataset", "mine", "--data-path", str(tmp_path / "m")]) == 2
    assert "999" in capsys.readouterr().err


def test_an_import_a_crash_interrupted_is_finished_by_the_next_one(cvat_sim, project, dataset, tmp_path, monkeypatch):
    from annoflow.adapters.cvat_backend.backend import CVATSession

    real = CVATSession.adopt_task
    calls = []

    def crashing(self, request, task_id, sample_ids):
        calls.append(task_id)
        if len(calls) == 2:
            raise KeyboardInterrupt("the process stops while the second task is recorded")
        return real(self, request, task_id, sample_ids)

    monkeypatch.setattr(CVATSession, "adopt_task", crashing)
    arguments = dict(
        project_name="made elsewhere", data_path=str(tmp_path / "m"), download_media=True, **_login(cvat_sim)
    )
    with pytest.raises(KeyboardInterrupt):
        dataset.import_annotations(**arguments)
    monkeypatch.setattr(CVATSession, "adopt_task", real)
    key = dataset.import_annotations(**arguments)
    run = dataset.registry.get_run("imported", key)
    assert run.task_ids == tuple(project["tasks"]) and run.upload_completed
    labels = _labels(dataset)
    assert len(labels) == 4 and sum(len(v["detections"].detections) for v in labels.values() if "detections" in v) == 2


def test_occluded_and_group_go_to_the_attributes_named(cvat_sim, project, dataset, tmp_path):
    dataset.import_annotations(
        task_ids=project["tasks"][:1],
        data_path=str(tmp_path / "m"),
        download_media=True,
        occluded_attr="occluded",
        group_id_attr="group_id",
        **_login(cvat_sim),
    )
    keypoints = [k for v in _labels(dataset).values() if "keypoints" in v for k in v["keypoints"].keypoints]
    assert [(k.attributes.get("occluded"), k.attributes.get("group_id")) for k in keypoints] == [(True, 2)]
    boxes = [d for v in _labels(dataset).values() if "detections" in v for d in v["detections"].detections]
    assert [d.attributes.get("occluded") for d in boxes] == [False]


def test_media_from_a_json_manifest_or_the_datasets_own_files(cvat_sim, project, dataset, tmp_path, images):
    import json

    from annoflow.domain.samples import MediaType, Sample

    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({Path(p).name: p for p in images[:2]}))
    dataset.import_annotations(task_ids=project["tasks"][:1], data_path=str(manifest), **_login(cvat_sim))
    assert sorted(s.filepath for s in dataset.store.get_samples(dataset.store.sample_ids(), fields=())) == sorted(
        images[:2]
    )
    # no data_path: the dataset's own files, by base name
    dataset.store.add_samples([Sample(filepath=p, media_type=MediaType.IMAGE) for p in images[2:]])
    dataset.import_annotations(task_ids=project["tasks"][1:], **_login(cvat_sim))
    assert len(dataset.store) == 4 and sum("keypoints" in v for v in _labels(dataset).values()) == 2
    (tmp_path / "broken.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="JSON object"):
        dataset.import_annotations(
            task_ids=project["tasks"][:1], data_path=str(tmp_path / "broken.json"), **_login(cvat_sim)
        )


def _video_task(cvat_sim, tmp_path):
    """A video task made with cvat-sdk: a car tracked over frames 0-4 (keyframes 0 and 4, outside from 5 on)
    and a tag on frame 1."""
    from annoflow.adapters.quickstart import generate_quickstart_video

    video = generate_quickstart_video(tmp_path / "videos", num_samples=1, num_frames=8, size=(64, 48))[0].filepath
    with make_client(host=cvat_sim.url, credentials=(USER, PASSWORD)) as client:
        task = client.tasks.create_from_data(
            spec=models.TaskWriteRequest(
                name="video", labels=[models.PatchedLabelRequest(name="car"), models.PatchedLabelRequest(name="busy")]
            ),
            resource_type=ResourceType.LOCAL,
            resources=[video],
            data_params={"image_quality": 75},
        )
        labels = {label.name: label.id for label in task.get_labels()}
        shape = dict(type="rectangle", occluded=False, z_order=0, rotation=0.0, attributes=[])
        task.set_annotations(
            models.LabeledDataRequest(
                tags=[models.LabeledImageRequest(frame=1, label_id=labels["busy"])],
                tracks=[
                    models.LabeledTrackRequest(
                        frame=0,
                        label_id=labels["car"],
                        shapes=[
                            models.TrackedShapeRequest(frame=0, points=[0.0, 0.0, 10.0, 10.0], outside=False, **shape),
                            models.TrackedShapeRequest(frame=4, points=[20.0, 8.0, 30.0, 18.0], outside=False, **shape),
                            models.TrackedShapeRequest(frame=5, points=[20.0, 8.0, 30.0, 18.0], outside=True, **shape),
                        ],
                    )
                ],
            )
        )
    return task.id, video


def test_a_video_task_imports_its_tracks_frame_by_frame(cvat_sim, dataset, tmp_path):
    task_id, video = _video_task(cvat_sim, tmp_path)
    key = dataset.import_annotations(task_ids=[task_id], data_path=str(tmp_path / "videos"), **_login(cvat_sim))
    (sample,) = dataset.store.get_samples(dataset.store.sample_ids())
    assert sample.filepath == video and sample.media_type.value == "video"
    boxes = {
        number: frame["detections"].detections for number, frame in sample.frames.items() if frame.get("detections")
    }
    assert sorted(boxes) == [1, 2, 3, 4, 5]  # video frames 1-5: task frames 0-4, none once outside
    assert [b.keyframe for n in sorted(boxes) for b in boxes[n]] == [True, False, False, False, True]
    assert len({b.index for n in boxes for b in boxes[n]}) == 1
    # interpolated as CVAT interpolates: frame 2 (task frame 1) a quarter of the way
    assert boxes[2][0].bounding_box == pytest.approx((5 / 64, 2 / 48, 10 / 64, 10 / 48))
    assert [c.label for c in sample.frames[2]["classifications"].classifications] == ["busy"]
    assert dataset.get_annotation_info(key).label_schema.field("frames.detections") is not None
    # importing again adds nothing twice
    before = list(dataset.store.get_samples(dataset.store.sample_ids()))
    dataset.import_annotations(task_ids=[task_id], data_path=str(tmp_path / "videos"), **_login(cvat_sim))
    assert list(dataset.store.get_samples(dataset.store.sample_ids())) == before
    assert dataset.last_load.summary.unchanged_tasks == 1


def test_a_video_task_without_its_video_or_with_download_media_is_refused_first(cvat_sim, dataset, tmp_path):
    from annoflow.application.ports.annotation_backend import BackendConfigError

    task_id, video = _video_task(cvat_sim, tmp_path)
    with pytest.raises(BackendConfigError, match=f"tasks \\[{task_id}\\] hold videos: CVAT's API serves a video"):
        dataset.import_annotations(
            task_ids=[task_id], data_path=str(tmp_path / "out"), download_media=True, **_login(cvat_sim)
        )
    with pytest.raises(MediaNotFoundError, match=Path(video).name):
        dataset.import_annotations(task_ids=[task_id], data_path=str(tmp_path / "out"), **_login(cvat_sim))
    assert not (tmp_path / "out").exists() and len(dataset.store) == 0 and dataset.list_annotation_runs() == []

"""CVAT's own export, served by the simulator as CVAT 2.52 serves it (POST dataset/export, the requests
API, the result's download), fetched by cvat-sdk (CVAT's own client) and by annoflow, and read by
import_cvat_xml: the same labels as import_annotations() reads through the API."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from cvat_sdk import make_client

from annoflow.adapters import cli
from annoflow.adapters.cvat import RetryPolicy
from annoflow.adapters.cvat.api import connect_to_api
from annoflow.adapters.cvat.errors import CVATAnswerError, CVATTimeoutError
from annoflow.adapters.cvat_backend import CVATBackend
from annoflow.adapters.cvat_backend.importing import media_names
from annoflow.adapters.cvat_sim.testing import PASSWORD, USER
from annoflow.adapters.cvat_xml.importing import import_cvat_xml
from annoflow.adapters.cvat_xml.reader import XmlImage, XmlMeta, read_cvat_xml
from annoflow.adapters.cvat_xml.server_export import fetch_export, import_from_exports
from annoflow.adapters.label_stores import InMemoryLabelStore
from annoflow.application.dataset import Dataset
from annoflow.application.runs.registry import RunRegistry
from tests.cvat_backend.test_import_annotations import images, project  # noqa: F401 - fixtures


def _dataset(name: str) -> Dataset:
    return Dataset(
        InMemoryLabelStore(name),
        RunRegistry(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}),
        {
            "cvat": CVATBackend(
                interactive=False, client_options={"poll_interval": 0.01, "retry": RetryPolicy(backoff=0.001)}
            )
        },
    )


def _labels(dataset: Dataset) -> dict[str, dict]:
    return {
        Path(s.filepath).name: {k: v for k, v in s.fields.items() if v is not None}
        for s in dataset.store.get_samples(dataset.store.sample_ids())
    }


def _api(cvat_sim):
    return connect_to_api(url=cvat_sim.url, username=USER, password=PASSWORD, poll_interval=0.01)


def test_cvat_sdk_downloads_the_export_the_simulator_serves(cvat_sim, project, tmp_path, images):  # noqa: F811
    task_id = project["tasks"][0]
    with make_client(host=cvat_sim.url, credentials=(USER, PASSWORD)) as client:
        client.tasks.retrieve(task_id).export_dataset(
            "CVAT for images 1.1", tmp_path / "export.zip", include_images=False
        )
    with zipfile.ZipFile(tmp_path / "export.zip") as zipped:
        assert zipped.namelist() == ["annotations.xml"]
        zipped.extract("annotations.xml", tmp_path)
    meta, *items = read_cvat_xml(tmp_path / "annotations.xml")
    assert isinstance(meta, XmlMeta) and [label["name"] for label in meta.labels] == ["cat", "dog"]
    assert meta.tasks[0].task_id == task_id and meta.mode == "annotation"
    assert [type(i) for i in items] == [XmlImage, XmlImage]
    first = items[0]
    assert (first.shapes[0]["type"], first.shapes[0]["points"], first.shapes[0]["attributes"]) == (
        "rectangle",
        [1.0, 2.0, 30.0, 40.0],
        [("age", "3")],
    )
    assert first.tags[0]["label"] == "dog"


def test_the_export_imports_as_the_api_does(cvat_sim, project, tmp_path, images):  # noqa: F811
    through_api = _dataset("api")
    through_api.import_annotations(
        project_id=project["id"],
        data_path=str(tmp_path / "media"),
        download_media=True,
        url=cvat_sim.url,
        username=USER,
        password=PASSWORD,
    )
    through_export = _dataset("export")
    with _api(cvat_sim) as api:
        summaries = import_from_exports(through_export, api.client, project["tasks"], tmp_path / "media")
    assert [s.samples for s in summaries] == [2, 2] and all(s.left_out == 0 for s in summaries)
    api_labels, export_labels = _labels(through_api), _labels(through_export)
    assert api_labels.keys() == export_labels.keys() and len(api_labels) == 4
    for name, fields in api_labels.items():
        assert fields.keys() == export_labels[name].keys(), name
        for field, value in fields.items():
            for a, b in zip(value.items, export_labels[name][field].items, strict=True):
                # the same objects; only the ids differ (derived from the CVAT object, or from the file)
                assert (a.label, dict(a.attributes)) == (b.label, dict(b.attributes))
                assert getattr(a, "bounding_box", None) == getattr(b, "bounding_box", None)
                assert getattr(a, "points", None) == getattr(b, "points", None)


def test_annotate_then_export_from_the_server_gives_the_labels_back(cvat_sim, tmp_path):
    from annoflow.adapters.quickstart import load_quickstart

    source = _dataset("source")
    load_quickstart(source.store, tmp_path / "media", num_samples=3, image_size=(96, 64))
    login = {"url": cvat_sim.url, "username": USER, "password": PASSWORD}
    source.annotate("run", label_field="ground_truth", **login)
    task_ids = list(source.load_annotation_results("run", **login).task_ids)
    target = _dataset("target")
    with _api(cvat_sim) as api:
        # annoflow uploads a file as <index>_<name>: the frames' names lead back to the files
        names = {
            name: str(tmp_path / "media" / name.split("_", 1)[1])
            for task_id in task_ids
            for name in media_names(api.client, task_id)
        }
        import_from_exports(target, api.client, task_ids, names)
    back = {s.filepath: s.fields.get("detections") for s in target.store.get_samples(target.store.sample_ids())}
    for sample in source.store.get_samples(source.store.sample_ids()):
        for original, imported in zip(sample.fields["ground_truth"].items, back[sample.filepath].items, strict=True):
            # the label_id attribute annoflow's tasks carry gives each label its id back
            assert (imported.id, imported.label) == (original.id, original.label)
            # annoflow's tasks hold an int attribute as CVAT text: a new dataset reads it as text...
            assert imported.attributes == {k: str(v) for k, v in original.attributes.items()}
            assert imported.bounding_box == pytest.approx(original.bounding_box, abs=0.006 / 64)
    # ...and a dataset whose field holds ints reads it back as int: the same labels, imported again
    before = {s.id: s.fields["ground_truth"] for s in source.store.get_samples(source.store.sample_ids())}
    with _api(cvat_sim) as api:
        import_from_exports(source, api.client, task_ids, names, label_types={"detections": "ground_truth"})
    after = {s.id: s.fields["ground_truth"] for s in source.store.get_samples(source.store.sample_ids())}
    for sample_id, value in before.items():
        for original, imported in zip(value.items, after[sample_id].items, strict=True):
            assert (imported.id, imported.label, imported.attributes) == (
                original.id,
                original.label,
                original.attributes,
            )


def test_annoflow_import_from_export_on_the_command_line(cvat_sim, project, tmp_path, monkeypatch, capsys):  # noqa: F811
    monkeypatch.setenv("ANNOFLOW_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("ANNOFLOW_LABEL_STORE", raising=False)
    monkeypatch.setenv("ANNOFLOW_CVAT_PASSWORD", PASSWORD)
    argv = [
        "import",
        "--from-export",
        "--project",
        "made elsewhere",
        "--dataset",
        "exported",
        "--data-path",
        str(tmp_path / "media"),
        "--download-media",
        "--url",
        cvat_sim.url,
        "--username",
        USER,
    ]
    assert cli.main(argv) == 0, capsys.readouterr().err
    assert "into dataset 'exported': 4 new samples, 8 labels, 0 objects left out" in capsys.readouterr().out
    assert (
        cli.main(argv) == 0
    )  # again: the same samples and labels (2 tasks x box, polygon, points, tag), nothing added
    assert "0 new samples, 8 labels" in capsys.readouterr().out


def test_an_export_that_fails_or_lies_is_refused(cvat_sim, project, tmp_path):  # noqa: F811
    task_id = project["tasks"][0]
    folder = tmp_path / "exports"
    folder.mkdir()
    with _api(cvat_sim) as api:
        with pytest.raises(Exception, match="Unknown format"):
            fetch_export(api.client, task_id, folder, fmt="COCO 1.0")
        path = fetch_export(api.client, task_id, folder)
        assert path.read_text().startswith('<?xml version="1.0" encoding="utf-8"?>')
        with pytest.raises(CVATAnswerError, match="more than 100 bytes"):
            fetch_export(api.client, task_id, folder, max_bytes=100)
    assert sorted(p.name for p in folder.iterdir()) == [path.name]  # nothing left behind


def test_a_video_task_exported_by_the_server_imports_its_tracks(cvat_sim, tmp_path):
    from annoflow.adapters.quickstart import generate_quickstart_video

    source = _dataset("videos")
    source.store.add_samples(
        generate_quickstart_video(
            tmp_path / "media", num_samples=1, num_frames=8, size=(64, 48), tracks_per_video=(2, 2)
        )
    )
    login = {"url": cvat_sim.url, "username": USER, "password": PASSWORD}
    source.annotate("tracks", label_field="frames.detections", attributes=False, **login)
    (task_id,) = source.load_annotation_results("tracks", **login).task_ids
    target = _dataset("target")
    with _api(cvat_sim) as api:
        xml = fetch_export(api.client, task_id, tmp_path)
        assert "mode>interpolation<" in xml.read_text() and "<track " in xml.read_text()
        (original,) = source.store.get_samples(source.store.sample_ids())
        (name,) = media_names(api.client, task_id)  # the video, as annoflow uploaded it: <index>_<name>
        (summary,) = import_from_exports(target, api.client, [task_id], {name: original.filepath})
    assert summary.format == "CVAT for video 1.1" and summary.left_out == 0
    (imported,) = target.store.get_samples(target.store.sample_ids())
    assert imported.filepath == original.filepath
    for number, frame in original.frames.items():
        back = {label.id: label for label in imported.frames[number]["detections"].detections}
        for label in frame["detections"].detections:  # every frame a keyframe, each label_id given back
            assert back[label.id].label == label.label and back[label.id].keyframe
            assert back[label.id].bounding_box == pytest.approx(label.bounding_box, abs=0.006 / 48)
        assert len(back) == len(frame["detections"].detections)


def _zip(members: dict[str, bytes]) -> bytes:
    import io

    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for name, content in members.items():
            zipped.writestr(name, content)
    return archive.getvalue()


def test_a_hostile_server_cannot_send_the_export_elsewhere_or_flood_the_disk(cvat_sim, project, tmp_path):  # noqa: F811
    from tests.rewriting_proxy import Answer, RewritingProxy

    task_id = project["tasks"][0]
    folder = tmp_path / "exports"
    folder.mkdir()
    with RewritingProxy(cvat_sim.url) as proxy:
        api = connect_to_api(url=proxy.url, username=USER, password=PASSWORD, poll_interval=0.01)
        with api:
            # a result_url naming another host: the result is still asked of this server
            proxy.rewrite_json(
                "GET",
                r"/api/requests/.+",
                lambda r: {**r, "result_url": r["result_url"].replace("127.0.0.1", "attacker.invalid")},
                times=1,
            )
            assert fetch_export(api.client, task_id, folder).read_text().startswith("<?xml")
            assert not any("attacker" in path for _, path in proxy.seen)
            # a ZIP bomb: 64 MiB of annotations.xml in a few KiB, read no further than max_bytes
            bomb = _zip({"annotations.xml": b"<annotations>" + b" " * (64 << 20)})
            assert len(bomb) < 1 << 20
            proxy.rewrite(
                "GET",
                r"/api/tasks/\d+/dataset/download/?",
                lambda _: Answer(bomb, content_type="application/zip"),
                times=1,
            )
            with pytest.raises(CVATAnswerError, match=re.escape("annotations.xml is more than 1,048,576 bytes")):
                fetch_export(api.client, task_id, folder, max_bytes=1 << 20)
            # a path outside the archive's folder, or no annotations.xml: nothing is extracted by its name
            proxy.rewrite(
                "GET",
                r"/api/tasks/\d+/dataset/download/?",
                lambda _: Answer(_zip({"../../escaped.xml": b"<annotations/>"}), content_type="application/zip"),
                times=1,
            )
            with pytest.raises(CVATAnswerError, match=re.escape("holds no annotations.xml")):
                fetch_export(api.client, task_id, folder)
            proxy.rewrite(
                "GET",
                r"/api/tasks/\d+/dataset/download/?",
                lambda _: Answer(b"<html>login</html>", content_type="text/html"),
                times=1,
            )
            with pytest.raises(CVATAnswerError, match="not a ZIP archive"):
                fetch_export(api.client, task_id, folder)
            # a request that never finishes: the wait is bounded
            api.client.wait_timeout = 0.2
            proxy.rewrite_json("GET", r"/api/requests/.+", lambda r: {**r, "status": "started"})
            with pytest.raises(CVATTimeoutError, match=r"export of task .* was not finished in time"):
                fetch_export(api.client, task_id, folder)
    assert sorted(p.name for p in folder.iterdir()) == [f"task_{task_id}.xml"]  # nothing else written
    assert not (tmp_path / "escaped.xml").exists() and not (tmp_path.parent / "escaped.xml").exists()


def test_a_video_tasks_shape_comes_back_on_its_frame_as_cvat_exports_it(cvat_sim, tmp_path):
    """CVAT's video format holds tracks only: a shape is written as a one-frame track closed on the next frame."""
    from cvat_sdk import models
    from cvat_sdk.core.proxies.annotations import AnnotationUpdateAction

    from tests.cvat_backend.test_import_annotations import _video_task

    task_id, video = _video_task(cvat_sim, tmp_path)
    with make_client(host=cvat_sim.url, credentials=(USER, PASSWORD)) as client:
        task = client.tasks.retrieve(task_id)
        car = next(label.id for label in task.get_labels() if label.name == "car")
        task.update_annotations(
            models.PatchedLabeledDataRequest(
                shapes=[
                    models.LabeledShapeRequest(
                        type="rectangle", frame=5, label_id=car, points=[40.0, 30.0, 50.0, 40.0]
                    ),
                    models.LabeledShapeRequest(type="rectangle", frame=6, label_id=car, points=[1.0, 1.0, 2.0, 2.0]),
                ]
            ),
            action=AnnotationUpdateAction.CREATE,
        )
        task.export_dataset("CVAT for video 1.1", tmp_path / "video.zip", include_images=False)
    with zipfile.ZipFile(tmp_path / "video.zip") as zipped:
        zipped.extract("annotations.xml", tmp_path)
    target = _dataset("target")
    summary = import_cvat_xml(target, tmp_path / "annotations.xml", video)
    assert summary.format == "CVAT for video 1.1" and summary.left_out == 0
    (sample,) = target.store.get_samples(target.store.sample_ids())
    boxes = {n: f["detections"].detections for n, f in sample.frames.items() if f.get("detections")}
    # the track on video frames 1-5, the first shape on frame 6 alone; the second, on the frame before the
    # last, on both: CVAT closes a shape's track only when the next frame is before the last (frame + step <
    # stop_frame), so its own export shows such a shape on the last frame too
    assert sorted(boxes) == [1, 2, 3, 4, 5, 6, 7, 8]
    (shape,) = boxes[6]
    assert shape.bounding_box == pytest.approx((40 / 64, 30 / 48, 10 / 64, 10 / 48))
    assert (
        [b.bounding_box for b in boxes[7]]
        == [b.bounding_box for b in boxes[8]]
        == [pytest.approx((1 / 64, 1 / 48, 1 / 64, 1 / 48))]
    )

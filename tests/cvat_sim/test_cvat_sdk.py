"""CVAT's own SDK (cvat-sdk 2.52.0) works against the simulator unchanged."""

from __future__ import annotations

from cvat_sdk import make_client, models
from cvat_sdk.core.proxies.tasks import ResourceType

from tests.cvat_sim.conftest import PASSWORD, USER


def _shape(kind, label_id, frame, points, **extra):
    return models.LabeledShapeRequest(type=kind, frame=frame, label_id=label_id, points=points, **extra)


def test_sdk_round_trip(cvat_sim, images):
    with make_client(host=cvat_sim.url, credentials=(USER, PASSWORD)) as client:
        project = client.projects.create(
            models.ProjectWriteRequest(
                name="sdk project",
                labels=[
                    models.PatchedLabelRequest(
                        name="cat",
                        attributes=[
                            models.AttributeRequest(name="label_id", mutable=True, input_type="text", values=[])
                        ],
                    ),
                    models.PatchedLabelRequest(name="dog"),
                ],
            )
        )
        task = client.tasks.create_from_data(
            spec=models.TaskWriteRequest(name="sdk task", project_id=project.id, segment_size=3),
            resource_type=ResourceType.LOCAL,
            resources=images,
            data_params={"image_quality": 75},
        )
        labels = {label.name: label for label in task.get_labels()}
        cat, dog = labels["cat"].id, labels["dog"].id
        spec = labels["cat"].attributes[0].id
        shapes = [
            _shape(
                "rectangle",
                cat,
                0,
                [1.0, 2.0, 30.0, 40.0],
                attributes=[models.AttributeValRequest(spec_id=spec, value="0123456789abcdef01234567")],
            ),
            _shape("polygon", dog, 1, [1.0, 1.0, 10.0, 1.0, 10.0, 10.0]),
            _shape("polyline", dog, 2, [0.0, 0.0, 5.0, 5.0, 9.0, 1.0]),
            _shape("points", cat, 3, [3.0, 4.0, 5.0, 6.0], occluded=True),
            _shape("mask", cat, 4, [0.0, 3.0, 1.0, 2.0, 2.0, 3.0, 3.0], group=2),
            _shape("ellipse", dog, 0, [20.0, 20.0, 25.0, 22.0]),
        ]
        tags = [models.LabeledImageRequest(frame=0, label_id=dog)]
        tracks = [
            models.LabeledTrackRequest(
                frame=0,
                label_id=cat,
                shapes=[
                    models.TrackedShapeRequest(type="rectangle", frame=0, points=[1.0, 1.0, 5.0, 5.0]),
                    models.TrackedShapeRequest(type="rectangle", frame=2, points=[3.0, 3.0, 7.0, 7.0], outside=True),
                ],
            )
        ]
        task.set_annotations(models.LabeledDataRequest(shapes=shapes, tags=tags, tracks=tracks))
        got = task.get_annotations()
        sent = [(s.type, s.frame, s.label_id, s.points) for s in shapes]
        assert sorted((s.type.value, s.frame, s.label_id, s.points) for s in got.shapes) == sorted(
            (t.value if hasattr(t, "value") else t, f, label_id, p) for t, f, label_id, p in sent
        )
        assert got.shapes[0].attributes[0].value == "0123456789abcdef01234567"
        assert [t.label_id for t in got.tags] == [dog]
        assert [(s.frame, s.outside) for s in got.tracks[0].shapes] == [(0, False), (2, True)]
        jobs = task.get_jobs()
        assert [(j.start_frame, j.stop_frame) for j in jobs] == [(3, 4), (0, 2)]  # CVAT lists newest first
        assert {label.name for label in client.projects.retrieve(project.id).get_labels()} == {"cat", "dog"}
        meta = task.get_meta()
        assert len(meta.frames) == len(images)


def test_sdk_tus_upload_of_large_files(cvat_sim, images):
    from pathlib import Path

    from cvat_sdk.core.uploading import DataUploader

    with make_client(host=cvat_sim.url, credentials=(USER, PASSWORD)) as client:
        task = client.tasks.create(models.TaskWriteRequest(name="tus", labels=[models.PatchedLabelRequest(name="cat")]))
        # a tiny request size forces every file through the TUS protocol, chunk by chunk
        uploader = DataUploader(client, max_request_size=1)
        response = uploader.upload_files(
            client.api_map.make_endpoint_url(f"/api/tasks/{task.id}/data/"),
            [Path(p) for p in images],
            image_quality=70,
            sorting_method="natural",
        )
        import json

        rq_id = json.loads(response.data)["rq_id"]
        client.wait_for_completion(rq_id, status_check_period=0.01)
        task.fetch()
        assert task.size == len(images)
        names = [f.name for f in task.get_meta().frames]
        assert names == sorted(Path(p).name for p in images)
    assert cvat_sim.state.tus == {}

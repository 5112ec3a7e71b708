"""CVAT's group number read back into a field's group_id attribute: 0 is "no group", so it clears it."""

from __future__ import annotations

from annoflow.adapters.cvat_format.download import Downloader
from annoflow.adapters.cvat_format.schema import ServerLabels, cvat_classes, cvat_label_requests
from annoflow.adapters.cvat_format.upload import Uploader
from annoflow.domain.label_schema import build_label_schema
from annoflow.domain.labels import Detection, Detections
from annoflow.domain.merge import ImportedLabel, merge_task
from annoflow.domain.run_records import FrameRef, TaskRecord, UploadedObject
from annoflow.domain.samples import Sample


def _server(schema):
    classes = cvat_classes(schema)
    spec = iter(range(1000, 100000))
    labels = [
        {"id": i + 1, "name": r["name"], "attributes": [{"id": next(spec), "name": a["name"]} for a in r["attributes"]]}
        for i, r in enumerate(cvat_label_requests(classes, schema))
    ]
    return ServerLabels.match(classes, labels)


def test_group_zero_clears_the_group_id_and_the_merge_takes_it_out_of_its_group():
    grouped = Detection(label="cat", bounding_box=(0.1, 0.1, 0.2, 0.2), attributes={"grp": 4})
    alone = Detection(label="cat", bounding_box=(0.5, 0.5, 0.2, 0.2))
    schema = build_label_schema(
        label_field="gt",
        label_type="detections",
        classes=["cat"],
        field_schema={},
        attributes={"grp": {"type": "group_id"}},
    )
    server = _server(schema)
    shapes = [
        {**obj.body, "id": i + 1}
        for i, obj in enumerate(Uploader(schema["gt"], server).objects(Detections([grouped, alone]), 0, 100, 100))
    ]
    assert [s["group"] for s in shapes] == [4, 0]
    shapes[0]["group"] = 0  # the annotator ungroups the first box
    found, unexpected, refused = Downloader(schema, server).read({"tags": [], "shapes": shapes}, [(100, 100)])
    assert refused == []
    assert unexpected == [] and [dict(f.value.attributes) for f in found] == [{"grp": None}, {"grp": None}]

    sample = Sample(filepath="/a.jpg", media_type="image", fields={"gt": Detections([grouped, alone])})
    task = TaskRecord(
        task_id=1,
        project_id=None,
        job_ids=[1],
        frames=[FrameRef(sample.id)],
        labels=[],
        attributes=[],
        uploaded=[
            UploadedObject("gt", label.id, sample.id, "shape", i + 1) for i, label in enumerate([grouped, alone])
        ],
    )
    imported = [ImportedLabel("gt", sample.id, f.value, f.label_id, f.cvat_ids) for f in found]
    changes, rejections = merge_task(schema, task, {sample.id: sample}, imported)
    assert rejections == [] and [(c.label_id, c.label.attributes.get("grp", "unset")) for c in changes] == [
        (grouped.id, None)
    ]


def test_a_box_drawn_in_no_group_comes_back_with_group_null_and_loads_without_a_group_id():
    """CVAT sends ``"group": null`` for an object an annotator drew outside any group."""
    schema = build_label_schema(
        label_field="gt",
        label_type="detections",
        classes=["cat"],
        field_schema={},
        attributes={"grp": {"type": "group_id"}},
    )
    server = _server(schema)
    (shape,) = [
        {**obj.body, "id": 1}
        for obj in Uploader(schema["gt"], server).objects(
            Detections([Detection(label="cat", bounding_box=(0.1, 0.1, 0.2, 0.2))]), 0, 100, 100
        )
    ]
    shape["group"] = None
    found, unexpected, refused = Downloader(schema, server).read({"tags": [], "shapes": [shape]}, [(100, 100)])
    assert refused == [] and unexpected == [] and [dict(f.value.attributes) for f in found] == [{"grp": None}]

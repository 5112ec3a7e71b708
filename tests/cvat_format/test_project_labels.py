"""An existing project's CVAT labels: read for the domain, then shared by the run's fields and told apart by object type."""

from __future__ import annotations

from annoflow.adapters.cvat_format.capabilities import CVAT_CAPABILITIES
from annoflow.adapters.cvat_format.schema import (
    ServerLabels,
    cvat_classes,
    object_type,
    project_labels,
    recorded_labels,
)
from annoflow.domain.label_schema import build_label_schema
from annoflow.domain.project_schema import ProjectAttribute, ProjectLabel, adopt_project_labels
from annoflow.domain.run_records import RemoteAttributeRef, RemoteLabelRef, TaskRecord

SERVER = [
    {
        "id": 7,
        "name": "car",
        "type": "any",
        "attributes": [
            {"id": 70, "name": "label_id", "input_type": "text", "values": [], "default_value": "", "mutable": True},
            {
                "id": 71,
                "name": "size",
                "input_type": "number",
                "values": ["0", "10", "1"],
                "default_value": "0",
                "mutable": False,
            },
        ],
    },
    {"id": 8, "name": "sunny", "type": "any", "attributes": []},
]


def test_the_project_s_labels_are_read_as_they_are_and_the_domain_decides():
    assert project_labels(SERVER) == [
        ProjectLabel(
            "car",
            [
                ProjectAttribute("label_id", "text", (), "", True),
                ProjectAttribute("size", "number", ("0", "10", "1"), "0", False),
            ],
        ),
        ProjectLabel("sunny"),
    ]
    typed = [
        {"id": 1, "name": "car", "type": "rectangle", "attributes": []},
        {"id": 2, "name": "old", "attributes": []},
    ]
    assert [(label.name, label.object_kind) for label in project_labels(typed)] == [("car", "rectangle"), ("old", None)]


def test_a_typed_label_is_a_class_of_the_fields_that_take_its_type_only_and_routes_there():
    server_labels = [
        {"id": 7, "name": "car", "type": "rectangle", "attributes": []},
        {"id": 8, "name": "sunny", "type": "tag", "attributes": []},
        {"id": 9, "name": "person", "type": "any", "attributes": []},
        {"id": 10, "name": "ring", "type": "ellipse", "attributes": []},
    ]
    requested = build_label_schema(
        label_schema={
            "boxes": {"type": "detections", "classes": ["x"]},
            "mood": {"type": "classification", "classes": ["x"]},
        },
        field_schema={},
        classes_from_project=True,
    )
    schema = adopt_project_labels(requested, project_labels(server_labels), CVAT_CAPABILITIES)
    assert schema["boxes"].classes == ("car", "person") and schema["mood"].classes == ("sunny", "person")
    server = ServerLabels.match(cvat_classes(schema), server_labels, existing_project=True)
    assert server.label_ids == {
        ("boxes", "car"): 7,
        ("boxes", "person"): 9,
        ("mood", "sunny"): 8,
        ("mood", "person"): 9,
    }
    assert set(server.shared) == {9}  # only the "any" label stands for a class of both fields
    assert server.class_of(7, "rectangle").field == "boxes" and server.class_of(8, "tag").field == "mood"
    assert server.class_of(9, "rectangle").field == "boxes" and server.class_of(9, "tag").field == "mood"
    assert server.class_of(10, "ellipse") is None  # a label of no field: loads as unexpected
    task = TaskRecord(
        task_id=1,
        project_id=3,
        job_ids=[2],
        frames=[],
        uploaded=[],
        labels=[RemoteLabelRef(label_id, c.cvat_name, c.field, c.class_name) for label_id, c in server.pairs()]
        + [RemoteLabelRef(10, "ring", "", "ring")],
        attributes=[],
    )
    again = recorded_labels(schema, task)  # a load routes from the record alike
    assert again.label_ids == server.label_ids and set(again.shared) == {9}
    assert again.class_of(8, "tag").field == "mood" and again.class_of(10, "ellipse") is None


def _shared():
    requested = build_label_schema(
        label_schema={"boxes": {"type": "detections", "classes": ["x"]}, "mood": {"type": "scalar"}},
        field_schema={},
        classes_from_project=True,
    )
    schema = adopt_project_labels(requested, project_labels(SERVER), CVAT_CAPABILITIES)
    return schema, ServerLabels.match(cvat_classes(schema), SERVER, existing_project=True)


def test_a_label_shared_by_several_fields_goes_to_the_field_that_takes_the_object():
    schema, server = _shared()
    assert schema["boxes"].classes == schema["mood"].classes == ("car", "sunny")
    assert server.label_ids == {("boxes", "car"): 7, ("boxes", "sunny"): 8, ("mood", "car"): 7, ("mood", "sunny"): 8}
    assert server.class_of(7, "rectangle").field == "boxes" and server.class_of(7, "mask").field == "boxes"
    assert server.class_of(7, "tag").field == "mood" and server.class_of(8, "tag").field == "mood"
    assert server.class_of(7, "points") is None and server.class_of(99, "tag") is None
    # each field sends its own class's attributes: the scalar's tags carry none, the boxes the project's
    assert [a.name for a in server.class_in("boxes", 7).attributes] == ["size"]
    assert server.class_in("mood", 7).attributes == ()
    assert {(label_id, c.field) for label_id, c in server.pairs()} == {
        (7, "boxes"),
        (8, "boxes"),
        (7, "mood"),
        (8, "mood"),
    }
    assert all(c.cvat_name == {7: "car", 8: "sunny"}[label_id] for label_id, c in server.pairs())  # the project's names
    assert object_type({"type": "rectangle"}, "shapes") == "rectangle" and object_type({}, "tags") == "tag"


def test_the_task_record_gives_back_the_same_routing_without_a_request():
    schema, server = _shared()
    task = TaskRecord(
        task_id=1,
        project_id=3,
        job_ids=[2],
        frames=[],
        uploaded=[],
        labels=[RemoteLabelRef(label_id, c.cvat_name, c.field, c.class_name) for label_id, c in server.pairs()]
        + [RemoteLabelRef(9, "stray", "", "stray")],  # a project label of no run field
        attributes=[RemoteAttributeRef(spec, label, name) for (label, name), spec in server.spec_ids.items()],
    )
    again = recorded_labels(schema, task)
    assert again.label_ids == server.label_ids and again.spec_ids == server.spec_ids
    assert again.class_of(7, "rectangle").field == "boxes" and again.class_of(7, "tag").field == "mood"
    assert again.class_of(9, "tag") is None


def test_a_project_the_run_made_keeps_one_label_per_class_of_each_field():
    schema = build_label_schema(
        label_schema={"a": {"type": "detections", "classes": ["car"]}, "b": {"type": "polylines", "classes": ["car"]}},
        field_schema={},
    )
    names = [c.cvat_name for c in cvat_classes(schema)]
    assert names == ["car_a", "car_b"]
    server = ServerLabels.match(cvat_classes(schema), [{"id": 1, "name": "car_a"}, {"id": 2, "name": "car_b"}])
    assert server.shared == {} and server.class_of(1, "polyline").field == "a"  # the downloader then refuses the type

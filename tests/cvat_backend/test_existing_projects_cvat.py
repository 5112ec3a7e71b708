"""annotate() into CVAT projects that already exist, against the simulator: the project's labels rule.

FiftyOne's CVAT guide, "Uploading to existing projects": the project's classes and attributes replace
the run's (``ProjectSchemaAdopted``, recorded before the first task), several fields share
the project's plain label names and are told apart by object type, and a project made
elsewhere (without annoflow's ``label_id`` attribute) still loads edits into the labels
uploaded, by the CVAT ids recorded at upload.
"""

from __future__ import annotations

import httpx
import pytest

from annoflow.adapters.cvat.errors import CVATError
from annoflow.adapters.cvat_sim.annotator import ScriptedAnnotator
from annoflow.adapters.quickstart import CLASSES, WEATHER
from annoflow.application.ports.annotation_backend import ProjectNotFoundError
from annoflow.domain.label_schema import AttributeSpec, ClassGroup, LabelSchemaError
from annoflow.domain.labels import Detection, Keypoint, Polyline, labels_in
from tests.cvat_backend.conftest import PASSWORD, USER

CAR = [
    {"name": "seen", "input_type": "checkbox", "mutable": False, "values": ["false"], "default_value": "false"},
    {"name": "size", "input_type": "number", "mutable": False, "values": ["0", "10", "1"], "default_value": "0"},
]


def _api(sim):
    client = httpx.Client(base_url=sim.url)
    client.headers["Authorization"] = (
        "Token " + client.post("/api/auth/login", json={"username": USER, "password": PASSWORD}).json()["key"]
    )
    return client


def _foreign_project(sim, name="made_elsewhere"):
    """A project made in CVAT's UI: no label_id attribute, a number and a checkbox on `car`."""
    names = [*CLASSES, "region", "lane", *WEATHER]
    labels = [{"name": n, "type": "any", "attributes": CAR if n == "car" else []} for n in names]
    answer = _api(sim).post("/api/projects", json={"name": name, "labels": labels})
    answer.raise_for_status()
    return answer.json()["id"], names


def _event_names(dataset, key):
    from annoflow.application.audit import run_history

    run = dataset.registry.get_run("quickstart", key)
    return [entry.event for entry in run_history(dataset.registry, run.id)]


def test_a_project_made_elsewhere_rules_and_its_edits_load_by_cvat_id(dataset, login, cvat_sim):
    project_id, names = _foreign_project(cvat_sim)
    results = dataset.annotate(
        "foreign",
        label_field="predictions",
        classes=["cat"],
        attributes={"mine": {"type": "text"}},
        project_id=project_id,
        **login,
    )
    run = dataset.registry.get_run("quickstart", "foreign")
    assert _event_names(dataset, "foreign")[:3] == ["Requested", "ProjectSchemaAdopted", "TaskStarted"]
    (field,) = run.label_schema
    assert field.classes == tuple(names) and field.attributes == ()  # the run's classes and attributes are ignored
    car = ClassGroup(
        ["car"],
        [
            AttributeSpec("seen", "checkbox", default=False, mutable=False),
            AttributeSpec("size", "text", default="0", mutable=False, value_type="int"),
        ],
    )
    assert field.class_groups == (car,)
    assert results.project_ids == [project_id] and run.created_projects == []

    (task_id,) = results.task_ids
    api = _api(cvat_sim)
    stored = api.get(f"/api/tasks/{task_id}/annotations").json()["shapes"]
    predictions = {d.id: (s.id, d) for s in dataset.iter_samples() for d in labels_in(s.fields["predictions"])}
    assert len(stored) == len(predictions)  # every class is in the project
    label_attributes = {
        label["id"]: {a["id"]: a["name"] for a in label["attributes"]}
        for label in api.get("/api/labels", params={"project_id": project_id, "page_size": 100}).json()["results"]
    }
    assert "label_id" not in {name for specs in label_attributes.values() for name in specs.values()}
    uploaded = dataset.registry.get_ledger(run, task_id).record().uploaded
    assert {u.label_id for u in uploaded} == set(predictions)  # provenance: the CVAT ids, by position
    assert sorted(u.remote_id for u in uploaded) == sorted(s["id"] for s in stored)

    moved = uploaded[0]
    _sample_id, original = predictions[moved.label_id]
    with ScriptedAnnotator(cvat_sim.url, USER, PASSWORD) as annotator:
        annotator.move_shape(task_id, moved.remote_id, [1.0, 2.0, 30.0, 40.0])
        annotator.add_shape(
            task_id, "car", 0, "rectangle", [10.0, 10.0, 20.0, 30.0], attributes={"size": "3", "seen": "true"}
        )
    dataset.load_annotations("foreign", **login)
    boxes = {d.id: d for s in dataset.iter_samples() for d in labels_in(s.fields["predictions"])}
    edited = boxes[moved.label_id]  # merged into the label uploaded, though CVAT's object carries no label_id
    assert edited.label == original.label and edited.bounding_box == pytest.approx((1 / 96, 2 / 64, 29 / 96, 38 / 64))
    (added,) = [d for i, d in boxes.items() if i not in predictions]
    assert added.label == "car" and dict(added.attributes) == {"size": 3, "seen": True}  # a number comes back as one
    assert all(boxes[i] == d for i, (_, d) in predictions.items() if i != moved.label_id)
    dataset.load_annotation_results("foreign", **login).cleanup()
    assert api.get(f"/api/tasks/{task_id}").status_code == 404
    assert api.get(f"/api/projects/{project_id}").status_code == 200  # not the run's to delete


def test_several_fields_share_the_project_s_labels_and_come_back_by_object_type(dataset, login, cvat_sim):
    project_id, names = _foreign_project(cvat_sim)
    schema = {"predictions": {}, "polylines": {}, "keypoints": {}, "weather": {}}
    before = {s.id: dict(s.fields) for s in dataset.iter_samples()}
    results = dataset.annotate("fields", label_schema=schema, project_id=project_id, **login)
    run = dataset.registry.get_run("quickstart", "fields")
    assert [f.classes for f in run.label_schema] == [tuple(names)] * 4
    (task_id,) = results.task_ids
    record = dataset.registry.get_ledger(run, task_id).record()
    car = {ref.remote_label_id for ref in record.labels if ref.class_name == "car"}
    assert len(car) == 1 and {ref.field for ref in record.labels if ref.class_name == "car"} == set(schema)
    every = {d.id for s in before.values() for f in schema for d in labels_in(s[f])}
    assert {u.label_id for u in record.uploaded} == every

    with ScriptedAnnotator(cvat_sim.url, USER, PASSWORD) as annotator:
        annotator.add_shape(task_id, "car", 0, "rectangle", [10.0, 10.0, 20.0, 30.0])
        annotator.add_shape(task_id, "car", 0, "polyline", [1.0, 1.0, 40.0, 50.0])
        annotator.add_shape(task_id, "car", 0, "points", [5.0, 6.0, 7.0, 8.0])
        annotator.add_shape(task_id, "car", 0, "ellipse", [5.0, 6.0, 7.0, 8.0])  # no field takes an ellipse
    unexpected = dataset.load_annotations("fields", unexpected="return", **login)
    assert list(unexpected) == ["ellipse"] and "of 'car'" in unexpected["ellipse"][0].description
    first = dataset.first()
    added = {f: [label for label in labels_in(first.fields[f]) if label.id not in every] for f in schema}
    assert [type(added_label) for added_label in added["predictions"]] == [Detection] and added["predictions"][
        0
    ].label == "car"
    assert [type(added_label) for added_label in added["polylines"]] == [Polyline] and added["polylines"][
        0
    ].label == "car"
    assert [type(added_label) for added_label in added["keypoints"]] == [Keypoint] and added["keypoints"][
        0
    ].label == "car"
    assert added["weather"] == []
    for sample in dataset.iter_samples():  # what nobody touched is as it was
        for f in schema:
            old = {label.id: label for label in labels_in(before[sample.id][f])}
            assert {label.id: label for label in labels_in(sample.fields[f]) if label.id in old} == old


def test_two_fields_that_could_take_the_same_object_are_refused_before_any_task(dataset, login, cvat_sim):
    project_id, _ = _foreign_project(cvat_sim)
    with pytest.raises(LabelSchemaError, match=r"fields 'ground_truth' \(instances\) and 'predictions' \(detections\)"):
        dataset.annotate("both", label_schema={"ground_truth": {}, "predictions": {}}, project_id=project_id, **login)
    assert cvat_sim.state.tasks == {} and list(cvat_sim.state.projects) == [project_id]
    assert dataset.list_annotation_runs() == []  # the key is free for the corrected call


def test_a_run_without_fields_or_classes_needs_the_project_to_exist(dataset, login, cvat_sim):
    with pytest.raises(LabelSchemaError, match="no label field"):
        dataset.annotate("nothing", project_name="not_yet", **login)
    with pytest.raises(LabelSchemaError, match="field 'new_boxes': classes are required for a new field"):
        dataset.annotate("nothing", label_field="new_boxes", label_type="detections", project_name="not_yet", **login)
    assert cvat_sim.state.projects == {} and cvat_sim.state.tasks == {} and dataset.list_annotation_runs() == []
    project_id, names = _foreign_project(cvat_sim, "not_yet")
    results = dataset.annotate(
        "named", label_field="new_boxes", label_type="detections", project_name="not_yet", **login
    )
    assert dataset.registry.get_run("quickstart", "named").label_schema["new_boxes"].classes == tuple(names)
    assert results.project_ids == [project_id]


def test_an_interrupted_upload_into_an_existing_project_resumes_with_the_adopted_schema(dataset, login, cvat_sim):
    project_id, names = _foreign_project(cvat_sim)
    cvat_sim.faults.add("POST", r"^/api/tasks/\d+/data/?$", nth=1, status=500)  # after the task is made
    with pytest.raises(CVATError):
        dataset.annotate("cut", label_field="predictions", project_id=project_id, **login)
    assert _event_names(dataset, "cut") == ["Requested", "ProjectSchemaAdopted", "TaskStarted"]
    cvat_sim.faults.clear()
    results = dataset.annotate("cut", resume=True, **login)
    events = _event_names(dataset, "cut")
    assert events.count("ProjectSchemaAdopted") == 1 and events[-1] == "UploadCompleted"
    assert dataset.registry.get_run("quickstart", "cut").label_schema["predictions"].classes == tuple(names)
    assert results.project_ids == [project_id] and len(results.task_ids) == 1


def _refused_and_nothing_left(dataset, login, cvat_sim, project_id):
    with pytest.raises(ProjectNotFoundError) as caught:
        dataset.annotate("typo", label_field="predictions", project_id=project_id, **login)
    assert str(caught.value) == (
        f"CVAT has no project {project_id} (or this user cannot see it): pass an existing "
        "project_id, or project_name to create one"
    )
    assert cvat_sim.state.tasks == {} and dataset.list_annotation_runs() == []  # nothing made, the key is free


def test_a_project_id_that_names_no_project_is_refused_and_frees_the_key(dataset, login, cvat_sim):
    _refused_and_nothing_left(dataset, login, cvat_sim, 4242)
    assert cvat_sim.state.projects == {}
    project_id, _names = _foreign_project(cvat_sim)
    results = dataset.annotate("typo", label_field="predictions", project_id=project_id, **login)  # the corrected call
    assert results.project_ids == [project_id] and _event_names(dataset, "typo")[:2] == [
        "Requested",
        "ProjectSchemaAdopted",
    ]


def test_a_project_the_user_cannot_see_is_refused_like_a_missing_one(dataset, login, cvat_sim):
    cvat_sim.state.add_organization("elsewhere", owner="reviewer")
    reviewer = httpx.Client(base_url=cvat_sim.url, headers={"X-Organization": "elsewhere"})
    token = reviewer.post("/api/auth/login", json={"username": "reviewer", "password": "reviewer-pw"}).json()["key"]
    reviewer.headers["Authorization"] = "Token " + token
    hidden = reviewer.post("/api/projects", json={"name": "theirs", "labels": [{"name": "car"}]}).json()["id"]
    _refused_and_nothing_left(dataset, login, cvat_sim, hidden)  # CVAT answers 404 outside the project's organization
    project_id, _ = _foreign_project(cvat_sim)
    cvat_sim.faults.add("GET", rf"^/api/projects/{project_id}$", nth=1, status=403)  # and 403 without the permission
    _refused_and_nothing_left(dataset, login, cvat_sim, project_id)
    assert sorted(cvat_sim.state.projects) == sorted([hidden, project_id])


def _typed_project(sim, kinds, name="typed"):
    """A project whose labels have CVAT types, as made in CVAT's UI: ``kinds`` maps label name -> type."""
    labels = [{"name": n, "type": kind, "attributes": []} for n, kind in kinds.items()]
    answer = _api(sim).post("/api/projects", json={"name": name, "labels": labels})
    answer.raise_for_status()
    return answer.json()["id"]


def test_a_typed_label_serves_only_the_fields_that_take_its_type(dataset, login, cvat_sim):
    kinds = {
        "person": "any",
        "dog": "tag",
        **{c: "rectangle" for c in CLASSES if c not in ("person", "dog")},
        "region": "polyline",
        "lane": "polyline",
        **{w: "tag" for w in WEATHER},
    }
    project_id = _typed_project(cvat_sim, kinds)
    schema = {"predictions": {}, "polylines": {}, "keypoints": {}, "weather": {}}
    before = {s.id: dict(s.fields) for s in dataset.iter_samples()}
    results = dataset.annotate("typed", label_schema=schema, project_id=project_id, **login)
    run = dataset.registry.get_run("quickstart", "typed")
    classes = {f.path: f.classes for f in run.label_schema}
    assert classes == {
        "predictions": ("person", *[c for c in CLASSES if c not in ("person", "dog")]),
        "polylines": ("person", "region", "lane"),
        "keypoints": ("person",),
        "weather": ("person", "dog", *WEATHER),
    }
    (task_id,) = results.task_ids
    record = dataset.registry.get_ledger(run, task_id).record()
    assert {ref.field for ref in record.labels if ref.class_name == "person"} == set(schema)  # "any": every field
    assert {ref.field for ref in record.labels if ref.class_name == "dog"} == {"weather"}  # a tag: the tag field only
    every = {d.id for s in before.values() for f in schema for d in labels_in(s[f]) if d.label in classes[f]}
    assert {u.label_id for u in record.uploaded} == every  # a "dog" box has no label to go up with: not sent
    assert any(d.label == "dog" for s in before.values() for d in labels_in(s["predictions"]))

    with ScriptedAnnotator(cvat_sim.url, USER, PASSWORD) as annotator:
        annotator.add_shape(task_id, "car", 0, "rectangle", [10.0, 10.0, 20.0, 30.0])
        annotator.add_shape(task_id, "person", 0, "points", [5.0, 6.0, 7.0, 8.0])
        annotator.add_shape(task_id, "lane", 0, "polyline", [1.0, 1.0, 40.0, 50.0])
    assert dataset.load_annotations("typed", unexpected="return", **login) == {}
    first = dataset.first()
    added = {
        f: [
            (type(added_label).__name__, added_label.label)
            for added_label in labels_in(first.fields[f])
            if added_label.id not in every
        ]
        for f in schema
    }
    assert added == {
        "predictions": [("Detection", "car")],
        "polylines": [("Polyline", "lane")],
        "keypoints": [("Keypoint", "person")],
        "weather": [],
    }


def test_a_field_no_label_type_serves_is_refused_before_any_task(dataset, login, cvat_sim):
    project_id = _typed_project(cvat_sim, {"car": "rectangle", "sunny": "tag"})
    with pytest.raises(
        LabelSchemaError,
        match=r"field 'keypoints' \(keypoints\): none of the project's labels can be "
        r"drawn as points \(its labels by type: rectangle: car; tag: sunny\)",
    ):
        dataset.annotate("points", label_field="keypoints", project_id=project_id, **login)
    assert cvat_sim.state.tasks == {} and list(cvat_sim.state.projects) == [project_id]
    assert dataset.list_annotation_runs() == []

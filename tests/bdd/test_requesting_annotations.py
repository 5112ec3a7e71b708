"""Step code for features/requesting_annotations.feature, against the CVAT simulator over HTTP."""

from __future__ import annotations

import numpy as np
from PIL import Image
from pytest_bdd import given, parsers, scenarios, then

from annoflow.domain.changes import SetValue
from annoflow.domain.labels import labels_in
from tests.bdd.conftest import _api

scenarios("requesting_annotations.feature")


def _labels(world):
    api = _api(world)
    (task_id, *_) = world["results"].task_ids
    return api.get("/api/labels", params={"task_id": task_id, "page_size": 100}).json()["results"]


@then(parsers.parse("CVAT has {count:d} task for the run"))
def task_count(world, count):
    assert len(world["results"].task_ids) == count
    assert set(world["results"].task_ids) <= set(world["sim"].state.tasks)


@then("every ground_truth detection of the sample is in CVAT with its label_id")
def detections_uploaded(world):
    api = _api(world)
    (task_id,) = world["results"].task_ids
    shapes = api.get(f"/api/tasks/{task_id}/annotations").json()["shapes"]
    specs = {a["id"]: a["name"] for label in _labels(world) for a in label["attributes"]}
    ids = {a["value"] for s in shapes for a in s["attributes"] if specs[a["spec_id"]] == "label_id"}
    assert ids == {d.id for d in labels_in(world["sample"].fields["ground_truth"])}


@then(parsers.parse('the CVAT labels carry the attributes "{names}"'))
def label_attributes(world, names):
    wanted = [n.strip() for n in names.split(",")]
    for label in _labels(world):
        assert [a["name"] for a in label["attributes"]] == wanted


@then(parsers.parse('the CVAT labels are "{names}"'))
def labels_are(world, names):
    assert [label["name"] for label in _labels(world)] == [n.strip() for n in names.split(",")]


@then(parsers.parse('the CVAT labels include "{names}"'))
def labels_include(world, names):
    assert {n.strip() for n in names.split(",")} <= {label["name"] for label in _labels(world)}


@then("CVAT holds no annotations for the run")
def no_annotations(world):
    api = _api(world)
    for task_id in world["results"].task_ids:
        stored = api.get(f"/api/tasks/{task_id}/annotations").json()
        assert stored["shapes"] == stored["tags"] == stored["tracks"] == []


@then("the CVAT editor was opened on the run's first job")
def editor_opened(world):
    task_id = world["results"].task_ids[0]
    assert world["opened"] == [f"{world['sim'].url}/tasks/{task_id}/jobs/{world['results'].job_ids[task_id][0]}"]


@then(parsers.parse('the run\'s task is assigned to "{user}"'))
def task_assignee(world, user):
    api = _api(world)
    (task_id,) = world["results"].task_ids
    assert api.get(f"/api/tasks/{task_id}").json()["assignee"]["username"] == user


@then(parsers.parse('the run\'s jobs are assigned to "{users}"'))
def job_assignees(world, users):
    api = _api(world)
    (task_id,) = world["results"].task_ids
    jobs = sorted(api.get("/api/jobs", params={"task_id": task_id}).json()["results"], key=lambda j: j["start_frame"])
    assert [j["assignee"]["username"] for j in jobs] == [u.strip() for u in users.split(",")]


@given(parsers.parse('every sample has blurred copies in the field "{field}"'))
def blurred(world, field):
    changes = []
    for sample in world["store"].get_samples():
        image = np.asarray(Image.open(sample.filepath))
        blurred = np.full_like(image, int(image.mean()))
        path = world["tmp"] / f"blurred_{sample.id}.png"
        Image.fromarray(blurred).save(path)
        changes.append(SetValue(sample.id, field, str(path)))
    world["store"].apply(changes)


@then("CVAT shows the blurred image, not the original")
def blurred_uploaded(world):
    api = _api(world)
    (task_id,) = world["results"].task_ids
    frame = api.get(f"/api/tasks/{task_id}/data", params={"type": "frame", "number": 0, "quality": "original"}).content
    with open(world["sample"].fields["alt_filepath"], "rb") as handle:
        assert frame == handle.read()


@given(parsers.re(r'the ground_truth labels have an? "(?P<name>occluded|group_id)" attribute'))
def widget_attribute(world, name):
    from annoflow.domain.changes import PutLabel

    changes = []
    for sample in world["store"].get_samples():
        for i, det in enumerate(labels_in(sample.fields["ground_truth"])):
            value = i % 2 == 0 if name == "occluded" else i // 2 + 1  # a bool widget, or group numbers
            changes.append(PutLabel(sample.id, "ground_truth", det.replace(attributes={**det.attributes, name: value})))
    world["store"].apply(changes)


@then(parsers.re(r"CVAT's (?P<prop>occluded flags|group numbers) match the labels' (?P<name>\w+) attribute"))
def widget_values(world, prop, name):
    api = _api(world)
    (task_id,) = world["results"].task_ids
    shapes = api.get(f"/api/tasks/{task_id}/annotations").json()["shapes"]
    specs = {a["id"]: a["name"] for label in _labels(world) for a in label["attributes"]}
    key = "occluded" if prop == "occluded flags" else "group"
    expected = {d.id: d.attributes[name] for d in labels_in(world["sample"].fields["ground_truth"])}
    seen = {next(a["value"] for a in s["attributes"] if specs[a["spec_id"]] == "label_id"): s[key] for s in shapes}
    assert seen == expected


@then(parsers.parse('the run records the restrictions "{flags}"'))
def restrictions(world, flags):
    field = world["run"].label_schema["ground_truth"]
    refused = {f.strip() for f in flags.split(",")}
    for flag in ("allow_additions", "allow_deletions", "allow_label_edits", "allow_index_edits", "allow_spatial_edits"):
        assert getattr(field, flag) is (flag not in refused)


@then(parsers.parse('both runs\' tasks are in the project "{name}"'))
def in_project(world, name):
    api = _api(world)
    (project,) = api.get("/api/projects", params={"name": name}).json()["results"]
    runs = [world["dataset"].registry.get_run("quickstart", key) for key in world["dataset"].list_annotation_runs()]
    tasks = {t["id"] for t in api.get("/api/tasks", params={"project_id": project["id"]}).json()["results"]}
    assert tasks == {t for run in runs for t in run.task_ids}
    assert [run.created_projects for run in runs] == [[project["id"]], []]


@then(parsers.parse('the run\'s task is named "{name}" with the issue tracker "{url}"'))
def task_named(world, name, url):
    api = _api(world)
    (task_id,) = world["results"].task_ids
    task = api.get(f"/api/tasks/{task_id}").json()
    assert (task["name"], task["bug_tracker"]) == (name, url)

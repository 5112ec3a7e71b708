"""Step code for features/existing_projects.feature: FiftyOne's CVAT guide, "Uploading to existing projects"
example (its load parts: the second run with the project's schema, and a task with no label fields),
a project_id naming no project, and a project whose labels have CVAT types."""

from __future__ import annotations

import json

from pytest_bdd import given, parsers, scenarios, then, when

from tests.bdd.cvat_steps import annotator, login, run_of
from tests.bdd.support import attempt

scenarios("existing_projects.feature")


@then(parsers.parse('the project "{name}" and the task of "{key}" are still in CVAT'))
def project_and_first_task_kept(world, name, key):
    (task,) = run_of(world, key).task_ids
    with annotator(world) as client:
        (project,) = client.client.get("/api/projects", params={"name": name}).json()["results"]
        kept = client.client.get(f"/api/tasks/{task}").json()
    assert kept["project_id"] == project["id"]


@when(parsers.parse('I try to annotate the first sample with key "{key}"'))
def try_annotate(world, key, docstring):
    attempt(world, lambda: world["dataset"].limit(1).annotate(key, **login(world), **json.loads(docstring)))


@then("CVAT holds no project and no task")
def nothing_in_cvat(world):
    assert world["sim"].state.projects == {} and world["sim"].state.tasks == {}


@then("the dataset has no annotation runs")
def no_runs(world):
    assert world["dataset"].list_annotation_runs() == []


@then(parsers.parse('the run\'s CVAT task is in the project "{name}"'))
def task_in_project(world, name):
    (task,) = world["results"].task_ids
    with annotator(world) as client:
        (project,) = client.client.get("/api/projects", params={"name": name}).json()["results"]
        assert client.client.get(f"/api/tasks/{task}").json()["project_id"] == project["id"]


@given(parsers.parse('a CVAT project "{name}" made in CVAT with labels of these types'))
def typed_project(world, name, docstring):
    labels = [{"name": label, "type": kind, "attributes": []} for label, kind in json.loads(docstring).items()]
    with annotator(world) as client:
        client.client.post("/api/projects", json={"name": name, "labels": labels}).raise_for_status()


@then("the run's fields take the classes")
def fields_take(world, docstring):
    assert {f.path: list(f.classes) for f in world["run"].label_schema} == json.loads(docstring)

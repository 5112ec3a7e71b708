"""Every read model as CVAT 2.52 sends it: every property its schema model lists, null when unset.

The `cvat_sim` fixture's validator checks each response for completeness as well as validity
(completeness.py); the tour below drives every route the simulator serves and checks that it saw
every response model those routes document, walking the vendored schema from their answers.
"""

from __future__ import annotations

import re

import httpx
import orjson

from annoflow.adapters.cvat_sim.app import build_app
from annoflow.adapters.cvat_sim.completeness import Completeness
from annoflow.adapters.cvat_sim.faults import Exchange, FaultPlan
from annoflow.adapters.cvat_sim.openapi import shared_schema
from annoflow.adapters.cvat_sim.state import SimState
from tests.cvat_sim.conftest import PASSWORD, USER
from tests.cvat_sim.test_server_api import LABELS, _task_with_data

# Models the documented answers reach that the simulator never fills, each for its reason:
NEVER_FILLED = {
    "Storage": "no task or project of the simulator has a source or target storage: CVAT sends null",
    "Sublabel": "skeleton sublabels are not simulated: sublabels is always []",
    "SubLabeledShape": "elements of a skeleton shape: not simulated, elements is always []",
    "SubLabeledTrack": "elements of a skeleton track: not simulated",
    "Chapter": "the simulator's videos have no chapters: [] for a video, null for images",
    "ChapterMetadata": "inside a Chapter",
}


def _schema_template(route_path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", route_path).rstrip("/")


def _served_operations() -> list[tuple[str, str]]:
    """(schema path, method) of every route the simulator serves that CVAT's schema documents."""
    spec = shared_schema()
    templates = {_schema_template(path): path for path in spec["paths"]}
    app = build_app(SimState.__new__(SimState), FaultPlan())
    served = set()
    for route in app.routes:
        documented = templates.get(_schema_template(route.path))
        for method in getattr(route, "methods", ()) or ():
            if documented and method.lower() in spec["paths"][documented]:
                served.add((documented, method.lower()))
    return sorted(served)


def _reachable_models(schema, components, found: set[str]) -> None:
    if isinstance(schema, dict):
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            if name not in found:
                if "properties" in components[name]:  # an object model, not an enum or a union of models
                    found.add(name)
                _reachable_models(components[name], components, found)
            return
        for value in schema.values():
            _reachable_models(value, components, found)
    elif isinstance(schema, list):
        for value in schema:
            _reachable_models(value, components, found)


def _documented_response_models() -> set[str]:
    spec = shared_schema()
    found: set[str] = set()
    for path, method in _served_operations():
        for status, answer in spec["paths"][path][method]["responses"].items():
            if status.startswith("2"):
                for media in answer.get("content", {}).values():
                    _reachable_models(media.get("schema"), spec["components"]["schemas"], found)
    return found


def test_an_unassigned_task_sends_null_for_every_unset_reference(cvat_sim, api, images):
    """What an independent client read: KeyError 'assignee' on an unassigned task."""
    project = api.post("/api/projects", json={"name": "p", "labels": [{"name": "cat"}]}).json()
    task = api.get(f"/api/tasks/{_task_with_data(api, images[:2], project_id=project['id'], labels=[])}").json()
    job = api.get("/api/jobs", params={"task_id": task["id"]}).json()["results"][0]
    for body in (project, task, job):
        assert body["assignee"] is None and body["target_storage"] is None and body["source_storage"] is None
        assert body["assignee_updated_date"] is None
    assert project["owner"]["username"] == task["owner"]["username"] == USER
    assert task["validation_mode"] is None and task["guide_id"] is None and task["data_cloud_storage_id"] is None
    assert job["bug_tracker"] == ""  # the task's is empty: the project's (also empty) stands in


def test_the_tour_sends_every_property_of_every_model(cvat_sim, cvat_schema, api, images, tmp_path):
    cvat_schema.take_problems()
    cvat_schema.completeness.models_seen.clear()
    assert (
        httpx.post(f"{cvat_sim.url}/api/auth/login", json={"username": USER, "password": PASSWORD}).status_code == 200
    )
    anonymous = httpx.get(f"{cvat_sim.url}/api/server/about")
    assert anonymous.status_code == 200
    reviewer = next(u for u in api.get("/api/users").json()["results"] if u["username"] == "reviewer")
    me = api.get("/api/users/self").json()
    assert set(api.get(f"/api/users/{me['id']}").json()) == set(me)  # themself: the full User
    assert set(api.get(f"/api/users/{reviewer['id']}").json()) == set(reviewer)  # another: a BasicUser
    assert "email" in me and "email" not in reviewer

    # a project, a task in it without data, a task of its own labels with data
    project = api.post("/api/projects", json={"name": "p", "labels": LABELS, "assignee_id": reviewer["id"]}).json()
    assert project["assignee"]["id"] == reviewer["id"] and project["assignee_updated_date"] is not None
    created = api.post("/api/tasks", json={"name": "empty", "project_id": project["id"]}).json()
    assert (created["jobs"]["count"], created["jobs"]["completed"], created["jobs"]["validation"]) == (0, 0, 0)
    assert "size" not in created and "data" not in created  # no data: CVAT skips the data.* fields
    task_id = _task_with_data(api, images, segment_size=2)
    api.patch(f"/api/tasks/{task_id}", json={"assignee_id": reviewer["id"], "name": "renamed"})
    task = api.get(f"/api/tasks/{task_id}").json()
    assert task["assignee_updated_date"] is not None and task["jobs"] == {
        "count": 3,
        "completed": 0,
        "validation": 0,
        "url": task["jobs"]["url"],
    }
    api.get("/api/tasks", params={"page_size": 100})
    api.get("/api/projects")
    api.get(f"/api/projects/{project['id']}")
    api.patch(f"/api/projects/{project['id']}", json={"name": "p2"})

    labels = api.get("/api/labels", params={"task_id": task_id}).json()["results"]
    assert all("project_id" not in label and "svg" not in label for label in labels)
    project_labels = api.get("/api/labels", params={"project_id": project["id"]}).json()["results"]
    assert all("task_id" not in label for label in project_labels)
    api.get(f"/api/labels/{labels[0]['id']}")

    jobs = api.get("/api/jobs", params={"task_id": task_id}).json()["results"]
    assert [j["id"] for j in jobs] == sorted((j["id"] for j in jobs), reverse=True)  # JobViewSet: newest first
    moved = api.patch(f"/api/jobs/{jobs[0]['id']}", json={"stage": "validation"}).json()
    assert (moved["stage"], moved["state"], moved["status"]) == ("validation", "new", "validation")
    done = api.patch(f"/api/jobs/{jobs[0]['id']}", json={"stage": "acceptance", "state": "completed"}).json()
    assert done["status"] == "completed"
    assert api.get(f"/api/tasks/{task_id}").json()["jobs"]["completed"] == 1
    api.get(f"/api/jobs/{jobs[0]['id']}")
    job_meta = api.get(f"/api/jobs/{jobs[0]['id']}/data/meta").json()
    task_meta = api.get(f"/api/tasks/{task_id}/data/meta").json()
    last = next(j for j in jobs if j["start_frame"] == 4)
    assert api.get(f"/api/jobs/{last['id']}/data/meta").json()["start_frame"] == 4
    assert job_meta["included_frames"] is None and task_meta["chapters"] is None

    requests = api.get("/api/requests").json()["results"]
    request = api.get(f"/api/requests/{requests[0]['id']}").json()
    assert request["operation"]["format"] is None and "function_id" not in request["operation"]
    assert request["result_id"] is None and request["expiry_date"] is not None
    status = api.get(f"/api/tasks/{task_id}/status")
    assert status.json() == {"state": "Finished", "message": "", "progress": 0.0}
    assert status.headers["deprecation"] == "true"

    cat = next(label for label in labels if label["name"] == "cat")
    spec = cat["attributes"][0]["id"]
    body = {
        "tags": [{"frame": 0, "label_id": cat["id"], "attributes": [{"spec_id": spec, "value": "x"}]}],
        "shapes": [{"type": "rectangle", "frame": 1, "label_id": cat["id"], "points": [0, 0, 2, 2]}],
        "tracks": [
            {"frame": 0, "label_id": cat["id"], "shapes": [{"type": "rectangle", "frame": 0, "points": [1, 1, 3, 3]}]}
        ],
    }
    api.put(f"/api/tasks/{task_id}/annotations", json=body)
    api.patch(
        f"/api/tasks/{task_id}/annotations",
        params={"action": "create"},
        json={"shapes": [{"type": "points", "frame": 2, "label_id": cat["id"], "points": [1, 1]}]},
    )
    api.get(f"/api/tasks/{task_id}/annotations")
    api.get(f"/api/jobs/{jobs[-1]['id']}/annotations")

    from annoflow.adapters.quickstart import generate_quickstart_video

    (video,) = generate_quickstart_video(tmp_path, num_samples=1, num_frames=6, size=(64, 48))
    video_task = api.post("/api/tasks", json={"name": "v", "labels": [{"name": "cat"}]}).json()["id"]
    with open(video.filepath, "rb") as handle:
        api.post(
            f"/api/tasks/{video_task}/data/", data={"image_quality": "70"}, files={"client_files[0]": ("v.mp4", handle)}
        )
    assert api.get(f"/api/tasks/{video_task}/data/meta").json()["chapters"] == []
    assert api.get(f"/api/tasks/{video_task}").json()["data_compressed_chunk_type"] == "video"
    assert api.post("/api/auth/logout").status_code == 200

    assert cvat_schema.take_problems() == []
    documented = _documented_response_models()
    unseen = documented - cvat_schema.completeness.models_seen - set(NEVER_FILLED)
    assert not unseen, f"response models the tour never saw filled: {sorted(unseen)}"
    assert {
        "TaskRead",
        "ProjectRead",
        "JobRead",
        "Label",
        "User",
        "BasicUser",
        "DataMetaRead",
        "Request",
        "LabeledData",
        "LabeledShape",
        "LabeledTrack",
        "TrackedShape",
        "LabeledImage",
        "RqStatus",
    } <= documented


def _exchange(path: str, body: dict, method: str = "GET") -> Exchange:
    return Exchange(
        method=method,
        path=path,
        query="",
        request_headers={"authorization": "Token t"},
        request_body=b"",
        status=200,
        response_headers={"content-type": "application/vnd.cvat+json"},
        response_body=orjson.dumps(body),
    )


def _task_body(cvat_sim, api) -> dict:
    return api.post("/api/tasks", json={"name": "t", "labels": [{"name": "cat"}]}).json()


def test_the_validator_reads_a_nullable_reference_as_null_or_the_object(cvat_schema, cvat_sim, api):
    task = _task_body(cvat_sim, api)
    cvat_schema.take_problems()
    cvat_schema.check(_exchange("/api/tasks/1", task))
    assert cvat_schema.take_problems() == []
    cvat_schema.check(_exchange("/api/tasks/1", {**task, "assignee": "reviewer"}))  # neither null nor a user
    cvat_schema.check(_exchange("/api/tasks/1", {**task, "status": None}))  # allOf without nullable: never null
    found = cvat_schema.take_problems()
    assert len(found) == 2 and all("InvalidData" in problem for problem in found), found


def test_completeness_names_what_is_missing_and_what_cvat_leaves_out(cvat_sim, api):
    completeness = Completeness(shared_schema())
    task = _task_body(cvat_sim, api)
    schema = {"$ref": "#/components/schemas/TaskRead"}
    assert completeness.problems(task, schema) == []
    without = {k: v for k, v in task.items() if k != "assignee"}
    assert completeness.problems(without, schema) == [
        "body.assignee is missing (TaskRead lists it; CVAT sends it, null when unset)"
    ]
    assert completeness.problems({**task, "size": 0}, schema) == [
        "body.size is sent, but CVAT leaves it out here (TaskRead)"
    ]
    assert completeness.problems({**task, "extra": 1}, schema) == ["body.extra is not a property of TaskRead"]
    label = {
        "id": 1,
        "name": "cat",
        "color": "#fff",
        "type": "any",
        "attributes": [],
        "sublabels": [],
        "task_id": 3,
        "parent_id": None,
        "has_parent": False,
    }
    label_schema = {"$ref": "#/components/schemas/Label"}
    assert completeness.problems(label, label_schema) == []
    assert completeness.problems({**label, "svg": "", "project_id": None}, label_schema) == [
        "body.project_id is sent, but CVAT leaves it out here (Label)",
        "body.svg is sent, but CVAT leaves it out here (Label)",
    ]
    assert completeness.problems({**label, "type": "skeleton"}, label_schema) == [
        "body.svg is missing (Label lists it; CVAT sends it, null when unset)"
    ]

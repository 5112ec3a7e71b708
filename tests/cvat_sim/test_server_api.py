"""The simulator answers an annotation workflow's requests as CVAT 2.52 does, schema-validated."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.cvat_sim.conftest import PASSWORD, USER

LABELS = [
    {
        "name": "cat",
        "type": "rectangle",
        "attributes": [
            {"name": "label_id", "mutable": True, "input_type": "text", "values": []},
            {
                "name": "iscrowd",
                "mutable": False,
                "input_type": "checkbox",
                "values": ["false"],
                "default_value": "false",
            },
        ],
    },
    {
        "name": "dog",
        "attributes": [{"name": "pose", "mutable": True, "input_type": "select", "values": ["sit", "run"]}],
    },
]


def _task_with_data(api, images, **task):
    task_id = api.post("/api/tasks", json={"name": "t", "labels": LABELS, **task}).json()["id"]
    files = {f"client_files[{i}]": (p.rsplit("/", 1)[-1], Path(p).read_bytes()) for i, p in enumerate(images)}
    answer = api.post(f"/api/tasks/{task_id}/data/", data={"image_quality": "75"}, files=files)
    assert answer.status_code == 202
    assert api.get(f"/api/requests/{answer.json()['rq_id']}").json()["status"] == "finished"
    return task_id


def test_about_and_login(cvat_sim, api):
    assert api.get("/api/server/about").json()["version"] == "2.52.0"
    assert api.get("/api/users/self").json()["username"] == USER
    found = api.get("/api/users", params={"search": "review"}).json()
    assert [u["username"] for u in found["results"]] == ["reviewer"]


def test_session_login_needs_the_csrf_header(cvat_sim):
    client = httpx.Client(base_url=cvat_sim.url)
    answer = client.post("/api/auth/login", json={"username": USER, "password": PASSWORD})
    assert set(answer.cookies) >= {"sessionid", "csrftoken"}
    client.headers["X-CSRFToken"] = answer.cookies["csrftoken"]  # cvat-sdk sends it on every request
    created = client.post("/api/projects", json={"name": "p"})
    assert created.status_code == 201
    assert client.get("/api/projects").json()["count"] == 1


def test_error_paths(cvat_sim_unchecked):
    client = httpx.Client(base_url=cvat_sim_unchecked.url)
    assert client.get("/api/projects").status_code == 401
    bad = client.post("/api/auth/login", json={"username": USER, "password": "wrong"})
    assert bad.status_code == 400 and bad.json() == {
        "non_field_errors": ["Unable to log in with provided credentials."]
    }
    assert client.get("/api/tasks", headers={"Authorization": "Token nope"}).json() == {"detail": "Invalid token."}
    client.post("/api/auth/login", json={"username": USER, "password": PASSWORD})
    assert client.post("/api/projects", json={"name": "p"}).status_code == 403  # session without CSRF header
    key = client.post("/api/auth/login", json={"username": USER, "password": PASSWORD}).json()["key"]
    h = {"Authorization": f"Token {key}"}
    assert client.get("/api/tasks/99", headers=h).json() == {"detail": "Not found."}
    assert (
        client.post("/api/tasks", json={"name": "t"}, headers=h).status_code == 201
    )  # CVAT makes it: labels may come later
    assert client.get("/api/tasks", headers={**h, "X-Organization": "nope"}).status_code == 404


def test_projects_tasks_and_labels(cvat_sim, api):
    project = api.post("/api/projects", json={"name": "fiftyone_project", "labels": LABELS}).json()
    assert project["labels"]["url"].endswith(f"/api/labels?project_id={project['id']}")
    task = api.post("/api/tasks", json={"name": "in project", "project_id": project["id"], "segment_size": 2}).json()
    assert task["project_id"] == project["id"]
    labels = api.get("/api/labels", params={"task_id": task["id"]}).json()["results"]
    assert [label["name"] for label in labels] == ["cat", "dog"] and labels[0]["attributes"][0]["name"] == "label_id"
    assert api.get("/api/projects", params={"name": "fiftyone_project"}).json()["count"] == 1
    assert api.get("/api/tasks", params={"project_id": project["id"]}).json()["results"][0]["name"] == "in project"
    assert api.delete(f"/api/projects/{project['id']}").status_code == 204
    assert api.get(f"/api/tasks/{task['id']}").status_code == 404  # deleting a project deletes its tasks


def test_pagination_follows_next(cvat_sim, api):
    for i in range(12):
        api.post("/api/projects", json={"name": f"p{i}"})
    first = api.get("/api/projects", params={"page_size": 5}).json()
    assert first["count"] == 12 and len(first["results"]) == 5 and first["previous"] is None
    second = api.get(first["next"]).json()
    third = api.get(second["next"]).json()
    assert third["next"] is None and len(third["results"]) == 2
    names = [p["name"] for page in (first, second, third) for p in page["results"]]
    assert sorted(names) == sorted(f"p{i}" for i in range(12))


def test_data_upload_meta_jobs(cvat_sim, api, images):
    task_id = _task_with_data(api, images, segment_size=2)
    meta = api.get(f"/api/tasks/{task_id}/data/meta").json()
    assert [f["name"] for f in meta["frames"]] == sorted(p.rsplit("/", 1)[-1] for p in images)
    assert {(f["width"], f["height"]) for f in meta["frames"]} == {(64, 48)}
    jobs = api.get("/api/jobs", params={"task_id": task_id}).json()["results"]
    assert [(j["start_frame"], j["stop_frame"]) for j in jobs] == [(4, 4), (2, 3), (0, 1)]  # CVAT lists newest first
    user = api.get("/api/users", params={"username": "reviewer"}).json()["results"][0]
    patched = api.patch(
        f"/api/jobs/{jobs[1]['id']}", json={"assignee": user["id"], "stage": "validation", "state": "in progress"}
    ).json()
    assert patched["assignee"]["username"] == "reviewer" and patched["stage"] == "validation"
    assert api.get(f"/api/tasks/{task_id}/status").json()["state"] == "Finished"
    frame = api.get(f"/api/tasks/{task_id}/data", params={"type": "frame", "number": 0, "quality": "original"})
    assert frame.status_code == 200 and frame.content[:2] == b"\xff\xd8"


def test_frame_filters(cvat_sim, api, images):
    task_id = api.post("/api/tasks", json={"name": "t", "labels": LABELS}).json()["id"]
    files = {f"client_files[{i}]": (p.rsplit("/", 1)[-1], Path(p).read_bytes()) for i, p in enumerate(images)}
    api.post(
        f"/api/tasks/{task_id}/data/",
        data={"image_quality": "50", "start_frame": "1", "stop_frame": "4", "frame_filter": "step=2"},
        files=files,
    )
    meta = api.get(f"/api/tasks/{task_id}/data/meta").json()
    # frames 1 and 3: CVAT's task creation lowers stop_frame to the last frame the step selects
    assert meta["size"] == 2 and (meta["start_frame"], meta["stop_frame"], meta["frame_filter"]) == (1, 3, "step=2")


def test_annotations_put_patch_and_job_ranges(cvat_sim, api, images):
    task_id = _task_with_data(api, images, segment_size=2)
    labels = {label["name"]: label for label in api.get("/api/labels", params={"task_id": task_id}).json()["results"]}
    cat, dog = labels["cat"], labels["dog"]
    spec = cat["attributes"][0]["id"]
    body = {
        "version": 0,
        "tags": [{"frame": 0, "label_id": dog["id"], "attributes": []}],
        "shapes": [
            {
                "type": "rectangle",
                "frame": 0,
                "label_id": cat["id"],
                "points": [1.5, 2, 10, 20],
                "occluded": True,
                "group": 3,
                "z_order": 1,
                "attributes": [{"spec_id": spec, "value": "abc"}],
            },
            {"type": "polygon", "frame": 3, "label_id": cat["id"], "points": [1, 1, 5, 1, 5, 5]},
            {"type": "mask", "frame": 4, "label_id": cat["id"], "points": [0, 2, 2, 4, 4, 5, 5]},
        ],
        "tracks": [
            {
                "frame": 0,
                "label_id": dog["id"],
                "shapes": [
                    {"type": "points", "frame": 0, "points": [1, 1]},
                    {"type": "points", "frame": 2, "points": [3, 3], "outside": True},
                ],
            }
        ],
    }
    stored = api.put(f"/api/tasks/{task_id}/annotations", json=body).json()
    assert all(s["id"] for s in stored["shapes"]) and stored["shapes"][0]["occluded"] is True
    job2 = api.get("/api/jobs", params={"task_id": task_id}).json()["results"][1]
    seen = api.get(f"/api/jobs/{job2['id']}/annotations").json()
    assert [s["frame"] for s in seen["shapes"]] == [3] and len(seen["tracks"]) == 1 and seen["tags"] == []
    created = api.patch(
        f"/api/jobs/{job2['id']}/annotations",
        params={"action": "create"},
        json={
            "version": 1,
            "tags": [],
            "tracks": [],
            "shapes": [{"type": "polyline", "frame": 2, "label_id": cat["id"], "points": [0, 0, 3, 3]}],
        },
    ).json()
    new_id = created["shapes"][0]["id"]
    moved = {**created["shapes"][0], "points": [1, 1, 4, 4]}
    api.patch(
        f"/api/tasks/{task_id}/annotations",
        params={"action": "update"},
        json={"version": 2, "tags": [], "tracks": [], "shapes": [moved]},
    )
    api.patch(
        f"/api/tasks/{task_id}/annotations/",
        params={"action": "delete"},
        json={"version": 3, "tags": [], "tracks": [], "shapes": [stored["shapes"][1]]},
    )
    final = api.get(f"/api/tasks/{task_id}/annotations").json()
    by_id = {s["id"]: s for s in final["shapes"]}
    assert by_id[new_id]["points"] == [1, 1, 4, 4] and stored["shapes"][1]["id"] not in by_id
    assert final["version"] == 4


def test_annotation_checks(cvat_sim_unchecked, images):
    client = httpx.Client(base_url=cvat_sim_unchecked.url, timeout=30)
    key = client.post("/api/auth/login", json={"username": USER, "password": PASSWORD}).json()["key"]
    client.headers["Authorization"] = f"Token {key}"
    task_id = _task_with_data(client, images)
    cat = client.get("/api/labels", params={"task_id": task_id}).json()["results"][0]

    def put(shape):
        return client.put(f"/api/tasks/{task_id}/annotations", json={"shapes": [shape], "tags": [], "tracks": []})

    assert put({"type": "rectangle", "frame": 0, "label_id": 999, "points": [0, 0, 1, 1]}).status_code == 400
    assert put({"type": "rectangle", "frame": 99, "label_id": cat["id"], "points": [0, 0, 1, 1]}).status_code == 400
    assert (
        put(
            {
                "type": "rectangle",
                "frame": 0,
                "label_id": cat["id"],
                "points": [0, 0, 1, 1],
                "attributes": [{"spec_id": 12345, "value": "x"}],
            }
        ).status_code
        == 400
    )
    assert put({"type": "mask", "frame": 0, "label_id": cat["id"], "points": [1, 0, 0, 1, 1]}).status_code == 400
    assert client.patch(f"/api/tasks/{task_id}/annotations", json={}).status_code == 400  # no action


@pytest.mark.parametrize("org_header", [True, False])
def test_organizations_scope_what_is_seen(cvat_sim, api, org_header):
    cvat_sim.state.add_organization("team", owner=USER)
    scoped = {"headers": {"X-Organization": "team"}} if org_header else {"params": {"org": "team"}}
    api.post("/api/projects", json={"name": "team project"}, **scoped)
    api.post("/api/projects", json={"name": "sandbox project"})
    assert [p["name"] for p in api.get("/api/projects", **scoped).json()["results"]] == ["team project"]
    assert [p["name"] for p in api.get("/api/projects").json()["results"]] == ["sandbox project"]


def test_remaining_routes_answer_within_the_schema(cvat_sim, api, images):
    task_id = _task_with_data(api, images)
    me = api.get("/api/users/self").json()
    assert api.get(f"/api/users/{me['id']}").json()["username"] == USER
    label = api.get("/api/labels", params={"task_id": task_id}).json()["results"][0]
    assert api.get(f"/api/labels/{label['id']}").json()["name"] == label["name"]
    assert api.get("/api/requests").json()["count"] == 1
    renamed = api.patch(f"/api/tasks/{task_id}", json={"name": "renamed", "bug_tracker": "http://bugs/1"}).json()
    assert (renamed["name"], renamed["bug_tracker"]) == ("renamed", "http://bugs/1")
    project = api.post("/api/projects", json={"name": "p"}).json()
    assert api.patch(f"/api/projects/{project['id']}", json={"name": "q"}).json()["name"] == "q"
    api.put(
        f"/api/tasks/{task_id}/annotations",
        json={"tags": [{"frame": 0, "label_id": label["id"]}], "shapes": [], "tracks": []},
    )
    assert api.delete(f"/api/tasks/{task_id}/annotations").status_code == 204
    assert api.get(f"/api/tasks/{task_id}/annotations").json()["tags"] == []
    assert api.post("/api/auth/logout").status_code == 200

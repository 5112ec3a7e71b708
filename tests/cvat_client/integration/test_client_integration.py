"""The client against the simulator over real sockets, every exchange schema-validated."""

from __future__ import annotations

import pytest

from annoflow.adapters.cvat import (
    CVATAuthError,
    CVATClient,
    CVATError,
    CVATSettings,
    RetryPolicy,
    Secret,
    connect_to_api,
)
from annoflow.adapters.cvat.timeouts import Timeouts
from annoflow.adapters.cvat_sim.annotator import ScriptedAnnotator
from annoflow.adapters.cvat_sim.testing import PASSWORD, USER

LABELS = [
    {"name": "cat", "attributes": [{"name": "label_id", "mutable": True, "input_type": "text", "values": []}]},
    {"name": "dog", "attributes": []},
]


def _client(sim, **kwargs):
    settings = CVATSettings(
        url=sim.url,
        username=kwargs.pop("username", USER),
        password=Secret(kwargs.pop("password", PASSWORD)),
        headers=kwargs.pop("headers", {}),
        organization=kwargs.pop("organization", None),
    )
    sleeps = []
    client = CVATClient(settings, retry=RetryPolicy(sleep=sleeps.append), poll_interval=0.01, **kwargs)
    client.sleeps = sleeps
    return client


@pytest.fixture
def images(tmp_path):
    from annoflow.adapters.quickstart import generate_quickstart

    return [s.filepath for s in generate_quickstart(tmp_path / "img", num_samples=4, image_size=(64, 48), seed=9)]


def test_the_whole_task_life(cvat_sim, images):
    with _client(cvat_sim) as client:
        assert client.server_version() >= (2, 52)
        project = client.create_project("annoflow project", LABELS)
        assert client.find_project("annoflow project")["id"] == project["id"]
        task = client.create_task(
            "annoflow task",
            project_id=project["id"],
            segment_size=2,
            assignee_id=client.user_id("reviewer"),
            bug_tracker="http://bugs/1",
        )
        rq_id = client.upload_data(task["id"], images, image_quality=80, sorting_method="predefined")
        client.wait_for_data(task["id"], rq_id)
        meta = client.data_meta(task["id"])
        assert [f["name"] for f in meta["frames"]] == [p.rsplit("/", 1)[-1] for p in images]
        jobs = client.jobs(task["id"])
        assert [(j["start_frame"], j["stop_frame"]) for j in jobs] == [(0, 1), (2, 3)]
        client.assign_job(jobs[0]["id"], client.user_id(USER))
        labels = {label["name"]: label for label in client.follow(client.task(task["id"])["labels"])}
        shape = {
            "type": "rectangle",
            "frame": 3,
            "label_id": labels["cat"]["id"],
            "points": [1.0, 2.0, 3.0, 4.0],
            "attributes": [{"spec_id": labels["cat"]["attributes"][0]["id"], "value": "0123456789abcdef01234567"}],
        }
        stored = client.put_annotations({"shapes": [shape]}, task_id=task["id"])
        assert stored["shapes"][0]["id"]
        assert client.get_annotations(job_id=jobs[0]["id"])["shapes"] == []
        assert len(client.get_annotations(job_id=jobs[1]["id"])["shapes"]) == 1
        client.patch_annotations(
            "create", {"tags": [{"frame": 0, "label_id": labels["dog"]["id"]}]}, job_id=jobs[0]["id"]
        )
        assert len(client.get_annotations(task_id=task["id"])["tags"]) == 1
        assert client.delete_task(task["id"]) and not client.delete_task(task["id"])
        assert client.delete_project(project["id"]) and not client.delete_project(project["id"])
        client.logout()


def test_login_failure_is_typed(cvat_sim_unchecked):
    with _client(cvat_sim_unchecked, password="wrong") as client:
        with pytest.raises(CVATAuthError, match="Unable to log in with provided credentials") as caught:
            client.find_project("x")
        assert caught.value.status == 400 and "wrong" not in str(caught.value)


def test_an_expired_session_is_renewed(cvat_sim):
    with _client(cvat_sim) as client:
        client.create_project("before", [])
        cvat_sim.state.expire_sessions()
        client.create_project("after", [])
        assert client.auth.logins == 2


def test_organization_header_scopes_everything(cvat_sim):
    cvat_sim.state.add_organization("team", owner=USER)
    with _client(cvat_sim, organization="team") as team, _client(cvat_sim) as sandbox:
        team.create_project("team only", [])
        assert team.find_project("team only") is not None
        assert sandbox.find_project("team only") is None


def test_custom_headers_reach_the_server(cvat_sim):
    seen = []
    original = cvat_sim.on_exchange
    cvat_sim.on_exchange = lambda exchange: (
        seen.append(exchange.request_headers.get("x-gateway-key")),
        original(exchange),
    )
    with _client(cvat_sim, headers={"X-Gateway-Key": "g-123"}) as client:
        client.find_project("x")
    assert seen and set(seen) == {"g-123"}


@pytest.mark.parametrize(
    "fault", [{"status": 503}, {"status": 429, "retry_after": 0.5}, {"status": 502}, {"status": 504}, {"reset": True}]
)
def test_every_retry_path_recovers(cvat_sim, fault):
    cvat_sim.faults.add("GET", r"^/api/projects$", nth=1, **fault)
    with _client(cvat_sim) as client:
        assert client.find_project("nothing") is None
        assert client.retrying.retries == 1
        if "retry_after" in fault:
            assert client.sleeps == [0.5]


def test_a_hang_past_the_timeout_is_retried_for_reads(cvat_sim):
    cvat_sim.faults.add("GET", r"^/api/projects$", nth=1, hang=1.0)
    with _client(cvat_sim, timeouts=Timeouts(read=0.3)) as client:
        assert client.find_project("nothing") is None
        assert client.retrying.retries == 1


def test_a_create_that_may_have_happened_is_not_repeated(cvat_sim):
    cvat_sim.faults.add("POST", r"^/api/projects$", nth=1, status=502)
    with _client(cvat_sim) as client:
        with pytest.raises(CVATError) as caught:
            client.create_project("once", [])
        assert caught.value.status == 502 and client.retrying.retries == 0


def test_connect_to_api_wrapper(cvat_sim, images):
    opened = []
    with connect_to_api(url=cvat_sim.url, username=USER, password=PASSWORD, open_url=opened.append) as api:
        api.launch_editor(api.base_url)
        assert opened == [cvat_sim.url]
        assert api.get(api.tasks_url).json()["count"] == 0
        project = api.post(api.projects_url, json={"name": "p"}).json()
        assert api.get_project_id("p") == project["id"] and api.get_project_id("nope") is None
        task = api.post(api.tasks_url, json={"name": "t", "project_id": project["id"]}).json()
        assert api.get_task_ids(project_id=project["id"]) == [task["id"]] and api.task_exists(task["id"])
        assert api.get_user_id("reviewer") > 0
        api.delete_tasks([task["id"]])
        assert not api.task_exists(task["id"])
        api.delete_projects([project["id"]])
        assert not api.project_exists(project["id"])
        assert "annotator-pw" not in repr(api) + repr(api.client) + repr(api.client.settings)


def test_annotator_edits_are_seen_by_the_client(cvat_sim, images):
    with _client(cvat_sim) as client:
        task = client.create_task("t", labels=LABELS)
        client.wait_for_data(task["id"], client.upload_data(task["id"], images))
        with ScriptedAnnotator(cvat_sim.url, USER, PASSWORD) as annotator:
            annotator.add_shape(task["id"], "dog", 1, "polygon", [1, 1, 9, 1, 9, 9])
        (shape,) = client.get_annotations(task_id=task["id"])["shapes"]
        assert shape["type"] == "polygon" and shape["frame"] == 1

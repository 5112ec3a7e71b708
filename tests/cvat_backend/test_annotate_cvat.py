"""annotate() against the simulator: tasks, labels, shapes with their label_id, jobs, cleanup."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from annoflow.adapters.cvat_format.rle import decode
from annoflow.application.ports.annotation_backend import BackendConfigError
from annoflow.domain.labels import labels_in
from tests.cvat_backend.conftest import PASSWORD, USER


def _api(sim):
    client = httpx.Client(base_url=sim.url)
    client.headers["Authorization"] = (
        "Token " + client.post("/api/auth/login", json={"username": USER, "password": PASSWORD}).json()["key"]
    )
    return client


def test_existing_detections_go_up_with_their_ids(dataset, login, cvat_sim):
    results = dataset.annotate(
        "basic",
        label_field="ground_truth",
        segment_size=2,
        job_assignees=["reviewer", USER],
        launch_editor=True,
        **login,
    )
    (task_id,) = results.task_ids
    api = _api(cvat_sim)
    stored = api.get(f"/api/tasks/{task_id}/annotations").json()
    labels = {
        label["id"]: label
        for label in api.get("/api/labels", params={"task_id": task_id, "page_size": 100}).json()["results"]
    }
    truth = {label.id: (s.id, label) for s in dataset.iter_samples() for label in labels_in(s.fields["ground_truth"])}
    assert len(stored["shapes"]) == len(truth)
    for shape in stored["shapes"]:
        label = labels[shape["label_id"]]
        spec = {a["name"]: a["id"] for a in label["attributes"]}
        label_id = next(a["value"] for a in shape["attributes"] if a["spec_id"] == spec["label_id"])
        _, det = truth[label_id]
        assert label["name"] == det.label
        assert shape["type"] == "mask"  # the field holds instance masks
        mask, left, top = decode(shape["points"], 96, 64)
        assert (left, top) == (round(det.bounding_box[0] * 96), round(det.bounding_box[1] * 64))
        assert (mask == det.mask).all()
    run = dataset.registry.get_run("quickstart", "basic")
    uploaded = dataset.registry.get_ledger(run, task_id).record().uploaded
    assert {u.label_id for u in uploaded} == set(truth)
    assert {u.remote_id for u in uploaded} == {s["id"] for s in stored["shapes"]}
    jobs = api.get("/api/jobs", params={"task_id": task_id}).json()["results"]
    assert [j["assignee"]["username"] for j in sorted(jobs, key=lambda j: j["start_frame"])] == [
        "reviewer",
        USER,
        "reviewer",
    ]
    assert dataset.opened == [f"{cvat_sim.url}/tasks/{task_id}/jobs/{results.job_ids[task_id][0]}"]
    lines = []
    results.print_status(lines.append)
    assert lines[0] == "Status for label field 'ground_truth':" and "Job" in lines[6]
    results.cleanup()
    assert api.get(f"/api/tasks/{task_id}").status_code == 404


def test_every_label_type_and_several_fields(dataset, login, cvat_sim):
    from annoflow.adapters.quickstart import MASK_TARGETS

    schema = {
        "predictions": {},
        "keypoints": {},
        "polylines": {},
        "weather": {},
        "segmentation": {"mask_targets": MASK_TARGETS},
        "new_cls": {"type": "classifications", "classes": ["dog", "cat"]},
        "count": {"type": "scalar"},
    }
    results = dataset.annotate("all", label_schema=schema, task_size=3, **login)
    assert len(results.task_ids) == 2
    api = _api(cvat_sim)
    names = {
        label["name"]
        for label in api.get("/api/labels", params={"task_id": results.task_ids[0], "page_size": 100}).json()["results"]
    }
    # classes in several fields are told apart by field; the scalar field has its own label
    assert "cat_predictions" in names and "cat_new_cls" in names and "count" in names, sorted(names)
    kinds = set()
    for task_id in results.task_ids:
        stored = api.get(f"/api/tasks/{task_id}/annotations").json()
        kinds |= {s["type"] for s in stored["shapes"]} | ({"tag"} if stored["tags"] else set())
    assert {"rectangle", "points", "polygon", "polyline", "mask", "tag"} <= kinds


def test_a_new_project_is_made_and_reused(dataset, login, cvat_sim):
    first = dataset.take(2, seed=1).annotate("p1", label_field="ground_truth", project_name="fiftyone_project", **login)
    second = dataset.take(2, seed=2).annotate(
        "p2", label_field="ground_truth", project_name="fiftyone_project", **login
    )
    assert first.project_ids == second.project_ids
    assert dataset.registry.get_run("quickstart", "p1").created_projects == first.project_ids
    assert dataset.registry.get_run("quickstart", "p2").created_projects == []
    second.cleanup()
    api = _api(cvat_sim)
    assert api.get(f"/api/projects/{first.project_ids[0]}").status_code == 200  # not p2's to delete
    first.cleanup()
    assert api.get(f"/api/projects/{first.project_ids[0]}").status_code == 404


def test_bad_options_and_credentials_are_refused_before_anything_is_sent(dataset, login, cvat_sim):
    with pytest.raises(BackendConfigError) as caught:
        dataset.annotate("bad", label_field="ground_truth", image_quality=101, segment_size=0, colour="red", **login)
    assert len(caught.value.problems) == 3
    with pytest.raises(BackendConfigError, match="no CVAT credentials found"):
        dataset.annotate("bad", label_field="ground_truth", url=cvat_sim.url)
    assert dataset.list_annotation_runs() == [] and cvat_sim.state.tasks == {}


def test_an_existing_project_s_labels_rule(dataset, login, cvat_sim):
    made = dataset.annotate("create_project", label_field="ground_truth", project_name="shared", **login)
    reused = dataset.annotate("existing", label_field="predictions", project_name="shared", **login)
    assert reused.project_ids == made.project_ids
    api = _api(cvat_sim)
    (task_id,) = reused.task_ids
    project_labels = {
        label["id"]: label["name"]
        for label in api.get("/api/labels", params={"project_id": made.project_ids[0], "page_size": 100}).json()[
            "results"
        ]
    }
    stored = api.get(f"/api/tasks/{task_id}/annotations").json()["shapes"]
    truth_classes = {d.label for s in dataset.iter_samples() for d in labels_in(s.fields["ground_truth"])}
    expected = [
        d for s in dataset.iter_samples() for d in labels_in(s.fields["predictions"]) if d.label in truth_classes
    ]
    assert len(stored) == len(expected)  # predictions of classes the project lacks are not sent
    assert {project_labels[s["label_id"]] for s in stored} <= truth_classes
    existing = dataset.registry.get_run("quickstart", "existing")
    by_id = {u.label_id for u in dataset.registry.get_ledger(existing, task_id).record().uploaded}
    assert by_id == {d.id for d in expected}
    # the run follows the project: its classes are the project's labels, recorded before its task
    run = dataset.registry.get_run("quickstart", "existing")
    assert run.label_schema["predictions"].classes == tuple(project_labels.values()) and run.label_schema.from_project
    history = [type(e).__name__ for e in dataset.registry.history(run.id)]
    assert history.index("ProjectSchemaAdopted") < history.index("TaskStarted")


def test_an_upload_cut_short_resumes_without_orphan_tasks(dataset, login, cvat_sim):
    from annoflow.adapters.cvat.errors import CVATError

    # the second task's annotations never arrive: the server keeps failing them
    for _ in range(5):
        cvat_sim.faults.add("PUT", r"^/api/tasks/2/annotations", nth=1, status=503)
    with pytest.raises(CVATError):
        dataset.annotate("cut", label_field="ground_truth", task_size=3, **login)
    run = dataset.registry.get_run("quickstart", "cut")
    assert list(run.tasks) == [1] and list(run.started_tasks) == [2]
    assert set(cvat_sim.state.tasks) == {1, 2}  # both on the server, both on record
    cvat_sim.faults.clear()
    results = dataset.annotate("cut", resume=True, **login)
    assert sorted(results.task_ids) == sorted(set(cvat_sim.state.tasks))  # task 2 was replaced, not orphaned
    assert 2 not in cvat_sim.state.tasks and len(results.task_ids) == 2
    cut = dataset.registry.get_run("quickstart", "cut")
    uploaded = {u.label_id for t in cut.tasks for u in dataset.registry.get_ledger(cut, t).record().uploaded}
    assert uploaded == {d.id for s in dataset.iter_samples() for d in labels_in(s.fields["ground_truth"])}


def test_each_job_s_annotations_go_up_in_their_own_request(dataset, login, cvat_sim, monkeypatch):
    """One PUT per job (sent while the next job is converted), none per sample or shape."""
    from annoflow.adapters.cvat.client import CVATClient

    seen = []
    request = CVATClient.request
    monkeypatch.setattr(
        CVATClient,
        "request",
        lambda self, method, url, **kw: (seen.append((method, url)), request(self, method, url, **kw))[1],
    )
    results = dataset.annotate("jobs", label_field="ground_truth", segment_size=2, **login)
    (task_id,) = results.task_ids
    puts = [path for method, path in seen if method == "PUT"]
    assert puts == [f"/api/jobs/{job_id}/annotations/" for job_id in results.job_ids[task_id]]
    stored = _api(cvat_sim).get(f"/api/tasks/{task_id}/annotations").json()["shapes"]
    jobs_run = dataset.registry.get_run("quickstart", "jobs")
    uploaded = dataset.registry.get_ledger(jobs_run, task_id).record().uploaded
    assert sorted(u.remote_id for u in uploaded) == sorted(s["id"] for s in stored)
    frames = {s["id"]: s["frame"] for s in stored}
    sample_ids = [s.id for s in dataset.iter_samples()]
    assert all(sample_ids[frames[u.remote_id]] == u.sample_id for u in uploaded)


def test_ids_are_found_by_label_id_when_the_answer_is_not_in_the_order_sent():
    from annoflow.adapters.cvat_backend.backend import CVATSession, TaskFrames
    from annoflow.adapters.cvat_format.schema import ServerLabels, cvat_classes
    from annoflow.domain.label_schema import build_label_schema
    from annoflow.domain.run_records import UploadedObjects
    from annoflow.domain.samples import Sample

    schema = build_label_schema(label_field="boxes", label_type="detections", classes=["cat"], field_schema={})
    server = ServerLabels.match(
        cvat_classes(schema),
        [{"id": 7, "name": "cat", "attributes": [{"id": 70, "name": "label_id"}]}],
        existing_project=False,
    )
    samples = [Sample(id=f"{i:024x}", filepath=f"/{i}.png", media_type="image") for i in range(2)]
    sent = {
        "shapes": [
            ({"frame": 0, "label_id": 7, "attributes": [{"spec_id": 70, "value": "a" * 24}]}, ("boxes", "a" * 24)),
            ({"frame": 1, "label_id": 7, "attributes": [{"spec_id": 70, "value": "b" * 24}]}, ("boxes", "b" * 24)),
        ]
    }
    in_order = {"shapes": [{**body, "id": 100 + i} for i, (body, _) in enumerate(sent["shapes"])]}
    reversed_answer = {"shapes": in_order["shapes"][::-1]}
    for answer in (in_order, reversed_answer):
        columns = CVATSession._provenance(answer, sent, TaskFrames([s.id for s in samples]), server)
        found = {u.label_id: (u.remote_id, u.sample_id) for u in UploadedObjects(*columns)}
        assert found == {"a" * 24: (100, samples[0].id), "b" * 24: (101, samples[1].id)}


def test_two_annotation_requests_are_at_the_server_at_once_never_more(dataset, login, cvat_sim, monkeypatch):
    # The server works on one job's objects while the next arrives; more would only queue memory.
    from annoflow.adapters.cvat.client import CVATClient

    put = CVATClient.put_annotations
    at_once, most, lock = [0], [0], threading.Lock()

    def slow_put(self, data, **target):
        with lock:
            at_once[0] += 1
            most[0] = max(most[0], at_once[0])
        try:
            time.sleep(0.05)  # long enough for the next request to be ready
            return put(self, data, **target)
        finally:
            with lock:
                at_once[0] -= 1

    monkeypatch.setattr(CVATClient, "put_annotations", slow_put)
    results = dataset.annotate("piped", label_field="ground_truth", segment_size=1, **login)
    (task_id,) = results.task_ids
    assert len(results.job_ids[task_id]) == 5
    assert most[0] == 2
    stored = _api(cvat_sim).get(f"/api/tasks/{task_id}/annotations").json()
    truth = {label.id for s in dataset.iter_samples() for label in labels_in(s.fields["ground_truth"])}
    uploaded = dataset.registry.get_ledger(dataset.registry.get_run("quickstart", "piped"), task_id).record().uploaded
    assert len(stored["shapes"]) == len(truth) == len(uploaded)
    assert {u.remote_id for u in uploaded} == {s["id"] for s in stored["shapes"]}


def test_labels_are_read_once_the_media_are_going_out(dataset, login, cvat_sim, monkeypatch):
    # reading the store holds the interpreter: the media's request is made first, not slowed by it
    from annoflow.adapters.cvat.client import CVATClient
    from annoflow.adapters.cvat_backend.backend import CVATSession

    upload, read = CVATClient.upload_data, CVATSession._read_upto
    going, read_before_going = threading.Event(), []

    def announcing(self, *args, on_sending=None, **kwargs):
        def told(count):
            going.set()
            on_sending(count)

        return upload(self, *args, on_sending=told, **kwargs)

    def reading(*args):
        read_before_going.append(not going.is_set())
        return read(*args)

    monkeypatch.setattr(CVATClient, "upload_data", announcing)
    monkeypatch.setattr(CVATSession, "_read_upto", staticmethod(reading))
    dataset.annotate("ordered", label_field="ground_truth", **login)
    assert read_before_going and not any(read_before_going)


def test_media_that_fail_before_their_first_request_fail_the_upload_instead_of_hanging(
    dataset, login, cvat_sim, monkeypatch
):
    from annoflow.adapters.cvat.client import CVATClient

    def unreadable(self, *args, **kwargs):
        raise PermissionError("media unreadable")

    monkeypatch.setattr(CVATClient, "_send_files", unreadable)
    failed = []

    def run():
        try:
            dataset.annotate("stuck", label_field="ground_truth", **login)
        except Exception as error:  # noqa: BLE001 - the error is what the test looks at
            failed.append(error)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive(), "annotate() waits for media that never go out"
    assert failed and "media unreadable" in str(failed[0])

"""A crash between CVAT making a task or project and the run recording its id leaves no orphan:
what annoflow makes carries the run's marker until recorded, and resume finds it by that."""

from __future__ import annotations

import pytest

from annoflow.adapters.cvat_backend.backend import CVATSession
from tests.cvat_backend.test_annotate_cvat import _api


class PowerCut(BaseException):
    pass


def _cut_after(monkeypatch, method: str):
    original = getattr(CVATSession, method)

    def made_then_crashed(self, *args, **kwargs):
        original(self, *args, **kwargs)
        monkeypatch.setattr(CVATSession, method, original)
        raise PowerCut(method)

    monkeypatch.setattr(CVATSession, method, made_then_crashed)


def _server(api):
    tasks = {t["id"]: t["name"] for t in api.get("/api/tasks", params={"page_size": 100}).json()["results"]}
    projects = {p["id"]: p["name"] for p in api.get("/api/projects", params={"page_size": 100}).json()["results"]}
    return tasks, projects


@pytest.mark.parametrize("method", ["prepare_project", "create_task"])
def test_resume_finds_what_a_crash_left_unrecorded(dataset, login, cvat_sim, monkeypatch, method):
    _cut_after(monkeypatch, method)
    options = dict(label_field="ground_truth", task_size=2, project_name="marked", **login)
    with pytest.raises(PowerCut):
        dataset.annotate("cut", **options)
    api = _api(cvat_sim)
    tasks, projects = _server(api)
    run = dataset.registry.get_run("quickstart", "cut")
    assert any(run.marker in name for name in [*tasks.values(), *projects.values()])  # made, not recorded

    results = dataset.annotate("cut", resume=True, **options)
    tasks, projects = _server(api)
    assert set(tasks) == set(results.task_ids) and len(tasks) == 3
    assert list(projects.values()) == ["marked"] and set(projects) == set(results.project_ids)
    assert not any(run.marker in name for name in [*tasks.values(), *projects.values()])
    results.cleanup()
    assert _server(api) == ({}, {})


def test_cleanup_of_an_interrupted_upload_deletes_its_unrecorded_task(dataset, login, cvat_sim, monkeypatch):
    _cut_after(monkeypatch, "create_task")
    with pytest.raises(PowerCut):
        dataset.annotate("cut", label_field="ground_truth", **login)
    api = _api(cvat_sim)
    assert len(_server(api)[0]) == 1
    dataset.load_annotation_results("cut", **login).cleanup()
    assert _server(api) == ({}, {})

"""A load skips a task whose revision stamp (CVAT's task ``updated_date``) is the one of its last
merged download, and reads it again after any change of its annotations, by any route CVAT offers."""

from __future__ import annotations

import httpx
import pytest

from annoflow.adapters.cvat.client import CVATClient
from annoflow.adapters.cvat_sim.annotator import ScriptedAnnotator
from annoflow.application.audit import run_history
from tests.cvat_backend.conftest import PASSWORD, USER


@pytest.fixture
def downloads(monkeypatch):
    """How many times a load downloaded a task's annotations."""
    calls = []
    real = CVATClient.get_annotations_raw

    def counting(self, *args, **kwargs):
        calls.append(kwargs.get("task_id"))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(CVATClient, "get_annotations_raw", counting)
    return calls


def _boxes(dataset, sample_ids):
    return {
        s.id: [d.bounding_box for d in s.get("ground_truth").detections]
        for s in dataset.store.get_samples(sample_ids, fields=("ground_truth",))
    }


def test_a_second_load_downloads_nothing_and_a_later_change_is_still_read(dataset, login, cvat_sim, downloads):
    view = dataset.limit(3)
    results = view.annotate("stamped", label_field="ground_truth", segment_size=2, **login)
    (task_id,) = results.task_ids
    dataset.load_annotations("stamped", **login)
    assert downloads == [task_id]
    dataset.load_annotations("stamped", **login)
    assert downloads == [task_id] and dataset.last_load.summary.unchanged_tasks == 1  # the stamp said so
    with ScriptedAnnotator(cvat_sim.url, USER, PASSWORD) as annotator:
        shape = annotator.annotations(task_id)["shapes"][0]
        annotator.delete(task_id, shape["id"])  # PATCH action=delete
    dataset.load_annotations("stamped", **login)
    assert downloads == [task_id, task_id] and dataset.last_load.summary.deleted == 1
    dataset.load_annotations("stamped", **login)
    assert len(downloads) == 2  # stamped again with what that load merged


def test_deleting_a_job_s_annotations_is_a_change_too(dataset, login, cvat_sim, downloads):
    results = dataset.limit(3).annotate("wiped", label_field="ground_truth", segment_size=2, **login)
    (task_id,) = results.task_ids
    dataset.load_annotations("wiped", **login)
    job_id = results.job_ids[task_id][0]
    with httpx.Client(base_url=cvat_sim.url, auth=(USER, PASSWORD)) as http:
        http.delete(f"/api/jobs/{job_id}/annotations").raise_for_status()
    dataset.load_annotations("wiped", **login)
    assert len(downloads) == 2 and dataset.last_load.summary.deleted > 0


def test_an_unchanged_download_at_a_new_stamp_is_remembered(dataset, login, cvat_sim, downloads):
    results = dataset.limit(2).annotate("touched", label_field="ground_truth", **login)
    (task_id,) = results.task_ids
    dataset.load_annotations("touched", **login)
    with httpx.Client(base_url=cvat_sim.url, auth=(USER, PASSWORD)) as http:  # a new stamp, the same annotations
        http.patch(f"/api/tasks/{task_id}", json={"bug_tracker": "https://bugs.example/1"}).raise_for_status()
    before = _boxes(dataset, [s.id for s in dataset.limit(2)])
    dataset.load_annotations("touched", **login)
    assert len(downloads) == 2 and dataset.last_load.summary.unchanged_tasks == 1
    run = dataset.registry.get_run(dataset.name, "touched")
    assert [type(e).__name__ for e in dataset.registry.history(run.id)][-2:] == ["TaskUnchanged", "LoadCompleted"]
    trail = [str(entry) for entry in run_history(dataset.registry, run.id)]
    assert any(f"task {task_id} unchanged on the server at its new revision" in line for line in trail), trail
    dataset.load_annotations("touched", **login)
    assert len(downloads) == 2  # the new stamp stands for the applied content now
    assert _boxes(dataset, list(before)) == before


def test_recheck_downloads_every_task_and_merges_nothing_twice(dataset, login, downloads):
    results = dataset.limit(3).annotate("checked", label_field="ground_truth", segment_size=2, **login)
    dataset.load_annotations("checked", **login)
    dataset.load_annotations("checked", recheck=True, **login)
    assert len(downloads) == 2 and dataset.last_load.summary.unchanged_tasks == len(results.task_ids)

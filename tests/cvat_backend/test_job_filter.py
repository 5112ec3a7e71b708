"""load_annotations(job_stage=..., job_state=...) merges only those jobs; a later load merges the rest, once."""

from __future__ import annotations

import pytest

from annoflow.adapters.cvat_backend import CVATBackend
from annoflow.adapters.cvat_sim.annotator import ScriptedAnnotator
from annoflow.adapters.cvat_sim.testing import PASSWORD, USER
from annoflow.adapters.label_stores import InMemoryLabelStore
from annoflow.adapters.quickstart import load_quickstart
from annoflow.application.audit import run_history
from annoflow.application.dataset import Dataset
from annoflow.application.runs.registry import RunRegistry
from annoflow.domain.labels import labels_in


def _boxes(dataset, sample_id):
    sample = next(s for s in dataset.iter_samples() if s.id == sample_id)
    return sorted(label.bounding_box for label in labels_in(sample.fields.get("ground_truth")))


@pytest.fixture
def boxes(tmp_path):
    """Two images of boxes only (no instance masks), so an annotator can move any of them."""
    store = InMemoryLabelStore("quickstart")
    load_quickstart(store, tmp_path / "media", num_samples=2, image_size=(96, 64), seed=8)
    return Dataset(
        store,
        RunRegistry(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}),
        {"cvat": CVATBackend(interactive=False, client_options={"poll_interval": 0.01})},
    )


def test_the_validated_jobs_first_then_the_rest_exactly_once(boxes, login, cvat_sim):
    dataset = boxes
    results = dataset.annotate("jobs", label_field="ground_truth", segment_size=1, **login)
    (task_id,) = results.task_ids
    frames = results.frame_id_map[task_id]
    with ScriptedAnnotator(cvat_sim.url, USER, PASSWORD) as annotator:
        jobs = sorted(
            annotator.client.get("/api/jobs", params={"task_id": task_id}).json()["results"],
            key=lambda j: j["start_frame"],
        )
        assert len(jobs) == 2
        shapes = annotator.annotations(task_id)["shapes"]
        for frame in (0, 1):  # one box moved in each job
            shape = next(s for s in shapes if s["frame"] == frame)
            annotator.move_shape(task_id, shape["id"], [2.0, 3.0, 20.0, 30.0])
        annotator.client.patch(f"/api/jobs/{jobs[0]['id']}", json={"stage": "validation"}).raise_for_status()
    before = {i: _boxes(dataset, frames[i]["sample_id"]) for i in (0, 1)}

    first = dataset.load_annotations("jobs", unexpected="ignore", job_stage="validation", **login)
    assert (first.edited, first.added, first.deleted) == (1, 0, 0) and first.summary.jobs == "stage=validation"
    assert _boxes(dataset, frames[0]["sample_id"]) != before[0] and _boxes(dataset, frames[1]["sample_id"]) == before[1]
    again = dataset.load_annotations("jobs", unexpected="ignore", job_stage="validation", **login)
    assert (again.edited, again.unchanged_tasks) == (0, 1)

    rest = dataset.load_annotations("jobs", unexpected="ignore", **login)
    assert (rest.edited, rest.added, rest.deleted) == (1, 0, 0)  # the other job's box; the first's not again
    assert _boxes(dataset, frames[1]["sample_id"]) != before[1]
    assert dataset.load_annotations("jobs", unexpected="ignore", **login).unchanged_tasks == 1
    history = [str(e) for e in run_history(dataset.registry, dataset.registry.get_run("quickstart", "jobs").id)]
    assert any("jobs with stage=validation only" in line for line in history)


def test_a_stage_or_state_cvat_does_not_have_is_refused_before_any_request(dataset, login):
    dataset.annotate("k", label_field="ground_truth", **login)
    with pytest.raises(ValueError, match="job_stage must be one of annotation, validation, acceptance, got 'review'"):
        dataset.load_annotations("k", job_stage="review", **login)
    with pytest.raises(ValueError, match="job_state must be one of new, in progress, rejected, completed"):
        dataset.load_annotations("k", job_state="done", **login)

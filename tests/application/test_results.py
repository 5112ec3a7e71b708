"""The results object reports and cleans up what a run created, and nothing else."""

from __future__ import annotations

import pytest

from annoflow.adapters.label_stores import InMemoryLabelStore
from annoflow.application.dataset import Dataset
from annoflow.application.runs.registry import RunRegistry
from annoflow.domain.annotation_run import RunError, RunStatus
from annoflow.domain.labels import Detection, Detections
from annoflow.domain.samples import Sample
from tests.fakes import FakeBackend


@pytest.fixture
def dataset():
    store = InMemoryLabelStore("quickstart")
    store.add_samples(
        [
            Sample(
                filepath=f"/img/{i}.jpg",
                media_type="image",
                fields={"ground_truth": Detections([Detection(label="cat", bounding_box=(0, 0, 0.5, 0.5))])},
            )
            for i in range(3)
        ]
    )
    opened = []
    ds = Dataset(
        store,
        RunRegistry(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}),
        {"fake": FakeBackend()},
        default_backend="fake",
        open_url=opened.append,
    )
    ds.opened = opened
    return ds


def test_results_carry_the_runs_ids_and_frame_map(dataset):
    results = dataset.take(3, seed=1).annotate("k", label_field="ground_truth", task_size=2, launch_editor=True)
    assert len(results.task_ids) == 2 and set(results.job_ids) == set(results.task_ids)
    frames = results.frame_id_map
    assert sorted(f["sample_id"] for t in frames.values() for f in t.values()) == sorted(dataset.sample_ids)
    assert dataset.opened and dataset.opened[0].startswith("http://fake/tasks/")
    statuses = dataset.load_annotation_results("k").get_status()
    assert [s.task_id for s in statuses] == results.task_ids
    lines = []
    results.print_status(lines.append)
    assert lines[0] == "Status for label field 'ground_truth':" and lines[1].startswith(
        f"    Task {results.task_ids[0]} ("
    )


def test_cleanup_deletes_only_what_the_run_made(dataset):
    backend = dataset.backends["fake"]
    backend.server.projects[99] = "someone else's"
    first = dataset.annotate("mine", label_field="ground_truth", project_name="fresh")
    reused = dataset.annotate("reused", label_field="ground_truth", project_name="someone else's")
    assert reused.project_ids == [99]
    reused.cleanup()
    assert 99 in backend.server.projects  # found by name, so not the run's to delete
    assert dataset.get_annotation_info("reused").status == "cleaned_up"
    results = dataset.load_annotation_results("mine")
    results.cleanup()
    assert backend.server.projects == {99: "someone else's"} and backend.server.tasks == {}
    run = dataset.registry.get_run("quickstart", "mine")
    assert run.status is RunStatus.CLEANED_UP and run.cleaned_up_projects == tuple(first.project_ids)


def test_cleanup_of_an_interrupted_run_leaves_no_orphan(dataset):
    backend = dataset.backends["fake"]
    backend.server.fail_fill_of_plan = 0
    with pytest.raises(ConnectionError):
        dataset.annotate("k", label_field="ground_truth")
    assert len(backend.server.tasks) == 1
    dataset.load_annotation_results("k").cleanup()
    assert backend.server.tasks == {}
    with pytest.raises(RunError, match="run 'k' is cleaned_up: there is nothing to resume"):
        dataset.annotate("k", resume=True)


def test_an_unknown_backend_is_named(dataset):
    with pytest.raises(ValueError, match="unknown annotation backend 'labelbox' \\(available: fake\\)"):
        dataset.annotate("k", backend="labelbox", label_field="ground_truth")


def test_the_results_annotate_returned_clean_up_after_a_load(dataset):
    # FiftyOne's order of work (the README's): annotate, load, then cleanup() on the results
    # annotate() returned, whose record the load has moved on since.
    results = dataset.annotate("k", label_field="ground_truth")
    dataset.load_annotations("k")
    results.cleanup()
    run = dataset.registry.get_run("quickstart", "k")
    assert run.status is RunStatus.CLEANED_UP and dataset.backends["fake"].server.tasks == {}
    assert results.task_ids == list(run.task_ids)


def test_results_status_and_cleanup_work_from_the_runs_record_when_its_samples_are_gone(dataset):
    results = dataset.annotate("k", label_field="ground_truth", task_size=2)
    backend = dataset.backends["fake"]
    dataset.store.delete_samples(dataset.sample_ids)  # the run's samples deleted from the dataset
    again = dataset.load_annotation_results("k")
    assert again.task_ids == results.task_ids and len(again.frame_id_map) == 2
    assert [s.task_id for s in again.get_status()] == results.task_ids
    again.cleanup()
    assert backend.server.tasks == {} and dataset.registry.get_run("quickstart", "k").status is RunStatus.CLEANED_UP


def test_run_management_works_on_views_too(dataset):
    view = dataset.take(2, seed=1)
    view.annotate("k", label_field="ground_truth")
    assert view.list_annotation_runs() == ["k"] and view.has_annotation_run("k")
    assert view.get_annotation_info("k").key == "k" and view.load_annotation_results("k").task_ids
    assert sorted(view.load_annotation_view("k").sample_ids) == sorted(view.sample_ids)
    view.rename_annotation_run("k", "k2")
    assert dataset.list_annotation_runs() == ["k2"]
    view.delete_annotation_run("k2", cleanup=True)  # the tasks go with the record
    assert dataset.list_annotation_runs() == [] and dataset.backends["fake"].server.tasks == {}


def test_deleting_an_unfinished_upload_without_its_cleanup_says_what_it_leaves(dataset):
    backend = dataset.backends["fake"]
    backend.server.fail_fill_of_plan = 1
    with pytest.raises(ConnectionError):
        dataset.annotate("k", label_field="ground_truth", task_size=2)
    with pytest.warns(
        UserWarning,
        match=r"run 'k' never finished its upload and leaves tasks \[\d+, \d+\] on the "
        r"server: delete_annotation_run\('k', cleanup=True\) removes them too",
    ):
        dataset.delete_annotation_run("k")
    assert not dataset.has_annotation_run("k") and backend.server.tasks  # left, as the warning says


def test_the_classes_left_out_warning_points_at_the_callers_line(dataset):
    with pytest.warns(UserWarning, match="the classes given leave out") as caught:
        dataset.annotate("k", label_field="ground_truth", classes=["no such class"])
    assert [w.filename for w in caught if "leave out" in str(w.message)] == [__file__]

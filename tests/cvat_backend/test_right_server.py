"""A run merges from and deletes on its own server only, whatever url it is given.

Two simulators stand for two CVAT servers that both gave out task 1: the run's, and another
run's. Loading or cleaning up the run against the other one is refused before anything is
merged or deleted; another url of the run's own server works; a task deleted in CVAT is skipped.
"""

from __future__ import annotations

import pytest

from annoflow.adapters.cvat_sim.annotator import ScriptedAnnotator
from annoflow.adapters.cvat_sim.server import CvatSimulator
from annoflow.adapters.cvat_sim.testing import PASSWORD, USER
from annoflow.domain.annotation_run import RunStatus, WrongServerError
from annoflow.domain.labels import labels_in


@pytest.fixture
def other_server(tmp_path, dataset):
    """Another CVAT whose task 1 belongs to another run."""
    with CvatSimulator(users={USER: PASSWORD}).serve() as other:
        login = {"url": other.url, "username": USER, "password": PASSWORD}
        results = dataset.take(2, seed=3).annotate("elsewhere", label_field="ground_truth", **login)
        assert results.task_ids == [1]
        yield other, login


def _labels(dataset) -> dict[str, list]:
    return {s.id: [repr(label) for label in labels_in(s.fields.get("ground_truth"))] for s in dataset.iter_samples()}


def test_a_load_from_another_server_is_refused_before_anything_is_merged(dataset, login, other_server):
    _other, other_login = other_server
    results = dataset.annotate("mine", label_field="ground_truth", **login)
    assert results.task_ids == [1]
    before = _labels(dataset)
    with pytest.raises(
        WrongServerError, match=r"task 1 .* is not the one run 'mine' made \(made .*\): nothing was merged"
    ):
        dataset.load_annotations("mine", unexpected="ignore", **other_login)
    assert _labels(dataset) == before
    run = dataset.registry.get_run("quickstart", "mine")
    assert run.status is RunStatus.UPLOADED and not run.unapplied
    # the right server still loads, under another name for the same address
    dataset.load_annotations(
        "mine", unexpected="ignore", **{**login, "url": login["url"].replace("127.0.0.1", "localhost")}
    )
    assert dataset.last_load.summary.edited == 0 and _labels(dataset) == before


def test_a_cleanup_on_another_server_deletes_nothing(dataset, login, other_server):
    other, other_login = other_server
    dataset.annotate("mine", label_field="ground_truth", **login)
    with pytest.raises(WrongServerError, match="nothing was merged or deleted"):
        dataset.load_annotation_results("mine", **other_login).cleanup()
    assert set(other.state.tasks) == {1}, "another run's task was deleted"
    run = dataset.registry.get_run("quickstart", "mine")
    assert not run.cleanup_started and run.status is RunStatus.UPLOADED
    with pytest.raises(WrongServerError):
        dataset.load_annotations("mine", unexpected="ignore", cleanup=True, **other_login)
    assert set(other.state.tasks) == {1}
    dataset.load_annotation_results("mine", **login).cleanup()  # its own server: done
    assert dataset.registry.get_run("quickstart", "mine").status is RunStatus.CLEANED_UP


def test_a_task_deleted_in_cvat_is_skipped_with_a_warning(dataset, login, cvat_sim):
    results = dataset.annotate("two", label_field="ground_truth", task_size=3, **login)
    _first, second = results.task_ids
    before = _labels(dataset)
    with ScriptedAnnotator(cvat_sim.url, USER, PASSWORD) as someone:  # deleted in CVAT's UI
        someone.client.delete(f"/api/tasks/{second}").raise_for_status()
    with pytest.warns(
        UserWarning, match=f"task {second} of run 'two' no longer exists on the server: skipped"
    ) as warned:
        dataset.load_annotations("two", unexpected="ignore", **login)
    assert [w.filename for w in warned] == [__file__]  # the warning names the user's call, not annoflow's code
    summary = dataset.last_load.summary
    assert summary.missing_tasks == (second,) and summary.unchanged_tasks == 0
    assert _labels(dataset) == before
    loads = dataset.registry.get_run("quickstart", "two").loads
    assert loads[-1].missing_tasks == (second,)

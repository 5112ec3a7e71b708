"""annotate() and load_annotations() against the simulator: a bar per task and stage, nothing with
progress=False, the skipped tasks logged, and job_reviewers (no effect on CVAT 2) warned about."""

from __future__ import annotations

import logging
import warnings

import pytest

from annoflow.adapters.cvat import RetryPolicy
from annoflow.adapters.cvat_backend import CVATBackend
from annoflow.adapters.label_stores import InMemoryLabelStore
from annoflow.adapters.progress import progress_for
from annoflow.adapters.quickstart import load_quickstart
from annoflow.application.dataset import Dataset
from annoflow.application.runs.registry import RunRegistry
from tests.application.test_progress import Recording


@pytest.fixture
def dataset(tmp_path):
    """Wired as open_dataset() wires it: tqdm bars for progress=."""
    store = InMemoryLabelStore("quickstart")
    load_quickstart(store, tmp_path / "media", num_samples=5, image_size=(96, 64))
    backend = CVATBackend(
        interactive=False, client_options={"poll_interval": 0.01, "retry": RetryPolicy(backoff=0.001)}
    )
    return Dataset(
        store, RunRegistry(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}), {"cvat": backend}, progress=progress_for
    )


def test_progress_false_shows_nothing_and_the_library_prints_nothing(dataset, login, capfd):
    capfd.readouterr()
    dataset.annotate("quiet", label_field="ground_truth", segment_size=2, progress=False, **login)
    dataset.load_annotations("quiet", progress=False, **login)
    dataset.load_annotations("quiet", progress=False, cleanup=True, **login)
    assert capfd.readouterr() == ("", "")


def test_progress_true_shows_a_bar_per_task_and_stage_on_stderr(dataset, login, capfd):
    capfd.readouterr()
    dataset.annotate("shown", label_field="ground_truth", segment_size=2, progress=True, **login)
    dataset.load_annotations("shown", progress=True, **login)
    out, err = capfd.readouterr()
    assert out == ""
    for stage in ("task 1: uploading media", "5/5 [", "task 1: uploading labels", "loading 'shown'", "1/1 ["):
        assert stage in err, stage


def test_progress_none_shows_nothing_off_a_terminal(dataset, login, capfd):
    capfd.readouterr()
    dataset.annotate("piped", label_field="ground_truth", **login)  # pytest's stderr is no terminal
    dataset.load_annotations("piped", **login)
    assert capfd.readouterr() == ("", "")


def test_each_stage_counts_what_is_done(dataset, login, caplog):
    progress = Recording()
    results = dataset.annotate("counted", label_field="ground_truth", segment_size=2, progress=progress, **login)
    (task_id,) = results.task_ids
    assert ("open", "task 1: uploading media", 5, "file") in progress.log
    assert ("open", "task 1: uploading labels", 5, "sample") in progress.log
    advances = [e[1] for e in progress.log if e[0] == "advance"]
    assert sorted(advances) == [1, 2, 2, 5]  # three jobs' samples (2, 2, 1), the five files in one request
    assert progress.log.count(("close",)) == 2
    loading = Recording()
    dataset.load_annotations("counted", progress=loading, **login)
    assert loading.log == [
        ("open", "loading 'counted'", 1, "task"),
        ("note", f"task {task_id}: downloading"),
        ("note", f"task {task_id}: merging"),
        ("advance", 1),
        ("close",),
    ]
    again = Recording()
    with caplog.at_level(logging.INFO, logger="annoflow"):
        dataset.load_annotations("counted", progress=again, **login)
    assert again.log == [
        ("open", "loading 'counted'", 1, "task"),
        ("note", f"task {task_id}: downloading"),
        ("note", f"task {task_id}: unchanged"),
        ("advance", 1),
        ("close",),
    ]
    assert f"run 'counted': task {task_id} unchanged since the last load: skipped" in caplog.messages


def test_job_reviewers_warn_that_cvat_2_ignores_them(dataset, login):
    with pytest.warns(UserWarning, match=r"job_reviewers has no effect on this CVAT server \(2\.52\.0\)"):
        dataset.annotate("reviewed", label_field="ground_truth", job_reviewers=["bob"], progress=False, **login)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        dataset.annotate("unreviewed", label_field="ground_truth", progress=False, **login)
    assert [w for w in caught if issubclass(w.category, UserWarning)] == []

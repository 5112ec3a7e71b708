"""A team's setup end to end: the PostgreSQL label store and the PostgreSQL run registry together.

Through the public API (`open_dataset` with the environment's variables), the simulator and the
scripted annotator's edits: one process annotates, edits and loads; then two processes annotate
and load different runs on one dataset at the same time, and both land.
"""

from __future__ import annotations

import multiprocessing
import uuid
from collections import Counter

import pytest

from annoflow.adapters.cvat_sim.annotator import ScriptedAnnotator
from annoflow.adapters.cvat_sim.testing import PASSWORD, USER
from annoflow.adapters.label_stores.postgres import PostgresLabelStore
from annoflow.adapters.quickstart import load_quickstart
from annoflow.adapters.wiring import open_dataset
from annoflow.domain.labels import labels_in
from annoflow.domain.task_ledger import merged_in

LOGIN = {"username": USER, "password": PASSWORD}


@pytest.fixture
def team_env(postgres_server, postgres_labels_dsn, tmp_path):
    """The variables of a team's installation: runs and labels on the tests' PostgreSQL server."""
    runs = f"runs_{uuid.uuid4().hex[:12]}"
    postgres_server.create_database(runs)
    return {
        **postgres_server.env(runs),
        "ANNOFLOW_LABEL_STORE": "postgres",
        "ANNOFLOW_POSTGRES_DSN": postgres_labels_dsn,
        "ANNOFLOW_POSTGRES_SCHEMA": f"t_{uuid.uuid4().hex[:12]}",
        "ANNOFLOW_DATA_DIR": str(tmp_path / "data"),
    }


def _boxes(dataset) -> list:
    return [label for sample in dataset.iter_samples() for label in labels_in(sample.fields["ground_truth"])]


def _events(dataset, key: str) -> Counter:
    run = dataset.registry.get_run(dataset.name, key)
    # LabelMerged counts the changes it carries (a load's changes of a task are one event)
    return Counter(
        name
        for event in dataset.registry.history(run.id)
        for name in ([type(event).__name__] * (len(merged_in(event)) if type(event).__name__ == "LabelMerged" else 1))
    )


def _edit(url: str, task_id: int) -> None:
    """An annotator moves a box, deletes one and draws one."""
    with ScriptedAnnotator(url, USER, PASSWORD) as annotator:
        moved, deleted = annotator.annotations(task_id)["shapes"][:2]
        annotator.move_shape(task_id, moved["id"], [1.0, 2.0, 30.0, 40.0])
        annotator.delete(task_id, deleted["id"])
        annotator.add_shape(task_id, sorted(annotator.labels(task_id))[0], 0, "rectangle", [5.0, 5.0, 20.0, 20.0])


def test_annotate_edit_load_on_postgres(team_env, cvat_sim, tmp_path):
    dataset = open_dataset("team", env=team_env)
    assert isinstance(dataset.store, PostgresLabelStore)
    load_quickstart(dataset.store, tmp_path / "media", num_samples=3, image_size=(64, 48))
    before = _boxes(dataset)
    (task_id,) = dataset.annotate("run", label_field="ground_truth", url=cvat_sim.url, **LOGIN).task_ids
    _edit(cvat_sim.url, task_id)
    dataset.load_annotations("run", url=cvat_sim.url, **LOGIN)

    # Another machine opens the same dataset from the same variables and sees the load.
    other = open_dataset("team", env=team_env)
    after = _boxes(other)
    assert len(after) == len(before) and len({label.id for label in after}) == len(after)  # one deleted, one added
    assert len({label.id for label in before} - {label.id for label in after}) == 1
    moved = [label for label in after if label.bounding_box == (1 / 64, 2 / 48, 29 / 64, 38 / 48)]
    assert len(moved) == 1 and moved[0].id in {label.id for label in before}  # an edit keeps the label's id
    events = _events(other, "run")
    assert events["LabelMerged"] == 3 and events["ChangesApplied"] == 1 and events["LoadCompleted"] == 1
    other.load_annotations("run", url=cvat_sim.url, **LOGIN)  # a second load changes nothing
    assert _boxes(other) == after and _events(other, "run")["LabelMerged"] == 3
    dataset.store.close()
    other.store.close()


def _annotate_edit_load(env: dict, url: str, key: str, sample_ids: list[str], barrier) -> None:
    """One machine: annotate its own samples, have them edited, and load when the other is ready too."""
    dataset = open_dataset("team", env=env)
    try:
        (task_id,) = (
            dataset.view().select(sample_ids).annotate(key, label_field="ground_truth", url=url, **LOGIN).task_ids
        )
        _edit(url, task_id)
        barrier.wait(120)  # both loads start together
        dataset.load_annotations(key, url=url, **LOGIN)
    finally:
        dataset.store.close()


def test_two_processes_annotate_and_load_different_runs_on_one_dataset(team_env, cvat_sim, tmp_path):
    dataset = open_dataset("team", env=team_env)
    load_quickstart(dataset.store, tmp_path / "media", num_samples=4, image_size=(64, 48))
    ids = dataset.store.sample_ids()
    before = {label.id for label in _boxes(dataset)}
    spawn = multiprocessing.get_context("spawn")
    barrier = spawn.Barrier(2)
    workers = [
        spawn.Process(target=_annotate_edit_load, args=(team_env, cvat_sim.url, key, part, barrier))
        for key, part in (("left", ids[:2]), ("right", ids[2:]))
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(180)
        assert worker.exitcode == 0
    assert sorted(dataset.list_annotation_runs()) == ["left", "right"]
    after = {label.id for label in _boxes(dataset)}
    assert len(before - after) == 2 and len(after - before) == 2  # each run's deletion and addition landed
    for key in ("left", "right"):
        events = _events(dataset, key)
        assert events["LabelMerged"] == 3 and events["ChangesApplied"] == 1 and events["LoadCompleted"] == 1
    dataset.store.close()


def test_a_run_started_on_sqlite_loads_into_its_copy_on_postgres(team_env, cvat_sim, tmp_path):
    from annoflow.adapters.label_stores.copying import copy_dataset
    from annoflow.adapters.wiring import open_store_at

    local_env = {**team_env, "ANNOFLOW_LABEL_STORE": "sqlite"}  # the same run registry, labels in SQLite
    local = open_dataset("team", env=local_env)
    load_quickstart(local.store, tmp_path / "media", num_samples=3, image_size=(64, 48))
    (task_id,) = local.annotate("run", label_field="ground_truth", url=cvat_sim.url, **LOGIN).task_ids
    before = _boxes(local)
    copy = open_store_at("postgres", "team", team_env)
    assert copy_dataset(local.store, copy) == 3
    copy.close()
    _edit(cvat_sim.url, task_id)

    shared = open_dataset("team", env=team_env)
    shared.load_annotations("run", url=cvat_sim.url, **LOGIN)
    after = _boxes(shared)
    assert len({label.id for label in before} - {label.id for label in after}) == 1  # the uploaded ids matched
    assert len({label.id for label in after} - {label.id for label in before}) == 1
    assert _events(shared, "run")["LabelMerged"] == 3
    assert _boxes(local) == before  # the original store is untouched
    local.store.close()
    shared.store.close()

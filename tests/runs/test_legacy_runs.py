"""Run records written before task ledgers keep working: listed, audited, loaded exactly once.

The fixture (tests/fixtures/legacy_runs, made by its make_fixture.py at commit 284c42c) holds a
run whose provenance lives in its own events and whose first load added box A. CVAT (the
simulator's saved state) has A and an original box moved since. Loading it now opens the task's
ledger from the run's events, A included, so A is edited, not inserted a second time.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from annoflow.adapters.cvat import RetryPolicy
from annoflow.adapters.cvat_backend import CVATBackend
from annoflow.adapters.cvat_sim.server import CvatSimulator
from annoflow.adapters.label_stores.sqlite import SqliteLabelStore
from annoflow.application.audit import run_history
from annoflow.application.dataset import Dataset
from annoflow.application.runs.registry import RunRegistry
from annoflow.domain.labels import labels_in
from annoflow.domain.task_ledger import merged_in

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "legacy_runs"
USER, PASSWORD = "annotator", "annotator-pw"


@pytest.fixture
def legacy(tmp_path):
    for name in ("datasets.sqlite", "runs.sqlite", "sim"):
        source = FIXTURE / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, tmp_path / name)
    with CvatSimulator(users={USER: PASSWORD}, media_dir=tmp_path / "sim").serve() as sim:

        def open_dataset() -> Dataset:
            registry = RunRegistry(
                env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "runs.sqlite")}
            )
            backends = {
                "cvat": CVATBackend(
                    interactive=False, client_options={"poll_interval": 0.01, "retry": RetryPolicy(backoff=0.001)}
                )
            }
            return Dataset(SqliteLabelStore(tmp_path / "datasets.sqlite", name="quickstart"), registry, backends)

        yield open_dataset, {"url": sim.url, "username": USER, "password": PASSWORD}


def _boxes(dataset: Dataset) -> dict[str, tuple]:
    return {
        box.id: (box.label, box.bounding_box)
        for s in dataset.iter_samples()
        for box in labels_in(s.fields.get("ground_truth"))
    }


def test_an_old_run_is_listed_audited_and_loaded_exactly_once(legacy):
    open_dataset, login = legacy
    expected = json.loads((FIXTURE / "expected.json").read_text())
    dataset = open_dataset()
    assert dataset.list_annotation_runs() == ["legacy"]
    run = dataset.registry.get_run("quickstart", "legacy")
    assert list(run.tasks) == [expected["task_id"]] and run.tasks[expected["task_id"]].label_count > 0
    history = [e.text for e in run_history(dataset.registry, run.id)]
    assert any(text.startswith("load ") and "1 added, 1 edited" in text for text in history), history
    before = _boxes(dataset)

    dataset.load_annotations("legacy", unexpected="keep", **login)
    summary = dataset.last_load.summary
    assert (summary.added, summary.edited, summary.deleted) == (0, 2, 0)  # A and an original moved: no copy of A
    after = _boxes(dataset)
    assert set(after) == set(before) and sum(after[k] != before[k] for k in after) == 2

    again = open_dataset()  # a new process: the ledger made from the old events was saved
    again.load_annotations("legacy", unexpected="keep", **login)
    assert again.last_load.summary.unchanged_tasks == 1 and _boxes(again) == after
    ledger_events = list(again.registry.ledger_history(run, expected["task_id"]))
    assert [type(e).__name__ for e in ledger_events] == ["Opened", "Imported", "LabelMerged"]
    # the load's changes of the task in one event: the two edits
    assert [c.action.value for c in merged_in(ledger_events[-1])] == ["edited", "edited"]

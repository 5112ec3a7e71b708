"""A run's events replay as a readable history, whatever stores them."""

from __future__ import annotations

from annoflow.application.audit import audit_entries, dataset_history, run_history
from annoflow.application.runs.registry import RunRegistry
from annoflow.domain.run_records import LoadSummary
from tests.runs.test_registry import _full_run


def test_history_reads_like_what_happened(tmp_path):
    registry = RunRegistry(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "r.db")})
    run, ledger = _full_run()
    registry.add_run(run, ledger)
    crashed = [str(e) for e in run_history(registry, run.id)]
    assert crashed[-1].endswith(
        "load load-1: 1 added, 2 edited, 1 deleted, 1 rejected from 1 task (not completed: the next load finishes it)"
    )
    run.mark_applied(7)
    run.complete_load(LoadSummary("load-1", added=1, edited=2, deleted=1, rejected=1))
    run.complete_load(LoadSummary("load-2", unchanged_tasks=1))
    registry.save_run(run)
    registry.rename_run("quickstart", "anno", "anno2")
    registry.delete_run("quickstart", "anno2")
    texts = [e.text for e in run_history(RunRegistry(env=registry.env), run.id)]
    assert texts[0] == "requested key 'anno' on dataset 'quickstart': 4 samples to cvat, fields ground_truth"
    assert texts[1] == "task 7 created in project 3: 4 frames, 2 jobs, 1 label uploaded"
    assert texts[2] == "upload completed"
    assert texts[3] == "load load-1: 1 added, 2 edited, 1 deleted, 1 rejected from 1 task"
    assert texts[4] == "changes of task 7 applied to the dataset"
    assert texts[5] == "load load-2: 0 added, 0 edited, 0 deleted, 0 rejected from 0 tasks, 1 task unchanged"
    assert texts[6:] == ["renamed 'anno' -> 'anno2'", "run record deleted"]
    ((deleted_run, entries),) = dataset_history(registry, "quickstart")
    assert deleted_run.is_deleted and len(entries) == 8


def test_entries_come_in_event_order():
    run, _ = _full_run()
    entries = audit_entries(run.collect_events())
    assert [e.event for e in entries] == ["Requested", "TaskCreated", "UploadCompleted", "load"]
    assert entries == sorted(entries, key=lambda e: e.timestamp)

"""A run records that its cleanup began, so an interrupted cleanup is finished, never loaded."""

from __future__ import annotations

import pytest

from annoflow.application.runs.registry import RunRegistry
from annoflow.domain.annotation_run import RunError, RunStatus
from tests.domain.test_annotation_run import _run, _task


def test_a_started_cleanup_is_pending_until_cleaned_up():
    run = _run()
    ledger = run.record_task(_task(run))
    run.complete_upload()
    run.check_loadable()
    run.start_cleanup()
    run.start_cleanup()  # again: nothing more to record
    assert [type(e).__name__ for e in run.collect_events()].count("CleanupStarted") == 1
    assert run.cleanup_pending and run.status is RunStatus.UPLOADED
    with pytest.raises(RunError, match="is being cleaned up"):
        run.check_loadable()
    with pytest.raises(RunError, match="is being cleaned up"):
        run.record_import(load_id="l", task_id=1, digest="d", ledger=ledger, changes=[], rejections=[], shape_count=0)
    run.record_cleanup([1])
    assert not run.cleanup_pending
    with pytest.raises(RunError, match="was cleaned up"):
        run.check_loadable()


def test_an_interrupted_upload_being_cleaned_up_is_not_resumed():
    run = _run()
    run.start_task(7, 0)
    run.start_cleanup()
    with pytest.raises(RunError, match="is being cleaned up"):
        run.start_task(8, 1)


def test_the_started_cleanup_survives_a_restart():
    registry = RunRegistry(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    run = _run()
    registry.add_run(run)
    run.record_task(_task(run))
    run.complete_upload()
    run.start_cleanup()
    registry.save_run(run)
    again = registry.get_run("ds", "k")
    assert again.cleanup_pending and again.status is RunStatus.UPLOADED

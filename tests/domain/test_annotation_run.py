"""The AnnotationRun aggregate refuses commands its state does not allow, before any event."""

from __future__ import annotations

import attrs
import pytest

from annoflow.domain.annotation_run import AnnotationRun, RunCatalog, RunError, RunStatus, WrongServerError
from annoflow.domain.ids import new_id
from annoflow.domain.label_schema import LabelSchema
from annoflow.domain.labels import Detection
from annoflow.domain.run_records import FrameRef, LoadSummary, MergedChange, TaskRecord
from annoflow.domain.task_ledger import TaskLedger


def _run(**overrides):
    args = dict(
        dataset="ds", key="k", backend="cvat", config={}, label_schema=LabelSchema(()), sample_ids=[new_id(), new_id()]
    )
    args.update(overrides)
    return AnnotationRun.request(**args)


def _task(run, task_id=1):
    return TaskRecord(
        task_id=task_id,
        project_id=None,
        job_ids=[1],
        frames=[FrameRef(s) for s in run.sample_ids],
        uploaded=[],
        labels=[],
        attributes=[],
    )


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"key": ""}, "annotation key '' must start with a letter"),
        ({"key": "9lives"}, "annotation key '9lives' must start with a letter"),
        ({"key": "has space"}, "annotation key 'has space'"),
        ({"key": None}, "annotation key None"),
        ({"dataset": ""}, "a run belongs to a named dataset"),
        ({"sample_ids": []}, "needs at least one sample"),
        ({"sample_ids": ["a" * 24, "a" * 24]}, "lists each sample once"),
        ({"config": {"password": "hunter2"}}, r"config\['password'\] looks like a credential"),
        ({"config": {"headers": {"X": "1"}}}, r"config\['headers'\] looks like a credential"),
        ({"config": {"cvat": {"api_token": "t"}}}, r"config\['cvat'\]\['api_token'\] looks like a credential"),
    ],
)
def test_bad_requests_are_refused(overrides, message):
    with pytest.raises(RunError, match=message):
        _run(**overrides)


def test_secret_values_never_reach_the_error_message():
    with pytest.raises(RunError) as caught:
        _run(config={"password": "hunter2"})
    assert "hunter2" not in str(caught.value)


def test_lifecycle_is_enforced():
    run = _run()
    with pytest.raises(RunError, match="has no task yet"):
        run.complete_upload()
    early = TaskLedger.open(run.id, _task(run))
    with pytest.raises(RunError, match="has not finished uploading"):
        run.record_import(load_id="l", task_id=1, digest="d", ledger=early, changes=[], rejections=[], shape_count=0)
    ledger = run.record_task(_task(run))
    assert ledger.id == early.id and ledger.record() == _task(run)
    with pytest.raises(RunError, match="task 1 is already recorded"):
        run.record_task(_task(run))
    stranger = TaskRecord(
        task_id=2, project_id=None, job_ids=[], frames=[FrameRef(new_id())], uploaded=[], labels=[], attributes=[]
    )
    with pytest.raises(RunError, match="shows samples outside the run"):
        run.record_task(stranger)
    run.complete_upload()
    assert run.status is RunStatus.UPLOADED
    with pytest.raises(RunError, match="its tasks are all created"):
        run.record_task(_task(run, 3))
    with pytest.raises(RunError, match="task 9 is not part of run"):
        run.record_import(load_id="l", task_id=9, digest="d", ledger=ledger, changes=[], rejections=[], shape_count=0)
    other = _run()
    other.record_task(_task(other))
    with pytest.raises(RunError, match="not the one of task 1"):
        run.record_import(
            load_id="l",
            task_id=1,
            digest="d",
            ledger=TaskLedger.open(other.id, _task(other)),
            changes=[],
            rejections=[],
            shape_count=0,
        )
    assert ledger.last_load_id is None and run.status is RunStatus.UPLOADED


def test_a_recorded_import_must_be_applied_before_the_load_completes():
    run = _run()
    ledger = run.record_task(_task(run))
    run.complete_upload()
    det = Detection(label="cat", bounding_box=(0, 0, 0.5, 0.5))
    change = MergedChange("added", run.sample_ids[0], "gt", det.id, label=det, remote_id=5)
    run.record_import(
        load_id="l", task_id=1, digest="d1", ledger=ledger, changes=[change], rejections=[], shape_count=1
    )
    assert run.status is RunStatus.LOADING and run.unapplied == {1: "l"} and ledger.changes_of("l") == [change]
    assert not run.is_unchanged(1, "d1")
    with pytest.raises(RunError, match="still have changes to apply"):
        run.complete_load(LoadSummary("l"))
    with pytest.raises(RunError, match="not yet applied"):
        run.record_import(load_id="l2", task_id=1, digest="d2", ledger=ledger, changes=[], rejections=[], shape_count=0)
    run.mark_applied(1)
    assert run.is_unchanged(1, "d1") and not run.is_unchanged(1, "d2")
    with pytest.raises(RunError, match="no recorded changes waiting"):
        run.mark_applied(1)
    run.complete_load(LoadSummary("l", added=1))
    assert run.status is RunStatus.LOADED and run.loads == [LoadSummary("l", added=1)]


def test_deleted_and_cleaned_up_runs_refuse_work():
    run = _run()
    ledger = run.record_task(_task(run))
    run.complete_upload()
    run.record_cleanup([1])
    with pytest.raises(RunError, match="was cleaned up"):
        run.record_import(load_id="l", task_id=1, digest="d", ledger=ledger, changes=[], rejections=[], shape_count=0)
    run.delete()
    for command in (lambda: run.rename("x"), run.delete, lambda: run.record_cleanup([])):
        with pytest.raises(RunError, match="was deleted"):
            command()


def test_rename_rules():
    run = _run()
    with pytest.raises(RunError, match="already called 'k'"):
        run.rename("k")
    with pytest.raises(RunError, match="annotation key 'bad key'"):
        run.rename("bad key")
    run.rename("k2")
    assert (run.key, run.previous_keys) == ("k2", ["k"])


def test_catalog_keeps_keys_unique_and_in_order():
    catalog = RunCatalog(dataset="ds")
    a, b = _run(key="a"), _run(key="b")
    catalog.add("a", a.id)
    catalog.add("b", b.id)
    with pytest.raises(RunError, match="already has an annotation run with key 'a'"):
        catalog.add("a", b.id)
    with pytest.raises(RunError, match="already has an annotation run with key 'b'"):
        catalog.rename("a", "b")
    catalog.rename("a", "c")
    assert list(catalog.runs) == ["c", "b"]
    with pytest.raises(RunError, match=r"no annotation run with key 'a' \(runs: 'c', 'b'\)"):
        catalog.get("a")
    catalog.remove("c")
    assert list(catalog.runs) == ["b"] and catalog.ever == [a.id, b.id]


def test_started_tasks_are_tracked_until_filled_or_abandoned():
    run = _run()
    run.record_project(42)
    with pytest.raises(RunError, match="project 42 is already recorded"):
        run.record_project(42)
    run.start_task(1, plan_index=0)
    run.start_task(2, plan_index=1)
    with pytest.raises(RunError, match="task 1 is already recorded"):
        run.start_task(1, plan_index=0)
    run.record_task(_task(run, 1))
    assert run.started_tasks == {2: 1} and run.filled_plan_indexes == {0}
    with pytest.raises(RunError, match=r"tasks \[2\] of run 'k' were started but not filled"):
        run.complete_upload()
    run.abandon_task(2)
    with pytest.raises(RunError, match="task 2 is not a started, unfilled task"):
        run.abandon_task(2)
    run.complete_upload()
    assert run.created_projects == [42] and run.task_ids == (1,)
    with pytest.raises(RunError, match="its tasks are all created"):
        run.start_task(3, plan_index=2)


def test_a_server_task_is_the_runs_only_when_made_when_and_with_the_jobs_the_run_recorded():
    run = _run()
    run.start_task(1, plan_index=0, created="2026-12-01T10:00:00.000001Z")
    run.start_task(2, plan_index=1)  # recorded before creation times were kept
    run.check_remote_task(1, name="any", job_ids=[], created="2026-12-01T10:00:00.000001Z")
    with pytest.raises(WrongServerError, match=r"made 2026-12-02T00:00:00Z, not 2026-12-01T10:00:00.000001Z"):
        run.check_remote_task(1, name="any", job_ids=[], created="2026-12-02T00:00:00Z")
    run.check_remote_task(2, name=f"task [{run.marker}]", job_ids=[], created="x")
    with pytest.raises(WrongServerError, match="does not carry the run's marker"):
        run.check_remote_task(2, name="task", job_ids=[], created="x")
    task = attrs.evolve(_task(run, 1), job_ids=[5, 6], created="2026-12-01T10:00:00.000001Z")
    run.record_task(task)
    run.check_remote_task(1, name="t", job_ids=[5, 6, 9], created=task.created)  # CVAT added a job: still the run's
    with pytest.raises(WrongServerError, match=r"jobs \[5\], not \[5, 6\]"):
        run.check_remote_task(1, name="t", job_ids=[5], created=task.created)
    with pytest.raises(RunError, match="task 3 is not part of run"):
        run.check_remote_task(3, name="t", job_ids=[], created=None)


def test_a_task_is_current_only_at_the_revision_of_its_applied_download():
    run = _run()
    ledger = run.record_task(_task(run))
    run.complete_upload()
    assert not run.is_current(1, "r1")  # never loaded
    run.record_import(
        load_id="l", task_id=1, digest="d1", ledger=ledger, changes=[], rejections=[], shape_count=0, revision="r1"
    )
    assert not run.is_current(1, "r1")  # recorded, not yet applied
    run.mark_applied(1)
    assert run.is_current(1, "r1") and not run.is_current(1, "r2") and not run.is_current(1, None)
    run.note_revision(1, "r2")  # a later download at r2 had the applied digest
    assert run.is_current(1, "r2") and not run.is_current(1, "r1")
    events = run.collect_events()
    assert [type(e).__name__ for e in events][-1] == "TaskUnchanged"
    run.note_revision(1, "r2")  # nothing new: nothing recorded
    assert run.collect_events() == []
    run.record_import(load_id="l2", task_id=1, digest="d2", ledger=ledger, changes=[], rejections=[], shape_count=0)
    with pytest.raises(RunError, match="no applied download"):
        run.note_revision(1, "r3")
    run.mark_applied(1)
    assert not run.is_current(1, "r2")  # a download without a stamp leaves none standing


def test_revisions_come_back_on_replay():
    run = _run()
    ledger = run.record_task(_task(run))
    run.complete_upload()
    run.record_import(
        load_id="l", task_id=1, digest="d1", ledger=ledger, changes=[], rejections=[], shape_count=0, revision="r1"
    )
    run.mark_applied(1)
    run.note_revision(1, "r2")
    replayed = None
    for event in run.collect_events():
        replayed = event.mutate(replayed)
    assert replayed.is_current(1, "r2") and replayed.applied_digests == {1: "d1"}

"""annotate() checks everything first, records before it sends, and never orphans a task."""

from __future__ import annotations

import re

import pytest

from annoflow.adapters.label_stores import InMemoryLabelStore
from annoflow.application.annotate import AnnotateRequest, Annotator
from annoflow.application.ports.annotation_backend import BackendConfigError
from annoflow.application.runs.registry import RunRegistry
from annoflow.domain.annotation_run import RunError, RunStatus
from annoflow.domain.label_schema import LabelSchemaError
from annoflow.domain.labels import Detection, Detections
from annoflow.domain.samples import ImageMetadata, Sample
from annoflow.domain.task_plan import TaskPlanError
from tests.fakes import FakeBackend


class CountingStore(InMemoryLabelStore):
    """Remembers how many samples each read asked for."""

    def __init__(self, name):
        super().__init__(name)
        self.reads = []

    def get_samples(self, ids=None, fields=None):
        self.reads.append((len(ids) if ids is not None else None, None if fields is None else tuple(fields)))
        return super().get_samples(ids, fields)


@pytest.fixture
def world():
    store = CountingStore("quickstart")
    samples = [
        Sample(
            filepath=f"/img/{i}.jpg",
            media_type="image",
            metadata=ImageMetadata(64, 48),
            fields={
                "ground_truth": Detections(
                    [
                        Detection(label="cat", bounding_box=(0.1, 0.1, 0.2, 0.2), attributes={"iscrowd": 0})
                        for _ in range(i % 3)
                    ]
                ),
                "other": "x",
            },
        )
        for i in range(5)
    ]
    store.add_samples(samples)
    registry = RunRegistry(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    backend = FakeBackend()
    opened = []
    annotator = Annotator(store, registry, {"fake": backend}, opened.append)
    return store, registry, backend, annotator, opened


def _annotate(annotator, store, key="k", **options):
    from annoflow.application.dataset import Dataset

    dataset = Dataset(store, annotator.registry)
    return annotator.annotate(dataset, AnnotateRequest.of(key, "fake", **options))


def _events(registry, run):
    return [type(e).__name__ for e in registry.history(run.id)]


def test_tasks_are_recorded_as_they_are_built(world):
    store, registry, backend, annotator, opened = world
    run = _annotate(annotator, store, label_field="ground_truth", task_size=2, segment_size=1, launch_editor=True)
    # each task is started (and its media sent) while the one before it is filled
    assert _events(registry, run) == [
        "Requested",
        "TaskStarted",
        "TaskStarted",
        "TaskCreated",
        "TaskStarted",
        "TaskCreated",
        "TaskCreated",
        "UploadCompleted",
    ]
    assert run.status is RunStatus.UPLOADED and set(run.task_ids) == set(backend.server.tasks)
    assert sum(t.label_count for t in run.tasks.values()) == sum(i % 3 for i in range(5))
    assert sum(len(registry.get_ledger(run, t).record().uploaded) for t in run.tasks) == sum(i % 3 for i in range(5))
    assert run.config["task_size"] == 2 and run.config["segment_size"] == 1
    assert opened == [f"http://fake/tasks/{run.task_ids[0]}/jobs/{run.tasks[run.task_ids[0]].job_ids[0]}"]
    # one streaming pass observes the existing labels; then samples are read a task at a time
    observe_pass, *task_reads = [r for r in store.reads if r[1] == ("ground_truth",)]
    assert observe_pass == (5, ("ground_truth",))
    assert [n for n, _ in task_reads] == [2, 2, 1]


@pytest.mark.parametrize(
    "options, error, message",
    [
        ({"label_field": "ground_truth", "task_size": 0}, TaskPlanError, "task_size must be a positive integer"),
        (
            {"label_field": "ground_truth", "segment_size": -1},
            BackendConfigError,
            "segment_size must be a positive integer",
        ),
        ({"label_field": "ground_truth", "bogus": 1}, BackendConfigError, "unknown option 'bogus'"),
        ({"label_field": "new_field"}, LabelSchemaError, "new_field"),
    ],
)
def test_bad_input_is_refused_before_anything_is_recorded_or_sent(world, options, error, message):
    store, registry, backend, annotator, _ = world
    with pytest.raises(error, match=message):
        _annotate(annotator, store, **options)
    assert registry.list_runs("quickstart") == [] and backend.server.connections == 0


def test_missing_media_is_refused_before_anything_is_sent(world):
    store, registry, backend, annotator, _ = world
    backend.missing_media = {"/img/3.jpg"}
    with pytest.raises(FileNotFoundError, match=re.escape("/img/3.jpg")):
        _annotate(annotator, store, label_field="ground_truth")
    assert registry.list_runs("quickstart") == [] and backend.server.tasks == {}


def test_an_existing_key_is_refused_unless_resuming(world):
    store, _registry, _backend, annotator, _ = world
    _annotate(annotator, store, label_field="ground_truth")
    with pytest.raises(RunError, match="already has an annotation run with key 'k'"):
        _annotate(annotator, store, label_field="ground_truth")
    with pytest.raises(RunError, match="is uploaded: there is nothing to resume"):
        _annotate(annotator, store, resume=True)
    with pytest.raises(RunError, match="no annotation run 'other' to resume"):
        _annotate(annotator, store, key="other", resume=True)


def test_an_interrupted_upload_resumes_without_orphans(world):
    store, registry, backend, annotator, _ = world
    backend.server.fail_fill_of_plan = 1
    with pytest.raises(ConnectionError):
        _annotate(annotator, store, label_field="ground_truth", task_size=2)
    run = registry.get_run("quickstart", "k")
    # the failed task and the next one, started ahead so its media could go up meanwhile
    assert run.status is RunStatus.REQUESTED and len(run.tasks) == 1 and len(run.started_tasks) == 2
    assert set(backend.server.tasks) == set(run.tasks) | set(run.started_tasks)  # every server task is on record
    resumed = _annotate(annotator, store, resume=True)
    assert resumed.status is RunStatus.UPLOADED and len(resumed.tasks) == 3
    assert set(backend.server.tasks) == set(resumed.task_ids)
    assert "TaskAbandoned" in _events(registry, resumed)
    assert sorted(s for t in resumed.tasks.values() for s in t.sample_ids) == sorted(resumed.sample_ids)


def test_a_request_never_shows_its_credentials():
    request = AnnotateRequest.of("k", "cvat", label_field="gt", username="u", password="hunter2")
    assert "hunter2" not in repr(request) and "hunter2" not in str(request)


def test_an_existing_project_s_labels_are_adopted_before_the_first_task(world):
    from annoflow.domain.project_schema import ProjectLabel

    store, registry, backend, annotator, _ = world
    backend.server.projects[99] = "shared"
    backend.server.project_labels[99] = [ProjectLabel("dog"), ProjectLabel("car")]
    run = _annotate(annotator, store, label_field="ground_truth", classes=["cat"], project_name="shared")
    assert _events(registry, run)[:3] == ["Requested", "ProjectSchemaAdopted", "TaskStarted"]
    assert run.label_schema["ground_truth"].classes == ("dog", "car") and run.label_schema.from_project
    assert run.created_projects == []  # found, not made: cleanup leaves it
    from annoflow.application.audit import run_history

    adopted = [e for e in run_history(registry, run.id) if e.event == "ProjectSchemaAdopted"]
    assert [e.text for e in adopted] == ["follows the existing project's labels: ground_truth (2 classes)"]


def test_a_run_without_fields_needs_an_existing_project_and_frees_its_key_when_refused(world):
    store, registry, backend, annotator, _ = world
    with pytest.raises(LabelSchemaError, match="no label field"):
        _annotate(annotator, store, project_name="not-there-yet")
    assert not registry.has_run("quickstart", "k") and backend.server.tasks == {} and backend.server.projects == {}
    with pytest.raises(LabelSchemaError, match="no label field"):
        _annotate(annotator, store)  # and without a project, before anything is recorded
    assert not registry.has_run("quickstart", "k")


def test_a_new_field_without_classes_takes_an_existing_project_s_labels_else_is_refused(world):
    from annoflow.domain.project_schema import ProjectLabel

    store, registry, backend, annotator, _ = world
    with pytest.raises(LabelSchemaError, match="field 'new_boxes': classes are required for a new field"):
        _annotate(annotator, store, label_field="new_boxes", label_type="detections", project_name="shared")
    assert not registry.has_run("quickstart", "k") and backend.server.tasks == {} and backend.server.projects == {}
    backend.server.projects[99] = "shared"
    backend.server.project_labels[99] = [ProjectLabel("dog"), ProjectLabel("car")]
    run = _annotate(annotator, store, label_field="new_boxes", label_type="detections", project_name="shared")
    assert (
        run.label_schema["new_boxes"].classes == ("dog", "car")
        and run.label_schema["new_boxes"].label_type == "detections"
    )


def test_fields_that_could_take_the_same_object_are_refused_before_any_task(world):
    from annoflow.domain.project_schema import ProjectLabel

    store, registry, backend, annotator, _ = world
    backend.server.projects[99] = "shared"
    backend.server.project_labels[99] = [ProjectLabel("cat")]
    with pytest.raises(LabelSchemaError, match=r"fields 'ground_truth' \(detections\) and 'more' \(detections\)"):
        _annotate(
            annotator,
            store,
            label_schema={"ground_truth": {}, "more": {"type": "detections", "classes": ["x"]}},
            project_name="shared",
        )
    assert backend.server.tasks == {} and backend.server.requests == 1  # the project's labels were read, nothing made
    assert not registry.has_run("quickstart", "k")


def test_an_upload_into_an_existing_project_resumes_with_the_schema_it_adopted(world):
    from annoflow.domain.project_schema import ProjectLabel

    store, registry, backend, annotator, _ = world
    backend.server.projects[99] = "shared"
    backend.server.project_labels[99] = [ProjectLabel("cat")]
    backend.server.fail_fill_of_plan = 1
    with pytest.raises(ConnectionError):
        _annotate(annotator, store, label_field="ground_truth", project_name="shared", task_size=2)
    backend.server.project_labels[99] = [ProjectLabel("cat"), ProjectLabel("bird")]  # the project changed meanwhile
    run = _annotate(annotator, store, resume=True)
    assert run.status is RunStatus.UPLOADED and _events(registry, run).count("ProjectSchemaAdopted") == 1
    assert run.label_schema["ground_truth"].classes == ("cat",)  # the tasks of one run share one schema


def test_a_project_id_that_names_no_project_is_refused_after_requested_and_frees_the_key(world, monkeypatch):
    from annoflow.application.ports.annotation_backend import ProjectNotFoundError
    from annoflow.domain.project_schema import ProjectLabel
    from tests.fakes import FakeSession

    store, registry, backend, annotator, _ = world
    recorded_when_asked = []
    ask = FakeSession.project_labels
    monkeypatch.setattr(
        FakeSession,
        "project_labels",
        lambda session, request: (
            recorded_when_asked.append(registry.has_run("quickstart", "k")),
            ask(session, request),
        )[1],
    )
    with pytest.raises(ProjectNotFoundError, match="no project 123"):
        _annotate(annotator, store, label_field="ground_truth", project_id=123)
    assert recorded_when_asked == [True]  # Requested comes before the first request, as ever
    assert not registry.has_run("quickstart", "k") and backend.server.tasks == {} and backend.server.projects == {}
    backend.server.projects[123] = "shared"
    backend.server.project_labels[123] = [ProjectLabel("cat")]
    run = _annotate(annotator, store, label_field="ground_truth", project_id=123)  # the same key, corrected
    assert run.status is RunStatus.UPLOADED and run.created_projects == []
    assert {t.project_id for t in run.tasks.values()} == {123} and set(backend.server.projects) == {123}
    assert _events(registry, run)[:2] == ["Requested", "ProjectSchemaAdopted"]


def test_classes_that_leave_existing_labels_out_say_so(world):
    store, _registry, _backend, annotator, _opened = world
    with pytest.warns(
        UserWarning,
        match=r"field 'ground_truth': the classes given leave out 4 existing label\(s\) "
        r"of other classes \(4 'cat'\): they are not uploaded",
    ):
        _annotate(annotator, store, label_field="ground_truth", classes=["dog"])
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every class named: nothing is left out, nothing said
        _annotate(annotator, store, key="k2", label_field="ground_truth", classes=["cat", "dog"])


def test_a_failure_the_server_cannot_account_for_keeps_the_run_so_it_can_be_finished(world, monkeypatch):
    """When annotate() fails before recording anything and the server cannot then say whether it holds
    something of the run (it is down), the run and its marker stay: deleting them could orphan a task
    that the failed request made."""
    from tests.fakes import FakeSession

    store, registry, backend, annotator, _ = world
    create = FakeSession.create_task

    def create_then_fail(session, request, plan, project):
        create(session, request, plan, project)  # made on the server, but the answer never came back
        raise ConnectionError("the server went away")

    monkeypatch.setattr(FakeSession, "create_task", create_then_fail)
    monkeypatch.setattr(
        FakeSession,
        "find_marked",
        lambda session, marker: (_ for _ in ()).throw(ConnectionError("the server is still away")),
    )
    with pytest.raises(ConnectionError, match="went away") as failure:
        _annotate(annotator, store, label_field="ground_truth")
    assert registry.has_run("quickstart", "k") and len(backend.server.tasks) == 1
    assert any("so the run is kept" in note for note in failure.value.__notes__)
    monkeypatch.undo()
    run = _annotate(annotator, store, resume=True)  # the server is back: resume adopts the task it made
    assert run.status is RunStatus.UPLOADED and set(run.tasks) == set(backend.server.tasks)

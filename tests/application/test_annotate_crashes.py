"""A crash at any step of annotate() leaves a run that resume=True finishes, and no orphan on the server.

The steps are those of a clean annotate() of three tasks into a project the run makes, enumerated
through `tests.crashes`, each crashed before its call and after it returned. The next process
calls annotate() again: with resume=True when the run was recorded, afresh when it was not. The
run must then be uploaded with one task per plan, the server must hold exactly the run's tasks
and project, and cleanup() must leave the server empty.

Two windows cannot be closed by the run's record alone: a task or project the server made whose
id the run did not record before the crash (the crash falls between ``create_task`` /
``prepare_project`` returning and the save of ``TaskStarted`` / ``ProjectCreated``). What the
backend makes carries the run's marker until recorded, so resume finds it (``find_marked``):
such tasks are deleted, such a project adopted. `_unrecorded` names those cases, which must pass
like the others.

The same sweep runs an annotate() into a CVAT project that exists already (named by id and by
name), which holds another run's task: the run adopts the project's labels once
(``ProjectSchemaAdopted``), resumes into the same project, and its cleanup() deletes its own
tasks only, never the project it did not make nor the other task.
"""

from __future__ import annotations

from typing import Any

import pytest

from annoflow.adapters.label_stores import InMemoryLabelStore
from annoflow.application.dataset import Dataset
from annoflow.application.runs.registry import RunRegistry
from annoflow.domain.annotation_run import RunError
from annoflow.domain.labels import Detection, Detections
from annoflow.domain.project_schema import ProjectLabel
from annoflow.domain.samples import Sample
from tests.crashes import Crash, Steps, tapped
from tests.fakes import FakeBackend

KEY = "up"
OPTIONS: dict[str, Any] = dict(label_field="ground_truth", task_size=2, project_name="crash-project")
MAKERS = ("session.create_task", "session.prepare_project")  # calls that make something on the server


def make_world() -> tuple[InMemoryLabelStore, RunRegistry, FakeBackend]:
    store = InMemoryLabelStore("quickstart")
    store.add_samples(
        [
            Sample(
                filepath=f"/img/{i}.jpg",
                media_type="image",
                id=f"{0xA000 + i:024x}",
                fields={
                    "ground_truth": Detections(
                        [Detection(label="cat", bounding_box=(0.1, 0.1, 0.2, 0.2), id=f"{0xC000 + i:024x}")]
                    )
                },
            )
            for i in range(5)
        ]
    )
    return store, RunRegistry(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}), FakeBackend()


def dataset(world, steps: Steps | None = None) -> Dataset:
    store, registry, backends = world[0], world[1], {"fake": world[2]}
    if steps is not None:
        store, registry, backends = tapped(store, registry, backends, steps)
    return Dataset(store, registry, backends, default_backend="fake")


def _clean_steps() -> list[str]:
    steps = Steps()
    dataset(make_world(), steps).annotate(KEY, **OPTIONS)
    return steps.names


def _unrecorded(names: list[str], k: int, after: bool, makers: tuple[str, ...] = MAKERS) -> bool:
    """True when the crash falls after the server made something and before the run saved its id."""
    for c, name in enumerate(names):
        if name not in makers:
            continue
        saved = next(s for s in range(c + 1, len(names)) if names[s] == "registry.save_run")
        made = c < k or (c == k and after)
        unsaved = k < saved or (k == saved and not after)
        if made and unsaved:
            return True
    return False


STEPS = _clean_steps()
CASES = [
    pytest.param(
        k,
        after,
        id=f"{'after' if after else 'before'}-{k:02d}-{name}" + ("-unrecorded" if _unrecorded(STEPS, k, after) else ""),
    )
    for k, name in enumerate(STEPS)
    for after in (False, True)
]
assert any(_unrecorded(STEPS, k, after) for k in range(len(STEPS)) for after in (False, True))


@pytest.mark.parametrize(("crash_at", "after"), CASES)
def test_a_crash_at_any_step_of_annotate_is_resumed_without_orphans(crash_at, after):
    clean = make_world()
    dataset(clean).annotate(KEY, **OPTIONS)
    expected = sorted(tuple(t.sample_ids) for t in clean[1].get_run("quickstart", KEY).tasks.values())

    world = make_world()
    _store, registry, backend = world
    crashed = Steps(crash_at=crash_at, after=after)
    with pytest.raises(Crash):
        dataset(world, crashed).annotate(KEY, **OPTIONS)
    assert crashed.crashed

    # a new process: resume what was recorded, or start again when nothing was
    if not registry.has_run("quickstart", KEY):
        dataset(world).annotate(KEY, **OPTIONS)
    elif registry.get_run("quickstart", KEY).status.value == "requested":
        dataset(world).annotate(KEY, resume=True, **OPTIONS)
    run = registry.get_run("quickstart", KEY)
    assert run.status.value == "uploaded" and not run.started_tasks
    assert sorted(tuple(t.sample_ids) for t in run.tasks.values()) == expected
    assert sorted(run.plan_of_task.values()) == [0, 1, 2]

    # the server holds exactly the run's tasks, all filled, in the project the run made
    server = backend.server
    assert set(server.tasks) == set(run.tasks), "a task the run does not know of"
    assert all(t["filled"] for t in server.tasks.values())
    assert list(server.projects) == run.created_projects == list(run.project_ids), "a project the run will not delete"

    dataset(world).load_annotation_results(KEY).cleanup()
    assert server.tasks == {} and server.projects == {}


def _interrupted_upload():
    """A run whose first task is started on the server and not recorded as filled."""
    world = make_world()
    with pytest.raises(Crash):
        dataset(world, Steps(crash_at=STEPS.index("session.fill_task"), after=True)).annotate(KEY, **OPTIONS)
    return world


def _cleanup_steps() -> list[str]:
    steps = Steps()
    dataset(_interrupted_upload(), steps).load_annotation_results(KEY).cleanup()
    return steps.names


@pytest.mark.parametrize(
    ("crash_at", "after"),
    [
        pytest.param(k, after, id=f"{'after' if after else 'before'}-{k:02d}-{name}")
        for k, name in enumerate(_cleanup_steps())
        for after in (False, True)
    ],
)
def test_an_interrupted_cleanup_of_an_interrupted_upload_is_not_resumed(crash_at, after):
    """Resuming a run whose cleanup began would make tasks and a project nobody deletes."""
    world = _interrupted_upload()
    registry, server = world[1], world[2].server
    with pytest.raises(Crash):
        dataset(world, Steps(crash_at=crash_at, after=after)).load_annotation_results(KEY).cleanup()
    run = registry.get_run("quickstart", KEY)
    if run.cleanup_pending:
        with pytest.raises(RunError, match="is being cleaned up"):
            dataset(world).annotate(KEY, resume=True, **OPTIONS)
    elif run.status.value == "requested":
        dataset(world).annotate(KEY, resume=True, **OPTIONS)
    dataset(world).load_annotation_results(KEY).cleanup()
    assert server.tasks == {} and server.projects == {}


# --- into an existing project -------------------------------------------------------------

PROJECT, OTHER_TASK = 900, 901  # ids the fake server does not hand out in these tests
INTO_EXISTING: dict[str, dict[str, Any]] = {
    "by-id": dict(label_field="ground_truth", task_size=2, project_id=PROJECT),
    "by-name": dict(label_field="ground_truth", task_size=2, project_name="shared"),
}


def make_world_with_project() -> tuple[InMemoryLabelStore, RunRegistry, FakeBackend]:
    """The world of `make_world`, whose server has the project "shared" (made in CVAT) with another run's task."""
    store, registry, backend = make_world()
    backend.server.projects[PROJECT] = "shared"
    backend.server.project_labels[PROJECT] = [ProjectLabel("cat"), ProjectLabel("dog")]
    backend.server.tasks[OTHER_TASK] = {"name": "another run's task", "project": PROJECT, "filled": True}
    return store, registry, backend


def _steps_into_existing(options: dict[str, Any]) -> list[str]:
    steps = Steps()
    dataset(make_world_with_project(), steps).annotate(KEY, **options)
    return steps.names


EXISTING_CASES = [
    pytest.param(
        how,
        k,
        after,
        id=f"{how}-{'after' if after else 'before'}-{k:02d}-{name}"
        + ("-unrecorded" if _unrecorded(names, k, after, ("session.create_task",)) else ""),
    )
    for how, names in ((how, _steps_into_existing(options)) for how, options in INTO_EXISTING.items())
    for k, name in enumerate(names)
    for after in (False, True)
]


def _check_into_existing(world, expected: list[tuple[str, ...]]) -> None:
    """The run is uploaded into the existing project with the project's labels; the project and
    the other task stay on the server, through cleanup() too."""
    _store, registry, backend = world
    run = registry.get_run("quickstart", KEY)
    assert run.status.value == "uploaded" and not run.started_tasks
    assert sorted(tuple(t.sample_ids) for t in run.tasks.values()) == expected
    assert sorted(run.plan_of_task.values()) == [0, 1, 2]
    assert run.label_schema["ground_truth"].classes == ("cat", "dog")  # the project's, adopted once
    assert [type(e).__name__ for e in registry.history(run.id)].count("ProjectSchemaAdopted") == 1
    server = backend.server
    assert set(server.tasks) == set(run.tasks) | {OTHER_TASK}, "a task the run does not know of"
    assert all(t["filled"] and t["project"] == PROJECT for t in server.tasks.values())
    assert server.projects == {PROJECT: "shared"} and run.created_projects == [], "the run took the project for its own"

    dataset(world).load_annotation_results(KEY).cleanup()
    assert set(server.tasks) == {OTHER_TASK} and server.projects == {PROJECT: "shared"}


@pytest.mark.parametrize(("how", "crash_at", "after"), EXISTING_CASES)
def test_a_crash_at_any_step_of_annotate_into_an_existing_project_is_resumed_and_leaves_the_project(
    how, crash_at, after
):
    options = INTO_EXISTING[how]
    clean = make_world_with_project()
    dataset(clean).annotate(KEY, **options)
    expected = sorted(tuple(t.sample_ids) for t in clean[1].get_run("quickstart", KEY).tasks.values())

    world = make_world_with_project()
    registry = world[1]
    crashed = Steps(crash_at=crash_at, after=after)
    with pytest.raises(Crash):
        dataset(world, crashed).annotate(KEY, **options)
    assert crashed.crashed

    if not registry.has_run("quickstart", KEY):  # a new process: start again when nothing was recorded
        dataset(world).annotate(KEY, **options)
    elif registry.get_run("quickstart", KEY).status.value == "requested":
        dataset(world).annotate(KEY, resume=True, **options)
    _check_into_existing(world, expected)


def _cleanup_steps_into_existing() -> list[str]:
    world = make_world_with_project()
    dataset(world).annotate(KEY, **INTO_EXISTING["by-id"])
    steps = Steps()
    dataset(world, steps).load_annotation_results(KEY).cleanup()
    return steps.names


@pytest.mark.parametrize(
    ("crash_at", "after"),
    [
        pytest.param(k, after, id=f"{'after' if after else 'before'}-{k:02d}-{name}")
        for k, name in enumerate(_cleanup_steps_into_existing())
        for after in (False, True)
    ],
)
def test_an_interrupted_cleanup_of_a_run_in_an_existing_project_never_deletes_the_project(crash_at, after):
    world = make_world_with_project()
    dataset(world).annotate(KEY, **INTO_EXISTING["by-id"])
    server = world[2].server
    with pytest.raises(Crash):
        dataset(world, Steps(crash_at=crash_at, after=after)).load_annotation_results(KEY).cleanup()
    assert server.projects == {PROJECT: "shared"} and OTHER_TASK in server.tasks
    dataset(world).load_annotation_results(KEY).cleanup()
    assert set(server.tasks) == {OTHER_TASK} and server.projects == {PROJECT: "shared"}

"""A load that crashes is finished by a restarted process: CVAT simulator, SQLite label store, SQLite registry.

Two worlds, each its own SQLite files and the same quickstart samples (same seed, same ids), are
annotated into the simulator and edited alike by the scripted annotator (by ``label_id``: a box
moved, one deleted, one added, a polyline outside the schema). The reference world loads once,
through `tests.crashes` taps, which lists the load's steps. The other crashes at a chosen step
(found by name in that list), then a new process (new store, registry and backend objects on the
same files) loads again. Its labels must be the reference's, bit-exact (new labels' ids compared by
position), its LabelMerged events the reference's, and a third load changes nothing.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from annoflow.adapters.cvat import RetryPolicy
from annoflow.adapters.cvat_backend import CVATBackend
from annoflow.adapters.cvat_sim.annotator import ScriptedAnnotator
from annoflow.adapters.label_stores.sqlite import SqliteLabelStore
from annoflow.adapters.quickstart import load_quickstart
from annoflow.application.audit import run_history
from annoflow.application.dataset import Dataset
from annoflow.application.runs.registry import RunRegistry
from annoflow.domain.annotation_run import RunError
from annoflow.domain.labels import Label, LabelList, labels_in
from annoflow.domain.task_ledger import merged_in
from tests.crashes import Crash, Steps, tapped
from tests.cvat_backend.conftest import PASSWORD, USER

KEY = "restart"
NEW = "0" * 24


class World:
    """One machine's files; each `process()` opens new objects on them, as a restarted process does."""

    def __init__(self, directory: Path, login: dict[str, Any]) -> None:
        self.directory = directory
        self.login = login

    def process(self, steps: Steps | None = None) -> Dataset:
        store = SqliteLabelStore(self.directory / "datasets.sqlite", name="quickstart")
        registry = RunRegistry(
            env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(self.directory / "runs.sqlite")}
        )
        backends = {
            "cvat": CVATBackend(
                interactive=False, client_options={"poll_interval": 0.01, "retry": RetryPolicy(backoff=0.001)}
            )
        }
        if steps is not None:
            store, registry, backends = tapped(store, registry, backends, steps)
        return Dataset(store, registry, backends)

    def load(self, steps: Steps | None = None, *, cleanup: bool) -> Dataset:
        dataset = self.process(steps)
        dataset.load_annotations(KEY, unexpected="keep", cleanup=cleanup, **self.login)
        return dataset


def _shapes_by_label_id(annotator: ScriptedAnnotator, task_id: int) -> dict[str, dict[str, Any]]:
    labels = annotator.labels(task_id)
    spec = {a["id"] for label in labels.values() for a in label["attributes"] if a["name"] == "label_id"}
    return {
        next(a["value"] for a in s["attributes"] if a["spec_id"] in spec): s
        for s in annotator.annotations(task_id)["shapes"]
    }


def make_world(root: Path, login: dict[str, Any], cvat_sim, name: str) -> tuple[World, frozenset[str]]:
    world = World(root / name, login)
    dataset = world.process()
    load_quickstart(dataset.store, root / "media", num_samples=4, image_size=(96, 64))
    originals = frozenset(label.id for s in dataset.iter_samples() for v in s.fields.values() for label in labels_in(v))
    results = dataset.annotate(KEY, label_field="ground_truth", task_size=2, project_name=f"crash-{name}", **login)
    with ScriptedAnnotator(cvat_sim.url, USER, PASSWORD) as annotator:
        for task_id in results.task_ids:
            shapes = _shapes_by_label_id(annotator, task_id)
            moved, deleted, *_ = sorted(shapes)
            annotator.move_shape(task_id, shapes[moved]["id"], [1.0, 2.0, 30.0, 40.0])
            annotator.delete(task_id, shapes[deleted]["id"])
            some_class = sorted(annotator.labels(task_id))[0]
            annotator.add_shape(task_id, some_class, 0, "rectangle", [5.0, 5.0, 20.0, 20.0])
            annotator.add_shape(task_id, some_class, 1, "polyline", [1.0, 1.0, 9.0, 9.0])  # outside the schema
    return world, originals


def snapshot(dataset: Dataset, originals: frozenset[str]) -> list[tuple[str, dict[str, Any]]]:
    def canon(label: Label) -> Label:
        return label if label.id in originals else label.replace(id=NEW)

    def value(v: Any) -> Any:
        if isinstance(v, LabelList):
            return v.with_items(canon(label) for label in v.items)
        return canon(v) if isinstance(v, Label) else v

    return [(s.id, {k: value(v) for k, v in sorted(s.fields.items())}) for s in dataset.iter_samples()]


def merged(dataset: Dataset) -> Counter:
    run = dataset.registry.get_run("quickstart", KEY)
    out: Counter = Counter()
    task_id = None
    for e in dataset.registry.history(run.id):  # a load's LabelMerged events follow its task's ShapesImported
        if type(e).__name__ == "ShapesImported":
            task_id = e.task_id
        if type(e).__name__ == "LabelMerged":
            for c in merged_in(e):
                out[
                    (
                        run.plan_of_task[task_id],
                        c.action.value,
                        c.sample_id,
                        c.field,
                        NEW if c.action.value == "added" else c.label_id,
                    )
                ] += 1
    return out


@pytest.mark.parametrize(
    ("step", "nth", "after", "cleanup"),
    [
        pytest.param("registry.save_run", 0, True, False, id="after-ShapesImported-of-the-first-task"),
        pytest.param("store.apply", 0, True, False, id="after-the-first-store-write"),
        pytest.param("session.delete_tasks", 0, True, True, id="after-deleting-the-tasks"),
    ],
)
def test_a_restarted_process_finishes_a_crashed_load(tmp_path, login, cvat_sim, step, nth, after, cleanup):
    reference, originals = make_world(tmp_path, login, cvat_sim, "reference")
    clean = Steps()
    done = reference.load(clean, cleanup=cleanup)
    expected, expected_merged = snapshot(done, originals), merged(done)
    assert expected_merged and any(k[1] == "added" and k[3] == "polylines" for k in expected_merged)
    crash_at = [k for k, name in enumerate(clean.names) if name == step][nth]

    world, _ = make_world(tmp_path, login, cvat_sim, "crashed")
    crashed = Steps(crash_at=crash_at, after=after)
    with pytest.raises(Crash):
        world.load(crashed, cleanup=cleanup)
    assert crashed.names == clean.names[: crash_at + 1]  # the same path as the reference, up to the crash

    restarted = world.load(cleanup=cleanup)  # new objects on the same files
    assert snapshot(restarted, originals) == expected
    assert merged(restarted) == expected_merged
    entries = [str(e) for e in run_history(restarted.registry, restarted.registry.get_run("quickstart", KEY).id)]
    assert any("not completed" in e for e in entries) == (not cleanup)  # the crashed load, when it had not completed
    again = world.process()
    if cleanup:
        run = again.registry.get_run("quickstart", KEY)
        assert run.status.value == "cleaned_up" and run.created_projects and run.tasks
        assert not set(run.tasks) & set(cvat_sim.state.tasks)
        assert not set(run.created_projects) & set(cvat_sim.state.projects)
        with pytest.raises(RunError, match="cleaned up"):
            again.load_annotations(KEY, unexpected="keep", **world.login)
    else:
        before = len(again.registry.history(again.registry.get_run("quickstart", KEY).id))
        again.load_annotations(KEY, unexpected="keep", **world.login)
        assert again.last_load.summary.unchanged_tasks == 2
        events = again.registry.history(again.registry.get_run("quickstart", KEY).id)[before:]
        assert [type(e).__name__ for e in events] == ["LoadCompleted"]
        assert snapshot(world.process(), originals) == expected

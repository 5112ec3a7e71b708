"""A crash at every step of load_annotations() is completed by the next load, exactly once.

The steps are those of a clean load, enumerated through `tests.crashes` (every call to the label
store, the run registry, the backend and its session); each is crashed before it is made and
after it returned. Then the load runs again without the crash, as a restarted process would: the
crashed process's objects are dropped, the store and the registry keep what they had committed.
The outcome must be that of a load that never crashed: the same labels (bit-exact; new labels
get fresh ids, so those are compared by position), every change recorded and applied once, an
audit trail that adds up, and a further load that changes nothing.

The scenario has three tasks in a project the run made: edits, an addition, a deletion, an edit
refused by a read-only attribute, an untouched task, and labels outside the schema kept in a
field of their own (``unexpected="keep"``); with and without ``cleanup=True``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np
import pytest

from annoflow.adapters.label_stores import InMemoryLabelStore
from annoflow.application.audit import run_history
from annoflow.application.dataset import Dataset
from annoflow.application.ports.annotation_backend import DownloadedTask, UnexpectedLabel, UploadRequest
from annoflow.application.runs.registry import RunRegistry
from annoflow.domain.annotation_run import RunError
from annoflow.domain.changes import PutLabel
from annoflow.domain.labels import Detection, Detections, Label, LabelList, Polyline, labels_in
from annoflow.domain.merge import ImportedLabel
from annoflow.domain.samples import Sample
from annoflow.domain.task_ledger import merged_in
from tests.crashes import Crash, Steps, tapped
from tests.fakes import FakeBackend, FakeServer, FakeSession

KEY = "crash"
NEW = "0" * 24  # stands for the fresh id of a label made by the load


class FaithfulSession(FakeSession):
    """The fake session, plus what CVAT does that the crash tests rely on: labels outside the
    schema, and a task that is gone (deleted) cannot be downloaded."""

    def __init__(self, server: FakeServer, config: Any, strays: Mapping[int, Sequence[UnexpectedLabel]]) -> None:
        super().__init__(server, config)
        self.strays = strays

    def download_task(
        self, request: UploadRequest, task_id: int, provenance, read_originals, applied_digest=None, **limits
    ) -> DownloadedTask:
        if task_id not in self.server.tasks:
            raise LookupError(f"task {task_id} not found")
        downloaded = super().download_task(request, task_id, provenance, read_originals, applied_digest, **limits)
        strays = tuple(self.strays.get(task_id, ()))
        digest = f"{downloaded.digest}-{hash(repr(strays))}"
        if digest == applied_digest:
            return DownloadedTask(digest, unchanged=True)
        return DownloadedTask(digest, downloaded.imported, strays)


class FaithfulBackend(FakeBackend):
    def __init__(self) -> None:
        super().__init__()
        self.strays: dict[int, list[UnexpectedLabel]] = {}

    def connect(self, config: Any) -> FaithfulSession:
        self.server.connections += 1
        return FaithfulSession(self.server, config, self.strays)


def _det(label: str, x: float = 0.1, **kw: Any) -> Detection:
    return Detection(label=label, bounding_box=(x, 0.1, 0.2, 0.2), **kw)


@attrs.define
class World:
    """What outlives a crash: the label store, the run registry, the CVAT server."""

    store: InMemoryLabelStore
    registry: RunRegistry
    backend: FaithfulBackend
    originals: frozenset[str]  # ids of the labels the dataset held before the load

    def dataset(self, steps: Steps | None = None) -> Dataset:
        """A fresh process's dataset; through taps when steps are given."""
        store, registry, backends = self.store, self.registry, {"fake": self.backend}
        if steps is not None:
            store, registry, backends = tapped(store, registry, backends, steps)
        return Dataset(store, registry, backends, default_backend="fake")

    def load(self, steps: Steps | None = None, *, cleanup: bool) -> Any:
        dataset = self.dataset(steps)
        dataset.load_annotations(KEY, unexpected="keep", cleanup=cleanup)
        return dataset.last_load

    @property
    def run(self):
        return self.registry.get_run("quickstart", KEY)

    def events(self) -> list[Any]:
        return list(self.registry.history(self.run.id))

    def snapshot(self) -> list[tuple[str, dict[str, Any]]]:
        """Every sample's fields, new labels' ids replaced by NEW: the rest compares bit-exact."""

        def canon(label: Label) -> Label:
            return label if label.id in self.originals else label.replace(id=NEW)

        def value(v: Any) -> Any:
            if isinstance(v, LabelList):
                return v.with_items(canon(label) for label in v.items)
            return canon(v) if isinstance(v, Label) else v

        return [(s.id, {k: value(v) for k, v in sorted(s.fields.items())}) for s in self.store.get_samples()]


def make_world() -> World:
    store = InMemoryLabelStore("quickstart")
    store.add_samples(
        [
            Sample(
                filepath=f"/img/{i}.jpg",
                media_type="image",
                id=f"{0xA000 + i:024x}",
                fields={
                    "ground_truth": Detections(
                        [
                            _det("cat", id=f"{0xC000 + i:024x}", attributes={"iscrowd": "0", "extra": "kept"}),
                            _det("dog", 0.5, id=f"{0xD000 + i:024x}", attributes={"iscrowd": "1"}),
                        ]
                    )
                },
            )
            for i in range(5)  # fixed ids: two worlds built alike hold the same samples and labels
        ]
    )
    backend = FaithfulBackend()
    registry = RunRegistry(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    dataset = Dataset(store, registry, {"fake": backend}, default_backend="fake")
    dataset.annotate(
        KEY,
        label_field="ground_truth",
        attributes={"iscrowd": {"type": "text", "read_only": True}},
        task_size=2,
        project_name="crash-project",
    )
    originals = frozenset(label.id for s in store.get_samples() for label in labels_in(s.fields["ground_truth"]))
    run = registry.get_run("quickstart", KEY)
    first, _untouched, last = sorted(run.tasks)
    mask = np.zeros((4, 6), dtype=bool)
    mask[1:3, 2:5] = True

    def imported(task_id: int, edit) -> list[ImportedLabel]:
        out = []
        for sample in store.get_samples(run.tasks[task_id].sample_ids):
            cat, dog = labels_in(sample.fields["ground_truth"])
            out += [ImportedLabel("ground_truth", sample.id, label, label.id) for label in edit(cat, dog)]
        return out

    # the first task: a relabelled cat with a new mask, a bird added, the dog deleted; on both samples
    backend.server.edits[first] = imported(
        first, lambda cat, dog: [cat.replace(label="lion", mask=mask), _det("bird", 0.7)]
    )
    # the last task: the dog moved, a read-only attribute changed (refused, the move applies)
    backend.server.edits[last] = imported(
        last,
        lambda cat, dog: [
            cat.replace(attributes={**cat.attributes, "iscrowd": "9"}),
            dog.replace(bounding_box=(0.4, 0.4, 0.3, 0.3)),
        ],
    )
    for task_id in (first, last):
        sample_id = run.tasks[task_id].sample_ids[0]
        backend.strays[task_id] = [
            UnexpectedLabel(
                sample_id,
                "polylines",
                Polyline(id=f"{0xE000 + task_id:024x}", label="cat", points=[[(0.1, 0.1), (0.2 + task_id / 100, 0.3)]]),
                "a polyline of 'cat' on frame 0",
            )
        ]
    return World(store, registry, backend, originals)


def _clean_steps(cleanup: bool) -> list[str]:
    steps = Steps()
    make_world().load(steps, cleanup=cleanup)
    return steps.names


CASES = [
    pytest.param(
        cleanup, k, after, id=f"{'cleanup-' if cleanup else ''}{'after' if after else 'before'}-{k:02d}-{name}"
    )
    for cleanup in (False, True)
    for k, name in enumerate(_clean_steps(cleanup))
    for after in (False, True)
]


def _merged(events: Sequence[Any]) -> Counter:
    """LabelMerged events by task, action, sample, field and label (NEW for a new label's id)."""
    out: Counter = Counter()
    task_id = None
    for e in events:  # a load's LabelMerged events follow its task's ShapesImported
        if type(e).__name__ == "ShapesImported":
            task_id = e.task_id
        if type(e).__name__ == "LabelMerged":
            for c in merged_in(e):
                label_id = c.label_id if c.action.value != "added" else NEW
                out[(task_id, c.action.value, c.sample_id, c.field, label_id)] += 1
    return out


def _change_key(change: Any) -> tuple:
    """What a store change does, whatever its kind: put or delete a label by id, or set a value."""
    what = change.label.id if isinstance(change, PutLabel) else getattr(change, "label_id", None)
    return (
        type(change).__name__,
        change.sample_id,
        change.field,
        change.frame,
        what if what is not None else repr(getattr(change, "value", None)),
    )


def _named(events: Sequence[Any], name: str) -> Counter:
    return Counter(getattr(e, "task_id", None) for e in events if type(e).__name__ == name)


def _load_totals(entries) -> Counter:
    totals: Counter = Counter()
    for entry in entries:
        if entry.event == "load":
            totals.update(dict(entry.counts))
    return totals


@pytest.mark.parametrize(("cleanup", "crash_at", "after"), CASES)
def test_a_crash_at_any_step_of_a_load_is_completed_by_the_next_load(cleanup, crash_at, after):
    clean = make_world()
    clean.load(cleanup=cleanup)
    expected = clean.snapshot()
    clean_events = clean.events()

    world = make_world()
    crashed = Steps(crash_at=crash_at, after=after)
    with pytest.raises(Crash):
        world.load(crashed, cleanup=cleanup)
    assert crashed.crashed
    recovery = Steps()
    if world.run.status.value == "cleaned_up":  # the crash came after the last step: nothing is left to do
        with pytest.raises(RunError, match="cleaned up"):
            world.load(recovery, cleanup=cleanup)
    else:
        world.load(recovery, cleanup=cleanup)  # a new process: nothing of the crashed one survives but what it saved

    # the labels are those of a load that never crashed, bit-exact
    assert world.snapshot() == expected
    ids = [label.id for s in world.store.get_samples() for v in s.fields.values() for label in labels_in(v)]
    assert len(ids) == len(set(ids)), "a label was copied"

    # every change recorded once: the same LabelMerged, Rejected, ShapesImported and ChangesApplied as a clean load
    events = world.events()
    assert _merged(events) == _merged(clean_events)
    for name in ("Rejected", "ShapesImported", "ChangesApplied"):
        assert _named(events, name) == _named(clean_events, name), name

    # no change applied twice, but for the one batch in flight at the crash, re-applied as recorded
    applied: Counter = Counter()
    batches = [c.args[0] for c in crashed.calls + recovery.calls if c.name == "store.apply"]
    for batch in batches:
        applied.update(_change_key(ch) for ch in batch)
    twice = {change for change, n in applied.items() if n > 1}
    assert max(applied.values(), default=0) <= 2
    assert not twice or any(
        twice <= {_change_key(ch) for ch in batch}
        for batch in (c.args[0] for c in crashed.calls if c.name == "store.apply")
    )
    new_put = {
        ch.label.id
        for batch in batches
        for ch in batch
        if isinstance(ch, PutLabel) and ch.label.id not in world.originals
    }
    assert len(new_put) == sum(n for key, n in _merged(clean_events).items() if key[1] == "added")

    # the audit trail adds up to the clean load's figures; only a load that crashed says it did not complete
    entries = run_history(world.registry, world.run.id)
    text = [str(e) for e in entries]
    assert _load_totals(entries) == _load_totals(run_history(clean.registry, clean.run.id))
    loads = [e for e in entries if e.event == "load"]
    unfinished = [e for e in loads if "not completed" in e.text]
    assert loads and loads[-1] not in unfinished and len(unfinished) <= 1, text

    # a further load is a no-op (or refused, once the run is cleaned up)
    before = len(events)
    if cleanup:
        assert world.run.status.value == "cleaned_up"
        assert world.backend.server.tasks == {} and world.backend.server.projects == {}
        with pytest.raises(RunError, match="cleaned up"):
            world.load(cleanup=cleanup)
    else:
        summary = world.load(cleanup=cleanup).summary
        assert summary.unchanged_tasks == 3 and (summary.added, summary.edited, summary.deleted) == (0, 0, 0)
        assert world.snapshot() == expected
    assert not [e for e in world.events()[before:] if type(e).__name__ in ("LabelMerged", "ShapesImported")]


def test_the_scenario_exercises_what_a_load_does():
    """The crash cases are only as good as the clean load they crash: it must touch every kind of step."""
    world = make_world()
    steps = Steps()
    world.load(steps, cleanup=True)
    names = set(steps.names)
    assert {
        "registry.get_run",
        "registry.save_run",
        "store.apply",
        "store.declare_field",
        "session.download_task",
        "session.delete_tasks",
        "session.delete_projects",
    } <= names
    merged = _merged(world.events())
    actions = Counter(key[1] for key in merged.elements())
    assert actions["added"] >= 2 and actions["edited"] >= 2 and actions["deleted"] >= 2
    assert _named(world.events(), "Rejected") and len(_named(world.events(), "ShapesImported")) == 3
    kept = [label for s in world.store.get_samples() for label in labels_in(s.fields.get("polylines"))]
    assert len(kept) == 2


def _clean_cleanup_steps() -> list[str]:
    steps = Steps()
    make_world().dataset(steps).load_annotation_results(KEY).cleanup()
    return steps.names


@pytest.mark.parametrize(
    ("crash_at", "after"),
    [
        pytest.param(k, after, id=f"{'after' if after else 'before'}-{k:02d}-{name}")
        for k, name in enumerate(_clean_cleanup_steps())
        for after in (False, True)
    ],
)
def test_a_load_after_an_interrupted_cleanup_finishes_it(crash_at, after):
    """results.cleanup() crashed: the next load must not download tasks that may be gone."""
    world = make_world()
    crashed = Steps(crash_at=crash_at, after=after)
    with pytest.raises(Crash):
        world.dataset(crashed).load_annotation_results(KEY).cleanup()
    before = len(world.events())
    pending = world.run.cleanup_pending
    if world.run.status.value == "cleaned_up":
        with pytest.raises(RunError, match="cleaned up"):
            world.load(cleanup=False)
    else:
        world.load(cleanup=False)
    added = [type(e).__name__ for e in world.events()[before:]]
    if pending:  # deletions may have begun: the load finishes them and downloads nothing
        assert added == ["CleanedUp"]
        assert world.backend.server.tasks == {} and world.backend.server.projects == {}
    else:
        assert world.run.status.value in ("loaded", "cleaned_up")
    world.dataset().load_annotation_results(KEY).cleanup()  # cleaning up again is always possible
    assert world.run.status.value == "cleaned_up"
    assert world.backend.server.tasks == {} and world.backend.server.projects == {}

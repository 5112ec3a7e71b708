"""The TaskLedger aggregate: one task's provenance and the changes each load made through it.

A run keeps what it is (request, schema, task summaries, loads); each of its tasks keeps its
own ledger, read one task at a time: the frame map, every uploaded label's remote object, the
labels loads added since (so an annotator's box is never inserted twice, and later edits and
deletions of it reach the dataset), and the LabelMerged and Rejected events of each load.
A ledger is saved in the same transaction as the run event that refers to it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from eventsourcing.domain import Aggregate, event

from annoflow.domain.errors import AnnoflowError
from annoflow.domain.labels import Classification, Classifications
from annoflow.domain.run_records import (
    MergeAction,
    MergedChange,
    MergedChanges,
    Rejection,
    RemoteObjectKind,
    TaskRecord,
    UploadedObjects,
)

_LEDGER_NAMESPACE = uuid.UUID("0b6f6c1e-8a53-4c4e-9d7a-3f1f4d2a7c10")

# (field, label id) -> (sample id, object type, remote id, frame); None: the label is gone
_Row = tuple[str, str, int, int | None]


class LedgerError(AnnoflowError, ValueError):
    """A command that the task ledger's state does not allow."""


class TaskLedger(Aggregate):
    """Provenance of one task of a run, kept current by the loads that merge it."""

    @staticmethod
    def create_id(run_id: uuid.UUID, task_id: int) -> uuid.UUID:
        return uuid.uuid5(_LEDGER_NAMESPACE, f"{run_id}/task/{task_id}")

    @classmethod
    def open(cls, run_id: uuid.UUID, record: TaskRecord, earlier: Iterable[MergedChange] = ()) -> TaskLedger:
        """A new task's ledger; ``earlier`` are changes a run recorded before ledgers existed."""
        return cls(run_id=run_id, task_id=record.task_id, record=record, earlier=tuple(earlier))

    @event("Opened")
    def __init__(
        self, run_id: uuid.UUID, task_id: int, record: TaskRecord, earlier: tuple[MergedChange, ...] = ()
    ) -> None:
        self.run_id = run_id
        self.task_id = task_id
        self._record = record
        self._since: dict[tuple[str, str], _Row | None] = {}
        self.last_load_id: str | None = None
        self.last_changes: list[MergedChange] = []
        for change in earlier:
            self._track(change)

    # --- loads ---------------------------------------------------------------

    def record_import(self, load_id: str, changes: Iterable[MergedChange], rejections: Iterable[Rejection]) -> None:
        """One load's changes of this task and the edits it refused, recorded before they are applied."""
        if load_id == self.last_load_id:
            raise LedgerError(f"load {load_id} already recorded task {self.task_id}")
        self._imported(load_id=load_id)
        batch = MergedChanges(changes)
        if batch.items:
            self._label_merged(load_id=load_id, changes=batch)
        for rejection in rejections:
            self._rejected(load_id=load_id, rejection=rejection)

    @event("Imported")
    def _imported(self, load_id: str) -> None:
        self.last_load_id = load_id
        self.last_changes = []

    @event("LabelMerged")
    def _label_merged(
        self, load_id: str, change: MergedChange | None = None, changes: MergedChanges | None = None
    ) -> None:
        # a load's changes of the task in one event; ledgers written before batches hold one change each
        for item in _merged(change, changes):
            self.last_changes.append(item)
            self._track(item)

    @event("Rejected")
    def _rejected(self, load_id: str, rejection: Rejection) -> None:
        pass  # the event itself is the record

    def changes_of(self, load_id: str) -> list[MergedChange]:
        """The changes a load recorded for this task (what a crashed load left to apply)."""
        if load_id != self.last_load_id:
            raise LedgerError(f"task {self.task_id} holds the changes of load {self.last_load_id}, not {load_id}")
        return list(self.last_changes)

    # --- provenance ----------------------------------------------------------

    def _track(self, change: MergedChange) -> None:
        if change.is_scalar or change.label_id is None:
            return
        key = (change.source_field or change.field, change.label_id)
        if change.action is MergeAction.DELETED:
            self._since[key] = None
            return
        if change.remote_id is None:
            return  # a label of no remote object (an unexpected label kept by type) has no provenance
        kind = (
            RemoteObjectKind.TRACK
            if change.tracked
            else RemoteObjectKind.TAG
            if isinstance(change.label, (Classification, Classifications))
            else RemoteObjectKind.SHAPE
        )
        self._since[key] = (change.sample_id, kind.value, change.remote_id, change.frame)

    def record(self) -> TaskRecord:
        """The task's record with the provenance as it stands now: uploads, plus labels loads added,
        less labels loads deleted, with the remote ids last seen."""
        if not self._since:
            return self._record
        up = self._record.uploaded
        rows = [
            (f, label_id, sample_id, kind, remote_id, frame)
            for f, label_id, sample_id, kind, remote_id, frame in zip(
                up.fields, up.label_ids, up.sample_ids, up.remote_kinds, up.remote_ids, up.frames, strict=True
            )
            if (f, label_id) not in self._since
        ]
        rows += [(f, label_id, *row) for (f, label_id), row in self._since.items() if row is not None]
        columns = UploadedObjects(*(zip(*rows, strict=True) if rows else ((),) * 6))
        return TaskRecord(
            self._record.task_id,
            self._record.project_id,
            self._record.job_ids,
            self._record.frames,
            columns,
            self._record.labels,
            self._record.attributes,
        )


def merged_in(event: object) -> tuple[MergedChange, ...]:
    """The changes a LabelMerged event carries: a batch, or one change in ledgers and runs recorded
    before batches."""
    return _merged(getattr(event, "change", None), getattr(event, "changes", None))


def _merged(change: MergedChange | None, changes: MergedChanges | None) -> tuple[MergedChange, ...]:
    return ((change,) if change is not None else ()) + (changes.items if changes is not None else ())

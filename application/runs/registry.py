"""The run registry: an eventsourcing Application that stores annotation runs.

Persistence is chosen by environment, never by import: eventsourcing's own
variables (``PERSISTENCE_MODULE`` = ``eventsourcing.popo`` in memory,
``eventsourcing.sqlite`` with ``SQLITE_DBNAME``, ``eventsourcing.postgres``
with ``POSTGRES_DBNAME``, ``POSTGRES_HOST``, ...). The adapters' wiring fills
in the embedded default (a SQLite file in the user's data dir).

A SQLite file another writer holds for longer than ``SQLITE_LOCK_TIMEOUT``
seconds is a `RunRegistryLockedError` naming the file: the transaction was
rolled back, so nothing was saved and nothing is lost.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import random
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol, cast

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import CanMutateAggregate, DomainEventProtocol
from eventsourcing.persistence import IntegrityError, JSONTranscoder, OperationalError

from annoflow.application.runs.transcodings import register_value_objects
from annoflow.domain import labels, run_records
from annoflow.domain.annotation_run import AnnotationRun, RunCatalog, RunError
from annoflow.domain.task_ledger import TaskLedger

logger = logging.getLogger(__name__)


def _attrs_classes(*modules: Any) -> list[type]:
    import attrs

    found: dict[str, type] = {}
    for module in modules:
        for value in vars(module).values():
            if isinstance(value, type) and attrs.has(value) and value.__module__ == module.__name__:
                found[value.__qualname__] = value
    return list(found.values())


def event_value_objects() -> list[type]:
    """Every attrs value object a run event may carry (labels, records, the schema)."""
    modules: list[Any] = [labels, run_records]
    try:  # the label schema lives in its own domain modules
        from annoflow.domain import label_schema

        modules.append(label_schema)
    except ImportError:
        pass
    return _attrs_classes(*modules)


_Event = CanMutateAggregate[uuid.UUID]  # an aggregate's pending event, as collect_events() gives them


class _LoadEvent(Protocol):
    """ShapesImported (a run's) and Imported (a task ledger's): the domain declares them with
    ``@event``, so no class of theirs is there for a type checker to read."""

    task_id: int
    load_id: str


class _TimedEvent(Protocol):
    timestamp: datetime.datetime  # every aggregate event's (eventsourcing's Aggregate.Event)


class RunConflictError(RunError):
    """Another process changed the same run or key at the same time; nothing was saved."""


class RunRegistryLockedError(RunConflictError):
    """Another writer held the registry's SQLite file for longer than the busy timeout; nothing was saved."""

    def __init__(self, path: str, waited: float) -> None:
        self.path = path
        self.waited = waited
        super().__init__(
            f"{path} is locked by another writer: waited the busy timeout of {waited:g} s and gave up. Nothing "
            "was saved and nothing is lost: call again once the other writer is done (a load finishes exactly "
            "once what an interrupted one recorded). ANNOFLOW_BUSY_TIMEOUT or busy_timeout= sets the wait."
        )


SQLITE_BUSY, SQLITE_LOCKED = 5, 6  # SQLite's result codes (no sqlite3 import in the application layer)
EVENTSOURCING_SQLITE_LOCK_TIMEOUT = 5  # eventsourcing's wait when SQLITE_LOCK_TIMEOUT is unset


def _sqlite_busy(error: OperationalError) -> bool:
    """Whether eventsourcing's error is SQLite giving up on a lock (its cause is sqlite3's error)."""
    code = getattr(error.__cause__, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (SQLITE_BUSY, SQLITE_LOCKED)


class RunRegistry(Application[uuid.UUID]):
    """Stores AnnotationRun aggregates, one catalog of keys per dataset."""

    name = "annoflow_runs"

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_value_objects(transcoder, event_value_objects())

    # --- commands -----------------------------------------------------------

    def add_run(self, run: AnnotationRun, *ledgers: TaskLedger) -> None:
        """Record a new run (with the ledgers of tasks it already records); its key must be free in its dataset.

        Another process adding or changing another key of the dataset at the same moment is no
        conflict: the catalog is read again and the key added to it. The same key added by another
        process first is refused (RunError), naming the key."""
        events = [*run.collect_events(), *(e for ledger in ledgers for e in ledger.collect_events())]
        self._with_catalog(run.dataset, lambda catalog: catalog.add(run.key, run.id), *events)
        logger.info("recorded run %r of dataset %r (id %s)", run.key, run.dataset, run.id)

    def save_run(self, run: AnnotationRun, *ledgers: TaskLedger) -> None:
        """Save a run with the task ledgers its new events refer to, in one transaction."""
        self._save(run, *ledgers, conflict=f"run {run.key!r} was changed by another process; reload it")

    def rename_run(self, dataset: str, key: str, new_key: str) -> None:
        def rename(catalog: RunCatalog) -> Sequence[_Event]:
            run = self.get_run_by_id(catalog.get(key))
            catalog.rename(key, new_key)
            run.rename(new_key)
            return run.collect_events()

        self._with_catalog(dataset, rename, new=False)
        logger.info("renamed run %r of dataset %r to %r", key, dataset, new_key)

    def delete_run(self, dataset: str, key: str) -> None:
        """Delete the record of a run: its key is freed; its events stay for the audit trail."""

        def delete(catalog: RunCatalog) -> Sequence[_Event]:
            run = self.get_run_by_id(catalog.get(key))
            catalog.remove(key)
            run.delete()
            return run.collect_events()

        self._with_catalog(dataset, delete, new=False)
        logger.info("deleted the record of run %r of dataset %r (its events stay)", key, dataset)

    # --- queries ------------------------------------------------------------

    def list_runs(self, dataset: str) -> list[str]:
        catalog = self._catalog(dataset)
        return list(catalog.runs) if catalog else []

    def has_run(self, dataset: str, key: str) -> bool:
        catalog = self._catalog(dataset)
        return bool(catalog and key in catalog.runs)

    def get_run(self, dataset: str, key: str) -> AnnotationRun:
        run_id = self._require_catalog(dataset).get(key)
        return self.get_run_by_id(run_id)

    def get_run_by_id(self, run_id: uuid.UUID) -> AnnotationRun:
        with self._unlocked():
            run: object = self.repository.get(run_id)
        if not isinstance(run, AnnotationRun):
            raise RunError(f"{run_id} is not an annotation run")
        return run

    def get_ledger(self, run: AnnotationRun, task_id: int) -> TaskLedger:
        """One task's provenance. A task recorded before ledgers existed gets its ledger now, from
        the run's own events, saved at once (another process doing the same wins harmlessly)."""
        if task_id not in run.tasks:
            raise RunError(f"task {task_id} is not part of run {run.key!r}")
        ledger_id = TaskLedger.create_id(run.id, task_id)
        ledger: object
        try:
            ledger = self.repository.get(ledger_id)
        except AggregateNotFoundError:
            legacy = ledger = run.open_legacy_ledger(task_id)
            try:
                self.save(legacy)
            except IntegrityError:
                ledger = self.repository.get(ledger_id)
        assert isinstance(ledger, TaskLedger)
        return ledger

    def ledger_history(self, run: AnnotationRun, task_id: int) -> Sequence[DomainEventProtocol[uuid.UUID]]:
        """Every event of one task's ledger, oldest first (a run recorded before ledgers has none)."""
        return list(self.repository.event_store.get(TaskLedger.create_id(run.id, task_id)))

    def run_ids(self, dataset: str, *, include_deleted: bool = False) -> list[uuid.UUID]:
        """The dataset's runs in creation order; deleted ones too for the audit trail."""
        catalog = self._catalog(dataset)
        if catalog is None:
            return []
        ids = list(catalog.ever) if include_deleted else list(catalog.runs.values())
        return ids

    def history(self, run_id: uuid.UUID) -> Sequence[DomainEventProtocol[uuid.UUID]]:
        """Every event of a run with its loads' details, oldest first, as `iter_history` gives them."""
        return list(self.iter_history(run_id, details=True))

    def iter_history(
        self, run_id: uuid.UUID, *, details: bool = False, page: int = 1000
    ) -> Iterator[DomainEventProtocol[uuid.UUID]]:
        """A run's events, oldest first: the raw material of its audit trail. With ``details``, each
        load's LabelMerged and Rejected events of a task (kept in the task's ledger) follow the run's
        ShapesImported for it. Read page by page, so memory does not grow with the run."""
        ledgers: dict[int, Iterator[DomainEventProtocol[uuid.UUID]]] = {}
        waiting: dict[int, DomainEventProtocol[uuid.UUID] | None] = {}
        for event in self._paged(run_id, page):
            yield event
            if not details or type(event).__name__ != "ShapesImported" or getattr(event, "added", None) is None:
                continue  # a run recorded before ledgers has its LabelMerged events in its own stream
            task_id = cast(_LoadEvent, event).task_id
            if task_id not in ledgers:
                ledgers[task_id] = self._paged(TaskLedger.create_id(run_id, task_id), page)
                waiting[task_id] = None
            stream = ledgers[task_id]
            head = waiting[task_id]
            while (
                head is None
                or type(head).__name__ != "Imported"
                or cast(_LoadEvent, head).load_id != cast(_LoadEvent, event).load_id
            ):
                head = next(stream, None)  # skip to this load's block (Opened, or blocks of loads never saved)
                if head is None:
                    break
            for item in stream:
                if type(item).__name__ == "Imported":
                    waiting[task_id] = item  # the next load's block starts here
                    break
                yield item
            else:
                waiting[task_id] = None

    def _paged(self, originator_id: uuid.UUID, page: int) -> Iterator[DomainEventProtocol[uuid.UUID]]:
        after = None
        while True:
            with self._unlocked():
                events = list(self.repository.event_store.get(originator_id, gt=after, limit=page))
            yield from events
            if len(events) < page:
                return
            after = events[-1].originator_version

    def last_event_time(self, run_id: uuid.UUID, event_name: str, *, batch: int = 100) -> datetime.datetime | None:
        """When the run's latest event of this kind was recorded, or None: read newest first, a
        batch at a time, so a long history is not replayed to find a recent event."""
        below: int | None = None
        while True:
            events = list(self.repository.event_store.get(run_id, lte=below, desc=True, limit=batch))
            for event in events:
                if type(event).__name__ == event_name:
                    return cast(_TimedEvent, event).timestamp
            if len(events) < batch:
                return None
            below = events[-1].originator_version - 1

    # --- helpers ------------------------------------------------------------

    def _catalog(self, dataset: str) -> RunCatalog | None:
        try:
            with self._unlocked():
                catalog: object = self.repository.get(RunCatalog.create_id(dataset))
        except AggregateNotFoundError:
            return None
        assert isinstance(catalog, RunCatalog)
        return catalog

    def _require_catalog(self, dataset: str) -> RunCatalog:
        catalog = self._catalog(dataset)
        if catalog is None:
            raise RunError(f"dataset {dataset!r} has no annotation runs")
        return catalog

    def _with_catalog(
        self,
        dataset: str,
        change: Callable[[RunCatalog], Sequence[_Event] | None],
        *events: _Event,
        new: bool = True,
        attempts: int = 20,
    ) -> None:
        """Apply ``change`` to the dataset's catalog as it is now and save it with ``events`` (and the
        events ``change`` returns) in one transaction; when another process changed the catalog
        meanwhile, read it again and retry: only a change to the same key is a conflict, and
        ``change`` refuses that itself with a RunError."""
        for attempt in range(attempts):
            catalog = self._catalog(dataset) if not new else (self._catalog(dataset) or RunCatalog(dataset=dataset))
            if catalog is None:
                raise RunError(f"dataset {dataset!r} has no annotation runs")
            more = change(catalog) or []
            try:
                with self._unlocked():
                    self.save(catalog, *events, *more)
                return
            except IntegrityError:
                time.sleep(min(0.005 * 2**attempt, 0.2) * random.random())  # others are writing: let them
        raise RunConflictError(
            f"the annotation runs of dataset {dataset!r} kept changing in other processes; nothing was saved: try again"
        )

    def _save(self, *aggregates: AnnotationRun | TaskLedger, conflict: str) -> None:
        try:
            with self._unlocked():
                self.save(*aggregates)
        except IntegrityError:
            logger.info("nothing saved: %s", conflict)
            raise RunConflictError(conflict) from None

    @contextlib.contextmanager
    def _unlocked(self) -> Iterator[None]:
        """SQLite giving up on a lock becomes a RunRegistryLockedError naming the file."""
        try:
            yield
        except OperationalError as error:
            if not _sqlite_busy(error):
                raise
            waited = float(self.env.get("SQLITE_LOCK_TIMEOUT") or EVENTSOURCING_SQLITE_LOCK_TIMEOUT)
            raise RunRegistryLockedError(
                self.env.get("SQLITE_DBNAME") or "the run registry's SQLite file", waited
            ) from None

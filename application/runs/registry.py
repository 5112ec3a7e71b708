"""The run registry: an eventsourcing Application that stores annotation runs.

Persistence is chosen by environment, never by import: eventsourcing's own
variables (``PERSISTENCE_MODULE`` = ``eventsourcing.popo`` in memory,
``eventsourcing.sqlite`` with ``SQLITE_DBNAME``, ``eventsourcing.postgres``
with ``POSTGRES_DBNAME``, ``POSTGRES_HOST``, ...). The adapters' wiring fills
in the embedded default (a SQLite file in the user's data dir).
"""

from __future__ import annotations

import datetime
import logging
import uuid
from collections.abc import Sequence
from typing import Any

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import IntegrityError, JSONTranscoder

from annoflow.application.runs.transcodings import register_value_objects
from annoflow.domain import labels, run_records
from annoflow.domain.annotation_run import AnnotationRun, RunCatalog, RunError


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


class RunConflictError(RunError):
    """Another process changed the same run or key at the same time; nothing was saved."""


class RunRegistry(Application[uuid.UUID]):
    """Stores AnnotationRun aggregates, one catalog of keys per dataset."""

    name = "annoflow_runs"

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_value_objects(transcoder, event_value_objects())

    # --- commands -----------------------------------------------------------

    def add_run(self, run: AnnotationRun) -> None:
        """Record a new run; its key must be free in its dataset."""
        catalog = self._catalog(run.dataset) or RunCatalog(dataset=run.dataset)
        catalog.add(run.key, run.id)
        self._save(catalog, run, conflict=f"an annotation run with key {run.key!r} was just added")
        logger.info("recorded run %r of dataset %r (id %s)", run.key, run.dataset, run.id)

    def save_run(self, run: AnnotationRun) -> None:
        self._save(run, conflict=f"run {run.key!r} was changed by another process; reload it")

    def rename_run(self, dataset: str, key: str, new_key: str) -> None:
        catalog = self._require_catalog(dataset)
        run = self.get_run(dataset, key)
        catalog.rename(key, new_key)
        run.rename(new_key)
        self._save(catalog, run, conflict=f"run {key!r} was changed by another process")
        logger.info("renamed run %r of dataset %r to %r", key, dataset, new_key)

    def delete_run(self, dataset: str, key: str) -> None:
        """Delete the record of a run: its key is freed; its events stay for the audit trail."""
        catalog = self._require_catalog(dataset)
        run = self.get_run(dataset, key)
        catalog.remove(key)
        run.delete()
        self._save(catalog, run, conflict=f"run {key!r} was changed by another process")
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
        run = self.repository.get(run_id)
        if not isinstance(run, AnnotationRun):
            raise RunError(f"{run_id} is not an annotation run")
        return run

    def run_ids(self, dataset: str, *, include_deleted: bool = False) -> list[uuid.UUID]:
        """The dataset's runs in creation order; deleted ones too for the audit trail."""
        catalog = self._catalog(dataset)
        if catalog is None:
            return []
        ids = list(catalog.ever) if include_deleted else list(catalog.runs.values())
        return ids

    def history(self, run_id: uuid.UUID) -> Sequence[DomainEventProtocol[uuid.UUID]]:
        """Every event of a run, oldest first: the raw material of its audit trail."""
        return list(self.repository.event_store.get(run_id))

    def last_event_time(self, run_id: uuid.UUID, event_name: str, *, batch: int = 100) -> datetime.datetime | None:
        """When the run's latest event of this kind was recorded, or None: read newest first, a
        batch at a time, so a long history is not replayed to find a recent event."""
        below: int | None = None
        while True:
            events = list(self.repository.event_store.get(run_id, lte=below, desc=True, limit=batch))
            for event in events:
                if type(event).__name__ == event_name:
                    return event.timestamp
            if len(events) < batch:
                return None
            below = events[-1].originator_version - 1

    # --- helpers ------------------------------------------------------------

    def _catalog(self, dataset: str) -> RunCatalog | None:
        try:
            catalog = self.repository.get(RunCatalog.create_id(dataset))
        except AggregateNotFoundError:
            return None
        assert isinstance(catalog, RunCatalog)
        return catalog

    def _require_catalog(self, dataset: str) -> RunCatalog:
        catalog = self._catalog(dataset)
        if catalog is None:
            raise RunError(f"dataset {dataset!r} has no annotation runs")
        return catalog

    def _save(self, *aggregates: Any, conflict: str) -> None:
        try:
            self.save(*aggregates)
        except IntegrityError:
            logger.info("nothing saved: %s", conflict)
            raise RunConflictError(conflict) from None

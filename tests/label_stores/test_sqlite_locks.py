"""A SQLite file another writer holds past the busy timeout is a typed error naming it; nothing is written."""

from __future__ import annotations

import sqlite3
import time

import pytest

from annoflow.adapters.label_stores.sqlite import LabelStoreLockedError, SqliteLabelStore
from annoflow.application.runs.registry import RunConflictError, RunRegistry, RunRegistryLockedError
from annoflow.domain.annotation_run import AnnotationRun
from annoflow.domain.fields import FieldKind
from annoflow.domain.label_schema import LabelSchema
from annoflow.domain.samples import Sample


class Holder:
    """A second connection holding the file's write lock (BEGIN EXCLUSIVE) until released."""

    def __init__(self, path) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("BEGIN EXCLUSIVE")

    def release(self) -> None:
        self.db.execute("ROLLBACK")
        self.db.close()


def test_a_store_write_past_the_busy_timeout_names_the_file_and_writes_nothing(tmp_path):
    path = tmp_path / "datasets.sqlite"
    store = SqliteLabelStore(path, name="ds", busy_timeout=0.3)
    store.add_samples([Sample(filepath="/a.jpg", media_type="image")])
    holder = Holder(path)
    start = time.monotonic()
    with pytest.raises(LabelStoreLockedError) as caught:
        store.declare_field("ground_truth", FieldKind.DETECTIONS)
    assert time.monotonic() - start >= 0.3
    error = caught.value
    assert error.path == path and error.waited == 0.3 and not isinstance(error, sqlite3.Error)
    assert str(path) in str(error) and "0.3 s" in str(error) and "nothing is lost" in str(error)
    assert error.__suppress_context__
    assert len(store.sample_ids()) == 1 and store.field_schema() == {}  # reads go on (WAL); nothing written
    holder.release()
    store.declare_field("ground_truth", FieldKind.DETECTIONS)
    assert store.field_schema() == {"ground_truth": FieldKind.DETECTIONS}
    store.close()


def test_a_store_opened_while_another_writer_holds_the_file_opens(tmp_path):
    path = tmp_path / "datasets.sqlite"
    SqliteLabelStore(path, name="ds").close()
    holder = Holder(path)
    store = SqliteLabelStore(path, name="ds", busy_timeout=0.2)
    assert store.sample_ids() == []
    with pytest.raises(LabelStoreLockedError):
        store.add_samples([Sample(filepath="/a.jpg", media_type="image")])
    holder.release()
    store.add_samples([Sample(filepath="/a.jpg", media_type="image")])
    assert len(store.sample_ids()) == 1
    store.close()


def test_a_registry_save_past_the_busy_timeout_names_the_file_and_saves_nothing(tmp_path):
    path = tmp_path / "runs.sqlite"
    registry = RunRegistry(
        env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path), "SQLITE_LOCK_TIMEOUT": "1"}
    )

    def request() -> AnnotationRun:
        return AnnotationRun.request(
            dataset="ds", key="k", backend="cvat", config={}, label_schema=LabelSchema(()), sample_ids=["a" * 24]
        )

    holder = Holder(path)
    with pytest.raises(RunRegistryLockedError) as caught:
        registry.add_run(request())
    error = caught.value
    assert isinstance(error, RunConflictError) and error.path == str(path) and error.waited == 1
    assert str(path) in str(error) and "nothing is lost" in str(error)
    assert registry.list_runs("ds") == []  # reads go on; nothing saved
    holder.release()
    run = request()  # called again, as a use case is: a new command on what is stored
    registry.add_run(run)
    assert registry.list_runs("ds") == ["k"] and len(registry.history(run.id)) == 1

"""The PostgreSQL label store beyond the shared contract: chosen by environment, shared by processes.

The contract suite (test_label_store_contract.py) runs against it too; these tests need what only
a server gives: the wiring's variables, several datasets in one schema, and two processes writing
one dataset at once.
"""

from __future__ import annotations

import multiprocessing
import uuid

import pytest

from annoflow.adapters import wiring
from annoflow.adapters.label_stores.postgres import PostgresLabelStore
from annoflow.domain.changes import PutLabel
from annoflow.domain.labels import Detection, Detections, labels_in
from annoflow.domain.samples import ImageMetadata, Sample


def _env(server, schema: str, **more: str) -> dict[str, str]:
    return {
        "ANNOFLOW_LABEL_STORE": "postgres",
        "ANNOFLOW_POSTGRES_SCHEMA": schema,
        "POSTGRES_DBNAME": "labels",
        "POSTGRES_HOST": server.host,
        "POSTGRES_PORT": str(server.port),
        "POSTGRES_USER": server.user,
        "POSTGRES_PASSWORD": "",
        **more,
    }


def _image(**fields) -> Sample:
    return Sample(filepath="/img.jpg", media_type="image", metadata=ImageMetadata(64, 48), fields=fields)


def _box(label: str) -> Detection:
    return Detection(label=label, bounding_box=(0.1, 0.2, 0.3, 0.4))


@pytest.fixture
def schema(postgres_labels_dsn) -> str:
    return f"t_{uuid.uuid4().hex[:12]}"


def test_the_environment_chooses_postgres_and_lists_its_datasets(
    postgres_server, postgres_labels_dsn, schema, tmp_path
):
    env = _env(postgres_server, schema, ANNOFLOW_DATA_DIR=str(tmp_path))
    assert wiring.list_datasets(env) == []  # a schema without tables holds no dataset, and is not made
    for name in ("b", "a"):
        store = wiring.open_label_store(name, env)
        assert isinstance(store, PostgresLabelStore) and store.schema == schema
        store.add_samples([_image(gt=Detections([_box(name)]))])
        store.close()
    assert wiring.list_datasets(env) == ["a", "b"]
    assert not (tmp_path / "datasets.sqlite").exists()
    dsn_env = {
        "ANNOFLOW_LABEL_STORE": "postgres",
        "ANNOFLOW_POSTGRES_SCHEMA": schema,
        "ANNOFLOW_POSTGRES_DSN": postgres_labels_dsn,
    }
    store = wiring.open_label_store("a", dsn_env)
    (sample,) = store.get_samples()
    assert [d.label for d in sample.fields["gt"].detections] == ["a"]  # datasets by name: only a's sample
    store.close()


def test_bad_store_settings_are_refused_naming_them(schema):
    with pytest.raises(ValueError, match="ANNOFLOW_LABEL_STORE must be one of sqlite, postgres, fiftyone, got 'mongo'"):
        wiring.open_label_store("ds", {"ANNOFLOW_LABEL_STORE": "mongo"})
    with pytest.raises(ValueError, match="needs ANNOFLOW_POSTGRES_DSN or POSTGRES_DBNAME"):
        wiring.open_label_store("ds", {"ANNOFLOW_LABEL_STORE": "postgres"})
    with pytest.raises(ValueError, match="lower-case identifier"):
        PostgresLabelStore("dbname=x", schema='x"; DROP TABLE samples; --')


def test_the_password_shows_nowhere(postgres_server, schema):
    # The tests' server trusts local connections, so any password is accepted and must stay hidden.
    env = _env(postgres_server, schema, POSTGRES_PASSWORD="hunter2-secret")
    store = wiring.open_label_store("ds", env)
    try:
        shown = [repr(store), wiring.label_store_location(env)]
        assert all("hunter2" not in text for text in shown)
        assert f"schema {schema} on {postgres_server.host}:{postgres_server.port}/labels" in shown[1]
    finally:
        store.close()


def _append_boxes(dsn: str, schema: str, sample_id: str, prefix: str, count: int) -> None:
    """In a process of its own: ``count`` batches of one box each, into one list of one dataset."""
    store = PostgresLabelStore(dsn, name="ds", schema=schema)
    try:
        for i in range(count):
            store.apply([PutLabel(sample_id, "gt", _box(f"{prefix}{i}"))])
    finally:
        store.close()


def test_two_processes_writing_one_list_both_land_each_box_once(postgres_labels_dsn, schema):
    store = PostgresLabelStore(postgres_labels_dsn, name="ds", schema=schema)
    sample = _image(gt=Detections())
    store.add_samples([sample])
    spawn = multiprocessing.get_context("spawn")
    workers = [spawn.Process(target=_append_boxes, args=(postgres_labels_dsn, schema, sample.id, p, 40)) for p in "ab"]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    (got,) = store.get_samples()
    labels = [d.label for d in got.fields["gt"].detections]
    assert sorted(labels) == sorted(f"{p}{i}" for p in "ab" for i in range(40))
    # Each process's boxes keep their order: positions were taken one writer at a time.
    assert [x for x in labels if x[0] == "a"] == [f"a{i}" for i in range(40)]
    with store._pool.connection() as conn:
        positions = [row[0] for row in conn.execute(f"SELECT position FROM {schema}.labels ORDER BY position")]
    assert positions == list(range(80))
    store.close()


def test_a_refused_batch_writes_nothing(postgres_labels_dsn, schema):
    store = PostgresLabelStore(postgres_labels_dsn, name="ds", schema=schema)
    sample = _image(gt=Detections([_box("a")]))
    store.add_samples([sample])
    with pytest.raises(KeyError):
        store.apply([PutLabel(sample.id, "gt", _box("b")), PutLabel("0" * 24, "gt", _box("c"))])
    (got,) = store.get_samples()
    assert [label.label for label in labels_in(got.fields["gt"])] == ["a"]
    store.close()


def test_a_server_that_cannot_be_reached_is_named_without_the_password(schema):
    import socket

    import psycopg

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens there once the socket is closed
    env = {
        "ANNOFLOW_LABEL_STORE": "postgres",
        "POSTGRES_DBNAME": "labels",
        "POSTGRES_HOST": "127.0.0.1",
        "POSTGRES_PORT": str(port),
        "POSTGRES_USER": "someone",
        "POSTGRES_PASSWORD": "hunter2-secret",
    }
    with pytest.raises(psycopg.OperationalError) as caught:
        wiring.open_label_store("ds", env)
    assert str(port) in str(caught.value) and "hunter2" not in str(caught.value)
    assert "hunter2" not in repr(caught.value)


def test_a_field_unset_and_put_again_in_one_batch_holds_the_new_label(postgres_labels_dsn, schema):
    from annoflow.adapters.label_stores import InMemoryLabelStore
    from annoflow.domain.changes import DeleteLabel, SetValue
    from annoflow.domain.labels import Classification

    weather = Classification(label="sunny")
    sample = _image(gt=Detections([_box("a")]), weather=weather)
    first, second, rain = _box("b"), _box("c"), Classification(label="rain")
    batch = [
        PutLabel(sample.id, "gt", first),
        SetValue(sample.id, "gt", None),
        PutLabel(sample.id, "gt", second),
        PutLabel(sample.id, "weather", weather),
        DeleteLabel(sample.id, "weather", weather.id),
        PutLabel(sample.id, "weather", rain),
    ]
    memory = InMemoryLabelStore("ds")
    store = PostgresLabelStore(postgres_labels_dsn, name="ds", schema=schema)
    for each in (memory, store):
        each.add_samples([sample])
        each.apply(batch)
    (got,) = store.get_samples()
    assert got == next(memory.get_samples())
    assert [d.label for d in got.fields["gt"].detections] == ["c"] and got.fields["weather"] == rain
    store.close()

import uuid

import pytest

from annoflow.adapters.label_stores import InMemoryLabelStore, SqliteLabelStore


@pytest.fixture(scope="session")
def postgres_labels_dsn(postgres_server):
    """A connection string to a database of the session's PostgreSQL server for label stores."""
    postgres_server.create_database("labels")
    return postgres_server.dsn("labels")


@pytest.fixture(params=["memory", "sqlite", "postgres", pytest.param("fiftyone", marks=pytest.mark.fiftyone)])
def make_store(request, tmp_path):
    """A factory for an empty store of one adapter, closed after the test (PostgreSQL: a schema of its own;
    FiftyOne: a new dataset, deleted after the test)."""
    stores = []
    schema = f"t_{uuid.uuid4().hex[:12]}"

    def make():
        if request.param == "memory":
            store = InMemoryLabelStore("ds")
        elif request.param == "sqlite":
            store = SqliteLabelStore(tmp_path / "labels.sqlite", name="ds")
        elif request.param == "fiftyone":
            request.getfixturevalue("fiftyone")
            from annoflow.adapters.label_stores.fiftyone_store import FiftyOneLabelStore

            store = FiftyOneLabelStore(request.getfixturevalue("fo_dataset"))
        else:
            from annoflow.adapters.label_stores.postgres import PostgresLabelStore

            store = PostgresLabelStore(request.getfixturevalue("postgres_labels_dsn"), name="ds", schema=schema)
        stores.append(store)
        return store

    yield make
    for store in stores:
        store.close()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def sql_store(request, tmp_path_factory):
    """A store that compiles filters to SQL: SQLite's, or PostgreSQL's on the tests' server (the property
    tests of test_expression_sql.py and test_sort_sql.py; one store a module, emptied by each example)."""
    if request.param == "sqlite":
        store = SqliteLabelStore(tmp_path_factory.mktemp("sql") / "l.sqlite", name="prop")
    else:
        from annoflow.adapters.label_stores.postgres import PostgresLabelStore

        store = PostgresLabelStore(
            request.getfixturevalue("postgres_labels_dsn"), name="prop", schema=f"t_{uuid.uuid4().hex[:12]}"
        )
    yield store
    store.close()

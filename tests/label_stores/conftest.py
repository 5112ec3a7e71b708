import pytest

from annoflow.adapters.label_stores import InMemoryLabelStore, SqliteLabelStore


@pytest.fixture(params=["memory", "sqlite"])
def make_store(request, tmp_path):
    """A factory for an empty store of one adapter, closed after the test."""
    stores = []

    def make():
        if request.param == "memory":
            store = InMemoryLabelStore("ds")
        else:
            store = SqliteLabelStore(tmp_path / "labels.sqlite", name="ds")
        stores.append(store)
        return store

    yield make
    for store in stores:
        store.close()

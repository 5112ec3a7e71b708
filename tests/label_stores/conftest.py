import pytest

from annoflow.adapters.label_stores import InMemoryLabelStore, SqliteLabelStore


@pytest.fixture(params=["memory", "sqlite"])
def make_store(request, tmp_path):
    """A factory for empty stores of one adapter; SQLite ones can be reopened on the same file."""
    stores = []

    def make(name="ds", reopen_of=None):
        if request.param == "memory":
            store = reopen_of or InMemoryLabelStore(name)
        else:
            store = SqliteLabelStore(tmp_path / "labels.sqlite", name=name)
        stores.append(store)
        return store

    make.kind = request.param
    yield make
    for store in stores:
        store.close()

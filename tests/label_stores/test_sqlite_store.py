"""What only the SQLite store does: several datasets, and several stores, on one file."""

from __future__ import annotations

import pytest

from annoflow.adapters.label_stores import SqliteLabelStore
from annoflow.application.ports.label_store import FieldSchemaError
from annoflow.domain.changes import SetValue
from annoflow.domain.fields import FieldKind
from annoflow.domain.labels import Classification
from tests.label_stores.test_label_store_contract import image, only


@pytest.fixture
def open_store(tmp_path):
    stores = []

    def open_(name):
        stores.append(SqliteLabelStore(tmp_path / "labels.sqlite", name=name))
        return stores[-1]

    yield open_
    for store in stores:
        store.close()


def test_datasets_in_one_file_are_separate(open_store):
    first, second = open_store("first"), open_store("second")
    a, b = image(n=1), image(note="x")
    first.add_samples([a])
    second.add_samples([b])
    assert first.sample_ids() == [a.id] and second.sample_ids() == [b.id]
    assert set(first.field_schema()) == {"n"} and set(second.field_schema()) == {"note"}
    first.delete_samples([b.id])  # another dataset's sample: not this one's to delete
    assert list(second.get_samples()) == [b]
    with pytest.raises(ValueError, match="unique per file"):
        second.add_samples([a])


def test_stores_on_one_file_see_each_others_writes(open_store):
    first, second = open_store("ds"), open_store("ds")
    sample = image()
    first.add_samples([sample])
    second.apply([SetValue(sample.id, "weather", Classification(label="rain"))])
    assert first.field_schema() == {"weather": FieldKind.CLASSIFICATION}
    assert only(first).fields["weather"].label == "rain"
    with pytest.raises(FieldSchemaError):
        first.apply([SetValue(sample.id, "weather", 3)])

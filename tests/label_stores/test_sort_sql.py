"""sort_by a label list's length over the SQLite store: the store counts the labels (after a
filter_labels of the same field) in SQL and the order is the Python path's, ties and unset fields
included; the view builds no sample to order them, and first() builds one."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annoflow.adapters.label_stores import InMemoryLabelStore, SqliteLabelStore
from annoflow.application.dataset import Dataset
from annoflow.application.runs.registry import RunRegistry
from annoflow.domain.expressions import F
from annoflow.domain.labels import Detections
from annoflow.domain.samples import Sample
from tests.label_stores.test_expression_sql import NoReads, _dataset_samples, expressions, labels

REGISTRY = RunRegistry(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})

# A sample's "gt": unset, an empty list, or labels (some of whose rows SQLite cannot read: NaN).
gt_values = st.one_of(st.none(), st.just(()), st.lists(labels(), min_size=1, max_size=4))


def _sample(i, value):
    fields = {"other": 1} if value is None else {"gt": Detections(list(value))}
    return Sample(filepath=f"/{i}.jpg", media_type="image", fields=fields)


def _recipe(collection, expr, only_matches, key, reverse):
    view = collection if expr is None else collection.filter_labels("gt", expr, only_matches=only_matches)
    return view.sort_by(key, reverse=reverse)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    values=st.lists(gt_values, min_size=1, max_size=8),
    expr=st.one_of(st.none(), expressions),
    only_matches=st.booleans(),
    by_name=st.booleans(),
    reverse=st.booleans(),
    old_rows=st.booleans(),
)
def test_sql_and_python_give_the_same_order(sql_store, values, expr, only_matches, by_name, reverse, old_rows):
    samples = [_sample(0, [])] + [_sample(i, v) for i, v in enumerate(values, 1)]  # the first declares "gt"
    sql_store.add_samples(samples)
    if old_rows and isinstance(sql_store, SqliteLabelStore):  # rows from before summaries: not in the index
        sql_store._db.execute("UPDATE labels SET summary = NULL WHERE id > '8'")
    memory = InMemoryLabelStore("prop")
    memory.add_samples(samples)
    key = "gt" if by_name else F("gt.detections").length()
    try:
        ids = [s.id for s in samples]
        assert sql_store.count_labels(ids, "gt", expr) is not None, f"{expr!r} was not counted"
        python_view = _recipe(Dataset(memory, REGISTRY), expr, only_matches, key, reverse)
        sql_view = _recipe(Dataset(sql_store, REGISTRY), expr, only_matches, key, reverse)
        in_python = python_view.sample_ids
        assert sql_view.sample_ids == in_python
        if in_python:
            assert sql_view.first().id == in_python[0]
        if expr is not None:  # the store's one statement (filter, count, order) where it decides
            ranked = sql_store.samples_by_label_count("gt", expr, reverse, None)
            in_order = _recipe(Dataset(memory, REGISTRY), expr, True, key, reverse).sample_ids
            assert ranked is None or ranked == in_order
            assert ranked is None or sql_store.samples_by_label_count("gt", expr, reverse, 1) == in_order[:1]
    finally:
        sql_store.delete_samples([s.id for s in samples])


def test_the_store_filters_counts_and_orders_in_one_statement_where_every_row_is_read(tmp_path):
    samples = _dataset_samples()
    sqlite = SqliteLabelStore(tmp_path / "l.sqlite", name="ds")
    sqlite.add_samples(samples)
    memory = InMemoryLabelStore("ds")
    memory.add_samples(samples)
    expr = (F("confidence") > 0.3) & (F("eval") == "fp")

    def recipe(d):
        return d.filter_labels("predictions", expr).sort_by(F("predictions.detections").length(), reverse=True)

    expected = recipe(Dataset(memory, REGISTRY)).sample_ids
    assert sqlite.samples_by_label_count("predictions", expr, True, None) == expected
    assert sqlite.samples_by_label_count("predictions", expr, True, 2) == expected[:2]
    assert sqlite.samples_by_label_count("predictions", F("confidence") * 2 > 1, True, None) is None
    sqlite.close()


class CountingReads:
    """A store that counts the samples it builds."""

    def __init__(self, store):
        self._store = store
        self.built = 0

    def get_samples(self, ids=None, fields=None):
        for sample in self._store.get_samples(ids, fields=fields):
            self.built += 1
            yield sample

    def __getattr__(self, name):
        return getattr(self._store, name)


RECIPES = [
    lambda d: d.filter_labels("predictions", (F("confidence") > 0.5) & (F("eval") == "fp")).sort_by(
        F("predictions.detections").length(), reverse=True
    ),
    lambda d: d.filter_labels("predictions", F("label") == "cat", only_matches=False).sort_by("predictions"),
    lambda d: d.sort_by(F("predictions.detections").length()),
    lambda d: d.sort_by("predictions", reverse=True),
]


@pytest.mark.parametrize("recipe", RECIPES)
def test_sorting_by_a_label_lists_length_over_the_sqlite_store_builds_no_sample(tmp_path, recipe):
    samples = _dataset_samples()
    sqlite = SqliteLabelStore(tmp_path / "l.sqlite", name="ds")
    sqlite.add_samples(samples)
    memory = InMemoryLabelStore("ds")
    memory.add_samples(samples)
    in_python = recipe(Dataset(memory, REGISTRY)).sample_ids
    in_sql = recipe(Dataset(NoReads(sqlite), REGISTRY)).sample_ids
    assert in_sql == in_python and len(set(in_sql)) == len(in_sql) > 1
    sqlite.close()


@pytest.mark.parametrize("recipe", RECIPES)
def test_first_and_the_sample_ids_of_a_sorted_view_build_at_most_one_sample(tmp_path, recipe):
    sqlite = SqliteLabelStore(tmp_path / "l.sqlite", name="ds")
    sqlite.add_samples(_dataset_samples())
    counting = CountingReads(sqlite)
    view = recipe(Dataset(counting, REGISTRY))
    first = view.first()
    assert counting.built == 1
    shown = len(view.sample_ids)
    assert counting.built == 1 and shown > 1
    assert first.id == view.sample_ids[0]
    sqlite.close()


def test_a_shaping_stage_the_store_cannot_count_through_keeps_the_python_path(tmp_path):
    samples = _dataset_samples()
    sqlite = SqliteLabelStore(tmp_path / "l.sqlite", name="ds")
    sqlite.add_samples(samples)
    memory = InMemoryLabelStore("ds")
    memory.add_samples(samples)

    def recipe(d):
        return (
            d.filter_labels("predictions", F("confidence") > 0.3)
            .filter_labels("predictions", F("eval") == "fp")
            .sort_by(F("predictions.detections").length(), reverse=True)
        )

    counting = CountingReads(sqlite)
    assert recipe(Dataset(counting, REGISTRY)).sample_ids == recipe(Dataset(memory, REGISTRY)).sample_ids
    assert counting.built > 1
    sqlite.close()

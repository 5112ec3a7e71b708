"""The PostgreSQL store against the in-memory one on random samples and random batches of changes:
samples round-trip bit-exact (masks, NaN keypoints, floats), both stores end in the same state,
and the server's aggregation observes what the samples show. A filepath holding a NUL character,
which PostgreSQL's text cannot hold, is refused with nothing written; the other tests draw none."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from annoflow.adapters.label_stores import InMemoryLabelStore
from annoflow.adapters.label_stores.postgres import PostgresLabelStore
from annoflow.domain.schema_observation import observe
from tests import strategies as strat
from tests.label_stores.exact import exact
from tests.label_stores.test_round_trips import SETTINGS, histories, replay_beside


def _storable(samples) -> bool:
    return not any("\x00" in sample.filepath for sample in samples)


def _stores(dsn: str) -> tuple[InMemoryLabelStore, PostgresLabelStore]:
    return InMemoryLabelStore("ds"), PostgresLabelStore(dsn, name="ds", schema=f"t_{uuid.uuid4().hex[:12]}")


@SETTINGS
@given(st.lists(strat.samples, min_size=1, max_size=4).map(strat.unique_samples))
def test_samples_round_trip_bit_exact(postgres_labels_dsn, samples):
    _, store = _stores(postgres_labels_dsn)
    if not _storable(samples):
        with pytest.raises(ValueError, match="holds a NUL character, which PostgreSQL's text cannot hold"):
            store.add_samples(samples)
        assert store.sample_ids() == []
        store.close()
        return
    store.add_samples(samples)
    assert exact(list(store.get_samples())) == exact(samples)
    assert exact(list(store.get_samples(list(reversed([s.id for s in samples]))))) == exact(samples[::-1])
    store.close()


@settings(SETTINGS, max_examples=60)
@given(histories())
def test_postgres_ends_as_memory_after_the_same_changes(postgres_labels_dsn, history):
    samples, batches = history
    assume(_storable(samples))
    memory, postgres = _stores(postgres_labels_dsn)
    replay_beside(memory, postgres, samples, batches)
    postgres.close()


@SETTINGS
@given(st.lists(strat.samples, min_size=1, max_size=6).map(strat.unique_samples), st.data())
def test_the_servers_aggregation_observes_what_the_samples_show(postgres_labels_dsn, samples, data):
    assume(_storable(samples))
    _, store = _stores(postgres_labels_dsn)
    ids = data.draw(st.lists(st.sampled_from([s.id for s in samples]), unique=True, min_size=1))
    store.add_samples(samples)
    paths = sorted(store.field_schema())
    assert exact(store.observe(ids, paths)) == exact(observe(store.get_samples(ids, fields=paths), paths))
    store.close()

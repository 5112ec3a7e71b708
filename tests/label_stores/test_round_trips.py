"""Every label type and whole samples round-trip bit-exact through both stores (masks included),
and both stores end in the same state after the same random batches of changes."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annoflow.adapters.label_stores import InMemoryLabelStore, SqliteLabelStore
from annoflow.application.ports.label_store import FieldSchemaError, UnknownSampleError
from annoflow.domain.changes import DeleteLabel, PutLabel, SetValue
from annoflow.domain.fields import FieldKind
from annoflow.domain.labels import labels_in
from annoflow.domain.samples import Sample
from annoflow.domain.schema_observation import observe
from tests import strategies as strat
from tests.label_stores.exact import exact

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _stores(tmp_path_factory):
    path = tmp_path_factory.mktemp("store") / "labels.sqlite"
    return path, [InMemoryLabelStore("ds"), SqliteLabelStore(path, name="ds")]


@SETTINGS
@given(st.lists(strat.samples, min_size=1, max_size=4).map(strat.unique_samples))
def test_samples_round_trip_through_both_stores_and_a_reopen(tmp_path_factory, samples):
    path, stores = _stores(tmp_path_factory)
    for store in stores:
        store.add_samples(samples)
        assert exact(list(store.get_samples())) == exact(samples)
        store.close()
    reopened = SqliteLabelStore(path, name="ds")
    assert exact(list(reopened.get_samples())) == exact(samples)
    assert exact(list(reopened.get_samples(list(reversed([s.id for s in samples]))))) == exact(samples[::-1])
    reopened.close()


LABELS_BY_KIND = [
    (FieldKind.CLASSIFICATION, strat.classifications),
    (FieldKind.CLASSIFICATIONS, strat.classifications),
    (FieldKind.DETECTIONS, strat.detections),
    (FieldKind.POLYLINES, strat.polylines),
    (FieldKind.KEYPOINTS, strat.keypoints()),
    (FieldKind.SEGMENTATION, strat.segmentations),
]


@SETTINGS
@given(st.sampled_from(LABELS_BY_KIND).flatmap(lambda pair: st.tuples(st.just(pair[0]), pair[1])))
def test_every_label_type_round_trips_through_put(tmp_path_factory, kind_and_label):
    kind, label = kind_and_label
    path, stores = _stores(tmp_path_factory)
    sample = Sample(filepath="/x.jpg", media_type="image")
    for store in stores:
        store.add_samples([sample])
        store.declare_field("field", kind)
        store.apply([PutLabel(sample.id, "field", label)])
        store.close()
    for store in (stores[0], SqliteLabelStore(path, name="ds")):
        value = next(store.get_samples()).fields["field"]
        assert exact(value.items[0] if kind.is_list else value) == exact(label)
        store.close()


# --- both stores agree on any batch of changes -------------------------------------

FIELD_LABELS = {
    "gt": strat.detections,
    "kps": strat.keypoints(),
    "cls": strat.classifications,
    "seg": strat.segmentations,
}


@st.composite
def changes(draw, samples):
    """A change to one of the samples: mostly fitting ones, some that do not (wrong kind, unknown sample)."""
    sample = draw(st.sampled_from(samples))
    sample_id = "e" * 24 if draw(st.integers(0, 9)) == 0 else sample.id  # now and then, one no store holds
    if sample.media_type.value == "video":
        field, frame = "frames.detections", draw(st.integers(1, 4))
        element = strat.detections
    else:
        field, frame = draw(st.sampled_from(sorted(FIELD_LABELS))), None
        element = FIELD_LABELS[field]
    existing = [label.id for label in labels_in(sample.get(field, frame))]
    action = draw(st.sampled_from(["put", "replace", "delete", "set", "set_none", "scalar", "wrong_kind"]))
    if action == "replace" and existing:
        return PutLabel(sample_id, field, draw(element).replace(id=draw(st.sampled_from(existing))), frame)
    if action == "delete":
        return DeleteLabel(sample_id, field, draw(st.sampled_from(existing) if existing else strat.ids), frame)
    if action == "set" and not frame:
        return SetValue(sample_id, field, draw(strat.SAMPLE_FIELDS[field]))
    if action == "set_none":
        return SetValue(sample_id, field, None, frame)
    if action == "scalar" and not frame:
        return SetValue(sample_id, draw(st.sampled_from(["count", "note"])), draw(strat.SAMPLE_FIELDS["count"]))
    if action == "wrong_kind":
        return PutLabel(sample_id, field, draw(strat.polylines), frame)
    return PutLabel(sample_id, field, draw(element), frame)


@st.composite
def histories(draw):
    """Samples, then batches of changes to them."""
    samples = draw(
        st.lists(strat.image_samples() | strat.video_samples(), min_size=1, max_size=3).map(strat.unique_samples)
    )
    batches = draw(st.lists(st.lists(changes(samples), min_size=1, max_size=4), max_size=5))
    return samples, batches


def _outcome(store, batch):
    try:
        store.apply(batch)
    except (FieldSchemaError, UnknownSampleError) as error:
        return type(error)
    return None


def replay_beside(memory, store, samples, batches, *, frame_fields: bool = True) -> None:
    """The same samples and batches into the in-memory store and ``store``: after each batch both
    refuse alike or hold the same samples, fields and observations (``frame_fields=False``: no frame
    field declared, for a store that keeps them only on videos)."""
    for each in (memory, store):
        each.add_samples(samples)
        each.declare_field("gt", FieldKind.DETECTIONS)  # so wrong-kind changes meet a declared field
        if frame_fields:
            each.declare_field("frames.detections", FieldKind.DETECTIONS)
    for batch in batches:
        before = exact(list(memory.get_samples()))
        refused = _outcome(memory, batch)
        assert _outcome(store, batch) == refused
        after = exact(list(memory.get_samples()))
        assert exact(list(store.get_samples())) == after
        assert store.field_schema() == memory.field_schema()
        paths = sorted(memory.field_schema())  # SQL's grouping of edited rows sees what the samples show
        # exact(): NaN attribute values compare by value, not by which NaN object each side decoded
        assert exact(store.observe(store.sample_ids(), paths)) == exact(
            observe(memory.get_samples(fields=paths), paths)
        )
        if refused:
            assert after == before


@settings(SETTINGS, max_examples=80)
@given(histories())
def test_both_stores_end_in_the_same_state_after_the_same_changes(tmp_path_factory, history):
    samples, batches = history
    path, (memory, sqlite) = _stores(tmp_path_factory)
    replay_beside(memory, sqlite, samples, batches)
    sqlite.close()
    reopened = SqliteLabelStore(path, name="ds")
    assert exact(list(reopened.get_samples())) == exact(list(memory.get_samples()))
    reopened.close()


def test_writes_survive_a_process_restart(tmp_path):
    path = tmp_path / "labels.sqlite"
    writer = textwrap.dedent(
        f"""
        import numpy as np
        from annoflow.adapters.label_stores import SqliteLabelStore
        from annoflow.domain.changes import SetValue
        from annoflow.domain.labels import Detection, Detections, Segmentation
        from annoflow.domain.samples import Sample
        det = Detection(label="cat", bounding_box=(0.1, 0.2, 0.3, 0.4), mask=np.eye(5, dtype=bool), id="0" * 24)
        store = SqliteLabelStore({str(path)!r}, name="ds")
        store.add_samples([Sample(id="1" * 24, filepath="/a.jpg", media_type="image", fields={{"gt": Detections([det])}})])
        seg = Segmentation(mask=np.arange(12, dtype=">u2").reshape(3, 4), id="2" * 24)
        store.apply([SetValue("1" * 24, "seg", seg)])
        """
    )
    subprocess.run([sys.executable, "-c", writer], check=True)
    store = SqliteLabelStore(path, name="ds")
    (sample,) = store.get_samples()
    (det,) = sample.fields["gt"].detections
    assert sample.id == "1" * 24 and det.id == "0" * 24
    assert det.mask.dtype.name == "bool" and det.mask.tolist() == [[i == j for j in range(5)] for i in range(5)]
    seg = sample.fields["seg"]
    assert seg.mask.dtype.str == ">u2" and seg.mask.tolist() == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]
    store.close()


@SETTINGS
@given(st.lists(strat.samples, min_size=1, max_size=6).map(strat.unique_samples), st.data())
def test_each_store_observes_what_the_samples_show(tmp_path_factory, samples, data):
    """A store's own aggregation of its rows equals the observation made from the samples it returns."""
    _, stores = _stores(tmp_path_factory)
    ids = data.draw(st.lists(st.sampled_from([s.id for s in samples]), unique=True, min_size=1))
    for store in stores:
        store.add_samples(samples)
        paths = sorted(store.field_schema())
        expected = observe(store.get_samples(ids, fields=paths), paths)
        assert store.observe(ids, paths) == expected
        store.close()


@SETTINGS
@given(st.lists(strat.samples, min_size=1, max_size=4).map(strat.unique_samples))
def test_a_file_from_before_label_summaries_is_observed_row_by_row(tmp_path_factory, samples):
    """Rows written without a summary (older files) are read one by one, beside rows written since."""
    path = tmp_path_factory.mktemp("store") / "labels.sqlite"
    old = SqliteLabelStore(path, name="ds")
    old.add_samples(samples[:-1] or samples)
    # the layout such a file has: no summary, nor the confidence column and the indexes that came later
    old._db.executescript(
        "DROP INDEX labels_hot; DROP INDEX labels_unsummarized; DROP TRIGGER labels_confidence; "
        "ALTER TABLE labels DROP COLUMN confidence; ALTER TABLE labels DROP COLUMN summary"
    )
    old.close()
    store = SqliteLabelStore(path, name="ds")
    if len(samples) > 1:
        store.add_samples(samples[-1:])
    paths = sorted(store.field_schema())
    assert exact(store.observe(store.sample_ids(), paths)) == exact(observe(store.get_samples(fields=paths), paths))
    store.close()


def test_observing_names_an_unknown_sample(tmp_path):
    store = SqliteLabelStore(tmp_path / "labels.sqlite", name="ds")
    store.add_samples([Sample(id="a" * 24, filepath="/a.png", media_type="image")])
    with pytest.raises(UnknownSampleError, match="b" * 24):
        store.observe(["a" * 24, "b" * 24], [])

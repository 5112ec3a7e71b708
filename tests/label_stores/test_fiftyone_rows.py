"""The FiftyOne store's label rows (read from its documents, most labels never built) against the
port's default path, `rows_of_sample` of the samples it reads: the same rows in the same order, the
same labels and values, on random samples and on documents FiftyOne wrote that annoflow's label
classes must check or convert."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from annoflow.application.ports.label_store import rows_of_sample
from tests.label_stores.exact import exact
from tests.label_stores.test_fiftyone_round_trips import FIFTYONE_SETTINGS, new_store, one_media  # noqa: F401

pytestmark = pytest.mark.fiftyone


def _as_tuples(value):
    if isinstance(value, (list, tuple)):
        return tuple(map(_as_tuples, value))
    if isinstance(value, dict):
        return {k: _as_tuples(v) for k, v in value.items()}
    return value


def _form(rows):
    """What a row says, bit-exact: where it is, its label, and its values (lists and tuples alike,
    as JSON gives them, in their order: the upload reads them by name)."""
    return [
        (r.field, r.frame, r.label_id, r.kind, exact(r.label()), repr(_as_tuples(dict(r.values))), r.mask) for r in rows
    ]


def _assert_rows_as_default(store, ids, fields):
    read = list(store.get_label_rows(ids, fields))
    default = [rows_of_sample(sample, fields) for sample in store.get_samples(ids, fields=fields)]
    assert [rows.id for rows in read] == list(ids)
    assert [_form(rows.rows) for rows in read] == [_form(rows.rows) for rows in default]
    return read


@FIFTYONE_SETTINGS
@given(one_media, st.data())
def test_rows_are_the_samples_rows(new_store, samples, data):  # noqa: F811 - the fixture
    store = new_store()
    store.add_samples(samples)
    ids = data.draw(st.lists(st.sampled_from([s.id for s in samples]), unique=True, min_size=1))
    paths = [*sorted(store.field_schema()), "no_such_field"]
    fields = data.draw(st.lists(st.sampled_from(paths), unique=True))
    _assert_rows_as_default(store, ids, fields)


def test_documents_that_need_the_label_classes_checks_read_as_the_samples_do(new_store, fiftyone):  # noqa: F811
    from bson import Int64

    store = new_store()
    dataset = store.fiftyone_dataset
    fo = fiftyone
    plain = fo.Detection(
        label="cat",
        bounding_box=[0.1, 0.2, 0.3, 0.4],
        confidence=0.5,
        index=3,
        keyframe=True,
        occluded=True,
        note="x",
        tags=["hard"],
    )
    odd = [
        fo.Detection(label="ints", bounding_box=[0.0, 0.0, 1.0, 1.0]),  # made integers below
        fo.Detection(label="edge", bounding_box=[0.5, 0.5, 0.5 + 1e-12, 0.5]),  # a hair over 1: allowed
        fo.Detection(label="outside", bounding_box=[0.5, 0.5, 0.9, 0.5]),  # refused: left out
        fo.Detection(label="big index", bounding_box=[0.1, 0.1, 0.1, 0.1], index=7, count=2),  # stored as 64-bit below
        fo.Detection(label="not a keyframe", bounding_box=[0.1, 0.1, 0.1, 0.1], keyframe="yes"),
        fo.Detection(label="nan", bounding_box=[0.1, 0.1, 0.1, 0.1], confidence=float("nan")),
        fo.Detection(label="reserved", bounding_box=[0.1, 0.1, 0.1, 0.1], points=3),
        fo.Detection(label="", bounding_box=[0.1, 0.1, 0.1, 0.1]),
        fo.Detection(bounding_box=[0.1, 0.1, 0.1, 0.1]),
        fo.Detection(label="masked", bounding_box=[0.1, 0.1, 0.2, 0.2], mask=np.array([[True, False]])),
    ]
    dataset.add_sample(
        fo.Sample(
            filepath="/a.jpg",
            gt=fo.Detections(detections=[plain, *odd]),
            weather=fo.Classification(label="sun", confidence=1.0, logits=[0.1, 0.9]),
            tagged=fo.Classifications(classifications=[fo.Classification(label="x", tags=["a"])]),
            n=2,
        )
    )
    # What FiftyOne's classes would not write (they convert on save), as another writer may leave it.
    dataset._sample_collection.update_one(
        {},
        {
            "$set": {
                "gt.detections.1.bounding_box": [0, 0, 1, 1],
                "gt.detections.3.index": Int64(7),
                "gt.detections.3.count": Int64(2),
                "weather.confidence": 1,
            }
        },
    )
    read = _assert_rows_as_default(store, store.sample_ids(), ["gt", "n", "tagged", "weather"])
    rows = read[0].rows
    assert [(r.field, r.values.get("label")) for r in rows] == [
        ("gt", "cat"),
        ("gt", "ints"),
        ("gt", "edge"),
        ("gt", "big index"),
        ("gt", "not a keyframe"),
        ("gt", "masked"),
        ("tagged", "x"),
        ("weather", "sun"),
    ]
    # The plain ones are taken from their values, the others built as the samples build them.
    assert [r.built is None for r in rows] == [True, False, False, True, False, False, True, False]

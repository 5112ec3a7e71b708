"""Every label type and whole samples round-trip bit-exact through both stores (masks included)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annoflow.adapters.label_stores import InMemoryLabelStore, SqliteLabelStore
from annoflow.domain.changes import PutLabel
from annoflow.domain.fields import FieldKind
from annoflow.domain.samples import Sample
from tests import strategies as strat

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _unique_samples(samples):
    return list({s.id: s for s in samples}.values())


@SETTINGS
@given(st.lists(strat.samples, min_size=1, max_size=4).map(_unique_samples))
def test_samples_round_trip_through_both_stores_and_a_reopen(tmp_path_factory, samples):
    path = tmp_path_factory.mktemp("rt") / "labels.sqlite"
    for store in (InMemoryLabelStore("ds"), SqliteLabelStore(path, name="ds")):
        store.add_samples(samples)
        assert list(store.get_samples()) == samples
        store.close()
    reopened = SqliteLabelStore(path, name="ds")
    assert list(reopened.get_samples()) == samples
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
    path = tmp_path_factory.mktemp("put") / "labels.sqlite"
    for store in (InMemoryLabelStore("ds"), SqliteLabelStore(path, name="ds")):
        sample = Sample(filepath="/x.jpg", media_type="image")
        store.add_samples([sample])
        store.declare_field("field", kind)
        store.apply([PutLabel(sample.id, "field", label)])
        value = next(store.get_samples()).fields["field"]
        got = value.items[0] if kind.is_list else value
        assert got == label
        if getattr(label, "mask", None) is not None:
            assert got.mask.dtype == label.mask.dtype and got.mask.tobytes() == label.mask.tobytes()
        store.close()


def test_writes_survive_a_process_restart(tmp_path):
    path = tmp_path / "labels.sqlite"
    writer = textwrap.dedent(
        f"""
        import numpy as np
        from annoflow.adapters.label_stores import SqliteLabelStore
        from annoflow.domain.labels import Detection, Detections
        from annoflow.domain.samples import Sample
        det = Detection(label="cat", bounding_box=(0.1, 0.2, 0.3, 0.4), mask=np.eye(5, dtype=bool), id="0" * 24)
        store = SqliteLabelStore({str(path)!r}, name="ds")
        store.add_samples([Sample(id="1" * 24, filepath="/a.jpg", media_type="image", fields={{"gt": Detections([det])}})])
        """
    )
    subprocess.run([sys.executable, "-c", writer], check=True)
    store = SqliteLabelStore(path, name="ds")
    (sample,) = store.get_samples()
    (det,) = sample.fields["gt"].detections
    assert sample.id == "1" * 24 and det.id == "0" * 24
    assert det.mask.dtype.name == "bool" and det.mask.tolist() == [[i == j for j in range(5)] for i in range(5)]

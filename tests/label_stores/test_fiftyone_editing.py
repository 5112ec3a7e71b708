"""An annoflow dataset over a FiftyOne dataset (``annoflow.fiftyone.annoflow_dataset``) edits it as FiftyOne
would: ``set_values``, ``sample.save()``, ``clone()`` (a FiftyOne dataset too) and label filters, which the
FiftyOne store leaves to Python (it has no SQL to decide them in: ``samples_with_labels`` is None)."""

from __future__ import annotations

import pytest

from annoflow.domain.expressions import F
from annoflow.domain.labels import Detection, Detections
from annoflow.domain.samples import Sample

pytestmark = pytest.mark.fiftyone


@pytest.fixture
def dataset(fiftyone, fo_dataset, tmp_path, monkeypatch):
    import annoflow.fiftyone as aff

    monkeypatch.setenv("ANNOFLOW_DATA_DIR", str(tmp_path / "data"))
    ds = aff.annoflow_dataset(fo_dataset)
    ds.add_samples(
        [
            Sample(
                filepath=f"/{i}.jpg",
                media_type="image",
                fields={"gt": Detections([Detection(label=label, bounding_box=(0.1, 0.1, 0.2, 0.2))]), "n": i},
            )
            for i, label in enumerate(["cat", "dog", "cat"])
        ]
    )
    return ds


def test_label_filters_are_decided_in_python(fiftyone, dataset, fo_dataset):
    ids = dataset.sample_ids
    assert dataset.store.samples_with_labels(ids, ["gt"], F("label") == "cat") is None
    cats = [ids[0], ids[2]]
    assert dataset.filter_labels("gt", F("label") == "cat").sample_ids == cats
    assert dataset.match_labels(filter=F("label") == "dog", fields="gt").sample_ids == [ids[1]]
    fo_cats = fo_dataset.filter_labels("gt", fiftyone.ViewField("label") == "cat")
    assert [str(i) for i in fo_cats.values("_id")] == cats  # FiftyOne's own view agrees


def test_set_values_and_sample_save_write_fiftyones_samples(fiftyone, dataset, fo_dataset):
    dataset.set_values("n", [10, 20, 30])
    sample = dataset.first()
    sample["note"] = "checked"
    sample.save()
    assert fo_dataset.values("n") == [10, 20, 30]
    assert fo_dataset.values("note") == ["checked", None, None]
    assert isinstance(fo_dataset.get_field("note"), fiftyone.StringField)


def test_a_clone_is_a_fiftyone_dataset(fiftyone, dataset, fo_dataset):
    dataset.info = {"classes": ["cat", "dog"]}
    clone = dataset.filter_labels("gt", F("label") == "cat").clone("af_clone_test")
    try:
        assert fiftyone.dataset_exists("af_clone_test")
        copy = fiftyone.load_dataset("af_clone_test")
        assert copy.info == {"classes": ["cat", "dog"]} and len(copy) == 2
        assert copy.values("gt.detections.id", unwind=True) == [
            d.id
            for s in dataset.filter_labels("gt", F("label") == "cat").iter_samples()
            for d in s.fields["gt"].detections
        ]
        assert set(clone.sample_ids).isdisjoint(dataset.sample_ids)  # new sample ids, the label ids kept
    finally:
        if fiftyone.dataset_exists("af_clone_test"):
            fiftyone.delete_dataset("af_clone_test")

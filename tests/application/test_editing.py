"""Editing samples and fields as FiftyOne's API does, each edit one batch through the label store:
``sample[field] = value; sample.save()``, ``set_values``, ``clone``, ``add_samples``,
``delete_samples`` and the field operations; a field a run uses is neither deleted nor renamed."""

from __future__ import annotations

import pytest

import annoflow as af
from annoflow import F
from annoflow.adapters.cvat_sim.testing import PASSWORD, USER
from annoflow.adapters.quickstart import load_quickstart
from annoflow.domain.changes import SetValue
from annoflow.domain.labels import Classification, Detection, Detections
from annoflow.domain.samples import Sample


@pytest.fixture
def dataset(tmp_path, monkeypatch):
    monkeypatch.setenv("ANNOFLOW_DATA_DIR", str(tmp_path / "data"))
    for name in ("PERSISTENCE_MODULE", "SQLITE_DBNAME", "POSTGRES_DBNAME", "ANNOFLOW_LABEL_STORE"):
        monkeypatch.delenv(name, raising=False)
    dataset = af.load_dataset("editing")
    load_quickstart(dataset.store, tmp_path / "media", num_samples=4, image_size=(64, 48))
    return dataset


class CountingStore:
    """Counts the batches a store is asked to apply."""

    def __init__(self, store, batches):
        self._store, self._batches = store, batches

    def __getattr__(self, name):
        return getattr(self._store, name)

    def apply(self, changes):
        self._batches.append(list(changes))
        return self._store.apply(changes)


def test_a_sample_field_set_and_saved_is_stored_in_one_batch(dataset, monkeypatch):
    batches = []
    monkeypatch.setattr(dataset, "store", CountingStore(dataset.store, batches))
    for sample in dataset.take(2, seed=1):
        sample["alt_filepath"] = sample.filepath + ".blurred.jpg"
        sample["reviewed"] = True
        assert sample["alt_filepath"].endswith(".blurred.jpg")  # seen before the save
        sample.save()
    assert [len(b) for b in batches] == [2, 2] and all(isinstance(c, SetValue) for b in batches for c in b)
    assert sorted(v for v in dataset.values("alt_filepath") if v) == sorted(
        p + ".blurred.jpg" for p in dataset.take(2, seed=1).values("filepath")
    )
    sample = dataset.first()
    sample.save()  # nothing set: nothing written
    assert len(batches) == 2
    with pytest.raises(af.FieldSchemaError, match="'filepath' is a sample property"):
        sample["filepath"] = "/elsewhere.jpg"
    with pytest.raises(TypeError):
        sample["bad"] = object()


def test_a_saved_field_can_be_cleared(dataset):
    sample = dataset.first()
    sample["note"] = "blurry"
    sample.save()
    sample = dataset[sample.id]
    assert sample["note"] == "blurry"
    sample["note"] = None
    sample.save()
    assert dataset[sample.id]["note"] is None and "note" not in dataset[sample.id].fields


def test_set_values_by_order_or_by_id_is_one_batch(dataset):
    view = dataset.skip(1)
    view.set_values("score", [0.5, 0.25, 0.125])
    assert dataset.values("score") == [None, 0.5, 0.25, 0.125]
    dataset.set_values("score", {dataset.first().id: 1.0})
    assert dataset.values("score")[0] == 1.0
    with pytest.raises(ValueError, match="2 values for 4 samples"):
        dataset.set_values("score", [1.0, 2.0])
    with pytest.raises(af.FieldSchemaError):
        dataset.set_values("score", ["one", "two", "three", "four"])  # a float field takes no text
    assert dataset.values("score") == [1.0, 0.5, 0.25, 0.125]  # the refused batch changed nothing


def test_clone_copies_what_a_view_shows_under_new_sample_ids(dataset):
    whole = dataset.clone()
    assert whole.name == "editing_1" and len(whole) == len(dataset)
    assert whole.store.field_schema() == dataset.store.field_schema()
    assert set(whole.values("id")).isdisjoint(dataset.values("id"))
    assert whole.values("ground_truth") == dataset.values("ground_truth")  # the same labels, ids and all
    confident = dataset.filter_labels("predictions", F("confidence") > 0.9).clone("confident")
    assert all(d.confidence > 0.9 for v in confident.values("predictions") for d in v.detections)
    assert af.load_dataset("confident").values("filepath") == confident.values("filepath")
    with pytest.raises(ValueError, match="'confident' already exists"):
        dataset.clone("confident")
    whole.set_values("ground_truth", [None] * len(whole))  # the clone is its own dataset
    assert all(v is not None for v in dataset.values("ground_truth"))


def test_add_and_delete_samples(dataset, tmp_path):
    new = Sample(
        filepath=str(tmp_path / "x.jpg"),
        media_type="image",
        fields={"ground_truth": Detections([Detection(label="cat", bounding_box=(0, 0, 0.5, 0.5))])},
    )
    (new_id,) = dataset.add_samples([new])
    assert dataset[new_id]["ground_truth"] == new.fields["ground_truth"]
    first = dataset.first().id
    dataset.delete_samples(dataset.limit(1))  # a view
    dataset.delete_samples([new_id])
    assert first not in dataset.values("id") and new_id not in dataset.values("id") and len(dataset) == 3


def test_field_operations(dataset):
    dataset.add_sample_field("weather2", Classification)
    dataset.add_sample_field("count", int)
    schema = dataset.store.field_schema()
    assert schema["weather2"].value == "classification" and schema["count"].value == "int"
    dataset.rename_sample_field("predictions", "model")
    assert "predictions" not in dataset.store.field_schema() and dataset.first()["model"] is not None
    dataset.delete_sample_fields(["model", "count"])
    assert not {"model", "count"} & set(dataset.store.field_schema())
    with pytest.raises(af.FieldSchemaError, match="no field 'model'"):
        dataset.delete_sample_field("model")
    with pytest.raises(af.FieldSchemaError, match="is a frame field"):
        dataset.delete_sample_field("frames.detections")


def test_a_field_a_run_uses_is_neither_deleted_nor_renamed(dataset, cvat_sim, monkeypatch):
    monkeypatch.setenv("FIFTYONE_CVAT_URL", cvat_sim.url)
    monkeypatch.setenv("FIFTYONE_CVAT_USERNAME", USER)
    monkeypatch.setenv("FIFTYONE_CVAT_PASSWORD", PASSWORD)
    dataset.limit(1).annotate("review", label_field="ground_truth")
    with pytest.raises(
        af.FieldSchemaError, match=r"cannot delete field 'ground_truth': annotation run 'review' uses it"
    ):
        dataset.delete_sample_field("ground_truth")
    with pytest.raises(af.FieldSchemaError, match=r"cannot rename field 'ground_truth': annotation run 'review'"):
        dataset.rename_sample_field("ground_truth", "gt")
    assert "ground_truth" in dataset.store.field_schema()
    dataset.rename_sample_field("predictions", "model")  # a field no run uses
    dataset.load_annotation_results("review").cleanup()
    dataset.delete_annotation_run("review")
    dataset.rename_sample_field("ground_truth", "gt")
    assert "gt" in dataset.store.field_schema()


def test_take_without_a_seed_shows_the_same_samples_each_time_it_is_read(dataset):
    view = dataset.take(2)
    first = view.sample_ids
    assert all(view.sample_ids == first for _ in range(20))
    for sample in view:  # the guide's "Uploading alternate media": edit the view's samples, then annotate them
        sample["alt_filepath"] = sample.filepath
        sample.save()
    assert all(v is not None for v in view.values("alt_filepath"))


def test_values_of_a_path_into_labels(dataset):
    labels = dataset.values("ground_truth.detections.label")
    assert labels == [[d.label for d in v.detections] for v in dataset.values("ground_truth")]
    confidences = dataset.limit(2).values("predictions.detections.confidence")
    assert len(confidences) == 2 and all(isinstance(c, float) for row in confidences for c in row)

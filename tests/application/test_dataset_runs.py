"""The dataset facade manages runs as FiftyOne's CVAT guide, 'Managing annotation runs' describes."""

from __future__ import annotations

import pytest

from annoflow.adapters.label_stores import InMemoryLabelStore
from annoflow.application.dataset import Dataset
from annoflow.application.runs.registry import RunRegistry
from annoflow.domain.annotation_run import AnnotationRun, RunError
from annoflow.domain.label_schema import LabelSchema
from annoflow.domain.samples import Sample


@pytest.fixture
def dataset():
    store = InMemoryLabelStore("quickstart")
    store.add_samples([Sample(filepath=f"/{i}.jpg", media_type="image", fields={"n": i}) for i in range(5)])
    return Dataset(store, RunRegistry(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}))


def _request(dataset, key, ids):
    run = AnnotationRun.request(
        dataset=dataset.name,
        key=key,
        backend="cvat",
        config={"segment_size": 2},
        label_schema=LabelSchema(()),
        sample_ids=ids,
    )
    dataset.registry.add_run(run)
    return run


def test_list_info_rename_delete(dataset):
    ids = dataset.sample_ids
    _request(dataset, "first", ids[:2])
    _request(dataset, "second", [ids[4], ids[1]])
    assert dataset.list_annotation_runs() == ["first", "second"]
    info = dataset.get_annotation_info("second")
    assert (info.key, info.backend, info.sample_count, info.status) == ("second", "cvat", 2, "requested")
    assert "key='second'" in str(info) and "segment_size" in str(info)
    assert dataset.load_annotation_view("second").sample_ids == [ids[4], ids[1]]
    dataset.rename_annotation_run("second", "renamed")
    assert dataset.list_annotation_runs() == ["first", "renamed"]
    assert dataset.get_annotation_info("renamed").previous_keys == ("second",)
    with pytest.raises(RunError, match="no annotation run with key 'second'"):
        dataset.get_annotation_info("second")
    dataset.delete_annotation_run("first")
    assert dataset.list_annotation_runs() == ["renamed"]
    assert len(dataset) == 5  # the record only: samples and labels stay
    dataset.delete_annotation_runs()
    assert dataset.list_annotation_runs() == []


def test_unknown_dataset_has_no_runs(dataset):
    with pytest.raises(RunError, match="dataset 'quickstart' has no annotation runs"):
        dataset.rename_annotation_run("x", "y")

"""``annoflow.fiftyone``: each function takes a FiftyOne dataset or view, then the arguments of the annoflow
method it stands for, spelled out for help() and editors."""

from __future__ import annotations

import inspect

import pytest

from annoflow.application.dataset import Dataset
from annoflow.application.views import SampleCollection
from annoflow.domain.annotation_run import RunError

pytestmark = pytest.mark.fiftyone
METHODS = {
    "annotate": SampleCollection.annotate,
    "load_annotations": Dataset.load_annotations,
    "list_annotation_runs": Dataset.list_annotation_runs,
    "has_annotation_run": Dataset.has_annotation_run,
    "get_annotation_info": Dataset.get_annotation_info,
    "load_annotation_results": Dataset.load_annotation_results,
    "rename_annotation_run": Dataset.rename_annotation_run,
    "delete_annotation_run": Dataset.delete_annotation_run,
    "delete_annotation_runs": Dataset.delete_annotation_runs,
}


@pytest.fixture
def aff(fiftyone):
    import annoflow.fiftyone as aff

    return aff


@pytest.mark.parametrize("name", sorted(METHODS))
def test_each_function_takes_the_fiftyone_collection_then_the_methods_arguments(aff, name):
    function, method = getattr(aff, name), METHODS[name]
    ours = list(inspect.signature(function).parameters.values())
    theirs = list(inspect.signature(method).parameters.values())[1:]
    assert ours[0].name == "fo_collection" and ours[1:] == theirs
    doc = inspect.getdoc(function)
    assert "fo_collection" in doc and inspect.getdoc(method).splitlines()[0] in doc


def test_anything_but_a_fiftyone_collection_is_refused_by_name(aff, tmp_path, monkeypatch):
    monkeypatch.setenv("ANNOFLOW_DATA_DIR", str(tmp_path))
    with pytest.raises(TypeError, match="expected a FiftyOne dataset or view, got Dataset"):
        aff.annotate(Dataset.__new__(Dataset), "key", label_field="ground_truth")
    with pytest.raises(TypeError, match="got str"):
        aff.list_annotation_runs("quickstart")


def test_a_view_s_runs_are_its_dataset_s(aff, fo_dataset, tmp_path, monkeypatch):
    monkeypatch.setenv("ANNOFLOW_DATA_DIR", str(tmp_path))
    view = fo_dataset.limit(1)
    assert aff.annoflow_dataset(view).name == fo_dataset.name
    assert aff.list_annotation_runs(view) == [] and not aff.has_annotation_run(view, "nothing")
    with pytest.raises(RunError, match="has no annotation runs"):
        aff.load_annotation_view(view, "nothing")


def test_a_load_pauses_the_cyclic_collector_unless_told_not_to(aff, fo_dataset, tmp_path, monkeypatch):
    # FiftyOne's import leaves objects every full collection walks: a load pauses it throughout.
    import gc

    monkeypatch.setenv("ANNOFLOW_DATA_DIR", str(tmp_path))
    seen = []
    name = "load_annotations"
    monkeypatch.setattr(Dataset, name, lambda self, *args, **kwargs: seen.append((gc.isenabled(), kwargs)))
    assert gc.isenabled()
    getattr(aff, name)(fo_dataset, "key")
    getattr(aff, name)(fo_dataset, "key", pause_gc=True)
    getattr(aff, name)(fo_dataset, "key", pause_gc=False)
    assert seen == [(False, {}), (False, {"pause_gc": True}), (True, {"pause_gc": False})]
    assert gc.isenabled()
    # annotate()'s media upload leaves open files in cycles, which only the collector closes.
    monkeypatch.setattr(SampleCollection, "annotate", lambda self, *args, **kwargs: seen.append(gc.isenabled()))
    aff.annotate(fo_dataset, "key")
    assert seen[-1] is True

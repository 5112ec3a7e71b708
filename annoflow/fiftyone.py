"""annoflow's CVAT engine on FiftyOne's own datasets and views (the ``fiftyone`` extra).

A FiftyOne user keeps FiftyOne's datasets and view language (``match``, ``filter_labels``,
``F``, ``evaluate_detections``) to choose samples, and gets annoflow's runs: event-sourced with an
audit trail, exactly-once and resumable loads, restrictions recorded as refusals::

    import fiftyone as fo
    from fiftyone import ViewField as F
    import annoflow.fiftyone as aff

    dataset = fo.load_dataset("quickstart")
    view = dataset.filter_labels("predictions", F("confidence") > 0.8)
    results = aff.annotate(view, "fix_fp", label_field="ground_truth", url=..., username=..., password=...)
    aff.load_annotations(dataset, "fix_fp", url=..., username=..., password=...)

The functions take the FiftyOne dataset or view first and then the arguments of the same
method of an annoflow dataset (``annoflow.Dataset``; FiftyOne's CVAT guide names them). The
labels stay in the FiftyOne dataset (``annoflow.adapters.label_stores.fiftyone_store``), under
their FiftyOne ids; the run records go to annoflow's run registry (``runs.sqlite`` in the data
dir, or PostgreSQL through eventsourcing's variables), filed under the FiftyOne dataset's name.
annotate() reads what the view shows (a ``filter_labels`` view uploads only the labels it keeps,
and a load leaves the hidden ones as they are); loads and run management act on the view's dataset.
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable
from typing import Any

import fiftyone as fo

from annoflow.adapters.label_stores.fiftyone_store import FiftyOneLabelStore
from annoflow.adapters.paused_gc import paused_gc
from annoflow.adapters.wiring import open_dataset
from annoflow.application.dataset import Dataset
from annoflow.application.views import SampleCollection

__all__ = [
    "annoflow_dataset",
    "annotate",
    "delete_annotation_run",
    "delete_annotation_runs",
    "get_annotation_info",
    "has_annotation_run",
    "list_annotation_runs",
    "load_annotation_results",
    "load_annotation_view",
    "load_annotations",
    "rename_annotation_run",
]


def annoflow_dataset(fo_collection: fo.Dataset | fo.DatasetView) -> Dataset:
    """An annoflow dataset over a FiftyOne dataset or view, on the environment's run registry.

    Args:
        fo_collection: a FiftyOne dataset or view; a view's samples and labels are read through it,
            and every write goes to its dataset.

    Returns:
        The annoflow dataset, named as the FiftyOne dataset is. Datasets it makes (``clone()``) are
        FiftyOne datasets too (persistent ones, as annoflow's datasets are), whatever label store the
        environment names.

    Raises:
        TypeError: ``fo_collection`` is no FiftyOne dataset or view.
    """
    if not isinstance(fo_collection, (fo.Dataset, fo.DatasetView)):
        raise TypeError(f"expected a FiftyOne dataset or view, got {type(fo_collection).__name__}")
    store = FiftyOneLabelStore(fo_collection)
    return open_dataset(store.name, store=store, env={**os.environ, "ANNOFLOW_LABEL_STORE": "fiftyone"})


def _root(fo_collection: Any) -> Any:
    return fo_collection._root_dataset if isinstance(fo_collection, fo.DatasetView) else fo_collection


def _taking_fiftyone(
    method: Callable[..., Any], *, through_view: bool = False, bulk: bool = False
) -> Callable[..., Any]:
    """``method`` of an annoflow dataset as a function of a FiftyOne dataset or view (its first argument).

    ``through_view``: the call reads through the view (annotate); otherwise it acts on the view's dataset.
    ``bulk``: the call loads a run's labels (load_annotations), with Python's cyclic collector paused
    throughout unless ``pause_gc=False`` is passed (`adapters/paused_gc.py`, the CVAT backend's
    option). FiftyOne's import leaves some 280,000 objects that every full collection walks (0.4 s or
    more each), and the labels a task reads, downloads and merges set off one or two of them per
    task: a third of a load's time at 10,000 x 20, for nothing, as a load makes next to no cycles (48
    objects at 2,000 x 20). Not annotate(): its media upload leaves each image's open file in a cycle
    (httpx's multipart fields), which only the collector closes.
    """
    parameters = list(inspect.signature(method).parameters.values())[1:]  # without self
    first = inspect.Parameter(
        "fo_collection", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation="fo.Dataset | fo.DatasetView"
    )

    @functools.wraps(method)
    def call(fo_collection: Any, *args: Any, **kwargs: Any) -> Any:
        dataset = annoflow_dataset(fo_collection if through_view else _root(fo_collection))
        # Any value but False pauses: a wrong one is the backend's to refuse, by name.
        with paused_gc(bulk and kwargs.get("pause_gc") is not False):
            return getattr(dataset, method.__name__)(*args, **kwargs)

    call.__signature__ = inspect.signature(method).replace(parameters=[first, *parameters])  # type: ignore[attr-defined]
    what = "the samples and labels this view shows" if through_view else "the FiftyOne dataset (a view's dataset)"
    call.__doc__ = (
        f"annoflow's ``{method.__name__}`` on a FiftyOne dataset or view, acting on {what}.\n\n"
        "    ``fo_collection`` (a FiftyOne dataset or view) comes first; the other arguments are\n"
        f"    ``annoflow.Dataset.{method.__name__}``'s, documented below.\n\n"
        + (
            "    On a FiftyOne collection ``pause_gc`` (default True) pauses Python's cyclic collector\n"
            "    for the whole call, not only while a task's objects are built.\n\n"
            if bulk
            else ""
        )
        + (inspect.getdoc(method) or "").replace("\n", "\n    ")
    )
    return call


annotate = _taking_fiftyone(SampleCollection.annotate, through_view=True)
load_annotations = _taking_fiftyone(Dataset.load_annotations, bulk=True)
list_annotation_runs = _taking_fiftyone(Dataset.list_annotation_runs)
has_annotation_run = _taking_fiftyone(Dataset.has_annotation_run)
get_annotation_info = _taking_fiftyone(Dataset.get_annotation_info)
load_annotation_results = _taking_fiftyone(Dataset.load_annotation_results)
rename_annotation_run = _taking_fiftyone(Dataset.rename_annotation_run)
delete_annotation_run = _taking_fiftyone(Dataset.delete_annotation_run)
delete_annotation_runs = _taking_fiftyone(Dataset.delete_annotation_runs)


def load_annotation_view(fo_collection: fo.Dataset | fo.DatasetView, anno_key: str) -> fo.DatasetView:
    """The samples the run sent for annotation, in the order it sent them, as a FiftyOne view.

    Args:
        fo_collection: the FiftyOne dataset (or a view of it) the run was made on.
        anno_key: the run's key.

    Returns:
        A FiftyOne view of the run's samples that the dataset still holds.

    Raises:
        RunError: the dataset has no run with this key.
    """
    dataset = _root(fo_collection)
    run = annoflow_dataset(dataset).registry.get_run(dataset.name, anno_key)
    return dataset.select(list(run.sample_ids), ordered=True)

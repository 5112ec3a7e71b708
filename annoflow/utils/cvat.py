"""``annoflow.utils.cvat``: FiftyOne's ``fiftyone.utils.cvat`` as the CVAT guide uses it: the API type
and ``import_annotations`` ("Importing existing tasks")."""

from typing import Any

from annoflow.adapters.cvat.api import CVATAnnotationAPI, connect_to_api
from annoflow.application.dataset import Dataset
from annoflow.application.views import DatasetView


def import_annotations(sample_collection: Dataset | DatasetView, **kwargs: Any) -> str:
    """Import CVAT tasks made outside annoflow into the collection's dataset: ``Dataset.import_annotations``
    (FiftyOne's CVAT guide, "Importing existing tasks"), whose arguments it takes.

    Args:
        sample_collection: the dataset (or a view of it) to import into.
        **kwargs: ``project_name``, ``project_id`` or ``task_ids``, ``data_path``, ``download_media``,
            ``label_types``, ``insert_new`` and the connection settings, as ``Dataset.import_annotations`` takes them.

    Returns:
        The import run's key.
    """
    dataset = sample_collection if isinstance(sample_collection, Dataset) else sample_collection.dataset
    return dataset.import_annotations(**kwargs)


__all__ = ["CVATAnnotationAPI", "connect_to_api", "import_annotations"]

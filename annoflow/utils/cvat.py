"""``annoflow.utils.cvat``: FiftyOne's ``fiftyone.utils.cvat`` as the CVAT guide uses it: the API type
and ``import_annotations`` ("Importing existing tasks")."""

from annoflow.adapters.cvat.api import CVATAnnotationAPI, connect_to_api

__all__ = ["CVATAnnotationAPI", "connect_to_api"]

"""``annoflow.utils.annotations``: FiftyOne's ``fiftyone.utils.annotations`` as the CVAT guide uses it
("Additional utilities": ``foua.connect_to_api()``)."""

from annoflow.adapters.cvat.api import connect_to_api

__all__ = ["connect_to_api"]

"""Synthetic stand-ins for FiftyOne's zoo "quickstart" and "quickstart-video" datasets."""

from annoflow.adapters.quickstart.images import CLASSES, MASK_TARGETS, WEATHER, ExtraFields, generate_quickstart
from annoflow.adapters.quickstart.loading import load_quickstart
from annoflow.adapters.quickstart.videos import VEHICLE_TYPES, generate_quickstart_video

__all__ = [
    "CLASSES",
    "MASK_TARGETS",
    "VEHICLE_TYPES",
    "WEATHER",
    "ExtraFields",
    "generate_quickstart",
    "generate_quickstart_video",
    "load_quickstart",
]

"""The file formats a dataset exports to, by the name ``annoflow export --format`` and
``Dataset.export_cvat_xml`` use: each a function (collection, path, **options) -> summary. A dict
from name to function, so a format is one line here (the wiring hands it to `Dataset`)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from annoflow.adapters.cvat_xml.exporting import ExportSummary, export_cvat_xml
from annoflow.domain.samples import MediaType


def _media_type(collection: Any) -> MediaType:
    ids = collection.sample_ids[:1]
    if not ids:
        raise ValueError("the collection is empty: nothing to export")
    return next(iter(collection.store.get_samples(ids, fields=()))).media_type


def export_cvat_images(collection: Any, path: str | os.PathLike[str], **options: Any) -> ExportSummary:
    """"CVAT for images 1.1" XML (FiftyOne's CVATImageDataset labels)."""
    if _media_type(collection) is not MediaType.IMAGE:
        raise ValueError("cvat-images exports images; this collection holds videos: use cvat-video")
    return export_cvat_xml(collection, path, **options)


def export_cvat_video(collection: Any, path: str | os.PathLike[str], **options: Any) -> ExportSummary:
    """"CVAT for video 1.1" XML (FiftyOne's CVATVideoDataset labels): one file, or one per video in a folder."""
    if _media_type(collection) is not MediaType.VIDEO:
        raise ValueError("cvat-video exports videos; this collection holds images: use cvat-images")
    return export_cvat_xml(collection, path, **options)


EXPORT_FORMATS: dict[str, Callable[..., Any]] = {
    "cvat-images": export_cvat_images,
    "cvat-video": export_cvat_video,
}

"""Formats a dataset or view is exported to, by name: a small table from format name to writer,
which the command line's ``annoflow export --format`` and ``collection.export()`` share.

Each writer takes the collection, the path to write (a file or a folder, as the format has it),
the label field (None: every label field for CVAT XML, the only detections or polylines field for
the others) and the format's options, writes whole or not at all, and returns what it wrote (for
the command line to say). ``CVAT_XML`` holds the CVAT XML writers that return their
`ExportSummary`, which ``Dataset.export_cvat_xml`` hands back.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from annoflow.adapters.cvat_xml.exporting import ExportSummary, export_cvat_xml
from annoflow.adapters.formats.coco import write_coco
from annoflow.adapters.formats.errors import DataExportError
from annoflow.adapters.formats.yolo import write_yolo
from annoflow.application.views import SampleCollection
from annoflow.domain.samples import MediaType

PathLike = str | os.PathLike[str]


def _fields(label_field: str | None) -> list[str]:
    return [label_field] if label_field else []


def export_coco(collection: SampleCollection, path: PathLike, label_field: str | None, **options: Any) -> str:
    """COCO JSON at ``path`` (a folder gets ``labels.json``); file names relative to ``data_path``
    (default: the deepest folder holding every image); category ids ``classes=``, else the dataset
    info's ``categories`` (an import's), else sorted from 1."""
    target = Path(path)
    if target.is_dir() or not target.suffix:
        target = target / "labels.json"
    samples = collection.iter_samples(fields=_fields(label_field))
    categories = collection.store.read_info().get("categories") or ()
    document = write_coco(
        samples, target, label_field, options.pop("data_path", None), categories=categories, **options
    )
    return (
        f"wrote {len(document['images'])} images, {len(document['annotations'])} annotations and "
        f"{len(document['categories'])} categories to {target} (file names relative to {document['info']['media_root']})"
    )


def export_yolo(collection: SampleCollection, path: PathLike, label_field: str | None, **options: Any) -> str:
    """A YOLO v5/v8 dataset in the folder ``path`` (new or empty); class indices ``classes=``, else the
    dataset info's ``classes`` (an import's), else sorted."""
    if not label_field:
        raise DataExportError("a YOLO export needs a label field (a detections or polylines field)")
    known = collection.store.read_info().get("classes") or ()
    written = write_yolo(
        collection.iter_samples(fields=_fields(label_field)), path, label_field, known=known, **options
    )
    return f"wrote a YOLO dataset of {len(collection)} images to {Path(path)} ({written.name} names its classes)"


def _media_type(collection: Any) -> MediaType:
    ids = collection.sample_ids[:1]
    if not ids:
        raise ValueError("the collection is empty: nothing to export")
    return next(iter(collection.store.get_samples(ids, fields=()))).media_type


def cvat_images_xml(collection: Any, path: PathLike, **options: Any) -> ExportSummary:
    """ "CVAT for images 1.1" XML (FiftyOne's CVATImageDataset labels)."""
    if _media_type(collection) is not MediaType.IMAGE:
        raise ValueError("cvat-images exports images; this collection holds videos: use cvat-video")
    return export_cvat_xml(collection, path, **options)


def cvat_video_xml(collection: Any, path: PathLike, **options: Any) -> ExportSummary:
    """ "CVAT for video 1.1" XML (FiftyOne's CVATVideoDataset labels): one file, or one per video in a folder."""
    if _media_type(collection) is not MediaType.VIDEO:
        raise ValueError("cvat-video exports videos; this collection holds images: use cvat-images")
    return export_cvat_xml(collection, path, **options)


CVAT_XML: dict[str, Callable[..., ExportSummary]] = {"cvat-images": cvat_images_xml, "cvat-video": cvat_video_xml}


def _cvat_writer(name: str) -> Callable[..., str]:
    def write(collection: Any, path: PathLike, label_field: str | Sequence[str] | None = None, **options: Any) -> str:
        fields = options.pop("label_fields", None) if label_field is None else label_field
        summary = CVAT_XML[name](collection, path, label_fields=fields, **options)
        return (
            f"exported dataset {collection.store.name!r} as {summary.format}: {summary.samples} samples, "
            f"{summary.objects} objects -> {summary.path}"
        )

    write.__doc__ = CVAT_XML[name].__doc__
    return write


Writer = Callable[..., str]

EXPORT_FORMATS: dict[str, Writer] = {
    "coco": export_coco,
    "yolo": export_yolo,
    "cvat-images": _cvat_writer("cvat-images"),
    "cvat-video": _cvat_writer("cvat-video"),
}
# The formats whose writer takes every label field when none is named.
ALL_FIELDS = frozenset(CVAT_XML)
# FiftyOne's dataset type names for the same formats.
ALIASES = {
    "COCODetectionDataset": "coco",
    "YOLOv5Dataset": "yolo",
    "yolov5": "yolo",
    "yolov8": "yolo",
    "CVATImageDataset": "cvat-images",
    "CVATVideoDataset": "cvat-video",
}


def format_name(dataset_type: Any) -> str:
    name = getattr(dataset_type, "__name__", dataset_type)
    name = ALIASES.get(name, name)
    if name not in EXPORT_FORMATS:
        raise DataExportError(f"format {dataset_type!r} is not one annoflow writes: {', '.join(EXPORT_FORMATS)}")
    return name

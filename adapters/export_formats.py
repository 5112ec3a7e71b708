"""Formats a dataset or view is exported to, by name: a small table from format name to writer,
which the command line's ``annoflow export --format`` and ``collection.export()`` share.

Each writer takes the collection, the path to write (a file or a folder, as the format has it),
the label field and the format's options, writes whole or not at all, and returns what it wrote
(for the command line to say).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from annoflow.adapters.formats.coco import write_coco
from annoflow.adapters.formats.errors import DataExportError
from annoflow.adapters.formats.yolo import write_yolo
from annoflow.application.views import SampleCollection

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
    document = write_coco(samples, target, label_field, options.pop("data_path", None), categories=categories, **options)
    return (f"wrote {len(document['images'])} images, {len(document['annotations'])} annotations and "
            f"{len(document['categories'])} categories to {target} (file names relative to {document['info']['media_root']})")


def export_yolo(collection: SampleCollection, path: PathLike, label_field: str | None, **options: Any) -> str:
    """A YOLO v5/v8 dataset in the folder ``path`` (new or empty); class indices ``classes=``, else the
    dataset info's ``classes`` (an import's), else sorted."""
    if not label_field:
        raise DataExportError("a YOLO export needs a label field (a detections or polylines field)")
    known = collection.store.read_info().get("classes") or ()
    written = write_yolo(collection.iter_samples(fields=_fields(label_field)), path, label_field, known=known, **options)
    return f"wrote a YOLO dataset of {len(collection)} images to {Path(path)} ({written.name} names its classes)"


Writer = Callable[..., str]

EXPORT_FORMATS: dict[str, Writer] = {
    "coco": export_coco,
    "yolo": export_yolo,
}
# FiftyOne's dataset type names for the same formats.
ALIASES = {"COCODetectionDataset": "coco", "YOLOv5Dataset": "yolo", "yolov5": "yolo", "yolov8": "yolo"}


def writer_for(dataset_type: Any) -> Writer:
    name = getattr(dataset_type, "__name__", dataset_type)
    name = ALIASES.get(name, name)
    if name not in EXPORT_FORMATS:
        raise DataExportError(f"format {dataset_type!r} is not one annoflow writes: {', '.join(EXPORT_FORMATS)}")
    return EXPORT_FORMATS[name]

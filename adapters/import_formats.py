"""Label formats a dataset is made from, by name: each reads a format's files into samples that
nothing has stored yet (so a bad file adds nothing) and the dataset info the files give (COCO's
categories, YOLO's class names). The names are FiftyOne's dataset types too."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from annoflow.adapters.formats.coco import read_coco_with_info
from annoflow.adapters.formats.errors import DataImportError
from annoflow.adapters.formats.voc import images_folder, labels_folder, read_voc
from annoflow.adapters.formats.yolo import read_yolo_with_info
from annoflow.domain.samples import Sample

PathLike = str | os.PathLike[str]
Imported = tuple[list[Sample], dict[str, Any]]  # the samples, and the dataset info the files give


def import_coco(
    labels_path: PathLike | None,
    data_path: PathLike | None,
    dataset_dir: PathLike | None,
    label_field: str,
    **options: Any,
) -> Imported:
    """COCO: ``labels_path`` (default ``dataset_dir/labels.json``), images under ``data_path``
    (default ``dataset_dir/data``, else the labels file's folder)."""
    base = Path(dataset_dir) if dataset_dir is not None else None
    if labels_path is None:
        if base is None:
            raise DataImportError(["COCO: give labels_path (the JSON file) or dataset_dir holding labels.json"])
        labels_path = base / "labels.json"
    if data_path is None:
        data_path = base / "data" if base is not None and (base / "data").is_dir() else Path(labels_path).parent
    return read_coco_with_info(labels_path, data_path, label_field, **options)


def import_yolo(
    labels_path: PathLike | None,
    data_path: PathLike | None,
    dataset_dir: PathLike | None,
    label_field: str,
    **options: Any,
) -> Imported:
    """YOLO v5/v8: ``dataset_dir`` holds data.yaml (its images and labels where data.yaml says)."""
    folder = dataset_dir or labels_path or data_path
    if folder is None:
        raise DataImportError(["YOLO: give dataset_dir, the folder holding data.yaml"])
    return read_yolo_with_info(folder, label_field, **options)


def import_voc(
    labels_path: PathLike | None,
    data_path: PathLike | None,
    dataset_dir: PathLike | None,
    label_field: str,
    **options: Any,
) -> Imported:
    """Pascal VOC: XML files in ``labels_path`` (default ``dataset_dir/Annotations`` or ``labels``),
    images in ``data_path`` (default ``dataset_dir/JPEGImages`` or ``data``)."""
    base = Path(dataset_dir) if dataset_dir is not None else None
    if labels_path is not None:
        labels = Path(labels_path)
    elif base is not None:
        labels = labels_folder(base)
    else:
        raise DataImportError(["VOC: give dataset_dir, or labels_path (the folder of XML files)"])
    if data_path is None:
        data_path = images_folder(base) if base is not None else images_folder(labels.parent)
    return read_voc(labels, data_path, label_field, **options), {}


Reader = Callable[..., Imported]

IMPORT_FORMATS: dict[str, Reader] = {
    "coco": import_coco,
    "COCODetectionDataset": import_coco,
    "yolo": import_yolo,
    "yolov5": import_yolo,
    "yolov8": import_yolo,
    "YOLOv5Dataset": import_yolo,
    "voc": import_voc,
    "VOCDetectionDataset": import_voc,
}


def reader_for(dataset_type: Any) -> Reader:
    name = getattr(dataset_type, "__name__", dataset_type)
    if name not in IMPORT_FORMATS:
        raise DataImportError([f"dataset_type {dataset_type!r} is not one annoflow reads: {', '.join(IMPORT_FORMATS)}"])
    return IMPORT_FORMATS[name]

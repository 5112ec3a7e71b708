"""COCO detection and segmentation JSON, in and out (the object-detection format FiftyOne's
``COCODetectionDataset`` reads and writes).

Every entry is checked before anything is added; docs/formats.md gives what is kept and how it is written.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from annoflow.adapters.formats import masks
from annoflow.adapters.formats.common import attribute_problems, is_number, rounded, scalar_items, write_whole
from annoflow.adapters.formats.errors import DataExportError, DataImportError, raise_if
from annoflow.adapters.formats.media import image_metadata, inside
from annoflow.domain.labels import Detection, Detections, Polyline, Polylines
from annoflow.domain.samples import ImageMetadata, MediaType, Sample

# Annotation keys COCO defines: read into the label's own properties, never attributes.
_KEYS = frozenset({"id", "image_id", "category_id", "bbox", "segmentation", "area", "iscrowd", "score", "attributes"})
_EDGE = 1.0  # pixels a box may overshoot its image by (rounding in real files): clipped; beyond it, refused


def read_json(path: str | os.PathLike[str]) -> Any:
    try:
        return orjson.loads(Path(path).read_bytes())
    except FileNotFoundError:
        raise DataImportError([f"{path}: no such file"]) from None
    except OSError as error:
        raise DataImportError([f"{path}: cannot be read ({error.strerror})"]) from None
    except orjson.JSONDecodeError as error:
        raise DataImportError([f"{path}: not JSON ({error})"]) from None


def _entry_name(kind: str, index: int, entry: Any) -> str:
    ident = entry.get("id") if isinstance(entry, dict) else None
    return f"{kind}[{index}]" + (f" (id {ident!r})" if ident is not None else "")


def _list(data: dict, key: str, path: Any, problems: list[str], required: bool = True) -> list:
    value = data.get(key, None if required else [])
    if not isinstance(value, list):
        problems.append(f"{path}: {key!r} is " + ("missing" if value is None else "not a list"))
        return []
    return value


def _images(entries: list, path: Any, folder: Path, problems: list[str]) -> dict[int, tuple[Sample, ImageMetadata]]:
    """Image id -> its sample and the image's size (which each annotation's box is checked against)."""
    images: dict[int, tuple[Sample, ImageMetadata]] = {}
    for i, entry in enumerate(entries):
        where = f"{path}: {_entry_name('images', i, entry)}"
        if not isinstance(entry, dict):
            problems.append(f"{where}: not an object")
            continue
        ident, name = entry.get("id"), entry.get("file_name")
        if not isinstance(ident, int) or isinstance(ident, bool):
            problems.append(f"{where}: its id is not an integer")
            continue
        if ident in images:
            problems.append(f"{where}: id {ident} is taken by an earlier image")
            continue
        file = inside(folder, name) if isinstance(name, str) else None
        if file is None:
            problems.append(f"{where}: file_name {name!r} is not a path inside the media folder {folder}")
            continue
        meta = image_metadata(file)
        if isinstance(meta, str):
            problems.append(f"{where}: {file}: {meta}")
            continue
        given = (entry.get("width"), entry.get("height"))
        if given != (None, None) and given != (meta.width, meta.height):
            problems.append(f"{where}: width x height {given[0]}x{given[1]} but the file is {meta.width}x{meta.height}")
            continue
        images[ident] = (Sample(filepath=str(file), media_type=MediaType.IMAGE, metadata=meta), meta)
    return images


def _categories(entries: list, path: Any, problems: list[str]) -> dict[Any, str]:
    categories: dict[Any, str] = {}
    for i, entry in enumerate(entries):
        where = f"{path}: {_entry_name('categories', i, entry)}"
        if not isinstance(entry, dict):
            problems.append(f"{where}: not an object")
            continue
        ident, name = entry.get("id"), entry.get("name")
        if not isinstance(ident, int) or isinstance(ident, bool) or ident in categories:
            problems.append(
                f"{where}: its id is not an integer"
                if ident not in categories
                else f"{where}: id {ident} is taken by an earlier category"
            )
        elif not isinstance(name, str) or not name:
            problems.append(f"{where}: its name is not a non-empty string")
        else:
            categories[ident] = name
    return categories


def _box(bbox: Any, meta: ImageMetadata) -> tuple[float, float, float, float] | str:
    if not (isinstance(bbox, list) and len(bbox) == 4 and all(is_number(v) for v in bbox)):
        return f"bbox {bbox!r} is not [x, y, width, height] of finite numbers"
    x, y, w, h = (float(v) for v in bbox)
    width, height = meta.width, meta.height
    if w < 0 or h < 0:
        return f"bbox {bbox} has a negative size"
    if x < -_EDGE or y < -_EDGE or x + w > width + _EDGE or y + h > height + _EDGE:
        return f"bbox {bbox} lies outside the {width}x{height} image"
    x0, y0 = min(max(x, 0.0), width), min(max(y, 0.0), height)
    x1, y1 = min(max(x + w, x0), width), min(max(y + h, y0), height)
    if (x0, y0, x1 - x0, y1 - y0) == (x, y, w, h):
        return (x / width, y / height, w / width, h / height)  # as read: the export writes the same numbers back
    return (x0 / width, y0 / height, (x1 - x0) / width, (y1 - y0) / height)


def _mask(segmentation: Any, box: Sequence[float], meta: ImageMetadata) -> np.ndarray | str | None:
    if segmentation is None or segmentation == []:
        return None
    width, height = meta.width, meta.height
    if isinstance(segmentation, dict):
        try:
            return masks.cut_to_box(masks.decode(segmentation, height, width), box)
        except ValueError as error:
            return f"segmentation: {error}"
    if isinstance(segmentation, list) and all(
        isinstance(p, list) and len(p) >= 6 and len(p) % 2 == 0 and all(is_number(v) for v in p) for p in segmentation
    ):
        return masks.fill_polygons(segmentation, *masks.box_pixels(box, width, height))
    return "segmentation is neither polygons ([[x1, y1, x2, y2, x3, y3, ...], ...]) nor RLE ({size, counts})"


def _detection(entry: dict, name: str, meta: ImageMetadata) -> Detection | str:
    box = _box(entry.get("bbox"), meta)
    if isinstance(box, str):
        return box
    mask = _mask(entry.get("segmentation"), box, meta)
    if isinstance(mask, str):
        return mask
    score, crowd = entry.get("score"), entry.get("iscrowd", 0)
    if score is not None and not is_number(score):
        return f"score {score!r} is not a finite number"
    if crowd not in (0, 1) or isinstance(crowd, float):
        return f"iscrowd {crowd!r} is not 0 or 1"
    nested = entry.get("attributes") or {}
    if not isinstance(nested, dict):
        return "attributes is not an object"
    attributes = {**scalar_items(nested), **scalar_items(entry, skip=_KEYS), "iscrowd": int(crowd)}
    if bad := attribute_problems(attributes):
        return "; ".join(bad)
    return Detection(label=name, bounding_box=box, mask=mask, confidence=score, attributes=attributes)


def read_coco(
    labels_path: str | os.PathLike[str], data_dir: str | os.PathLike[str], label_field: str = "ground_truth"
) -> list[Sample]:
    """The samples of a COCO file, each image's annotations in ``label_field`` (see the module docstring).

    Raises:
        DataImportError: every problem found, each naming the file and the entry.
    """
    return read_coco_with_info(labels_path, data_dir, label_field)[0]


def read_coco_with_info(
    labels_path: str | os.PathLike[str], data_dir: str | os.PathLike[str], label_field: str = "ground_truth"
) -> tuple[list[Sample], dict[str, Any]]:
    """The samples of a COCO file and the dataset info it gives: ``categories`` (id, name,
    supercategory), as FiftyOne's ``dataset.info`` keeps them, so an export numbers them the same."""
    data = read_json(labels_path)
    if not isinstance(data, dict):
        raise DataImportError([f"{labels_path}: not a COCO object ({{images, annotations, categories}})"])
    problems: list[str] = []
    images = _images(_list(data, "images", labels_path, problems), labels_path, Path(data_dir), problems)
    categories = _categories(_list(data, "categories", labels_path, problems), labels_path, problems)
    labels: dict[Any, list[Detection]] = {ident: [] for ident in images}
    for i, entry in enumerate(_list(data, "annotations", labels_path, problems, required=False)):
        where = f"{labels_path}: {_entry_name('annotations', i, entry)}"
        if not isinstance(entry, dict):
            problems.append(f"{where}: not an object")
            continue
        image, category = entry.get("image_id"), entry.get("category_id")
        if image not in images:
            problems.append(f"{where}: image_id {image!r} names no (readable) image")
            continue
        if category not in categories:
            problems.append(f"{where}: category_id {category!r} names no category")
            continue
        label = _detection(entry, categories[category], images[image][1])
        if isinstance(label, str):
            problems.append(f"{where}: {label}")
        else:
            labels[image].append(label)
    raise_if(problems)
    kept = [
        {key: entry[key] for key in ("id", "name", "supercategory") if key in entry}
        for entry in data["categories"]
        if isinstance(entry, dict) and entry.get("id") in categories
    ]
    samples = [sample.with_value(label_field, Detections(labels[ident])) for ident, (sample, _) in images.items()]
    return samples, {"categories": kept}


# --- out ----------------------------------------------------------------------------------------


def category_ids(
    names: Iterable[str],
    classes: Sequence[str] | Mapping[int, str] | None,
    start: int = 1,
    known: Sequence[Mapping[str, Any]] = (),
) -> dict[str, int]:
    """Label name -> category id: ``classes``' (a list numbered from ``start``, or id -> name); else the
    ``known`` categories' ids (the dataset info's, from an import) and the other names, sorted, after them;
    else the sorted names numbered from ``start``.

    Raises:
        DataExportError: a label whose name ``classes`` does not hold.
    """
    if classes is None:
        ids = {str(c["name"]): int(c["id"]) for c in known}
        following = max(ids.values(), default=start - 1) + 1
        others = sorted(set(names) - set(ids))
        return {**ids, **{name: following + i for i, name in enumerate(others)}}
    pairs = classes.items() if isinstance(classes, Mapping) else enumerate(classes, start)
    ids = {str(name): int(ident) for ident, name in pairs}
    missing = sorted(set(names) - set(ids))
    if missing:
        raise DataExportError(f"labels {missing} are not in classes {list(ids)}")
    return ids


def media_root(paths: Sequence[str]) -> str:
    """The deepest folder holding every file (``file_name``s are written relative to it)."""
    return os.path.commonpath([os.path.dirname(os.path.abspath(p)) for p in paths]) if paths else os.getcwd()


def _size(sample: Sample) -> tuple[int, int]:
    if sample.media_type is not MediaType.IMAGE:
        raise DataExportError(
            f"COCO holds images; sample {sample.id} is a {sample.media_type.value} ({sample.filepath})"
        )
    meta = sample.metadata if sample.metadata is not None else image_metadata(sample.filepath)
    if isinstance(meta, str):
        raise DataExportError(f"sample {sample.id}: {sample.filepath} has no size in its metadata and {meta}")
    return meta.width, meta.height


def _attributes(label: Detection | Polyline) -> dict[str, Any]:
    out: dict[str, Any] = {}
    nested: dict[str, Any] = {}
    for name, value in label.attributes.items():
        if name == "iscrowd":
            continue
        (nested if name in _KEYS else out)[name] = value
    if nested:
        out["attributes"] = nested
    return out


def _detection_entry(label: Detection, width: int, height: int) -> dict[str, Any]:
    x, y, w, h = label.bounding_box
    entry: dict[str, Any] = {"bbox": [rounded(x * width), rounded(y * height), rounded(w * width), rounded(h * height)]}
    if label.mask is not None:
        full = masks.paste_from_box(label.mask, label.bounding_box, width, height)
        entry["segmentation"], entry["area"] = masks.encode(full), int(full.sum())
    else:
        entry["segmentation"], entry["area"] = [], rounded(w * width * h * height)
    return entry


def _polygon_entry(label: Polyline, width: int, height: int) -> dict[str, Any] | None:
    shapes = [[(px * width, py * height) for px, py in shape] for shape in label.points if len(shape) >= 3]
    if not shapes:
        return None
    xs = [p[0] for s in shapes for p in s]
    ys = [p[1] for s in shapes for p in s]
    x0, y0 = min(xs), min(ys)
    area = sum(abs(sum(a[0] * b[1] - b[0] * a[1] for a, b in zip(s, s[1:] + s[:1], strict=True))) / 2 for s in shapes)
    return {
        "bbox": [rounded(x0), rounded(y0), rounded(max(xs) - x0), rounded(max(ys) - y0)],
        "segmentation": [[rounded(c) for p in s for c in p] for s in shapes],
        "area": rounded(area),
    }


def coco_document(
    samples: Iterable[Sample],
    label_field: str | None,
    root: str,
    classes: Sequence[str] | Mapping[int, str] | None = None,
    categories: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The COCO object of these samples' labels in ``label_field`` (detections or polylines; None: images only)."""
    images, per_image = [], []
    for number, sample in enumerate(samples, 1):
        width, height = _size(sample)
        name = os.path.relpath(os.path.abspath(sample.filepath), root)
        images.append({"id": number, "file_name": name.replace(os.sep, "/"), "width": width, "height": height})
        value = sample.fields.get(label_field) if label_field else None
        if value is not None and not isinstance(value, (Detections, Polylines)):
            raise DataExportError(
                f"COCO holds detections and polygons; field {label_field!r} holds "
                f"{type(value).__name__} on sample {sample.id}"
            )
        per_image.append((number, width, height, value.items if value is not None else ()))
    ids = category_ids((label.label for *_, items in per_image for label in items), classes, known=categories)
    annotations: list[dict[str, Any]] = []
    for number, width, height, items in per_image:
        for label in items:
            entry = (
                _detection_entry(label, width, height)
                if isinstance(label, Detection)
                else _polygon_entry(label, width, height)
            )
            if entry is None:
                continue
            entry = {
                "id": len(annotations) + 1,
                "image_id": number,
                "category_id": ids[label.label],
                **entry,
                "iscrowd": int(label.attributes.get("iscrowd") or 0),
            }
            if label.confidence is not None:
                entry["score"] = label.confidence
            annotations.append({**entry, **_attributes(label)})
    supercategory = {str(c["name"]): c.get("supercategory", "") for c in categories}
    written = [
        {"id": ident, "name": name, "supercategory": supercategory.get(name, "")}
        for name, ident in sorted(ids.items(), key=lambda p: p[1])
    ]
    return {
        "info": {"description": "exported by annoflow", "media_root": root},
        "licenses": [],
        "images": images,
        "annotations": annotations,
        "categories": written,
    }


def write_coco(
    samples: Iterable[Sample],
    labels_path: str | os.PathLike[str],
    label_field: str | None,
    data_dir: str | os.PathLike[str] | None = None,
    classes: Sequence[str] | Mapping[int, str] | None = None,
    categories: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """Write the samples' ``label_field`` as a COCO file, whole or not at all; file names relative to
    ``data_dir`` (default: the deepest folder holding every file); category ids from ``classes``, else
    ``categories`` (a dataset info's). Returns the document written."""
    samples = list(samples)
    root = os.path.abspath(data_dir) if data_dir is not None else media_root([s.filepath for s in samples])
    document = coco_document(samples, label_field, root, classes, categories)
    write_whole(labels_path, orjson.dumps(document))
    return document

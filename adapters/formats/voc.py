"""Pascal VOC detection XML in: one XML file per image (``Annotations/``, or FiftyOne's ``labels/``),
read with defusedxml (no entity expansion, no external entities: a label file is untrusted input).

Each ``<object>`` is a `Detection`: ``<name>`` its label, ``<bndbox>`` (pixels) its box as FiftyOne
reads it (``xmin / width``, ``(xmax - xmin) / width``), ``<pose>``, ``<truncated>``, ``<difficult>``,
``<occluded>`` and any other element holding text as attributes (whole numbers as ints),
``<score>``/``<confidence>`` as its confidence. The image is ``<filename>`` in the media folder
(never outside it); its size from the file, checked against ``<size>``. Images of the folder
without an XML file are samples without labels. Every problem raises a `DataImportError` naming
the file and the object, before anything is added.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError

import defusedxml
from defusedxml.ElementTree import parse

from annoflow.adapters.formats.common import attribute_problems
from annoflow.adapters.formats.errors import DataImportError, raise_if
from annoflow.adapters.formats.media import IMAGE_EXTENSIONS, find_media, image_metadata, inside
from annoflow.domain.labels import Detection, Detections
from annoflow.domain.samples import ImageMetadata, MediaType, Sample

_OWN = frozenset({"name", "bndbox", "score", "confidence", "part", "actions", "point"})
_EDGE = 1.0  # pixels a box may overshoot its image by: clipped


def labels_folder(voc_dir: Path) -> Path:
    """The folder of XML files: ``voc_dir/Annotations``, ``voc_dir/labels`` or ``voc_dir`` itself."""
    for name in ("Annotations", "labels"):
        if (voc_dir / name).is_dir():
            return voc_dir / name
    return voc_dir


def images_folder(voc_dir: Path) -> Path:
    """Where a VOC folder keeps its images: ``JPEGImages``, FiftyOne's ``data``, else the folder itself."""
    for name in ("JPEGImages", "data"):
        if (voc_dir / name).is_dir():
            return voc_dir / name
    return voc_dir


def _number(text: str | None) -> float | None:
    try:
        value = float(text) if text is not None else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) else None


def _value(text: str) -> int | float | str:
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        pass
    number = _number(text)
    return number if number is not None else text


def _object(node: Element, meta: ImageMetadata) -> Detection | str:
    name = (node.findtext("name") or "").strip()
    if not name:
        return "no <name>"
    box = node.find("bndbox")
    read = [_number(box.findtext(k)) if box is not None else None for k in ("xmin", "ymin", "xmax", "ymax")]
    corners = [number for number in read if number is not None]
    if len(corners) < len(read):
        return "<bndbox> needs numbers xmin, ymin, xmax, ymax"
    xmin, ymin, xmax, ymax = corners
    width, height = meta.width, meta.height
    if xmax < xmin or ymax < ymin:
        return f"<bndbox> ({xmin}, {ymin}, {xmax}, {ymax}) has its max before its min"
    if xmin < -_EDGE or ymin < -_EDGE or xmax > width + _EDGE or ymax > height + _EDGE:
        return f"<bndbox> ({xmin}, {ymin}, {xmax}, {ymax}) lies outside the {width}x{height} image"
    xmin, ymin, xmax, ymax = max(xmin, 0), max(ymin, 0), min(xmax, width), min(ymax, height)
    attributes = {
        child.tag: _value(child.text)
        for child in node
        if child.tag not in _OWN and len(child) == 0 and child.text and child.text.strip()
    }
    if bad := attribute_problems(attributes):
        return "; ".join(bad)
    confidence = _number(node.findtext("score") or node.findtext("confidence"))
    return Detection(
        label=name,
        bounding_box=(xmin / width, ymin / height, (xmax - xmin) / width, (ymax - ymin) / height),
        confidence=confidence,
        attributes=attributes,
    )


def _read_xml(path: Path, data_dir: Path) -> tuple[tuple[Sample, list[Detection]] | None, list[str]]:
    try:
        root = parse(str(path)).getroot()
    except (ParseError, defusedxml.DefusedXmlException) as error:
        return None, [f"{path}: not VOC XML ({error})"]
    except OSError as error:
        return None, [f"{path}: cannot be read ({error.strerror})"]
    filename = (root.findtext("filename") or "").strip()
    if not filename:
        filename = next((p.name for p in data_dir.glob(path.stem + ".*") if p.suffix.lower() in IMAGE_EXTENSIONS), "")
    image = inside(data_dir, filename) if filename else None
    if image is None:
        return None, [f"{path}: <filename> {filename!r} is not a file inside the media folder {data_dir}"]
    meta = image_metadata(image)
    if isinstance(meta, str):
        return None, [f"{path}: {image}: {meta}"]
    size = root.find("size")
    given = (_number(size.findtext("width")), _number(size.findtext("height"))) if size is not None else (None, None)
    if given != (None, None) and given != (meta.width, meta.height):
        return None, [f"{path}: <size> {given[0]:g}x{given[1]:g} but {image} is {meta.width}x{meta.height}"]
    labels, problems = [], []
    for number, node in enumerate(root.iter("object"), 1):
        label = _object(node, meta)
        if isinstance(label, str):
            problems.append(f"{path}: <object> {number}: {label}")
        else:
            labels.append(label)
    sample = Sample(filepath=str(image), media_type=MediaType.IMAGE, metadata=meta)
    return (sample, labels), problems


def read_voc(
    labels_dir: str | os.PathLike[str], data_dir: str | os.PathLike[str], label_field: str = "ground_truth"
) -> list[Sample]:
    """Samples of the images in ``data_dir``, labelled from the VOC XML files in ``labels_dir``.

    Raises:
        DataImportError: every problem found, each naming the file (and object).
    """
    labels_dir, data_dir = Path(labels_dir), Path(data_dir)
    if not labels_dir.is_dir():
        raise DataImportError([f"{labels_dir}: not a folder"])
    problems, labelled = [], {}
    for path in sorted(labels_dir.glob("*.xml")):
        found, bad = _read_xml(path, data_dir)
        problems += bad
        if found is not None:
            sample, labels = found
            if sample.filepath in labelled:
                problems.append(f"{path}: {sample.filepath} is labelled by an earlier XML file too")
            labelled[sample.filepath] = sample.with_value(label_field, Detections(labels))
    if not labelled and not problems:
        problems.append(f"{labels_dir}: no .xml files")
    raise_if(problems)
    images = find_media(data_dir, IMAGE_EXTENSIONS, recursive=False)
    others = [path for path in (os.path.normpath(os.path.abspath(p)) for p in images) if path not in labelled]
    unlabelled = []
    for image in others:
        meta = image_metadata(image)
        if isinstance(meta, str):
            problems.append(f"{image}: {meta}")
        else:
            unlabelled.append(Sample(filepath=image, media_type=MediaType.IMAGE, metadata=meta))
    raise_if(problems)
    return list(labelled.values()) + unlabelled

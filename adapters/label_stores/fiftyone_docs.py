"""annoflow's labels and samples as FiftyOne's MongoDB documents, and back.

docs/label-stores.md ("FiftyOne's documents") gives how each label is written and what is left alone.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Collection, Mapping
from typing import Any, TypeAlias

from bson import Binary, ObjectId
from fiftyone.core.utils import deserialize_numpy_array, serialize_numpy_array

from annoflow.application.ports.label_store import FieldSchemaError, LabelRow
from annoflow.domain.fields import FRAMES_PREFIX, FieldKind
from annoflow.domain.label_values import label_from_values, label_values
from annoflow.domain.labels import (
    RESERVED_ATTRIBUTE_NAMES,
    Classification,
    Classifications,
    Detection,
    Detections,
    FieldValue,
    Keypoint,
    Keypoints,
    Label,
    LabelList,
    Polyline,
    Polylines,
    Segmentation,
)
from annoflow.domain.samples import ImageMetadata, MediaType, Sample, VideoMetadata

logger = logging.getLogger(__name__)

INT64 = (-(2**63), 2**63 - 1)
LIST_KEYS = {
    Classifications: "classifications",
    Detections: "detections",
    Polylines: "polylines",
    Keypoints: "keypoints",
}
LABEL_CLASSES: dict[str, type[Label]] = {
    "Classification": Classification,
    "Detection": Detection,
    "Polyline": Polyline,
    "Keypoint": Keypoint,
    "Segmentation": Segmentation,
}
# The list classes as a union, not type[LabelList]: each one is built from its items.
ListClass: TypeAlias = type[Classifications] | type[Detections] | type[Polylines] | type[Keypoints]
LIST_CLASSES: dict[str, ListClass] = {cls.__name__: cls for cls in (Classifications, Detections, Polylines, Keypoints)}
# The fields FiftyOne 1.x declares on each label class: never an annoflow attribute.
FIFTYONE_FIELDS: dict[type[Label], frozenset[str]] = {
    Classification: frozenset({"_cls", "_id", "id", "tags", "label", "confidence", "logits"}),
    Detection: frozenset(
        {"_cls", "_id", "id", "tags", "attributes", "label", "bounding_box", "mask", "mask_path", "confidence", "index"}
    ),
    Polyline: frozenset(
        {"_cls", "_id", "id", "tags", "attributes", "label", "points", "confidence", "index", "closed", "filled"}
    ),
    Keypoint: frozenset({"_cls", "_id", "id", "tags", "attributes", "label", "points", "confidence", "index"}),
    Segmentation: frozenset({"_cls", "_id", "id", "tags", "mask", "mask_path"}),
}
# The properties annoflow writes for each class (besides the attributes): replaced on every edit.
OWN_KEYS: dict[type[Label], frozenset[str]] = {
    Classification: frozenset({"_cls", "_id", "tags", "label", "confidence"}),
    Detection: frozenset({"_cls", "_id", "tags", "label", "bounding_box", "mask", "confidence", "index", "keyframe"}),
    Polyline: frozenset(
        {"_cls", "_id", "tags", "label", "points", "closed", "filled", "confidence", "index", "keyframe"}
    ),
    Keypoint: frozenset({"_cls", "_id", "tags", "label", "points", "confidence", "index", "keyframe"}),
    Segmentation: frozenset({"_cls", "_id", "tags", "mask"}),
}
_SCALARS = (bool, int, float, str, type(None))
_LABEL_TYPES = (Classification, Detection, Polyline, Keypoint, Segmentation)
# The labels read from their values when their documents need no check (`_plain_values`).
_FROM_VALUES: dict[type[Label], str] = {Detection: "detection", Classification: "classification"}


def check_int(value: Any, where: str) -> None:
    """BSON holds 64-bit integers: a larger one is refused, naming where it is."""
    if isinstance(value, int) and not isinstance(value, bool) and not INT64[0] <= value <= INT64[1]:
        raise FieldSchemaError(f"{where}: {value} does not fit a 64-bit integer, the largest MongoDB holds")


def check_label(label: Label, where: str) -> None:
    """Refuses what FiftyOne cannot hold as annoflow means it, before anything is written."""
    for name, value in getattr(label, "attributes", {}).items():
        if name in FIFTYONE_FIELDS[type(label)] or name.startswith("_"):
            raise FieldSchemaError(
                f"{where}: attribute {name!r} of a {type(label).__name__} names a field of FiftyOne's label class; "
                "FiftyOne cannot hold it as an attribute"
            )
        check_int(value, f"{where}: attribute {name!r}")
    index = getattr(label, "index", None)
    if index is not None:
        check_int(index, f"{where}: index")


def check_value(value: FieldValue, where: str) -> None:
    if isinstance(value, LabelList):
        for item in value.items:
            check_label(item, where)
    elif isinstance(value, Label):
        check_label(value, where)
    else:
        check_int(value, where)


def _mask(array: Any) -> Binary:
    return Binary(serialize_numpy_array(array))


def label_doc(label: Label) -> dict[str, Any]:
    """The document FiftyOne's label class would write (None properties left out, as FiftyOne leaves them)."""
    assert isinstance(label, _LABEL_TYPES)  # the domain's label classes; Label itself is their base only
    doc: dict[str, Any] = {"_id": ObjectId(label.id), "_cls": type(label).__name__, "tags": list(label.tags)}
    if isinstance(label, Segmentation):
        doc["mask"] = _mask(label.mask)
        return doc
    if not isinstance(label, Classification):
        doc["attributes"] = {}
    doc["label"] = label.label
    if isinstance(label, Detection):
        doc["bounding_box"] = list(label.bounding_box)
        if label.mask is not None:
            doc["mask"] = _mask(label.mask)
    elif isinstance(label, Polyline):
        doc["points"] = [[list(p) for p in shape] for shape in label.points]
        doc["closed"], doc["filled"] = label.closed, label.filled
    elif isinstance(label, Keypoint):
        doc["points"] = [list(p) for p in label.points]
    confidence = label.confidence
    if confidence is not None:
        doc["confidence"] = list(confidence) if isinstance(confidence, tuple) else confidence
    for name in ("index", "keyframe"):
        if getattr(label, name, None) is not None:
            doc[name] = getattr(label, name)
    doc.update(label.attributes)
    return doc


def merged_label(label: Label, existing: Mapping[str, Any] | None) -> dict[str, Any]:
    """The label's document keeping what annoflow does not model of the document it replaces."""
    doc = label_doc(label)
    if existing is None or existing.get("_cls") != doc["_cls"]:
        return doc
    cls = type(label)
    kept = {
        name: value
        for name, value in existing.items()
        if name not in OWN_KEYS[cls] and (name in FIFTYONE_FIELDS[cls] or not isinstance(value, _SCALARS))
    }
    return {**doc, **kept}  # kept holds none of the keys annoflow writes but FiftyOne's defaults (attributes)


def value_doc(value: FieldValue) -> Any:
    """A field's value as stored: a label or list document, or the scalar itself."""
    if isinstance(value, LabelList):
        return {"_cls": type(value).__name__, LIST_KEYS[type(value)]: [label_doc(i) for i in value.items]}
    if isinstance(value, Label):
        return label_doc(value)
    return value


def plain(value: Any) -> Any:
    """A scalar as Python holds it: BSON's 64-bit integers come back as ``bson.Int64``, an int subclass."""
    return int(value) if isinstance(value, int) and type(value) not in (int, bool) else value


def _attributes(doc: Mapping[str, Any], cls: type[Label]) -> dict[str, Any]:
    skip = FIFTYONE_FIELDS[cls] | OWN_KEYS[cls]
    return {
        name: plain(value)
        for name, value in doc.items()
        if name not in skip and not name.startswith("_") and name.isidentifier() and isinstance(value, _SCALARS)
    }


def _points(value: Any) -> list[tuple[float, float]]:
    return [(p[0], p[1]) for p in value]


def _label(doc: Mapping[str, Any], cls: type[Label]) -> Label:
    common: dict[str, Any] = {"id": str(doc["_id"]), "tags": tuple(doc.get("tags") or ())}
    if cls is Segmentation:
        return Segmentation(mask=deserialize_numpy_array(doc["mask"]), **common)
    common["label"] = doc.get("label")
    common["attributes"] = _attributes(doc, cls)
    if cls is Classification:
        return Classification(confidence=doc.get("confidence"), **common)
    common["index"] = plain(doc.get("index"))
    keyframe = doc.get("keyframe")
    common["keyframe"] = keyframe if isinstance(keyframe, bool) else None
    if cls is Detection:
        mask = doc.get("mask")
        box: Any = doc.get("bounding_box")  # a document's value, checked by Detection (None: a TypeError)
        return Detection(
            bounding_box=box,
            confidence=doc.get("confidence"),
            mask=None if mask is None else deserialize_numpy_array(mask),
            **common,
        )
    if cls is Polyline:
        return Polyline(
            points=[_points(shape) for shape in doc.get("points") or []],
            closed=bool(doc.get("closed")),
            filled=bool(doc.get("filled")),
            confidence=doc.get("confidence"),
            **common,
        )
    return Keypoint(points=_points(doc.get("points") or []), confidence=doc.get("confidence"), **common)


def _checked_label(doc: Mapping[str, Any], cls: type[Label], where: str) -> Label | None:
    try:
        return _label(doc, cls)
    except (KeyError, TypeError, ValueError) as error:
        logger.warning(
            "%s: label %s is not one annoflow can hold (%s): left out, kept as it is in FiftyOne",
            where,
            doc.get("_id"),
            error,
        )
        return None


def label_of(doc: Mapping[str, Any], cls: type[Label], where: str) -> Label | None:
    """The label a document holds, or None (logged) for one annoflow cannot hold (left as it is)."""
    kind = _FROM_VALUES.get(cls)
    values = None if kind is None else _plain_values(doc, cls)
    if kind is not None and values is not None:
        # A plain box or classification: its values pass the class's checks unchanged, so it is
        # built without running them again (a load reads every label of its task).
        return label_from_values(kind, str(doc["_id"]), values)
    return _checked_label(doc, cls, where)


def value_of(raw: Any, kind: FieldKind, where: str) -> FieldValue:
    """A stored value of a field of this kind, as annoflow holds it; None for unset or unreadable."""
    if raw is None:
        return None
    if kind.is_scalar:
        if kind is FieldKind.FLOAT and isinstance(raw, int) and not isinstance(raw, bool):
            return float(raw)  # FiftyOne's FloatField takes integers as they are
        return plain(raw) if isinstance(raw, (bool, int, float, str)) else None
    if not isinstance(raw, Mapping):
        return None
    container = LIST_CLASSES.get(raw.get("_cls", ""))
    if container is not None:
        items = (label_of(item, container.element, where) for item in raw.get(LIST_KEYS[container]) or [])
        return container(tuple(i for i in items if i is not None))
    cls = LABEL_CLASSES.get(raw.get("_cls", ""))
    return None if cls is None else label_of(raw, cls, where)


def metadata_doc(metadata: ImageMetadata | VideoMetadata | None) -> dict[str, Any] | None:
    if isinstance(metadata, ImageMetadata):
        return {"_cls": "ImageMetadata", "width": metadata.width, "height": metadata.height}
    if isinstance(metadata, VideoMetadata):
        return {
            "_cls": "VideoMetadata",
            "frame_width": metadata.width,
            "frame_height": metadata.height,
            "frame_rate": metadata.frame_rate,
            "total_frame_count": metadata.frame_count,
        }
    return None


def metadata_of(doc: Mapping[str, Any] | None, media_type: MediaType) -> ImageMetadata | VideoMetadata | None:
    """annoflow's metadata from FiftyOne's; None when FiftyOne lacks a size (not computed yet)."""
    if not doc:
        return None
    try:
        if media_type is MediaType.VIDEO:
            return VideoMetadata(doc["frame_width"], doc["frame_height"], doc["total_frame_count"], doc["frame_rate"])
        return ImageMetadata(doc["width"], doc["height"])
    except (KeyError, TypeError, ValueError):
        return None


def sample_of(doc: Mapping[str, Any], schema: Mapping[str, FieldKind], default_media: str | None) -> Sample:
    """A sample document (its frames attached under ``frames``) with the schema's fields it holds."""
    media_type = MediaType(doc.get("_media_type") or default_media or "image")
    sample_id = str(doc["_id"])
    fields: dict[str, FieldValue] = {}
    frame_kinds: dict[str, FieldKind] = {}
    for path, kind in schema.items():
        if path.startswith("frames."):
            frame_kinds[path[len("frames.") :]] = kind
        elif path in doc:
            fields[path] = value_of(doc[path], kind, f"sample {sample_id}, field {path}")
    frames: dict[int, dict[str, FieldValue]] = {}
    if media_type is MediaType.VIDEO and frame_kinds:
        for frame in doc.get("frames") or []:
            number = frame.get("frame_number")
            values = {
                name: value_of(frame[name], kind, f"sample {sample_id}, frame {number}, field frames.{name}")
                for name, kind in frame_kinds.items()
                if name in frame
            }
            if isinstance(number, int) and number >= 1:
                frames[number] = values
    return Sample(
        id=sample_id,
        filepath=doc["filepath"],
        media_type=media_type,
        metadata=metadata_of(doc.get("metadata"), media_type),
        fields=fields,
        frames=frames,
        tags=tuple(doc.get("tags") or ()),
    )


def _plain_values(doc: Mapping[str, Any], cls: type[Label]) -> dict[str, Any] | None:
    """A box's or classification's values as `label_values` gives them for the label `_label` builds,
    or None when the document needs the label class's checks and conversions to say (then it is built).

    Only what passes those checks unchanged is taken: a non-empty string class, finite floats, a box
    inside [0, 1] (the class allows a little over), tags that are strings, int (not Int64) indexes.
    """
    label = doc.get("label")
    if type(label) is not str or not label or type(doc.get("_id")) is not ObjectId:
        return None
    values: dict[str, Any] = {"label": label}
    if cls is Detection:
        box = doc.get("bounding_box")
        if doc.get("mask") is not None or type(box) is not list or len(box) != 4:
            return None
        x, y, w, h = box
        if not (
            type(x) is type(y) is type(w) is type(h) is float
            and x >= 0.0
            and y >= 0.0
            and w >= 0.0
            and h >= 0.0
            and x + w <= 1.0
            and y + h <= 1.0
        ):
            return None  # NaN fails the comparisons too
        values["bounding_box"] = box
    confidence = doc.get("confidence")
    if confidence is not None:
        if type(confidence) is not float or not math.isfinite(confidence):
            return None
        values["confidence"] = confidence
    if cls is Detection:
        index, keyframe = doc.get("index"), doc.get("keyframe")
        if index is not None:
            if type(index) is not int:
                return None
            values["index"] = index
        if keyframe is not None:
            if type(keyframe) is not bool:
                return None
            values["keyframe"] = keyframe
    attributes = _attributes(doc, cls)
    if attributes:
        if not RESERVED_ATTRIBUTE_NAMES.isdisjoint(attributes):
            return None
        values["attributes"] = attributes
    tags = doc.get("tags")
    if tags:
        if type(tags) is not list or not all(type(tag) is str for tag in tags):
            return None
        values["tags"] = tags
    return values


def _value_rows(raw: Any, path: str, frame: int, where: str) -> list[LabelRow]:
    """The rows of one stored label value (`value_of`'s labels, in order)."""
    if not isinstance(raw, Mapping):
        return []
    container = LIST_CLASSES.get(raw.get("_cls", ""))
    cls: type[Label] | None
    if container is not None:
        cls, items = container.element, raw.get(LIST_KEYS[container]) or []
    else:
        cls = LABEL_CLASSES.get(raw.get("_cls", ""))
        if cls is None:
            return []
        items = [raw]
    rows = []
    kind = _FROM_VALUES.get(cls)
    for item in items:
        values = None if kind is None else _plain_values(item, cls)
        if kind is not None and values is not None:
            rows.append(LabelRow(path, frame, str(item["_id"]), kind, values))
            continue
        label = label_of(item, cls, where) if kind is None else _checked_label(item, cls, where)
        if label is not None:
            rows.append(LabelRow(path, frame, label.id, label.kind, label_values(label), None, label))
    return rows


def rows_of(
    doc: Mapping[str, Any], schema: Mapping[str, FieldKind], fields: Collection[str], default_media: str | None
) -> list[LabelRow]:
    """A sample document's labels in ``fields`` as rows: `rows_of_sample(sample_of(doc, ...), fields)`'s
    rows, in the same order (fields sorted, frames by number), without building the plain labels."""
    media_type = MediaType(doc.get("_media_type") or default_media or "image")
    sample_id = str(doc["_id"])
    rows: list[LabelRow] = []
    for path in sorted(fields):
        kind = schema.get(path)
        if kind is None or kind.is_scalar:
            continue
        if not path.startswith(FRAMES_PREFIX):
            if path in doc:
                rows += _value_rows(doc[path], path, 0, f"sample {sample_id}, field {path}")
            continue
        if media_type is not MediaType.VIDEO:
            continue
        name = path[len(FRAMES_PREFIX) :]
        # As sample_of keeps them: the last document of a frame number wins, numbers below 1 are dropped.
        frames = {
            frame.get("frame_number"): frame
            for frame in doc.get("frames") or []
            if isinstance(frame.get("frame_number"), int) and frame.get("frame_number") >= 1
        }
        for number in sorted(frames):
            if name in frames[number]:
                rows += _value_rows(
                    frames[number][name], path, number, f"sample {sample_id}, frame {number}, field {path}"
                )
    return rows

"""Labels as database rows: their plain properties as JSON, their mask as compact bytes.

JSON keeps floats bit-exact (Python writes the shortest repr that reads back
to the same double) and writes NaN for missing keypoints.
"""

from __future__ import annotations

import json
from typing import Any

import attrs

from annoflow.domain.labels import (
    Classification,
    Detection,
    Keypoint,
    Label,
    Polyline,
    Segmentation,
)
from annoflow.domain.mask_codec import decode_mask, encode_mask

LABEL_CLASSES: dict[str, type[Label]] = {
    cls.kind: cls for cls in (Classification, Detection, Polyline, Keypoint, Segmentation)
}
_FIELDS = {kind: tuple(f.name for f in attrs.fields(cls) if f.name not in ("id", "mask")) for kind, cls in LABEL_CLASSES.items()}
_encode = json.JSONEncoder(separators=(",", ":"), allow_nan=True).encode


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if attrs.has(type(value)):
        raise TypeError(f"unexpected nested value {value!r}")
    if hasattr(value, "items"):
        return dict(value)
    return value


def label_row(label: Label) -> tuple[str, str, bytes | None]:
    """(kind, JSON of the plain properties, mask bytes or None)."""
    data = {name: _plain(getattr(label, name)) for name in _FIELDS[label.kind]}
    mask = getattr(label, "mask", None)
    return label.kind, _encode(data), None if mask is None else encode_mask(mask)


def label_from_row(label_id: str, kind: str, data: str, mask: bytes | None) -> Label:
    values = json.loads(data)
    if mask is not None:
        values["mask"] = decode_mask(mask)
    return LABEL_CLASSES[kind](id=label_id, **values)


def scalar_json(value: Any) -> str:
    return _encode(value)


def scalar_from_json(data: str) -> Any:
    return json.loads(data)

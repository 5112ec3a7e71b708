"""Labels as database rows: their plain properties as JSON, their mask as compact bytes.

JSON keeps floats bit-exact (Python writes the shortest repr that reads back
to the same double) and writes NaN for missing keypoints.
"""

from __future__ import annotations

import json
from types import MappingProxyType
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


def _tuples(value: Any) -> Any:
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


_DEFAULTS = {
    kind: {f.name: (f.default.factory() if isinstance(f.default, attrs.Factory) else f.default)
           for f in attrs.fields(cls) if f.name not in ("id", "mask", "attributes")}
    for kind, cls in LABEL_CLASSES.items()
}


def label_from_row(label_id: str, kind: str, data: str, mask: bytes | None) -> Label:
    """Rebuild a label the store itself wrote (and so validated) without validating it again.

    Reading is the hot path of annotate() and of loads; the labels' converters and validators
    ran when they were written, so here the values only get their immutable shapes back.
    """
    values = json.loads(data)
    cls = LABEL_CLASSES[kind]
    label = object.__new__(cls)
    for name, default in _DEFAULTS[kind].items():
        object.__setattr__(label, name, _tuples(values[name]) if name in values else default)
    object.__setattr__(label, "id", label_id)
    if "attributes" in attrs.fields_dict(cls):
        object.__setattr__(label, "attributes", MappingProxyType(values.get("attributes", {})))
    if "mask" in attrs.fields_dict(cls):
        array = None if mask is None else decode_mask(mask)
        if array is not None:
            array.setflags(write=False)
        object.__setattr__(label, "mask", array)
    return label


def scalar_json(value: Any) -> str:
    return _encode(value)


def scalar_from_json(data: str) -> Any:
    return json.loads(data)

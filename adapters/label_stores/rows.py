"""Labels as database rows: their plain properties as JSON, their mask as compact bytes.

JSON keeps floats bit-exact (Python writes the shortest repr that reads back
to the same double) and writes NaN and infinities for missing keypoints and
custom attributes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from types import MappingProxyType
from typing import Any

import attrs
import orjson

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
_encode = json.JSONEncoder(separators=(",", ":"), allow_nan=True).encode
_decode = json.JSONDecoder().decode


def _tuples(value: Any) -> Any:
    # The labels' sequences are homogeneous: a list of lists, or a list of numbers.
    if type(value) is not list:
        return value
    if value and type(value[0]) is list:
        return tuple(map(_tuples, value))
    return tuple(value)


def _default(field: attrs.Attribute) -> Any:
    return field.default.factory() if isinstance(field.default, attrs.Factory) else field.default


def _builder(label_class: type[Label]) -> Callable[[str, dict[str, Any], bytes | None], Label]:
    """A function that rebuilds one label of this class from its id, decoded JSON and mask bytes.

    Generated once per class so that the per-label work is one straight run of slot stores:
    reading 200,000 labels one property at a time through a generic loop costs seconds.
    """
    fields = attrs.fields_dict(label_class)
    lines = ["def build(label_id, values, mask):", "    label = new(cls)", "    put(label, 'id', label_id)"]
    namespace: dict[str, Any] = {
        "new": object.__new__, "put": object.__setattr__, "cls": label_class, "tuples": _tuples,
        "frozen": MappingProxyType, "decode_mask": decode_mask, "_empty": {},
    }
    for name, field in fields.items():
        if name == "id":
            continue
        if name == "mask":
            lines.append("    array = None if mask is None else decode_mask(mask)")
            lines.append("    if array is not None: array.setflags(write=False)")
            lines.append("    put(label, 'mask', array)")
        elif name == "attributes":
            lines.append("    put(label, 'attributes', frozen(values.get('attributes', _empty)))")
        else:
            # A property left out of the row is unset (None); a row written before a property
            # existed gets the property's default.
            namespace[f"default_{name}"] = _default(field)
            lines.append(f"    value = values.get({name!r}, default_{name})")
            lines.append(f"    put(label, {name!r}, tuples(value) if type(value) is list else value)")
    lines.append("    return label")
    exec("\n".join(lines), namespace)  # noqa: S102 - the source is built from the label classes' own fields
    return namespace["build"]


_PLAIN = {kind: tuple(n for n in attrs.fields_dict(cls) if n not in ("id", "mask")) for kind, cls in LABEL_CLASSES.items()}
_BUILDERS = {kind: _builder(cls) for kind, cls in LABEL_CLASSES.items()}
_NONE_BY_DEFAULT = {
    kind: frozenset(f.name for f in attrs.fields(cls) if f.default is None) for kind, cls in LABEL_CLASSES.items()
}


def label_row(label: Label) -> tuple[str, str, bytes | None, str | None]:
    """(kind, JSON of the plain properties, mask bytes or None, JSON of the label's schema summary).

    The summary, ``[class, attributes, unfilled polyline]``, is what the label schema's
    inference needs of a label: a store groups its rows by it without parsing their JSON.
    A segmentation has none (its classes are its mask's values).
    """
    # The encoder writes the labels' tuples as JSON lists; only the read-only attributes need a dict.
    # Unset (None) properties and empty attributes are left out, and read back as such: smaller
    # rows are faster to write and to decode.
    unset_by_default = _NONE_BY_DEFAULT[label.kind]
    data = {
        name: value
        for name in _PLAIN[label.kind]
        if (value := getattr(label, name)) is not None or name not in unset_by_default
    }
    if "attributes" in data:
        if data["attributes"]:
            data["attributes"] = dict(data["attributes"])
        else:
            del data["attributes"]
    mask = getattr(label, "mask", None)
    summary = None if label.kind == "segmentation" else _encode(
        [data.get("label"), data.get("attributes", {}), label.kind == "polyline" and not data.get("filled", False)])
    return label.kind, _encode(data), None if mask is None else encode_mask(mask), summary


def labels_from_rows(rows: Sequence[tuple[str, str, str, bytes | None]]) -> list[Label]:
    """Rebuild labels from (id, kind, data, mask) rows the store itself wrote, without validating them again.

    Reading is the hot path of annotate() and of loads; the labels' converters and
    validators ran when they were written, so here the values only get their
    immutable shapes back. All rows' JSON is decoded in one call: per-row calls
    cost more than the decoding itself.
    """
    if not rows:
        return []
    joined = "[" + ",".join(row[2] for row in rows) + "]"
    try:
        decoded = orjson.loads(joined)  # several times faster; it refuses NaN, infinities and huge ints
    except orjson.JSONDecodeError:
        decoded = _decode(joined)
    builders = _BUILDERS
    return [builders[kind](label_id, values, mask) for (label_id, kind, _, mask), values in zip(rows, decoded)]


def scalar_json(value: Any) -> str:
    return _encode(value)


def scalar_from_json(data: str) -> Any:
    return _decode(data)

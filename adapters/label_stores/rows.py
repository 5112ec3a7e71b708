"""Labels as database rows: their plain properties as JSON, their mask as compact bytes.

JSON keeps floats bit-exact (Python writes the shortest repr that reads back
to the same double) and writes NaN and infinities for missing keypoints and
custom attributes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import orjson

from annoflow.application.ports.mask_codec import decode_mask, encode_mask
from annoflow.domain.label_values import BUILDERS, LABEL_CLASSES, label_values
from annoflow.domain.labels import Label

__all__ = ["LABEL_CLASSES", "decode_json_rows", "label_row", "labels_from_rows", "scalar_from_json", "scalar_json"]

_encode = json.JSONEncoder(separators=(",", ":"), allow_nan=True).encode
_decode = json.JSONDecoder().decode


def label_row(label: Label) -> tuple[str, str, bytes | None, str | None]:
    """(kind, JSON of the plain properties, mask bytes or None, JSON of the label's schema summary).

    The summary, ``[class, attributes, unfilled polyline]``, is what the label schema's
    inference needs of a label: a store groups its rows by it without parsing their JSON.
    A segmentation has none (its classes are its mask's values).
    """
    # The encoder writes the labels' tuples as JSON lists; only the read-only attributes need a dict.
    # Unset (None) properties and empty attributes are left out, and read back as such: smaller
    # rows are faster to write and to decode.
    data = label_values(label)
    mask = getattr(label, "mask", None)
    summary = (
        None
        if label.kind == "segmentation"
        else _encode(
            [data.get("label"), data.get("attributes", {}), label.kind == "polyline" and not data.get("filled", False)]
        )
    )
    return label.kind, _encode(data), None if mask is None else encode_mask(mask), summary


def labels_from_rows(rows: Sequence[tuple[str, str, str, bytes | None]]) -> list[Label]:
    """Rebuild labels from (id, kind, data, mask) rows the store itself wrote, without validating them again.

    Reading is the hot path of annotate() and of loads; the labels' converters and
    validators ran when they were written, so here the values only get their
    immutable shapes back.
    """
    if not rows:
        return []
    decoded = decode_json_rows([row[2] for row in rows])
    builders = BUILDERS
    return [
        builders[kind](label_id, values, None if mask is None else decode_mask(mask))
        for (label_id, kind, _, mask), values in zip(rows, decoded, strict=True)
    ]


def decode_json_rows(texts: Sequence[str]) -> list[Any]:
    """Many rows' JSON decoded in one call: per-row calls cost more than the decoding itself."""
    if not texts:
        return []
    joined = "[" + ",".join(texts) + "]"
    try:
        return orjson.loads(joined)  # several times faster; it refuses NaN, infinities and huge ints
    except orjson.JSONDecodeError:
        return _decode(joined)


def scalar_json(value: Any) -> str:
    return _encode(value)


def scalar_from_json(data: str) -> Any:
    return _decode(data)

"""What one CVAT object of an annotations answer must look like before anything reads it.

`problem` checks an object's form against CVAT's API (an object; integer id, frame and
label; attributes as ``{spec_id, value}`` with text values; a shape's type, finite numbers
as points, as many as its type takes, a rectangle not inverted) and the task (its frame is one
of the task's). It needs no frame size: what depends on one (a mask's box and runs, a box
outside the frame) is checked when the object is converted (`rle.problem`,
`download.Downloader`). The answer says what was wrong, in words a person can act on.
"""

from __future__ import annotations

import math
from typing import Any, TypeGuard

# CVAT's ids and frames are positive database integers; anything past 64 bits is no id (and
# could not be recorded in an event).
_LARGEST = 2**63 - 1
# Numbers a coordinate may hold: beyond this a float cannot hold the integer (and no image is that large).
_LARGEST_COORDINATE = 2**53
# The fewest numbers (x, y pairs) a shape of each type takes; a rectangle takes exactly 4, a mask
# at least one run and its box (checked against its frame by `rle.problem`).
_POINTS = {"polygon": 6, "polyline": 4, "points": 2}


def json_type(value: Any) -> str:
    """A JSON value's kind, as the answer's author would call it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the text {value[:40]!r}"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def is_int(value: Any, low: int = 0) -> TypeGuard[int]:
    """An int (not a bool) from ``low`` to the largest JSON integer CVAT keeps; True narrows ``value`` to int."""
    return type(value) is int and low <= value <= _LARGEST


def _number_problem(value: Any) -> str | None:
    if type(value) is int:
        return None if abs(value) <= _LARGEST_COORDINATE else f"the number {value} is too large for a coordinate"
    if type(value) is float:
        return None if math.isfinite(value) else f"{value!r} is not a finite number"
    return f"{json_type(value)} is not a number"


def problem(obj: Any, kind: str, frames: int) -> str | None:
    """What is wrong with ``obj``, an item of the answer's ``kind`` ("tags", "shapes" or "tracks") in a
    task of ``frames`` frames, or None when it can be read."""
    if _fine(obj, kind, frames):
        return None
    return _problem(obj, kind, frames)


_NUMBER_TYPES = frozenset({int, float})
_FEWEST = {"rectangle": 4, "mask": 5, **_POINTS}


def _fine(obj: Any, kind: str, frames: int) -> bool:
    """True when nothing is wrong with ``obj`` (never when `_problem` would find something): the usual
    case, checked with as few Python steps as it takes, since a task holds tens of thousands of
    objects. False sends the object to `_problem`, which says what is wrong (or finds nothing)."""
    if type(obj) is not dict:
        return False
    get = obj.get
    cvat_id, frame, label, group = get("id"), get("frame"), get("label_id"), get("group")
    if not (
        type(cvat_id) is int
        and type(frame) is int
        and type(label) is int
        and 0 < cvat_id <= _LARGEST
        and 0 <= frame < frames
        and 0 < label <= _LARGEST
        and (group is None or (type(group) is int and 0 <= group <= _LARGEST))
    ):
        return False
    attributes = get("attributes", ())
    if type(attributes) is not list and attributes != ():
        return False
    for item in attributes:
        if type(item) is not dict or type(item.get("value")) is not str:
            return False
        spec = item.get("spec_id")
        if type(spec) is not int or not 0 < spec <= _LARGEST:
            return False
    if kind == "tags":
        return True
    if kind == "tracks":
        return type(get("shapes")) is list
    shape_type, points = get("type"), get("points", ())
    if type(shape_type) is not str or (type(points) is not list and points != ()):
        return False
    if (
        type(get("occluded", False)) is not bool
        or type(get("outside", False)) is not bool
        or type(get("rotation", 0.0)) is not float
    ):
        return False
    types = set(map(type, points))
    if not _NUMBER_TYPES.issuperset(types):
        return False
    if int in types and (max(points) > _LARGEST_COORDINATE or min(points) < -_LARGEST_COORDINATE):
        return False
    if not math.isfinite(sum(points)) or not math.isfinite(get("rotation", 0.0)):
        return False
    count = len(points)
    if shape_type == "rectangle":
        return count == 4 and points[2] >= points[0] and points[3] >= points[1]
    fewest = _FEWEST.get(shape_type)
    return fewest is None or (count >= fewest and (shape_type == "mask" or count % 2 == 0))


def _problem(obj: Any, kind: str, frames: int) -> str | None:
    if not isinstance(obj, dict):
        return f"it is {json_type(obj)}, not an object"
    if not is_int(obj.get("id"), 1):
        return f"its id is {json_type(obj.get('id'))}, not a positive integer"
    frame = obj.get("frame")
    if not is_int(frame, -_LARGEST):
        return f"its frame is {json_type(frame)}, not an integer"
    if not 0 <= frame < frames:
        return f"frame {frame} is not a frame of the task (0 to {frames - 1})"
    if not is_int(obj.get("label_id"), 1):
        return f"its label_id is {json_type(obj.get('label_id'))}, not a positive integer"
    found = _attributes_problem(obj.get("attributes", []))
    if found is not None:
        return found
    group = obj.get("group")
    if group is not None and not is_int(group):
        return f"its group is {json_type(group)}, not an integer from 0"
    if kind == "tags":
        return None
    if kind == "tracks":  # its shapes are checked as it is expanded (`tracks.expand_tracks`)
        return None if isinstance(obj.get("shapes"), list) else "a track's shapes are not a list"
    return _shape_problem(obj)


def _attributes_problem(attributes: Any) -> str | None:
    if not isinstance(attributes, list):
        return f"its attributes are {json_type(attributes)}, not a list"
    for item in attributes:
        if not isinstance(item, dict) or not is_int(item.get("spec_id"), 1):
            return f"an attribute is {json_type(item) if not isinstance(item, dict) else 'an object without an integer spec_id'}"
        if not isinstance(item.get("value"), str):
            return f"attribute {item['spec_id']} holds {json_type(item.get('value'))}, not text"
    return None


def _shape_problem(obj: dict[str, Any]) -> str | None:
    shape_type = obj.get("type")
    if not isinstance(shape_type, str):
        return f"its type is {json_type(shape_type)}, not a shape type"
    for flag in ("occluded", "outside"):
        if flag in obj and not isinstance(obj[flag], bool):
            return f"its {flag} flag is {json_type(obj[flag])}, not a boolean"
    if "rotation" in obj and _number_problem(obj["rotation"]) is not None:
        return f"its rotation: {_number_problem(obj['rotation'])}"
    points = obj.get("points", [])
    if not isinstance(points, list):
        return f"its points are {json_type(points)}, not a list of numbers"
    for value in points:
        found = _number_problem(value)
        if found is not None:
            return f"its points: {found}"
    count = len(points)
    if shape_type == "rectangle":
        if count != 4:
            return f"a rectangle is 4 numbers (x1, y1, x2, y2), not {count}"
        x1, y1, x2, y2 = points
        if x2 < x1 or y2 < y1:
            return f"the rectangle {points} is inverted (x2 < x1 or y2 < y1)"
        return None
    if shape_type == "mask":
        return (
            None if count >= 5 else f"a mask is run lengths then left, top, right, bottom: {count} number(s) are none"
        )
    if shape_type in _POINTS:
        fewest = _POINTS[shape_type]
        if count < fewest or count % 2:
            return f"a {shape_type} is x, y pairs, at least {fewest // 2}: {count} number(s) are not"
    return None

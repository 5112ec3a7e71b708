"""CVAT 1.1 XML written element by element, as CVAT 2.52's dataset manager writes it.

Objects come as CVAT's annotation JSON has them, with names instead of ids: a shape is a dict with
``type`` (rectangle, polygon, polyline, points, mask, ellipse, cuboid), ``label``, ``points``,
``occluded``, ``z_order``, ``group``, ``source``, ``rotation`` and ``attributes`` as (name, value)
pairs; a track's shapes carry ``frame``, ``keyframe`` and ``outside`` too. Coordinates are written
with two decimals and masks as CVAT's run lengths over their box (``rle``, ``left``, ``top``,
``width``, ``height``), so what is written is what CVAT exports. Nothing is held but the element
being written: memory does not grow with the file.

This module imports nothing of annoflow's model: the CVAT simulator serves its exports with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import IO, Any
from xml.sax.saxutils import escape, quoteattr

VERSION = "1.1"
_ELEMENT = {
    "rectangle": "box",
    "polygon": "polygon",
    "polyline": "polyline",
    "points": "points",
    "mask": "mask",
    "ellipse": "ellipse",
    "cuboid": "cuboid",
}
# A cuboid's 16 coordinates as CVAT XML names them, in the order of its points (the reader's too).
CUBOID_POINTS = (
    "xtl1",
    "ytl1",
    "xbl1",
    "ybl1",
    "xtr1",
    "ytr1",
    "xbr1",
    "ybr1",
    "xtl2",
    "ytl2",
    "xbl2",
    "ybl2",
    "xtr2",
    "ytr2",
    "xbr2",
    "ybr2",
)

Meta = Sequence[tuple[str, Any]]  # (tag, text | nested Meta | mapping) pairs, in order


def _two(value: float) -> str:
    return f"{value:.2f}"


def geometry(kind: str, points: Sequence[float], rotation: float = 0.0) -> list[tuple[str, str]]:
    """A shape's coordinates as CVAT's XML attributes."""
    if kind == "rectangle":
        out = [("xtl", _two(points[0])), ("ytl", _two(points[1])), ("xbr", _two(points[2])), ("ybr", _two(points[3]))]
        return out + ([("rotation", _two(rotation))] if rotation else [])
    if kind == "ellipse":
        out = [
            ("cx", _two(points[0])),
            ("cy", _two(points[1])),
            ("rx", _two(points[2] - points[0])),
            ("ry", _two(points[1] - points[3])),
        ]
        return out + ([("rotation", _two(rotation))] if rotation else [])
    if kind == "mask":
        left, top, right, bottom = (int(v) for v in points[-4:])
        return [
            ("rle", ", ".join(str(int(v)) for v in points[:-4])),
            ("left", str(left)),
            ("top", str(top)),
            ("width", str(right - left + 1)),
            ("height", str(bottom - top + 1)),
        ]
    if kind == "cuboid":
        return [(name, _two(value)) for name, value in zip(CUBOID_POINTS, points, strict=True)]
    return [("points", ";".join(f"{_two(x)},{_two(y)}" for x, y in zip(points[0::2], points[1::2], strict=True)))]


class CvatXmlWriter:
    """One CVAT 1.1 document: `start` with the meta, then `image`s (for images) or `track`s (for video),
    then `end`. ``stream`` takes text."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def _open(self, level: int, tag: str, attributes: Iterable[tuple[str, str]], empty: bool = False) -> None:
        text = "".join(f" {name}={quoteattr(value)}" for name, value in attributes)
        self.stream.write(f"\n{'  ' * level}<{tag}{text}{'/' if empty else ''}>")

    def _close(self, level: int, tag: str) -> None:
        self.stream.write(f"\n{'  ' * level}</{tag}>")

    def _meta(self, pairs: Iterable[tuple[str, Any]], level: int) -> None:
        for tag, value in pairs:
            if isinstance(value, Mapping):
                value = list(value.items())
            if isinstance(value, (list, tuple)):
                self._open(level, tag, ())
                self._meta(value, level + 1)
                self._close(level, tag)
            else:
                self.stream.write(f"\n{'  ' * level}<{tag}>{escape(str(value))}</{tag}>")

    def start(self, meta: Meta) -> None:
        self.stream.write('<?xml version="1.0" encoding="utf-8"?>\n<annotations>')
        self.stream.write(f"\n  <version>{VERSION}</version>")
        self._open(1, "meta", ())
        self._meta(meta, 2)
        self._close(1, "meta")

    def _attributes(self, level: int, attributes: Iterable[tuple[str, str]]) -> None:
        for name, value in attributes:
            self.stream.write(f"\n{'  ' * level}<attribute name={quoteattr(name)}>{escape(str(value))}</attribute>")

    def _shape(
        self, level: int, shape: Mapping[str, Any], head: list[tuple[str, str]], tail: list[tuple[str, str]]
    ) -> None:
        kind = shape["type"]
        tag = _ELEMENT[kind]
        self._open(level, tag, [*head, *geometry(kind, shape["points"], shape.get("rotation") or 0.0), *tail])
        self._attributes(level + 1, shape.get("attributes", ()))
        self._close(level, tag)

    def image(
        self,
        image_id: int,
        name: str,
        width: int,
        height: int,
        shapes: Iterable[Mapping[str, Any]] = (),
        tags: Iterable[Mapping[str, Any]] = (),
        *,
        task_id: int | None = None,
        subset: str | None = None,
    ) -> None:
        """One ``<image>`` of "CVAT for images 1.1": its shapes, then its tags."""
        head = [("id", str(image_id)), ("name", name)]
        if task_id is not None:
            head += [("subset", subset or "default"), ("task_id", str(task_id))]
        self._open(1, "image", [*head, ("width", str(width)), ("height", str(height))])
        for shape in shapes:
            tail = [("z_order", str(int(shape.get("z_order") or 0)))]
            if shape.get("group"):
                tail.append(("group_id", str(int(shape["group"]))))
            self._shape(
                2,
                shape,
                [
                    ("label", shape["label"]),
                    ("source", shape.get("source") or "manual"),
                    ("occluded", str(int(bool(shape.get("occluded"))))),
                ],
                tail,
            )
        for tag in tags:
            head = [("label", tag["label"]), ("source", tag.get("source") or "manual")]
            if tag.get("group"):
                head.append(("group_id", str(int(tag["group"]))))
            self._open(2, "tag", head)
            self._attributes(3, tag.get("attributes", ()))
            self._close(2, "tag")
        self._close(1, "image")

    def track(
        self,
        track_id: int,
        label: str,
        shapes: Iterable[Mapping[str, Any]],
        *,
        source: str = "manual",
        group: int | None = None,
        task_id: int | None = None,
        subset: str | None = None,
    ) -> None:
        """One ``<track>`` of "CVAT for video 1.1": its shapes in frame order, keyframes and interpolated ones."""
        head = [("id", str(track_id)), ("label", label), ("source", source or "manual")]
        if task_id is not None:
            head += [("task_id", str(task_id)), ("subset", subset or "default")]
        if group:
            head.append(("group_id", str(int(group))))
        self._open(1, "track", head)
        for shape in shapes:
            self._shape(
                2,
                shape,
                [
                    ("frame", str(int(shape["frame"]))),
                    ("keyframe", str(int(bool(shape.get("keyframe"))))),
                    ("outside", str(int(bool(shape.get("outside"))))),
                    ("occluded", str(int(bool(shape.get("occluded"))))),
                ],
                [("z_order", str(int(shape.get("z_order") or 0)))],
            )
        self._close(1, "track")

    def end(self) -> None:
        self.stream.write("\n</annotations>\n")


def label_meta(labels: Iterable[Mapping[str, Any]]) -> list[tuple[str, Any]]:
    """CVAT labels (as its API gives them: name, type, attributes with input_type, values, default_value,
    mutable) as the ``<labels>`` of a document's meta."""
    return [
        (
            "label",
            [
                ("name", label["name"]),
                ("color", label.get("color") or ""),
                ("type", label.get("type") or "any"),
                (
                    "attributes",
                    [
                        (
                            "attribute",
                            [
                                ("name", a["name"]),
                                ("mutable", str(bool(a.get("mutable", True)))),
                                ("input_type", a.get("input_type", "text")),
                                ("default_value", a.get("default_value") or ""),
                                ("values", "\n".join(str(v) for v in a.get("values") or ())),
                            ],
                        )
                        for a in label.get("attributes", ())
                    ],
                ),
            ],
        )
        for label in labels
    ]

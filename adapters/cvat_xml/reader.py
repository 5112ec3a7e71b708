"""CVAT 1.1 XML read element by element, hardened: what a file from anywhere can hold is refused
before it costs memory or reads anything else.

defusedxml over expat, streamed, bounded in bytes and objects; docs/importing.md gives the limits.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from typing import IO, Any

import attrs
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, iterparse

from annoflow.adapters.cvat_xml.writer import CUBOID_POINTS
from annoflow.domain.errors import AnnoflowError

logger = logging.getLogger(__name__)
MAX_BYTES = 1 << 30  # 1 GiB: a CVAT export of a million boxes is about 150 MB
MAX_OBJECTS = 10_000  # per image, as load_annotations()'s max_objects_per_frame
_CHUNK = 1 << 16
_SHAPES = {
    "box": "rectangle",
    "polygon": "polygon",
    "polyline": "polyline",
    "points": "points",
    "mask": "mask",
    "ellipse": "ellipse",
    "cuboid": "cuboid",
    "skeleton": "skeleton",
}


class CvatXmlError(AnnoflowError, ValueError):
    """A CVAT XML file that cannot be read, or is refused: the message names the file and the problem."""


@attrs.frozen
class XmlTask:
    task_id: int | None
    name: str
    mode: str  # "annotation" (images) or "interpolation" (video)
    size: int
    start_frame: int
    stop_frame: int
    original_size: tuple[int, int] | None  # a video's (width, height)
    source: str = ""  # a video's file name
    frame_filter: str = ""  # "step=N" when the task takes every N-th frame

    @property
    def step(self) -> int:
        kind, _, value = self.frame_filter.partition("=")
        return int(value) if kind.strip() == "step" and value.strip().isdigit() and int(value) > 0 else 1


@attrs.frozen
class XmlMeta:
    labels: tuple[dict[str, Any], ...]
    tasks: tuple[XmlTask, ...]

    @property
    def mode(self) -> str:
        return self.tasks[0].mode if self.tasks else "annotation"


@attrs.frozen
class XmlImage:
    image_id: int
    name: str
    width: int
    height: int
    shapes: tuple[dict[str, Any], ...]
    tags: tuple[dict[str, Any], ...]
    task_id: int | None = None


@attrs.frozen
class XmlTrack:
    track_id: int
    label: str
    shapes: tuple[dict[str, Any], ...]  # each with frame, keyframe and outside
    group: int = 0
    source: str = "manual"
    task_id: int | None = None


class _Bounded:
    """A binary file read at most ``limit`` bytes far: past it, the read is refused."""

    def __init__(self, file: IO[bytes], limit: int, name: str) -> None:
        self.file, self.limit, self.name, self.read_so_far = file, limit, name, 0

    def read(self, size: int | None = -1) -> bytes:  # None: as much as there is, as a file's read() takes it
        data = self.file.read(_CHUNK if size is None or size < 0 else min(size, _CHUNK))
        self.read_so_far += len(data)
        if self.read_so_far > self.limit:
            raise CvatXmlError(
                f"{self.name}: more than {self.limit:,} bytes: refused (pass max_bytes= to read a larger file)"
            )
        return data


def _text(element: Any, path: str, default: str = "") -> str:
    found = element.find(path)
    return default if found is None or found.text is None else found.text


def _int(value: str | None, what: str, default: int | None = None) -> int:
    if value is None or value == "":
        if default is None:
            raise CvatXmlError(f"{what} is missing")
        return default
    try:
        return int(value)
    except ValueError:
        raise CvatXmlError(f"{what} is not an integer: {value[:40]!r}") from None


def _float(value: str | None, what: str) -> float:
    if value is None:
        raise CvatXmlError(f"{what} is missing")
    try:
        return float(value)
    except ValueError:
        raise CvatXmlError(f"{what} is not a number: {value[:40]!r}") from None


def _labels(parent: Any) -> tuple[dict[str, Any], ...]:
    labels = []
    for label in parent.iterfind("labels/label"):
        attributes = []
        for attribute in label.iterfind("attributes/attribute"):
            values = _text(attribute, "values")
            attributes.append(
                {
                    "name": _text(attribute, "name"),
                    "input_type": _text(attribute, "input_type", "text"),
                    "mutable": _text(attribute, "mutable", "True").lower() == "true",
                    "default_value": _text(attribute, "default_value"),
                    "values": values.split("\n") if values else [],
                }
            )
        labels.append(
            {"name": _text(label, "name"), "type": _text(label, "type", "any") or "any", "attributes": attributes}
        )
    return tuple(labels)


def _task(task: Any) -> XmlTask:
    size = task.find("original_size")
    return XmlTask(
        task_id=_int(_text(task, "id"), "meta: a task's id", 0) or None,
        name=_text(task, "name"),
        mode=_text(task, "mode", "annotation"),
        size=_int(_text(task, "size"), "meta: a task's size", 0),
        start_frame=_int(_text(task, "start_frame"), "meta: start_frame", 0),
        stop_frame=_int(_text(task, "stop_frame"), "meta: stop_frame", 0),
        original_size=None
        if size is None
        else (
            _int(_text(size, "width"), "meta: original_size/width"),
            _int(_text(size, "height"), "meta: original_size/height"),
        ),
        source=_text(task, "source"),
        frame_filter=_text(task, "frame_filter"),
    )


def _meta(meta: Any) -> XmlMeta:
    project = meta.find("project")
    if project is not None:
        return XmlMeta(_labels(project), tuple(_task(t) for t in project.iterfind("tasks/task")))
    task = meta.find("task")
    if task is None:
        return XmlMeta((), ())
    return XmlMeta(_labels(task), (_task(task),))


def _points(element: Any, kind: str, where: str) -> list[float]:
    a = element.attrib
    if kind == "rectangle":
        return [_float(a.get(k), f"{where}: {k}") for k in ("xtl", "ytl", "xbr", "ybr")]
    if kind == "ellipse":
        cx, cy = _float(a.get("cx"), f"{where}: cx"), _float(a.get("cy"), f"{where}: cy")
        return [cx, cy, cx + _float(a.get("rx"), f"{where}: rx"), cy - _float(a.get("ry"), f"{where}: ry")]
    if kind == "cuboid":
        return [_float(a.get(k), f"{where}: {k}") for k in CUBOID_POINTS]
    if kind == "mask":
        runs = [_int(v.strip(), f"{where}: rle") for v in (a.get("rle") or "").split(",") if v.strip()]
        left, top = _int(a.get("left"), f"{where}: left"), _int(a.get("top"), f"{where}: top")
        width, height = _int(a.get("width"), f"{where}: width"), _int(a.get("height"), f"{where}: height")
        return [*runs, left, top, left + width - 1, top + height - 1]
    if kind == "skeleton":
        return []
    text = a.get("points")
    if text is None:
        raise CvatXmlError(f"{where}: points is missing")
    out: list[float] = []
    for pair in text.split(";"):
        coordinates = pair.split(",")
        if len(coordinates) != 2:
            raise CvatXmlError(f"{where}: points is not 'x,y;x,y;...': {text[:40]!r}")
        out += [_float(c, f"{where}: points") for c in coordinates]
    return out


def _attributes(element: Any) -> list[tuple[str, str]]:
    return [(child.get("name") or "", child.text or "") for child in element if child.tag == "attribute"]


def _shape(element: Any, where: str, in_track: bool) -> dict[str, Any]:
    kind = _SHAPES[element.tag]
    a = element.attrib
    shape: dict[str, Any] = {
        "type": kind,
        "points": _points(element, kind, where),
        "occluded": a.get("occluded", "0") == "1",
        "z_order": _int(a.get("z_order"), f"{where}: z_order", 0),
        "rotation": _float(a.get("rotation", "0"), f"{where}: rotation"),
        "attributes": _attributes(element),
    }
    if in_track:
        shape.update(
            frame=_int(a.get("frame"), f"{where}: frame"),
            keyframe=a.get("keyframe", "1") == "1",
            outside=a.get("outside", "0") == "1",
        )
    else:
        label = a.get("label")
        if label is None:
            raise CvatXmlError(f"{where}: label is missing")
        shape.update(
            label=label, group=_int(a.get("group_id"), f"{where}: group_id", 0), source=a.get("source") or "file"
        )
    return shape


def _image(element: Any, name: str) -> XmlImage:
    a = element.attrib
    where = f"{name}: image {a.get('name', a.get('id', '?'))!r}"
    shapes, tags = [], []
    for child in element:
        if child.tag in _SHAPES:
            shapes.append(_shape(child, f"{where}: <{child.tag}>", in_track=False))
        elif child.tag == "tag":
            label = child.get("label")
            if label is None:
                raise CvatXmlError(f"{where}: <tag>: label is missing")
            tags.append(
                {
                    "label": label,
                    "group": _int(child.get("group_id"), f"{where}: <tag>: group_id", 0),
                    "source": child.get("source") or "file",
                    "attributes": _attributes(child),
                }
            )
    return XmlImage(
        _int(a.get("id"), f"{where}: id"),
        a.get("name") or "",
        _int(a.get("width"), f"{where}: width"),
        _int(a.get("height"), f"{where}: height"),
        tuple(shapes),
        tuple(tags),
        _int(a.get("task_id"), f"{where}: task_id", 0) or None,
    )


def _track(element: Any, name: str) -> XmlTrack:
    a = element.attrib
    where = f"{name}: track {a.get('id', '?')}"
    label = a.get("label")
    if label is None:
        raise CvatXmlError(f"{where}: label is missing")
    shapes = [_shape(child, f"{where}: <{child.tag}>", in_track=True) for child in element if child.tag in _SHAPES]
    return XmlTrack(
        _int(a.get("id"), f"{where}: id"),
        label,
        tuple(shapes),
        _int(a.get("group_id"), f"{where}: group_id", 0),
        a.get("source") or "file",
        _int(a.get("task_id"), f"{where}: task_id", 0) or None,
    )


def read_cvat_xml(
    path: str | os.PathLike[str], *, max_bytes: int = MAX_BYTES, max_objects: int = MAX_OBJECTS
) -> Iterator[XmlMeta | XmlImage | XmlTrack]:
    """The document's `XmlMeta`, then each `XmlImage` or `XmlTrack` as the file holds them."""
    name = os.fspath(path)
    try:
        size = os.stat(name).st_size
    except OSError as error:
        raise CvatXmlError(f"{name}: cannot be read: {error.strerror}") from None
    if size > max_bytes:
        raise CvatXmlError(
            f"{name}: {size:,} bytes, more than {max_bytes:,}: refused before reading "
            "(pass max_bytes= to read a larger file)"
        )
    logger.debug("%s: reading %d bytes", name, size)
    with open(name, "rb") as file:
        yield from _parse(_Bounded(file, max_bytes, name), name, max_objects)


def _parse(source: _Bounded, name: str, max_objects: int) -> Iterator[XmlMeta | XmlImage | XmlTrack]:
    depth = 0
    root = None
    top: Any = None  # the <image>, <track> or <meta> being read
    meta_seen = False
    counted = 0  # objects of the image, or keyframes of the track, being read
    events = iterparse(source, events=("start", "end"), forbid_dtd=True, forbid_entities=True, forbid_external=True)
    try:
        for event, element in events:
            if event == "start":
                depth += 1
                if depth == 1:
                    if element.tag != "annotations":
                        raise CvatXmlError(
                            f"{name}: not a CVAT XML file (its root is <{element.tag}>, not <annotations>)"
                        )
                    root = element
                elif depth == 2:
                    top, counted = element, 0
                elif depth == 3 and top.tag != "track":
                    counted = _count(counted, max_objects, name, top.tag)
                continue
            depth -= 1
            if depth == 2 and top.tag == "track" and element.tag in _SHAPES:
                # a track's shapes, as CVAT exports them, are every frame it covers; only keyframes are read
                # (as CVAT reads its own files), so the frames between are dropped as they end
                if element.get("keyframe", "1") != "1":
                    top.remove(element)
                else:
                    counted = _count(counted, max_objects, name, "track")
                continue
            if depth != 1:
                continue
            if element.tag == "meta":
                meta_seen = True
                yield _meta(element)
            elif element.tag in ("image", "track"):
                if not meta_seen:
                    meta_seen = True
                    yield XmlMeta((), ())
                yield _image(element, name) if element.tag == "image" else _track(element, name)
            assert root is not None
            root.clear()  # the element handed out is dropped: memory follows one image or track
        if not meta_seen:
            yield XmlMeta((), ())
    except DefusedXmlException as error:
        raise CvatXmlError(f"{name}: refused: {_why(error)}") from None
    except ParseError as error:
        raise CvatXmlError(f"{name}: not well-formed XML: {error}") from None


def _count(counted: int, most: int, name: str, tag: str) -> int:
    counted += 1
    if counted > most:
        what = "keyframes" if tag == "track" else "objects"
        raise CvatXmlError(f"{name}: a <{tag}> holds more than {most:,} {what}: refused (pass max_objects= to read it)")
    return counted


def _why(error: DefusedXmlException) -> str:
    kind = type(error).__name__
    if kind == "DTDForbidden":
        return (
            "it has a DTD (<!DOCTYPE ...>), which CVAT's files never have: a DTD declares entities, which can "
            "expand without bound (billion laughs) or read other files (external entities)"
        )
    if kind == "EntitiesForbidden":
        return (
            f"it declares an XML entity ({getattr(error, 'name', '?')}): entities can expand without bound "
            "(billion laughs) or read other files"
        )
    if kind == "ExternalReferenceForbidden":
        return f"it refers to an external resource ({getattr(error, 'sysid', '?')}), which is never read"
    return f"{kind}: {error}"

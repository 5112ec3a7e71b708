"""CVAT tags and shapes back into annoflow labels, each with its provenance.

docs/cvat-format.md ("Tags and shapes back into labels") gives the exactness rules and what is checked here.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any, TypedDict

import attrs
import numpy as np

from annoflow.adapters.cvat_format import rle
from annoflow.adapters.cvat_format.answer import Refused
from annoflow.adapters.cvat_format.paint import PAINTED_TYPES, paint
from annoflow.adapters.cvat_format.schema import LABEL_ID, SCALAR_VALUE, ServerLabels, object_type
from annoflow.adapters.cvat_format.upload import Uploader
from annoflow.domain.fields import FRAMES_PREFIX
from annoflow.domain.ids import is_id, new_id
from annoflow.domain.label_schema import AttributeSpec, FieldSchema, LabelSchema
from annoflow.domain.label_values import label_from_values, label_values
from annoflow.domain.labels import (
    LIST_OF_ELEMENT,
    Classification,
    Detection,
    Keypoint,
    Label,
    Polyline,
    Scalar,
    Segmentation,
)
from annoflow.domain.merge import ImportedValue, scalar_as
from annoflow.domain.run_records import TaskRecord


@attrs.frozen
class Imported:
    """One label (or scalar value) read back from CVAT, and where it came from."""

    field: str
    frame: int  # the task frame it is on
    value: Label | Scalar  # a scalar field's value is CVAT's text (None when the tag holds none)
    label_id: str | None  # the label_id attribute CVAT returned, if any
    cvat_type: str  # "tag", "shape" or "track"
    cvat_ids: tuple[int, ...]
    cvat_points: tuple[tuple[float, ...], ...] = ()  # as CVAT returned them, one entry per CVAT object
    # a track's interpolated frame: the task frames of the keyframes it comes from (None past the last)
    between: tuple[int, int | None] | None = None


Size = tuple[int, int]  # (width, height) of a task frame, from data/meta


class UnreadableError(ValueError):
    """An object that cannot become a label: what is wrong with it."""


def size_of(sizes: Sequence[Size | None], frame: int) -> Size:
    """A task frame's (width, height); a video's data/meta may list its first frame only."""
    size = sizes[frame] if frame < len(sizes) else sizes[0]
    if size is None:
        raise UnreadableError(f"data/meta gives frame {frame} no usable size (a positive width and height)")
    return size


@attrs.frozen
class Unexpected:
    """A CVAT object whose label the run's schema does not know."""

    frame: int
    cvat_type: str
    cvat_id: int
    body: Mapping[str, Any]


def typed_value(spec: AttributeSpec, text: str) -> Scalar:
    """An attribute's CVAT string as the value the schema describes."""
    if spec.type == "checkbox":
        return text.lower() == "true"
    for value in spec.values:
        if (("true" if value else "false") if isinstance(value, bool) else str(value)) == text or str(value) == text:
            return value
    if spec.value_type is not None and text != "":
        return _as_type(text, spec.value_type)
    return text


def _as_type(text: str, value_type: str) -> Scalar:
    """A text attribute's value in the type the existing labels' values hold; the text when it is not one."""
    try:
        return scalar_as(value_type, text)
    except ValueError:
        return text


class _LabelKeywords(TypedDict):
    """What every label `Downloader` makes of a CVAT object is given."""

    label: str
    attributes: dict[str, Scalar]
    id: str


class _TrackKeywords(TypedDict, total=False):
    """What a label made of a track's frame is given besides (none for a shape or a tag)."""

    index: int
    keyframe: bool


class Downloader:
    def __init__(self, schema: LabelSchema, labels: ServerLabels) -> None:
        self.schema = schema
        self.labels = labels
        self.names = {spec: name for (_, name), spec in labels.spec_ids.items()}
        self.painted = 0  # boxes and polygons of mask targets' classes painted into segmentations

    def _field(self, name: str) -> FieldSchema:
        return self.schema.field(name)

    def attributes_of(
        self, obj: Mapping[str, Any], field: FieldSchema, class_name: str
    ) -> tuple[dict[str, Scalar], str | None]:
        """An object's attribute values as the label of ``class_name`` in ``field`` reads them, and its label_id."""
        return self._attributes(obj, field, class_name)

    def _attributes(
        self, obj: Mapping[str, Any], field: FieldSchema, class_name: str
    ) -> tuple[dict[str, Scalar], str | None]:
        specs = {s.name: s for s in field.attributes_for(class_name)}
        values: dict[str, Scalar] = {}
        label_id = None
        for item in obj.get("attributes", []):
            name = self.names.get(item["spec_id"])
            if name == LABEL_ID:
                label_id = item["value"] if is_id(item["value"]) else None  # text typed over it is no provenance
            elif name in specs:
                values[name] = typed_value(specs[name], item["value"])
        if field.occluded_attribute is not None and "occluded" in obj:
            values[field.occluded_attribute.name] = bool(obj["occluded"])
        if field.group_id_attribute is not None and "group" in obj:
            # group 0 is CVAT's "no group": a label taken out of its group loses its group id
            values[field.group_id_attribute.name] = (
                int(obj["group"] or 0) or None
            )  # CVAT sends null for an object drawn in no group
        return values, label_id

    def read(
        self, data: Mapping[str, Any], sizes: Sequence[Size | None]
    ) -> tuple[list[Imported], list[Unexpected], list[Refused]]:
        """Every tag and shape of a task's annotations (checked for form), and those that cannot be
        read; ``sizes`` are (width, height) per task frame, None where data/meta gives none."""
        found: list[Imported] = []
        unexpected: list[Unexpected] = []
        refused: list[Refused] = []
        parts: dict[tuple[str, int, str], list[tuple[Mapping[str, Any], Polyline]]] = defaultdict(list)
        semantic: dict[tuple[str, int], list[Mapping[str, Any]]] = defaultdict(list)
        painting: dict[tuple[str, int], list[Mapping[str, Any]]] = defaultdict(list)
        broken: set[tuple[str, int, str | None]] = set()  # labels with a part refused: not read at all
        # "tracked": a track's shapes, one per frame it covers (`tracks.expand_tracks`)
        for kind, cvat_type in (("tags", "tag"), ("shapes", "shape"), ("tracked", "track")):
            for obj in data.get(kind, []):
                cls = self.labels.class_of(obj["label_id"], object_type(obj, kind))
                if cls is None:
                    unexpected.append(Unexpected(obj["frame"], cvat_type, obj["id"], obj))
                    continue
                field = self._field(cls.field)
                if field.label_type == "segmentation":
                    if cvat_type == "shape" and obj.get("type") == "mask":
                        semantic[(field.path, obj["frame"])].append(obj)
                    elif cvat_type == "shape" and obj.get("type") in PAINTED_TYPES:
                        painting[(field.path, obj["frame"])].append(obj)  # painted over the frame's masks
                    else:  # a tag, or a line or points, of a mask target's class paints nothing: a stray
                        unexpected.append(Unexpected(obj["frame"], cvat_type, obj["id"], obj))
                    continue
                try:
                    made = self._convert(obj, cvat_type, field, cls.class_name, sizes)
                except (ValueError, TypeError) as error:  # UnreadableError, or a label's validator refusing a value
                    refused.append(self.refusal(obj, kind, error))
                    if field.label_type in ("polylines", "polygons"):
                        broken.add((field.path, obj["frame"], self._attributes(obj, field, cls.class_name)[1]))
                    continue
                if made is None:
                    unexpected.append(Unexpected(obj["frame"], cvat_type, obj["id"], obj))
                elif isinstance(made.value, Polyline) and made.label_id:
                    parts[(field.path, obj["frame"], made.label_id)].append((obj, made.value))
                else:
                    found.append(made)
        for (path, frame, label_id), pieces in parts.items():
            if (path, frame, label_id) in broken:
                continue
            first = pieces[0][1]
            joined = first.replace(points=tuple(p for _, line in pieces for p in line.points))
            found.append(
                Imported(
                    path,
                    frame,
                    joined,
                    label_id,
                    "shape",
                    tuple(o["id"] for o, _ in pieces),
                    tuple(tuple(o["points"]) for o, _ in pieces),
                )
            )
        for path, frame in dict.fromkeys([*semantic, *painting]):
            made_or_refused = self._segmentation(
                self._field(path), frame, semantic.get((path, frame), ()), sizes, painting.get((path, frame), ())
            )
            if isinstance(made_or_refused, Imported):
                found.append(made_or_refused)
            else:
                refused.append(made_or_refused)
        return found, unexpected, refused

    def refusal(self, obj: Mapping[str, Any], kind: str, error: Exception) -> Refused:
        """An object that could not be converted, with the provenance it carries."""
        label_ids = [
            item["value"]
            for item in obj.get("attributes", [])
            if self.names.get(item["spec_id"]) == LABEL_ID and is_id(item["value"])
        ]
        return Refused(kind, obj["frame"], str(error), obj["id"], obj["label_id"], tuple(label_ids[:1]))

    def _convert(
        self, obj: Mapping[str, Any], cvat_type: str, field: FieldSchema, class_name: str, sizes: Sequence[Size | None]
    ) -> Imported | None:
        frame = obj["frame"]
        if field.label_type == "scalar":
            if cvat_type != "tag":
                return None  # a scalar's value comes from a tag, not from a shape drawn with its class
            if field.classes:
                return Imported(field.path, frame, class_name, None, cvat_type, (obj["id"],))
            value = next(
                (a["value"] for a in obj.get("attributes", []) if self.names.get(a["spec_id"]) == SCALAR_VALUE), None
            )
            return Imported(field.path, frame, value or None, None, cvat_type, (obj["id"],))
        attributes, label_id = self._attributes(obj, field, class_name)
        common: _LabelKeywords = {"label": class_name, "attributes": attributes, "id": label_id or new_id()}
        # a frame of a track: the track's index, keyframe or interpolated (given to the shape's label as
        # it is made: a label per frame of every track comes through here)
        tracked: _TrackKeywords = {"index": obj["index"], "keyframe": obj["keyframe"]} if cvat_type == "track" else {}
        shape_type = obj.get("type")
        points = obj.get("points", [])
        if cvat_type == "tag":
            if field.label_type not in ("classification", "classifications"):
                return None
            label: Label = Classification(**common)
        elif shape_type == "rectangle" and field.label_type in ("detections", "instances"):
            width, height = size_of(sizes, frame)
            label = Detection(bounding_box=_rectangle(points, width, height), **common, **tracked)
        elif shape_type == "mask" and field.label_type in ("detections", "instances"):
            width, height = size_of(sizes, frame)
            mask, left, top = rle.decode(points, width, height)
            h, w = mask.shape
            label = Detection(bounding_box=_box(left, top, w, h, width, height), mask=mask, **common, **tracked)
        elif shape_type in ("polygon", "polyline") and field.label_type in ("polylines", "polygons"):
            width, height = size_of(sizes, frame)
            closed = shape_type == "polygon"
            label = Polyline(
                points=[[(x / width, y / height) for x, y in zip(points[0::2], points[1::2], strict=True)]],
                closed=closed,
                filled=closed,
                **common,
                **tracked,
            )
        elif shape_type == "points" and field.label_type == "keypoints":
            width, height = size_of(sizes, frame)
            label = Keypoint(
                points=[(x / width, y / height) for x, y in zip(points[0::2], points[1::2], strict=True)],
                **common,
                **tracked,
            )
        else:
            return None
        return Imported(
            field.path,
            frame,
            label,
            label_id,
            cvat_type,
            (obj["id"],),
            (tuple(points),) if points else (),
            obj.get("between") if cvat_type == "track" else None,
        )

    def _segmentation(
        self,
        field: FieldSchema,
        frame: int,
        objects: Sequence[Mapping[str, Any]],
        sizes: Sequence[Size | None],
        painting: Sequence[Mapping[str, Any]] = (),
    ) -> Imported | Refused:
        """One frame's mask shapes as one segmentation, with the boxes and polygons drawn with its
        classes painted over them (see paint.py), or the part that cannot be read (the whole
        segmentation is then not read: a missing part would erase its pixels)."""
        values = {name: value for value, name in field.mask_targets}
        dtype = np.uint8 if max(values.values(), default=0) < 256 else np.uint16
        label_id = None
        decoded = []
        for obj in objects:
            cls = self.labels.classes_by_id[obj["label_id"]]
            try:
                width, height = size_of(sizes, frame)
                decoded.append((values[cls.class_name], *rle.decode(obj["points"], width, height)))
            except ValueError as error:
                return self.refusal(obj, "shapes", error)
            _, label_id = self._attributes(obj, field, cls.class_name)
        try:
            width, height = size_of(sizes, frame)
        except ValueError as error:
            return self.refusal([*objects, *painting][0], "shapes", error)
        mask = np.zeros((height, width), dtype)
        for value, pixels, left, top in decoded:
            mask[top : top + pixels.shape[0], left : left + pixels.shape[1]][pixels[: height - top, : width - left]] = (
                value
            )
        for obj in sorted(painting, key=lambda o: (o.get("z_order", 0), o["id"])):  # as CVAT stacks them
            paint(mask, obj["type"], obj["points"], values[self.labels.classes_by_id[obj["label_id"]].class_name])
            self.painted += 1
        segmentation = Segmentation(mask=mask, id=label_id or new_id())
        return Imported(
            field.path, frame, segmentation, label_id, "shape", tuple(o["id"] for o in [*objects, *painting])
        )


def _rectangle(points: Sequence[float], width: int, height: int) -> tuple[float, float, float, float]:
    """A rectangle's relative box, clipped to its frame; one that lies wholly outside it is UnreadableError."""
    x1, y1, x2, y2 = points
    if x1 > width or y1 > height or x2 < 0 or y2 < 0:
        raise UnreadableError(f"the rectangle {list(points)} lies outside the {width}x{height} frame")
    return _box(x1, y1, x2 - x1, y2 - y1, width, height)


def _box(x: float, y: float, w: float, h: float, width: int, height: int) -> tuple[float, float, float, float]:
    bx, by = max(x / width, 0.0), max(y / height, 0.0)
    return (bx, by, min(w / width, 1.0 - bx), min(h / height, 1.0 - by))


def imported_values(found: Sequence[Imported], task: TaskRecord) -> list[ImportedValue]:
    """The scalar fields' values among what was read, on the samples their task frames show (and, for a
    frame field, on the video frame)."""
    values = []
    for item in found:
        if isinstance(item.value, Label):
            continue
        if not 0 <= item.frame < len(task.frames):
            raise ValueError(
                f"CVAT task {task.task_id} holds a value of field {item.field!r} on frame {item.frame}, "
                f"but the task has {len(task.frames)} frame(s)"
            )
        ref = task.frames[item.frame]
        frame = ref.frame if item.field.startswith(FRAMES_PREFIX) else None
        values.append(ImportedValue(item.field, ref.sample_id, item.value, item.cvat_ids[0], frame))
    return values


def with_missing_points(original: Keypoint, downloaded: Keypoint) -> Keypoint:
    """The downloaded keypoint with NaN back at the original's missing indices, when CVAT returned as
    many points as were uploaded (the present ones, in order); otherwise CVAT's points as they are."""
    missing = [math.isnan(x) for x, _ in original.points]
    if not any(missing) or len(downloaded.points) != missing.count(False):
        return downloaded
    present = iter(downloaded.points)
    return attrs.evolve(downloaded, points=[(math.nan, math.nan) if gone else next(present) for gone in missing])


def _like(text: Scalar, before: Scalar) -> Scalar:
    """A text attribute's value back in the type the label had (CVAT keeps every value as a string)."""
    if not isinstance(text, str) or isinstance(before, str) or before is None:
        return text
    try:
        if isinstance(before, bool):
            return {"true": True, "false": False}.get(text.lower(), text)
        if isinstance(before, int):
            return int(text)
        if isinstance(before, float):
            return float(text)
    except ValueError:
        pass
    return text


def retyped_like(values: Mapping[str, Scalar], before: Mapping[str, Scalar]) -> dict[str, Scalar]:
    """Attribute values read back, each text value in the type the original label held (`keep_unmoved`)."""
    return {k: _like(v, before.get(k)) for k, v in values.items()}


def keep_unmoved(
    original: Label, imported: Imported, uploader: Uploader, width: int, height: int, *, same: bool | None = None
) -> Label:
    """The downloaded label with the original's coordinates when CVAT returned exactly what the
    original uploads as (relative -> pixels -> relative may not give back the same doubles), with
    its attribute values in the types the original had, and with a keypoint's missing points back
    where they were (`with_missing_points`). ``same``: `uploads_as`' answer, when the caller has it."""
    downloaded = imported.value
    assert isinstance(downloaded, Label)
    if isinstance(original, Keypoint) and isinstance(downloaded, Keypoint):
        downloaded = with_missing_points(original, downloaded)
    changes: dict[str, Any] = {}
    if hasattr(downloaded, "attributes") and hasattr(original, "attributes"):
        retyped = retyped_like(downloaded.attributes, original.attributes)
        # one new label at most (a label per frame of every track comes through here): none when
        # every value kept its type and the geometry is CVAT's
        if any(value is not downloaded.attributes[k] for k, value in retyped.items()):
            changes["attributes"] = retyped
    if same is None:
        same = uploads_as(original, imported, uploader, width, height)
    if not same:
        return downloaded.replace(**changes) if changes else downloaded
    if changes:
        return downloaded.replace(**changes, **_geometry(original))
    return with_geometry_of(original, downloaded)


def uploads_as(original: Label, imported: Imported, uploader: Uploader, width: int, height: int) -> bool:
    """CVAT returned exactly the points ``original`` uploads as."""
    field = uploader.field
    if type(original) is Detection and (
        original.mask is None or not original.mask.size or field.label_type != "instances"
    ):
        # a box without a mask: the rectangle `Uploader.objects` sends, worked out without sending it
        if uploader.labels.label_ids.get((field.path, original.label)) is None:
            sent: tuple[tuple[float, ...], ...] = ()  # a class outside the run's schema is not sent
        else:
            x, y, w, h = original.bounding_box
            sent = ((x * width, y * height, (x + w) * width, (y + h) * height),)
        return sent == imported.cvat_points
    sent = tuple(
        tuple(o.body["points"]) for o in uploader.objects(_as_list(original), 0, width, height) if "points" in o.body
    )
    return sent == imported.cvat_points


def _geometry(original: Label) -> dict[str, Any]:
    return {name: getattr(original, name) for name in ("bounding_box", "mask", "points") if hasattr(original, name)}


def with_geometry_of(original: Label, downloaded: Label) -> Label:
    """``downloaded`` with the exact coordinates of ``original``.

    Both labels were validated when they were made, and a box's validators look at nothing but
    itself, so a box without a mask is rebuilt from its values as the stores rebuild theirs
    (`label_from_values`, a fifth of `replace`'s time: a label per frame of every track comes
    through here); tests/cvat_format/test_uploads_as.py checks both give the same label. (A
    keypoint's confidence goes with its points: other labels are validated again.)"""
    geometry = _geometry(original)
    if (
        type(downloaded) is Detection
        and type(original) is Detection
        and original.mask is None
        and downloaded.mask is None
    ):
        values = label_values(downloaded)
        values.update((name, value) for name, value in geometry.items() if name != "mask")
        return label_from_values(downloaded.kind, downloaded.id, values)
    return downloaded.replace(**geometry)


def _as_list(label: Label) -> Any:
    container = LIST_OF_ELEMENT.get(type(label))
    return container().with_items([label]) if container else label


_STRAY_TYPES = {
    "rectangle": "detections",
    "mask": "detections",
    "polygon": "polylines",
    "polyline": "polylines",
    "points": "keypoints",
}


def stray_label(obj: Mapping[str, Any], cvat_type: str, class_name: str, size: Size) -> tuple[str, Label | None]:
    """An object outside the run's schema as the label it looks like, and the field type it fits.
    Raises ValueError (or the label validators' TypeError) for geometry its frame cannot hold."""
    if cvat_type == "tag":
        return "classifications", Classification(label=class_name)
    width, height = size
    kind = obj.get("type")
    points = obj.get("points", [])
    pairs = [(x / width, y / height) for x, y in zip(points[0::2], points[1::2], strict=True)]
    if kind == "rectangle":
        return "detections", Detection(label=class_name, bounding_box=_rectangle(points, width, height))
    if kind == "mask":
        mask, left, top = rle.decode(points, width, height)
        return "detections", Detection(
            label=class_name, bounding_box=_box(left, top, mask.shape[1], mask.shape[0], width, height), mask=mask
        )
    if kind in ("polygon", "polyline"):
        return "polylines", Polyline(
            label=class_name, points=[pairs], closed=kind == "polygon", filled=kind == "polygon"
        )
    if kind == "points":
        return "keypoints", Keypoint(label=class_name, points=pairs)
    return str(kind), None

"""annoflow labels as CVAT tags and shapes, in absolute pixels, carrying their ``label_id``.

Relative coordinates become pixels by multiplying with the frame's width and
height, as FiftyOne does. Polylines with several shapes go up as one CVAT
shape per part; missing keypoints (NaN) are left out of their points shape;
instance masks are resampled to their box's pixel size when they differ from it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import Any, NamedTuple, TypedDict

import numpy as np

from annoflow.adapters.cvat_format import rle
from annoflow.adapters.cvat_format.schema import LABEL_ID, SCALAR_VALUE, ServerLabels, attribute_value
from annoflow.application.ports.label_store import LabelRow
from annoflow.domain.label_schema import AttributeSpec, FieldSchema
from annoflow.domain.labels import (
    Classification,
    Detection,
    FieldValue,
    Keypoint,
    Polyline,
    Segmentation,
    labels_in,
)

_FROM_VALUES = frozenset({"detection", "classification"})  # what most labels are: converted without building them
_NO_ATTRIBUTES: Mapping[str, Any] = MappingProxyType({})
_NAMED = (Classification, Detection, Polyline, Keypoint)
_UNPLANNED: Any = object()


class CvatObject(NamedTuple):
    """One object to upload, and the annoflow label it comes from (None for scalars)."""

    # A named tuple, not an attrs class: one is built per uploaded label, 50,000 for a large task.
    kind: str  # "tags" or "shapes"
    body: dict[str, Any]
    label_id: str | None


class AttributeValue(TypedDict):
    """One attribute of an uploaded object, as CVAT's JSON holds it."""

    spec_id: int
    value: str


def _resize_nearest(mask: np.ndarray, height: int, width: int) -> np.ndarray:
    if mask.shape == (height, width):
        return mask
    rows = (np.arange(height) * mask.shape[0] // max(height, 1)).clip(0, mask.shape[0] - 1)
    cols = (np.arange(width) * mask.shape[1] // max(width, 1)).clip(0, mask.shape[1] - 1)
    return mask[rows[:, None], cols[None, :]]


class Uploader:
    """Builds the CVAT objects of one field on one frame."""

    def __init__(self, field: FieldSchema, labels: ServerLabels) -> None:
        self.field = field
        self.labels = labels
        self.occluded = field.occluded_attribute
        self.group = field.group_id_attribute
        self._plans: dict[int, tuple[int | None, list[tuple[str, int, AttributeSpec]]]] = {}
        self._class_plans: dict[str, tuple[int, int | None, list[tuple[str, int, AttributeSpec]]] | None] = {}

    def _plan(self, cvat_label: int) -> tuple[int | None, list[tuple[str, int, AttributeSpec]]]:
        """The label_id spec of a CVAT label and its other attributes' (name, spec id, spec), worked out once."""
        plan = self._plans.get(cvat_label)
        if plan is None:
            spec_ids = self.labels.spec_ids
            specs = [
                (spec.name, spec_ids[(cvat_label, spec.name)], spec)
                for spec in self.labels.class_in(self.field.path, cvat_label).attributes
                if (cvat_label, spec.name) in spec_ids
            ]  # an existing project's label may lack some
            plan = self._plans[cvat_label] = (spec_ids.get((cvat_label, LABEL_ID)), specs)
        return plan

    def immutable_specs(self, cvat_label: int) -> set[int]:
        """The spec ids of a CVAT label's immutable attributes (mutable=False): a track's, not its shapes'."""
        _, specs = self._plans.get(cvat_label) or self._plan(cvat_label)
        return {spec_id for _, spec_id, spec in specs if not spec.mutable}

    def _attributes(
        self, cvat_label: int, label_id: str | None, attributes: Mapping[str, Any], scalar: Any = None
    ) -> list[AttributeValue]:
        label_spec, specs = self._plans.get(cvat_label) or self._plan(cvat_label)
        values: list[AttributeValue] = []
        if label_id is not None and label_spec is not None:
            values.append({"spec_id": label_spec, "value": label_id})
        if not specs:
            return values
        for name, spec_id, spec in specs:
            value = scalar if name == SCALAR_VALUE and label_id is None else attributes.get(name)
            if value is not None:  # unset values are not sent
                values.append({"spec_id": spec_id, "value": attribute_value(spec, value)})
        return values

    def _common(
        self, class_name: str | None, label_id: str, attributes: Mapping[str, Any], frame: int
    ) -> dict[str, Any] | None:
        cvat_label = None if class_name is None else self.labels.label_ids.get((self.field.path, class_name))
        if cvat_label is None:
            return None
        group = int(attributes.get(self.group.name) or 0) if self.group else 0
        return {
            "frame": frame,
            "label_id": cvat_label,
            "source": "manual",
            "attributes": self._attributes(cvat_label, label_id, attributes),
            "group": group,
        }

    def _shape(
        self, common: dict[str, Any], attributes: Mapping[str, Any], kind: str, points: list[float]
    ) -> dict[str, Any]:
        occluded = bool(attributes.get(self.occluded.name)) if self.occluded else False
        common.update(type=kind, points=points, occluded=occluded, outside=False, z_order=0, rotation=0.0)
        return common

    def _class_plan(self, class_name: str) -> tuple[int, int | None, list[tuple[str, int, AttributeSpec]]] | None:
        """(CVAT label, its label_id spec, its other attributes' (name, spec id, spec)) of a class of
        this field, worked out once; None for a class outside the run's schema."""
        plan = self._class_plans.get(class_name, _UNPLANNED)
        if plan is _UNPLANNED:
            cvat_label = self.labels.label_ids.get((self.field.path, class_name))
            if cvat_label is None:
                plan = None
            else:
                label_spec, specs = self._plans.get(cvat_label) or self._plan(cvat_label)
                plan = (cvat_label, label_spec, specs)
            self._class_plans[class_name] = plan
        return plan

    def objects_of_rows(self, rows: Iterable[LabelRow], frame: int, width: int, height: int) -> Iterator[CvatObject]:
        """The objects of one frame's labels read as rows (the same as `objects` gives for them):
        boxes without a mask and classifications straight from their values, the rest (and rows
        that carry their label already) as labels."""
        # One body per label, built in one expression: an upload of 50,000 boxes spends most of its
        # conversion here (tests/cvat_format/test_upload_rows.py checks it agrees with `objects`).
        group_name = self.group.name if self.group else None
        occluded_name = self.occluded.name if self.occluded else None
        for row in rows:
            kind = row.kind
            if kind not in _FROM_VALUES or row.mask is not None or row.built is not None:
                yield from self.objects(row.label(), frame, width, height)
                continue
            values = row.values
            class_name = values.get("label")
            plan = None if class_name is None else self._class_plan(class_name)
            if plan is None:
                continue  # a class outside the run's schema is not sent
            cvat_label, label_spec, specs = plan
            label_id = row.label_id
            attributes = values.get("attributes") or _NO_ATTRIBUTES
            sent: list[AttributeValue] = [] if label_spec is None else [{"spec_id": label_spec, "value": label_id}]
            for name, spec_id, spec in specs:
                value = attributes.get(name)
                if value is not None:  # unset values are not sent
                    sent.append({"spec_id": spec_id, "value": attribute_value(spec, value)})
            group = int(attributes.get(group_name) or 0) if group_name else 0
            if kind == "classification":
                body = {"frame": frame, "label_id": cvat_label, "source": "manual", "attributes": sent, "group": group}
                yield CvatObject("tags", body, label_id)
                continue
            x, y, w, h = values["bounding_box"]
            body = {
                "frame": frame,
                "label_id": cvat_label,
                "source": "manual",
                "attributes": sent,
                "group": group,
                "type": "rectangle",
                "points": [x * width, y * height, (x + w) * width, (y + h) * height],
                "occluded": bool(attributes.get(occluded_name)) if occluded_name else False,
                "outside": False,
                "z_order": 0,
                "rotation": 0.0,
            }
            yield CvatObject("shapes", body, label_id)

    def objects(self, value: FieldValue, frame: int, width: int, height: int) -> Iterator[CvatObject]:
        if value is None:
            return
        if self.field.label_type == "scalar":
            yield from self._scalar(value, frame)
            return
        for label in labels_in(value):
            if isinstance(label, Segmentation):
                yield from self._segmentation(label, frame, width, height)
                continue
            assert isinstance(label, _NAMED)  # the other label classes: a class name and attributes each
            common = self._common(getattr(label, "label", None), label.id, label.attributes, frame)
            if common is None:
                continue  # a class outside the run's schema is not sent
            if isinstance(label, Classification):
                yield CvatObject("tags", common, label.id)
            elif isinstance(label, Detection):
                yield from self._detection(common, label, width, height)
            elif isinstance(label, Polyline):
                kind = "polygon" if (label.filled or label.closed) else "polyline"
                for part in label.points:
                    points = [c for x, y in part for c in (x * width, y * height)]
                    if len(part) >= (3 if kind == "polygon" else 2):
                        yield CvatObject("shapes", self._shape(dict(common), label.attributes, kind, points), label.id)
            elif isinstance(label, Keypoint):
                points = [c for x, y in label.points if not math.isnan(x) for c in (x * width, y * height)]
                if points:
                    yield CvatObject("shapes", self._shape(common, label.attributes, "points", points), label.id)

    def _detection(self, common: dict[str, Any], label: Detection, width: int, height: int) -> Iterator[CvatObject]:
        x, y, w, h = label.bounding_box
        # an empty (0 x 0) mask has no pixel to send: its box is all there is
        if self.field.label_type == "instances" and label.mask is not None and label.mask.size:
            left, top = int(round(x * width)), int(round(y * height))  # noqa: RUF046 - numpy 1.x (allowed) rounds a numpy float to a numpy float
            right = max(int(round((x + w) * width)) - 1, left)  # noqa: RUF046 - numpy 1.x (allowed) rounds a numpy float to a numpy float
            bottom = max(int(round((y + h) * height)) - 1, top)  # noqa: RUF046 - numpy 1.x (allowed) rounds a numpy float to a numpy float
            mask = _resize_nearest(label.mask, bottom - top + 1, right - left + 1)
            yield CvatObject(
                "shapes", self._shape(common, label.attributes, "mask", rle.encode(mask, left, top)), label.id
            )
            return
        points = [x * width, y * height, (x + w) * width, (y + h) * height]
        yield CvatObject("shapes", self._shape(common, label.attributes, "rectangle", points), label.id)

    def _segmentation(self, label: Segmentation, frame: int, width: int, height: int) -> Iterator[CvatObject]:
        mask = _resize_nearest(label.mask, height, width)
        for value, name in self.field.mask_targets:
            if value == 0:
                continue
            cvat_label = self.labels.label_ids[(self.field.path, name)]
            pixels = mask == value
            box = rle.tight_box(pixels)
            if box is None:
                continue
            top, bottom, left, right = box
            body = {
                "frame": frame,
                "label_id": cvat_label,
                "source": "manual",
                "group": 0,
                "attributes": self._attributes(
                    cvat_label, label.id, getattr(label, "attributes", None) or _NO_ATTRIBUTES
                ),
            }
            shape = {
                **body,
                "type": "mask",
                "points": rle.encode(pixels[top : bottom + 1, left : right + 1], left, top),
                "occluded": False,
                "outside": False,
                "z_order": 0,
                "rotation": 0.0,
            }
            yield CvatObject("shapes", shape, label.id)

    def _scalar(self, value: Any, frame: int) -> Iterator[CvatObject]:
        if self.field.classes:
            cvat_label = self.labels.label_ids.get((self.field.path, str(value)))
            if cvat_label is None:
                return
            yield CvatObject(
                "tags", {"frame": frame, "label_id": cvat_label, "source": "manual", "group": 0, "attributes": []}, None
            )
        else:
            cvat_label = self.labels.label_ids[(self.field.path, self.field.path)]
            yield CvatObject(
                "tags",
                {
                    "frame": frame,
                    "label_id": cvat_label,
                    "source": "manual",
                    "group": 0,
                    "attributes": self._attributes(cvat_label, None, _NO_ATTRIBUTES, value),
                },
                None,
            )

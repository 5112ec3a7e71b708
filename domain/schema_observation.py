"""What the existing labels of a field look like: classes, attribute values, masks.

The label schema builder infers a field's type, classes and attributes from
these observations. They come from a pass over samples (``observe``) or, when
a label store can aggregate its own rows, from summaries of many labels at
once (``FieldTally.add_summary``): both feed the same tally, so the inference
cannot differ with the store.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from annoflow.domain.fields import FieldPath
from annoflow.domain.labels import Classification, Detection, Keypoint, Polyline, Segmentation, labels_in
from annoflow.domain.samples import Sample


def _tuple(values: Iterable[Any]) -> tuple[Any, ...]:
    """attrs converter: a named function mypy reads, where it cannot read ``converter=tuple``."""
    return tuple(values)


MAX_OBSERVED_VALUES = 1000


@attrs.frozen
class AttributeObservation:
    name: str
    values: tuple[Any, ...] = attrs.field(
        converter=_tuple
    )  # distinct, sorted by type then value; at most MAX_OBSERVED_VALUES
    types: tuple[str, ...] = attrs.field(converter=_tuple)  # python type names seen: bool, int, float, str
    truncated: bool = False


@attrs.frozen
class FieldObservation:
    path: str
    classes: tuple[str, ...] = attrs.field(converter=_tuple)
    attributes: tuple[AttributeObservation, ...] = attrs.field(converter=_tuple)
    label_count: int = 0
    has_masks: bool = False
    all_filled: bool = False
    mask_values: tuple[int, ...] = attrs.field(default=(), converter=_tuple)
    class_counts: tuple[tuple[str, int], ...] = attrs.field(default=(), converter=_tuple)  # (class, labels), by class

    def attribute(self, name: str) -> AttributeObservation | None:
        return next((a for a in self.attributes if a.name == name), None)


@attrs.frozen
class SchemaObservations:
    fields: tuple[FieldObservation, ...] = attrs.field(default=(), converter=_tuple)

    def get(self, path: str) -> FieldObservation | None:
        return next((f for f in self.fields if f.path == path), None)


class FieldTally:
    """Accumulates the observation of one field, label by label or many alike labels at once."""

    def __init__(self) -> None:
        self.classes: set[str] = set()
        self.class_counts: dict[str, int] = {}
        self.values: dict[str, dict[Any, None]] = {}
        self.types: dict[str, set[str]] = {}
        self.truncated: set[str] = set()
        self.count = 0
        self.masks = False
        self.filled = True
        self.mask_values: set[int] = set()

    def add(self, value: Any) -> None:
        """Every label of a field value (a label, a label list, or a scalar, which holds none)."""
        for label in labels_in(value):
            if isinstance(label, Segmentation):
                self.add_segmentation(label.mask.ravel().tolist())
                continue
            assert isinstance(label, (Classification, Detection, Polyline, Keypoint))  # the labels with a class
            self.add_summary(
                label.label,
                label.attributes,
                has_mask=isinstance(label, Detection) and label.mask is not None,
                unfilled=isinstance(label, Polyline) and not label.filled,
            )

    def add_summary(
        self,
        class_name: str | None,
        attributes: Mapping[str, Any],
        *,
        has_mask: bool = False,
        unfilled: bool = False,
        count: int = 1,
    ) -> None:
        """``count`` labels of one class with these attributes (a store's GROUP BY of its rows)."""
        self.count += count
        if class_name is not None:
            self.classes.add(class_name)
            self.class_counts[class_name] = self.class_counts.get(class_name, 0) + count
        self.masks = self.masks or has_mask
        self.filled = self.filled and not unfilled
        for name, item in attributes.items():
            if item is None:
                continue
            self.types.setdefault(name, set()).add(type(item).__name__)
            seen = self.values.setdefault(name, {})
            key = (type(item).__name__, item)  # keeps True apart from 1
            if key in seen:
                continue
            if len(seen) >= MAX_OBSERVED_VALUES:
                self.truncated.add(name)
            else:
                seen[key] = item

    def add_segmentation(self, values: Iterable[int]) -> None:
        """One semantic segmentation, by the pixel values of its mask."""
        self.count += 1
        room = MAX_OBSERVED_VALUES - len(self.mask_values)
        if room > 0:
            for v in sorted(set(values))[:room]:
                self.mask_values.add(int(v))

    def observation(self, path: str) -> FieldObservation:
        return FieldObservation(
            path=path,
            classes=sorted(self.classes),
            attributes=[
                AttributeObservation(
                    name,
                    sorted(self.values[name].values(), key=_order),
                    sorted(self.types[name]),
                    name in self.truncated,
                )
                for name in sorted(self.values)
            ],
            label_count=self.count,
            has_masks=self.masks,
            all_filled=self.filled and self.count > 0,
            mask_values=sorted(self.mask_values),
            class_counts=sorted(self.class_counts.items()),
        )


def classes_left_out(schema: Any, observations: SchemaObservations) -> dict[str, dict[str, int]]:
    """Per field of the run, the existing labels whose class the field's classes leave out (so they
    are not uploaded), counted by class."""
    left = {}
    for field in schema:
        seen = observations.get(field.path)
        if seen is None or not field.classes or field.label_type in ("scalar", "segmentation"):
            continue
        missing = {name: count for name, count in seen.class_counts if name not in field.classes}
        if missing:
            left[field.path] = missing
    return left


def _order(value: Any) -> tuple[str, int, Any]:
    # One order whatever the order of reading (stores aggregate rows in their own order);
    # by type first, since 1 and "1" do not compare, and NaN after every number.
    if isinstance(value, float) and value != value:
        return type(value).__name__, 1, 0.0
    return type(value).__name__, 0, value


def observe(samples: Iterable[Sample], paths: Iterable[str]) -> SchemaObservations:
    """What the existing labels of these fields look like, read from whole samples."""
    paths = list(paths)
    tallies = {path: FieldTally() for path in paths}
    parsed = {path: FieldPath.parse(path) for path in paths}
    for sample in samples:
        for path, field in parsed.items():
            if field.on_frames:
                for frame in sample.frames.values():
                    tallies[path].add(frame.get(field.name))
            else:
                tallies[path].add(sample.fields.get(field.name))
    return SchemaObservations([tallies[p].observation(p) for p in paths])

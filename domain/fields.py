"""What a dataset field holds, and how fields are addressed (``frames.<name>`` for video frames)."""

from __future__ import annotations

import enum

import attrs

from annoflow.domain.labels import (
    Classification,
    Classifications,
    Detections,
    FieldValue,
    Keypoints,
    Label,
    LabelList,
    Polylines,
    Segmentation,
)

FRAMES_PREFIX = "frames."


class FieldKind(enum.Enum):
    """The type of a field's values, as a dataset's field schema reports it."""

    CLASSIFICATION = "classification"
    CLASSIFICATIONS = "classifications"
    DETECTIONS = "detections"
    POLYLINES = "polylines"
    KEYPOINTS = "keypoints"
    SEGMENTATION = "segmentation"
    INT = "int"
    FLOAT = "float"
    STR = "str"
    BOOL = "bool"

    @property
    def is_label(self) -> bool:
        return self in LABEL_KINDS

    @property
    def is_scalar(self) -> bool:
        return not self.is_label

    @property
    def is_list(self) -> bool:
        return self in LIST_KINDS


LABEL_TYPE_OF_KIND: dict[FieldKind, type] = {
    FieldKind.CLASSIFICATION: Classification,
    FieldKind.CLASSIFICATIONS: Classifications,
    FieldKind.DETECTIONS: Detections,
    FieldKind.POLYLINES: Polylines,
    FieldKind.KEYPOINTS: Keypoints,
    FieldKind.SEGMENTATION: Segmentation,
}
LABEL_KINDS = frozenset(LABEL_TYPE_OF_KIND)
LIST_KINDS = frozenset({FieldKind.CLASSIFICATIONS, FieldKind.DETECTIONS, FieldKind.POLYLINES, FieldKind.KEYPOINTS})
_KIND_OF_TYPE = {cls: kind for kind, cls in LABEL_TYPE_OF_KIND.items()}
_SCALAR_KINDS = ((bool, FieldKind.BOOL), (int, FieldKind.INT), (float, FieldKind.FLOAT), (str, FieldKind.STR))


def kind_of(value: FieldValue) -> FieldKind | None:
    """The kind of one value; None for None (a field may be unset on a sample)."""
    if value is None:
        return None
    if isinstance(value, (Label, LabelList)):
        return _KIND_OF_TYPE[type(value)]
    for python_type, kind in _SCALAR_KINDS:  # bool before int: bool is an int subclass
        if isinstance(value, python_type):
            return kind
    raise TypeError(f"a field holds a label or a scalar, got {type(value).__name__}")


@attrs.frozen
class FieldPath:
    """A field of a sample (``ground_truth``) or of every video frame (``frames.detections``)."""

    name: str = attrs.field()
    on_frames: bool = False

    @name.validator
    def _identifier(self, attribute: attrs.Attribute[str], value: object) -> None:
        if not isinstance(value, str) or not value.isidentifier() or value.startswith("_"):
            raise ValueError(f"field name {value!r} must be an identifier not starting with '_'")

    @classmethod
    def parse(cls, path: str) -> FieldPath:
        if not isinstance(path, str):
            raise TypeError(f"a field path is a string, got {type(path).__name__}")
        if path.startswith(FRAMES_PREFIX):
            return cls(path[len(FRAMES_PREFIX) :], on_frames=True)
        return cls(path)

    def __str__(self) -> str:
        return FRAMES_PREFIX + self.name if self.on_frames else self.name

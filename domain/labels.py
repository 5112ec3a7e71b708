"""Labels: immutable value objects with validation, one class per FiftyOne label type.

Coordinates are relative to the media's width and height, as in FiftyOne:
bounding boxes are ``(x, y, w, h)`` with the top-left corner at ``(x, y)``,
points are ``(x, y)``. Every label carries a stable 24-hex ``id`` that survives
every round trip, custom ``attributes`` that hold scalars only, and ``tags`` (a tuple of
strings, FiftyOne's label tags: annoflow's own, never sent to an annotation tool).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias, TypeVar

import attrs
import numpy as np

from annoflow.domain.ids import check_id, new_id

Scalar: TypeAlias = bool | int | float | str | None
Point: TypeAlias = tuple[float, float]

# Names that are label properties, so a custom attribute may not take them.
RESERVED_ATTRIBUTE_NAMES = frozenset(
    {
        "id",
        "label",
        "confidence",
        "bounding_box",
        "mask",
        "index",
        "keyframe",
        "points",
        "closed",
        "filled",
        "attributes",
        "tags",
        "label_id",
    }
)


# --- conversions and validators shared by the label classes -----------------


def _scalar(value: Any) -> Scalar:
    """A plain Python scalar; numpy scalars are unwrapped, anything else refused."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"custom attributes hold scalars only, got {type(value).__name__}")


def _attributes(value: object) -> Mapping[str, Scalar]:
    """A label's custom attributes, from whatever the caller passed: checked here."""
    if value is None:
        return MappingProxyType({})
    if not isinstance(value, Mapping):
        raise TypeError(f"attributes must be a mapping, got {type(value).__name__}")
    out: dict[str, Scalar] = {}
    for name, item in value.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"attribute name {name!r} is not an identifier")
        if name in RESERVED_ATTRIBUTE_NAMES:
            raise ValueError(f"attribute name {name!r} is reserved for a label property")
        try:
            out[name] = _scalar(item)
        except TypeError as exc:
            raise TypeError(f"attribute {name!r}: {exc}") from None
    return MappingProxyType(out)


def label_tags(value: Iterable[Any] | None) -> tuple[str, ...]:
    """A label's tags: strings only, in the order given (a bare string is one mistake away from
    being read as its characters, so it is refused)."""
    if value is None:
        return ()
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise TypeError(f"tags must be a list of strings, got {value!r}")
    tags = tuple(value)
    for tag in tags:
        if not isinstance(tag, str):
            raise TypeError(f"tags hold strings only: a tag is a string, got {tag!r}")
    return tags


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _optional_int(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or int(value) != value:
        raise TypeError(f"expected an integer, got {value!r}")
    return int(value)


def _optional_bool(value: Any) -> bool | None:
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise TypeError(f"expected a bool, got {value!r}")


def _finite_confidence(instance: object, attribute: attrs.Attribute[float | None], value: float | None) -> None:
    if value is not None and not math.isfinite(value):
        raise ValueError(f"{attribute.name} must be finite, got {value!r}")


def _label_name(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not value:
        raise ValueError(f"label must be a non-empty string, got {value!r}")


def _point(value: Iterable[Any]) -> Point:
    x, y = value
    return (float(x), float(y))


def _points(value: Iterable[Iterable[Any]]) -> tuple[Point, ...]:
    return tuple(_point(p) for p in value)


def _shapes(value: Iterable[Iterable[Iterable[Any]]]) -> tuple[tuple[Point, ...], ...]:
    return tuple(_points(shape) for shape in value)


def _float_eq(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def _points_eq(a: tuple[Point, ...], b: tuple[Point, ...]) -> bool:
    """Equality in which a missing keypoint (NaN) equals a missing keypoint."""
    return len(a) == len(b) and all(_float_eq(p[0], q[0]) and _float_eq(p[1], q[1]) for p, q in zip(a, b, strict=True))


def _floats_eq(a: tuple[float, ...] | None, b: tuple[float, ...] | None) -> bool:
    if a is None or b is None:
        return a is b
    return len(a) == len(b) and all(_float_eq(x, y) for x, y in zip(a, b, strict=True))


def _shapes_eq(a: tuple[tuple[Point, ...], ...], b: tuple[tuple[Point, ...], ...]) -> bool:
    return len(a) == len(b) and all(_points_eq(p, q) for p, q in zip(a, b, strict=True))


def _arrays_eq(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    """Bit-exact: same shape, same dtype, same values."""
    if a is None or b is None:
        return a is b
    return a.shape == b.shape and a.dtype == b.dtype and bool(np.array_equal(a, b))


def _frozen_array(array: np.ndarray) -> np.ndarray:
    array = np.array(array, copy=True, order="C")
    array.setflags(write=False)
    return array


def _instance_mask(value: Any) -> np.ndarray | None:
    if value is None:
        return None
    array = np.asarray(value)
    if array.ndim != 2:
        raise ValueError(f"an instance mask must be 2-D, got shape {array.shape}")
    if array.dtype != np.bool_:
        if not np.issubdtype(array.dtype, np.integer) or (array.size and (array.min() < 0 or array.max() > 1)):
            raise ValueError("an instance mask holds booleans (or 0/1 integers)")
        array = array.astype(np.bool_)
    return _frozen_array(array)


def _semantic_mask(value: Any) -> np.ndarray:
    array = np.asarray(value)
    if array.ndim != 2:
        raise ValueError(f"a segmentation mask must be 2-D, got shape {array.shape}")
    if array.dtype == np.bool_:
        array = array.astype(np.uint8)
    if not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"a segmentation mask holds integers, got dtype {array.dtype}")
    return _frozen_array(array)


_EPS = 1e-9


def _bounding_box(value: Iterable[Any]) -> tuple[float, float, float, float]:
    x, y, w, h = (float(v) for v in value)
    return (x, y, w, h)


def _check_box(
    instance: object,
    attribute: attrs.Attribute[tuple[float, float, float, float]],
    box: tuple[float, float, float, float],
) -> None:
    x, y, w, h = box
    if not all(math.isfinite(v) for v in box):
        raise ValueError(f"bounding_box must be finite, got {box}")
    if x < -_EPS or y < -_EPS or w < 0 or h < 0 or x + w > 1 + _EPS or y + h > 1 + _EPS:
        raise ValueError(f"bounding_box [x, y, w, h] must be relative and inside [0, 1], got {list(box)}")


def _check_finite_points(
    instance: object, attribute: attrs.Attribute[tuple[tuple[Point, ...], ...]], shapes: tuple[tuple[Point, ...], ...]
) -> None:
    for shape in shapes:
        for x, y in shape:
            if not (math.isfinite(x) and math.isfinite(y)):
                raise ValueError(f"{attribute.name} must be finite, got {(x, y)}")


def _check_keypoints(
    instance: object, attribute: attrs.Attribute[tuple[Point, ...]], points: tuple[Point, ...]
) -> None:
    for x, y in points:
        # A missing keypoint is NaN in both coordinates; half-missing is a mistake.
        if math.isnan(x) != math.isnan(y) or math.isinf(x) or math.isinf(y):
            raise ValueError(f"a keypoint is (x, y) finite or (nan, nan), got {(x, y)}")


# --- labels -------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Label:
    """Base of every label: an id that survives every round trip."""

    kind: ClassVar[str] = ""
    if TYPE_CHECKING:
        # Every label class has an id field of its own, declared after its other fields (so that is
        # where it stands in each one's repr and order); declared here for type checkers only.
        id: str

    def replace(self, **changes: Any) -> Label:
        return attrs.evolve(self, **changes)


@attrs.frozen(kw_only=True)
class Classification(Label):
    kind: ClassVar[str] = "classification"
    label: str = attrs.field(validator=_label_name)
    confidence: float | None = attrs.field(default=None, converter=_optional_float, validator=_finite_confidence)
    id: str = attrs.field(factory=new_id, validator=check_id)
    attributes: Mapping[str, Scalar] = attrs.field(factory=dict, converter=_attributes, hash=False)
    tags: tuple[str, ...] = attrs.field(factory=tuple, converter=label_tags)


@attrs.frozen(kw_only=True)
class Detection(Label):
    kind: ClassVar[str] = "detection"
    label: str = attrs.field(validator=_label_name)
    bounding_box: tuple[float, float, float, float] = attrs.field(converter=_bounding_box, validator=_check_box)
    mask: np.ndarray | None = attrs.field(
        default=None, converter=_instance_mask, eq=attrs.cmp_using(eq=_arrays_eq), hash=False, repr=False
    )
    confidence: float | None = attrs.field(default=None, converter=_optional_float, validator=_finite_confidence)
    index: int | None = attrs.field(default=None, converter=_optional_int)
    keyframe: bool | None = attrs.field(default=None, converter=_optional_bool)
    id: str = attrs.field(factory=new_id, validator=check_id)
    attributes: Mapping[str, Scalar] = attrs.field(factory=dict, converter=_attributes, hash=False)
    tags: tuple[str, ...] = attrs.field(factory=tuple, converter=label_tags)


@attrs.frozen(kw_only=True)
class Polyline(Label):
    """One label, possibly several shapes (``points`` holds one list per shape)."""

    kind: ClassVar[str] = "polyline"
    label: str = attrs.field(validator=_label_name)
    points: tuple[tuple[Point, ...], ...] = attrs.field(
        converter=_shapes,
        validator=_check_finite_points,
        eq=attrs.cmp_using(eq=_shapes_eq),
        hash=False,
    )
    closed: bool = attrs.field(default=False, converter=bool)
    filled: bool = attrs.field(default=False, converter=bool)
    confidence: float | None = attrs.field(default=None, converter=_optional_float, validator=_finite_confidence)
    index: int | None = attrs.field(default=None, converter=_optional_int)
    keyframe: bool | None = attrs.field(default=None, converter=_optional_bool)
    id: str = attrs.field(factory=new_id, validator=check_id)
    attributes: Mapping[str, Scalar] = attrs.field(factory=dict, converter=_attributes, hash=False)
    tags: tuple[str, ...] = attrs.field(factory=tuple, converter=label_tags)


def _confidences(value: Any) -> tuple[float, ...] | None:
    if value is None:
        return None
    return tuple(float(v) for v in value)


@attrs.frozen(kw_only=True)
class Keypoint(Label):
    """Named points of one object; a missing point is ``(nan, nan)``."""

    kind: ClassVar[str] = "keypoint"
    label: str = attrs.field(validator=_label_name)
    points: tuple[Point, ...] = attrs.field(
        converter=_points, validator=_check_keypoints, eq=attrs.cmp_using(eq=_points_eq), hash=False
    )
    confidence: tuple[float, ...] | None = attrs.field(
        default=None, converter=_confidences, eq=attrs.cmp_using(eq=_floats_eq), hash=False
    )
    index: int | None = attrs.field(default=None, converter=_optional_int)
    keyframe: bool | None = attrs.field(default=None, converter=_optional_bool)
    id: str = attrs.field(factory=new_id, validator=check_id)
    attributes: Mapping[str, Scalar] = attrs.field(factory=dict, converter=_attributes, hash=False)
    tags: tuple[str, ...] = attrs.field(factory=tuple, converter=label_tags)

    @confidence.validator
    def _one_confidence_per_point(
        self, attribute: attrs.Attribute[tuple[float, ...] | None], value: tuple[float, ...] | None
    ) -> None:
        if value is not None and len(value) != len(self.points):
            raise ValueError(
                f"keypoint confidence needs one value per point: {len(value)} for {len(self.points)} points"
            )


@attrs.frozen(kw_only=True)
class Segmentation(Label):
    """A semantic segmentation: a 2-D integer mask whose values mask_targets name."""

    kind: ClassVar[str] = "segmentation"
    mask: np.ndarray = attrs.field(converter=_semantic_mask, eq=attrs.cmp_using(eq=_arrays_eq), hash=False, repr=False)
    id: str = attrs.field(factory=new_id, validator=check_id)
    tags: tuple[str, ...] = attrs.field(factory=tuple, converter=label_tags)


# --- containers: a field's list of labels -------------------------------------


_L = TypeVar("_L", bound=Label)


def _unique_items(cls: type[_L], items: Iterable[object]) -> tuple[_L, ...]:
    """``items`` as a tuple of ``cls`` labels with distinct ids; raises TypeError or ValueError otherwise."""
    checked: list[_L] = []
    for item in items:
        if not isinstance(item, cls):
            raise TypeError(f"expected {cls.__name__} items, got {type(item).__name__}")
        checked.append(item)
    ids = [item.id for item in checked]
    if len(set(ids)) != len(ids):
        raise ValueError(f"duplicate label ids in one {cls.__name__} list")
    return tuple(checked)


def _classifications(items: Iterable[object]) -> tuple[Classification, ...]:
    return _unique_items(Classification, items)


def _detections(items: Iterable[object]) -> tuple[Detection, ...]:
    return _unique_items(Detection, items)


def _polylines(items: Iterable[object]) -> tuple[Polyline, ...]:
    return _unique_items(Polyline, items)


def _keypoints(items: Iterable[object]) -> tuple[Keypoint, ...]:
    return _unique_items(Keypoint, items)


@attrs.frozen
class LabelList:
    """Base of the list labels; ``items`` is the list, whatever FiftyOne calls it."""

    element: ClassVar[type[Label]]
    kind: ClassVar[str] = ""

    @property
    def items(self) -> tuple[Label, ...]:
        items: tuple[Label, ...] = getattr(self, attrs.fields(type(self))[0].name)
        return items

    def with_items(self, items: Iterable[Label]) -> LabelList:
        return attrs.evolve(self, **{attrs.fields(type(self))[0].name: tuple(items)})

    def __len__(self) -> int:
        return len(self.items)


@attrs.frozen
class Classifications(LabelList):
    element: ClassVar[type[Label]] = Classification
    kind: ClassVar[str] = "classifications"
    classifications: tuple[Classification, ...] = attrs.field(factory=tuple, converter=_classifications)

    @property
    def items(self) -> tuple[Classification, ...]:
        return self.classifications


@attrs.frozen
class Detections(LabelList):
    element: ClassVar[type[Label]] = Detection
    kind: ClassVar[str] = "detections"
    detections: tuple[Detection, ...] = attrs.field(factory=tuple, converter=_detections)

    @property
    def items(self) -> tuple[Detection, ...]:
        return self.detections


@attrs.frozen
class Polylines(LabelList):
    element: ClassVar[type[Label]] = Polyline
    kind: ClassVar[str] = "polylines"
    polylines: tuple[Polyline, ...] = attrs.field(factory=tuple, converter=_polylines)

    @property
    def items(self) -> tuple[Polyline, ...]:
        return self.polylines


@attrs.frozen
class Keypoints(LabelList):
    element: ClassVar[type[Label]] = Keypoint
    kind: ClassVar[str] = "keypoints"
    keypoints: tuple[Keypoint, ...] = attrs.field(factory=tuple, converter=_keypoints)

    @property
    def items(self) -> tuple[Keypoint, ...]:
        return self.keypoints


LIST_TYPES: tuple[type[LabelList], ...] = (Classifications, Detections, Polylines, Keypoints)
LIST_OF_ELEMENT: Mapping[type[Label], type[LabelList]] = MappingProxyType({t.element: t for t in LIST_TYPES})

FieldValue: TypeAlias = Label | LabelList | Scalar


def labels_in(value: FieldValue) -> tuple[Label, ...]:
    """The labels a field value holds: its items, itself, or none for scalars."""
    if isinstance(value, LabelList):
        return value.items
    if isinstance(value, Label):
        return (value,)
    return ()

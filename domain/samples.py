"""Samples: one media file (image or video), its metadata and its fields."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import Any

import attrs

from annoflow.domain.fields import FieldPath, kind_of
from annoflow.domain.ids import check_id, new_id
from annoflow.domain.labels import FieldValue, Label, labels_in


def _tuple(values: Iterable[Any]) -> tuple[Any, ...]:
    """attrs converter: a named function mypy reads, where it cannot read ``converter=tuple``."""
    return tuple(values)


# Names a sample holds as properties, so no field may take them.
RESERVED_FIELD_NAMES = frozenset({"id", "filepath", "media_type", "metadata", "frames", "tags"})


class MediaType(enum.Enum):
    IMAGE = "image"
    VIDEO = "video"


def _positive(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value <= 0:
        raise ValueError(f"{attribute.name} must be positive, got {value}")


@attrs.frozen
class ImageMetadata:
    width: int = attrs.field(converter=int, validator=_positive)
    height: int = attrs.field(converter=int, validator=_positive)


@attrs.frozen
class VideoMetadata:
    width: int = attrs.field(converter=int, validator=_positive)
    height: int = attrs.field(converter=int, validator=_positive)
    frame_count: int = attrs.field(converter=int, validator=_positive)
    frame_rate: float = attrs.field(converter=float, validator=_positive)


def _fields(value: Mapping[str, FieldValue] | None) -> Mapping[str, FieldValue]:
    """Field values by name; None means unset, so a field set to None is left out."""
    out: dict[str, FieldValue] = {}
    for name, item in (value or {}).items():
        if item is None:
            continue
        FieldPath(name)  # validates the name
        if name in RESERVED_FIELD_NAMES:
            raise ValueError(f"field name {name!r} is reserved for a sample property")
        kind_of(item)  # validates the value's type
        out[name] = item
    return MappingProxyType(out)


def _frames(value: Mapping[Any, Mapping[str, FieldValue]] | None) -> Mapping[int, Mapping[str, FieldValue]]:
    """Frame fields by 1-based frame number (the keys are checked here, whatever they are); a frame with no
    field set is left out."""
    out: dict[int, Mapping[str, FieldValue]] = {}
    for number, fields in (value or {}).items():
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            raise ValueError(f"frame numbers start at 1, got {number!r}")
        fields = _fields(fields)
        if fields:
            out[number] = fields
    return MappingProxyType(dict(sorted(out.items())))


@attrs.frozen(kw_only=True)
class Sample:
    """A sample; video samples also hold per-frame fields, keyed by 1-based frame number."""

    filepath: str = attrs.field()
    media_type: MediaType = attrs.field(converter=MediaType)
    id: str = attrs.field(factory=new_id, validator=check_id)
    metadata: ImageMetadata | VideoMetadata | None = attrs.field(default=None)
    fields: Mapping[str, FieldValue] = attrs.field(factory=dict, converter=_fields, hash=False)
    frames: Mapping[int, Mapping[str, FieldValue]] = attrs.field(factory=dict, converter=_frames, hash=False)
    tags: tuple[str, ...] = attrs.field(default=(), converter=_tuple)

    @filepath.validator
    def _non_empty(self, attribute: attrs.Attribute[str], value: object) -> None:
        if not isinstance(value, str) or not value:
            raise ValueError(f"filepath must be a non-empty string, got {value!r}")

    @frames.validator
    def _frames_on_video_only(
        self,
        attribute: attrs.Attribute[Mapping[int, Mapping[str, FieldValue]]],
        value: Mapping[int, Mapping[str, FieldValue]],
    ) -> None:
        if value and self.media_type is not MediaType.VIDEO:
            raise ValueError("only video samples have frames")

    @metadata.validator
    def _metadata_matches_media(
        self,
        attribute: attrs.Attribute[ImageMetadata | VideoMetadata | None],
        value: ImageMetadata | VideoMetadata | None,
    ) -> None:
        expected = VideoMetadata if self.media_type is MediaType.VIDEO else ImageMetadata
        if value is not None and not isinstance(value, expected):
            raise TypeError(f"a {self.media_type.value} sample takes {expected.__name__}")

    def get(self, field: str, frame: int | None = None) -> FieldValue:
        """A sample field's value, or a frame field's value at ``frame``; None when unset."""
        path = FieldPath.parse(field)
        if path.on_frames:
            if frame is None:
                raise ValueError(f"{field} is a frame field: give a frame number")
            return self.frames.get(frame, {}).get(path.name)
        return self.fields.get(path.name)

    def media(self, media_field: str = "filepath") -> str:
        """The path of the media to upload: ``filepath`` or an alternate media field."""
        if media_field == "filepath":
            return self.filepath
        value = self.fields.get(media_field)
        if not isinstance(value, str) or not value:
            raise ValueError(f"sample {self.id} has no media path in field {media_field!r}")
        return value

    def with_value(self, field: str, value: FieldValue, frame: int | None = None) -> Sample:
        path = FieldPath.parse(field)
        if not path.on_frames:
            return attrs.evolve(self, fields={**self.fields, path.name: value})
        if frame is None:
            raise ValueError(f"{field} is a frame field: give a frame number")
        frames = dict(self.frames)
        frames[frame] = {**frames.get(frame, {}), path.name: value}
        return attrs.evolve(self, frames=frames)


def field_labels(sample: Sample, field: str) -> Iterator[tuple[int | None, Label]]:
    """(frame number, label) of each label ``field`` holds on ``sample``: on every frame for a frame
    field (``frames.<name>``), with frame None for a sample field."""
    path = FieldPath.parse(field)
    if not path.on_frames:
        for label in labels_in(sample.fields.get(path.name)):
            yield None, label
        return
    for number, fields in sample.frames.items():
        for label in labels_in(fields.get(path.name)):
            yield number, label

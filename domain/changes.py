"""Changes to a dataset's labels, as the merge produces them and a label store applies them.

A change names its sample, its field path (``frames.<name>`` for frame fields,
with the 1-based frame number) and what to do. Label stores apply a batch of
changes atomically.
"""

from __future__ import annotations

from typing import TypeAlias

import attrs

from annoflow.domain.fields import FieldPath
from annoflow.domain.ids import check_id
from annoflow.domain.labels import FieldValue, Label


def _check_frame(
    instance: PutLabel | DeleteLabel | SetValue, attribute: attrs.Attribute[int | None], frame: int | None
) -> None:
    on_frames = FieldPath.parse(instance.field).on_frames
    if on_frames and (frame is None or frame < 1):
        raise ValueError(f"{instance.field} is a frame field: a change needs a frame number >= 1")
    if not on_frames and frame is not None:
        raise ValueError(f"{instance.field} is a sample field: a change takes no frame number")


@attrs.frozen
class PutLabel:
    """Insert a label, or replace the label with the same id; in a single-label field, set it."""

    sample_id: str = attrs.field(validator=check_id)
    field: str = attrs.field()
    label: Label = attrs.field(validator=attrs.validators.instance_of(Label))
    frame: int | None = attrs.field(default=None, validator=_check_frame)


@attrs.frozen
class DeleteLabel:
    """Remove the label with this id from the field (a single-label field becomes unset)."""

    sample_id: str = attrs.field(validator=check_id)
    field: str = attrs.field()
    label_id: str = attrs.field(validator=check_id)
    frame: int | None = attrs.field(default=None, validator=_check_frame)


@attrs.frozen
class SetValue:
    """Set a whole field value: a scalar, a label, a label list, or None to unset it."""

    sample_id: str = attrs.field(validator=check_id)
    field: str = attrs.field()
    value: FieldValue = attrs.field(hash=False)
    frame: int | None = attrs.field(default=None, validator=_check_frame)


LabelChange: TypeAlias = PutLabel | DeleteLabel | SetValue

"""Labels edited in place, as FiftyOne users write ``det.keyframe = True``.

annoflow's labels are frozen values. What ``sample.frames[n].detections`` and
``sample.ground_truth`` hand out are views over them: reading one reads the label as the
sample holds it now; assigning to one replaces the label in the sample that handed it out
and queues a `PutLabel` for it, written by ``sample.save()``. A change names one label by
its id, so a sample read through a filtered view never loses the labels the view hid.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Protocol

import attrs

from annoflow.domain.fields import FRAMES_PREFIX
from annoflow.domain.labels import FieldValue, Label, LabelList


class LabelOwner(Protocol):
    """The sample that handed a label out: where its current value is read and its edits go."""

    def current_value(self, field: str, frame: int | None) -> FieldValue: ...

    def put_label(self, field: str, frame: int | None, label: Label) -> None: ...


def editable_value(owner: LabelOwner, field: str, frame: int | None, value: FieldValue) -> Any:
    """``value`` as a user edits it: a label list or a label becomes a view that writes back; a
    scalar (or None) is itself."""
    if isinstance(value, LabelList):
        return EditableLabelList(owner, field, frame)
    if isinstance(value, Label):
        return EditableLabel(owner, field, frame, value.id)
    return value


class EditableLabel:
    """One label of a sample's field, read and set by attribute like FiftyOne's labels."""

    __slots__ = ("_field", "_frame", "_label_id", "_owner")

    def __init__(self, owner: LabelOwner, field: str, frame: int | None, label_id: str) -> None:
        object.__setattr__(self, "_owner", owner)
        object.__setattr__(self, "_field", field)
        object.__setattr__(self, "_frame", frame)
        object.__setattr__(self, "_label_id", label_id)

    @property
    def label(self) -> Label:
        """The frozen label as the sample holds it now."""
        value = self._owner.current_value(self._field, self._frame)
        items = value.items if isinstance(value, LabelList) else (value,)
        found = next((item for item in items if isinstance(item, Label) and item.id == self._label_id), None)
        if found is None:
            where = self._field if self._frame is None else f"{self._field} of frame {self._frame}"
            raise LookupError(f"label {self._label_id} is no longer in {where}")
        return found

    def __getattr__(self, name: str) -> Any:
        return getattr(self.label, name)

    def __setattr__(self, name: str, value: Any) -> None:
        current = self.label
        if name == "id":
            raise AttributeError("a label's id cannot be changed: it is how runs and stores know the label")
        if name in attrs.fields_dict(type(current)):
            changed = current.replace(**{name: value})
        else:  # any other name is a custom attribute, as FiftyOne takes ``det.occluded = True``
            attributes = getattr(current, "attributes", None)
            if attributes is None:
                raise AttributeError(f"a {type(current).__name__} has no attribute {name!r}")
            changed = current.replace(attributes={**attributes, name: value})
        self._owner.put_label(self._field, self._frame, changed)

    def __getitem__(self, name: str) -> Any:
        return getattr(self, name)

    def __setitem__(self, name: str, value: Any) -> None:
        setattr(self, name, value)

    def __eq__(self, other: object) -> bool:
        return self.label == (other.label if isinstance(other, EditableLabel) else other)

    def __hash__(self) -> int:
        return hash(self._label_id)

    def __repr__(self) -> str:
        return repr(self.label)


class EditableLabelList:
    """A label list field (``frame.detections``): its items (``.detections``, also ``.items``)
    are `EditableLabel`s."""

    __slots__ = ("_field", "_frame", "_owner")

    def __init__(self, owner: LabelOwner, field: str, frame: int | None) -> None:
        self._owner = owner
        self._field = field
        self._frame = frame

    @property
    def value(self) -> LabelList:
        """The frozen label list as the sample holds it now."""
        value = self._owner.current_value(self._field, self._frame)
        if not isinstance(value, LabelList):
            raise LookupError(f"{self._field} holds no label list any more")
        return value

    @property
    def items(self) -> list[EditableLabel]:
        return [EditableLabel(self._owner, self._field, self._frame, label.id) for label in self.value.items]

    def __getattr__(self, name: str) -> Any:
        if name == self.value.kind:  # .detections, .classifications, ...
            return self.items
        return getattr(self.value, name)

    def __iter__(self) -> Iterator[EditableLabel]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.value)

    def __eq__(self, other: object) -> bool:
        return self.value == (other.value if isinstance(other, EditableLabelList) else other)

    def __hash__(self) -> int:
        return hash((self._field, self._frame))

    def __repr__(self) -> str:
        return repr(self.value)


class FrameOwner(LabelOwner, Protocol):
    """A video sample that hands out its frames."""

    def frame_fields(self, frame: int) -> dict[str, FieldValue]: ...

    def frame_numbers(self) -> list[int]: ...

    def set_frame_field(self, name: str, frame: int, value: FieldValue) -> None: ...


class EditableFrame(Mapping[str, FieldValue]):
    """One frame of a video sample, as FiftyOne's ``sample.frames[n]``: ``frame["name"]`` is the
    field's frozen value, ``frame.name`` the value to edit in place (``frame.detections.detections[0]
    .keyframe = True``); ``frame.name = value`` or ``frame["name"] = value`` sets a field. All are
    written by the sample's ``save()``."""

    __slots__ = ("_number", "_owner")
    _number: int
    _owner: FrameOwner

    def __init__(self, owner: FrameOwner, number: int) -> None:
        object.__setattr__(self, "_owner", owner)
        object.__setattr__(self, "_number", number)

    @property
    def frame_number(self) -> int:
        return self._number

    def __getitem__(self, name: str) -> FieldValue:
        return self._owner.frame_fields(self._number)[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._owner.frame_fields(self._number))

    def __len__(self) -> int:
        return len(self._owner.frame_fields(self._number))

    def __getattr__(self, name: str) -> Any:
        fields = self._owner.frame_fields(self._number)
        if name not in fields:
            raise AttributeError(f"frame {self._number} has no field {name!r}")
        return editable_value(self._owner, FRAMES_PREFIX + name, self._number, fields[name])

    def __setattr__(self, name: str, value: FieldValue) -> None:
        self._owner.set_frame_field(name, self._number, value)

    def __setitem__(self, name: str, value: FieldValue) -> None:
        self._owner.set_frame_field(name, self._number, value)

    def __repr__(self) -> str:
        return f"<EditableFrame {self._number}: {dict(self._owner.frame_fields(self._number))!r}>"


class EditableFrames(Mapping[int, EditableFrame]):
    """A video sample's frames by number (1-based), as FiftyOne's ``sample.frames``."""

    __slots__ = ("_owner",)

    def __init__(self, owner: FrameOwner) -> None:
        self._owner = owner

    def __getitem__(self, number: int) -> EditableFrame:
        if number not in self._owner.frame_numbers():
            raise KeyError(f"the sample has no frame {number!r}")
        return EditableFrame(self._owner, number)

    def __iter__(self) -> Iterator[int]:
        return iter(self._owner.frame_numbers())

    def __len__(self) -> int:
        return len(self._owner.frame_numbers())

"""How run events' payloads become JSON and come back, bit-exact.

Every attrs value object that an event carries gets a *shallow* transcoding:
its fields go out as they are, so the JSON transcoder meets nested value
objects (a label inside a merged change, an uploaded object inside a task
record) one at a time and tags each with its own type. Polymorphic fields
such as ``label: Label | None`` therefore need no hand-written dispatch.
Masks go out as packed bytes, never as lists of pixels.
"""

from __future__ import annotations

import base64
import enum
import itertools
import operator
import types
import typing
from array import array as machine_array
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, ClassVar

import attrs
import numpy as np
from eventsourcing.persistence import JSONTranscoder, Transcoding

from annoflow.application.ports.mask_codec import decode_mask, encode_mask
from annoflow.domain.label_values import label_from_values, label_values
from annoflow.domain.labels import Label
from annoflow.domain.run_records import FrameRef, MergeAction, MergedChange, MergedChanges, TaskRecord, UploadedObjects


class NDArrayTranscoding(Transcoding):
    """Masks as the domain's compact, bit-exact bytes, base64 in the JSON."""

    type = np.ndarray
    name = "ndarray"

    def encode(self, obj: np.ndarray) -> str:
        return base64.b64encode(encode_mask(obj)).decode("ascii")

    def decode(self, data: str) -> np.ndarray:
        return decode_mask(base64.b64decode(data))


class MappingTranscoding(Transcoding):
    """Read-only mappings (label attributes, frozen config) travel as plain dicts."""

    type = MappingProxyType
    name = "mapping"

    def encode(self, obj: MappingProxyType[str, Any]) -> dict[str, Any]:
        return dict(obj)

    def decode(self, data: dict[str, Any]) -> MappingProxyType[str, Any]:
        return MappingProxyType(data)


def _shallow(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple):
        return list(value)
    return value


def _restorer(annotation: Any) -> Callable[[Any], Any] | None:
    """What turns a JSON value back into the annotated type, where JSON loses it.

    JSON has no enums and no tuples: enum fields come back from their values,
    tuple fields from lists. Optional types pass None through.
    """
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return annotation
    origin = typing.get_origin(annotation)
    if origin is tuple:
        return tuple
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(members) == 1:
            inner = _restorer(members[0])
            if inner is not None:
                return lambda value: None if value is None else inner(value)
    return None


class AttrsTranscoding(Transcoding):
    """One attrs value object: its fields by name, types restored on the way back.

    ``stored_keys`` names the key a field is stored under where it differs from the field's
    name (a field renamed since events were first written keeps its stored key).
    """

    def __init__(self, cls: type, name: str, stored_keys: Mapping[str, str] | None = None) -> None:
        self.type = cls
        self.name = name
        attrs.resolve_types(cls)
        fields = [f for f in attrs.fields(cls) if f.init]
        keys = stored_keys or {}
        self._fields = tuple(f.name for f in fields)
        self._aliases = {f.name: keys.get(f.name, f.alias or f.name) for f in fields}
        self._restore = {self._aliases[f.name]: r for f in fields if (r := _restorer(f.type)) is not None}
        self._init_names = {self._aliases[f.name]: f.alias or f.name for f in fields if f.name in keys}

    def encode(self, obj: Any) -> dict[str, Any]:
        return {self._aliases[name]: _shallow(getattr(obj, name)) for name in self._fields}

    def decode(self, data: dict[str, Any]) -> Any:
        for name, restore in self._restore.items():
            if name in data:
                data[name] = restore(data[name])
        for stored, init_name in self._init_names.items():
            if stored in data:
                data[init_name] = data.pop(stored)
        return self.type(**data)


class TaskRecordTranscoding(AttrsTranscoding):
    """A task record compactly: its frames and its uploaded objects as columns, ids run together.

    A task of 50,000 labels would otherwise cost 50,000 tagged objects in its ledger's Opened
    event. Label ids go out as one string (24 characters each), each label's sample as the index
    of its first frame, object types as one character each, remote ids as differences from the
    one before (the first apart), fields as indexes into their names, and the integer columns
    packed (`_packed`). Records stored as plain columns, or with their integers as JSON numbers
    and remote ids as differences from 0 (earlier layouts), still decode.
    """

    _COLUMNS: ClassVar[dict[str, str]] = {
        "field": "fields",
        "label_id": "label_ids",
        "sample_id": "sample_ids",
        "cvat_type": "remote_kinds",
        "cvat_id": "remote_ids",
        "frame": "frames",
    }
    _KINDS: ClassVar[dict[str, str]] = {"tag": "t", "shape": "s", "track": "k"}
    _KIND_OF: ClassVar[dict[str, str]] = {v: k for k, v in _KINDS.items()}

    def __init__(self) -> None:
        super().__init__(TaskRecord, "TaskRecord")

    def encode(self, obj: Any) -> dict[str, Any]:
        data = super().encode(obj)
        frame_samples = [ref.sample_id for ref in obj.frames]
        frame_numbers = [ref.frame for ref in obj.frames]
        data["frames"] = {
            "samples": "".join(frame_samples),
            "numbers": None if all(n is None for n in frame_numbers) else _packed(frame_numbers),
        }
        up = obj.uploaded
        first_frame = {sample_id: index for index, sample_id in reversed(list(enumerate(frame_samples)))}
        names = list(dict.fromkeys(up.fields))
        name_index = {name: i for i, name in enumerate(names)}
        remote_ids = list(up.remote_ids)
        # map() over the columns: a task's record is encoded while annotate() waits for it
        data["uploaded"] = {
            "names": names,
            "field": _packed(list(map(name_index.__getitem__, up.fields))),
            "label_ids": "".join(up.label_ids),
            "sample": _packed(list(map(first_frame.get, up.sample_ids, up.sample_ids))),
            "kinds": "".join(map(self._KINDS.__getitem__, up.remote_kinds)),
            # the first id apart: one large number would make every step take its width
            "remote_start": remote_ids[0] if remote_ids else None,
            "remote_steps": _packed(list(map(operator.sub, remote_ids[1:], remote_ids))),
            "frames": None if up.frames.count(None) == len(up.frames) else _packed(list(up.frames)),
        }
        return data

    def decode(self, data: dict[str, Any]) -> Any:
        frames = data["frames"]
        if isinstance(frames, dict):
            samples = frames["samples"]
            ids = [samples[i : i + 24] for i in range(0, len(samples), 24)]
            numbers = _unpacked(frames["numbers"]) or [None] * len(ids)
            data["frames"] = [FrameRef(sample_id, number) for sample_id, number in zip(ids, numbers, strict=True)]
        uploaded = data["uploaded"]
        if "columns" in uploaded:  # the plain columns of earlier records
            columns = uploaded["columns"]
            data["uploaded"] = UploadedObjects(**{column: columns[name] for name, column in self._COLUMNS.items()})
            return super().decode(data)
        frame_samples = [ref.sample_id for ref in data["frames"]]
        joined = uploaded["label_ids"]
        field = _unpacked(uploaded["field"])
        count = len(field)
        sample = uploaded["sample"]
        data["uploaded"] = UploadedObjects(
            fields=list(map(uploaded["names"].__getitem__, field)),
            label_ids=[joined[i : i + 24] for i in range(0, 24 * count, 24)],
            sample_ids=list(map(frame_samples.__getitem__, _unpacked(sample)))
            if isinstance(sample, str)  # packed: every label's sample is a frame's
            else [frame_samples[s] if isinstance(s, int) else s for s in sample],
            remote_kinds=list(map(self._KIND_OF.__getitem__, uploaded["kinds"])),
            remote_ids=_remote_ids(uploaded, count),
            frames=_unpacked(uploaded["frames"]) if uploaded["frames"] is not None else [None] * count,
        )
        return super().decode(data)


def _remote_ids(uploaded: Mapping[str, Any], count: int) -> list[int]:
    """A record's remote ids: its first and the steps after it, or (records before that) the
    differences from the one before, the first from 0."""
    if "remote_steps" not in uploaded:
        return list(itertools.accumulate(_unpacked(uploaded["remote_deltas"])))
    if not count:
        return []
    return list(itertools.accumulate(_unpacked(uploaded["remote_steps"]), initial=uploaded["remote_start"]))


def _packed(values: list[Any]) -> str | list[Any]:
    """A column of ints as ``"<dtype>:<base64>"``: its little-endian bytes in the smallest numpy
    integer type that holds them (one character or two a label, against two to six as JSON numbers,
    and no number to format or parse). A column holding anything else stays a JSON list."""
    if not values:
        return values
    try:  # refuses what is no int (a sample id, None) or too large, faster than numpy's conversion
        array = np.frombuffer(machine_array("q", values), dtype=np.int64)
    except (TypeError, OverflowError):
        return values
    low, high = int(array.min()), int(array.max())
    code = next(c for c in ("i1", "i2", "i4", "i8") if np.iinfo(c).min <= low and high <= np.iinfo(c).max)
    return f"{code}:{base64.b64encode(array.astype('<' + code).tobytes()).decode('ascii')}"


def _unpacked(value: Any) -> Any:
    """`_packed`'s column as a list again (a list, or None, as it is)."""
    if not isinstance(value, str):
        return value
    code, _, text = value.partition(":")
    return np.frombuffer(base64.b64decode(text, validate=True), dtype="<" + code).tolist()


def _plain(value: Any) -> Any:
    """A label's values with JSON's own types: lists for tuples (a tuple would travel tagged)."""
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


class MergedChangesTranscoding(Transcoding):
    """A load's changes of a task as columns: about 190 bytes a changed box, where an event per
    change cost some 870.

    Actions go out as one character each, sample ids run together (24 characters each), fields
    as indexes into their names, each label as its kind, plain values (`domain.label_values`) and
    mask bytes; columns that are all None (frames of an image task, scalar values, remote ids of
    deletions, destination fields) as None, and which labels a video's tracks gave as one
    character each, or None when none did.
    """

    type = MergedChanges
    name = "MergedChanges"
    _ACTIONS: ClassVar[dict[MergeAction, str]] = {
        MergeAction.ADDED: "a",
        MergeAction.EDITED: "e",
        MergeAction.DELETED: "d",
    }
    _ACTION_OF: ClassVar[dict[str, MergeAction]] = {v: k for k, v in _ACTIONS.items()}

    @staticmethod
    def _column(values: list[Any]) -> list[Any] | None:
        return None if all(v is None for v in values) else values

    @staticmethod
    def _label(label: Label | None) -> list[Any] | None:
        """A label as its kind, its plain values and its mask's bytes (base64, or None)."""
        if label is None:
            return None
        mask = getattr(label, "mask", None)
        return [
            label.kind,
            _plain(label_values(label)),
            None if mask is None else base64.b64encode(encode_mask(mask)).decode("ascii"),
        ]

    @staticmethod
    def _tracked(items: Sequence[MergedChange]) -> str | None:
        """Which changes a video's tracks gave, a character each ("t" or "-"), or None when none did."""
        if not any(c.tracked for c in items):
            return None
        return "".join("t" if c.tracked else "-" for c in items)

    @staticmethod
    def _names(items: Sequence[MergedChange]) -> list[str]:
        """The fields the changes name, each once: destination fields first, then source fields."""
        return list(dict.fromkeys([c.field for c in items] + [c.source_field for c in items if c.source_field]))

    def encode(self, obj: MergedChanges) -> dict[str, Any]:
        items = obj.items
        names = self._names(items)
        index = {name: i for i, name in enumerate(names)}
        return {
            "actions": "".join(self._ACTIONS[c.action] for c in items),
            "samples": "".join(c.sample_id for c in items),
            "names": names,
            "fields": [index[c.field] for c in items],
            "label_ids": self._column([c.label_id for c in items]),
            "frames": self._column([c.frame for c in items]),
            "labels": self._column([self._label(c.label) for c in items]),
            "remote_ids": self._column([c.remote_id for c in items]),
            "values": self._column([c.value for c in items]),
            "sources": self._column([None if c.source_field is None else index[c.source_field] for c in items]),
            "tracked": self._tracked(items),
        }

    def decode(self, data: dict[str, Any]) -> MergedChanges:
        count, names, samples = len(data["actions"]), data["names"], data["samples"]

        def column(name: str) -> list[Any]:
            return data[name] if data[name] is not None else [None] * count

        tracked = data.get("tracked") or "-" * count
        items = []
        for action, k, field, label_id, frame, label, remote_id, value, source, track in zip(
            data["actions"],
            range(count),
            data["fields"],
            column("label_ids"),
            column("frames"),
            column("labels"),
            column("remote_ids"),
            column("values"),
            column("sources"),
            tracked,
            strict=True,
        ):
            built = (
                None
                if label is None
                else label_from_values(
                    label[0], label_id, label[1], None if label[2] is None else decode_mask(base64.b64decode(label[2]))
                )
            )
            items.append(
                MergedChange(
                    self._ACTION_OF[action],
                    samples[k * 24 : (k + 1) * 24],
                    names[field],
                    label_id,
                    frame,
                    built,
                    remote_id,
                    value,
                    None if source is None else names[source],
                    track == "t",
                )
            )
        return MergedChanges(items)


# Value objects renamed since their events were first written, under the type name and keys they
# are stored with: the stored format is not the domain's vocabulary, and runs recorded before
# the rename read back unchanged (the domain named the annotation tool's objects after CVAT then).
_STORED_AS: dict[str, tuple[str, dict[str, str]]] = {
    "RemoteLabelRef": ("CvatLabelRef", {"remote_label_id": "cvat_label_id", "remote_name": "cvat_name"}),
    "RemoteAttributeRef": ("CvatAttributeRef", {"remote_label_id": "cvat_label_id"}),
    "UploadedObject": ("UploadedObject", {"remote_kind": "cvat_type", "remote_id": "cvat_id"}),
    "MergedChange": ("MergedChange", {"remote_id": "cvat_id"}),
    "Rejection": ("Rejection", {"remote_id": "cvat_id"}),
}


def register_value_objects(transcoder: JSONTranscoder, classes: Iterable[type]) -> None:
    """Register a shallow transcoding for each attrs class, under a stable name.

    The name is the class's qualified name in its module (or, for a class renamed since, the
    name it was first stored under: `_STORED_AS`), so stored events keep decoding after modules
    are reorganised.
    """
    transcoder.register(NDArrayTranscoding())
    transcoder.register(MappingTranscoding())
    special = {TaskRecord: TaskRecordTranscoding, MergedChanges: MergedChangesTranscoding}
    for cls in classes:
        if cls in special:
            transcoder.register(special[cls]())
            continue
        name, keys = _STORED_AS.get(cls.__qualname__, (cls.__qualname__, None))
        transcoder.register(AttrsTranscoding(cls, name, keys))

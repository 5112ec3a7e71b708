"""Value objects that annotation-run events carry.

They are plain immutable data (strings, numbers, tuples, labels), so the
application can register one generic transcoding for them and a run's events
replay into the same objects on any machine.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from typing import Any

import attrs

from annoflow.domain.ids import all_ids, check_id, is_id
from annoflow.domain.labels import Label, Scalar


def _tuple(values: Iterable[Any]) -> tuple[Any, ...]:
    """attrs converter: a named function mypy reads, where it cannot read ``converter=tuple``."""
    return tuple(values)


class RemoteObjectKind(enum.Enum):
    """The kind of annotation-tool object a label went up as: a tag (of an image or frame), a
    single shape, or an object track through a video's frames."""

    TAG = "tag"
    SHAPE = "shape"
    TRACK = "track"


@attrs.frozen
class FrameRef:
    """What one frame of a remote task shows: a sample, and for videos its frame number."""

    sample_id: str = attrs.field(validator=check_id)
    frame: int | None = None


@attrs.frozen
class UploadedObject:
    """Provenance of one uploaded label: the annotation tool's object created from it."""

    field: str
    label_id: str = attrs.field(validator=check_id)
    sample_id: str = attrs.field(validator=check_id)
    remote_kind: RemoteObjectKind = attrs.field(converter=RemoteObjectKind)
    remote_id: int
    frame: int | None = None


@attrs.frozen
class RemoteLabelRef:
    """A label (class) of the annotation tool and the schema field and class it stands for.

    The tool has no notion of fields, so a class used by several fields goes up
    under a disambiguated name; this reference maps it back. An existing
    project's labels are plain names that several fields may share: one
    reference per field, told apart by object type on load. A project label of
    no run field is recorded with field "" so what annotators draw with it is
    named when it loads as an unexpected label.
    """

    remote_label_id: int
    remote_name: str
    field: str
    class_name: str


@attrs.frozen
class RemoteAttributeRef:
    """An attribute spec of the annotation tool and the label attribute it stands for."""

    spec_id: int
    remote_label_id: int
    name: str


_REMOTE_KINDS = frozenset(k.value for k in RemoteObjectKind)


@attrs.frozen
class UploadedObjects:
    """A task's provenance, one column per property of `UploadedObject`, in upload order.

    A task of 50,000 labels would otherwise be 50,000 objects, built when the task is
    filled and again each time the run is read back; columns are built by appending and
    stored as they are. Iterating gives the `UploadedObject` of each row.
    """

    fields: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    label_ids: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    sample_ids: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    remote_kinds: tuple[str, ...] = attrs.field(default=(), converter=_tuple)  # RemoteObjectKind values
    remote_ids: tuple[int, ...] = attrs.field(default=(), converter=_tuple)
    frames: tuple[int | None, ...] = attrs.field(default=(), converter=_tuple)

    def __attrs_post_init__(self) -> None:
        columns = attrs.astuple(self, recurse=False)
        if len({len(column) for column in columns}) > 1:
            raise ValueError(f"uploaded objects' columns differ in length: {[len(c) for c in columns]}")
        # Checked column by column, at C speed where it can be: ids are 24 hex digits, types known.
        for name, column in (("label_id", self.label_ids), ("sample_id", self.sample_ids)):
            if not all_ids(column):
                bad = next(v for v in column if not is_id(v))
                raise ValueError(f"{name} must be 24 lowercase hex digits, got {bad!r}")
        if not _REMOTE_KINDS.issuperset(self.remote_kinds):
            raise ValueError(f"unknown remote object kinds: {sorted(set(self.remote_kinds) - _REMOTE_KINDS)}")

    @classmethod
    def of(cls, objects: UploadedObjects | Iterable[UploadedObject]) -> UploadedObjects:
        """From uploaded objects (or columns already), for callers that build them one by one."""
        if isinstance(objects, UploadedObjects):
            return objects
        rows = [(u.field, u.label_id, u.sample_id, u.remote_kind.value, u.remote_id, u.frame) for u in objects]
        return cls(*(zip(*rows, strict=True) if rows else ((),) * 6))

    def __len__(self) -> int:
        return len(self.label_ids)

    def __getitem__(self, index: int) -> UploadedObject:
        return UploadedObject(
            self.fields[index],
            self.label_ids[index],
            self.sample_ids[index],
            self.remote_kinds[index],
            self.remote_ids[index],
            self.frames[index],
        )

    def __iter__(self) -> Iterator[UploadedObject]:
        for field, label_id, sample_id, kind, remote_id, frame in zip(
            self.fields, self.label_ids, self.sample_ids, self.remote_kinds, self.remote_ids, self.frames, strict=True
        ):
            yield UploadedObject(field, label_id, sample_id, kind, remote_id, frame)


@attrs.frozen
class TaskSummary:
    """What the run itself keeps of a task: its ids, samples and sizes, never per-label provenance.

    The provenance (`TaskRecord`) lives in the task's own ledger, read one task at a time.
    """

    task_id: int
    project_id: int | None
    job_ids: tuple[int, ...] = attrs.field(converter=_tuple)
    sample_ids: tuple[str, ...] = attrs.field(converter=_tuple)
    frame_count: int = 0
    label_count: int = 0
    # When the server made the task, as it said: tells the run's task from another server's task
    # of the same id (None in runs recorded before this was kept).
    created: str | None = None
    # A video task's frames are frame_count frames of its video, first_frame, first_frame + frame_step,
    # ... (1-based); None for an image task (and a video task recorded before this was kept).
    first_frame: int | None = None
    frame_step: int = 1

    def frame_numbers(self) -> list[int | None]:
        """Each task frame's frame number in its video; None for an image task's frames."""
        if self.first_frame is None:
            return [None] * self.frame_count
        return [self.first_frame + k * self.frame_step for k in range(self.frame_count)]


def _uploaded_objects(objects: UploadedObjects | Iterable[UploadedObject]) -> UploadedObjects:
    return UploadedObjects.of(objects)


@attrs.frozen
class TaskRecord:
    """Everything needed later to read a remote task back: ids, frames, provenance."""

    task_id: int
    project_id: int | None
    job_ids: tuple[int, ...] = attrs.field(converter=_tuple)
    frames: tuple[FrameRef, ...] = attrs.field(converter=_tuple)
    uploaded: UploadedObjects = attrs.field(converter=_uploaded_objects)
    labels: tuple[RemoteLabelRef, ...] = attrs.field(converter=_tuple)
    attributes: tuple[RemoteAttributeRef, ...] = attrs.field(converter=_tuple)
    created: str | None = None  # when the server made the task, as it said

    @property
    def sample_ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f.sample_id for f in self.frames))

    def summary(self) -> TaskSummary:
        first = self.frames[0].frame if self.frames else None
        second = self.frames[1].frame if len(self.frames) > 1 else None
        step = second - first if first is not None and second is not None else 1
        return TaskSummary(
            self.task_id,
            self.project_id,
            self.job_ids,
            self.sample_ids,
            len(self.frames),
            len(self.uploaded),
            self.created,
            first,
            step,
        )


class MergeAction(enum.Enum):
    ADDED = "added"
    EDITED = "edited"
    DELETED = "deleted"


@attrs.frozen
class MergedChange:
    """One change a load applied to the dataset, with the label (or scalar value) as it now stands.

    New labels get their id before the change is recorded, so applying a
    recorded change twice (after a crash) writes the same label, never a copy.
    A scalar field's change has no ``label_id``: it carries the field's new
    ``value`` (None when the change clears it), already in the field's kind.
    """

    action: MergeAction = attrs.field(converter=MergeAction)
    sample_id: str = attrs.field(validator=check_id)
    field: str
    label_id: str | None = attrs.field(validator=attrs.validators.optional(check_id))
    frame: int | None = None
    label: Label | None = attrs.field(default=None)
    remote_id: int | None = None
    value: Scalar = attrs.field(default=None)
    # The run's field the backend object belongs to, when the change lands in another one (dest_field).
    source_field: str | None = None
    # The remote object is an object track (numbered apart from single shapes), not a tag or shape.
    tracked: bool = False

    @property
    def is_scalar(self) -> bool:
        """A change of a scalar field's value rather than of a label."""
        return self.label_id is None

    @label.validator
    def _label_unless_deleted(self, attribute: attrs.Attribute[Label | None], value: Label | None) -> None:
        if self.label_id is None:
            if value is not None:
                raise ValueError("a scalar field's change carries a value, not a label")
            return
        if (value is None) != (self.action is MergeAction.DELETED):
            raise ValueError("a merged change carries its label, unless it deletes one")
        if value is not None and value.id != self.label_id:
            raise ValueError("a merged change's label_id is its label's id")

    @value.validator
    def _value_of_scalars_only(self, attribute: attrs.Attribute[Scalar], value: Scalar) -> None:
        if value is not None and not isinstance(value, (bool, int, float, str)):
            raise TypeError(f"a scalar field's value is a bool, int, float or str, got {type(value).__name__}")
        if self.label_id is not None:
            if value is not None:
                raise ValueError("a label's change carries its label, not a scalar value")
        elif (value is None) != (self.action is MergeAction.DELETED):
            raise ValueError("a scalar field's change carries its new value, unless it clears the field")


@attrs.frozen
class MergedChanges:
    """One load's changes of one task, recorded as one event: an event per label cost a stored
    row of some 870 bytes each, more than the labels' whole provenance."""

    items: tuple[MergedChange, ...] = attrs.field(converter=_tuple)


@attrs.frozen
class Rejection:
    """An edit made in the annotation tool that the run's restrictions refused, or an object the load did not read.

    ``sample_id`` is None for an object that names no sample of its task (a frame outside it).
    """

    sample_id: str | None = attrs.field(validator=attrs.validators.optional(check_id))
    field: str
    rule: str
    attempted: str
    label_id: str | None = None
    frame: int | None = None
    remote_id: int | None = None


@attrs.frozen
class LoadSummary:
    """What one load_annotations() did, per action."""

    load_id: str
    added: int = 0
    edited: int = 0
    deleted: int = 0
    rejected: int = 0
    unexpected: int = 0
    unchanged_tasks: int = 0
    # Tasks the server no longer has (deleted there): skipped, as FiftyOne skips them.
    missing_tasks: tuple[int, ...] = attrs.field(default=(), converter=_tuple)
    # The jobs the load merged when it merged only some ("stage=validation", "state=completed"); None: all.
    jobs: str | None = None
    # Boxes and polygons annotators drew with a segmentation's class, painted into its masks.
    painted: int = 0

"""Editing a dataset's samples and fields as FiftyOne's API does, each edit one atomic batch
through the LabelStore port: ``sample[field] = value; sample.save()``, ``set_values``,
``add_samples``, ``delete_samples``, ``clone`` and the field operations (add, delete, rename).

Samples are frozen value objects; what users get from ``view.first()``, iteration or
``dataset[id]`` is an `EditableSample` around one, which collects field assignments and applies
them as ``SetValue`` changes on ``save()``. A field an annotation run depends on (one of its
label fields, or its media field) is neither deleted nor renamed: the refusal names the run,
since its next load would merge into a field that is gone.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from annoflow.application.label_editing import EditableFrames, editable_value
from annoflow.application.ports.label_store import FieldSchemaError, LabelStore
from annoflow.domain.changes import LabelChange, PutLabel, SetValue
from annoflow.domain.fields import FRAMES_PREFIX, LABEL_TYPE_OF_KIND, FieldKind, FieldPath, kind_of
from annoflow.domain.ids import new_id
from annoflow.domain.labels import FieldValue, Label, LabelList
from annoflow.domain.samples import RESERVED_FIELD_NAMES, MediaType, Sample

if TYPE_CHECKING:
    from annoflow.application.dataset import Dataset

_PROPERTIES = ("id", "filepath", "media_type", "metadata", "tags", "frames")
_PYTHON_KINDS = {bool: FieldKind.BOOL, int: FieldKind.INT, float: FieldKind.FLOAT, str: FieldKind.STR}
# What save() writes is keyed by a field's (path, frame), or a label's (path, frame, label id).
_PendingKey = tuple[str, int | None] | tuple[str, int | None, str]


class EditableSample:
    """A sample as FiftyOne hands it out: read it like the `Sample` it wraps (``sample.fields``,
    ``sample["ground_truth"]``, ``sample.id``), set fields with ``sample[field] = value`` (None
    clears one) and write them with ``save()``, in one batch."""

    __slots__ = ("_pending", "_sample", "_store")
    _sample: Sample
    _store: LabelStore
    _pending: dict[_PendingKey, LabelChange]  # what was set since the last save

    def __init__(self, sample: Sample, store: LabelStore) -> None:
        object.__setattr__(self, "_sample", sample)
        object.__setattr__(self, "_store", store)
        # what save() writes, in the order it was set: a field's value by (path, frame), a label
        # edited in place by (path, frame, label id)
        object.__setattr__(self, "_pending", {})

    @property
    def sample(self) -> Sample:
        """The frozen sample as it stands, with the assignments not saved yet."""
        return self._sample

    @property
    def frames(self) -> EditableFrames:
        """A video's frames by number, as FiftyOne's ``sample.frames[n]`` (see `EditableFrame`)."""
        return EditableFrames(self)

    def __getattr__(self, name: str) -> Any:
        if name in self._sample.fields:  # sample.ground_truth: a value to edit in place
            return editable_value(self, name, None, self._sample.fields[name])
        return getattr(self._sample, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _PROPERTIES:
            raise AttributeError(f"a sample's {name} cannot be changed here (set fields with sample[name] = value)")
        self[name] = value

    def __getitem__(self, name: str) -> Any:
        if name in _PROPERTIES:
            return getattr(self._sample, name)
        if name not in self._sample.fields and name not in self._store.field_schema():
            raise KeyError(f"sample {self._sample.id} has no field {name!r}")
        return self._sample.fields.get(name)

    def __setitem__(self, name: str, value: FieldValue) -> None:
        self.set_field(name, value)

    def set_field(self, name: str, value: FieldValue) -> None:
        """Set a sample field (None clears it); written by ``save()``."""
        if name in RESERVED_FIELD_NAMES:
            raise FieldSchemaError(f"{name!r} is a sample property, not a field one can set")
        path = FieldPath.parse(name)
        if path.on_frames:
            raise FieldSchemaError(f"{name!r} is a frame field: set it per frame with dataset.set_values()")
        kind_of(value)  # a value a field can hold, refused here rather than at save()
        object.__setattr__(
            self, "_sample", self._sample.with_value(name, value) if value is not None else _without(self._sample, name)
        )
        self._set_pending((name, None), SetValue(self._sample.id, name, value))

    def clear_field(self, name: str) -> None:
        self.set_field(name, None)

    def save(self) -> None:
        """Write the fields set and the labels edited since the last save, in one batch (nothing when
        there are none)."""
        if self._pending:
            self._store.apply(list(self._pending.values()))
            self._pending.clear()

    # --- frames and labels edited in place (label_editing) -------------------------------------

    def frame_numbers(self) -> list[int]:
        return sorted(self._sample.frames)

    def frame_fields(self, frame: int) -> dict[str, FieldValue]:
        return dict(self._sample.frames.get(frame, {}))

    def set_frame_field(self, name: str, frame: int, value: FieldValue) -> None:
        """Set a field of one frame (None clears it); written by ``save()``."""
        if self._sample.media_type is not MediaType.VIDEO:
            raise FieldSchemaError("only a video sample has frames")
        path = FRAMES_PREFIX + name
        FieldPath.parse(path)
        kind_of(value)
        if value is None:
            frames = {
                n: ({k: v for k, v in f.items() if k != name} if n == frame else f)
                for n, f in self._sample.frames.items()
            }
            object.__setattr__(self, "_sample", attrs.evolve(self._sample, frames=frames))
        else:
            object.__setattr__(self, "_sample", self._sample.with_value(path, value, frame))
        self._set_pending((path, frame), SetValue(self._sample.id, path, value, frame))

    def current_value(self, field: str, frame: int | None) -> FieldValue:
        return self._sample.get(field, frame)

    def put_label(self, field: str, frame: int | None, label: Label) -> None:
        """Replace the label of the same id in ``field`` (of ``frame``): what assigning to a label
        handed out by ``sample.<field>`` or ``sample.frames[n].<field>`` does; written by ``save()``."""
        value = self._sample.get(field, frame)
        if isinstance(value, LabelList):
            value = value.with_items(label if item.id == label.id else item for item in value.items)
        object.__setattr__(
            self, "_sample", self._sample.with_value(field, label if isinstance(value, Label) else value, frame)
        )
        pending = self._pending.get((field, frame))
        if pending is not None:  # the whole field is written anyway: with the label as it is now
            self._pending[(field, frame)] = SetValue(self._sample.id, field, self._sample.get(field, frame), frame)
        else:
            self._set_pending((field, frame, label.id), PutLabel(self._sample.id, field, label, frame))

    def _set_pending(self, key: _PendingKey, change: LabelChange) -> None:
        if len(key) == 2:  # a whole field set: the edits of its labels are in it
            for stale in [k for k in self._pending if len(k) == 3 and k[:2] == key]:
                del self._pending[stale]
        self._pending.pop(key, None)  # re-inserted last, so the batch keeps the order things were set
        self._pending[key] = change

    def __eq__(self, other: object) -> bool:
        if isinstance(other, EditableSample):
            return self._sample == other._sample
        return self._sample == other

    def __hash__(self) -> int:
        return hash(self._sample)

    def __repr__(self) -> str:
        return f"<EditableSample {self._sample!r}>"


def _without(sample: Sample, name: str) -> Sample:
    return attrs.evolve(sample, fields={k: v for k, v in sample.fields.items() if k != name})


def editable(samples: Iterable[Sample], store: LabelStore) -> Iterator[EditableSample]:
    return (EditableSample(sample, store) for sample in samples)


# --- values ------------------------------------------------------------------------------------


def value_changes(field: str, ids: Sequence[str], values: Sequence[Any] | Mapping[str, Any]) -> list[SetValue]:
    """The changes setting ``field`` on each sample: ``values`` in the order of ``ids``, or by sample id.
    A frame field (``frames.<name>``) takes, per sample, frame number -> value."""
    path = FieldPath.parse(field)
    if not path.on_frames and path.name in RESERVED_FIELD_NAMES:
        raise FieldSchemaError(f"{field!r} is a sample property, not a field one can set")
    if isinstance(values, Mapping):
        unknown = [key for key in values if key not in set(ids)]
        if unknown:
            raise KeyError(f"set_values(): {unknown[0]!r} is not the id of a sample of this collection")
        pairs = list(values.items())
    else:
        values = list(values)
        if len(values) != len(ids):
            raise ValueError(f"set_values(): {len(values)} values for {len(ids)} samples")
        pairs = list(zip(ids, values, strict=True))
    if not path.on_frames:
        return [SetValue(sample_id, field, value) for sample_id, value in pairs]
    changes = []
    for sample_id, frames in pairs:
        if frames is None:
            continue
        if not isinstance(frames, Mapping):
            raise ValueError(
                f"set_values({field!r}): a frame field takes frame number -> value per sample, "
                f"got {type(frames).__name__}"
            )
        changes += [SetValue(sample_id, field, value, int(number)) for number, value in frames.items()]
    return changes


def field_kind(ftype: Any) -> FieldKind:
    """FieldKind from what FiftyOne's ``add_sample_field`` takes: a kind, its name, a Python scalar type
    or a label class."""
    if isinstance(ftype, FieldKind):
        return ftype
    if isinstance(ftype, str):
        try:
            return FieldKind(ftype.lower())
        except ValueError:
            pass
    if ftype in _PYTHON_KINDS:
        return _PYTHON_KINDS[ftype]
    for kind, cls in LABEL_TYPE_OF_KIND.items():
        if ftype is cls:
            return kind
    raise FieldSchemaError(
        f"{ftype!r} is not a field type: use one of {[k.value for k in FieldKind]}, "
        "int, float, str, bool or a label class"
    )


# --- fields runs depend on ----------------------------------------------------------------------


def runs_using(dataset: Dataset, paths: Iterable[str]) -> dict[str, str]:
    """Field path -> the key of a run that depends on it (a label field of its schema, or its media field)."""
    wanted, found = set(paths), dict[str, str]()
    for key in dataset.list_annotation_runs():
        run = dataset.registry.get_run(dataset.name, key)
        used = set(run.label_schema.field_names)
        if run.media_field != "filepath":
            used.add(run.media_field)
        for path in sorted(wanted & used):
            found.setdefault(path, key)
    return found


def refuse_if_used(dataset: Dataset, paths: Iterable[str], doing: str) -> None:
    used = runs_using(dataset, paths)
    if used:
        path, key = next(iter(used.items()))
        raise FieldSchemaError(
            f"cannot {doing} field {path!r}: annotation run {key!r} uses it (its next load merges into it); "
            f"delete the run's record first (dataset.delete_annotation_run({key!r}), after loading it if need be)"
        )


def frame_path(name: str) -> str:
    return name if name.startswith(FRAMES_PREFIX) else FRAMES_PREFIX + name


def new_copies(samples: Iterable[Sample]) -> Iterator[Sample]:
    """The samples under new ids (a store file holds each sample id once); label ids are kept."""
    return (attrs.evolve(sample, id=new_id()) for sample in samples)

"""The merge policy: what a task's downloaded labels change in the dataset, and what is refused.

`merge_task` matches each label read back to the one uploaded (provenance, as FiftyOne's guide's
"CVAT limitations" describes), applies the run's ``allow_*`` restrictions and read-only
attributes, and returns the label store's changes and the `Rejection`s. ARCHITECTURE.md ("The
merge policy") gives the rules.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np

from annoflow.domain.ids import derived_id, new_id
from annoflow.domain.label_schema import FieldSchema, LabelSchema
from annoflow.domain.labels import Keypoint, Label, Scalar
from annoflow.domain.run_records import MergeAction, MergedChange, Rejection, RemoteObjectKind, TaskRecord
from annoflow.domain.samples import Sample, field_labels

GEOMETRY = ("bounding_box", "mask", "points")
SCALAR_KINDS = ("bool", "int", "float", "str")
_TRUE = frozenset({"true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0"})
TRACK = RemoteObjectKind.TRACK.value  # as the uploaded objects' column holds it, and in a track label's derived id


@attrs.frozen
class ImportedLabel:
    """A label read back from the backend, on a sample (and frame), with its provenance."""

    field: str
    sample_id: str
    label: Label
    label_id: str | None = None
    remote_ids: tuple[int, ...] = ()
    frame: int | None = None
    # read from an object track, one label per frame it covers: the tool numbers its tracks apart from its
    # single shapes (a tool may keep them in tables of their own), so a track and a shape may share an id
    tracked: bool = False


@attrs.frozen
class ImportedValue:
    """A scalar field's value read back for one sample (and frame), as the backend holds it.

    The tool may keep text (a tag's class, or its ``value`` attribute); `merge_task`
    converts it to the field's kind. None (or blank text) is no value.
    """

    field: str
    sample_id: str
    value: Scalar
    remote_id: int | None = None
    frame: int | None = None


def scalar_as(kind: str, value: Scalar) -> Scalar:
    """A value read back, in a scalar field's kind (bool, int, float or str).

    Text is parsed (empty text is no value: None; for numbers and bools, blank text too);
    typed values are checked.
    Raises ValueError naming the value and the kind it does not fit.
    """
    if kind not in SCALAR_KINDS:
        raise ValueError(f"a scalar field holds bool, int, float or str values, not {kind!r}")
    if value is None:
        return None
    if isinstance(value, str):
        return _parsed(kind, value)
    return _checked(kind, value)


def _parsed(kind: str, value: str) -> Scalar:
    """Text the tool keeps, as a value of ``kind``."""
    if kind == "str":
        return value or None  # text is kept as typed, spaces included
    text = value.strip()
    if not text:
        return None
    try:
        if kind == "int":
            return int(text)
        if kind == "float":
            return float(text)
    except ValueError:
        raise ValueError(f"{value!r} is not {'an int' if kind == 'int' else 'a float'}") from None
    if text.lower() in _TRUE:
        return True
    if text.lower() in _FALSE:
        return False
    raise ValueError(f"{value!r} is not a bool (true or false)")


def _checked(kind: str, value: bool | int | float) -> Scalar:
    """A typed value, as a value of ``kind`` when it fits one (1 is True, 2.0 is 2)."""
    if kind == "str":
        return str(value)
    if kind == "bool" and (isinstance(value, bool) or value in (0, 1)):
        return bool(value)
    if kind == "int" and not isinstance(value, bool) and (isinstance(value, int) or float(value).is_integer()):
        return int(value)
    if kind == "float" and not isinstance(value, bool):
        return float(value)
    raise ValueError(f"{value!r} is not {'an' if kind == 'int' else 'a'} {kind}")


def _same(a: Any, b: Any) -> bool:
    """Equal values of equal types; NaN equals NaN (a missing keypoint, a NaN scalar)."""
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


def _same_geometry(a: Label, b: Label) -> bool:
    for name in GEOMETRY:
        x, y = getattr(a, name, None), getattr(b, name, None)
        if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):  # a mask
            if not (
                isinstance(x, np.ndarray)
                and isinstance(y, np.ndarray)
                and x.shape == y.shape
                and x.tobytes() == y.tobytes()
            ):
                return False
        elif not (_same(x, y) or x == y):
            return False
    return True


# --- One label's edit, part by part ------------------------------------------------------------
# Each part returns the label's changes it allows and the edits it refuses, as (rule, attempted).

_Edit = tuple[dict[str, Any], list[tuple[str, str]]]


def _relabel(field: FieldSchema, original: Label, imported: Label) -> _Edit:
    new_class = getattr(imported, "label", None)
    before = getattr(original, "label", None)
    if new_class is None or new_class == before:
        return {}, []
    if field.allow_label_edits:
        return {"label": new_class}, []
    return {}, [("allow_label_edits", f"relabel {before!r} as {new_class!r}")]


def _reshape(field: FieldSchema, original: Label, imported: Label) -> _Edit:
    if _same_geometry(imported, original):
        return {}, []
    if not field.allow_spatial_edits:
        return {}, [("allow_spatial_edits", "move or reshape the label")]
    changes = {n: getattr(imported, n) for n in GEOMETRY if hasattr(original, n)}
    if (
        isinstance(original, Keypoint)
        and original.confidence is not None
        and len(changes["points"]) != len(original.points)
    ):
        changes["confidence"] = None  # one confidence per point: the tool changed the count, so none fits
    return changes, []


def _reindex(field: FieldSchema, original: Label, imported: Label) -> _Edit:
    new_index = getattr(imported, "index", None)
    before = getattr(original, "index", None)
    if new_index is None or new_index == before:
        return {}, []
    if field.allow_index_edits:
        return {"index": new_index}, []
    return {}, [
        (
            "allow_index_edits",
            f"move it from track {before} to track {new_index}"
            if before is not None
            else f"make it part of track {new_index}",
        )
    ]


def _reattribute(field: FieldSchema, original: Label, imported: Label) -> _Edit:
    """The attributes sent to the tool as it holds them (read-only ones refused); the others are kept."""
    if not hasattr(original, "attributes"):
        return {}, []
    held: dict[str, Any] = original.attributes
    read: dict[str, Any] = getattr(imported, "attributes", {})
    attributes = dict(held)
    refused = []
    sent = {a.name: a for a in field.attributes_for(getattr(original, "label", ""))}
    for name, spec in sent.items():
        before, after = held.get(name), read.get(name)
        if after == before or (after is None and name not in read):
            continue
        if spec.read_only:
            refused.append(("read_only", f"change read-only attribute {name!r} from {before!r} to {after!r}"))
        else:
            attributes[name] = after
    return ({"attributes": attributes} if attributes != dict(held) else {}), refused


def _merge_one(
    field: FieldSchema, original: Label, imported: Label, sample_id: str, remote_id: int | None, frame: int | None
) -> tuple[Label, Sequence[Rejection]]:
    """The original label with the imported one's edits that the restrictions allow, and the edits refused."""
    changes: dict[str, Any] = {}
    refused: list[tuple[str, str]] = []
    for part in (_relabel, _reshape, _reindex, _reattribute):
        allowed, refusals = part(field, original, imported)
        changes.update(allowed)
        refused += refusals
    keyframe = getattr(imported, "keyframe", None)
    if changes and keyframe is not None and keyframe != bool(getattr(original, "keyframe", None)):
        changes["keyframe"] = keyframe  # follows the tool on a label an annotator changed (None is no keyframe)
    merged = original.replace(**changes) if changes else original
    if not refused:
        return merged, ()
    return merged, [
        Rejection(
            sample_id=sample_id,
            field=field.path,
            rule=rule,
            attempted=attempted,
            label_id=original.id,
            frame=frame,
            remote_id=remote_id,
        )
        for rule, attempted in refused
    ]


# --- Scalar fields: one value per sample (or frame) ---------------------------------------------

_Place = tuple[str, int | None]  # a sample, and a frame of it for a frame field


def _merge_scalar(
    field: FieldSchema,
    kind: str,
    target: str,
    task: TaskRecord,
    samples: Mapping[str, Sample],
    values: Sequence[ImportedValue],
    held: set[tuple[str | None, str]],
) -> tuple[list[MergedChange], list[Rejection]]:
    """One value per sample: the tool's value (None when it holds none) against the sample's, under the restrictions."""
    found: dict[_Place, list[ImportedValue]] = {}
    for item in values:
        if item.field == field.path:
            found.setdefault((item.sample_id, item.frame if field.on_frames else None), []).append(item)
    # a sample field holds one value per sample; a frame field one per video frame the task shows
    places: list[_Place] = (
        [(ref.sample_id, ref.frame) for ref in task.frames]
        if field.on_frames
        else [(sample_id, None) for sample_id in task.sample_ids]
    )
    changes: list[MergedChange] = []
    rejections: list[Rejection] = []
    for place in places:
        sample_id, frame = place
        if _value_held(held, sample_id, field.path):
            continue  # an object on this sample was not read: it may hold the value
        sample = samples.get(sample_id)
        before = sample.get(field.path, frame) if sample is not None else None
        items = found.get(place, [])
        after, refused = _read_value(field, kind, place, items)
        if refused:
            rejections += refused  # the field keeps its value
            continue
        change, rejection = _scalar_change(field, target, place, before, after, items[0].remote_id if items else None)
        if rejection is not None:
            rejections.append(rejection)
        if change is not None:
            changes.append(change)
    return changes, rejections


def _read_value(
    field: FieldSchema, kind: str, place: _Place, items: Sequence[ImportedValue]
) -> tuple[Scalar, list[Rejection]]:
    """The one value the tool holds for a place (None: none), or the refusals of what it holds instead."""
    sample_id, frame = place
    parsed: list[Scalar] = []
    refused: list[Rejection] = []
    for item in items:
        try:
            parsed.append(scalar_as(kind, item.value))
        except ValueError as error:
            refused.append(
                Rejection(
                    sample_id=sample_id,
                    field=field.path,
                    rule="scalar_kind",
                    attempted=f"set the value {item.value!r}: {error} (field {field.path!r} holds {kind} values)",
                    frame=frame,
                    remote_id=item.remote_id,
                )
            )
    distinct: list[Scalar] = []
    for value in parsed:
        if value is not None and not any(_same(value, d) for d in distinct):
            distinct.append(value)
    if len(distinct) > 1:
        refused.append(
            Rejection(
                sample_id=sample_id,
                field=field.path,
                rule="one_value",
                attempted=f"set {len(distinct)} values {distinct!r}: a scalar field holds one value per "
                f"{'frame' if frame is not None else 'sample'}",
                frame=frame,
                remote_id=items[0].remote_id,
            )
        )
    return (distinct[0] if distinct else None), refused


def _scalar_change(
    field: FieldSchema, target: str, place: _Place, before: Any, after: Scalar, remote_id: int | None
) -> tuple[MergedChange | None, Rejection | None]:
    """What the tool's value ``after`` does to the sample's value ``before``: the change recorded, and the
    edit refused (a refused edit into another field still copies the value the source keeps there)."""
    if after is None and before is not None and field.classes and str(before) not in field.classes:
        return None, None  # a value outside the classes was never sent, so the tool holding none deletes nothing
    if after is None and before is not None and before != "" and target != field.path:
        return None, None  # loading into another field leaves the source field alone (as it holds '')
    merged, rule, attempted = _allowed_value(field, before, after)
    if rule is None:
        return _value_written(field, target, place, before, merged, remote_id), None
    sample_id, frame = place
    rejection = Rejection(
        sample_id=sample_id,
        field=field.path,
        rule=rule,
        attempted=attempted,
        frame=frame,
        remote_id=None if rule == "allow_deletions" else remote_id,
    )
    if rule != "allow_label_edits":
        return None, rejection
    return _value_written(field, target, place, before, merged, remote_id), rejection


def _allowed_value(field: FieldSchema, before: Any, after: Scalar) -> tuple[Any, str | None, str]:
    """The value a place takes (the tool's, where the restrictions allow it), and the rule refusing the edit with
    the edit refused (None and "" when none is)."""
    if _same(before, after) or (before == "" and after is None):
        return before, None, ""  # unchanged ('' goes up as empty text, which is also how the tool holds no value)
    if before is None:
        return (after, None, "") if field.allow_additions else (before, "allow_additions", f"set the value {after!r}")
    if after is None:
        return (None, None, "") if field.allow_deletions else (before, "allow_deletions", f"clear the value {before!r}")
    if field.allow_label_edits:
        return after, None, ""
    return before, "allow_label_edits", f"change the value {before!r} to {after!r}"


def _value_written(
    field: FieldSchema, target: str, place: _Place, before: Any, merged: Any, remote_id: int | None
) -> MergedChange | None:
    """The change that writes ``merged`` over ``before`` in ``target`` (into another field: a copy), if any."""
    sample_id, frame = place
    if target != field.path:
        if merged is None:
            return None
        return MergedChange(
            action=MergeAction.ADDED,
            sample_id=sample_id,
            field=target,
            label_id=None,
            frame=frame,
            value=merged,
            remote_id=remote_id,
        )
    if merged is None:
        if before is None:
            return None
        return MergedChange(action=MergeAction.DELETED, sample_id=sample_id, field=target, label_id=None, frame=frame)
    if _same(merged, before):
        return None
    return MergedChange(
        action=MergeAction.ADDED if before is None else MergeAction.EDITED,
        sample_id=sample_id,
        field=target,
        label_id=None,
        frame=frame,
        value=merged,
        remote_id=remote_id,
    )


# --- Claims and unread objects -------------------------------------------------------------
# A server may send an object on one frame carrying the label_id (or remote id) of a label on
# another: the claim does not hold, so the object counts as new (or matches by its remote id) and
# the claimed label is left to its own object. An object the backend could not read (malformed,
# or past the per-frame limit) is still on the server: the label it names is not deleted, and a
# scalar field is left as it is on a sample such an object is on (a refusal naming no field
# holds every scalar field of its sample).


@attrs.frozen
class _Provenance:
    """A task's uploads, looked up by label and by remote object. Read column by column: no object
    per uploaded label."""

    # (field, label id) -> (sample id, remote id, frame)
    by_label: dict[tuple[str, str], tuple[str, int, int | None]]
    # a remote object may stand for one label per frame (a track): its id and the frame name the label;
    # tracks and single shapes are numbered apart, so which of the two it is belongs to the key
    # (field, tracked, remote id, frame) -> label id
    by_remote: dict[tuple[str, bool, int, int | None], str]

    @classmethod
    def of(cls, task: TaskRecord) -> _Provenance:
        up = task.uploaded
        return cls(
            by_label={
                (f, label_id): (sample_id, remote_id, frame)
                for f, label_id, sample_id, remote_id, frame in zip(
                    up.fields, up.label_ids, up.sample_ids, up.remote_ids, up.frames, strict=True
                )
            },
            by_remote={
                (f, kind == TRACK, remote_id, frame): label_id
                for f, kind, remote_id, frame, label_id in zip(
                    up.fields, up.remote_kinds, up.remote_ids, up.frames, up.label_ids, strict=True
                )
            },
        )

    def owned(self, field: str, label_id: str | None, sample_id: str, frame: int | None) -> bool:
        """The label ``label_id`` went up from ``sample_id`` (and video frame ``frame``) in ``field``: a claim
        the imported label may make."""
        found = self.by_label.get((field, label_id)) if label_id is not None else None
        return found is not None and found[0] == sample_id and found[2] == frame

    def remote_claim(self, field: str, item: ImportedLabel) -> str | None:
        """The label uploaded from ``item``'s sample as one of its remote objects, if any."""
        for remote_id in item.remote_ids:
            label_id = self.by_remote.get((field, item.tracked, remote_id, item.frame))
            if label_id is not None and self.owned(field, label_id, item.sample_id, item.frame):
                return label_id
        return None


def _held_values(unread: Sequence[Rejection]) -> set[tuple[str | None, str]]:
    return {(r.sample_id, r.field) for r in unread if r.label_id is None}


def _value_held(held: set[tuple[str | None, str]], sample_id: str, field: str) -> bool:
    return (sample_id, field) in held or (sample_id, "") in held


# --- Label fields: match, merge or add, delete ---------------------------------------------------

_Originals = dict[str, tuple[str, int | None, Label]]  # label id -> (sample id, frame, label)


# An imported label, the original it stands for (None: a new label), its remote object's id, and the id a
# new label takes from that object (with an id seed). A plain tuple: a task builds one per label read back.
_Match = tuple[ImportedLabel, str | None, int | None, str | None]


def _originals(field: FieldSchema, samples: Mapping[str, Sample]) -> _Originals:
    """The field's labels: a frame field's are on frames of their video, so a label is (sample, frame, label)."""
    return {
        label.id: (sample_id, frame, label)
        for sample_id, sample in samples.items()
        for frame, label in field_labels(sample, field.path)
    }


def _field_items(
    field: FieldSchema, imported: Sequence[ImportedLabel], originals: _Originals
) -> tuple[list[ImportedLabel], list[Rejection], set[_Place]]:
    """The labels read back for ``field``; for a classification field, those `_one_classification` keeps."""
    items = [i for i in imported if i.field == field.path]
    if field.label_type != "classification":
        return items, [], set()
    return _one_classification(field, items, originals)


def _one_classification(
    field: FieldSchema, items: Sequence[ImportedLabel], originals: _Originals
) -> tuple[list[ImportedLabel], list[Rejection], set[_Place]]:
    """A classification field holds one label per sample (per frame for a frame field), where the tool may
    hold several (a video's tags on several frames all land on the video). Several of one class are one
    label: the one naming an original of that place, else the first. Several classes are refused as
    ``one_label``, and the place keeps what it holds (returned, so nothing there is deleted)."""
    by_place: dict[_Place, list[ImportedLabel]] = {}
    for item in items:
        by_place.setdefault((item.sample_id, item.frame), []).append(item)
    kept: list[ImportedLabel] = []
    refused: list[Rejection] = []
    held: set[_Place] = set()
    for place, found in by_place.items():
        classes = sorted({getattr(i.label, "label", None) for i in found}, key=str)
        if len(classes) > 1:
            held.add(place)
            where = "frame" if place[1] is not None else "sample"
            refused.append(
                Rejection(
                    sample_id=place[0],
                    field=field.path,
                    rule="one_label",
                    attempted=f"set {len(classes)} classes {classes!r}: a classification field holds one label per {where}",
                    frame=place[1],
                    remote_id=found[0].remote_ids[0] if found[0].remote_ids else None,
                )
            )
            continue
        own = [i for i in found if i.label_id in originals and originals[i.label_id][:2] == place]
        kept.append((own or found)[0])
    return kept, refused, held


def _resolved(
    field: FieldSchema,
    items: Sequence[ImportedLabel],
    originals: _Originals,
    provenance: _Provenance,
    id_seed: str | None,
) -> list[_Match]:
    """Each imported label with the original it claims: by label_id, else by remote object, else by the id an
    earlier load derived from its object. A label_id claimed twice keeps its first claimant."""
    claimed: set[str] = set()
    matches = []
    for item in items:
        remote_id = item.remote_ids[0] if item.remote_ids else None
        label_id = _claim(field.path, item, id_seed, remote_id, originals, provenance)
        if label_id in claimed:
            label_id = None  # provenance duplicated in the tool: the first claimant keeps it
        elif label_id is not None:
            claimed.add(label_id)
        # hashed only for a label that may be added: most of a load's labels match their originals
        derived = _derived(id_seed, field.path, item, remote_id) if label_id not in originals else None
        matches.append((item, label_id, remote_id, derived))
    return matches


def _derived(id_seed: str | None, field: str, item: ImportedLabel, remote_id: int | None) -> str | None:
    """The id a label made from ``item``'s remote object takes; an object stands for one label per frame it
    covers (a track), so the frame is part of its identity."""
    if id_seed is None or remote_id is None:
        return None
    return derived_id(
        id_seed, field, remote_id, *(() if item.frame is None else (item.frame,)), *((TRACK,) if item.tracked else ())
    )


def _claim(
    field: str,
    item: ImportedLabel,
    id_seed: str | None,
    remote_id: int | None,
    originals: _Originals,
    provenance: _Provenance,
) -> str | None:
    if provenance.owned(field, item.label_id, item.sample_id, item.frame):
        return item.label_id
    label_id = provenance.remote_claim(field, item)
    if label_id is not None:
        return label_id
    derived = _derived(id_seed, field, item, remote_id)
    if derived is not None and derived in originals and originals[derived][:2] == (item.sample_id, item.frame):
        return derived  # a label an earlier load made from this very object, on this sample
    return None


def _continue_tracks(
    field: FieldSchema, matches: list[_Match], originals: _Originals, provenance: _Provenance
) -> list[_Match]:
    """The matches, where a track's label with no provenance continues the unclaimed label of its sample,
    frame and index."""
    claimed = {label_id for _, label_id, _, _ in matches if label_id is not None}
    on_track = {
        (sample_id, frame, index): label_id
        for label_id, (sample_id, frame, label) in originals.items()
        if (index := getattr(label, "index", None)) is not None
        and label_id not in claimed
        and (field.path, label_id) in provenance.by_label
    }
    if not on_track:
        return matches
    held_index = _held_indexes(field, matches, originals)
    continued: list[_Match] = []
    for item, label_id, remote_id, derived in matches:
        index = getattr(item.label, "index", None)
        if label_id is None and index is not None and item.frame is not None:
            label_id = on_track.pop((item.sample_id, item.frame, index), None)
            if label_id is None and remote_id is not None and (item.tracked, remote_id) in held_index:
                label_id = on_track.pop((item.sample_id, item.frame, held_index[(item.tracked, remote_id)]), None)
        continued.append((item, label_id, remote_id, derived))
    return continued


def _held_indexes(field: FieldSchema, matches: Sequence[_Match], originals: _Originals) -> dict[tuple[bool, int], int]:
    """With allow_index_edits=False a track keeps the index its matched labels had, so its other labels look
    there: (tracked, remote id) -> index."""
    held: dict[tuple[bool, int], int] = {}
    if field.allow_index_edits:
        return held
    for item, label_id, remote_id, _ in matches:
        index = getattr(originals[label_id][2], "index", None) if label_id in originals else None
        if remote_id is not None and index is not None:
            held.setdefault((item.tracked, remote_id), index)
    return held


def _merged_or_added(
    field: FieldSchema, target: str, matches: Sequence[_Match], originals: _Originals, provenance: _Provenance
) -> tuple[list[MergedChange], list[Rejection]]:
    """Each match merged into its original, or added as a new label, under the restrictions."""
    changes: list[MergedChange] = []
    rejections: list[Rejection] = []
    for match in matches:
        change, refused = _merge_or_add(field, target, match, originals, provenance)
        if change is not None:
            changes.append(change)
        if refused:
            rejections += refused
    return changes, rejections


def _merge_or_add(
    field: FieldSchema, target: str, match: _Match, originals: _Originals, provenance: _Provenance
) -> tuple[MergedChange | None, Sequence[Rejection]]:
    item, label_id, remote_id, derived = match
    source = field.path if target != field.path else None
    if label_id is not None and label_id in originals:
        return _merged(field, target, item, remote_id, originals[label_id])
    if (
        label_id is not None
        and target != field.path
        and provenance.by_label[(field.path, label_id)][0] == item.sample_id
    ):
        # an earlier load put this object's label into the destination field: write it again
        return MergedChange(
            action=MergeAction.ADDED,
            sample_id=item.sample_id,
            field=target,
            label_id=label_id,
            frame=item.frame,
            label=item.label.replace(id=label_id),
            remote_id=remote_id,
            source_field=source,
            tracked=item.tracked,
        ), ()
    if not field.allow_additions:
        return None, [
            Rejection(
                sample_id=item.sample_id,
                field=field.path,
                rule="allow_additions",
                attempted=f"add a {getattr(item.label, 'label', 'label')!r} label",
                frame=item.frame,
                remote_id=remote_id,
            )
        ]
    fresh = item.label.replace(id=derived or new_id())  # its id is fixed now, so re-applying never copies it
    return MergedChange(
        action=MergeAction.ADDED,
        sample_id=item.sample_id,
        field=target,
        label_id=fresh.id,
        frame=item.frame,
        label=fresh,
        remote_id=remote_id,
        source_field=source,
        tracked=item.tracked,
    ), ()


def _merged(
    field: FieldSchema, target: str, item: ImportedLabel, remote_id: int | None, found: tuple[str, int | None, Label]
) -> tuple[MergedChange | None, Sequence[Rejection]]:
    """A label matched to its original: the edit (into another field: a copy), and the edits refused."""
    sample_id, frame, original = found
    # The very label uploaded, returned unchanged (the backend said so): nothing to compare.
    unchanged = item.label is original
    merged, rejections = (
        (original, ()) if unchanged else _merge_one(field, original, item.label, sample_id, remote_id, frame)
    )
    if (unchanged or merged == original) and target == field.path:
        return None, rejections
    return MergedChange(
        action=MergeAction.EDITED if target == field.path else MergeAction.ADDED,
        sample_id=sample_id,
        field=target,
        label_id=merged.id,
        frame=frame,
        label=merged,
        remote_id=remote_id,
        source_field=field.path if target != field.path else None,
        tracked=item.tracked,
    ), rejections


def _deletions(
    field: FieldSchema,
    claimed: set[str | None],
    originals: _Originals,
    provenance: _Provenance,
    kept: set[str],
    held_places: set[_Place],
) -> tuple[list[MergedChange], list[Rejection]]:
    """The field's uploaded labels nothing claimed, deleted in the tool (refused without allow_deletions);
    those an unread object names, or on a place the field holds as it is, stay."""
    changes: list[MergedChange] = []
    rejections: list[Rejection] = []
    for (uploaded_field, label_id), (sample_id, remote_id, _) in provenance.by_label.items():
        if (
            uploaded_field != field.path
            or label_id in claimed
            or label_id not in originals
            or label_id in kept
            or originals[label_id][:2] in held_places
        ):
            continue
        frame = originals[label_id][1]
        if field.allow_deletions:
            changes.append(
                MergedChange(
                    action=MergeAction.DELETED,
                    sample_id=sample_id,
                    field=field.path,
                    label_id=label_id,
                    frame=frame,
                    remote_id=remote_id,
                )
            )
        else:
            rejections.append(
                Rejection(
                    sample_id=sample_id,
                    field=field.path,
                    rule="allow_deletions",
                    attempted="delete the label",
                    label_id=label_id,
                    frame=frame,
                    remote_id=remote_id,
                )
            )
    return changes, rejections


def merge_task(
    schema: LabelSchema,
    task: TaskRecord,
    samples: Mapping[str, Sample],
    imported: Sequence[ImportedLabel],
    dest_field: Mapping[str, str] | None = None,
    values: Sequence[ImportedValue] = (),
    scalar_kinds: Mapping[str, str] | None = None,
    unread: Sequence[Rejection] = (),
    id_seed: str | None = None,
) -> tuple[list[MergedChange], list[Rejection]]:
    """The changes one task's download makes to the dataset, and the edits refused.

    ``values`` are the scalar fields' values read back; ``scalar_kinds`` names the kind each
    scalar field's values take (by field path; default: the schema's ``scalar_kind``, else str).
    ``task`` holds the provenance as the task's ledger keeps it: uploads and the labels earlier
    loads added. With ``id_seed`` (unique to the task), a new label's id follows from its remote
    object, so the same object never becomes two labels, even where its provenance was lost.
    ``unread`` are the backend's refusals of objects it did not read: what they name is kept.
    """
    dest_field = dict(dest_field or {})
    scalar_kinds = dict(scalar_kinds or {})
    kept = {r.label_id for r in unread if r.label_id is not None}
    held = _held_values(unread)
    provenance = _Provenance.of(task)
    changes: list[MergedChange] = []
    rejections: list[Rejection] = []
    for field in schema:
        target = dest_field.get(field.path, field.path)
        if field.label_type == "scalar":
            kind = scalar_kinds.get(field.path) or field.scalar_kind or "str"
            found, refused = _merge_scalar(field, kind, target, task, samples, values, held)
            changes += found
            rejections += refused
            continue
        originals = _originals(field, samples)
        items, refused, held_places = _field_items(field, imported, originals)
        matches = _continue_tracks(
            field, _resolved(field, items, originals, provenance, id_seed), originals, provenance
        )
        merged, merge_refused = _merged_or_added(field, target, matches, originals, provenance)
        rejections += refused + merge_refused
        changes += merged
        if target == field.path:  # loading into another field leaves the source field alone
            claimed = {label_id for _, label_id, _, _ in matches}
            deleted, delete_refused = _deletions(field, claimed, originals, provenance, kept, held_places)
            changes += deleted
            rejections += delete_refused
    return changes, rejections

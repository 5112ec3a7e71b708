"""The merge policy: what a task's downloaded labels change in the dataset, and what is refused.

Provenance, as FiftyOne's guide ("CVAT limitations") describes: an imported label is matched
to an uploaded one by its ``label_id`` first, then by the tool's object id recorded at upload. A
label_id claimed twice keeps its first claimant; the others count as new. Uploaded labels that
nothing matches were deleted in the tool.

What the server says is not trusted (see "Claims and unread objects" below): a claim holds
only for a label of the imported label's own sample and field, and a label whose object the
backend could not read is kept as it is.

Restrictions are enforced here: ``allow_additions``, ``allow_deletions``,
``allow_label_edits``, ``allow_index_edits``, ``allow_spatial_edits`` and read-only attributes. A
refused edit becomes a `Rejection` and never reaches the label store; the
rest of the label's edit still applies. Attributes that were not sent to the tool
are kept on merged labels.

A classification field holds one label per sample (or frame): several of one class read back for
it are one label, several classes are refused (``one_label``) and leave it as it is.

Scalar fields hold one value per sample, as FiftyOne's: a value set where
there was none is an addition, a cleared one a deletion, a changed one an edit
(``allow_label_edits``). What the backend returns (the tool may keep text) is
converted to the field's kind first; a value that does not convert, or several
different values for one sample, are refused and the field keeps its value.
A video frame field's label is on a frame of its sample: it is matched only on its own
sample and frame, and changes carry the frame number.

Tracks (labels sharing an ``index`` through a video): a label read back from a track carries the
index the backend gave the track (`domain.track_indexes`); one that differs from the original's
is an index edit (``allow_index_edits``: a track merged into another, or the later part of a split
one). A track label without provenance (an interpolated frame of a track the tool re-created)
takes the label of the same sample, frame and index that nothing else claimed, as FiftyOne does.
``keyframe`` follows the tool on a label whose edit applies in some part (None counts as no
keyframe), and is left alone on a label otherwise unchanged (the tool makes a segment's first
frame a keyframe), so an untouched upload loads as no change.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

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
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


def _same_geometry(a: Label, b: Label) -> bool:
    for name in GEOMETRY:
        x, y = getattr(a, name, None), getattr(b, name, None)
        if hasattr(x, "tobytes") or hasattr(y, "tobytes"):
            if not (hasattr(x, "tobytes") and hasattr(y, "tobytes") and x.shape == y.shape and x.tobytes() == y.tobytes()):
                return False
        elif not (_same(x, y) or x == y):
            return False
    return True


def _merge_one(field: FieldSchema, original: Label, imported: Label, sample_id: str,
               rejections: list[Rejection], remote_id: int | None, frame: int | None = None) -> Label:
    changes: dict = {}
    def refuse(rule: str, attempted: str) -> None:
        rejections.append(Rejection(sample_id, field.path, rule, attempted, original.id, frame, remote_id))

    new_class = getattr(imported, "label", None)
    if new_class is not None and new_class != getattr(original, "label", None):
        if field.allow_label_edits:
            changes["label"] = new_class
        else:
            refuse("allow_label_edits", f"relabel {original.label!r} as {new_class!r}")
    if not _same_geometry(imported, original):
        if field.allow_spatial_edits:
            changes.update({n: getattr(imported, n) for n in GEOMETRY if hasattr(original, n)})
            if isinstance(original, Keypoint) and original.confidence is not None \
                    and len(changes["points"]) != len(original.points):
                changes["confidence"] = None  # one confidence per point: the tool changed the count, so none fits
        else:
            refuse("allow_spatial_edits", "move or reshape the label")
    new_index = getattr(imported, "index", None)
    if new_index is not None and new_index != getattr(original, "index", None):
        if field.allow_index_edits:
            changes["index"] = new_index
        else:
            before = getattr(original, "index", None)
            refuse("allow_index_edits", f"move it from track {before} to track {new_index}" if before is not None
                   else f"make it part of track {new_index}")
    if hasattr(original, "attributes"):
        attributes = dict(original.attributes)
        sent = {a.name: a for a in field.attributes_for(getattr(original, "label", ""))}
        for name, spec in sent.items():
            before, after = original.attributes.get(name), imported.attributes.get(name)
            if after == before or (after is None and name not in imported.attributes):
                continue
            if spec.read_only:
                refuse("read_only", f"change read-only attribute {name!r} from {before!r} to {after!r}")
            else:
                attributes[name] = after
        if attributes != dict(original.attributes):
            changes["attributes"] = attributes
    keyframe = getattr(imported, "keyframe", None)
    if changes and keyframe is not None and keyframe != bool(getattr(original, "keyframe", None)):
        changes["keyframe"] = keyframe  # follows the tool on a label an annotator changed (None is no keyframe)
    return original.replace(**changes) if changes else original


def _merge_scalar(field: FieldSchema, kind: str, target: str, task: TaskRecord, samples: Mapping[str, Sample],
                  values: Sequence[ImportedValue], changes: list[MergedChange], rejections: list[Rejection],
                  held: set[tuple[str | None, str]] = frozenset()) -> None:
    """One value per sample: the tool's value (None when it holds none) against the sample's, under the restrictions."""
    found: dict[tuple[str, int | None], list[ImportedValue]] = {}
    for item in values:
        if item.field == field.path:
            found.setdefault((item.sample_id, item.frame if field.on_frames else None), []).append(item)
    # a sample field holds one value per sample; a frame field one per video frame the task shows
    places = ([(ref.sample_id, ref.frame) for ref in task.frames] if field.on_frames
              else [(sample_id, None) for sample_id in task.sample_ids])
    for place in places:
        sample_id, frame = place
        if _value_held(held, sample_id, field.path):
            continue  # an object on this sample was not read: it may hold the value
        sample = samples.get(sample_id)
        before = sample.get(field.path, frame) if sample is not None else None
        parsed: list[Scalar] = []
        refused = False
        for item in found.get(place, []):
            try:
                parsed.append(scalar_as(kind, item.value))
            except ValueError as error:
                refused = True
                rejections.append(Rejection(sample_id, field.path, "scalar_kind",
                                            f"set the value {item.value!r}: {error} (field {field.path!r} holds {kind} values)",
                                            None, frame, item.remote_id))
        distinct: list[Scalar] = []
        for value in parsed:
            if value is not None and not any(_same(value, d) for d in distinct):
                distinct.append(value)
        if len(distinct) > 1:
            refused = True
            rejections.append(Rejection(sample_id, field.path, "one_value",
                                        f"set {len(distinct)} values {distinct!r}: a scalar field holds one value per "
                                        f"{'frame' if frame is not None else 'sample'}",
                                        None, frame, found[place][0].remote_id))
        if refused:
            continue  # the field keeps its value
        after = distinct[0] if distinct else None
        remote_id = found[place][0].remote_id if place in found else None
        if after is None and before is not None and field.classes and str(before) not in field.classes:
            continue  # a value outside the classes was never sent, so the tool holding none deletes nothing
        if _same(before, after) or (before == "" and after is None):
            merged = before  # unchanged ('' goes up as empty text, which is also how the tool holds no value)
        elif before is None:
            if not field.allow_additions:
                rejections.append(Rejection(sample_id, field.path, "allow_additions", f"set the value {after!r}",
                                            None, frame, remote_id))
                continue
            merged = after
        elif after is None:
            if target != field.path:
                continue  # loading into another field leaves the source field alone
            if not field.allow_deletions:
                rejections.append(Rejection(sample_id, field.path, "allow_deletions", f"clear the value {before!r}",
                                            None, frame))
                continue
            merged = None
        elif field.allow_label_edits:
            merged = after
        else:
            rejections.append(Rejection(sample_id, field.path, "allow_label_edits",
                                        f"change the value {before!r} to {after!r}", None, frame, remote_id))
            merged = before
        if target != field.path:
            if merged is not None:
                changes.append(MergedChange(MergeAction.ADDED, sample_id, target, None, frame, value=merged,
                                            remote_id=remote_id))
        elif merged is None:
            if before is not None:
                changes.append(MergedChange(MergeAction.DELETED, sample_id, target, None, frame))
        elif not _same(merged, before):
            action = MergeAction.ADDED if before is None else MergeAction.EDITED
            changes.append(MergedChange(action, sample_id, target, None, frame, value=merged, remote_id=remote_id))


# --- Claims and unread objects -------------------------------------------------------------
# A server may send an object on one frame carrying the label_id (or remote id) of a label on
# another: the claim does not hold, so the object counts as new (or matches by its remote id) and
# the claimed label is left to its own object. An object the backend could not read (malformed,
# or past the per-frame limit) is still on the server: the label it names is not deleted, and a
# scalar field is left as it is on a sample such an object is on (a refusal naming no field
# holds every scalar field of its sample).


def _owned(uploaded_ids: Mapping[tuple[str, str | None], tuple[str, int, int | None]], field: str,
           label_id: str | None, sample_id: str, frame: int | None) -> bool:
    """The label ``label_id`` went up from ``sample_id`` (and video frame ``frame``) in ``field``: a claim
    the imported label may make."""
    found = uploaded_ids.get((field, label_id))
    return found is not None and found[0] == sample_id and found[2] == frame


def _held_values(unread: Sequence[Rejection]) -> set[tuple[str | None, str]]:
    return {(r.sample_id, r.field) for r in unread if r.label_id is None}


def _value_held(held: set[tuple[str | None, str]], sample_id: str, field: str) -> bool:
    return (sample_id, field) in held or (sample_id, "") in held


def _one_classification(field: FieldSchema, items: Sequence[ImportedLabel],
                        originals: Mapping[str, tuple[str, int | None, Label]]
                        ) -> tuple[list[ImportedLabel], list[Rejection], set[tuple[str, int | None]]]:
    """A classification field holds one label per sample (per frame for a frame field), where the tool may
    hold several (a video's tags on several frames all land on the video). Several of one class are one
    label: the one naming an original of that place, else the first. Several classes are refused as
    ``one_label``, and the place keeps what it holds (returned, so nothing there is deleted)."""
    by_place: dict[tuple[str, int | None], list[ImportedLabel]] = {}
    for item in items:
        by_place.setdefault((item.sample_id, item.frame), []).append(item)
    kept: list[ImportedLabel] = []
    refused: list[Rejection] = []
    held: set[tuple[str, int | None]] = set()
    for place, found in by_place.items():
        classes = sorted({getattr(i.label, "label", None) for i in found}, key=str)
        if len(classes) > 1:
            held.add(place)
            where = "frame" if place[1] is not None else "sample"
            refused.append(Rejection(place[0], field.path, "one_label",
                                     f"set {len(classes)} classes {classes!r}: a classification field holds one label "
                                     f"per {where}", None, place[1],
                                     found[0].remote_ids[0] if found[0].remote_ids else None))
            continue
        own = [i for i in found if i.label_id in originals and originals[i.label_id][:2] == place]
        kept.append((own or found)[0])
    return kept, refused, held


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
    kept = {r.label_id for r in unread if r.label_id is not None}
    held = _held_values(unread)
    scalar_kinds = dict(scalar_kinds or {})
    changes: list[MergedChange] = []
    rejections: list[Rejection] = []
    up = task.uploaded  # read column by column: no object per uploaded label
    # a remote object may stand for one label per frame (a track): its id and the frame name the label;
    # tracks and single shapes are numbered apart, so which of the two it is belongs to the key
    by_remote_id = {(f, kind == TRACK, remote_id, frame): label_id for f, kind, remote_id, frame, label_id
                    in zip(up.fields, up.remote_kinds, up.remote_ids, up.frames, up.label_ids)}
    uploaded_ids = {(f, label_id): (sample_id, remote_id, frame) for f, label_id, sample_id, remote_id, frame
                    in zip(up.fields, up.label_ids, up.sample_ids, up.remote_ids, up.frames)}
    for field in schema:
        target = dest_field.get(field.path, field.path)
        if field.label_type == "scalar":
            kind = scalar_kinds.get(field.path) or field.scalar_kind or "str"
            _merge_scalar(field, kind, target, task, samples, values, changes, rejections, held)
            continue
        # a frame field's labels are on frames of their video: a label is (sample, frame, label)
        originals = {
            label.id: (sample_id, frame, label)
            for sample_id, sample in samples.items()
            for frame, label in field_labels(sample, field.path)
        }
        claimed: set[str] = set()
        source = field.path if target != field.path else None
        items = [i for i in imported if i.field == field.path]
        held_places: set[tuple[str, int | None]] = set()
        if field.label_type == "classification":
            items, refused, held_places = _one_classification(field, items, originals)
            rejections += refused
        resolved: list[tuple[ImportedLabel, str | None, int | None, str | None]] = []
        for item in items:
            place = (item.sample_id, item.frame)
            label_id = item.label_id if _owned(uploaded_ids, field.path, item.label_id, *place) else None
            if label_id is None:
                label_id = next((by_remote_id[key] for c in item.remote_ids
                                 if (key := (field.path, item.tracked, c, item.frame)) in by_remote_id
                                 and _owned(uploaded_ids, field.path, by_remote_id[key], *place)), None)
            remote_id = item.remote_ids[0] if item.remote_ids else None
            # an object stands for one label per frame it covers (a track): the frame is part of its identity
            derived = (derived_id(id_seed, field.path, remote_id, *(() if item.frame is None else (item.frame,)),
                                  *((TRACK,) if item.tracked else ()))
                       if id_seed is not None and remote_id is not None else None)
            if label_id is None and derived is not None and derived in originals \
                    and originals[derived][:2] == place:
                label_id = derived  # a label an earlier load made from this very object, on this sample
            if label_id in claimed:
                label_id = None  # provenance duplicated in the tool: the first claimant keeps it
            if label_id is not None:
                claimed.add(label_id)
            resolved.append((item, label_id, remote_id, derived))
        # a track's label with no provenance continues the unclaimed label of its sample, frame and index
        on_track = {(sample_id, frame, label.index): label_id for label_id, (sample_id, frame, label) in originals.items()
                    if getattr(label, "index", None) is not None and label_id not in claimed
                    and (field.path, label_id) in uploaded_ids}
        # with allow_index_edits=False a track keeps the index its matched labels had, so its other labels look there
        held_index: dict[tuple[bool, int], int] = {}
        if not field.allow_index_edits:
            for item, label_id, remote_id, _ in resolved:
                index = getattr(originals[label_id][2], "index", None) if label_id in originals else None
                if remote_id is not None and index is not None:
                    held_index.setdefault((item.tracked, remote_id), index)
        for position, (item, label_id, remote_id, derived) in enumerate(resolved):
            index = getattr(item.label, "index", None)
            if label_id is None and index is not None and item.frame is not None:
                continued = on_track.pop((item.sample_id, item.frame, index), None)
                if continued is None and (item.tracked, remote_id) in held_index:
                    continued = on_track.pop((item.sample_id, item.frame, held_index[(item.tracked, remote_id)]), None)
                if continued is not None:
                    claimed.add(continued)
                    resolved[position] = (item, continued, remote_id, derived)
        for item, label_id, remote_id, derived in resolved:
            if label_id is not None and label_id not in originals and target != field.path \
                    and uploaded_ids[(field.path, label_id)][0] == item.sample_id:
                # an earlier load put this object's label into the destination field: write it again
                changes.append(MergedChange(MergeAction.ADDED, item.sample_id, target, label_id, item.frame,
                                            label=item.label.replace(id=label_id), remote_id=remote_id,
                                            source_field=source, tracked=item.tracked))
                continue
            if label_id is not None and label_id in originals:
                sample_id, frame, original = originals[label_id]
                # The very label uploaded, returned unchanged (the backend said so): nothing to compare.
                unchanged = item.label is original
                merged = original if unchanged else _merge_one(field, original, item.label, sample_id, rejections,
                                                               remote_id, frame)
                if (not unchanged and merged != original) or target != field.path:
                    changes.append(MergedChange(MergeAction.EDITED if target == field.path else MergeAction.ADDED,
                                                sample_id, target, merged.id, frame, label=merged, remote_id=remote_id,
                                                source_field=source, tracked=item.tracked))
                continue
            if not field.allow_additions:
                rejections.append(Rejection(item.sample_id, field.path, "allow_additions",
                                            f"add a {getattr(item.label, 'label', 'label')!r} label", None, item.frame,
                                            remote_id))
                continue
            fresh = item.label.replace(id=derived or new_id())  # its id is fixed now, so re-applying never copies it
            changes.append(MergedChange(MergeAction.ADDED, item.sample_id, target, fresh.id, item.frame, label=fresh,
                                        remote_id=remote_id, source_field=source, tracked=item.tracked))
        for (uploaded_field, label_id), (sample_id, remote_id, _) in uploaded_ids.items():
            if uploaded_field != field.path or label_id in claimed or label_id not in originals or label_id in kept \
                    or originals[label_id][:2] in held_places:
                continue
            if target != field.path:
                continue  # loading into another field leaves the source field alone
            frame = originals[label_id][1]
            if not field.allow_deletions:
                rejections.append(Rejection(sample_id, field.path, "allow_deletions", "delete the label",
                                            label_id, frame, remote_id))
                continue
            changes.append(MergedChange(MergeAction.DELETED, sample_id, field.path, label_id, frame,
                                        remote_id=remote_id))
    return changes, rejections

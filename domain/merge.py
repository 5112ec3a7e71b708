"""The merge policy: what a task's downloaded labels change in the dataset, and what is refused.

Provenance, as the seed's "CVAT limitations" describes: an imported label is
matched to an uploaded one by its ``label_id`` first, then by the CVAT object
id recorded at upload. A label_id claimed twice keeps its first claimant; the
others count as new. Uploaded labels that nothing matches were deleted in CVAT.

Restrictions are enforced here: ``allow_additions``, ``allow_deletions``,
``allow_label_edits``, ``allow_spatial_edits`` and read-only attributes. A
refused edit becomes a `Rejection` and never reaches the label store; the
rest of the label's edit still applies. Attributes that were not sent to CVAT
are kept on merged labels.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

from annoflow.domain.ids import new_id
from annoflow.domain.label_schema import FieldSchema, LabelSchema
from annoflow.domain.labels import Label, labels_in
from annoflow.domain.run_records import MergeAction, MergedChange, Rejection, TaskRecord
from annoflow.domain.samples import Sample

GEOMETRY = ("bounding_box", "mask", "points")


@attrs.frozen
class ImportedLabel:
    """A label read back from the backend, on a sample (and frame), with its provenance."""

    field: str
    sample_id: str
    label: Label
    label_id: str | None = None
    cvat_ids: tuple[int, ...] = ()
    frame: int | None = None


def _geometry(label: Label) -> tuple:
    values = []
    for name in GEOMETRY:
        value = getattr(label, name, None)
        values.append(value.tobytes() + str(value.shape).encode() if hasattr(value, "tobytes") else value)
    return tuple(values)


def _merge_one(field: FieldSchema, original: Label, imported: Label, sample_id: str,
               rejections: list[Rejection], cvat_id: int | None) -> Label:
    changes: dict = {}
    def refuse(rule: str, attempted: str) -> None:
        rejections.append(Rejection(sample_id, field.path, rule, attempted, original.id, None, cvat_id))

    new_class = getattr(imported, "label", None)
    if new_class is not None and new_class != getattr(original, "label", None):
        if field.allow_label_edits:
            changes["label"] = new_class
        else:
            refuse("allow_label_edits", f"relabel {original.label!r} as {new_class!r}")
    if _geometry(imported) != _geometry(original):
        if field.allow_spatial_edits:
            changes.update({n: getattr(imported, n) for n in GEOMETRY if hasattr(original, n)})
        else:
            refuse("allow_spatial_edits", "move or reshape the label")
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
    return original.replace(**changes) if changes else original


def merge_task(
    schema: LabelSchema,
    task: TaskRecord,
    samples: Mapping[str, Sample],
    imported: Sequence[ImportedLabel],
    dest_field: Mapping[str, str] | None = None,
) -> tuple[list[MergedChange], list[Rejection]]:
    """The changes one task's download makes to the dataset, and the edits refused."""
    dest_field = dict(dest_field or {})
    changes: list[MergedChange] = []
    rejections: list[Rejection] = []
    by_cvat_id = {(u.field, u.cvat_id): u.label_id for u in task.uploaded}
    uploaded_ids = {(u.field, u.label_id): u for u in task.uploaded}
    for field in schema:
        target = dest_field.get(field.path, field.path)
        originals = {
            label.id: (sample_id, label)
            for sample_id, sample in samples.items()
            for label in labels_in(sample.get(field.path) if not field.on_frames else None)
        }
        claimed: set[str] = set()
        for item in (i for i in imported if i.field == field.path):
            label_id = item.label_id if (field.path, item.label_id) in uploaded_ids else None
            if label_id is None:
                label_id = next((by_cvat_id[(field.path, c)] for c in item.cvat_ids if (field.path, c) in by_cvat_id), None)
            if label_id in claimed:
                label_id = None  # provenance duplicated in CVAT: the first claimant keeps it
            cvat_id = item.cvat_ids[0] if item.cvat_ids else None
            if label_id is not None and label_id in originals:
                claimed.add(label_id)
                sample_id, original = originals[label_id]
                merged = _merge_one(field, original, item.label, sample_id, rejections, cvat_id)
                if merged != original or target != field.path:
                    changes.append(MergedChange(MergeAction.EDITED if target == field.path else MergeAction.ADDED,
                                                sample_id, target, merged.id, label=merged, cvat_id=cvat_id))
                continue
            if not field.allow_additions:
                rejections.append(Rejection(item.sample_id, field.path, "allow_additions",
                                            f"add a {getattr(item.label, 'label', 'label')!r} label", None, None, cvat_id))
                continue
            fresh = item.label.replace(id=new_id())  # its id is fixed now, so re-applying never copies it
            changes.append(MergedChange(MergeAction.ADDED, item.sample_id, target, fresh.id, label=fresh, cvat_id=cvat_id))
        for (uploaded_field, label_id), upload in uploaded_ids.items():
            if uploaded_field != field.path or label_id in claimed or label_id not in originals:
                continue
            if target != field.path:
                continue  # loading into another field leaves the source field alone
            if not field.allow_deletions:
                rejections.append(Rejection(upload.sample_id, field.path, "allow_deletions", "delete the label",
                                            label_id, None, upload.cvat_id))
                continue
            changes.append(MergedChange(MergeAction.DELETED, upload.sample_id, field.path, label_id, cvat_id=upload.cvat_id))
    return changes, rejections

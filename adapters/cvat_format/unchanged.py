"""Objects that CVAT returns exactly as they were uploaded: their labels need no conversion.

On a typical load most objects are untouched. Converting each back to a label
(pixels to relative coordinates, attribute types, a new immutable label) and
merging it with the original costs far more than checking that the object is
what the original uploads as today: the same CVAT label, frame, geometry,
occluded flag, group and attribute values, with no other object claiming the
same label_id. Such an object stands for the original itself, so the merge sees
the very same label and records nothing. Everything else takes the full path.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from annoflow.adapters.cvat_format.schema import LABEL_ID, ServerLabels, object_type
from annoflow.adapters.cvat_format.upload import Uploader
from annoflow.domain.labels import Label
from annoflow.domain.run_records import TaskRecord

_KINDS = (("tags", "tags"), ("shapes", "shapes"))
_SHAPE_KEYS = ("type", "points", "occluded", "outside", "rotation")


def _label_id_of(obj: Mapping[str, Any], spec_of: Mapping[int, int]) -> str | None:
    spec = spec_of.get(obj.get("label_id"))
    if spec is None:
        return None
    return next((a.get("value") for a in obj.get("attributes", ()) if a.get("spec_id") == spec), None)


def split_unchanged(
    data: Mapping[str, Any],
    task: TaskRecord,
    originals: Mapping[str, Label],
    uploaders: Mapping[str, Uploader],
    server: ServerLabels,
    sizes: Sequence[tuple[int, int]],
) -> tuple[dict[str, Any], list[tuple[str, str, Label, str, int]]]:
    """(the objects left to convert, and (field, sample id, original label, label id, CVAT id) of the unchanged)."""
    spec_of = {cvat_label: spec for (cvat_label, name), spec in server.spec_ids.items() if name == LABEL_ID}
    claims = Counter(
        _label_id_of(obj, spec_of) for kind in ("tags", "shapes", "tracks") for obj in data.get(kind, ()))
    up = task.uploaded
    uploaded = {label_id: (field, sample_id) for field, label_id, sample_id in zip(up.fields, up.label_ids, up.sample_ids)}
    rest: dict[str, Any] = {**data}
    unchanged = []
    for kind, cvat_kind in _KINDS:
        left = rest[kind] = []
        for obj in data.get(kind, ()):
            label_id = _label_id_of(obj, spec_of)
            found = _unchanged(obj, kind, label_id, claims, uploaded, originals, uploaders, server, task, sizes)
            if found is None:
                left.append(obj)
            else:
                unchanged.append((found[0], found[1], found[2], label_id, obj["id"]))
    return rest, unchanged


def _unchanged(obj: Mapping[str, Any], kind: str, label_id: str | None, claims: Counter, uploaded: Mapping[str, Any],
               originals: Mapping[str, Label], uploaders: Mapping[str, Uploader], server: ServerLabels,
               task: TaskRecord, sizes: Sequence[tuple[int, int]]) -> tuple[str, str, Label] | None:
    if label_id is None or claims[label_id] != 1:
        return None
    original, upload = originals.get(label_id), uploaded.get(label_id)
    cvat_class = server.class_of(obj.get("label_id"), object_type(obj, kind))
    frame = obj.get("frame")
    if original is None or upload is None or cvat_class is None or cvat_class.field != upload[0]:
        return None
    field, sample_id = upload
    if not isinstance(frame, int) or not 0 <= frame < len(task.frames) or task.frames[frame].sample_id != sample_id:
        return None
    width, height = sizes[frame] if frame < len(sizes) else sizes[0]
    # a bare label is a field value too: no one-label list to build and validate
    bodies = [o.body for o in uploaders[field].objects(original, frame, width, height)]
    if len(bodies) != 1 or (kind == "shapes") != ("points" in bodies[0]):
        return None  # labels of several CVAT objects (polylines with parts) take the full path
    sent = bodies[0]
    occluded = uploaders[field].occluded
    if occluded is not None and occluded.name not in getattr(original, "attributes", {}):
        return None  # the widget's flag always comes back, so the download gives the label a new attribute
    if sent["label_id"] != obj["label_id"] or (sent.get("group") or 0) != (obj.get("group") or 0):
        return None
    if kind == "shapes" and any(sent[key] != obj.get(key) for key in _SHAPE_KEYS):
        return None
    if {a["spec_id"]: a["value"] for a in sent["attributes"]} != {
            a.get("spec_id"): a.get("value") for a in obj.get("attributes", ())}:
        return None
    return field, sample_id, original

"""Objects that CVAT returns exactly as they were uploaded: their labels need no conversion.

On a typical load most objects are untouched. Converting each back to a label
(pixels to relative coordinates, attribute types, a new immutable label) and
merging it with the original costs far more than checking that the object is
what the original uploads as today: the same CVAT label, frame, geometry,
occluded flag, group and attribute values, with no other object claiming the
same label_id. Such an object stands for the original itself, so the merge sees
the very same label and records nothing. Everything else takes the full path.

Objects arrive as the server sent them, unchecked: this module reads any JSON value without
failing, and an object it takes is what annoflow uploaded (checked when it was made), so only
the objects it leaves need checking (`answer.check_objects`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from annoflow.adapters.cvat_format.download import Size, UnreadableError, size_of
from annoflow.adapters.cvat_format.paint import PAINTED_TYPES
from annoflow.adapters.cvat_format.schema import LABEL_ID, ServerLabels, object_type
from annoflow.adapters.cvat_format.upload import Uploader
from annoflow.domain.labels import Label
from annoflow.domain.run_records import TaskRecord

_KINDS = ("tags", "shapes")
_SHAPE_KEYS = ("type", "points", "occluded", "outside", "rotation")


def _label_id_of(obj: Any, spec_of: Mapping[int, int]) -> str | None:
    """The label_id attribute's value of any JSON value (None when it carries none as text)."""
    if type(obj) is not dict:
        return None
    label = obj.get("label_id")
    spec = spec_of.get(label) if type(label) is int else None
    attributes = obj.get("attributes")
    if spec is None or type(attributes) is not list:
        return None
    value = next((a.get("value") for a in attributes if type(a) is dict and a.get("spec_id") == spec), None)
    return value if type(value) is str else None


def split_unchanged(
    data: Mapping[str, Any],
    task: TaskRecord,
    originals: Mapping[str, Label],
    uploaders: Mapping[str, Uploader],
    server: ServerLabels,
    sizes: Sequence[Size | None],
) -> tuple[dict[str, Any], list[tuple[str, str, Label, str, int, int | None]]]:
    """(the objects left to convert, and (field, sample id, original label, label id, CVAT id, video frame
    number of a frame field's label) of the unchanged).

    A frame where a box or polygon was drawn with a segmentation's class keeps all its shapes for
    conversion: they are painted over its masks, which then cannot stand for the original alone."""
    spec_of = {cvat_label: spec for (cvat_label, name), spec in server.spec_ids.items() if name == LABEL_ID}
    # each object's label_id read once: counted here, looked up below
    carried = {
        kind: [_label_id_of(obj, spec_of) for obj in data.get(kind, ())] for kind in ("tags", "shapes", "tracks")
    }
    claims = Counter(label_id for ids in carried.values() for label_id in ids)
    up = task.uploaded
    uploaded = {
        label_id: (field, sample_id, number)
        for field, label_id, sample_id, number in zip(up.fields, up.label_ids, up.sample_ids, up.frames, strict=True)
    }
    rest: dict[str, Any] = {**data}
    unchanged: list[tuple[str, str, Label, str, int, int | None]] = []
    painted = _painted_frames(data.get("shapes", ()), uploaders, server)
    for kind in _KINDS:
        left = rest[kind] = []
        for obj, label_id in zip(data.get(kind, ()), carried[kind], strict=True):
            if kind == "shapes" and isinstance(obj, Mapping) and obj.get("frame") in painted:
                left.append(obj)
                continue
            found = _unchanged(obj, kind, label_id, claims, uploaded, originals, uploaders, server, task, sizes)
            if found is None:
                left.append(obj)
            else:
                assert label_id is not None  # _unchanged finds nothing without one
                unchanged.append((found[0], found[1], found[2], label_id, obj["id"], found[3]))
    return rest, unchanged


def _painted_frames(shapes: Any, uploaders: Mapping[str, Uploader], server: ServerLabels) -> set[Any]:
    """Frames holding a box or polygon drawn with the class of a segmentation field."""
    segmentation = {path for path, uploader in uploaders.items() if uploader.field.label_type == "segmentation"}
    if not segmentation:
        return set()
    frames = set()
    for obj in shapes:
        if isinstance(obj, Mapping) and obj.get("type") in PAINTED_TYPES:  # not yet checked for form
            label: Any = obj.get("label_id")  # unchecked JSON: any value, looked up as it is
            cls = server.class_of(label, object_type(obj, "shapes"))
            if cls is not None and cls.field in segmentation:
                frames.add(obj.get("frame"))
    return frames


def _unchanged(
    obj: Mapping[str, Any],
    kind: str,
    label_id: str | None,
    claims: Counter,
    uploaded: Mapping[str, Any],
    originals: Mapping[str, Label],
    uploaders: Mapping[str, Uploader],
    server: ServerLabels,
    task: TaskRecord,
    sizes: Sequence[Size | None],
) -> tuple[str, str, Label, int | None] | None:
    if label_id is None or claims[label_id] != 1 or type(obj.get("id")) is not int:
        return None
    original, upload = originals.get(label_id), uploaded.get(label_id)
    cvat_label: Any = obj.get("label_id")  # unchecked JSON: any value, looked up as it is
    cvat_class = server.class_of(cvat_label, object_type(obj, kind))
    frame = obj.get("frame")
    if original is None or upload is None or cvat_class is None or cvat_class.field != upload[0]:
        return None
    field, sample_id, number = upload
    if (
        type(frame) is not int
        or not 0 <= frame < len(task.frames)
        or task.frames[frame].sample_id != sample_id
        or (number is not None and task.frames[frame].frame != number)
    ):
        return None  # another sample's frame, or another frame of the video
    try:
        width, height = size_of(sizes, frame)
    except UnreadableError:
        return None  # the full path says what is wrong
    # a bare label is a field value too: no one-label list to build and validate
    bodies = [o.body for o in uploaders[field].objects(original, frame, width, height)]
    if len(bodies) != 1 or (kind == "shapes") != ("points" in bodies[0]):
        return None  # labels of several CVAT objects (polylines with parts) take the full path
    sent = bodies[0]
    occluded = uploaders[field].occluded
    if occluded is not None and occluded.name not in getattr(original, "attributes", {}):
        return None  # the widget's flag always comes back, so the download gives the label a new attribute
    group = obj.get("group")
    if (
        sent["label_id"] != obj["label_id"]
        or (group is not None and type(group) is not int)
        or (sent.get("group") or 0) != (group or 0)
    ):
        return None
    if kind == "shapes" and any(sent[key] != obj.get(key) for key in _SHAPE_KEYS):
        return None
    try:  # the attributes are a list (it holds the label_id) of anything
        returned = {a["spec_id"]: a["value"] for a in obj["attributes"]}
    except (KeyError, TypeError):  # an item that is no {spec_id, value} object: the full path says so
        return None
    if {a["spec_id"]: a["value"] for a in sent["attributes"]} != returned:
        return None
    return field, sample_id, original, number

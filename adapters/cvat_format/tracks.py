"""Video frame labels as CVAT tracks, and CVAT tracks back as one shape per frame they cover.

docs/cvat-format.md ("Tracks up and down") gives how tracks are cut into segments and expanded.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from itertools import pairwise
from typing import Any, TypeAlias

from annoflow.adapters.cvat_format import checks
from annoflow.adapters.cvat_format.answer import Refused
from annoflow.adapters.cvat_format.interpolation import NotInterpolableError, check_interpolable, interpolate
from annoflow.adapters.cvat_format.upload import CvatObject, Uploader
from annoflow.domain.labels import Detection, FieldValue, Keypoint, Label, Polyline, labels_in

_SHAPE_KEYS = ("type", "points", "occluded", "outside", "z_order", "rotation")
TrackedLabels = list[tuple[str, int]]  # (label id, task frame) of each label a track stands for
TrackLabel: TypeAlias = Detection | Polyline | Keypoint  # the label classes with an index and a keyframe flag
TRACK_CLASSES = (Detection, Polyline, Keypoint)


def _segments(frames: Sequence[int]) -> list[list[int]]:
    """Runs of consecutive task frames."""
    runs: list[list[int]] = []
    for frame in frames:
        if runs and frame == runs[-1][-1] + 1:
            runs[-1].append(frame)
        else:
            runs.append([frame])
    return runs


def split_tracks(
    values: Iterable[tuple[int, FieldValue]],
) -> tuple[dict[int, list[tuple[int, TrackLabel]]], list[tuple[int, Label]]]:
    """A video field's labels by task frame, as tracks (by index, frame order) and loose labels."""
    tracks: dict[int, list[tuple[int, TrackLabel]]] = defaultdict(list)
    loose: list[tuple[int, Label]] = []
    for frame, value in values:
        for label in labels_in(value):
            if isinstance(label, TRACK_CLASSES) and label.index is not None:
                tracks[label.index].append((frame, label))
            else:
                loose.append((frame, label))
    return {index: sorted(items, key=lambda item: item[0]) for index, items in tracks.items()}, loose


def track_body(
    uploader: Uploader,
    items: Sequence[tuple[int, TrackLabel]],
    task_frames: int,
    width: int,
    height: int,
    keyframes_only: bool,
) -> tuple[dict[str, Any], TrackedLabels] | None:
    """One track of ``items`` (a track's (task frame, label), in frame order), and the labels it stands
    for; None when a label is no single CVAT shape that can be interpolated (a polyline of several
    parts, a mask, a class not sent)."""
    return track_of_objects(
        uploader,
        [
            (frame, label.id, label.keyframe, list(uploader.objects(label, frame, width, height)))
            for frame, label in items
        ],
        task_frames,
        keyframes_only,
    )


def track_of_objects(
    uploader: Uploader,
    items: Sequence[tuple[int, str, bool | None, list[CvatObject]]],
    task_frames: int,
    keyframes_only: bool,
) -> tuple[dict[str, Any], TrackedLabels] | None:
    """`track_body` of labels already converted: each item a track's (task frame, label id, keyframe,
    the label's CVAT objects), in frame order, from labels or from a store's rows alike."""
    shapes: list[dict[str, Any]] = []
    first_body: dict[str, Any] | None = None
    immutable: set[int] = set()
    bodies: dict[int, dict[str, Any]] = {}
    keyframe: dict[int, bool | None] = {}
    for frame, _, is_keyframe, made in items:
        if len(made) != 1 or made[0].kind != "shapes" or made[0].body["type"] == "mask":
            return None
        bodies[frame] = made[0].body
        keyframe[frame] = is_keyframe
    for segment in _segments([item[0] for item in items]):
        for position, frame in enumerate(segment):
            if keyframes_only and 0 < position < len(segment) - 1 and not keyframe[frame]:
                continue  # a segment's first and last frames are keyframes, so CVAT shows it where it ends
            body = bodies[frame]
            if first_body is None:
                first_body = body
                immutable = uploader.immutable_specs(body["label_id"])
            # a literal, not a comprehension over _SHAPE_KEYS: one is built per keyframe, 60,000 for 20 videos
            shapes.append(
                {
                    "type": body["type"],
                    "points": body["points"],
                    "occluded": body["occluded"],
                    "outside": body["outside"],
                    "z_order": body["z_order"],
                    "rotation": body["rotation"],
                    "frame": frame,
                    "attributes": [a for a in body["attributes"] if a["spec_id"] not in immutable]
                    if immutable
                    else list(body["attributes"]),
                }
            )
        end = segment[-1] + 1
        if end < task_frames:
            last = bodies[segment[-1]]
            shapes.append({**{key: last[key] for key in _SHAPE_KEYS}, "frame": end, "outside": True, "attributes": []})
    assert first_body is not None
    track = {
        "frame": shapes[0]["frame"],
        "label_id": first_body["label_id"],
        "group": first_body["group"],
        "source": "manual",
        "attributes": [a for a in first_body["attributes"] if a["spec_id"] in immutable],
        "shapes": shapes,
        "elements": [],
    }
    return track, [(label_id, frame) for frame, label_id, _, _ in items]


# --- down -------------------------------------------------------------------------------------


def expand_track(
    track: Mapping[str, Any], task_frames: int, label_specs: set[int], index: int, skip: Collection[int] = ()
) -> list[dict[str, Any]]:
    """The shapes a (checked) track shows, one per frame it covers, as CVAT interpolates them; none on
    the task frames in ``skip`` (frames read another way, `unchanged_tracks`: none interpolated there)."""
    common = {
        "id": track["id"],
        "label_id": track["label_id"],
        "group": track.get("group"),
        "source": track.get("source", "manual"),
        "index": index,
    }
    track_attributes = list(track.get("attributes", []))
    out: list[dict[str, Any]] = []
    previous: dict[str, Any] | None = None
    held: list[dict[str, Any]] = []  # the previous shape's attributes, with those carried to it
    for shape in sorted(track["shapes"], key=lambda s: s["frame"]):
        # each shape's attributes with those carried (not a copy of the shape: every output names its own)
        attributes = list(shape.get("attributes", []))
        if previous is not None:
            given = {a["spec_id"] for a in attributes}
            attributes += [a for a in held if a["spec_id"] not in given and a["spec_id"] not in label_specs]
            if not previous.get("outside", False):
                copied = [a for a in held if a["spec_id"] not in label_specs]
                between = (previous["frame"], shape["frame"])
                interpolated: Iterable[tuple[int, list[float], float]] = ()
                if skip and all(frame in skip for frame in range(previous["frame"] + 1, shape["frame"])):
                    check_interpolable(previous, shape)  # nothing to compute, but a track CVAT cannot export is refused
                else:
                    interpolated = interpolate(previous, shape)
                for frame, points, rotation in interpolated:
                    if frame not in skip:
                        out.append(
                            {
                                **previous,
                                **common,
                                "frame": frame,
                                "points": points,
                                "rotation": rotation,
                                "keyframe": False,
                                "between": between,
                                "attributes": track_attributes + copied,
                            }
                        )
        if not shape.get("outside", False) and shape["frame"] not in skip:
            out.append(
                {**shape, **common, "keyframe": True, "between": None, "attributes": track_attributes + attributes}
            )
        previous, held = shape, attributes
    if previous is not None and not previous.get("outside", False):
        copied = [a for a in held if a["spec_id"] not in label_specs]
        out += [
            {
                **previous,
                **common,
                "frame": frame,
                "keyframe": False,
                "between": (previous["frame"], None),
                "attributes": track_attributes + copied,
            }
            for frame in range(previous["frame"] + 1, task_frames)
            if frame not in skip
        ]
    return [shape for shape in out if track["frame"] <= shape["frame"] < task_frames]


def outside_ends(tracks: Iterable[Mapping[str, Any]]) -> list[tuple[int, int, list[float]]]:
    """(track id, task frame, points) of each outside shape that closes a visible one: the frames before it
    are interpolated towards its points."""
    ends = []
    for track in tracks:
        shapes = sorted(track["shapes"], key=lambda s: s["frame"])
        ends += [
            (track["id"], shape["frame"], shape["points"])
            for before, shape in pairwise(shapes)
            if shape.get("outside", False) and not before.get("outside", False)
        ]
    return ends


def expand_tracks(
    tracks: Iterable[Mapping[str, Any]],
    task_frames: int,
    label_specs: set[int],
    index_of: Callable[[int], int],
    skip: Callable[[Mapping[str, Any], int], Collection[int]] | None = None,
) -> tuple[list[dict[str, Any]], list[Refused]]:
    """Every checked track's shapes per frame; a track with a shape that cannot be read is refused whole.
    ``skip(track, index)``: the task frames of a readable track to leave out (read another way)."""
    shapes: list[dict[str, Any]] = []
    refused: list[Refused] = []
    for track in tracks:
        problem = _track_problem(track, task_frames)
        if problem is not None:
            refused.append(Refused("tracks", track["frame"], problem, track["id"], track["label_id"]))
            continue
        index = index_of(track["id"])
        try:
            shapes += expand_track(track, task_frames, label_specs, index, () if skip is None else skip(track, index))
        except NotInterpolableError as error:
            refused.append(Refused("tracks", track["frame"], str(error), track["id"], track["label_id"]))
    return shapes, refused


def _track_problem(track: Mapping[str, Any], task_frames: int) -> str | None:
    if not track["shapes"]:
        return "a track without shapes"
    seen: set[int] = set()
    for shape in track["shapes"]:
        as_shape = {**shape, "id": track["id"], "label_id": track["label_id"]} if isinstance(shape, dict) else shape
        found = checks.problem(as_shape, "shapes", task_frames)
        if found is not None:
            return f"its shape on frame {shape.get('frame') if isinstance(shape, dict) else '?'}: {found}"
        if shape["frame"] in seen:
            return f"two of its shapes are on frame {shape['frame']}"
        seen.add(shape["frame"])
    return None

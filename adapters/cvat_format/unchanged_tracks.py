"""Frames of a video's tracks that CVAT returns as they were uploaded: their labels need no conversion.

docs/cvat-format.md ("Track frames returned unchanged") gives which frames are taken and why they merge to no change.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from annoflow.adapters.cvat_format.download import Downloader, Size, retyped_like
from annoflow.adapters.cvat_format.schema import ServerLabels, object_type
from annoflow.adapters.cvat_format.upload import Uploader
from annoflow.domain.fields import FRAMES_PREFIX
from annoflow.domain.ids import is_id
from annoflow.domain.label_schema import FieldSchema, LabelSchema
from annoflow.domain.labels import Detection, Label
from annoflow.domain.merge import ImportedLabel
from annoflow.domain.run_records import RemoteObjectKind, TaskRecord

_TRACK = RemoteObjectKind.TRACK.value
# a keyframe: its attributes as expanded, outside, geometry as uploaded, (label id, original) when taken
_Keyframe = tuple[list[Any], bool, bool, "tuple[str, Detection] | None"]


def carried_label_ids(
    objects: Mapping[str, Sequence[Mapping[str, Any]]], label_specs: set[int], also: Iterable[str | None] = ()
) -> Counter:
    """How many checked objects carry each label_id (tags, shapes, tracks and their shapes), plus ``also``."""
    counts: Counter = Counter(label_id for label_id in also if label_id is not None)
    for kind in ("tags", "shapes"):
        counts.update(
            a["value"]
            for obj in objects.get(kind, ())
            for a in obj.get("attributes", ())
            if a["spec_id"] in label_specs
        )
    for track in objects.get("tracks", ()):
        counts.update(a["value"] for a in track.get("attributes", ()) if a["spec_id"] in label_specs)
        counts.update(
            a["value"] for shape in track["shapes"] for a in shape.get("attributes", ()) if a["spec_id"] in label_specs
        )
    return counts


def _readable(points: Sequence[float], width: int, height: int) -> bool:
    """`download` reads the rectangle (x1, y1, x2, y2) into a box without refusing it (not outside the
    frame, and a box the label's validators take: finite, not reversed)."""
    x1, y1, x2, y2 = points
    return (
        math.isfinite(x1)
        and math.isfinite(y1)
        and math.isfinite(x2)
        and math.isfinite(y2)
        and x1 <= width
        and y1 <= height
        and x2 >= 0
        and y2 >= 0
        and x2 >= x1
        and y2 >= y1
    )


class UnchangedTracks:
    """One task's lookups, and the frames of each of its tracks taken (`frames_of`)."""

    def __init__(
        self,
        schema: LabelSchema,
        task: TaskRecord,
        originals: Mapping[str, Label],
        uploaders: Mapping[str, Uploader],
        server: ServerLabels,
        sizes: Sequence[Size | None],
        label_specs: set[int],
        claims: Counter,
    ) -> None:
        self.task, self.originals, self.uploaders, self.server = task, originals, uploaders, server
        self.sizes, self.label_specs, self.claims = sizes, label_specs, claims
        self.reader = Downloader(schema, server)
        up = task.uploaded
        # Each label as the backend places it (by its id), and as the merge claims it (by field and id, or
        # by the track's object on its frame): a row of a track where all of these agree, by (track, frame).
        self.place_of = place_of = dict(zip(up.label_ids, zip(up.sample_ids, up.frames, strict=True), strict=True))
        self.rows: dict[tuple[int, int | None], tuple[str, str, str]] = {}  # -> (field, label id, sample id)
        self.indexes: dict[int, set[Any]] = {}  # track id -> the indexes of the labels it stands for
        rows = zip(up.fields, up.remote_kinds, up.remote_ids, up.frames, up.label_ids, up.sample_ids, strict=True)
        if self._plain(task, place_of):
            # each label and each object's frame on one row (as uploaded, and as loads add them): they all agree
            for field, kind, remote_id, number, label_id, sample_id in rows:
                if kind == _TRACK and label_id in originals:
                    self.indexes.setdefault(remote_id, set()).add(getattr(originals[label_id], "index", None))
                    self.rows[(remote_id, number)] = (field, label_id, sample_id)
        else:
            self._agreeing(rows, originals)
        self._read: dict[Any, dict[str, Any]] = {}
        self._compared: dict[tuple[str, str], tuple[str, ...]] = {}
        self.imported: list[ImportedLabel] = []  # the taken frames' originals, as the merge takes them
        self.untouched: set[tuple[int, int]] = set()  # (track id, task frame) of keyframes as uploaded
        self.fields: dict[int, str] = {}  # track id -> its field, for the tracks with a frame taken
        self.index_of: dict[int, int] = {}  # track id -> the index of its originals, likewise

    @staticmethod
    def _plain(task: TaskRecord, place_of: Mapping[str, Any]) -> bool:
        """No label and no object's frame on two rows (a polyline of several parts has a row per part)."""
        up = task.uploaded
        count = len(up.label_ids)
        return len(place_of) == count and len(set(zip(up.remote_kinds, up.remote_ids, up.frames, strict=True))) == count

    def _agreeing(
        self, rows: Iterable[tuple[str, str, int, int | None, str, str]], originals: Mapping[str, Label]
    ) -> None:
        """``rows`` and ``indexes`` from rows where a label or an object's frame shows twice (the last one counts,
        as in the backend's and the merge's lookups)."""
        rows = list(rows)
        owner = {(field, label_id): (sample_id, number) for field, _, _, number, label_id, sample_id in rows}
        on_track: dict[tuple[int, int | None], str] = {}
        claim_of: dict[tuple[str, int, int | None], str] = {}
        for field, kind, remote_id, number, label_id, _ in rows:
            if kind == _TRACK:
                on_track[(remote_id, number)] = label_id
                claim_of[(field, remote_id, number)] = label_id
        for field, kind, remote_id, number, label_id, _ in rows:
            if kind != _TRACK or label_id not in originals:
                continue
            self.indexes.setdefault(remote_id, set()).add(getattr(originals[label_id], "index", None))
            place = self.place_of[label_id]
            if (
                on_track[(remote_id, number)] == label_id
                and claim_of[(field, remote_id, number)] == label_id
                and place == (place[0], number)
                and owner[(field, label_id)] == place
            ):
                self.rows[(remote_id, number)] = (field, label_id, place[0])

    def frames_of(self, track: Mapping[str, Any], index: int) -> set[int]:
        """The task frames of a checked, readable track that stand for their originals (their labels in
        ``imported``); its keyframes whose geometry is as uploaded go to ``untouched``."""
        shapes = sorted(track["shapes"], key=lambda s: s["frame"])
        cls = self.server.class_of(track["label_id"], object_type(shapes[0], "tracks"))
        if (
            cls is None
            or not cls.field.startswith(FRAMES_PREFIX)
            or self.indexes.get(track["id"]) != {index}
            or any(shape["type"] != "rectangle" for shape in shapes)
            or any(a["spec_id"] in self.label_specs for a in track.get("attributes", ()))
        ):
            return set()
        uploader = self.uploaders[cls.field]
        if uploader.field.label_type not in ("detections", "instances"):
            return set()
        keyframes = self._keyframes(track, shapes, cls.field, cls.class_name, uploader, index)
        if keyframes is None:
            return set()
        track_id = track["id"]
        self.untouched.update((track_id, frame) for frame, (_, _, geometry, _) in keyframes.items() if geometry)
        taken: list[tuple[int, tuple[str | None, Label]]] = [
            (frame, whole) for frame, (_, _, _, whole) in keyframes.items() if whole is not None
        ]
        taken += self._between(track, shapes, keyframes, cls.field, cls.class_name, uploader, index)
        for frame, (label_id, original) in taken:
            ref = self.task.frames[frame]
            self.imported.append(
                ImportedLabel(cls.field, ref.sample_id, original, label_id, (track_id,), ref.frame, True)
            )
        if taken:
            self.fields[track_id] = cls.field
            self.index_of[track_id] = index
        return {frame for frame, _ in taken}

    def _place(self, frame: int) -> tuple[str, int | None] | None:
        if not 0 <= frame < len(self.task.frames):
            return None
        ref = self.task.frames[frame]
        return ref.sample_id, ref.frame

    def _original(
        self, field: str, track_id: int, frame: int, uploader: Uploader, index: int
    ) -> tuple[str, Detection] | None:
        """The label the track's object stands for on task frame ``frame``, when the backend places it and
        the merge claims it as the full path would, with the track's index, uploaded as a rectangle."""
        if not 0 <= frame < len(self.task.frames):
            return None
        ref = self.task.frames[frame]
        row = self.rows.get((track_id, ref.frame))
        if row is None or row[0] != field or row[2] != ref.sample_id:
            return None
        original = self.originals[row[1]]
        if type(original) is not Detection or original.index != index:
            return None
        if original.mask is not None and original.mask.size and uploader.field.label_type == "instances":
            return None  # a mask goes up as a shape of its own
        return row[1], original

    def _unedited(
        self,
        field: FieldSchema,
        class_name: str,
        original: Detection,
        attributes: Sequence[Mapping[str, Any]],
        occluded: Any,
        group: Any,
    ) -> bool:
        """The frame's label, read from these attributes and widgets as `Downloader` reads them (and retyped as
        `keep_unmoved` retypes them), has the original's class and the attribute values the merge compares."""
        if original.label != class_name:
            return False
        # a label_id is no value: left out, frames that read alike share one reading
        kept = tuple((a["spec_id"], a["value"]) for a in attributes if a["spec_id"] not in self.label_specs)
        key = (class_name, kept, occluded, group)
        values = self._read.get(key)
        if values is None:
            values = self._read[key] = self.reader.attributes_of(
                {
                    "attributes": [{"spec_id": spec, "value": value} for spec, value in kept],
                    "occluded": occluded,
                    "group": group,
                },
                field,
                class_name,
            )[0]
        held = original.attributes
        read = retyped_like(values, held) if values else values
        names = self._compared.get((field.path, class_name))
        if names is None:
            names = self._compared[(field.path, class_name)] = tuple(a.name for a in field.attributes_for(class_name))
        # as the merge's `_reattribute` compares them
        return all(read.get(name) == held.get(name) or (read.get(name) is None and name not in read) for name in names)

    def _keyframes(
        self,
        track: Mapping[str, Any],
        shapes: Sequence[Mapping[str, Any]],
        field: str,
        class_name: str,
        uploader: Uploader,
        index: int,
    ) -> dict[int, _Keyframe] | None:
        """Each shape's frame -> (its attributes as expanded, outside, geometry as uploaded, (label id,
        original) when the keyframe is taken); None when a keyframe carries the label_id of another label
        of its sample and frame (the full path would keep that one's geometry: the track takes it whole)."""
        track_id, start, frames = track["id"], track["frame"], len(self.task.frames)
        track_attributes = list(track.get("attributes", ()))
        group = track.get("group")
        label_specs, originals, claims, sizes = self.label_specs, self.originals, self.claims, self.sizes
        sent_class = uploader.labels.label_ids.get
        out: dict[int, _Keyframe] = {}
        previous: list[Any] | None = None
        for shape in shapes:  # a keyframe of every frame of every track comes through here: kept lean
            attributes = list(shape.get("attributes", ()))
            if previous is not None:
                given = {a["spec_id"] for a in attributes}
                attributes += [a for a in previous if a["spec_id"] not in given and a["spec_id"] not in label_specs]
            previous = attributes
            frame, outside = shape["frame"], shape.get("outside", False)
            carried = None
            for a in attributes:  # as `Downloader` reads it: the last label_id attribute, when it is an id
                if a["spec_id"] in label_specs:
                    carried = a["value"] if is_id(a["value"]) else None
            found = self._original(field, track_id, frame, uploader, index)
            if (
                carried is not None
                and (found is None or carried != found[0])
                and carried in originals
                and self.place_of.get(carried) == self._place(frame)
            ):
                return None
            geometry, whole = False, None
            if not outside and found is not None and start <= frame < frames:
                label_id, original = found
                size = sizes[frame] if frame < len(sizes) else sizes[0]  # as `download.size_of`
                width, height = size if size is not None else (0, 0)
                x, y, w, h = original.bounding_box
                expected = [x * width, y * height, (x + w) * width, (y + h) * height]
                # as `download.uploads_as` has it: a class outside the run's schema is not sent
                geometry = (
                    width > 0
                    and shape["points"] == expected
                    and _readable(expected, width, height)
                    and sent_class((field, original.label)) is not None
                )
                if (
                    geometry
                    and carried in (None, label_id)
                    and claims.get(label_id, 0) == (carried is not None)
                    and self._unedited(
                        uploader.field,
                        class_name,
                        original,
                        track_attributes + attributes,
                        shape.get("occluded", False),
                        group,
                    )
                ):
                    whole = found
            out[frame] = (attributes, outside, geometry, whole)
        return out

    def _between(
        self,
        track: Mapping[str, Any],
        shapes: Sequence[Mapping[str, Any]],
        keyframes: Mapping[int, _Keyframe],
        field: str,
        class_name: str,
        uploader: Uploader,
        index: int,
    ) -> list[tuple[int, tuple[str | None, Label]]]:
        """The frames between keyframes (or after the last) that stand for their originals, with them (and
        no label_id: CVAT's interpolated shapes carry none)."""
        track_id, start, frames = track["id"], track["frame"], len(self.task.frames)
        track_attributes = list(track.get("attributes", ()))
        taken: list[tuple[int, tuple[str | None, Label]]] = []
        for shape, later in zip(shapes, [*shapes[1:], None], strict=True):
            attributes, outside, geometry, _ = keyframes[shape["frame"]]
            if outside or not geometry:
                continue
            first = shape["frame"] + 1
            if later is None:
                last = frames
            elif later.get("outside", False) or not keyframes[later["frame"]][2]:
                continue
            else:
                last = later["frame"]
            if first >= last:
                continue
            copied = track_attributes + [a for a in attributes if a["spec_id"] not in self.label_specs]
            readable = self._readable_between(shape, later, first, last)
            for frame in range(max(first, start), min(last, frames)):
                found = self._original(field, track_id, frame, uploader, index) if readable[frame - first] else None
                if (
                    found is not None
                    and self.claims.get(found[0], 0) == 0
                    and self._unedited(
                        uploader.field, class_name, found[1], copied, shape.get("occluded", False), track.get("group")
                    )
                ):
                    taken.append((frame, (None, found[1])))
        return taken

    def _readable_between(
        self, shape: Mapping[str, Any], later: Mapping[str, Any] | None, first: int, last: int
    ) -> list[bool]:
        """Whether CVAT's box on each frame of first..last-1 reads without a refusal: interpolated as
        `interpolation` computes it (the same doubles, as arrays), or held after the last keyframe."""
        frames = np.arange(first, last)
        points0 = np.asarray(shape["points"], dtype=np.float64)
        if later is None:
            boxes = np.broadcast_to(points0, (len(frames), 4))
        else:
            offsets = (frames - shape["frame"]) / (later["frame"] - shape["frame"])
            boxes = points0 + np.subtract(np.asarray(later["points"], dtype=np.float64), points0) * offsets[:, None]
        readable = []
        for frame, row in zip(frames.tolist(), boxes.tolist(), strict=True):
            size = self.sizes[frame] if frame < len(self.sizes) else self.sizes[0]  # as `download.size_of`
            readable.append(size is not None and _readable(row, *size))
        return readable

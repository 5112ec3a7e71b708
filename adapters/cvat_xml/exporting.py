"""A collection's labels as "CVAT for images 1.1" or "CVAT for video 1.1" XML (``Dataset.export_cvat_xml``).

The label fields (all of them, or those named) get a label schema as annotate() makes one from the
labels seen (classes, attributes and their types, instance masks, mask values), their classes
become the document's CVAT labels, and each sample is written as annoflow would upload it
(`labels.py`): images one ``<image>`` each, named by their path under the folder the files share
(so `import_cvat_xml` finds them there again), a video's frame fields as ``<track>``s: labels that
share an ``index`` one track whose keyframes are the labels marked ``keyframe`` (else every labelled
frame), written with the frames CVAT interpolates between them as CVAT exports them; a label
without an index a one-frame track, as CVAT writes a shape in this format. Samples are read and
written one at a time.

A video collection of one video is one file; several videos are one file each in the folder
``path`` names (``<video file name>.xml``).
"""

from __future__ import annotations

import datetime
import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from annoflow.adapters.cvat_format.tracks import expand_track, split_tracks, track_body
from annoflow.adapters.cvat_format.upload import Uploader
from annoflow.adapters.cvat_xml.labels import Vocabulary, objects_of
from annoflow.adapters.cvat_xml.writer import CvatXmlWriter, label_meta
from annoflow.domain.fields import FieldKind, FieldPath
from annoflow.domain.label_schema import LabelSchema, build_label_schema
from annoflow.domain.labels import labels_in
from annoflow.domain.samples import ImageMetadata, MediaType, Sample, VideoMetadata

logger = logging.getLogger(__name__)
IMAGES = "CVAT for images 1.1"
VIDEO = "CVAT for video 1.1"


@attrs.frozen
class ExportSummary:
    path: str
    format: str
    samples: int
    objects: int  # shapes and tags written (a track counts once)
    skipped: int  # labels with no CVAT form (a polyline of several parts in a track, a class not written)


def _label_fields(field_schema: Mapping[str, FieldKind], video: bool, given: Sequence[str] | str | None) -> list[str]:
    if given is not None:
        names = [given] if isinstance(given, str) else list(given)
        paths = [n if not video or n.startswith("frames.") else f"frames.{n}" for n in names]
        unknown = [p for p in paths if p not in field_schema or not field_schema[p].is_label]
        if unknown:
            raise ValueError(f"label_fields: {unknown} are not label fields of the dataset")
        return paths
    return [p for p, kind in field_schema.items() if kind.is_label and FieldPath.parse(p).on_frames == video]


def _schema(
    collection: Any,
    ids: Sequence[str],
    fields: Sequence[str],
    media_type: MediaType,
    occluded_attr: str | None,
    group_id_attr: str | None,
) -> LabelSchema:
    field_schema = collection.store.field_schema()
    observations = collection.reader.observe(ids, list(fields))
    return build_label_schema(
        label_schema={f: {} for f in fields},
        occluded_attr=occluded_attr,
        group_id_attr=group_id_attr,
        media_type=media_type.value,
        field_schema=field_schema,
        observations=observations,
    )


def _size(sample: Sample) -> tuple[int, int]:
    if isinstance(sample.metadata, (ImageMetadata, VideoMetadata)):
        return sample.metadata.width, sample.metadata.height
    if sample.media_type is MediaType.VIDEO:
        raise ValueError(f"video {sample.filepath!r} has no metadata (width, height, frame count): compute it first")
    from PIL import Image  # reads the header only

    try:
        with Image.open(sample.filepath) as image:
            return image.size
    except OSError as error:
        raise ValueError(
            f"the size of {sample.filepath!r} is unknown (no metadata) and its file cannot be read: {error}"
        ) from None


def _meta(
    name: str, size: int, mode: str, vocabulary: Vocabulary, extra: Sequence[tuple[str, Any]] = ()
) -> list[tuple[str, Any]]:
    now = str(datetime.datetime.now(datetime.UTC))
    task = [
        ("id", "0"),
        ("name", name),
        ("size", str(size)),
        ("mode", mode),
        ("overlap", "0"),
        ("bugtracker", ""),
        ("created", now),
        ("updated", now),
        ("subset", "default"),
        ("start_frame", "0"),
        ("stop_frame", str(max(size - 1, 0))),
        ("frame_filter", ""),
        ("segments", []),
        ("owner", ""),
        ("assignee", ""),
        ("labels", label_meta(vocabulary.labels)),
        *extra,
    ]
    return [("task", task), ("dumped", now)]


def export_cvat_xml(
    collection: Any,
    path: str | os.PathLike[str],
    *,
    label_fields: Sequence[str] | str | None = None,
    occluded_attr: str | None = None,
    group_id_attr: str | None = None,
    z_order_attr: str | None = None,
    rel_dir: str | os.PathLike[str] | None = None,
) -> ExportSummary:
    """Write the collection's labels as CVAT XML: "CVAT for images 1.1" for images, "CVAT for video 1.1"
    for videos (see the module's docstring). ``occluded_attr`` / ``group_id_attr`` name the label
    attributes written as CVAT's ``occluded`` flag and ``group_id``, ``z_order_attr`` the one written as an
    image's shapes' ``z_order`` (not a CVAT attribute then); ``rel_dir`` the folder image names
    are relative to (default: the folder every file is in)."""
    ids = collection.sample_ids
    if not ids:
        raise ValueError("the collection is empty: nothing to export")
    filepaths = [s.filepath for s in collection.store.get_samples(ids, fields=())]
    media = {s.media_type for s in collection.store.get_samples(ids[:1], fields=())}
    media_type = media.pop()
    video = media_type is MediaType.VIDEO
    fields = _label_fields(collection.store.field_schema(), video, label_fields)
    schema = _schema(collection, ids, fields, media_type, occluded_attr, group_id_attr)
    vocabulary = Vocabulary.for_export(schema, hidden=() if z_order_attr is None else (z_order_attr,))
    uploaders = {field.path: Uploader(field, vocabulary.server) for field in schema}
    name = getattr(collection, "name", "annoflow")
    if video:
        return _export_videos(collection, ids, os.fspath(path), vocabulary, uploaders, name)
    root = (
        os.fspath(rel_dir)
        if rel_dir is not None
        else os.path.commonpath([os.path.dirname(os.path.abspath(p)) for p in filepaths])
    )
    objects = skipped = 0
    target = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(target)), exist_ok=True)
    with open(target, "w", encoding="utf-8") as stream:
        writer = CvatXmlWriter(stream)
        writer.start(_meta(name, len(ids), "annotation", vocabulary))
        for number, sample in enumerate(collection.reader.get_samples(ids, fields=fields)):
            width, height = _size(sample)
            made = list(objects_of(uploaders, sample.fields, 0, width, height, z_order_attr))
            objects += len(made)
            image_name = os.path.relpath(os.path.abspath(sample.filepath), root).replace(os.sep, "/")
            writer.image(
                number,
                image_name,
                width,
                height,
                [vocabulary.named(o.body) for o in made if o.kind == "shapes"],
                [vocabulary.named(o.body) for o in made if o.kind == "tags"],
            )
        writer.end()
    logger.info("%s: %d images, %d objects written as %s", target, len(ids), objects, IMAGES)
    return ExportSummary(target, IMAGES, len(ids), objects, skipped)


def _export_videos(
    collection: Any, ids: Sequence[str], path: str, vocabulary: Vocabulary, uploaders: Mapping[str, Uploader], name: str
) -> ExportSummary:
    several = len(ids) > 1
    if several:
        os.makedirs(path, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    objects = skipped = 0
    used: set[str] = set()
    for sample in collection.reader.get_samples(ids, fields=list(uploaders)):
        target = path
        if several:
            stem = os.path.basename(sample.filepath)
            while stem in used:
                stem = f"{stem}_{len(used)}"
            used.add(stem)
            target = os.path.join(path, f"{stem}.xml")
        written, missed = _export_video(sample, target, vocabulary, uploaders, name)
        objects += written
        skipped += missed
        logger.info(
            "%s: %d tracks written as %s, %d labels without a CVAT form left out", target, written, VIDEO, missed
        )
    return ExportSummary(path, VIDEO, len(ids), objects, skipped)


def _export_video(
    sample: Sample, target: str, vocabulary: Vocabulary, uploaders: Mapping[str, Uploader], name: str
) -> tuple[int, int]:
    width, height = _size(sample)
    assert isinstance(sample.metadata, VideoMetadata)
    frames = max([sample.metadata.frame_count, *sample.frames])
    extra = [
        ("original_size", [("width", str(width)), ("height", str(height))]),
        ("source", os.path.basename(sample.filepath)),
    ]
    written = skipped = 0
    with open(target, "w", encoding="utf-8") as stream:
        writer = CvatXmlWriter(stream)
        writer.start(_meta(name, frames, "interpolation", vocabulary, extra))
        tracks: list[tuple[int, dict[str, Any]]] = []
        loose_tracks: list[dict[str, Any]] = []
        for path, uploader in uploaders.items():
            field = FieldPath.parse(path).name
            values = [(number - 1, frame[field]) for number, frame in sorted(sample.frames.items()) if field in frame]
            by_index, loose = split_tracks(values)
            keyframes_only = any(getattr(label, "keyframe", False) for _, value in values for label in labels_in(value))
            for index, items in sorted(by_index.items()):
                made = track_body(uploader, items, frames, width, height, keyframes_only)
                if made is None:
                    skipped += len(items)
                    continue
                tracks.append((index, made[0]))
            for frame, label in loose:
                objects = list(uploader.objects(label, frame, width, height))
                if len(objects) != 1 or objects[0].kind != "shapes":
                    skipped += 1  # a tag or a polyline of several parts has no one-shape track
                    continue
                body = objects[0].body
                shapes = [{**body, "keyframe": True}]
                if frame + 1 < frames:  # closed on the next frame, as CVAT writes a shape as a track
                    shapes.append({**body, "frame": frame + 1, "keyframe": True, "outside": True, "attributes": []})
                loose_tracks.append({**body, "shapes": shapes})
        next_id = max([index for index, _ in tracks] + [-1]) + 1
        numbered = tracks + [(next_id + n, body) for n, body in enumerate(loose_tracks)]
        for track_id, body in numbered:
            writer.track(
                track_id,
                vocabulary.label_names[body["label_id"]],
                _track_shapes(body, frames, vocabulary),
                source=body.get("source", "manual"),
                group=body.get("group"),
            )
            written += 1
        writer.end()
    return written, skipped


def _track_shapes(body: Mapping[str, Any], frames: int, vocabulary: Vocabulary) -> list[dict[str, Any]]:
    """A track's shapes as CVAT exports them: every frame it covers, keyframes (``outside`` ones too) and
    the frames interpolated between them."""
    keyframes = [{**shape, "keyframe": True} for shape in body["shapes"]]
    shown = expand_track(
        {**body, "id": 1, "shapes": keyframes, "attributes": body.get("attributes", [])},
        frames,
        vocabulary.label_specs,
        0,
    )
    closing = [shape for shape in keyframes if shape.get("outside")]
    ordered = sorted([*shown, *closing], key=lambda s: s["frame"])
    return [vocabulary.named({k: v for k, v in shape.items() if k != "label_id"}) for shape in ordered]

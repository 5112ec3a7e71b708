"""A "CVAT for images 1.1" or "CVAT for video 1.1" file into a dataset (``annoflow.import_cvat_xml``).

Two streaming passes: the first decides the fields, classes and files before anything is written,
the second converts and writes a batch of images at a time. docs/importing.md gives the rules.
"""

from __future__ import annotations

import logging
import os
from collections import defaultdict
from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from annoflow.adapters.cvat_format.capabilities import CVAT_CAPABILITIES
from annoflow.adapters.cvat_format.download import Downloader, Imported
from annoflow.adapters.cvat_format.schema import project_labels
from annoflow.adapters.cvat_format.tracks import expand_tracks
from annoflow.adapters.cvat_xml.labels import Vocabulary, read_objects
from annoflow.adapters.cvat_xml.reader import (
    MAX_BYTES,
    MAX_OBJECTS,
    CvatXmlError,
    XmlImage,
    XmlMeta,
    XmlTrack,
    read_cvat_xml,
)
from annoflow.application.import_tasks import import_fields, in_folder
from annoflow.application.ports.annotation_backend import MediaNotFoundError
from annoflow.domain.changes import SetValue
from annoflow.domain.fields import LABEL_TYPE_OF_KIND
from annoflow.domain.ids import derived_id
from annoflow.domain.label_schema import KIND_OF_LABEL_TYPE, LabelSchema, build_label_schema
from annoflow.domain.labels import Label
from annoflow.domain.project_schema import adopt_project_labels
from annoflow.domain.samples import ImageMetadata, MediaType, Sample

logger = logging.getLogger(__name__)
BATCH = 256  # images written per transaction


@attrs.frozen
class XmlImportSummary:
    """What ``import_cvat_xml`` did.

    Attributes:
        path: the XML file read.
        format: ``"CVAT for images 1.1"`` or ``"CVAT for video 1.1"``.
        fields: each field written -> its label type.
        samples: how many images (or videos) the file held, each now a sample.
        new_samples: how many of those samples were added (the others were found by their file).
        labels: how many labels were written.
        left_out: how many objects were not imported: no field takes them, or their geometry cannot be read.
        problems: the first few of those, described.
    """

    path: str
    format: str
    fields: dict[str, str]  # field -> label type
    samples: int  # images (or videos) read
    new_samples: int
    labels: int
    left_out: int  # objects no field takes, or whose geometry cannot be read
    problems: tuple[str, ...] = ()  # the first few of them, described


def _located(media_dir: Any, name: str) -> str | None:
    if isinstance(media_dir, Mapping):
        path = media_dir.get(name, media_dir.get(os.path.basename(name.replace("\\", "/"))))
        return os.path.abspath(path) if path and os.path.isfile(path) else None
    return in_folder(os.fspath(media_dir), name)


def _first_pass(
    path: str, media_dir: Any, max_bytes: int, max_objects: int
) -> tuple[XmlMeta, list[tuple[str, str | None]]]:
    # every element is read here, not only the names: a file whose form is broken is refused before
    # anything is written, never half imported (a third of the import's time, on 10,000 boxes)
    meta: XmlMeta | None = None
    names: list[tuple[str, str | None]] = []
    for item in read_cvat_xml(path, max_bytes=max_bytes, max_objects=max_objects):
        if isinstance(item, XmlMeta):
            meta = item
            if item.mode == "interpolation":
                source = item.tasks[0].source
                located = _video_file(media_dir, source)
                names.append((source, located))
                break
        elif isinstance(item, XmlImage):
            names.append((item.name, _located(media_dir, item.name)))
        elif isinstance(item, XmlTrack):
            raise CvatXmlError(f"{path}: a <track> in a file whose meta says images (mode 'annotation')")
    assert meta is not None
    return meta, names


def _video_file(media_dir: Any, source: str) -> str | None:
    if isinstance(media_dir, (str, os.PathLike)) and os.path.isfile(media_dir):
        return os.path.abspath(media_dir)  # the video itself
    return _located(media_dir, source) if source else None


def import_cvat_xml(
    dataset: Any,
    xml_path: str | os.PathLike[str],
    media_dir: Any,
    *,
    label_types: Any = None,
    occluded_attr: str | None = None,
    group_id_attr: str | None = None,
    z_order_attr: str | None = None,
    insert_new: bool = True,
    max_bytes: int = MAX_BYTES,
    max_objects: int = MAX_OBJECTS,
) -> XmlImportSummary:
    """Import a "CVAT for images 1.1" or "CVAT for video 1.1" file's labels into ``dataset``.

    Everything is checked before anything is written (see the module's docstring); each imported
    field is set to what the file holds, so importing the same file twice gives the same dataset.

    Args:
        dataset: the annoflow dataset to import into.
        xml_path: the XML file (CVAT's export, or ``Dataset.export_cvat_xml``'s).
        media_dir: where the media are: the folder holding the images (or the video), a dict of the
            file's image names -> local paths, for a video the video file itself, or None: the
            dataset's own files, by base name.
        label_types: None (a field per label type the file's labels can draw, named by the type), a
            label type or a list of them to import, or label type -> field name.
        occluded_attr: the label attribute CVAT's ``occluded`` flag goes to (default: not kept).
        group_id_attr: the label attribute CVAT's ``group_id`` goes to (default: not kept).
        z_order_attr: the label attribute an image's shapes' ``z_order`` goes to (default: not kept).
        insert_new: add a sample for each media file the dataset does not hold (else refused).
        max_bytes: the largest file read (default 1 GiB); a larger one is refused.
        max_objects: the most objects one image may hold, or keyframes one track (default 10,000).

    Returns:
        What was imported: the fields, samples (and how many are new), labels and the objects left out.

    Raises:
        MediaNotFoundError: media files of the XML not in ``media_dir``, all named; nothing was written.
        CvatXmlError: a file that cannot be read, larger than ``max_bytes``, with too many objects,
            or whose meta defines no labels.
        ValueError: ``label_types`` naming an unknown type, labels that draw none of the types asked
            for, or media with no sample and ``insert_new=False``; nothing was written.
        LabelSchemaError: labels that make no usable schema with the dataset's fields.
        FieldSchemaError: a field the dataset holds as another kind.
    """
    path = os.fspath(xml_path)
    store = dataset.store
    if media_dir is None:  # the dataset's own files, by base name (as import_annotations() takes data_path=None)
        media_dir = {os.path.basename(s.filepath): s.filepath for s in store.get_samples(store.sample_ids(), fields=())}
    meta, names = _first_pass(path, media_dir, max_bytes, max_objects)
    video = meta.mode == "interpolation"
    missing = [
        name or "(the meta names no video: pass the video file as media_dir)" for name, found in names if found is None
    ]
    if missing:
        shown = "; ".join(repr(m) for m in missing[:5]) + (
            f" (and {len(missing) - 5} more)" if len(missing) > 5 else ""
        )
        raise MediaNotFoundError(f"{len(missing)} media file(s) of {path} are not in {media_dir!r}: {shown}")
    if not meta.labels:
        raise CvatXmlError(f"{path}: its meta defines no labels (CVAT writes them under <meta><task><labels>)")
    labels = project_labels(meta.labels)
    fields = import_fields(labels, label_types, CVAT_CAPABILITIES)
    if video:
        fields = {f if f.startswith("frames.") else f"frames.{f}": t for f, t in fields.items()}
    if not fields:
        raise ValueError(f"{path}: its labels draw none of the label types asked for ({label_types!r})")
    field_schema = store.field_schema()
    # a text attribute the dataset's fields already hold keeps the type of their values (CVAT keeps text)
    observations = store.observe(store.sample_ids(), [f for f in fields if f in field_schema])
    schema = build_label_schema(
        label_schema={f: {"type": t} for f, t in fields.items()},
        occluded_attr=occluded_attr,
        group_id_attr=group_id_attr,
        media_type="video" if video else "image",
        field_schema=field_schema,
        observations=observations,
        classes_from_project=True,
    )
    schema = adopt_project_labels(schema, labels, CVAT_CAPABILITIES)
    existing = {os.path.abspath(s.filepath): s.id for s in store.get_samples(store.sample_ids(), fields=())}
    new = [p for _, p in names if p not in existing]
    if new and not insert_new:
        raise ValueError(
            f"{len(new)} media of {path} have no sample in the dataset (e.g. {new[0]!r}): pass "
            "insert_new=True to add them"
        )
    for field in schema:
        store.declare_field(field.path, KIND_OF_LABEL_TYPE[field.label_type])
    vocabulary = Vocabulary.of(schema, meta.labels, existing=True)
    downloader = Downloader(schema, vocabulary.server)
    writer = _Writer(store, schema, existing, z_order_attr)
    located = {name: found for name, found in names if found is not None}  # each one found (refused above if not)
    if video:
        _import_video(path, meta, located, vocabulary, downloader, writer, max_bytes, max_objects)
    else:
        for item in read_cvat_xml(path, max_bytes=max_bytes, max_objects=max_objects):
            if isinstance(item, XmlImage):
                writer.image(item, located[item.name], vocabulary, downloader)
    writer.flush()
    logger.info(
        "%s: %d labels imported into %d samples (%d new), %d objects left out",
        path,
        writer.labels,
        writer.samples,
        writer.new_samples,
        writer.left_out,
    )
    return XmlImportSummary(
        path,
        "CVAT for video 1.1" if video else "CVAT for images 1.1",
        {f.path: f.label_type for f in schema},
        writer.samples,
        writer.new_samples,
        writer.labels,
        writer.left_out,
        tuple(writer.problems),
    )


def _distinct(labels: list[Label]) -> list[Label]:
    """A field's labels with one id each: a label_id claimed twice (a segmentation's masks, written one per
    class with the segmentation's id; a file edited by hand) stays with its first claimant, the others get
    an id derived from it and their place."""
    seen: set[str] = set()
    out = []
    for position, label in enumerate(labels):
        if label.id in seen:
            label = label.replace(id=derived_id("cvat_xml", label.id, position))
        seen.add(label.id)
        out.append(label)
    return out


class _Writer:
    """Samples and field values written a batch at a time."""

    def __init__(
        self, store: Any, schema: LabelSchema, existing: dict[str, str], z_order_attr: str | None = None
    ) -> None:
        self.store, self.schema, self.existing, self.z_order_attr = store, schema, existing, z_order_attr
        self.pending: list[Sample] = []
        self.changes: list[SetValue] = []
        self.samples = self.new_samples = self.labels = self.left_out = 0
        self.problems: list[str] = []
        self.images = 0

    def sample_id(self, filepath: str, media_type: MediaType, metadata: Any) -> str:
        sample_id = self.existing.get(filepath)
        if sample_id is None:
            # its id follows from its file: importing again (or after a crash) finds the same sample
            sample = Sample(
                filepath=filepath, media_type=media_type, id=derived_id("import", filepath), metadata=metadata
            )
            self.pending.append(sample)
            sample_id = self.existing[filepath] = sample.id
            self.new_samples += 1
        self.samples += 1
        return sample_id

    def note(self, where: str, left_out: list[Any], vocabulary: Vocabulary, names: dict[int, str]) -> None:
        """Count what was left out, and describe the first few; ``names``: each object's label as the file
        names it, by the id it was numbered with."""
        self.left_out += len(left_out)
        for item in left_out[: max(0, 10 - len(self.problems))]:
            reason = getattr(item, "problem", None)
            if reason is None:
                kind, label = item.body.get("type", "tag"), names.get(item.cvat_id, "?")
                known = item.body.get("label_id") in vocabulary.label_names
                article = "an" if kind[:1] in "aeiou" else "a"
                reason = (
                    f"{article} {kind} of {label!r}, which no imported field takes"
                    if known
                    else f"{article} {kind} of {label!r}, a label the file's meta does not define"
                )
            self.problems.append(f"{where}: {reason}")

    def values(self, sample_id: str, found: list[Imported], frame: int | None = None) -> None:
        by_field: dict[str, list[Label]] = defaultdict(list)
        for item in found:
            if isinstance(item.value, Label):
                by_field[item.field].append(item.value)
        for field in self.schema:
            items = _distinct(by_field.get(field.path, []))
            container = LABEL_TYPE_OF_KIND[KIND_OF_LABEL_TYPE[field.label_type]]
            self.changes.append(SetValue(sample_id, field.path, container(items) if items else None, frame))
            self.labels += len(items or ())

    def image(self, image: XmlImage, filepath: str, vocabulary: Vocabulary, downloader: Downloader) -> None:
        sample_id = self.sample_id(
            filepath,
            MediaType.IMAGE,
            ImageMetadata(image.width, image.height) if image.width > 0 and image.height > 0 else None,
        )
        ids = iter(range(1, 1 << 31))
        objects = {
            "shapes": [vocabulary.numbered(s, s["label"], next(ids), 0) for s in image.shapes],
            "tags": [vocabulary.numbered(t, t["label"], next(ids), 0) for t in image.tags],
        }
        found, unexpected, refused = read_objects(
            downloader, objects, [(image.width, image.height)], 1, (image.name,), self.z_order_attr
        )
        names = dict(enumerate((o["label"] for o in (*image.shapes, *image.tags)), start=1))
        self.note(f"image {image.name!r}", [*refused, *unexpected], vocabulary, names)
        self.values(sample_id, found)
        self.images += 1
        if self.images % BATCH == 0:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.store.add_samples(self.pending)
        if self.changes:
            self.store.apply(self.changes)
        self.pending, self.changes = [], []


def _tracks(path: str, max_bytes: int, max_objects: int) -> Iterator[XmlTrack]:
    for item in read_cvat_xml(path, max_bytes=max_bytes, max_objects=max_objects):
        if isinstance(item, XmlTrack):
            yield item
        elif isinstance(item, XmlImage):
            raise CvatXmlError(f"{path}: an <image> in a file whose meta says video (mode 'interpolation')")


def _import_video(
    path: str,
    meta: XmlMeta,
    located: Mapping[str, str | None],
    vocabulary: Vocabulary,
    downloader: Downloader,
    writer: _Writer,
    max_bytes: int,
    max_objects: int,
) -> None:
    task = meta.tasks[0]
    frames = max(task.stop_frame + 1, task.size)
    size = task.original_size
    if size is None or min(size) <= 0:
        raise CvatXmlError(f"{path}: its meta gives the video no size (<original_size>)")
    filepath = located[task.source]
    assert filepath is not None
    sample_id = writer.sample_id(filepath, MediaType.VIDEO, None)
    tracks = []
    names: dict[int, str] = {}  # each track's label, by the number it is read under
    for number, track in enumerate(_tracks(path, max_bytes, max_objects), start=1):
        names[number] = track.label
        keyframes = [vocabulary.numbered(s, track.label, number, s["frame"]) for s in track.shapes if s["keyframe"]]
        if not keyframes:
            continue
        body = vocabulary.numbered(
            {"attributes": (), "group": track.group, "source": track.source}, track.label, number, keyframes[0]["frame"]
        )
        # the numbered shapes carry what a track's shapes carry; their own id, label and group are the track's
        shapes = [{k: v for k, v in s.items() if k not in ("id", "label_id", "group", "source")} for s in keyframes]
        tracks.append((track.track_id, {**body, "shapes": shapes}))
    index_of = {number: track_id for number, (track_id, _) in enumerate(tracks, start=1)}
    expanded, refused = expand_tracks(
        [body for _, body in tracks], frames, vocabulary.label_specs, index_of.__getitem__
    )
    found, unexpected, more = read_objects(downloader, {"tracked": expanded}, [size], frames, (task.source,))
    writer.note(f"video {task.source!r}", [*refused, *more, *unexpected], vocabulary, names)
    by_frame: dict[int, list[Imported]] = defaultdict(list)
    for item in found:
        by_frame[item.frame].append(item)
    # a task of every step-th frame shows those frames only: the frames interpolated between are not its
    for frame in range(task.start_frame, frames, task.step):
        writer.values(sample_id, by_frame.get(frame, []), frame + 1)

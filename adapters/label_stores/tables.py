"""A dataset as the rows of the SQL label stores (SQLite and PostgreSQL), both ways.

Both stores lay a dataset out alike (see ``sqlite.py``): a row per sample, a row per
(sample, field path, frame) whose field is set, a row per label. This module turns
samples into those rows, rows read back into samples, and the observation rows a
store aggregates into the label schema's tallies, so the stores differ only in SQL.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from annoflow.adapters.label_stores.rows import label_row, labels_from_rows, scalar_from_json, scalar_json
from annoflow.application.ports.mask_codec import decode_mask
from annoflow.domain.fields import FRAMES_PREFIX, LABEL_TYPE_OF_KIND, FieldKind
from annoflow.domain.labels import FieldValue, Label, LabelList, labels_in
from annoflow.domain.samples import ImageMetadata, Sample, VideoMetadata
from annoflow.domain.schema_observation import FieldTally, SchemaObservations

# (sample id, path, frame, scalar JSON or None for a label field)
ValueRow = tuple[str, str, int, str | None]
# (sample id, path, frame, label id, position, kind, data JSON, mask bytes or None, summary JSON or None)
LabelRow = tuple[str, str, int, str, int, str, str, bytes | None, str | None]


def frame_key(frame: int | None) -> int:
    """Frame 0 is the sample level; video frames are numbered from 1."""
    return 0 if frame is None else frame


def sample_head(sample: Sample) -> tuple[str, str, str, str | None, str]:
    """(id, filepath, media type, metadata JSON, tags JSON): the sample's own row, less dataset and position."""
    metadata = None if sample.metadata is None else json.dumps(attrs.asdict(sample.metadata))
    return sample.id, sample.filepath, sample.media_type.value, metadata, json.dumps(list(sample.tags))


def value_rows(sample_id: str, path: str, frame: int, value: FieldValue) -> tuple[list[ValueRow], list[LabelRow]]:
    """The rows of one set field: its value row and a row per label (none of either when unset)."""
    if value is None:
        return [], []
    is_label = isinstance(value, (Label, LabelList))
    values = [(sample_id, path, frame, None if is_label else scalar_json(value))]
    labels = [
        (sample_id, path, frame, label.id, position, *label_row(label))
        for position, label in enumerate(labels_in(value))
    ]
    return values, labels


def sample_rows(samples: Iterable[Sample]) -> tuple[list[ValueRow], list[LabelRow]]:
    """The value and label rows of every field and frame field of these samples."""
    values: list[ValueRow] = []
    labels: list[LabelRow] = []
    for sample in samples:
        owned = [(name, 0, value) for name, value in sample.fields.items()]
        owned += [
            (FRAMES_PREFIX + name, number, value)
            for number, frame in sample.frames.items()
            for name, value in frame.items()
        ]
        for path, frame, value in owned:
            more_values, more_labels = value_rows(sample.id, path, frame, value)
            values += more_values
            labels += more_labels
    return values, labels


def _metadata(media_type: str, data: str | None) -> ImageMetadata | VideoMetadata | None:
    if data is None:
        return None
    values = json.loads(data)
    return VideoMetadata(**values) if media_type == "video" else ImageMetadata(**values)


def build_samples(
    ids: Sequence[str],
    heads: Mapping[str, Sequence[Any]],
    values: Iterable[Sequence[Any]],
    label_rows: Sequence[Sequence[Any]],
    schema: Mapping[str, FieldKind],
) -> list[Sample]:
    """Samples rebuilt from what a store read: ``heads`` by id (id, filepath, media type, metadata,
    tags), value rows (sample id, path, frame, value) and label rows (sample id, path, frame, label id,
    kind, data, mask) ordered by position."""
    labels: dict[tuple[str, str, int], list[Label]] = defaultdict(list)
    built = labels_from_rows([tuple(row[3:]) for row in label_rows])
    for row, label in zip(label_rows, built, strict=True):
        labels[(row[0], row[1], row[2])].append(label)
    sample_fields: dict[str, dict[str, FieldValue]] = defaultdict(dict)
    frame_fields: dict[str, dict[int, dict[str, FieldValue]]] = defaultdict(lambda: defaultdict(dict))
    for sample_id, path, frame, value in values:
        kind = schema[path]
        if kind.is_scalar:
            item: FieldValue = scalar_from_json(value)
        elif kind.is_list:
            item = LABEL_TYPE_OF_KIND[kind](labels.get((sample_id, path, frame), ()))
        else:
            found = labels.get((sample_id, path, frame))
            item = found[0] if found else None
        if frame:
            frame_fields[sample_id][frame][path[len(FRAMES_PREFIX) :]] = item
        else:
            sample_fields[sample_id][path] = item
    samples = []
    for sample_id in ids:
        _, filepath, media_type, metadata, tags = heads[sample_id]
        samples.append(
            Sample(
                id=sample_id,
                filepath=filepath,
                media_type=media_type,
                metadata=_metadata(media_type, metadata),
                fields=sample_fields.get(sample_id, {}),
                frames=frame_fields.get(sample_id, {}),
                tags=json.loads(tags),
            )
        )
    return samples


def tally_rows(
    paths: Sequence[str],
    grouped: Iterable[Sequence[Any]],
    single: Iterable[Sequence[Any]],
    tallies: Mapping[str, FieldTally] | None = None,
) -> dict[str, FieldTally]:
    """The fields' tallies with a store's observation rows added.

    ``grouped``: (path, summary JSON, has mask, count), one per distinct summary, as a store's
    GROUP BY returns them. ``single``: (path, kind, data JSON, mask) of the rows without a
    summary (segmentations, whose mask values count, and rows written before summaries).
    """
    tallies = dict(tallies) if tallies is not None else {path: FieldTally() for path in paths}
    for path, summary, has_mask, count in grouped:
        label, attributes, unfilled = scalar_from_json(summary)
        tallies[path].add_summary(label, attributes, has_mask=bool(has_mask), unfilled=unfilled, count=count)
    for path, kind, data, mask in single:
        if kind == "segmentation":
            tallies[path].add_segmentation(decode_mask(bytes(mask)).ravel().tolist())
            continue
        values = scalar_from_json(data)
        tallies[path].add_summary(
            values.get("label"),
            values.get("attributes", {}),
            has_mask=mask is not None,
            unfilled=kind == "polyline" and not values.get("filled", False),
        )
    return tallies


def observations(paths: Sequence[str], tallies: Mapping[str, FieldTally]) -> SchemaObservations:
    return SchemaObservations([tallies[path].observation(path) for path in paths])

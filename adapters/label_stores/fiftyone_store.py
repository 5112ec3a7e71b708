"""The FiftyOne label store: a user's FiftyOne dataset (MongoDB) as annoflow's label store.

docs/label-stores.md ("The FiftyOne store") gives its identity, view and bulk-write rules.
"""

from __future__ import annotations

import datetime
import json
import logging
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import fiftyone as fo
import fiftyone.core.fields as fof
from bson import ObjectId
from fiftyone.core.odm.sample import _generate_rand
from pymongo import InsertOne, UpdateOne
from pymongo.errors import BulkWriteError

from annoflow.adapters.label_stores.fiftyone_docs import (
    LIST_KEYS,
    check_value,
    label_doc,
    merged_label,
    metadata_doc,
    rows_of,
    sample_of,
    value_doc,
)
from annoflow.adapters.label_stores.memory import declared_kinds
from annoflow.adapters.label_stores.rules import (
    LabelStoreConflictError,
    check_declaration,
    check_field_edit,
    kind_for_change,
)
from annoflow.adapters.paused_gc import paused_gc
from annoflow.application.ports.label_store import (
    DuplicateSampleError,
    FieldSchemaError,
    LabelStore,
    SampleRows,
    UnknownSampleError,
)
from annoflow.domain.changes import DeleteLabel, LabelChange, PutLabel, SetValue
from annoflow.domain.fields import FRAMES_PREFIX, LABEL_TYPE_OF_KIND, FieldKind, FieldPath
from annoflow.domain.ids import is_id
from annoflow.domain.labels import LabelList
from annoflow.domain.samples import Sample
from annoflow.domain.schema_observation import FieldTally, SchemaObservations

CHUNK = 100  # samples per read: a chunk's documents stand beside the labels built so far (500: +21 MiB at 50 labels a sample)
WRITE_CHUNK = 100  # samples per compare and set: what it reads is held beside the caller's copy of a task
WRITE_TRIES = 20  # reads and writes of one batch while other writers change its fields
DUPLICATE_KEY = 11000  # MongoDB's error code
logger = logging.getLogger(__name__)
_T = TypeVar("_T")
_DOC_KINDS = {
    fo.Classification: FieldKind.CLASSIFICATION,
    fo.Classifications: FieldKind.CLASSIFICATIONS,
    fo.Detections: FieldKind.DETECTIONS,
    fo.Polylines: FieldKind.POLYLINES,
    fo.Keypoints: FieldKind.KEYPOINTS,
    fo.Segmentation: FieldKind.SEGMENTATION,
}
_DOC_OF_KIND = {kind: doc for doc, kind in _DOC_KINDS.items()}
_SCALAR_FIELDS = {
    FieldKind.BOOL: fof.BooleanField,
    FieldKind.INT: fof.IntField,
    FieldKind.FLOAT: fof.FloatField,
    FieldKind.STR: fof.StringField,
}
# FiftyOne's own fields, which annoflow reads as sample properties or not at all.
_DEFAULT_SAMPLE_FIELDS = frozenset({"id", "filepath", "tags", "metadata", "created_at", "last_modified_at"})
_DEFAULT_FRAME_FIELDS = frozenset({"id", "frame_number", "created_at", "last_modified_at"})


def kind_of_field(field: Any) -> FieldKind | None:
    """The kind of a FiftyOne field, or None for one annoflow does not hold."""
    if isinstance(field, fof.EmbeddedDocumentField):
        return _DOC_KINDS.get(field.document_type)
    if isinstance(field, fof.BooleanField):
        return FieldKind.BOOL
    if isinstance(field, fof.FrameNumberField):
        return None
    if isinstance(field, fof.IntField):
        return FieldKind.INT
    if isinstance(field, fof.FloatField):
        return FieldKind.FLOAT
    if isinstance(field, fof.StringField):
        return FieldKind.STR
    return None


def _now() -> datetime.datetime:
    # FiftyOne stores naive UTC times, to the millisecond as MongoDB keeps them.
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


class FiftyOneLabelStore(LabelStore):
    """A FiftyOne dataset, or a view of one (reads through the view, writes to its dataset)."""

    def __init__(self, collection: fo.Dataset | fo.DatasetView) -> None:
        # Patches, frames and clips views hold documents of their own, not the dataset's samples;
        # a grouped dataset's samples are slices of mixed media. annoflow's samples are neither.
        if collection._is_generated:
            raise TypeError(
                f"{type(collection).__name__} of FiftyOne dataset {collection._root_dataset.name!r} is a "
                "patches, frames or clips view: annotate the samples it comes from"
            )
        if collection.media_type not in (None, "image", "video"):
            raise TypeError(
                f"FiftyOne dataset {collection._root_dataset.name!r} holds {collection.media_type} samples: "
                "annoflow takes image and video datasets"
            )
        self._collection = collection
        self._dataset: fo.Dataset = collection._root_dataset
        self.name = self._dataset.name

    @property
    def fiftyone_dataset(self) -> fo.Dataset:
        return self._dataset

    # --- schema -------------------------------------------------------------------

    def _schemas(self) -> tuple[dict[str, FieldKind], set[str]]:
        """(annoflow's fields by path, the paths of FiftyOne fields annoflow does not hold)."""
        # The dataset's document, read afresh (one query): another process may have added fields. Not
        # Dataset.reload(), which also reloads every sample the user holds in memory.
        doc = self._dataset._doc
        doc.reload()
        known: dict[str, FieldKind] = {}
        foreign: set[str] = set()
        tables = [("", doc.sample_fields, _DEFAULT_SAMPLE_FIELDS)]
        if doc.media_type == "video":
            tables.append((FRAMES_PREFIX, doc.frame_fields or [], _DEFAULT_FRAME_FIELDS))
        for prefix, table, defaults in tables:
            for field_doc in table:
                name = field_doc.name
                if name.startswith("_"):  # FiftyOne's private fields (_media_type, _rand, _dataset_id, ...)
                    continue
                kind = None if name in defaults else kind_of_field(field_doc.to_field())
                if kind is None:
                    foreign.add(prefix + name)
                else:
                    known[prefix + name] = kind
        return known, foreign

    def field_schema(self) -> Mapping[str, FieldKind]:
        return self._schemas()[0]

    def _check_new(self, schema: Mapping[str, FieldKind], foreign: set[str], path: str, kind: FieldKind) -> bool:
        if path in foreign:
            raise FieldSchemaError(
                f"field {path!r} of FiftyOne dataset {self.name!r} holds values annoflow does "
                f"not hold; it cannot be declared {kind.value}"
            )
        return check_declaration(schema, path, kind)

    def _declare(self, new: Mapping[str, FieldKind]) -> None:
        for path, kind in new.items():
            field = FieldPath.parse(path)
            if kind.is_label:
                args: dict[str, Any] = {"ftype": fof.EmbeddedDocumentField, "embedded_doc_type": _DOC_OF_KIND[kind]}
            else:
                args = {"ftype": _SCALAR_FIELDS[kind]}
            if field.on_frames:
                self._dataset.add_frame_field(field.name, **args)
            else:
                self._dataset.add_sample_field(field.name, **args)

    def _allow_frames(self, paths: Iterable[str], media_type: str | None = None) -> None:
        """Frame fields need a video dataset: an empty dataset becomes one, an image dataset refuses them."""
        if not any(p.startswith(FRAMES_PREFIX) for p in paths):
            return
        current = self._dataset.media_type
        if current is None and len(self._dataset) == 0 and media_type in (None, "video"):
            self._dataset.media_type = "video"
        elif current != "video" or media_type not in (None, "video"):
            raise FieldSchemaError(
                f"FiftyOne dataset {self.name!r} holds {current or media_type}s: "
                "FiftyOne keeps frame fields only on video datasets"
            )

    def declare_field(self, path: str, kind: FieldKind) -> None:
        FieldPath.parse(path)
        schema, foreign = self._schemas()
        if self._check_new(schema, foreign, path, kind):
            self._allow_frames([path])
            self._declare({path: kind})

    # --- reads ------------------------------------------------------------------

    def sample_ids(self) -> list[str]:
        return [str(i) for i in self._collection.values("_id")]

    def __len__(self) -> int:
        return len(self._collection)

    def get_samples(self, ids: Sequence[str] | None = None, fields: Collection[str] | None = None) -> Iterator[Sample]:
        ids = self.sample_ids() if ids is None else list(ids)
        schema = self.field_schema()
        if fields is not None:
            wanted = set(fields)
            schema = {path: kind for path, kind in schema.items() if path in wanted}
        media = self._dataset.media_type
        yield from self._built_in_order(ids, schema, lambda _, doc: sample_of(doc, schema, media))

    def get_label_rows(self, ids: Sequence[str], fields: Collection[str]) -> Iterator[SampleRows]:
        # The documents go straight to rows: annotate()'s upload converts plain boxes and
        # classifications from their values, so those labels are never built (fiftyone_docs.rows_of).
        ids, wanted = list(ids), set(fields)
        schema = {path: kind for path, kind in self.field_schema().items() if path in wanted and not kind.is_scalar}
        media = self._dataset.media_type
        yield from self._built_in_order(
            ids, schema, lambda sample_id, doc: SampleRows(sample_id, rows_of(doc, schema, wanted, media))
        )

    def _built_in_order(
        self, ids: Sequence[str], schema: Mapping[str, FieldKind], build: Callable[[str, Mapping[str, Any]], _T]
    ) -> Iterator[_T]:
        """``build`` of each sample's id and document, in the order of ``ids``, a chunk at a time;
        UnknownSampleError for one the dataset does not hold.

        A chunk is read and built with the cyclic collector paused (`paused_gc`): decoding and building
        make some hundred thousand small objects without cycles, and with FiftyOne imported each full
        collection they set off walks some 280,000 objects more (annotate()'s observe() spent a fifth of
        its time there). The caller's code between chunks runs with the collector."""
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            with paused_gc():
                docs = self._read(chunk, schema)
                built = []
                for sample_id in chunk:
                    doc = docs.get(sample_id)
                    if doc is None:
                        raise UnknownSampleError(f"dataset {self.name!r} has no sample {sample_id}")
                    built.append(build(sample_id, doc))
                del docs
            yield from built

    def observe(self, ids: Sequence[str], paths: Sequence[str]) -> SchemaObservations:
        # From the rows: a plain box or classification is tallied from its values, never built.
        paths = list(paths)
        tallies = {path: FieldTally() for path in paths}
        for sample in self.get_label_rows(ids, paths):
            for row in sample.rows:
                if row.built is not None:
                    tallies[row.field].add(row.built)
                else:
                    tallies[row.field].add_summary(row.values["label"], row.values.get("attributes", {}))
        return SchemaObservations([tallies[path].observation(path) for path in paths])

    def _read(self, ids: Sequence[str], schema: Mapping[str, FieldKind]) -> dict[str, dict[str, Any]]:
        """The chunk's sample documents by id, with their frames under ``frames``, only the schema's fields."""
        projection: dict[str, int] = {"filepath": 1, "_media_type": 1, "metadata": 1, "tags": 1}
        frame_paths = [path for path in schema if path.startswith(FRAMES_PREFIX)]
        projection.update({path: 1 for path in schema if not path.startswith(FRAMES_PREFIX)})
        if frame_paths:
            projection["frames.frame_number"] = 1
            projection.update({path: 1 for path in frame_paths})
        pipeline = [{"$match": {"_id": {"$in": [ObjectId(i) for i in ids if is_id(i)]}}}, {"$project": projection}]
        attach = bool(frame_paths) and self._dataset.media_type == "video"
        return {str(doc["_id"]): doc for doc in self._collection._aggregate(pipeline=pipeline, attach_frames=attach)}

    # --- writes -----------------------------------------------------------------

    def _held(self, ids: Iterable[str]) -> set[str]:
        oids = [ObjectId(i) for i in set(ids) if is_id(i)]
        found = self._dataset._sample_collection.find({"_id": {"$in": oids}}, {"_id": 1})
        return {str(doc["_id"]) for doc in found}

    def add_samples(self, samples: Iterable[Sample]) -> None:
        samples = list(samples)
        if not samples:
            return
        seen: set[str] = set()
        for sample in samples:
            if sample.id in seen:
                raise DuplicateSampleError(f"sample {sample.id} is already in dataset {self.name!r}")
            seen.add(sample.id)
        held = self._held(seen)
        if held:
            raise DuplicateSampleError(f"sample {sorted(held)[0]} is already in dataset {self.name!r}")
        media = {sample.media_type.value for sample in samples}
        current = self._dataset.media_type
        if len(media) > 1 or (current is not None and current not in media):
            frames = sorted(p for p in self._schemas()[0] if p.startswith(FRAMES_PREFIX))
            why = (
                f" (it holds frame fields {', '.join(frames)}: FiftyOne keeps frame fields only on video datasets)"
                if current == "video" and frames and len(self._dataset) == 0
                else ""
            )
            # A FiftyOne dataset holds images or videos, not both: the dataset's schema refuses the other kind.
            raise FieldSchemaError(
                f"FiftyOne dataset {self.name!r} holds {current or 'one media type'}s only{why}: "
                f"got {', '.join(sorted(media))} samples"
            )
        schema, foreign = self._schemas()
        new: dict[str, FieldKind] = {}
        for sample in samples:
            for path, kind in declared_kinds(sample).items():
                if self._check_new({**schema, **new}, foreign, path, kind):
                    new[path] = kind
            for name, value in sample.fields.items():
                check_value(value, f"sample {sample.id}, field {name}")
            for number, frame in sample.frames.items():
                for name, value in frame.items():
                    check_value(value, f"sample {sample.id}, frame {number}, field frames.{name}")
        if current is None:
            self._dataset.media_type = media.pop()
        self._declare(new)
        self._insert(samples)

    def _insert(self, samples: list[Sample]) -> None:
        dataset_id, now = self._dataset._doc.id, _now()
        sample_docs, frame_docs = [], []
        for sample in samples:
            doc: dict[str, Any] = {
                "_id": ObjectId(sample.id),
                "filepath": sample.filepath,
                "tags": list(sample.tags),
                "_media_type": sample.media_type.value,
                "_rand": _generate_rand(),
                "metadata": metadata_doc(sample.metadata),
            }
            doc.update({name: value_doc(value) for name, value in sample.fields.items()})
            doc.update({"_dataset_id": dataset_id, "created_at": now, "last_modified_at": now})
            sample_docs.append(InsertOne(doc))
            for number, frame in sample.frames.items():
                frame_docs.append(
                    InsertOne(
                        {
                            "_id": ObjectId(),
                            "frame_number": number,
                            "_sample_id": doc["_id"],
                            **{name: value_doc(value) for name, value in frame.items()},
                            "_dataset_id": dataset_id,
                            "created_at": now,
                            "last_modified_at": now,
                        }
                    )
                )
        self._dataset._sample_collection.bulk_write(sample_docs, ordered=True)
        if frame_docs:
            self._dataset._frame_collection.bulk_write(frame_docs, ordered=True)

    def apply(self, changes: Sequence[LabelChange]) -> None:
        changes = list(changes)
        if not changes:
            return
        schema, foreign = self._schemas()
        new: dict[str, FieldKind] = {}
        held = self._held(c.sample_id for c in changes)
        for change in changes:  # checked in order, as the other stores check them
            if change.sample_id not in held:
                raise UnknownSampleError(f"dataset {self.name!r} has no sample {change.sample_id}")
            if change.field not in schema and change.field in foreign:
                raise FieldSchemaError(
                    f"field {change.field!r} of FiftyOne dataset {self.name!r} holds values annoflow does not hold"
                )
            kind = kind_for_change(schema, change)
            if change.field not in schema:
                new[change.field] = kind
            schema[change.field] = kind
            where = f"sample {change.sample_id}, field {change.field}"
            if isinstance(change, PutLabel):
                check_value(change.label, where)
            elif isinstance(change, SetValue):
                check_value(change.value, where)
        self._allow_frames(new)
        self._declare(new)
        # A chunk of samples at a time, so the fields read for the compare and set are a chunk's, not
        # a whole task's (50,000 labels at 1,000 x 50) beside the caller's own copy of the task.
        for part in _by_samples(changes, WRITE_CHUNK):
            self._write_part(part, schema)
        self._dataset._reload_docs()  # fo.Sample objects the user holds show the new values

    def _write_part(self, changes: list[LabelChange], schema: Mapping[str, FieldKind]) -> None:
        """The changes of some samples, read, changed and compared and set; again while other writers
        change those fields between the read and the write."""
        for attempt in range(1, WRITE_TRIES + 1):
            current = self._current(changes)
            if self._write(self._new_values(changes, schema, current), current):
                break
            # Another writer changed a field between this batch's read and its write: read again and
            # write the batch's changes over what it wrote (each change is idempotent).
            gone = {c.sample_id for c in changes} - self._held(c.sample_id for c in changes)
            if gone:
                raise UnknownSampleError(f"dataset {self.name!r} has no sample {sorted(gone)[0]} (deleted meanwhile)")
            logger.info(
                "dataset %r: another writer changed fields this batch touches; writing again (%d)", self.name, attempt
            )
        else:
            raise LabelStoreConflictError(
                f"FiftyOne dataset {self.name!r}: other writers changed the fields of this batch {WRITE_TRIES} times "
                "between its reads and its writes; part of it may be written, and applying it again finishes it"
            )

    def _current(self, changes: list[LabelChange]) -> dict[tuple[str, int | None, str], Any]:
        """The stored values of the fields the changes touch, by (sample, frame, field name)."""
        current: dict[tuple[str, int | None, str], Any] = {}
        sample_fields: dict[str, set[str]] = {}
        frame_fields: dict[tuple[str, int], set[str]] = {}
        for change in changes:
            name = FieldPath.parse(change.field).name
            if change.frame is None:
                sample_fields.setdefault(change.sample_id, set()).add(name)
            else:
                frame_fields.setdefault((change.sample_id, change.frame), set()).add(name)
        if sample_fields:
            names = set().union(*sample_fields.values())
            found = self._dataset._sample_collection.find(
                {"_id": {"$in": [ObjectId(i) for i in sample_fields]}}, {name: 1 for name in names}
            )
            for doc in found:
                for name in sample_fields[str(doc["_id"])]:
                    current[(str(doc["_id"]), None, name)] = doc.get(name)
        if frame_fields:
            names = set().union(*frame_fields.values())
            found = self._dataset._frame_collection.find(
                {
                    "_sample_id": {"$in": [ObjectId(s) for s, _ in frame_fields]},
                    "frame_number": {"$in": sorted({f for _, f in frame_fields})},
                },
                {"_sample_id": 1, "frame_number": 1, **{name: 1 for name in names}},
            )
            for doc in found:
                key = (str(doc["_sample_id"]), doc["frame_number"])
                for name in frame_fields.get(key, ()):
                    current[(key[0], key[1], name)] = doc.get(name)
        return current

    def _new_values(
        self,
        changes: list[LabelChange],
        schema: Mapping[str, FieldKind],
        current: Mapping[tuple[str, int | None, str], Any],
    ) -> dict[tuple[str, int | None, str], Any]:
        """Each touched field's stored value after the batch's changes, in their order."""
        values: dict[tuple[str, int | None, str], Any] = {}
        for change in changes:
            key = (change.sample_id, change.frame, FieldPath.parse(change.field).name)
            value = values[key] if key in values else current.get(key)
            if isinstance(change, SetValue):
                values[key] = value_doc(change.value)
            elif isinstance(change, PutLabel):
                values[key] = _put(value, change, schema[change.field])
            else:
                values[key] = _delete(value, change)
        return values

    def _write(
        self, values: Mapping[tuple[str, int | None, str], Any], current: Mapping[tuple[str, int | None, str], Any]
    ) -> bool:
        """Writes each touched field where it still holds what was read (compare and set); False when
        another writer changed one meanwhile (the others are written)."""
        now, dataset_id = _now(), self._dataset._doc.id
        samples: dict[str, dict[str, Any]] = {}
        frames: dict[tuple[str, int], dict[str, Any]] = {}
        for (sample_id, frame, name), value in values.items():
            if frame is None:
                samples.setdefault(sample_id, {})[name] = value
            else:
                frames.setdefault((sample_id, frame), {})[name] = value
                samples.setdefault(sample_id, {})
        written = True
        if frames:
            updates = []
            for (s, f), fields in frames.items():
                where, what = _fields_update({name: current.get((s, f, name)) for name in fields}, fields)
                # A frame without a document gets one (upsert); when another writer made it meanwhile, the
                # filter misses it and the insert meets the unique (sample, frame number) index: a conflict.
                # Labels set where they stand need the document as read: never an insert (a conflict).
                whole = all(name in where for name in fields)
                updates.append(
                    UpdateOne(
                        {"_sample_id": ObjectId(s), "frame_number": f, **where},
                        {
                            "$set": {**what, "last_modified_at": now},
                            **(
                                {"$setOnInsert": {"_id": ObjectId(), "_dataset_id": dataset_id, "created_at": now}}
                                if whole
                                else {}
                            ),
                        },
                        upsert=whole,
                    )
                )
            written = _all_matched(self._dataset._frame_collection, updates)
        updates = []
        for s, fields in samples.items():
            where, what = _fields_update({name: current.get((s, None, name)) for name in fields}, fields)
            updates.append(UpdateOne({"_id": ObjectId(s), **where}, {"$set": {**what, "last_modified_at": now}}))
        return _all_matched(self._dataset._sample_collection, updates) and written

    def delete_samples(self, ids: Iterable[str]) -> None:
        held = self._held(ids)
        if held:
            self._dataset.delete_samples(sorted(held))

    # --- fields and info --------------------------------------------------------------

    def delete_fields(self, paths: Sequence[str]) -> None:
        """FiftyOne's ``delete_sample_fields`` then ``delete_frame_fields``: each unsets its fields on every
        document (one ``update_many``) and then drops them from the dataset's schema.

        Checked before anything changes. Not atomic: a crash part-way leaves some values unset with
        their field still declared, or the sample fields deleted and the frame fields not; a field
        still declared is deleted by deleting it again (what is left of the list)."""
        paths = list(dict.fromkeys(paths))
        schema, foreign = self._schemas()
        self._check_edit(schema, foreign, paths)
        names = [FieldPath.parse(p) for p in paths]
        sample_names = [f.name for f in names if not f.on_frames]
        frame_names = [f.name for f in names if f.on_frames]
        if sample_names:
            self._dataset.delete_sample_fields(sample_names)
        if frame_names:
            self._dataset.delete_frame_fields(frame_names)

    def rename_field(self, path: str, new_path: str) -> None:
        """FiftyOne's ``rename_sample_field`` or ``rename_frame_field``: one ``update_many`` renames the
        field on every document, then the schema follows.

        Checked before anything changes. Not atomic: a crash part-way leaves some documents renamed
        while the schema still holds the old name; renaming again finishes it (a document renamed
        already holds no value under the old name, so MongoDB's ``$rename`` leaves it be)."""
        schema, foreign = self._schemas()
        self._check_edit(schema, foreign, [path], new_path)
        old, new = FieldPath.parse(path), FieldPath.parse(new_path)
        if old.on_frames:
            self._dataset.rename_frame_field(old.name, new.name)
        else:
            self._dataset.rename_sample_field(old.name, new.name)

    def _check_edit(
        self, schema: Mapping[str, FieldKind], foreign: set[str], paths: Sequence[str], new_path: str | None = None
    ) -> None:
        """The other stores' checks, and FiftyOne's own fields (and those of kinds annoflow does not hold)
        neither edited nor overwritten."""

        def refuse(path: str) -> None:
            raise FieldSchemaError(
                f"field {path!r} of FiftyOne dataset {self.name!r} is FiftyOne's own or holds "
                "values annoflow does not hold: annoflow neither edits nor overwrites it"
            )

        for path in paths:
            if path in foreign:
                refuse(path)
        check_field_edit(schema, paths, new_path)
        if new_path in foreign:
            refuse(new_path)

    def read_info(self) -> dict[str, Any]:
        """FiftyOne's ``dataset.info``, as stored now (another process may have written it)."""
        doc = self._dataset._doc
        doc.reload("info")
        return json.loads(json.dumps(doc.info or {}))

    def write_info(self, info: Mapping[str, Any]) -> None:
        """``dataset.info = ...``, which FiftyOne saves at once: one update of the dataset's document, so
        a crash leaves the old info or the new one. Refused (ValueError) unless it is JSON."""
        self._dataset.info = json.loads(json.dumps(dict(info), allow_nan=False))  # a copy, JSON as elsewhere


def _fields_update(read: Mapping[str, Any], values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The filter and the ``$set`` writing each field's new value where it still holds what was read.

    A label list whose changes only replaced labels where they stand (a load's edited labels: the list
    as read otherwise, no label added or removed) is compared and set at those positions alone; any
    other field whole. A label moved by another writer since is a different document at that
    position, or another label: the filter misses, as it does when the whole field changed.
    """
    where: dict[str, Any] = {}
    what: dict[str, Any] = {}
    for name, new in values.items():
        old = read[name]
        replaced = _replaced_items(old, new)
        if replaced is None:
            where[name], what[name] = old, new
            continue
        key, positions = replaced
        for i in positions:
            where[f"{name}.{key}.{i}"] = old[key][i]
            what[f"{name}.{key}.{i}"] = new[key][i]
    return where, what


_LIST_KEY_OF = {cls.__name__: key for cls, key in LIST_KEYS.items()}


def _replaced_items(old: Any, new: Any) -> tuple[str, list[int]] | None:
    """(the list's key, the positions whose labels differ) when ``new`` is ``old`` with labels of its
    list replaced where they stand; None otherwise (write the field whole)."""
    if not isinstance(old, dict) or not isinstance(new, dict) or old.keys() != new.keys():
        return None
    key = _LIST_KEY_OF.get(old.get("_cls"))  # type: ignore[arg-type]
    if key is None or any(new[k] is not old[k] and new[k] != old[k] for k in new if k != key):
        return None
    before, after = old[key], new[key]
    if type(before) is not list or type(after) is not list or len(before) != len(after):
        return None
    return key, [
        i for i, (item, other) in enumerate(zip(before, after, strict=True)) if item is not other and item != other
    ]


def _by_samples(changes: list[LabelChange], size: int) -> Iterator[list[LabelChange]]:
    """The changes of ``size`` samples at a time (by first change), each sample's in their order."""
    of: dict[str, list[LabelChange]] = {}
    for change in changes:
        of.setdefault(change.sample_id, []).append(change)
    groups = list(of.values())
    for start in range(0, len(groups), size):
        yield [change for group in groups[start : start + size] for change in group]


def _all_matched(collection: Any, operations: list[UpdateOne]) -> bool:
    """Runs the updates (unordered); whether every one found its document as it was read."""
    try:
        result = collection.bulk_write(operations, ordered=False)
    except BulkWriteError as error:
        if any(e.get("code") != DUPLICATE_KEY for e in error.details.get("writeErrors", [])):
            raise
        return False
    return result.matched_count + result.upserted_count == len(operations)


def _put(value: Any, change: PutLabel, kind: FieldKind) -> Any:
    oid = ObjectId(change.label.id)
    if not kind.is_list:
        same = isinstance(value, Mapping) and value.get("_id") == oid
        return merged_label(change.label, value if same else None)
    container: type[LabelList] = LABEL_TYPE_OF_KIND[kind]  # a list kind's class (the domain's map holds any class)
    key = LIST_KEYS[container]
    if not isinstance(value, Mapping) or value.get("_cls") != container.__name__:
        value = {"_cls": container.__name__, key: []}
    items = list(value.get(key) or [])
    for i, item in enumerate(items):
        if isinstance(item, Mapping) and item.get("_id") == oid:
            items[i] = merged_label(change.label, item)
            break
    else:
        items.append(label_doc(change.label))
    return {**value, key: items}


def _delete(value: Any, change: DeleteLabel) -> Any:
    if not isinstance(value, Mapping):
        return value
    oid = ObjectId(change.label_id)
    key = next((k for cls, k in LIST_KEYS.items() if value.get("_cls") == cls.__name__), None)
    if key is not None:
        return {
            **value,
            key: [item for item in value.get(key) or [] if not (isinstance(item, Mapping) and item.get("_id") == oid)],
        }
    return None if value.get("_id") == oid else value


def open_fiftyone_dataset(name: str) -> FiftyOneLabelStore:
    """The FiftyOne dataset of this name as a label store; a new persistent one when there is none."""
    if fo.dataset_exists(name):
        return FiftyOneLabelStore(fo.load_dataset(name))
    return FiftyOneLabelStore(fo.Dataset(name, persistent=True))


def fiftyone_dataset_names() -> list[str]:
    """The datasets in FiftyOne's database, sorted."""
    return sorted(fo.list_datasets())

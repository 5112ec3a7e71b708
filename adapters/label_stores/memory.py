"""An in-memory label store: the fake for unit tests, with the same rules as SQLite's."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any

import attrs

from annoflow.adapters.label_stores.rules import check_declaration, check_field_edit, kind_for_change
from annoflow.application.ports.label_store import Batch, DuplicateSampleError, LabelStore, UnknownSampleError
from annoflow.domain.changes import DeleteLabel, LabelChange, PutLabel, SetValue
from annoflow.domain.fields import FRAMES_PREFIX, LABEL_TYPE_OF_KIND, FieldKind, FieldPath, kind_of
from annoflow.domain.labels import FieldValue, LabelList
from annoflow.domain.samples import Sample


def declared_kinds(sample: Sample) -> dict[str, FieldKind]:
    """The kinds of the values a sample holds, by field path."""
    kinds: dict[str, FieldKind] = {}
    for name, value in sample.fields.items():
        if (kind := kind_of(value)) is not None:
            kinds[name] = kind
    for frame in sample.frames.values():
        for name, value in frame.items():
            if (kind := kind_of(value)) is not None:
                kinds[FRAMES_PREFIX + name] = kind
    return kinds


def _put(current: FieldValue, change: PutLabel) -> FieldValue:
    if isinstance(current, LabelList):
        items = list(current.items)
        for i, item in enumerate(items):
            if item.id == change.label.id:
                items[i] = change.label
                break
        else:
            items.append(change.label)
        return current.with_items(items)
    return change.label


def _delete(current: FieldValue, change: DeleteLabel) -> FieldValue:
    if isinstance(current, LabelList):
        return current.with_items(i for i in current.items if i.id != change.label_id)
    if getattr(current, "id", None) == change.label_id:
        return None
    return current  # already gone: deleting twice changes nothing


def apply_change(sample: Sample, kind: FieldKind, change: LabelChange) -> Sample:
    """The sample after one change (already checked against the field's kind)."""
    current = sample.get(change.field, change.frame)
    if isinstance(change, SetValue):
        value = change.value
    elif isinstance(change, PutLabel):
        if current is None and kind.is_list:
            current = LABEL_TYPE_OF_KIND[kind]()
        value = _put(current, change)
    else:
        value = _delete(current, change)
    return sample.with_value(change.field, value, change.frame)


def project(sample: Sample, fields: Collection[str] | None) -> Sample:
    """The sample with only the given field paths."""
    if fields is None:
        return sample
    wanted = set(fields)
    frame_names = {FieldPath.parse(f).name for f in wanted if f.startswith(FRAMES_PREFIX)}
    return attrs.evolve(
        sample,
        fields={k: v for k, v in sample.fields.items() if k in wanted},
        frames={n: {k: v for k, v in f.items() if k in frame_names} for n, f in sample.frames.items()}
        if frame_names
        else {},
    )


class InMemoryLabelStore(LabelStore):
    def __init__(self, name: str = "dataset") -> None:
        self.name = name
        self._samples: dict[str, Sample] = {}
        self._schema: dict[str, FieldKind] = {}
        self._info: str = "{}"

    def add_samples(self, samples: Iterable[Sample]) -> None:
        samples = list(samples)
        schema = dict(self._schema)
        seen: set[str] = set()
        for sample in samples:
            if sample.id in self._samples or sample.id in seen:
                raise DuplicateSampleError(f"sample {sample.id} is already in dataset {self.name!r}")
            seen.add(sample.id)
            for path, kind in declared_kinds(sample).items():
                if check_declaration(schema, path, kind):
                    schema[path] = kind
        self._schema = schema
        self._samples.update((s.id, s) for s in samples)

    def sample_ids(self) -> list[str]:
        return list(self._samples)

    def get_samples(self, ids: Sequence[str] | None = None, fields: Collection[str] | None = None) -> Iterator[Sample]:
        ids = list(self._samples) if ids is None else list(ids)
        missing = [i for i in ids if i not in self._samples]
        if missing:
            raise UnknownSampleError(f"dataset {self.name!r} has no sample {missing[0]}")
        return (project(self._samples[i], fields) for i in ids)

    def field_schema(self) -> Mapping[str, FieldKind]:
        return dict(self._schema)

    def declare_field(self, path: str, kind: FieldKind) -> None:
        FieldPath.parse(path)
        if check_declaration(self._schema, path, kind):
            self._schema[path] = kind

    def apply(self, changes: Sequence[LabelChange]) -> None:
        # Work on copies: the stored samples change only if every change fits.
        schema = dict(self._schema)
        changed: dict[str, Sample] = {}
        for change in changes:
            sample = changed.get(change.sample_id) or self._samples.get(change.sample_id)
            if sample is None:
                raise UnknownSampleError(f"dataset {self.name!r} has no sample {change.sample_id}")
            kind = kind_for_change(schema, change)
            schema[change.field] = kind
            changed[change.sample_id] = apply_change(sample, kind, change)
        self._schema = schema
        self._samples.update(changed)

    def delete_samples(self, ids: Iterable[str]) -> None:
        for sample_id in list(ids):
            self._samples.pop(sample_id, None)

    def read_info(self) -> dict[str, Any]:
        return json.loads(self._info)

    def write_info(self, info: Mapping[str, Any]) -> None:
        self._info = json.dumps(dict(info), allow_nan=False)  # JSON as the SQL stores keep it: a copy

    def write_batch(self, batch: Batch) -> None:
        """All of the batch or nothing: on any error the state from before it is put back."""
        before = (dict(self._samples), dict(self._schema), self._info)
        try:
            super().write_batch(batch)
        except BaseException:
            self._samples, self._schema, self._info = before
            raise

    def delete_fields(self, paths: Sequence[str]) -> None:
        paths = list(dict.fromkeys(paths))
        check_field_edit(self._schema, paths)
        self._samples = {i: _renamed(s, {p: None for p in paths}) for i, s in self._samples.items()}
        for path in paths:
            del self._schema[path]

    def rename_field(self, path: str, new_path: str) -> None:
        check_field_edit(self._schema, [path], new_path)
        self._samples = {i: _renamed(s, {path: new_path}) for i, s in self._samples.items()}
        self._schema = {new_path if p == path else p: k for p, k in self._schema.items()}


def _renamed(sample: Sample, names: Mapping[str, str | None]) -> Sample:
    """The sample with fields renamed (old path -> new path) or dropped (old path -> None)."""

    def rename(fields: Mapping[str, FieldValue], prefix: str) -> dict[str, FieldValue]:
        out = {}
        for name, value in fields.items():
            target = names.get(prefix + name, prefix + name)
            if target is not None:
                out[target[len(prefix) :]] = value
        return out

    return attrs.evolve(
        sample, fields=rename(sample.fields, ""), frames={n: rename(f, FRAMES_PREFIX) for n, f in sample.frames.items()}
    )

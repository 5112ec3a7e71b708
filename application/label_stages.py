"""View stages that change what a sample shows: filter_labels, select_fields, exclude_fields,
and match_labels (which keeps samples by their labels); and the reader that shows a view's
samples through them.

A view's samples are read through the stages that change them, in order, so a later stage
(``sort_by(F("predictions.detections").length())``) sees the labels an earlier
``filter_labels`` kept, and annotate() uploads only the labels the view shows (FiftyOne's
CVAT guide, "Basic recipe"). The store is never changed by a view: a load merges by
provenance, so labels a view hid were not uploaded and stay as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

import attrs

from annoflow.application.ports.label_store import SampleRows, rows_of_sample
from annoflow.domain.expressions import ExpressionError, ViewExpression, evaluate, fields_read, truthy
from annoflow.domain.fields import FieldPath
from annoflow.domain.labels import FieldValue, Label, LabelList, labels_in
from annoflow.domain.samples import Sample
from annoflow.domain.schema_observation import SchemaObservations, observe

if TYPE_CHECKING:
    from annoflow.application.ports.label_store import LabelCounts, LabelMatches, LabelStore


class Stage:
    """One step of a view: from the ids so far to the ids it keeps, in order. ``store`` reads
    samples as the stages before this one show them (a ``ViewReader``; a bare ``LabelStore`` reads
    them as stored)."""

    def apply(self, store: ViewReader | LabelStore, ids: list[str]) -> list[str]:
        raise NotImplementedError


class ShapingStage(Stage):
    """A stage that changes the samples a view shows."""

    def extra_fields(self, fields: Collection[str] | None) -> set[str]:
        """Fields this stage reads besides those asked for (read, then dropped)."""
        return set()

    def shape(self, sample: Sample) -> Sample:
        raise NotImplementedError


@attrs.frozen(eq=False)
class ViewReader:
    """Reads samples from the store as a view shows them: through its shaping stages, in order."""

    store: LabelStore
    shaping: tuple[ShapingStage, ...] = ()

    def get_samples(self, ids: Sequence[str] | None = None, fields: Collection[str] | None = None) -> Iterator[Sample]:
        if not self.shaping:
            yield from self.store.get_samples(ids, fields=fields)
            return
        wanted = None if fields is None else set(fields)
        extra: set[str] = set()
        for stage in self.shaping:
            extra |= stage.extra_fields(wanted)
        read = None if wanted is None else sorted(wanted | extra)
        for sample in self.store.get_samples(ids, fields=read):
            for stage in self.shaping:
                sample = stage.shape(sample)
            yield sample if wanted is None or not (extra - wanted) else only_fields(sample, wanted)

    def get_label_rows(self, ids: Sequence[str], fields: Collection[str]) -> Iterator[SampleRows]:
        """The labels the view shows as rows: the store's own when it shows them all."""
        if not self.shaping:
            return self.store.get_label_rows(ids, fields)
        return (rows_of_sample(sample, fields) for sample in self.get_samples(ids, fields=fields))

    def samples_with_labels(
        self,
        ids: Sequence[str],
        fields: Sequence[str],
        filter: ViewExpression,  # noqa: A002 - FiftyOne's name
    ) -> LabelMatches | None:
        """The store's own decision of which samples hold a matching label, when the view shows the
        stored labels as they are (no shaping stage before); else None."""
        if self.shaping:
            return None
        return self.store.samples_with_labels(ids, fields, filter)

    def count_labels(self, ids: Sequence[str], field: str) -> LabelCounts | None:
        """The store's own count of the labels of ``field`` each sample shows, when the view shows
        the stored labels as they are or through one ``filter_labels`` of that field; else None."""
        # a store's own count, where it has one (a port method's default would say nothing more)
        count: Callable[[Sequence[str], str, ViewExpression | None], LabelCounts | None] | None = getattr(
            self.store, "count_labels", None
        )
        if count is None:
            return None
        if not self.shaping:
            return count(ids, field, None)
        if len(self.shaping) == 1:
            (stage,) = self.shaping
            if isinstance(stage, FilterLabels) and stage.field == field:
                return count(ids, field, stage.filter)
        return None

    def observe(self, ids: Sequence[str], paths: Sequence[str]) -> SchemaObservations:
        """The schema observation of the labels the view shows (the store's own when it shows them all)."""
        if not self.shaping:
            return self.store.observe(ids, paths)
        return observe(self.get_samples(ids, fields=paths), paths)


def only_fields(sample: Sample, keep: Collection[str]) -> Sample:
    """The sample with only the field paths in ``keep`` (``frames.x`` for frame fields)."""
    fields = {name: value for name, value in sample.fields.items() if name in keep}
    frames = {
        n: {name: v for name, v in frame.items() if f"frames.{name}" in keep} for n, frame in sample.frames.items()
    }
    return attrs.evolve(sample, fields=fields, frames=frames)


def _matches(expr: ViewExpression | None, sample: Sample, label: Label) -> bool:
    return expr is None or truthy(evaluate(expr, sample, label))


def _filtered(value: FieldValue, keep: Callable[[Label], bool]) -> FieldValue:
    if isinstance(value, LabelList):
        return value.with_items(label for label in value.items if keep(label))
    if isinstance(value, Label):
        return value if keep(value) else None
    if value is None:
        return None
    raise ExpressionError(f"filter_labels() filters a label field; this field holds {type(value).__name__} values")


@attrs.frozen(eq=False)
class FilterLabels(ShapingStage):
    """Only the field's labels that match ``filter``; with ``only_matches``, only samples with one."""

    field: str
    filter: ViewExpression
    only_matches: bool = True

    def extra_fields(self, fields: Collection[str] | None) -> set[str]:
        if fields is not None and self.field not in fields:
            return set()  # nothing of this stage shows
        return {self.field} | fields_read(self.filter, relative_to_sample=False)

    def shape(self, sample: Sample) -> Sample:
        path = FieldPath.parse(self.field)

        def keep(label: Label) -> bool:
            return _matches(self.filter, sample, label)

        if not path.on_frames:
            if path.name not in sample.fields:
                return sample
            return attrs.evolve(sample, fields={**sample.fields, path.name: _filtered(sample.fields[path.name], keep)})
        frames = {
            n: {**frame, **({path.name: _filtered(frame[path.name], keep)} if path.name in frame else {})}
            for n, frame in sample.frames.items()
        }
        return attrs.evolve(sample, frames=frames)

    def has_match(self, sample: Sample) -> bool:
        path = FieldPath.parse(self.field)
        if not path.on_frames:
            return bool(labels_in(sample.fields.get(path.name)))
        return any(labels_in(frame.get(path.name)) for frame in sample.frames.values())

    def apply(self, store: ViewReader | LabelStore, ids: list[str]) -> list[str]:
        if not self.only_matches:
            return ids
        reads = [self.field, *sorted(fields_read(self.filter, relative_to_sample=False))]
        return decided(
            store,
            ids,
            (self.field,),
            self.filter,
            lambda some: {s.id for s in store.get_samples(some, fields=reads) if self.has_match(self.shape(s))},
        )


@attrs.frozen(eq=False)
class SelectFields(ShapingStage):
    """Only the named fields (the sample's id, filepath, metadata and tags always stay)."""

    names: tuple[str, ...]

    def shape(self, sample: Sample) -> Sample:
        return only_fields(sample, set(self.names))

    def apply(self, store: ViewReader | LabelStore, ids: list[str]) -> list[str]:
        return ids


@attrs.frozen(eq=False)
class ExcludeFields(ShapingStage):
    """Every field but the named ones."""

    names: tuple[str, ...]

    def shape(self, sample: Sample) -> Sample:
        dropped = set(self.names)
        keep = {*sample.fields, *(f"frames.{n}" for frame in sample.frames.values() for n in frame)} - dropped
        return only_fields(sample, keep)

    def apply(self, store: ViewReader | LabelStore, ids: list[str]) -> list[str]:
        return ids


@attrs.frozen(eq=False)
class MatchLabels(Stage):
    """Samples with at least one label (in ``fields``, else every label field) that matches every
    criterion given: ``filter``, ``ids``; or, with ``bool=False``, samples with none."""

    fields: tuple[str, ...]
    filter: ViewExpression | None = None
    ids: frozenset[str] | None = None
    present: bool = True

    def apply(self, store: ViewReader | LabelStore, ids: list[str]) -> list[str]:
        reads = [
            *self.fields,
            *(sorted(fields_read(self.filter, relative_to_sample=False)) if self.filter is not None else []),
        ]

        def in_python(some: list[str]) -> set[str]:
            return {s.id for s in store.get_samples(some, fields=reads) if self._any_match(s)}

        if self.filter is None or self.ids is not None:
            matching = in_python(ids)
        else:
            matching = set(decided(store, ids, self.fields, self.filter, in_python))
        return [i for i in ids if (i in matching) == self.present]

    def _any_match(self, sample: Sample) -> bool:
        for name in self.fields:
            path = FieldPath.parse(name)
            values = (
                [sample.fields.get(path.name)]
                if not path.on_frames
                else [frame.get(path.name) for frame in sample.frames.values()]
            )
            for value in values:
                for label in labels_in(value):
                    if (self.ids is None or label.id in self.ids) and _matches(self.filter, sample, label):
                        return True
        return False


def decided(
    store: ViewReader | LabelStore,
    ids: list[str],
    fields: Sequence[str],
    filter: ViewExpression,  # noqa: A002 - FiftyOne's name
    in_python: Callable[[list[str]], set[str]],
) -> list[str]:
    """The ids (in order) of samples holding a label of ``fields`` that ``filter`` matches: decided by
    the store where it can (SQL over the label rows, no sample built), the rest by ``in_python``."""
    found = store.samples_with_labels(ids, fields, filter) if hasattr(store, "samples_with_labels") else None
    if found is None:
        matching = in_python(ids)
    else:
        unsure = [i for i in ids if i in found.unsure]
        matching = set(found.matched) | (in_python(unsure) if unsure else set())
    return [i for i in ids if i in matching]


def label_ids(ids: str | Iterable[str] | None) -> frozenset[str] | None:
    if ids is None:
        return None
    return frozenset((ids,) if isinstance(ids, str) else ids)

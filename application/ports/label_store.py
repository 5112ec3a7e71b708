"""The label store port: where a dataset's samples and labels live.

Adapters: an in-memory store (unit tests, fakes), a SQLite store (the embedded
default) and a PostgreSQL store (for teams). Every batch of changes is applied
atomically: all or none.
"""

from __future__ import annotations

import abc
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

import attrs

from annoflow.application.ports.mask_codec import decode_mask
from annoflow.domain.changes import LabelChange
from annoflow.domain.errors import AnnoflowError
from annoflow.domain.expressions import ViewExpression
from annoflow.domain.fields import FRAMES_PREFIX, FieldKind
from annoflow.domain.label_values import label_from_values, label_values
from annoflow.domain.labels import Label, labels_in
from annoflow.domain.samples import Sample
from annoflow.domain.schema_observation import SchemaObservations, observe


class UnknownSampleError(AnnoflowError, KeyError):
    """A change or a read named a sample the store does not hold."""


class DuplicateSampleError(AnnoflowError, ValueError):
    """Samples added to a store that already holds their ids; nothing was added."""


class FieldSchemaError(AnnoflowError, ValueError):
    """A value does not fit the field's declared kind, or the field is not declared."""


class LabelRow(NamedTuple):
    """One stored label as its plain values (`domain.label_values`): what an upload turns into a
    tool's objects without building the label first. ``frame`` is 0 for a sample field's label;
    ``built`` is the label itself when the reader had it already."""

    # A named tuple, not an attrs class: one is made per label read, 50,000 for a large task.
    field: str
    frame: int
    label_id: str
    kind: str
    values: Mapping[str, Any]
    mask: bytes | None = None  # as `mask_codec` encodes it
    built: Label | None = None

    def label(self) -> Label:
        if self.built is not None:
            return self.built
        return label_from_values(
            self.kind, self.label_id, self.values, None if self.mask is None else decode_mask(self.mask)
        )


# attrs converters a type checker reads: with ``converter=tuple`` a field takes "an iterable of _T_co".
def _samples(values: Iterable[Sample]) -> tuple[Sample, ...]:
    return tuple(values)


def _changes(values: Iterable[LabelChange]) -> tuple[LabelChange, ...]:
    return tuple(values)


def _strings(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


@attrs.frozen
class Batch:
    """Writes that belong together: samples added, changes applied, fields deleted (``frames.<name>``
    for a frame field) and the dataset's info replaced (when not None), in this order."""

    add: tuple[Sample, ...] = attrs.field(default=(), converter=_samples)
    changes: tuple[LabelChange, ...] = attrs.field(default=(), converter=_changes)
    delete_fields: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    info: Mapping[str, Any] | None = None


class SampleRows(NamedTuple):
    """A sample's labels in the fields read, as rows in field, frame and list order."""

    id: str
    rows: list[LabelRow]


def rows_of_sample(sample: Sample, fields: Collection[str]) -> SampleRows:
    """The rows of a sample already built: its labels carried as they are."""
    rows = []
    for path in sorted(fields):
        if path.startswith(FRAMES_PREFIX):
            name = path[len(FRAMES_PREFIX) :]
            found = [(number, frame.get(name)) for number, frame in sorted(sample.frames.items())]
        else:
            found = [(0, sample.fields.get(path))]
        rows += [
            LabelRow(path, number, label.id, label.kind, label_values(label), None, label)
            for number, value in found
            for label in labels_in(value)
        ]
    return SampleRows(sample.id, rows)


@attrs.frozen
class LabelMatches:
    """Which samples hold a label a filter is true for, as a store decided it: ``matched`` do;
    ``unsure`` the store could not decide for some label (the caller evaluates those itself);
    the others do not."""

    matched: frozenset[str]
    unsure: frozenset[str] = frozenset()


@attrs.frozen
class LabelCounts:
    """How many labels of a field each sample holds that a filter is true for, as a store counted
    them: ``counts`` for the samples whose field is set (an unset field is not there); ``unsure``
    the samples with a label the store could not decide (the caller counts those itself)."""

    counts: Mapping[str, int]
    unsure: frozenset[str] = frozenset()


class LabelStore(abc.ABC):
    """One dataset's samples, their fields and labels, and the dataset's field schema."""

    name: str

    @abc.abstractmethod
    def add_samples(self, samples: Iterable[Sample]) -> None:
        """Add samples atomically; their fields are declared from their values' kinds."""

    @abc.abstractmethod
    def sample_ids(self) -> list[str]:
        """Every sample id, in the order the samples were added."""

    @abc.abstractmethod
    def get_samples(self, ids: Sequence[str] | None = None, fields: Collection[str] | None = None) -> Iterator[Sample]:
        """Samples in the order of ``ids`` (all, in insertion order, when None).

        Raises UnknownSampleError for an id the store does not hold, at the
        latest when iteration reaches it.

        ``fields`` limits which field paths are read (``frames.x`` for frame
        fields); the others are left out of the returned samples, so large
        datasets are read without loading labels nobody asked for.
        """

    def get_label_rows(self, ids: Sequence[str], fields: Collection[str]) -> Iterator[SampleRows]:
        """Each sample's labels in these label fields as rows, in the order of ``ids`` (scalar
        values are not rows). This default reads the samples; a store that keeps labels as
        values gives its rows without building a label."""
        for sample in self.get_samples(ids, fields=fields):
            yield rows_of_sample(sample, fields)

    @abc.abstractmethod
    def field_schema(self) -> Mapping[str, FieldKind]:
        """Declared fields by path (``frames.<name>`` for frame fields) and kind."""

    @abc.abstractmethod
    def declare_field(self, path: str, kind: FieldKind) -> None:
        """Declare a new field; declaring an existing field with another kind is an error."""

    @abc.abstractmethod
    def apply(self, changes: Sequence[LabelChange]) -> None:
        """Apply a batch of changes atomically, or raise and change nothing.

        PutLabel inserts at the end of a list, or replaces the label with the same
        id where it stands; SetValue declares a field from its value's kind.
        Raises UnknownSampleError or FieldSchemaError for a change that does not fit.
        """

    @abc.abstractmethod
    def delete_samples(self, ids: Iterable[str]) -> None:
        """Remove samples and all their labels; ids the store does not hold are ignored."""

    def delete_fields(self, paths: Sequence[str]) -> None:
        """Remove fields from every sample and from the schema, atomically (``frames.<name>`` for a frame field).

        Raises FieldSchemaError for a path the schema does not hold; nothing is removed then.
        A store that cannot remove fields says so the same way.
        """
        raise FieldSchemaError(f"{type(self).__name__} cannot delete fields")

    def rename_field(self, path: str, new_path: str) -> None:
        """Give a field a new name on every sample and in the schema, atomically; a sample field stays
        a sample field and a frame field a frame field.

        Raises FieldSchemaError for an unknown ``path``, a ``new_path`` the schema holds or one of the
        other level; nothing changes then.
        """
        raise FieldSchemaError(f"{type(self).__name__} cannot rename fields")

    def read_info(self) -> dict[str, Any]:
        """The dataset's info (FiftyOne's ``dataset.info``: JSON values by name), {} when none was written."""
        return {}

    def write_info(self, info: Mapping[str, Any]) -> None:
        """Replace the dataset's info (JSON values by name) in one transaction; a store that cannot
        hold it says so with FieldSchemaError."""
        raise FieldSchemaError(f"{type(self).__name__} cannot hold a dataset's info")

    def write_batch(self, batch: Batch) -> None:
        """Make a batch's writes in one transaction: all of them or none (an import's samples with the
        info describing them; an evaluation's attributes, count fields and record deleted together).

        The default, for a store without such transactions, makes them one by one in an order a
        retry finishes: a batch that adds samples writes its info first (a crash leaves the info
        and no sample, and the import made again writes both), any other its info last (a crash
        leaves the record of what was to be undone, and the call made again finishes).
        """
        if batch.info is not None and batch.add:
            self.write_info(batch.info)
        if batch.add:
            self.add_samples(batch.add)
        if batch.changes:
            self.apply(batch.changes)
        if batch.delete_fields:
            self.delete_fields(batch.delete_fields)
        if batch.info is not None and not batch.add:
            self.write_info(batch.info)

    def samples_with_labels(
        self,
        ids: Sequence[str],
        fields: Sequence[str],
        filter: ViewExpression,  # noqa: A002 - FiftyOne's name
    ) -> LabelMatches | None:
        """Which of these samples hold a label in ``fields`` for which ``filter`` (an ``F`` expression
        relative to the label) is true, decided by the store without building the samples; None
        when the store cannot evaluate this expression (the default: the caller reads the samples).
        """
        return None

    def count_labels(self, ids: Sequence[str], field: str, filter: ViewExpression | None) -> LabelCounts | None:  # noqa: A002 - FiftyOne's name
        """How many labels of the sample label list field ``field`` each of these samples holds for which
        ``filter`` (relative to the label; None: every label) is true, counted by the store without
        building the samples; None when the store cannot (the default: the caller reads the samples).
        """
        return None

    def samples_by_label_count(
        self,
        field: str,
        filter: ViewExpression,  # noqa: A002 - FiftyOne's name
        reverse: bool,
        limit: int | None,
    ) -> list[str] | None:
        """The dataset's samples holding a label of the sample label list field ``field`` for which
        ``filter`` is true, ordered by how many they hold (most first with ``reverse``; ties in the
        dataset's order), at most ``limit`` (None: all), decided by the store without building the
        samples: ``filter_labels(field, filter).sort_by(<its length>)`` of the whole dataset. None
        when the store cannot decide every sample (the default: the view's stages run).
        """
        return None

    def observe(self, ids: Sequence[str], paths: Sequence[str]) -> SchemaObservations:
        """What the labels of these fields on these samples look like, for the label schema's inference.

        The default reads the samples; a store that can aggregate its own rows
        should, since annotate() otherwise reads every label twice.
        """
        return observe(self.get_samples(ids, fields=paths), paths)

    def close(self) -> None:  # noqa: B027 - an optional hook: the default holds nothing to release
        """Release resources; the default holds none."""

    def __len__(self) -> int:
        return len(self.sample_ids())

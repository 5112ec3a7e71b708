"""What the SQL label stores (SQLite and PostgreSQL) do alike over their own queries.

Reads go chunk by chunk of sample ids, so memory follows a chunk, not the dataset;
``observe()`` folds each chunk's grouped observation rows into the fields' tallies.
A store gives the queries: its field schema, one chunk's samples, one chunk's
observation rows.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any

from annoflow.adapters.label_stores.rows import decode_json_rows
from annoflow.adapters.label_stores.tables import observations, tally_rows
from annoflow.application.ports.label_store import Batch, LabelRow, LabelStore, SampleRows
from annoflow.domain.changes import LabelChange
from annoflow.domain.fields import FieldKind
from annoflow.domain.samples import Sample
from annoflow.domain.schema_observation import SchemaObservations

CHUNK = 500  # sample ids per query: well under SQLite's variable limit
# Label rows come in smaller reads: annotate() reads ahead while the media go up, and a media thread
# with an answer to handle waits for the interpreter until the read under way (its rows decoded) ends.
ROWS_CHUNK = 100


def split_matches(rows: Iterable[tuple[str, Any, Any]]) -> tuple[set[str], set[str]]:
    """(matched, undecided) sample ids from rows of (sample id, a label matched, a label undecided)."""
    matched: set[str] = set()
    unsure: set[str] = set()
    for sample_id, yes, undecided in rows:
        if yes:
            matched.add(sample_id)
        elif undecided:
            unsure.add(sample_id)
    return matched, unsure


class SqlLabelStore(LabelStore):
    """A label store over SQL tables laid out as ``tables.py`` describes."""

    @abc.abstractmethod
    def _transaction(self, work: Callable[[Any], None]) -> None:
        """Run ``work(connection)`` in one transaction: all it writes, or nothing."""

    @abc.abstractmethod
    def _adding(self, samples: list[Sample]) -> Callable[[Any], None]:
        """The step that inserts these samples."""

    @abc.abstractmethod
    def _applying(self, changes: Sequence[LabelChange]) -> Callable[[Any], None]:
        """The step that applies these label changes."""

    @abc.abstractmethod
    def _deleting_fields(self, paths: Sequence[str]) -> Callable[[Any], None]:
        """The step that deletes these fields."""

    @abc.abstractmethod
    def _writing_info(self, info: Mapping[str, Any]) -> Callable[[Any], None]:
        """The step that writes the dataset's info."""

    def write_batch(self, batch: Batch) -> None:
        """One transaction: the batch's samples, changes, field deletions and info, or none of them."""
        steps = [
            step
            for step in (
                self._adding(list(batch.add)) if batch.add else None,
                self._applying(batch.changes) if batch.changes else None,
                self._deleting_fields(batch.delete_fields) if batch.delete_fields else None,
                self._writing_info(batch.info) if batch.info is not None else None,
            )
            if step is not None
        ]

        def work(connection: Any) -> None:
            for step in steps:
                step(connection)

        self._transaction(work)

    @abc.abstractmethod
    def _read_schema(self) -> dict[str, FieldKind]:
        """The dataset's declared fields, read afresh: another store or machine may have declared more."""

    @abc.abstractmethod
    def _read_chunk(self, ids: list[str], wanted: list[str] | None, schema: Mapping[str, FieldKind]) -> list[Sample]:
        """These samples with the ``wanted`` field paths (all when None); UnknownSampleError for one not held."""

    @abc.abstractmethod
    def _read_label_rows(self, ids: list[str], wanted: list[str]) -> list[Any]:
        """These samples' label rows (sample id, path, frame, id, kind, data, mask) in these fields,
        ordered by sample, path, frame and position; UnknownSampleError for a sample not held."""

    @abc.abstractmethod
    def _observation_rows(self, ids: list[str], paths: list[str]) -> tuple[list[Any], list[Any]]:
        """(grouped, single) observation rows (see ``tables.tally_rows``); UnknownSampleError for a sample not held."""

    def field_schema(self) -> Mapping[str, FieldKind]:
        return self._read_schema()

    def get_samples(self, ids: Sequence[str] | None = None, fields: Collection[str] | None = None) -> Iterator[Sample]:
        ids = self.sample_ids() if ids is None else list(ids)
        wanted = None if fields is None else sorted(set(fields))
        schema = self._read_schema()
        for start in range(0, len(ids), CHUNK):
            yield from self._read_chunk(ids[start : start + CHUNK], wanted, schema)

    def get_label_rows(self, ids: Sequence[str], fields: Collection[str]) -> Iterator[SampleRows]:
        # The rows' JSON decoded in one call per chunk, and no label built: annotate() turns the
        # common labels into the tool's objects straight from these values.
        ids, wanted = list(ids), sorted(set(fields))
        for start in range(0, len(ids), ROWS_CHUNK):
            chunk = ids[start : start + ROWS_CHUNK]
            found = self._read_label_rows(chunk, wanted) if wanted else []
            by_sample: dict[str, list[LabelRow]] = {sample_id: [] for sample_id in chunk}
            for row, values in zip(found, decode_json_rows([row[5] for row in found]), strict=True):
                by_sample[row[0]].append(LabelRow(row[1], row[2], row[3], row[4], values, row[6]))
            for sample_id in chunk:
                yield SampleRows(sample_id, by_sample[sample_id])

    def observe(self, ids: Sequence[str], paths: Sequence[str]) -> SchemaObservations:
        """The labels' classes and attributes aggregated by the database: one row per distinct summary.

        Each label row carries its summary (class, attributes, unfilled polyline) as written,
        so the database groups rows without parsing their JSON. Segmentations (whose mask values
        are needed) and rows written before summaries existed are read one by one.
        """
        ids, paths = list(ids), list(paths)
        tallies = tally_rows(paths, (), ())
        for start in range(0, len(ids), CHUNK):
            grouped, single = self._observation_rows(ids[start : start + CHUNK], paths)
            tallies = tally_rows(paths, grouped, single, tallies)
        return observations(paths, tallies)

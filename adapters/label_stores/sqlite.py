"""The SQLite label store: the embedded default, one file holding one or several named datasets.

docs/label-stores.md gives its tables, its transactions and its locking.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from annoflow.adapters.label_stores.expression_sql import compile_label_filter, confidence_column_sql
from annoflow.adapters.label_stores.memory import declared_kinds
from annoflow.adapters.label_stores.rows import label_row
from annoflow.adapters.label_stores.rules import check_declaration, check_field_edit, kind_for_change
from annoflow.adapters.label_stores.sql import CHUNK, SqlLabelStore, split_matches
from annoflow.adapters.label_stores.tables import build_samples, frame_key, sample_head, sample_rows, value_rows
from annoflow.application.ports.label_store import (
    DuplicateSampleError,
    LabelCounts,
    LabelMatches,
    UnknownSampleError,
)
from annoflow.domain.changes import DeleteLabel, LabelChange, PutLabel, SetValue
from annoflow.domain.errors import AnnoflowError
from annoflow.domain.expressions import ViewExpression
from annoflow.domain.fields import FieldKind, FieldPath
from annoflow.domain.samples import Sample

_SCHEMA = """
CREATE TABLE IF NOT EXISTS samples (
    id TEXT PRIMARY KEY, dataset TEXT NOT NULL, position INTEGER NOT NULL,
    filepath TEXT NOT NULL, media_type TEXT NOT NULL, metadata TEXT, tags TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS samples_by_dataset ON samples (dataset, position);
CREATE TABLE IF NOT EXISTS fields (
    dataset TEXT NOT NULL, path TEXT NOT NULL, kind TEXT NOT NULL, PRIMARY KEY (dataset, path)
);
CREATE TABLE IF NOT EXISTS field_values (
    sample_id TEXT NOT NULL, path TEXT NOT NULL, frame INTEGER NOT NULL, value TEXT,
    PRIMARY KEY (sample_id, path, frame)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS labels (
    sample_id TEXT NOT NULL, path TEXT NOT NULL, frame INTEGER NOT NULL, id TEXT NOT NULL,
    position INTEGER NOT NULL, kind TEXT NOT NULL, data TEXT NOT NULL, mask BLOB, summary TEXT,
    confidence REAL,
    PRIMARY KEY (sample_id, path, frame, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS labels_in_order ON labels (sample_id, path, frame, position);
CREATE TABLE IF NOT EXISTS dataset_info (dataset TEXT PRIMARY KEY, info TEXT NOT NULL);
"""
# A label row's confidence column is filled from its JSON as it is written (an insert computes it;
# an update of the JSON refills it by the trigger, whichever program wrote it), so it never lags it.
_INSERT_LABEL = (
    "INSERT INTO labels (sample_id, path, frame, id, position, kind, data, mask, summary, confidence) "
    f"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, {confidence_column_sql('?7')})"
)
_HOT = f"""
CREATE TRIGGER IF NOT EXISTS labels_confidence AFTER UPDATE OF data ON labels BEGIN
    UPDATE labels SET confidence = {confidence_column_sql("NEW.data")}
    WHERE sample_id = NEW.sample_id AND path = NEW.path AND frame = NEW.frame AND id = NEW.id;
END;
-- what the compiled filters read (expression_sql), in the order a field's scan groups by sample:
-- a filter of confidence, class and custom attributes reads this index alone
CREATE INDEX IF NOT EXISTS labels_hot ON labels (path, frame, sample_id, confidence, summary);
-- the rows observe() reads one by one (segmentations, rows from before summaries): few, so found
-- through this partial index instead of a second pass over every label
CREATE INDEX IF NOT EXISTS labels_unsummarized ON labels (sample_id, path) WHERE summary IS NULL;
"""
logger = logging.getLogger(__name__)
# The labels table's primary key index (a WITHOUT ROWID table's is named so by SQLite); naming it
# makes a query that relies on it fail loudly should it ever be missing.
_BY_PRIMARY_KEY = "INDEXED BY sqlite_autoindex_labels_1"


BUSY_TIMEOUT = 30.0  # seconds a write waits for another writer to release the file


class LabelStoreLockedError(AnnoflowError, RuntimeError):
    """Another writer held the label store's file for longer than the busy timeout; nothing was written."""

    def __init__(self, path: Path, waited: float) -> None:
        self.path = path
        self.waited = waited
        super().__init__(
            f"{path} is locked by another writer: waited the busy timeout of {waited:g} s and gave up. Nothing "
            "was written and nothing is lost: call again once the other writer is done (a load finishes exactly "
            "once what an interrupted one recorded). ANNOFLOW_BUSY_TIMEOUT or busy_timeout= sets the wait."
        )


def _busy(error: sqlite3.OperationalError) -> bool:
    """Whether SQLite gave up waiting for a lock (SQLITE_BUSY or SQLITE_LOCKED, extended codes too)."""
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return "locked" in str(error)


def dataset_names(path: str | Path) -> list[str]:
    """The datasets a store file holds (those with samples or declared fields), sorted; none when
    the file does not exist (it is not created)."""
    path = Path(path)
    if not path.exists():
        return []
    db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=30)
    try:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not {"samples", "fields"} <= tables:
            return []
        rows = db.execute("SELECT dataset FROM samples UNION SELECT dataset FROM fields ORDER BY 1")
        return [row[0] for row in rows]
    finally:
        db.close()


class SqliteLabelStore(SqlLabelStore):
    def __init__(self, path: str | Path, name: str = "dataset", *, busy_timeout: float = BUSY_TIMEOUT) -> None:
        self.name = name
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=busy_timeout)
        with self._using():
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(labels)")}
            if "summary" not in columns:  # a file from before summaries: its rows are observed one by one
                logger.info(
                    "%s: adding the labels' summary column (rows written before it are observed one by one)", path
                )
                self._db.execute("ALTER TABLE labels ADD COLUMN summary TEXT")
            if "confidence" not in columns:  # a file from before the confidence column: filled once
                self._add_confidence_column()
            self._db.executescript(_HOT)
        logger.debug("dataset %r opened in %s", name, path)

    def _add_confidence_column(self) -> None:
        logger.info("%s: adding the labels' confidence column, filled from each row's JSON", self.path)
        self._db.execute("BEGIN IMMEDIATE")
        try:
            # read again under the write lock: another process may have added it meanwhile
            if "confidence" not in {row[1] for row in self._db.execute("PRAGMA table_info(labels)")}:
                self._db.execute("ALTER TABLE labels ADD COLUMN confidence REAL")
                self._db.execute(f"UPDATE labels SET confidence = {confidence_column_sql('data')}")
            self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise

    @contextlib.contextmanager
    def _using(self) -> Iterator[None]:
        """The connection, one thread at a time; SQLite giving up on a lock is a LabelStoreLockedError."""
        with self._lock:
            try:
                yield
            except sqlite3.OperationalError as error:
                if not _busy(error):
                    raise
                raise LabelStoreLockedError(self.path, self.busy_timeout) from None

    # --- reads ------------------------------------------------------------------

    def _read_schema(self) -> dict[str, FieldKind]:
        # Read afresh each time, not cached: another store on the same file may have declared fields.
        with self._using():
            rows = self._db.execute("SELECT path, kind FROM fields WHERE dataset = ?", (self.name,))
            return {path: FieldKind(kind) for path, kind in rows}

    def sample_ids(self) -> list[str]:
        with self._using():
            rows = self._db.execute("SELECT id FROM samples WHERE dataset = ? ORDER BY position", (self.name,))
            return [row[0] for row in rows]

    def _read_chunk(self, ids: list[str], wanted: list[str] | None, schema: Mapping[str, FieldKind]) -> list[Sample]:
        marks = ",".join("?" * len(ids))
        only = "" if wanted is None else f" AND path IN ({','.join('?' * len(wanted))})"
        args = (*ids, *(wanted or ()))
        with self._using():
            heads = {
                row[0]: row
                for row in self._db.execute(
                    f"SELECT id, filepath, media_type, metadata, tags FROM samples WHERE dataset = ? AND id IN ({marks})",
                    (self.name, *ids),
                )
            }
            missing = [i for i in ids if i not in heads]
            if missing:
                raise UnknownSampleError(f"dataset {self.name!r} has no sample {missing[0]}")
            if wanted is not None and not wanted:
                values, label_rows = [], []
            else:
                values = self._db.execute(
                    f"SELECT sample_id, path, frame, value FROM field_values WHERE sample_id IN ({marks}){only}", args
                ).fetchall()
                label_rows = self._db.execute(
                    f"SELECT sample_id, path, frame, id, kind, data, mask FROM labels WHERE sample_id IN ({marks}){only} "
                    "ORDER BY sample_id, path, frame, position",
                    args,
                ).fetchall()
        return build_samples(ids, heads, values, label_rows, schema)

    def _read_label_rows(self, ids: list[str], wanted: list[str]) -> list[Any]:
        marks, path_marks = ",".join("?" * len(ids)), ",".join("?" * len(wanted))
        with self._using():
            known = {
                row[0]
                for row in self._db.execute(
                    f"SELECT id FROM samples WHERE dataset = ? AND id IN ({marks})", (self.name, *ids)
                )
            }
            missing = [i for i in ids if i not in known]
            if missing:
                raise UnknownSampleError(f"dataset {self.name!r} has no sample {missing[0]}")
            return self._db.execute(
                f"SELECT sample_id, path, frame, id, kind, data, mask FROM labels WHERE sample_id IN ({marks}) "
                f"AND path IN ({path_marks}) ORDER BY sample_id, path, frame, position",
                (*ids, *wanted),
            ).fetchall()

    def _observation_rows(self, ids: list[str], paths: list[str]) -> tuple[list[tuple], list[tuple]]:
        """(grouped, single) observation rows of these samples' labels in these fields (see tables.tally_rows)."""
        marks, path_marks = ",".join("?" * len(ids)), ",".join("?" * len(paths))
        where = f"sample_id IN ({marks}) AND path IN ({path_marks})"
        with self._using():
            (found,) = self._db.execute(
                f"SELECT COUNT(*) FROM samples WHERE dataset = ? AND id IN ({marks})", (self.name, *ids)
            ).fetchone()
            if found != len(set(ids)):
                known = {
                    r[0]
                    for r in self._db.execute(
                        f"SELECT id FROM samples WHERE dataset = ? AND id IN ({marks})", (self.name, *ids)
                    )
                }
                raise UnknownSampleError(
                    f"dataset {self.name!r} has no sample {next(i for i in ids if i not in known)}"
                )
            if not paths:
                return [], []
            # Read along the table itself (its primary key starts with sample and path): through
            # labels_in_order, which SQLite picks otherwise, each row costs a second lookup.
            # grouped by summary first: a field's rows share their path, and sorting on it first
            # only adds a comparison to each step of the sort (a third of the query's time)
            grouped = self._db.execute(
                f"SELECT path, summary, mask IS NOT NULL, COUNT(*) FROM labels {_BY_PRIMARY_KEY} "
                f"WHERE {where} AND summary IS NOT NULL GROUP BY 2, 1, 3",
                (*ids, *paths),
            ).fetchall()
            single = self._db.execute(
                f"SELECT path, kind, data, mask FROM labels INDEXED BY labels_unsummarized "
                f"WHERE {where} AND summary IS NULL",
                (*ids, *paths),
            ).fetchall()
        return grouped, single

    # --- writes -----------------------------------------------------------------

    def _transaction(self, work: Any) -> None:
        """Run ``work(cursor)`` in one immediate transaction; roll back on any error."""
        with self._using():
            self._db.execute("BEGIN IMMEDIATE")
            try:
                work(self._db)
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:  # a COMMIT that failed leaves it open
                    self._db.execute("ROLLBACK")
                raise

    def _declare(self, db: sqlite3.Connection, schema: dict[str, FieldKind], path: str, kind: FieldKind) -> None:
        if check_declaration(schema, path, kind):
            schema[path] = kind
            db.execute("INSERT INTO fields (dataset, path, kind) VALUES (?, ?, ?)", (self.name, path, kind.value))

    def declare_field(self, path: str, kind: FieldKind) -> None:
        FieldPath.parse(path)
        self._transaction(lambda db: self._declare(db, self._read_schema(), path, kind))

    def add_samples(self, samples: Iterable[Sample]) -> None:
        self._transaction(self._adding(list(samples)))

    def _adding(self, samples: list[Sample]) -> Any:
        def work(db: sqlite3.Connection) -> None:
            schema = self._read_schema()
            (start,) = db.execute(
                "SELECT COALESCE(MAX(position) + 1, 0) FROM samples WHERE dataset = ?", (self.name,)
            ).fetchone()
            for sample in samples:
                for path, kind in declared_kinds(sample).items():
                    self._declare(db, schema, path, kind)
            values, labels = sample_rows(samples)
            try:
                db.executemany(
                    "INSERT INTO samples (id, dataset, position, filepath, media_type, metadata, tags) VALUES (?,?,?,?,?,?,?)",
                    [
                        (sample_id, self.name, start + i, *head)
                        for i, (sample_id, *head) in enumerate(map(sample_head, samples))
                    ],
                )
            except sqlite3.IntegrityError:
                raise DuplicateSampleError(
                    f"a sample is already in {self.path} (sample ids are unique per file)"
                ) from None
            db.executemany("INSERT INTO field_values VALUES (?,?,?,?)", values)
            db.executemany(_INSERT_LABEL, labels)

        return work

    def apply(self, changes: Sequence[LabelChange]) -> None:
        self._transaction(self._applying(changes))
        logger.debug("dataset %r: %d changes applied", self.name, len(changes))

    def _applying(self, changes: Sequence[LabelChange]) -> Any:
        def work(db: sqlite3.Connection) -> None:
            schema = self._read_schema()
            known: set[str] = set()
            for change in changes:
                if change.sample_id not in known:
                    found = db.execute(
                        "SELECT 1 FROM samples WHERE id = ? AND dataset = ?", (change.sample_id, self.name)
                    ).fetchone()
                    if found is None:
                        raise UnknownSampleError(f"dataset {self.name!r} has no sample {change.sample_id}")
                    known.add(change.sample_id)
                kind = kind_for_change(schema, change)
                self._declare(db, schema, change.field, kind)
                self._apply_one(db, kind, change)

        return work

    def _apply_one(self, db: sqlite3.Connection, kind: FieldKind, change: LabelChange) -> None:
        owner = (change.sample_id, change.field, frame_key(change.frame))
        if isinstance(change, SetValue):
            db.execute("DELETE FROM labels WHERE sample_id = ? AND path = ? AND frame = ?", owner)
            db.execute("DELETE FROM field_values WHERE sample_id = ? AND path = ? AND frame = ?", owner)
            values, labels = value_rows(*owner, change.value)
            db.executemany("INSERT INTO field_values VALUES (?,?,?,?)", values)
            db.executemany(_INSERT_LABEL, labels)
        elif isinstance(change, PutLabel):
            row = label_row(change.label)
            if not kind.is_list:  # a single-label field holds one label: the new one
                db.execute("DELETE FROM labels WHERE sample_id = ? AND path = ? AND frame = ?", owner)
            updated = db.execute(
                "UPDATE labels SET kind = ?, data = ?, mask = ?, summary = ? "
                "WHERE sample_id = ? AND path = ? AND frame = ? AND id = ?",
                (*row, *owner, change.label.id),
            ).rowcount
            if not updated:
                (position,) = db.execute(
                    "SELECT COALESCE(MAX(position) + 1, 0) FROM labels WHERE sample_id = ? AND path = ? AND frame = ?",
                    owner,
                ).fetchone()
                db.execute(_INSERT_LABEL, (*owner, change.label.id, position, *row))
            db.execute("INSERT OR IGNORE INTO field_values VALUES (?,?,?,NULL)", owner)
        elif isinstance(change, DeleteLabel):
            deleted = db.execute(
                "DELETE FROM labels WHERE sample_id = ? AND path = ? AND frame = ? AND id = ?",
                (*owner, change.label_id),
            ).rowcount
            if deleted and not kind.is_list:  # a single-label field without its label is unset
                db.execute("DELETE FROM field_values WHERE sample_id = ? AND path = ? AND frame = ?", owner)

    def delete_samples(self, ids: Iterable[str]) -> None:
        ids = list(ids)

        def work(db: sqlite3.Connection) -> None:
            for start in range(0, len(ids), CHUNK):
                chunk = ids[start : start + CHUNK]
                # Only this dataset's samples: another dataset's labels in the file are not ours to delete.
                mine = f"SELECT id FROM samples WHERE dataset = ? AND id IN ({','.join('?' * len(chunk))})"
                args = (self.name, *chunk)
                db.execute(f"DELETE FROM labels WHERE sample_id IN ({mine})", args)
                db.execute(f"DELETE FROM field_values WHERE sample_id IN ({mine})", args)
                db.execute(f"DELETE FROM samples WHERE id IN ({mine})", args)

        self._transaction(work)

    def read_info(self) -> dict[str, Any]:
        with self._using():
            row = self._db.execute("SELECT info FROM dataset_info WHERE dataset = ?", (self.name,)).fetchone()
        return json.loads(row[0]) if row else {}

    def write_info(self, info: Mapping[str, Any]) -> None:
        self._transaction(self._writing_info(info))

    def _writing_info(self, info: Mapping[str, Any]) -> Any:
        data = json.dumps(dict(info), allow_nan=False)  # refused before the transaction begins
        return lambda db: db.execute(
            "INSERT INTO dataset_info VALUES (?, ?) ON CONFLICT (dataset) DO UPDATE SET info = excluded.info",
            (self.name, data),
        )

    def samples_with_labels(
        self,
        ids: Sequence[str],
        fields: Sequence[str],
        filter: ViewExpression,  # noqa: A002 - FiftyOne's name
    ) -> LabelMatches | None:
        """Decided in SQL over the label rows when the filter compiles (``expression_sql``): no sample is built."""
        condition = compile_label_filter(filter)
        if condition is None:
            return None
        ids, fields = list(ids), list(fields)
        matched: set[str] = set()
        unsure: set[str] = set()
        step = max(1, CHUNK - len(fields))
        with self._using():
            for start in range(0, len(ids), step):
                chunk = ids[start : start + step]
                rows = self._db.execute(
                    f"SELECT sample_id, MAX(c IS 1), MAX(c IS NULL) FROM (SELECT sample_id, {condition.sql} AS c "
                    f"FROM labels WHERE sample_id IN ({','.join('?' * len(chunk))}) "
                    f"AND path IN ({','.join('?' * len(fields))})) GROUP BY sample_id",
                    (*condition.params, *chunk, *fields),
                )
                yes, undecided = split_matches(rows)
                matched |= yes
                unsure |= undecided
        return LabelMatches(frozenset(matched), frozenset(unsure))

    def count_labels(self, ids: Sequence[str], field: str, filter: ViewExpression | None) -> LabelCounts | None:  # noqa: A002 - FiftyOne's name
        """Counted in SQL over the label rows (one GROUP BY per chunk of ids) when the filter compiles
        (``expression_sql``) and the field is a sample field: no sample is built. A sample is counted
        when its field is set (a ``field_values`` row), as an empty list is."""
        if FieldPath.parse(field).on_frames:
            return None
        condition = compile_label_filter(filter) if filter is not None else None
        if filter is not None and condition is None:
            return None
        sql, params = (condition.sql, condition.params) if condition is not None else ("1", ())
        ids = list(ids)
        counts: dict[str, int] = {}
        unsure: set[str] = set()
        step = max(1, CHUNK - 1)
        with self._using():
            for start in range(0, len(ids), step):
                chunk = ids[start : start + step]
                marks = ",".join("?" * len(chunk))
                counts.update(
                    (sample_id, 0)
                    for (sample_id,) in self._db.execute(
                        f"SELECT sample_id FROM field_values WHERE sample_id IN ({marks}) AND path = ? AND frame = 0",
                        (*chunk, field),
                    )
                )
                rows = self._db.execute(
                    f"SELECT sample_id, SUM(c IS 1), MAX(c IS NULL) FROM (SELECT sample_id, {sql} AS c FROM labels "
                    f"WHERE sample_id IN ({marks}) AND path = ? AND frame = 0) GROUP BY sample_id",
                    (*params, *chunk, field),
                )
                for sample_id, matching, undecided in rows:
                    counts[sample_id] = matching
                    if undecided:
                        unsure.add(sample_id)
        return LabelCounts(counts, frozenset(unsure))

    def samples_by_label_count(
        self,
        field: str,
        filter: ViewExpression,  # noqa: A002 - FiftyOne's name
        reverse: bool,
        limit: int | None,
    ) -> list[str] | None:
        """One statement over the dataset's label rows: each sample's count of matching labels, the
        samples with one ordered by it (ties in the dataset's order) and cut to ``limit``; no sample
        is built. None when the filter does not compile, the field is a frame field, or a row SQL
        cannot read could change the answer (it sorts first, so one row says so)."""
        if FieldPath.parse(field).on_frames:
            return None
        condition = compile_label_filter(filter)
        if condition is None:
            return None
        direction = "DESC" if reverse else "ASC"
        cut = "" if limit is None else " LIMIT ?"
        with self._using():
            rows = self._db.execute(
                f"SELECT g.sample_id, g.undecided FROM (SELECT sample_id, SUM(c IS 1) AS n, MAX(c IS NULL) AS undecided "
                f"FROM (SELECT sample_id, {condition.sql} AS c FROM labels WHERE path = ? AND frame = 0) "
                f"GROUP BY sample_id HAVING n > 0 OR undecided) AS g JOIN samples AS s ON s.id = g.sample_id "
                f"WHERE s.dataset = ? ORDER BY g.undecided DESC, g.n {direction}, s.position{cut}",
                (*condition.params, field, self.name, *(() if limit is None else (max(limit, 1),))),
            ).fetchall()
        if rows and rows[0][1]:
            return None
        return [sample_id for sample_id, _ in rows][:limit]

    def delete_fields(self, paths: Sequence[str]) -> None:
        self._transaction(self._deleting_fields(paths))

    def _deleting_fields(self, paths: Sequence[str]) -> Any:
        paths = list(dict.fromkeys(paths))
        mine = "SELECT id FROM samples WHERE dataset = ?"

        def work(db: sqlite3.Connection) -> None:
            check_field_edit(self._read_schema(), paths)
            for path in paths:
                db.execute(f"DELETE FROM labels WHERE path = ? AND sample_id IN ({mine})", (path, self.name))
                db.execute(f"DELETE FROM field_values WHERE path = ? AND sample_id IN ({mine})", (path, self.name))
                db.execute("DELETE FROM fields WHERE dataset = ? AND path = ?", (self.name, path))

        return work

    def rename_field(self, path: str, new_path: str) -> None:
        mine = "SELECT id FROM samples WHERE dataset = ?"

        def work(db: sqlite3.Connection) -> None:
            check_field_edit(self._read_schema(), [path], new_path)
            args = (new_path, path, self.name)
            db.execute(f"UPDATE labels SET path = ? WHERE path = ? AND sample_id IN ({mine})", args)
            db.execute(f"UPDATE field_values SET path = ? WHERE path = ? AND sample_id IN ({mine})", args)
            db.execute("UPDATE fields SET path = ? WHERE dataset = ? AND path = ?", (new_path, self.name, path))

        self._transaction(work)

    def close(self) -> None:
        with self._using():
            self._db.close()

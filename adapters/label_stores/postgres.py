"""The PostgreSQL label store: a team's datasets on one server, shared by several machines.

docs/label-stores.md gives its schema, its locking and its pool.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg_pool import ConnectionPool

from annoflow.adapters.label_stores.expression_sql import POSTGRES, POSTGRES_DOC, Condition, compile_label_filter
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
from annoflow.domain.expressions import ViewExpression
from annoflow.domain.fields import FieldKind, FieldPath
from annoflow.domain.samples import Sample

logger = logging.getLogger(__name__)
DEFAULT_SCHEMA = "annoflow"
CONNECT_TIMEOUT = 10  # seconds to reach the server, unless the connection string says
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")

_TABLES = """
CREATE SCHEMA IF NOT EXISTS {s};
CREATE TABLE IF NOT EXISTS {s}.samples (
    id TEXT PRIMARY KEY, dataset TEXT NOT NULL, position BIGINT NOT NULL,
    filepath TEXT NOT NULL, media_type TEXT NOT NULL, metadata TEXT, tags TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS samples_by_dataset ON {s}.samples (dataset, position);
CREATE TABLE IF NOT EXISTS {s}.fields (
    dataset TEXT NOT NULL, path TEXT NOT NULL, kind TEXT NOT NULL, PRIMARY KEY (dataset, path)
);
CREATE TABLE IF NOT EXISTS {s}.field_values (
    sample_id TEXT NOT NULL, path TEXT NOT NULL, frame INTEGER NOT NULL, value TEXT,
    PRIMARY KEY (sample_id, path, frame)
);
CREATE TABLE IF NOT EXISTS {s}.labels (
    sample_id TEXT NOT NULL, path TEXT NOT NULL, frame INTEGER NOT NULL, id TEXT NOT NULL,
    position INTEGER NOT NULL, kind TEXT NOT NULL, data TEXT NOT NULL, mask BYTEA, summary TEXT,
    PRIMARY KEY (sample_id, path, frame, id)
);
CREATE INDEX IF NOT EXISTS labels_in_order ON {s}.labels (sample_id, path, frame, position);
CREATE TABLE IF NOT EXISTS {s}.dataset_info (dataset TEXT PRIMARY KEY, info TEXT NOT NULL);
"""


def schema_name(name: object) -> str:
    """The schema's name, checked: a lower-case SQL identifier, so it is used as is."""
    if not isinstance(name, str) or not _IDENTIFIER.fullmatch(name):
        raise ValueError(
            f"the label store's PostgreSQL schema must be a lower-case identifier (letters, digits, _), got {name!r}"
        )
    return name


def where(conninfo: str) -> str:
    """host:port/dbname of a connection string, without its user or password: for messages and reprs."""
    parts = conninfo_to_dict(conninfo)
    return f"{parts.get('host', 'localhost')}:{parts.get('port', 5432)}/{parts.get('dbname', '')}"


def _plain(text: str, what: str) -> str:
    """``text`` when PostgreSQL's text can hold it; a NUL character is refused, naming ``what``."""
    if "\x00" in text:
        raise ValueError(f"{what} {text!r} holds a NUL character, which PostgreSQL's text cannot hold")
    return text


def _bounded(conninfo: str) -> str:
    """The connection string with a connect timeout, unless it names one: libpq waits for ever by default."""
    if "connect_timeout" in conninfo_to_dict(conninfo):
        return conninfo
    return make_conninfo(conninfo, connect_timeout=CONNECT_TIMEOUT)


def dataset_names(conninfo: str, schema: str = DEFAULT_SCHEMA) -> list[str]:
    """The datasets a schema holds (those with samples or declared fields), sorted; none when the
    schema has no tables yet (nothing is created)."""
    schema = schema_name(schema)
    with psycopg.connect(_bounded(conninfo), autocommit=True) as conn:
        found = conn.execute(
            "SELECT to_regclass(%s) IS NOT NULL AND to_regclass(%s) IS NOT NULL",
            (f"{schema}.samples", f"{schema}.fields"),
        ).fetchone()
        if not found or not found[0]:
            return []
        rows = conn.execute(
            f"SELECT dataset FROM {schema}.samples UNION SELECT dataset FROM {schema}.fields ORDER BY 1"
        )
        return [row[0] for row in rows]


class PostgresLabelStore(SqlLabelStore):
    """One dataset in a PostgreSQL schema; ``conninfo`` is a libpq connection string or URI."""

    def __init__(
        self, conninfo: str, name: str = "dataset", *, schema: str = DEFAULT_SCHEMA, max_connections: int = 4
    ) -> None:
        self.name = _plain(name, "the dataset name")
        self.schema = schema_name(schema)
        self.where = where(conninfo)
        conninfo = _bounded(conninfo)
        s = self.schema
        # A connection made directly first: a server that cannot be reached says why, at once.
        with psycopg.connect(conninfo, autocommit=True) as conn, conn.transaction():
            # Two processes creating the tables at once would collide in the catalog.
            conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"annoflow-tables:{s}",))
            conn.execute(_TABLES.format(s=s))
        self._pool = ConnectionPool(
            conninfo, min_size=1, max_size=max_connections, open=True, name=f"annoflow-labels-{s}"
        )
        self._lock_key = f"annoflow-dataset:{s}:{name}"
        self._sql = {
            "declare": f"INSERT INTO {s}.fields (dataset, path, kind) VALUES (%s, %s, %s)",
            "value": f"INSERT INTO {s}.field_values VALUES (%s, %s, %s, %s)",
            "value_once": f"INSERT INTO {s}.field_values VALUES (%s, %s, %s, NULL) ON CONFLICT DO NOTHING",
            "label": f"INSERT INTO {s}.labels VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            "drop_labels": f"DELETE FROM {s}.labels WHERE sample_id = %s AND path = %s AND frame = %s",
            "drop_others": f"DELETE FROM {s}.labels WHERE sample_id = %s AND path = %s AND frame = %s AND id <> %s",
            "drop_value": f"DELETE FROM {s}.field_values WHERE sample_id = %s AND path = %s AND frame = %s",
            # Replaced where it stands, else appended: its position is the list's end.
            "put": f"INSERT INTO {s}.labels VALUES (%s, %s, %s, %s, "
            f"(SELECT COALESCE(MAX(position) + 1, 0) FROM {s}.labels "
            "WHERE sample_id = %s AND path = %s AND frame = %s), %s, %s, %s, %s) "
            "ON CONFLICT (sample_id, path, frame, id) DO UPDATE "
            "SET kind = EXCLUDED.kind, data = EXCLUDED.data, mask = EXCLUDED.mask, summary = EXCLUDED.summary",
            "delete": f"DELETE FROM {s}.labels WHERE sample_id = %s AND path = %s AND frame = %s AND id = %s",
            # A single-label field without its label is unset.
            "delete_single": f"WITH gone AS (DELETE FROM {s}.labels "
            "WHERE sample_id = %s AND path = %s AND frame = %s AND id = %s RETURNING 1) "
            f"DELETE FROM {s}.field_values WHERE sample_id = %s AND path = %s AND frame = %s "
            "AND EXISTS (SELECT 1 FROM gone)",
        }
        logger.debug("dataset %r opened in schema %s on %s", name, s, self.where)

    def __repr__(self) -> str:
        return f"PostgresLabelStore({self.name!r}, schema={self.schema!r}, on {self.where})"

    # --- reads ------------------------------------------------------------------

    def _read_schema(self, conn: psycopg.Connection | None = None) -> dict[str, FieldKind]:
        # Read afresh each time: another machine may have declared fields.
        query = f"SELECT path, kind FROM {self.schema}.fields WHERE dataset = %s"
        if conn is not None:
            return {path: FieldKind(kind) for path, kind in conn.execute(query, (self.name,))}
        with self._pool.connection() as conn:
            return {path: FieldKind(kind) for path, kind in conn.execute(query, (self.name,))}

    def sample_ids(self) -> list[str]:
        with self._pool.connection() as conn:
            rows = conn.execute(
                f"SELECT id FROM {self.schema}.samples WHERE dataset = %s ORDER BY position", (self.name,)
            )
            return [row[0] for row in rows]

    def _read_chunk(self, ids: list[str], wanted: list[str] | None, schema: Mapping[str, FieldKind]) -> list[Sample]:
        s = self.schema
        only = "" if wanted is None else " AND path = ANY(%s)"
        args: tuple[Any, ...] = (ids,) if wanted is None else (ids, wanted)
        with self._pool.connection() as conn:
            heads = {
                row[0]: row
                for row in conn.execute(
                    f"SELECT id, filepath, media_type, metadata, tags FROM {s}.samples WHERE dataset = %s AND id = ANY(%s)",
                    (self.name, ids),
                )
            }
            missing = [i for i in ids if i not in heads]
            if missing:
                raise UnknownSampleError(f"dataset {self.name!r} has no sample {missing[0]}")
            if wanted is not None and not wanted:
                return build_samples(ids, heads, (), (), schema)
            values = conn.execute(
                f"SELECT sample_id, path, frame, value FROM {s}.field_values WHERE sample_id = ANY(%s){only}", args
            ).fetchall()
            label_rows = conn.execute(
                f"SELECT sample_id, path, frame, id, kind, data, mask FROM {s}.labels WHERE sample_id = ANY(%s){only} "
                "ORDER BY sample_id, path, frame, position",
                args,
            ).fetchall()
        return build_samples(ids, heads, values, label_rows, schema)

    def _check_held(self, conn: Any, ids: list[str]) -> None:
        """UnknownSampleError for the first of these samples the dataset does not hold."""
        known = {
            row[0]
            for row in conn.execute(
                f"SELECT id FROM {self.schema}.samples WHERE dataset = %s AND id = ANY(%s)", (self.name, ids)
            )
        }
        missing = [i for i in ids if i not in known]
        if missing:
            raise UnknownSampleError(f"dataset {self.name!r} has no sample {missing[0]}")

    def _read_label_rows(self, ids: list[str], wanted: list[str]) -> list[Any]:
        s = self.schema
        with self._pool.connection() as conn:
            self._check_held(conn, ids)
            return conn.execute(
                f"SELECT sample_id, path, frame, id, kind, data, mask FROM {s}.labels WHERE sample_id = ANY(%s) "
                "AND path = ANY(%s) ORDER BY sample_id, path, frame, position",
                (ids, wanted),
            ).fetchall()

    def _observation_rows(self, ids: list[str], paths: list[str]) -> tuple[list[Any], list[Any]]:
        s = self.schema
        with self._pool.connection() as conn:
            self._check_held(conn, ids)
            if not paths:
                return [], []
            grouped = conn.execute(
                f"SELECT path, summary, mask IS NOT NULL, COUNT(*) FROM {s}.labels "
                "WHERE sample_id = ANY(%s) AND path = ANY(%s) AND summary IS NOT NULL GROUP BY 1, 2, 3",
                (ids, paths),
            ).fetchall()
            single = conn.execute(
                f"SELECT path, kind, data, mask FROM {s}.labels "
                "WHERE sample_id = ANY(%s) AND path = ANY(%s) AND summary IS NULL",
                (ids, paths),
            ).fetchall()
        return grouped, single

    # --- label filters in SQL (expression_sql, PostgreSQL's jsonb) ----------------------------

    def _filtered(self, condition: Condition, where: str, read: bool = True) -> str:
        """Each label row chosen by ``where`` with ``c``, the filter's truth over it (over its JSON as
        jsonb, ``d``, unless ``read`` is False: a count of every label reads none)."""
        doc = POSTGRES_DOC if read else "NULL::jsonb"
        return (
            f"SELECT sample_id, {condition.sql} AS c FROM (SELECT sample_id, id, {doc} AS d "
            f"FROM {self.schema}.labels WHERE {where}) AS r"
        )

    def samples_with_labels(
        self,
        ids: Sequence[str],
        fields: Sequence[str],
        filter: ViewExpression,  # noqa: A002 - FiftyOne's name
    ) -> LabelMatches | None:
        """Decided by the server over the label rows' JSON as jsonb when the filter compiles
        (``expression_sql``): no sample is built."""
        condition = compile_label_filter(filter, POSTGRES)
        if condition is None:
            return None
        ids, fields = list(ids), list(fields)
        matched: set[str] = set()
        unsure: set[str] = set()
        with self._pool.connection() as conn:
            for start in range(0, len(ids), CHUNK):
                rows = conn.execute(
                    f"SELECT sample_id, bool_or(c IS TRUE), bool_or(c IS NULL) FROM "
                    f"({self._filtered(condition, 'sample_id = ANY(%s) AND path = ANY(%s)')}) AS m GROUP BY sample_id",
                    (*condition.params, ids[start : start + CHUNK], fields),
                )
                yes, undecided = split_matches(rows)
                matched |= yes
                unsure |= undecided
        return LabelMatches(frozenset(matched), frozenset(unsure))

    def count_labels(self, ids: Sequence[str], field: str, filter: ViewExpression | None) -> LabelCounts | None:  # noqa: A002 - FiftyOne's name
        """Counted by the server when the filter compiles and the field is a sample field; a sample is
        counted when its field is set (a ``field_values`` row), as an empty list is."""
        if FieldPath.parse(field).on_frames:
            return None
        condition = compile_label_filter(filter, POSTGRES) if filter is not None else Condition("TRUE")
        if condition is None:
            return None
        ids = list(ids)
        counts: dict[str, int] = {}
        unsure: set[str] = set()
        s = self.schema
        with self._pool.connection() as conn:
            for start in range(0, len(ids), CHUNK):
                chunk = ids[start : start + CHUNK]
                counts.update(
                    (sample_id, 0)
                    for (sample_id,) in conn.execute(
                        f"SELECT sample_id FROM {s}.field_values WHERE sample_id = ANY(%s) AND path = %s AND frame = 0",
                        (chunk, field),
                    )
                )
                rows = conn.execute(
                    f"SELECT sample_id, count(*) FILTER (WHERE c), bool_or(c IS NULL) FROM "
                    f"({self._filtered(condition, 'sample_id = ANY(%s) AND path = %s AND frame = 0', filter is not None)}) "
                    "AS m "
                    "GROUP BY sample_id",
                    (*condition.params, chunk, field),
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
        """One statement, as the SQLite store's: each sample's count of matching labels, the samples with
        one ordered by it (ties in the dataset's order), cut to ``limit``; None where a row the server
        cannot read could change the answer."""
        if FieldPath.parse(field).on_frames:
            return None
        condition = compile_label_filter(filter, POSTGRES)
        if condition is None:
            return None
        direction = "DESC" if reverse else "ASC"
        with self._pool.connection() as conn:
            rows = conn.execute(
                f"SELECT g.sample_id, g.undecided FROM (SELECT sample_id, count(*) FILTER (WHERE c) AS n, "
                f"bool_or(c IS NULL) AS undecided FROM ({self._filtered(condition, 'path = %s AND frame = 0')}) AS m "
                f"GROUP BY sample_id) AS g JOIN {self.schema}.samples AS s ON s.id = g.sample_id "
                f"WHERE s.dataset = %s AND (g.n > 0 OR g.undecided) "
                f"ORDER BY g.undecided DESC, g.n {direction}, s.position LIMIT %s",
                (*condition.params, field, self.name, None if limit is None else max(limit, 1)),
            ).fetchall()
        if rows and rows[0][1]:
            return None
        return [sample_id for sample_id, _ in rows][:limit]

    # --- writes -----------------------------------------------------------------

    def _transaction(self, work: Callable[[psycopg.Connection], None]) -> None:
        """Run ``work(conn)`` in one transaction holding the dataset's write lock; roll back on any error."""
        with self._pool.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (self._lock_key,))
            work(conn)

    def _declarations(self, schema: dict[str, FieldKind], path: str, kind: FieldKind) -> list[tuple[str, tuple]]:
        """The statement declaring a new field (none for a declared one); ``schema`` learns it."""
        if not check_declaration(schema, _plain(path, "the field path"), kind):
            return []
        schema[path] = kind
        return [(self._sql["declare"], (self.name, path, kind.value))]

    def declare_field(self, path: str, kind: FieldKind) -> None:
        FieldPath.parse(path)

        def work(conn: psycopg.Connection) -> None:
            for statement, args in self._declarations(self._read_schema(conn), path, kind):
                conn.execute(statement, args)

        self._transaction(work)

    def add_samples(self, samples: Iterable[Sample]) -> None:
        self._transaction(self._adding(list(samples)))

    def _adding(self, samples: list[Sample]) -> Callable[[psycopg.Connection], None]:
        s = self.schema
        for sample in samples:
            _plain(sample.filepath, f"sample {sample.id}: the filepath")

        def work(conn: psycopg.Connection) -> None:
            schema = self._read_schema(conn)
            declarations = [
                statement
                for sample in samples
                for path, kind in declared_kinds(sample).items()
                for statement in self._declarations(schema, path, kind)
            ]
            first_free = conn.execute(
                f"SELECT COALESCE(MAX(position) + 1, 0) FROM {s}.samples WHERE dataset = %s", (self.name,)
            ).fetchone()
            assert first_free is not None  # an aggregate without GROUP BY always gives one row
            (start,) = first_free
            values, labels = sample_rows(samples)
            with conn.cursor() as cursor:
                for statement, args in declarations:
                    cursor.execute(statement, args)
                try:
                    with cursor.copy(
                        f"COPY {s}.samples (id, dataset, position, filepath, media_type, metadata, tags) FROM STDIN"
                    ) as copy:
                        for i, (sample_id, *head) in enumerate(map(sample_head, samples)):
                            copy.write_row((sample_id, self.name, start + i, *head))
                except pg_errors.UniqueViolation:
                    raise DuplicateSampleError(
                        f"a sample is already in schema {s} on {self.where} (sample ids are unique per schema)"
                    ) from None
                with cursor.copy(f"COPY {s}.field_values FROM STDIN") as copy:
                    for row in values:
                        copy.write_row(row)
                with cursor.copy(f"COPY {s}.labels FROM STDIN") as copy:
                    for label_row in labels:
                        copy.write_row(label_row)

        return work

    def apply(self, changes: Sequence[LabelChange]) -> None:
        self._transaction(self._applying(changes))
        logger.debug("dataset %r: %d changes applied", self.name, len(changes))

    def _applying(self, changes: Sequence[LabelChange]) -> Callable[[psycopg.Connection], None]:
        s = self.schema

        def work(conn: psycopg.Connection) -> None:
            schema = self._read_schema(conn)
            named = list(dict.fromkeys(change.sample_id for change in changes))
            known = {
                row[0]
                for row in conn.execute(
                    f"SELECT id FROM {s}.samples WHERE dataset = %s AND id = ANY(%s)", (self.name, named)
                )
            }
            # Every change is checked before the first statement is sent: a refused batch sends nothing.
            statements: list[tuple[str, tuple]] = []
            marked: set[tuple[str, str, int]] = set()  # fields this batch has already marked set
            for change in changes:
                if change.sample_id not in known:
                    raise UnknownSampleError(f"dataset {self.name!r} has no sample {change.sample_id}")
                kind = kind_for_change(schema, change)
                statements += self._declarations(schema, change.field, kind)
                statements += self._statements(kind, change, marked)
            # Pipelined: the statements go out without waiting for each answer.
            with conn.pipeline(), conn.cursor() as cursor:
                for statement, args in statements:
                    cursor.execute(statement, args)

        return work

    def _statements(
        self, kind: FieldKind, change: LabelChange, marked: set[tuple[str, str, int]]
    ) -> list[tuple[str, tuple]]:
        """One change's statements. ``marked``: the fields whose value row this batch already wrote
        for a PutLabel (a load puts several labels into one list: one such row is enough)."""
        sql = self._sql
        owner = (change.sample_id, change.field, frame_key(change.frame))
        if not isinstance(change, PutLabel):
            marked.discard(owner)  # its value row may go: the next PutLabel writes it again
        if isinstance(change, SetValue):
            values, labels = value_rows(*owner, change.value)
            return [
                (sql["drop_labels"], owner),
                (sql["drop_value"], owner),
                *((sql["value"], row) for row in values),
                *((sql["label"], row) for row in labels),
            ]
        if isinstance(change, PutLabel):
            label_id = change.label.id
            # A single-label field holds one label: the new one.
            drop = [] if kind.is_list else [(sql["drop_others"], (*owner, label_id))]
            mark = [] if owner in marked else [(sql["value_once"], owner)]
            marked.add(owner)
            return [*drop, (sql["put"], (*owner, label_id, *owner, *label_row(change.label))), *mark]
        if isinstance(change, DeleteLabel):
            if kind.is_list:
                return [(sql["delete"], (*owner, change.label_id))]
            return [(sql["delete_single"], (*owner, change.label_id, *owner))]
        raise TypeError(f"not a label change: {change!r}")

    def delete_samples(self, ids: Iterable[str]) -> None:
        ids = list(ids)
        s = self.schema

        def work(conn: psycopg.Connection) -> None:
            for start in range(0, len(ids), CHUNK):
                # Only this dataset's samples: another dataset's labels in the schema are not ours to delete.
                args = (self.name, ids[start : start + CHUNK])
                mine = f"SELECT id FROM {s}.samples WHERE dataset = %s AND id = ANY(%s)"
                conn.execute(f"DELETE FROM {s}.labels WHERE sample_id IN ({mine})", args)
                conn.execute(f"DELETE FROM {s}.field_values WHERE sample_id IN ({mine})", args)
                conn.execute(f"DELETE FROM {s}.samples WHERE id IN ({mine})", args)

        self._transaction(work)

    def read_info(self) -> dict[str, Any]:
        with self._pool.connection() as conn:
            row = conn.execute(
                f"SELECT info FROM {self.schema}.dataset_info WHERE dataset = %s", (self.name,)
            ).fetchone()
        return json.loads(row[0]) if row else {}

    def write_info(self, info: Mapping[str, Any]) -> None:
        self._transaction(self._writing_info(info))

    def _writing_info(self, info: Mapping[str, Any]) -> Callable[[psycopg.Connection], None]:
        data = _plain(json.dumps(dict(info), allow_nan=False), "the dataset's info")  # refused before sending

        def work(conn: psycopg.Connection) -> None:
            conn.execute(
                f"INSERT INTO {self.schema}.dataset_info VALUES (%s, %s) "
                "ON CONFLICT (dataset) DO UPDATE SET info = EXCLUDED.info",
                (self.name, data),
            )

        return work

    def delete_fields(self, paths: Sequence[str]) -> None:
        self._transaction(self._deleting_fields(paths))

    def _deleting_fields(self, paths: Sequence[str]) -> Callable[[psycopg.Connection], None]:
        paths = [_plain(p, "the field path") for p in dict.fromkeys(paths)]
        s = self.schema
        mine = f"SELECT id FROM {s}.samples WHERE dataset = %s"

        def work(conn: psycopg.Connection) -> None:
            check_field_edit(self._read_schema(conn), paths)
            for path in paths:
                conn.execute(f"DELETE FROM {s}.labels WHERE path = %s AND sample_id IN ({mine})", (path, self.name))
                conn.execute(
                    f"DELETE FROM {s}.field_values WHERE path = %s AND sample_id IN ({mine})", (path, self.name)
                )
                conn.execute(f"DELETE FROM {s}.fields WHERE dataset = %s AND path = %s", (self.name, path))

        return work

    def rename_field(self, path: str, new_path: str) -> None:
        path, new_path = _plain(path, "the field path"), _plain(new_path, "the field path")
        s = self.schema
        mine = f"SELECT id FROM {s}.samples WHERE dataset = %s"

        def work(conn: psycopg.Connection) -> None:
            check_field_edit(self._read_schema(conn), [path], new_path)
            args = (new_path, path, self.name)
            conn.execute(f"UPDATE {s}.labels SET path = %s WHERE path = %s AND sample_id IN ({mine})", args)
            conn.execute(f"UPDATE {s}.field_values SET path = %s WHERE path = %s AND sample_id IN ({mine})", args)
            conn.execute(
                f"UPDATE {s}.fields SET path = %s WHERE dataset = %s AND path = %s", (new_path, self.name, path)
            )

        self._transaction(work)

    def close(self) -> None:
        self._pool.close()

"""A label filter (``filter_labels``' and ``match_labels``' ``F`` expressions) compiled to SQL over the label rows.

The compiled condition is three-valued (true, false, undecided); the view evaluates undecided rows
in Python, so both paths give the same samples. docs/label-stores.md gives the rules.
"""

from __future__ import annotations

import decimal
import math
import operator
from collections.abc import Callable
from typing import Any

import attrs

from annoflow.domain.expressions import Field, Literal, Op, ViewExpression
from annoflow.domain.labels import Classification, Detection, Keypoint, Polyline

# The properties a label row's JSON holds at its top level; every other name is a custom attribute.
PROPERTIES = frozenset(
    name for cls in (Classification, Detection, Polyline, Keypoint) for name in attrs.fields_dict(cls)
) - {"id", "mask", "attributes"}
TAGS = "tags"  # a list of strings on every label, left out of its row when empty
_NEVER_SET = {"mask", "attributes"}  # what a label path never reaches (the evaluation gives null)


def _rank_of_type(doc: str) -> str:
    """MongoDB's type rank of the JSON value at a path (one parameter) of ``doc``; NULL where ``doc``
    is NULL or SQLite cannot read it."""
    return (
        f"(CASE WHEN json_valid({doc}) THEN CASE json_type({doc}, ?) WHEN 'integer' THEN 1 WHEN 'real' THEN 1 "
        "WHEN 'text' THEN 2 WHEN 'object' THEN 3 WHEN 'array' THEN 4 WHEN 'true' THEN 5 WHEN 'false' THEN 5 "
        "ELSE 0 END END)"
    )


UNDECIDED = "?"  # the confidence column's text where the row's JSON holds no plain number or none can be read


def confidence_column_sql(data: str) -> str:
    """The SQL filling the ``confidence`` column from the row's JSON ``data`` (an SQL expression): the
    number, NULL when it is unset or null, else ``UNDECIDED`` (a keypoint's list, JSON SQLite cannot read)."""
    kind = f"json_type({data}, '$.confidence')"
    return (
        f"(CASE WHEN NOT json_valid({data}) THEN '{UNDECIDED}' WHEN {kind} IS NULL OR {kind} = 'null' THEN NULL "
        f"WHEN {kind} IN ('integer', 'real') THEN json_extract({data}, '$.confidence') ELSE '{UNDECIDED}' END)"
    )


class UnsupportedError(Exception):
    """Part of an expression SQL does not evaluate as the Python path does."""


NUMBER, STRING, BOOLEAN = 1, 2, 5  # the ranks whose values compare by value


@attrs.frozen
class Value:
    """An SQL value: ``rank`` (MongoDB's type order, NULL when unknown) with its parameters, and
    ``typed(rank)``: its SQL and parameters as a value of that rank (number, string or boolean)."""

    rank: str
    rank_params: tuple[Any, ...] = ()
    typed: Callable[[int], tuple[str, tuple[Any, ...]]] = lambda rank: ("NULL", ())


@attrs.frozen
class Condition:
    """An SQL truth value: TRUE, FALSE or NULL (undecided)."""

    sql: str
    params: tuple[Any, ...] = ()


@attrs.frozen
class Dialect:
    """What differs between the SQL stores: the parameter mark, how a label's property or attribute
    is read, how a literal is typed and how a label's tags are searched."""

    mark: str
    field: Callable[[str], Value]  # a property's or custom attribute's value
    literal: Callable[[int, Any], tuple[str, tuple[Any, ...]]]  # (rank, value) -> SQL, params
    has_tag: str  # a condition over one parameter: the label's tags hold that string
    text: Callable[[str], str] = lambda sql: sql  # a string compared by code point


# --- SQLite ---------------------------------------------------------------------------------------


def _sqlite_field(name: str) -> Value:
    if name == "confidence":  # REAL affinity: a number is 'real' (or 'integer'), the undecided mark 'text'
        return Value(
            "(CASE typeof(confidence) WHEN 'null' THEN 0 WHEN 'real' THEN 1 WHEN 'integer' THEN 1 END)",
            (),
            lambda rank: ("confidence", ()),
        )
    if name == "label" or name not in PROPERTIES:  # from the summary: [class, attributes, unfilled]
        doc, path = "summary", ("$[0]" if name == "label" else f'$[1]."{name}"')
    else:
        doc, path = "data", f"$.{name}"
    return Value(_rank_of_type(doc), (path,), lambda rank: (f"json_extract({doc}, ?)", (path,)))


SQLITE = Dialect(
    mark="?",
    field=_sqlite_field,
    literal=lambda rank, value: ("?", (value,)),
    # a row SQLite cannot read is undecided (json_each would raise on it)
    has_tag="(CASE WHEN json_valid(data) THEN EXISTS (SELECT 1 FROM json_each(data, '$.tags') WHERE value = ?) END)",
)


# --- PostgreSQL -----------------------------------------------------------------------------------

# A label row's JSON as jsonb, NULL where jsonb cannot hold it as Python wrote it (NaN and infinities,
# an escaped NUL, surrogate escapes): such rows are undecided. Tokens inside strings count too, which
# only leaves more rows to Python.
POSTGRES_DOC = (
    "(CASE WHEN strpos(data, 'NaN') = 0 AND strpos(data, 'Infinity') = 0 "
    "AND strpos(data, '\\u0000') = 0 AND strpos(lower(data), '\\ud') = 0 THEN data::jsonb END)"
)
_PG_CASTS = {NUMBER: "::numeric", BOOLEAN: "::boolean", STRING: ' COLLATE "C"'}


def _postgres_field(name: str) -> Value:
    path = [name] if name in PROPERTIES else ["attributes", name]
    rank = (
        "(CASE WHEN d IS NULL THEN NULL ELSE CASE jsonb_typeof(d #> %s::text[]) WHEN 'number' THEN 1 "
        "WHEN 'string' THEN 2 WHEN 'object' THEN 3 WHEN 'array' THEN 4 WHEN 'boolean' THEN 5 ELSE 0 END END)"
    )
    return Value(rank, (path,), lambda r: (f"((d #>> %s::text[]){_PG_CASTS[r]})", (path,)))


def _postgres_literal(rank: int, value: Any) -> tuple[str, tuple[Any, ...]]:
    if rank == NUMBER:  # numeric, as jsonb holds numbers: a float by its shortest repr, exactly
        return "%s::numeric", (decimal.Decimal(repr(value)) if isinstance(value, float) else value,)
    return (f"%s{_PG_CASTS[rank]}" if rank == BOOLEAN else '%s::text COLLATE "C"'), (value,)


POSTGRES = Dialect(
    mark="%s",
    field=_postgres_field,
    literal=_postgres_literal,
    has_tag="(CASE WHEN d IS NULL THEN NULL ELSE COALESCE(d -> 'tags', '[]'::jsonb) ? %s END)",
    text=lambda sql: f'{sql} COLLATE "C"',
)


# --- the compiler ---------------------------------------------------------------------------------


def _literal(d: Dialect, value: Any) -> Value:
    if value is None:
        return Value("0")
    if isinstance(value, bool):
        rank = BOOLEAN
    elif isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            raise UnsupportedError("a NaN or infinite literal")
        if isinstance(value, int) and abs(value) >= 2**63:
            raise UnsupportedError("an integer SQLite cannot hold")
        rank = NUMBER
    elif isinstance(value, str):
        rank = STRING
    else:
        raise UnsupportedError(f"a literal {type(value).__name__}")
    return Value(str(rank), (), lambda _: d.literal(rank, value))


def _field(d: Dialect, node: Field) -> Value:
    if node.from_root or len(node.parts) != 1:
        raise UnsupportedError("a path from the sample, or into a value")
    (name,) = node.parts
    if name in ("id", "_id"):
        return Value(str(STRING), (), lambda _: (d.text("id"), ()))
    if name in _NEVER_SET:
        return Value("0")
    if name == TAGS:
        # always a list (rank 4), stored or not; lists compared with lists are left undecided, so its
        # value is never read
        return Value("4")
    if '"' in name or "\\" in name:
        raise UnsupportedError("a name JSON paths cannot quote")
    return d.field(name)


def _value(d: Dialect, node: ViewExpression) -> Value:
    if isinstance(node, Literal):
        return _literal(d, node.value)
    if isinstance(node, Field):
        return _field(d, node)
    # A condition's value is a boolean, decided or not: its rank is known, and an undecided one
    # leaves undecided what compares it.
    condition = _condition(d, node)
    return Value(str(BOOLEAN), (), lambda _: (f"({condition.sql})", condition.params))


def _truth(value: Value) -> Condition:
    """$and/$or/$not truth of a value: null, false and zero are false, everything else true."""
    if value.rank.isdigit():  # a known rank: only its own test (PostgreSQL types every branch)
        rank = int(value.rank)
        if rank in (NUMBER, BOOLEAN):
            sql, params = value.typed(rank)
            return Condition(f"(({sql}) <> {'0' if rank == NUMBER else 'FALSE'})", params)
        return _constant(rank != 0)
    number, number_p = value.typed(NUMBER)
    boolean, boolean_p = value.typed(BOOLEAN)
    sql = (
        f"(CASE {value.rank} WHEN 0 THEN FALSE WHEN 1 THEN ({number}) <> 0 WHEN 5 THEN ({boolean}) <> FALSE "
        f"WHEN 2 THEN TRUE WHEN 3 THEN TRUE WHEN 4 THEN TRUE END)"
    )
    return Condition(sql, value.rank_params + number_p + boolean_p)


_COMPARISONS = {"==": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_PY_OPS = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_RANKS = range(6)


def _constant(truth: bool) -> Condition:
    return Condition("TRUE" if truth else "FALSE")


def _same_rank(op: str, rank: int, a: Value, b: Value) -> Condition:
    """The comparison of two values of one type rank: nulls are equal, objects and lists undecided."""
    if rank == 0:
        return _constant(_PY_OPS[op](0, 0))
    if rank in (3, 4):
        return Condition("CAST(NULL AS BOOLEAN)")  # typed: PostgreSQL reads a bare NULL column as text
    va, va_p = a.typed(rank)
    vb, vb_p = b.typed(rank)
    return Condition(f"(({va}) {_COMPARISONS[op]} ({vb}))", va_p + vb_p)


def _by_rank(rank: Value, branch: Callable[[int], Condition]) -> Condition:
    """``CASE rank WHEN k THEN branch(k) ... END``: the rank evaluated once; NULL (undecided) when it is."""
    parts = [branch(k) for k in _RANKS]
    sql = (
        f"(CASE ({rank.rank}) "
        + " ".join(f"WHEN {k} THEN {p.sql}" for k, p in zip(_RANKS, parts, strict=True))
        + " END)"
    )
    return Condition(sql, rank.rank_params + sum((p.params for p in parts), ()))


def _compare(op: str, a: Value, b: Value) -> Condition:
    """Values of different ranks compare by rank, of one rank by value; each rank is evaluated once
    (a literal's is known here, so only the other's is read)."""

    def known(value: Value) -> int | None:
        return int(value.rank) if value.rank.isdigit() else None

    ka, kb = known(a), known(b)

    def across(ra: int, rb: int) -> Condition:
        return _same_rank(op, ra, a, b) if ra == rb else _constant(_PY_OPS[op](ra, rb))

    if ka is not None and kb is not None:
        return across(ka, kb)
    if kb is not None:
        return _by_rank(a, lambda ra: across(ra, kb))
    if ka is not None:
        return _by_rank(b, lambda rb: across(ka, rb))
    return _by_rank(a, lambda ra: _by_rank(b, lambda rb: across(ra, rb)))


def _condition(d: Dialect, node: ViewExpression) -> Condition:
    if not isinstance(node, Op):
        return _truth(_value(d, node))
    if node.name in ("and", "or"):
        return _short_circuit(node.name, [_condition(d, arg) for arg in node.args])
    if node.name == "not":
        inner = _condition(d, node.args[0])
        return Condition(f"(NOT {inner.sql})", inner.params)
    if node.name in _COMPARISONS:
        return _compare(node.name, _value(d, node.args[0]), _value(d, node.args[1]))
    if node.name == "in":
        target = node.args[0]
        values = node.args[1].value  # type: ignore[attr-defined]
        if not values:
            return _constant(False)
        parts = [_compare("==", _value(d, target), _literal(d, v)) for v in values]
        return Condition("(" + " OR ".join(p.sql for p in parts) + ")", sum((p.params for p in parts), ()))
    if node.name in ("contains", "contains_all"):
        return _contains(d, node)
    if node.name in ("exists", "missing"):
        value = _value(d, node.args[0])
        return Condition(f"(({value.rank}) {'<>' if node.name == 'exists' else '='} 0)", value.rank_params)
    raise UnsupportedError(f"the operation {node.name!r}")


def _short_circuit(name: str, parts: list[Condition]) -> Condition:
    """Three-valued ``and``/``or`` of conditions (TRUE, FALSE or NULL) evaluating each part once and
    the next only when the first does not decide: a false part ends an ``and``, a true one an ``or``."""
    first, rest = parts[0], parts[1:]
    if not rest:
        return first
    second = _short_circuit(name, rest)
    decides, other = ("FALSE", "TRUE") if name == "and" else ("TRUE", "FALSE")
    # first undecided: the result is the deciding value if the rest has it, else undecided
    sql = (
        f"(CASE {first.sql} WHEN {decides} THEN {decides} WHEN {other} THEN {second.sql} "
        f"ELSE (NULL {name.upper()} {second.sql}) END)"
    )
    return Condition(sql, first.params + second.params + second.params)


def _contains(d: Dialect, node: Op) -> Condition:
    """``F("tags").contains(values)`` of literal values: a tag is a string, so only string values can
    be found (other values compare unequal, as in Python); ``all=True`` needs each value found."""
    target, wanted = node.args
    if not (
        isinstance(target, Field) and not target.from_root and target.parts == (TAGS,) and isinstance(wanted, Literal)
    ):
        raise UnsupportedError("contains() of a list other than the label's tags, or of an expression")
    values = list(wanted.value)
    if not all(v is None or isinstance(v, (bool, int, float, str)) for v in values):
        raise UnsupportedError("contains() of a list or an object")
    texts = [v for v in values if isinstance(v, str)]
    if node.name == "contains":
        if not texts:
            return _constant(False)
        return Condition("(" + " OR ".join([d.has_tag] * len(texts)) + ")", tuple(texts))
    if len(texts) < len(values):
        return _constant(False)  # a value that is not a string is in no list of tags
    if not texts:
        return _constant(True)  # the empty set is in every list
    return Condition("(" + " AND ".join([d.has_tag] * len(texts)) + ")", tuple(texts))


def compile_label_filter(expr: ViewExpression, dialect: Dialect = SQLITE) -> Condition | None:
    """The SQL condition over a ``labels`` row, or None when the expression has a part SQL does not
    evaluate as Python does. SQLite: over the row's ``data``, ``id``, ``confidence`` and ``summary``;
    PostgreSQL: over ``id`` and ``d``, the row's JSON as jsonb (``POSTGRES_DOC``). Rows whose JSON
    the database cannot read are undecided (NULL) where the condition reads it."""
    try:
        return _condition(dialect, expr)
    except UnsupportedError:
        return None

"""A label filter (``filter_labels``' and ``match_labels``' ``F`` expressions, relative to a label)
compiled to SQLite over the ``labels`` rows, so a view keeps its samples without building them.

The compiled condition is three-valued: 1 where the filter is true, 0 where it is false, NULL
where SQL cannot decide as the Python evaluation would (a row whose JSON SQLite cannot read, such
as one holding NaN; objects or lists compared with each other). The store reports the samples of
undecided rows apart, and the view evaluates those in Python: both paths give the same samples.

MongoDB's rules, as ``domain.expressions`` applies them: a missing value is null; values of
different types order by type (null < numbers < strings < objects < lists < booleans); equal
types compare by value (numbers numerically, strings by code point, false < true); only null,
false and zero are false. Each value is compiled to (its type's rank, its value); SQLite's
``json_type`` gives the rank, ``json_extract`` the value. A label's ``tags`` are a list even when
its row leaves them out (empty tags are not stored), and ``F("tags").contains(...)`` of literal
values is an ``EXISTS`` over ``json_each`` of them. An expression using anything else (arithmetic,
``length``, ``contains`` of another path or of an expression, paths into the sample with ``$``,
nested paths) is not compiled: None.
"""

from __future__ import annotations

import math
from typing import Any

import attrs

from annoflow.domain.expressions import Field, Literal, Op, ViewExpression
from annoflow.domain.labels import Classification, Detection, Keypoint, Polyline

# The properties a label row's JSON holds at its top level; every other name is a custom attribute.
PROPERTIES = frozenset(name for cls in (Classification, Detection, Polyline, Keypoint)
                       for name in attrs.fields_dict(cls)) - {"id", "mask", "attributes"}
TAGS = "tags"  # a list of strings on every label, left out of its row when empty
_NEVER_SET = {"mask", "attributes"}  # what a label path never reaches (the evaluation gives null)

_RANK_OF_TYPE = ("CASE json_type(data, ?) WHEN 'integer' THEN 1 WHEN 'real' THEN 1 WHEN 'text' THEN 2 "
                 "WHEN 'object' THEN 3 WHEN 'array' THEN 4 WHEN 'true' THEN 5 WHEN 'false' THEN 5 ELSE 0 END")


class Unsupported(Exception):
    """Part of an expression SQL does not evaluate as the Python path does."""


@attrs.frozen
class Value:
    """An SQL value: ``rank`` (MongoDB's type order, NULL when unknown) and ``value``, with their parameters."""

    rank: str
    value: str
    params: tuple[Any, ...] = ()


@attrs.frozen
class Condition:
    """An SQL truth value: 1, 0 or NULL (undecided)."""

    sql: str
    params: tuple[Any, ...] = ()


def _literal(value: Any) -> Value:
    if value is None:
        return Value("0", "NULL")
    if isinstance(value, bool):
        return Value("5", "?", (int(value),))
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            raise Unsupported("a NaN or infinite literal")
        if isinstance(value, int) and abs(value) >= 2**63:
            raise Unsupported("an integer SQLite cannot hold")
        return Value("1", "?", (value,))
    if isinstance(value, str):
        return Value("2", "?", (value,))
    raise Unsupported(f"a literal {type(value).__name__}")


def _field(node: Field) -> Value:
    if node.from_root or len(node.parts) != 1:
        raise Unsupported("a path from the sample, or into a value")
    (name,) = node.parts
    if name in ("id", "_id"):
        return Value("2", "id")
    if name in _NEVER_SET:
        return Value("0", "NULL")
    if name == TAGS:
        # always a list (rank 4), stored or not; lists compared with lists are left undecided, so its
        # value is never read
        return Value("4", "NULL")
    path = f"$.{name}" if name in PROPERTIES else f'$.attributes."{name}"'
    if '"' in name or "\\" in name:
        raise Unsupported("a name JSON paths cannot quote")
    return Value(_RANK_OF_TYPE, "json_extract(data, ?)", (path, path))


def _value(node: ViewExpression) -> Value:
    if isinstance(node, Literal):
        return _literal(node.value)
    if isinstance(node, Field):
        return _field(node)
    condition = _condition(node)
    return Value(f"(CASE WHEN ({condition.sql}) IS NULL THEN NULL ELSE 5 END)", f"({condition.sql})",
                 condition.params * 2)


def _truth(value: Value) -> Condition:
    """$and/$or/$not truth of a value: null, false and zero are false, everything else true."""
    sql = (f"(CASE {value.rank} WHEN 0 THEN 0 WHEN 1 THEN ({value.value}) <> 0 WHEN 5 THEN ({value.value}) <> 0 "
           f"WHEN 2 THEN 1 WHEN 3 THEN 1 WHEN 4 THEN 1 END)")
    rank_params = value.params[:_count(value.rank)]
    value_params = value.params[_count(value.rank):]
    return Condition(sql, rank_params + value_params + value_params)


def _count(sql: str) -> int:
    return sql.count("?")


_COMPARISONS = {"==": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


def _compare(op: str, a: Value, b: Value) -> Condition:
    sql_op = _COMPARISONS[op]
    ra, va, rb, vb = _split(a) + _split(b)
    ra_sql, ra_p = ra
    rb_sql, rb_p = rb
    va_sql, va_p = va
    vb_sql, vb_p = vb
    # Each part may be used more than once: its parameters are repeated with it.
    sql = (f"(CASE WHEN ({ra_sql}) IS NULL OR ({rb_sql}) IS NULL THEN NULL "
           f"WHEN ({ra_sql}) <> ({rb_sql}) THEN ({ra_sql}) {sql_op} ({rb_sql}) "
           f"WHEN ({ra_sql}) IN (3, 4) THEN NULL "
           f"WHEN ({ra_sql}) = 0 THEN 0 {sql_op} 0 "
           f"ELSE ({va_sql}) {sql_op} ({vb_sql}) END)")
    params = (ra_p + rb_p) * 3 + ra_p + ra_p + va_p + vb_p
    return Condition(sql, params)


def _split(value: Value) -> tuple[tuple[str, tuple], tuple[str, tuple]]:
    n = _count(value.rank)
    return (value.rank, value.params[:n]), (value.value, value.params[n:])


def _condition(node: ViewExpression) -> Condition:
    if not isinstance(node, Op):
        return _truth(_value(node))
    if node.name in ("and", "or"):
        parts = [_condition(arg) for arg in node.args]
        joiner = " AND " if node.name == "and" else " OR "
        return Condition("(" + joiner.join(p.sql for p in parts) + ")", sum((p.params for p in parts), ()))
    if node.name == "not":
        inner = _condition(node.args[0])
        return Condition(f"(NOT {inner.sql})", inner.params)
    if node.name in _COMPARISONS:
        return _compare(node.name, _value(node.args[0]), _value(node.args[1]))
    if node.name == "in":
        target = node.args[0]
        values = node.args[1].value  # type: ignore[attr-defined]
        if not values:
            return Condition("0")
        parts = [_compare("==", _value(target), _literal(v)) for v in values]
        return Condition("(" + " OR ".join(p.sql for p in parts) + ")", sum((p.params for p in parts), ()))
    if node.name in ("contains", "contains_all"):
        return _contains(node)
    if node.name in ("exists", "missing"):
        (rank, rank_p), _ = _split(_value(node.args[0]))
        return Condition(f"(({rank}) {'<>' if node.name == 'exists' else '='} 0)", rank_p)
    raise Unsupported(f"the operation {node.name!r}")


def _contains(node: Op) -> Condition:
    """``F("tags").contains(values)`` of literal values: a tag is a string, so only string values can
    be found (other values compare unequal, as in Python); ``all=True`` needs each value found."""
    target, wanted = node.args
    if not (isinstance(target, Field) and not target.from_root and target.parts == (TAGS,)
            and isinstance(wanted, Literal)):
        raise Unsupported("contains() of a list other than the label's tags, or of an expression")
    values = list(wanted.value)
    if not all(v is None or isinstance(v, (bool, int, float, str)) for v in values):
        raise Unsupported("contains() of a list or an object")
    texts = [v for v in values if isinstance(v, str)]
    found = "EXISTS (SELECT 1 FROM json_each(data, '$.tags') WHERE value = ?)"
    if node.name == "contains":
        if not texts:
            return Condition("0")
        return Condition("(" + " OR ".join([found] * len(texts)) + ")", tuple(texts))
    if len(texts) < len(values):
        return Condition("0")  # a value that is not a string is in no list of tags
    if not texts:
        return Condition("1")  # the empty set is in every list
    return Condition("(" + " AND ".join([found] * len(texts)) + ")", tuple(texts))


def compile_label_filter(expr: ViewExpression) -> Condition | None:
    """The SQL condition over a ``labels`` row (its ``data`` JSON and ``id``), or None when the
    expression has a part SQL does not evaluate as Python does. Rows whose JSON SQLite cannot
    read are undecided (NULL)."""
    try:
        condition = _condition(expr)
    except Unsupported:
        return None
    return Condition(f"(CASE WHEN json_valid(data) THEN {condition.sql} END)", condition.params)

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

Speed: the row's columns that the store's ``labels_hot`` index holds answer the common filters
without reading the row: a label's ``confidence`` from its column (the number, NULL when unset, or
the text ``'?'`` where the JSON holds something else or cannot be read: undecided), its class and
custom attributes from its ``summary`` (``[class, attributes, unfilled]`` JSON, much shorter than
the row's; undecided where the row has none, as segmentations and rows from before summaries).
Other properties read the row's JSON, each read guarded by ``json_valid`` so a row SQLite cannot
read is undecided only where it matters. ``and``/``or`` stop at their first deciding part (SQLite
evaluates both sides of its own ``AND``).
"""

from __future__ import annotations

import math
import operator
from typing import Any

import attrs

from annoflow.domain.expressions import Field, Literal, Op, ViewExpression
from annoflow.domain.labels import Classification, Detection, Keypoint, Polyline

# The properties a label row's JSON holds at its top level; every other name is a custom attribute.
PROPERTIES = frozenset(name for cls in (Classification, Detection, Polyline, Keypoint)
                       for name in attrs.fields_dict(cls)) - {"id", "mask", "attributes"}
TAGS = "tags"  # a list of strings on every label, left out of its row when empty
_NEVER_SET = {"mask", "attributes"}  # what a label path never reaches (the evaluation gives null)

def _rank_of_type(doc: str) -> str:
    """MongoDB's type rank of the JSON value at a path (one parameter) of ``doc``; NULL where ``doc``
    is NULL or SQLite cannot read it."""
    return (f"(CASE WHEN json_valid({doc}) THEN CASE json_type({doc}, ?) WHEN 'integer' THEN 1 WHEN 'real' THEN 1 "
            "WHEN 'text' THEN 2 WHEN 'object' THEN 3 WHEN 'array' THEN 4 WHEN 'true' THEN 5 WHEN 'false' THEN 5 "
            "ELSE 0 END END)")


UNDECIDED = "?"  # the confidence column's text where the row's JSON holds no plain number or none can be read


def confidence_column_sql(data: str) -> str:
    """The SQL filling the ``confidence`` column from the row's JSON ``data`` (an SQL expression): the
    number, NULL when it is unset or null, else ``UNDECIDED`` (a keypoint's list, JSON SQLite cannot read)."""
    kind = f"json_type({data}, '$.confidence')"
    return (f"(CASE WHEN NOT json_valid({data}) THEN '{UNDECIDED}' WHEN {kind} IS NULL OR {kind} = 'null' THEN NULL "
            f"WHEN {kind} IN ('integer', 'real') THEN json_extract({data}, '$.confidence') ELSE '{UNDECIDED}' END)")


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
    if '"' in name or "\\" in name:
        raise Unsupported("a name JSON paths cannot quote")
    if name == "confidence":  # REAL affinity: a number is 'real' (or 'integer'), the undecided mark 'text'
        return Value("(CASE typeof(confidence) WHEN 'null' THEN 0 WHEN 'real' THEN 1 WHEN 'integer' THEN 1 END)",
                     "confidence")
    if name == "label" or name not in PROPERTIES:  # from the summary: [class, attributes, unfilled]
        path = "$[0]" if name == "label" else f'$[1]."{name}"'
        return Value(_rank_of_type("summary"), "json_extract(summary, ?)", (path, path))
    path = f"$.{name}"
    return Value(_rank_of_type("data"), "json_extract(data, ?)", (path, path))


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


_PY_OPS = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
           ">=": operator.ge}
_RANKS = range(6)


def _same_rank(op: str, rank: int, a: Value, b: Value) -> Condition:
    """The comparison of two values of one type rank: nulls are equal, objects and lists undecided."""
    if rank == 0:
        return Condition(str(int(_PY_OPS[op](0, 0))))
    if rank in (3, 4):
        return Condition("NULL")
    (_, _), (va, va_p) = _split(a)
    (_, _), (vb, vb_p) = _split(b)
    return Condition(f"(({va}) {_COMPARISONS[op]} ({vb}))", va_p + vb_p)


def _by_rank(rank: Value, branch: Any) -> Condition:
    """``CASE rank WHEN k THEN branch(k) ... END``: the rank evaluated once; NULL (undecided) when it is."""
    (rank_sql, rank_p), _ = _split(rank)
    parts = [branch(k) for k in _RANKS]
    sql = f"(CASE ({rank_sql}) " + " ".join(f"WHEN {k} THEN {p.sql}" for k, p in zip(_RANKS, parts)) + " END)"
    return Condition(sql, rank_p + sum((p.params for p in parts), ()))


def _compare(op: str, a: Value, b: Value) -> Condition:
    """Values of different ranks compare by rank, of one rank by value; each rank is evaluated once
    (a literal's is known here, so only the other's is read)."""
    def known(value: Value) -> int | None:
        return int(value.rank) if value.rank.isdigit() else None

    ka, kb = known(a), known(b)

    def across(ra: int, rb: int) -> Condition:
        return _same_rank(op, ra, a, b) if ra == rb else Condition(str(int(_PY_OPS[op](ra, rb))))

    if ka is not None and kb is not None:
        return across(ka, kb)
    if kb is not None:
        return _by_rank(a, lambda ra: across(ra, kb))
    if ka is not None:
        return _by_rank(b, lambda rb: across(ka, rb))
    return _by_rank(a, lambda ra: _by_rank(b, lambda rb: across(ra, rb)))


def _split(value: Value) -> tuple[tuple[str, tuple], tuple[str, tuple]]:
    n = _count(value.rank)
    return (value.rank, value.params[:n]), (value.value, value.params[n:])


def _condition(node: ViewExpression) -> Condition:
    if not isinstance(node, Op):
        return _truth(_value(node))
    if node.name in ("and", "or"):
        parts = [_condition(arg) for arg in node.args]
        return _short_circuit(node.name, parts)
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


def _short_circuit(name: str, parts: list[Condition]) -> Condition:
    """Three-valued ``and``/``or`` of conditions (1, 0 or NULL) evaluating each part once and the
    next only when the first does not decide: a false part ends an ``and``, a true one an ``or``."""
    first, rest = parts[0], parts[1:]
    if not rest:
        return first
    second = _short_circuit(name, rest)
    decides, other = (0, 1) if name == "and" else (1, 0)
    # first undecided: the result is the deciding value if the rest has it, else undecided
    sql = (f"(CASE {first.sql} WHEN {decides} THEN {decides} WHEN {other} THEN {second.sql} "
           f"ELSE (CASE WHEN {second.sql} = {decides} THEN {decides} END) END)")
    return Condition(sql, first.params + second.params + second.params)


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
    # a row SQLite cannot read is undecided (json_each would raise on it)
    found = "(CASE WHEN json_valid(data) THEN EXISTS (SELECT 1 FROM json_each(data, '$.tags') WHERE value = ?) END)"
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
    """The SQL condition over a ``labels`` row (its ``data`` JSON, ``id`` and hot columns), or None
    when the expression has a part SQL does not evaluate as Python does. Rows whose JSON SQLite
    cannot read are undecided (NULL) where the condition reads it."""
    try:
        return _condition(expr)
    except Unsupported:
        return None

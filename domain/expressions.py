"""View expressions: FiftyOne's ``ViewField`` (``F``) over annoflow's samples and labels.

``F(...)`` builds an expression tree; ``evaluate`` gives its value for a sample, or a label of
it, with MongoDB's rules as FiftyOne's expressions have them (ARCHITECTURE.md, "View expressions").
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from annoflow.domain.errors import AnnoflowError
from annoflow.domain.labels import Label, LabelList
from annoflow.domain.samples import ImageMetadata, Sample, VideoMetadata


class ExpressionError(AnnoflowError, ValueError):
    """An expression that cannot be built or evaluated (a bad path, a division by zero...)."""


class ViewExpression:
    """An expression node. Operators build new expressions; ``bool()`` refuses, so ``a and b``
    (which Python cannot overload) fails loudly: write ``a & b``."""

    __hash__ = object.__hash__

    # comparisons
    def __eq__(self, other: Any) -> ViewExpression:  # type: ignore[override]
        return Op("==", (self, _expr(other)))

    def __ne__(self, other: Any) -> ViewExpression:  # type: ignore[override]
        return Op("!=", (self, _expr(other)))

    def __lt__(self, other: Any) -> ViewExpression:
        return Op("<", (self, _expr(other)))

    def __le__(self, other: Any) -> ViewExpression:
        return Op("<=", (self, _expr(other)))

    def __gt__(self, other: Any) -> ViewExpression:
        return Op(">", (self, _expr(other)))

    def __ge__(self, other: Any) -> ViewExpression:
        return Op(">=", (self, _expr(other)))

    # logic
    def __and__(self, other: Any) -> ViewExpression:
        return Op("and", (self, _expr(other)))

    def __rand__(self, other: Any) -> ViewExpression:
        return Op("and", (_expr(other), self))

    def __or__(self, other: Any) -> ViewExpression:
        return Op("or", (self, _expr(other)))

    def __ror__(self, other: Any) -> ViewExpression:
        return Op("or", (_expr(other), self))

    def __invert__(self) -> ViewExpression:
        return Op("not", (self,))

    def __bool__(self) -> bool:
        raise ExpressionError("an expression has no truth value in Python: combine with & | ~, not and/or/not")

    # arithmetic
    def __add__(self, other: Any) -> ViewExpression:
        return Op("+", (self, _expr(other)))

    def __radd__(self, other: Any) -> ViewExpression:
        return Op("+", (_expr(other), self))

    def __sub__(self, other: Any) -> ViewExpression:
        return Op("-", (self, _expr(other)))

    def __rsub__(self, other: Any) -> ViewExpression:
        return Op("-", (_expr(other), self))

    def __mul__(self, other: Any) -> ViewExpression:
        return Op("*", (self, _expr(other)))

    def __rmul__(self, other: Any) -> ViewExpression:
        return Op("*", (_expr(other), self))

    def __truediv__(self, other: Any) -> ViewExpression:
        return Op("/", (self, _expr(other)))

    def __rtruediv__(self, other: Any) -> ViewExpression:
        return Op("/", (_expr(other), self))

    def __neg__(self) -> ViewExpression:
        return Op("*", (Literal(-1), self))

    def __abs__(self) -> ViewExpression:
        return Op("abs", (self,))

    # methods of FiftyOne's ViewExpression
    def is_in(self, values: Iterable[Any]) -> ViewExpression:
        """Whether the value is one of ``values``: ``F("label").is_in(["cat", "dog"])``.

        Args:
            values: the values, a list or other iterable (not a string).

        Returns:
            The boolean expression.

        Raises:
            ExpressionError: ``values`` is a string, an expression or no iterable.
        """
        if isinstance(values, (str, ViewExpression)) or not isinstance(values, Iterable):
            raise ExpressionError(f"is_in() takes a list of values, got {values!r}")
        return Op("in", (self, Literal(tuple(values))))

    def contains(self, values: Any, all: bool = False) -> ViewExpression:  # noqa: A002 - FiftyOne's name
        """Whether this list holds any of ``values`` (a value, a list of values, or an expression giving
        a list), or every one of them with ``all=True``, as FiftyOne's ``contains``:
        ``F("tags").contains("reviewed")``, ``F("tags").contains(["fp", "hard"], all=True)``.

        Values compare as MongoDB's sets do (by type and value); a missing list holds nothing, so
        the result is false (MongoDB refuses some forms of that; FiftyOne's label tag filters
        check the list exists first, which gives the same answer).

        Args:
            values: a value, a list of values, or an expression giving a list.
            all: whether the list must hold every one of ``values`` rather than any.

        Returns:
            The boolean expression.
        """
        if isinstance(values, ViewExpression):
            wanted: ViewExpression = values
        elif isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
            wanted = Literal((values,))
        else:
            wanted = Literal(tuple(values))
        return Op("contains_all" if all else "contains", (self, wanted))

    def length(self) -> ViewExpression:
        """The number of items of a list (a label list's labels); 0 when missing.

        Returns:
            The number's expression: ``F("ground_truth.detections").length() > 0``.
        """
        return Op("length", (self,))

    def exists(self, bool: bool = True) -> ViewExpression:  # noqa: A002 - FiftyOne's name
        """Whether the value is set (not None): ``F("ground_truth").exists()``.

        Args:
            bool: False to ask whether it is unset instead.

        Returns:
            The boolean expression.
        """
        return Op("exists" if bool else "missing", (self,))

    def __repr__(self) -> str:
        return self.describe()

    def describe(self) -> str:
        """The expression written as code, its repr: ``(F('confidence') > 0.8)``.

        Returns:
            The text.
        """
        raise NotImplementedError


@attrs.frozen(eq=False, repr=False)
class Field(ViewExpression):
    """A field path; ``$`` first means from the root sample, an empty path the current object."""

    path: str

    @property
    def from_root(self) -> bool:
        return self.path.startswith("$")

    @property
    def parts(self) -> tuple[str, ...]:
        path = self.path[1:] if self.from_root else self.path
        return tuple(path.split(".")) if path else ()

    def describe(self) -> str:
        return f"F({self.path!r})"


@attrs.frozen(eq=False, repr=False)
class Literal(ViewExpression):
    value: Any

    def describe(self) -> str:
        return repr(self.value)


_INFIX = {"==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/"}


@attrs.frozen(eq=False, repr=False)
class Op(ViewExpression):
    name: str
    args: tuple[ViewExpression, ...]

    def describe(self) -> str:
        if self.name in _INFIX:
            return f"({self.args[0].describe()} {self.name} {self.args[1].describe()})"
        if self.name in ("and", "or"):
            return f"({self.args[0].describe()} {'&' if self.name == 'and' else '|'} {self.args[1].describe()})"
        if self.name == "not":
            return f"~{self.args[0].describe()}"
        if self.name == "in":
            return f"{self.args[0].describe()}.is_in({list(self.args[1].value)!r})"  # type: ignore[attr-defined]
        if self.name == "missing":
            return f"{self.args[0].describe()}.exists(False)"
        if self.name in ("contains", "contains_all"):
            wanted = self.args[1]
            shown = repr(list(wanted.value)) if isinstance(wanted, Literal) else wanted.describe()
            return f"{self.args[0].describe()}.contains({shown}{', all=True' if self.name == 'contains_all' else ''})"
        return f"{self.args[0].describe()}.{self.name}()"


def F(path: str = "") -> Field:  # noqa: N802 - FiftyOne's name
    """A reference to a field, to build view expressions with: ``F("confidence") > 0.8``.

    Args:
        path: the field's path, dot-separated (``"predictions.detections"``); relative to the
            object the expression is applied to (a label in ``filter_labels``, a sample in
            ``match``), or to the sample when it starts with ``$`` (``"$filepath"``); ``""`` is
            the object itself.

    Returns:
        The field's expression.

    Raises:
        ExpressionError: a path that is no string, or has an empty part (``"a..b"``).
    """
    if not isinstance(path, str):
        raise ExpressionError(f"F() takes a field path, got {path!r}")
    if any(not part for part in (path[1:] if path.startswith("$") else path).split(".")) and path not in ("", "$"):
        raise ExpressionError(f"field path {path!r} has an empty part")
    return Field(path)


def _expr(value: Any) -> ViewExpression:
    return value if isinstance(value, ViewExpression) else Literal(value)


# --- what an expression reads -----------------------------------------------------


def fields_read(expr: ViewExpression, *, relative_to_sample: bool) -> set[str]:
    """The sample fields (first path parts) an expression reads: from the root always, and the
    relative ones too when the current object is the sample."""

    def walk(node: ViewExpression) -> Iterable[str | None]:
        if isinstance(node, Field):
            if (node.from_root or relative_to_sample) and node.parts:
                yield _sample_field_of(node.parts)
        elif isinstance(node, Op):
            for arg in node.args:
                yield from walk(arg)

    return {name for name in walk(expr) if name is not None}


_SAMPLE_PROPERTIES = {"id", "_id", "filepath", "media_type", "tags", "metadata"}


def _sample_field_of(parts: tuple[str, ...]) -> str | None:
    if parts[0] in _SAMPLE_PROPERTIES:
        return None
    if parts[0] == "frames":
        return f"frames.{parts[1]}" if len(parts) > 1 else None
    return parts[0]


# --- evaluation -------------------------------------------------------------------


def evaluate(expr: Any, root: Sample, current: Any = None) -> Any:
    """The expression's value for ``root`` (the sample), with ``current`` the object relative
    paths start from (default: the sample)."""
    current = root if current is None else current
    if not isinstance(expr, ViewExpression):
        return expr
    if isinstance(expr, Literal):
        return expr.value
    if isinstance(expr, Field):
        return resolve(root if expr.from_root else current, expr.parts)
    assert isinstance(expr, Op)
    if expr.name == "and":  # short-circuit as $and
        return all(truthy(evaluate(a, root, current)) for a in expr.args)
    if expr.name == "or":
        return any(truthy(evaluate(a, root, current)) for a in expr.args)
    values = [evaluate(a, root, current) for a in expr.args]
    return _OPS[expr.name](*values)


def resolve(obj: Any, parts: tuple[str, ...]) -> Any:
    """A path's value from ``obj``, through label lists and lists (mapped over their items)."""
    for position, part in enumerate(parts):
        if obj is None:
            return None
        if isinstance(obj, (list, tuple)):
            rest = parts[position:]
            return [value for value in (resolve(item, rest) for item in obj) if value is not None]
        obj = _step(obj, part)
    return obj


def _step(obj: Any, part: str) -> Any:
    """One path part's value from ``obj``: a sample, a label list, a label, metadata or a frame's fields."""
    if isinstance(obj, Sample):
        return _sample_step(obj, part)
    if isinstance(obj, LabelList):
        # the list's own name (``detections``) gives its labels; FiftyOne has no other path here
        return list(obj.items) if part == attrs.fields(type(obj))[0].name else None
    if isinstance(obj, Label):
        return _label_step(obj, part)
    if isinstance(obj, (ImageMetadata, VideoMetadata)):
        return getattr(obj, part, None)
    if isinstance(obj, Mapping):
        return _plain(obj.get(part))
    return None


# A sample's own properties, as its FiftyOne document names them; any other name is one of its fields.
_SAMPLE_READERS: dict[str, Callable[[Sample], Any]] = {
    "id": lambda sample: sample.id,
    "_id": lambda sample: sample.id,
    "filepath": lambda sample: sample.filepath,
    "media_type": lambda sample: sample.media_type.value,
    "tags": lambda sample: list(sample.tags),
    "metadata": lambda sample: sample.metadata,
    "frames": lambda sample: [sample.frames[n] for n in sample.frames],
}


def _sample_step(sample: Sample, part: str) -> Any:
    read = _SAMPLE_READERS.get(part)
    return read(sample) if read is not None else _plain(sample.fields.get(part))


def _label_step(label: Label, part: str) -> Any:
    if part in ("id", "_id"):
        return label.id
    names = {a.name for a in attrs.fields(type(label))}
    if part in names and part not in ("attributes", "mask"):
        return _plain(getattr(label, part))
    return getattr(label, "attributes", {}).get(part)  # a segmentation has no attributes: missing


def _plain(value: Any) -> Any:
    """Tuples (boxes, points) as lists, as they are in FiftyOne's documents."""
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


# --- MongoDB's semantics -----------------------------------------------------------


def truthy(value: Any) -> bool:
    """$and/$or/$not truth: only null, false and zero are false (an empty list is true)."""
    if value is None or value is False:
        return False
    if isinstance(value, numbers.Number) and not isinstance(value, bool):
        return bool(value)  # a number's truth: not zero (NaN is true, as in MongoDB)
    return True


def _type_rank(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, bool):
        return 5
    if isinstance(value, numbers.Number):
        return 1
    if isinstance(value, str):
        return 2
    if isinstance(value, (list, tuple)):
        return 4
    return 3


def order_key(value: Any) -> tuple[Any, ...]:
    """A sort key that orders values of any types as MongoDB does (BSON order)."""
    rank = _type_rank(value)
    if rank == 4:
        return (rank, tuple(order_key(v) for v in value))
    if rank == 3:
        return (rank, repr(value))
    if rank == 1 and math.isnan(value):
        return (rank, -math.inf)  # NaN sorts below every number in MongoDB
    return (rank, value) if rank else (rank,)


def _equal(a: Any, b: Any) -> bool:
    return order_key(a) == order_key(b)


def _compare(check: Callable[[tuple[Any, ...], tuple[Any, ...]], bool]) -> Callable[[Any, Any], bool]:
    return lambda a, b: check(order_key(a), order_key(b))


def _arith(op: Callable[[Any, Any], Any], name: str) -> Callable[[Any, Any], Any]:
    def apply(a: Any, b: Any) -> Any:
        if a is None or b is None:
            return None  # MongoDB's arithmetic on null is null
        for value in (a, b):
            if isinstance(value, bool) or not isinstance(value, numbers.Number):
                raise ExpressionError(f"{name} takes numbers, got {value!r}")
        try:
            return op(a, b)
        except ZeroDivisionError:
            raise ExpressionError(f"division by zero: {a!r} / {b!r}") from None

    return apply


def _length(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, LabelList):
        return len(value)
    if isinstance(value, (list, tuple)):
        return len(value)
    raise ExpressionError(f"length() takes a list, got {value!r}")


def _contains(need_all: bool) -> Callable[[Any, Any], bool]:
    def check(array: Any, values: Any) -> bool:
        if array is None or values is None:
            return False  # a missing list holds nothing
        for value, what in ((array, "a list"), (values, "a list of values")):
            if not isinstance(value, (list, tuple)):
                raise ExpressionError(f"contains() takes {what}, got {value!r}")
        keys = {order_key(item) for item in array}
        found = (order_key(value) in keys for value in values)
        return all(found) if need_all else any(found)

    return check


def _abs(value: Any) -> Any:
    return None if value is None else abs(value)


_OPS: dict[str, Callable[..., Any]] = {
    "==": _equal,
    "!=": lambda a, b: not _equal(a, b),
    "<": _compare(lambda a, b: a < b),
    "<=": _compare(lambda a, b: a <= b),
    ">": _compare(lambda a, b: a > b),
    ">=": _compare(lambda a, b: a >= b),
    "not": lambda a: not truthy(a),
    "+": _arith(lambda a, b: a + b, "+"),
    "-": _arith(lambda a, b: a - b, "-"),
    "*": _arith(lambda a, b: a * b, "*"),
    "/": _arith(lambda a, b: a / b, "/"),
    "abs": _abs,
    "in": lambda a, values: any(_equal(a, v) for v in values),
    "length": _length,
    "contains": _contains(False),
    "contains_all": _contains(True),
    "exists": lambda a: a is not None,
    "missing": lambda a: a is None,
}

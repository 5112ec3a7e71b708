"""A task's annotations answer: the document read with bounded memory, objects counted per frame
and checked one by one before anything uses them.

docs/cvat-format.md ("Reading a task's answer") gives what is refused, what is kept and how large answers are read.
"""

from __future__ import annotations

import codecs
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import attrs
import orjson

from annoflow.adapters.cvat.errors import CVATAnswerError
from annoflow.adapters.cvat_format import checks

KINDS = ("tags", "shapes", "tracks")
WHOLE_PARSE_BYTES = 16 * 2**20
_WINDOW = 2**20  # characters decoded at a time when walking
_DEPTH = 64  # nesting the walker skips through in keys it does not read
_NOT_SPACE = re.compile(r"[^ \t\n\r]")
_NUMBER_GOES_ON = frozenset("0123456789.eE+-")
_DECODER = json.JSONDecoder()  # NaN and Infinity decode to floats: checks.problem refuses their objects

Claim = Callable[[Any, str], "str | None"]  # (object, its kind: "tags", "shapes" or "tracks")


@attrs.frozen
class Refused:
    """Objects of an answer that were not read: one malformed object, or a frame's objects past the limit."""

    kind: str  # "tags", "shapes", "tracks"; "" for a frame's objects past the limit
    frame: int | None  # the task frame; None when the object names no frame of the task
    problem: str
    cvat_id: int | None = None
    cvat_label: int | None = None
    claims: tuple[str, ...] = ()  # the uploaded labels they stand for (provenance they carry)
    count: int = 1
    over_limit: bool = False


@attrs.frozen
class Answer:
    """Objects by kind (as the server sent them, or checked: see the function that made it), and the refused."""

    objects: dict[str, list[Any]]
    refused: tuple[Refused, ...]


class _MalformedError(Exception):
    """The document cannot be read at all."""


def read_answer(raw: bytes, *, frames: int, limit: int, claim: Claim, method: str, url: str) -> Answer:
    """The objects of a task's annotations answer ``raw`` (a task of ``frames`` frames), at most ``limit``
    per frame, not checked yet (`check_objects`); ``claim`` tells the uploaded label an object stands for.

    Raises `CVATAnswerError` (naming ``method`` and ``url``) when the document is no annotations.
    """
    try:
        parsed = _parsed(raw)
        if parsed is not None and _within(parsed, frames, limit):
            return Answer({kind: parsed.get(kind, []) for kind in KINDS}, ())
        return _counted(_elements(parsed, raw), frames, limit, claim)
    except _MalformedError as error:
        raise CVATAnswerError(f"the annotations CVAT sent cannot be read: {error}", method=method, url=url) from None


def check_objects(objects: Mapping[str, Iterable[Any]], *, frames: int, claim: Claim) -> Answer:
    """The objects that can be read (`checks.problem`), by kind, and the others, refused with what is wrong."""
    kept: dict[str, list[Any]] = {kind: [] for kind in KINDS}
    refused = []
    for kind in KINDS:
        for obj in objects.get(kind, ()):
            problem = checks.problem(obj, kind, frames)
            if problem is None:
                kept[kind].append(obj)
                continue
            get = obj.get if isinstance(obj, dict) else {}.get
            frame, cvat_id, label = get("frame"), get("id"), get("label_id")
            found = claim(obj, kind)
            refused.append(
                Refused(
                    kind,
                    frame if checks.is_int(frame) and frame < frames else None,
                    problem,
                    cvat_id if checks.is_int(cvat_id, 1) else None,
                    label if checks.is_int(label, 1) else None,
                    (found,) if found else (),
                )
            )
    return Answer(kept, tuple(refused))


def _frame_of(obj: Any) -> int | None:
    frame = obj.get("frame") if type(obj) is dict else None
    return frame if type(frame) is int else None


def _frame_key(obj: Any, frames: int) -> int | None:
    """The frame an object counts on: None for one that names no frame of the task."""
    frame = _frame_of(obj)
    return frame if frame is not None and 0 <= frame < frames else None


def _within(parsed: dict[str, list[Any]], frames: int, limit: int) -> bool:
    """No frame holds more than ``limit`` objects (the usual case, counted without a loop in Python)."""
    keys: Counter[int | None] = Counter()
    for kind in KINDS:
        keys.update(map(_frame_of, parsed.get(kind, ())))
    elsewhere = sum(n for frame, n in keys.items() if frame is None or not 0 <= frame < frames)
    return max(keys.values(), default=0) <= limit and elsewhere <= limit


def _counted(elements: Iterable[tuple[str, Any]], frames: int, limit: int, claim: Claim) -> Answer:
    """The objects of ``elements`` in order, at most ``limit`` per frame; the rest refused, one `Refused` per frame."""
    objects: dict[str, list[Any]] = {kind: [] for kind in KINDS}
    counts: dict[int | None, int] = {}
    over: dict[int | None, tuple[int, set[str]]] = {}
    for kind, obj in elements:
        key = _frame_key(obj, frames)
        seen = counts[key] = counts.get(key, 0) + 1
        if seen <= limit:
            objects[kind].append(obj)
            continue
        count, claims = over.get(key, (0, set()))
        found = claim(obj, kind)
        if found is not None:
            claims.add(found)
        over[key] = (count + 1, claims)
    refused = []
    for key, (count, claims) in over.items():
        where = "objects on this frame" if key is not None else "objects that name no frame of the task"
        refused.append(
            Refused(
                "",
                key,
                f"{limit + count:,} {where}, more than max_objects_per_frame={limit:,}: the {count:,} after "
                f"the first {limit:,} were not read",
                claims=tuple(sorted(claims)),
                count=count,
                over_limit=True,
            )
        )
    return Answer(objects, tuple(refused))


def _parsed(raw: bytes) -> dict[str, list[Any]] | None:
    """The answer parsed at once when it is small enough and orjson reads it; None: walk it."""
    if len(raw) > WHOLE_PARSE_BYTES:
        return None
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None  # NaN, a huge integer, deep nesting or no JSON at all: the walker tells which
    if not isinstance(data, dict):
        raise _MalformedError(f"they are {checks.json_type(data)}, not an object of tags, shapes and tracks")
    for kind in KINDS:
        if not isinstance(data.get(kind, []), list):
            raise _MalformedError(f"{kind!r} is {checks.json_type(data[kind])}, not a list")
    return data


def _elements(parsed: dict[str, list[Any]] | None, raw: bytes) -> Iterator[tuple[str, Any]]:
    """(kind, item) for every item of the answer's tags, shapes and tracks, in the answer's order."""
    if parsed is None:
        yield from _walk(_Window(raw))
        return
    for kind, items in parsed.items():
        if kind in KINDS:
            for item in items:
                yield kind, item


class _Window:
    """The answer's text, decoded from UTF-8 a window at a time; ``pos`` indexes ``text``."""

    def __init__(self, raw: bytes) -> None:
        self.raw = memoryview(raw)
        self.done = 0  # bytes decoded so far
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.text = ""
        self.pos = 0

    def more(self) -> bool:
        """Decode more of the answer after what is left of the window; False at its end.

        The window at least doubles, so an element parsed again from its start after each
        extension costs a constant factor, however large it is.
        """
        if self.done >= len(self.raw):
            return False
        left = self.text[self.pos :]
        piece = self.raw[self.done : self.done + max(_WINDOW, len(left))]
        self.done += len(piece)
        try:
            self.text = left + self.decoder.decode(piece, final=self.done >= len(self.raw))
        except UnicodeDecodeError as error:
            raise _MalformedError(f"they are not UTF-8 text ({error.reason})") from None
        self.pos = 0
        return True

    def peek(self) -> str | None:
        """The next character that is not white space (None at the end), not consumed."""
        while True:
            found = _NOT_SPACE.search(self.text, self.pos)
            if found is not None:
                self.pos = found.start()
                return self.text[self.pos]
            self.pos = len(self.text)
            if not self.more():
                return None

    def expect(self, allowed: str, where: str) -> str:
        found = self.peek()
        if found is None or found not in allowed:
            shown = "the end" if found is None else repr(found)
            raise _MalformedError(f"expected {' or '.join(map(repr, allowed))} {where}, found {shown}")
        self.pos += 1
        return found

    def value(self) -> Any:
        """The JSON value that starts here."""
        self.peek()
        while True:
            try:
                value, end = _DECODER.raw_decode(self.text, self.pos)
            except json.JSONDecodeError as error:
                if self.more():
                    continue  # the value goes on past the window
                raise _MalformedError(f"they are not JSON: {error.msg}") from None
            except (ValueError, RecursionError) as error:  # an integer of thousands of digits; deep nesting
                raise _MalformedError(f"they are not JSON a server would send: {error}") from None
            if (
                type(value) in (int, float)
                and (end == len(self.text) or self.text[end] in _NUMBER_GOES_ON)
                and self.more()
            ):
                continue  # the window ended inside a number: "1.5" of "1.5e+16" parses too
            self.pos = end
            return value


def _walk(window: _Window) -> Iterator[tuple[str, Any]]:
    first = window.peek()
    if first != "{":
        shown = "nothing" if first is None else f"text starting {window.text[window.pos : window.pos + 40]!r}"
        raise _MalformedError(f"they are {shown}, not an object of tags, shapes and tracks")
    window.pos += 1
    if window.peek() == "}":
        window.pos += 1
    else:
        while True:
            key = window.value()
            if not isinstance(key, str):
                raise _MalformedError(f"a key of the answer is {checks.json_type(key)}")
            window.expect(":", f"after key {key!r}")
            if key in KINDS:
                if window.peek() != "[":
                    raise _MalformedError(f"{key!r} is not a list")
                window.pos += 1
                if window.peek() == "]":
                    window.pos += 1
                else:
                    while True:
                        yield key, window.value()
                        if window.expect(",]", f"between the items of {key!r}") == "]":
                            break
            else:
                _skip(window, 0)
            if window.expect(",}", "between the answer's keys") == "}":
                break
    if window.peek() is not None:
        raise _MalformedError("text follows the answer's object")


def _skip(window: _Window, depth: int) -> None:
    """Step over a value the answer need not hold (``version``, keys CVAT may add), item by item."""
    if depth > _DEPTH:
        raise _MalformedError(f"values nested more than {_DEPTH} deep")
    opening = window.peek()
    if opening not in ("[", "{"):
        window.value()
        return
    closing = "]" if opening == "[" else "}"
    window.pos += 1
    if window.peek() == closing:
        window.pos += 1
        return
    while True:
        if opening == "{":
            if not isinstance(window.value(), str):
                raise _MalformedError("a key is not text")
            window.expect(":", "after a key")
        _skip(window, depth + 1)
        if window.expect("," + closing, "between items") == closing:
            return

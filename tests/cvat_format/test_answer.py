"""Reading an annotations answer: the walker (large answers, NaN) reads what orjson reads, element by
element over a window; malformed documents are one CVATAnswerError; objects past the limit are not kept;
malformed objects are refused one by one."""

from __future__ import annotations

import json

import hypothesis.strategies as st
import pytest
from hypothesis import given, settings

from annoflow.adapters.cvat.errors import CVATAnswerError
from annoflow.adapters.cvat_format import answer as answer_module
from annoflow.adapters.cvat_format.answer import check_objects, read_answer

text = st.text(st.characters(exclude_categories=("Cs",)), max_size=8)  # any character UTF-8 can hold
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=False, allow_infinity=False), text
)
values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4), max_leaves=12
)
shapes = st.fixed_dictionaries(
    {
        "id": st.integers(1, 50),
        "frame": st.integers(-1, 4),
        "label_id": st.integers(1, 3),
        "type": st.just("rectangle"),
        "points": st.lists(st.floats(0, 100), min_size=4, max_size=4),
        "attributes": st.just([]),
    },
    optional={"junk": values},
)
items = st.one_of(shapes, values)
parts = {
    "version": values,
    "tags": st.lists(items, max_size=6),
    "shapes": st.lists(items, max_size=6),
    "tracks": st.lists(items, max_size=3),
    "other": values,
}


@st.composite
def documents(draw):
    """An answer's keys in any order (the per-frame count follows it), each present or not."""
    keys = draw(st.permutations(list(parts)))
    return {key: draw(parts[key]) for key in keys if draw(st.booleans())}


def _read(raw: bytes, limit: int = 2):
    """The answer read, then checked, as the CVAT backend does (with no unchanged objects taken first)."""
    read = read_answer(raw, frames=3, limit=limit, claim=lambda obj, kind: None, method="GET", url="u")
    checked = check_objects(read.objects, frames=3, claim=lambda obj, kind: None)
    return checked.objects, read.refused + checked.refused


@settings(max_examples=300, deadline=None)
@given(
    document=documents(), indent=st.sampled_from([None, 0, 1, 3]), ascii_only=st.booleans(), window=st.integers(1, 64)
)
def test_the_walker_reads_what_orjson_reads(document, indent, ascii_only, window):
    raw = json.dumps(document, indent=indent, ensure_ascii=ascii_only).encode()
    whole = _read(raw)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(answer_module, "WHOLE_PARSE_BYTES", 0)
        patch.setattr(answer_module, "_WINDOW", window)  # windows end inside strings, numbers, characters
        walked = _read(raw)
    assert walked == whole


def test_objects_past_the_limit_on_a_frame_are_counted_not_kept():
    shape = {"id": 1, "frame": 0, "label_id": 1, "type": "rectangle", "points": [0, 0, 1, 1], "attributes": []}
    document = {
        "tags": [{"id": 7, "frame": 0, "label_id": 1, "attributes": []}],
        "shapes": [dict(shape, id=i) for i in range(1, 6)] + [dict(shape, id=9, frame=1)],
    }
    objects, refused = _read(json.dumps(document).encode(), limit=3)
    assert [s["id"] for s in objects["shapes"]] == [1, 2, 9]  # counted in the answer's order: tag 7, shapes 1, 2
    assert objects["tags"] == [document["tags"][0]]
    (over,) = refused
    assert over.over_limit and over.frame == 0 and over.count == 3
    assert over.problem == (
        "6 objects on this frame, more than max_objects_per_frame=3: the 3 after the first 3 were not read"
    )


def test_nan_refuses_its_object_only():
    raw = (
        b'{"shapes": [{"id": 1, "frame": 0, "label_id": 1, "type": "points", "points": [NaN, 1]},'
        b' {"id": 2, "frame": 0, "label_id": 1, "type": "points", "points": [1, 1]}]}'
    )
    objects, (refused,) = _read(raw)
    assert [s["id"] for s in objects["shapes"]] == [2]
    assert (refused.cvat_id, refused.frame, refused.problem) == (1, 0, "its points: nan is not a finite number")


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b"", "they are nothing, not an object"),
        (b"  ", "they are nothing, not an object"),
        (b"[]", "they are a list of 0, not an object"),
        (b"null", "they are null, not an object"),
        (b"<html>", "they are text starting '<html>', not an object"),
        (b'{"shapes": [1, 2', "expected ',' or ']' between the items of 'shapes', found the end"),
        (b'{"shapes": [{"id": 1', "not JSON: Expecting ',' delimiter"),
        (b'{"shapes": [1 2]}', "expected ',' or ']' between the items of 'shapes', found '2'"),
        (b'{"shapes": 1}', "'shapes' is the number 1, not a list"),
        (b'{"shapes": []} []', "text follows the answer's object"),
        (b'{"shapes": [NaN]', "expected ',' or '}' between the answer's keys, found the end"),
        (b'{"x": ' + b"[" * 2000 + b"]" * 2000 + b"}", "values nested more than 64 deep"),  # past orjson's 1024
        (b'{"shapes": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}", "not JSON a server would send"),
        (b'{"shapes": [' + b"1" * 5000 + b"]}", "not JSON a server would send"),
        (b'{"shapes": ["\xff"]}', "not UTF-8"),
    ],
)
def test_a_malformed_document_names_the_request_and_the_problem(raw, problem):
    with pytest.raises(CVATAnswerError) as raised:
        _read(raw)
    assert problem in str(raised.value) and "(GET u)" in str(raised.value)

"""One object's checks: any JSON value gets an answer (never an exception), and the quick check used on
every object never passes one that the full check refuses."""

from __future__ import annotations

import math

import hypothesis.strategies as st
from hypothesis import given, settings

from annoflow.adapters.cvat_format import checks

text = st.text(st.characters(exclude_categories=("Cs",)), max_size=6)
numbers = st.one_of(st.integers(-(2**70), 2**70), st.floats(), st.sampled_from([0, 1, -1, 2**53 + 1, 0.5]))
scalars = st.one_of(st.none(), st.booleans(), numbers, text)
values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=5) | st.dictionaries(text, inner, max_size=3), max_leaves=10
)
VALID = {
    "tags": {"id": 3, "frame": 1, "label_id": 2, "group": 0, "attributes": [{"spec_id": 4, "value": "x"}]},
    "shapes": {
        "id": 3,
        "frame": 1,
        "label_id": 2,
        "group": 0,
        "type": "rectangle",
        "points": [1.0, 2.0, 3.0, 4.0],
        "occluded": False,
        "outside": False,
        "rotation": 0.0,
        "attributes": [{"spec_id": 4, "value": "x"}],
    },
    "tracks": {"id": 3, "frame": 1, "label_id": 2, "group": 0, "shapes": [], "attributes": []},
}
KEYS = sorted({key for obj in VALID.values() for key in obj})
TYPES = ["rectangle", "polygon", "polyline", "points", "mask", "ellipse", "skeleton", ""]


@st.composite
def objects(draw):
    """A valid object with a few of its values replaced, removed, or made almost right."""
    kind = draw(st.sampled_from(sorted(VALID)))
    obj = {**VALID[kind], "attributes": list(VALID[kind]["attributes"])}
    if kind == "shapes" and draw(st.booleans()):  # well-formed but for the geometry: where shape rules bite
        obj["type"] = draw(st.just("rectangle") | st.sampled_from(TYPES))
        count = draw(st.just(4) | st.integers(0, 8))
        obj["points"] = draw(st.lists(st.floats(-10, 10) | st.integers(-10, 10), min_size=count, max_size=count))
        return kind, obj
    for _ in range(draw(st.integers(0, 3))):
        key = draw(st.sampled_from(KEYS))
        change = draw(st.sampled_from(["value", "remove", "type", "points", "geometry", "attribute", "number"]))
        if change == "value":
            obj[key] = draw(values)
        elif change == "remove":
            obj.pop(key, None)
        elif change == "type":
            obj["type"] = draw(st.sampled_from(TYPES))
        elif change == "points":
            obj["points"] = draw(st.lists(numbers | scalars, max_size=9))
        elif change == "geometry":  # numbers a shape may hold, in any count and order
            obj["points"] = draw(st.lists(st.floats(-10, 10) | st.integers(-10, 10), max_size=8))
        elif change == "attribute":
            before = obj.get("attributes")
            obj["attributes"] = [
                *(before if isinstance(before, list) else []),
                draw(values | st.fixed_dictionaries({"spec_id": values | st.integers(-2, 5), "value": values | text})),
            ]
        else:
            obj[key] = draw(numbers)
    return kind, draw(st.one_of(st.just(obj), values))


@settings(max_examples=500, deadline=None)
@given(objects(), st.integers(1, 3))
def test_the_quick_check_passes_nothing_the_full_check_refuses(case, frames):
    kind, obj = case
    full = checks._problem(obj, kind, frames)
    if checks._fine(obj, kind, frames):
        assert full is None, (obj, full)
    assert checks.problem(obj, kind, frames) == full


def test_valid_objects_pass_the_quick_check():
    for kind, obj in VALID.items():
        assert checks._fine(obj, kind, 2) and checks.problem(obj, kind, 2) is None
    assert checks._fine({**VALID["shapes"], "type": "mask", "points": [6.0, 0.0, 0.0, 1.0, 2.0]}, "shapes", 2)
    assert not checks._fine({**VALID["shapes"], "points": [1.0, math.nan, 3.0, 4.0]}, "shapes", 2)

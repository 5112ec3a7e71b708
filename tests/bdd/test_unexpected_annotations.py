"""Step code for features/unexpected_annotations.feature: FiftyOne's CVAT guide, "Unexpected annotations"
example, with each of load_annotations()'s ``unexpected`` modes (the prompt answered on a terminal)."""

from __future__ import annotations

import sys

from pytest_bdd import parsers, scenarios, then, when

from tests.bdd.cvat_steps import HEIGHT, WIDTH, _load, events, login, now, run_of
from tests.bdd.support import attempt

scenarios("unexpected_annotations.feature")


@when(parsers.parse('I load the annotations of "{key}" keeping unexpected labels'))
def load_keep(world, key):
    _load(world, key, unexpected="keep")


@when(parsers.parse('I load the annotations of "{key}" ignoring unexpected labels'))
def load_ignore(world, key):
    _load(world, key, unexpected="ignore")


@when(parsers.parse('I load the annotations of "{key}" asking for unexpected labels back'))
def load_return(world, key):
    _load(world, key, unexpected="return")


class _Pipe:
    """Standard input that is not a terminal."""

    def isatty(self):
        return False

    def readline(self):
        raise AssertionError("nobody should be asked")


@when(parsers.parse('I try to load the annotations of "{key}" with the default prompt and no terminal'))
def load_no_terminal(world, key, monkeypatch):
    monkeypatch.setattr(sys, "stdin", _Pipe())
    attempt(world, lambda: world["dataset"].load_annotations(key, **login(world)))


def _drawn(world):
    return sorted(
        (cls, tuple((x / WIDTH, y / HEIGHT) for x, y in zip(points[0::2], points[1::2], strict=True)))
        for cls, points in world["polylines_drawn"]
    )


def _lines(labels):
    return sorted((line.label, tuple(tuple(p) for p in line.points[0])) for line in labels)


@then(parsers.parse('I was asked "{question}"'))
def asked(world, question):
    assert world["asked"] == question + " ", world["asked"]


@then(parsers.parse('the sample\'s "{field}" field holds the polylines the annotator drew'))
def holds_drawn(world, field):
    assert _lines(now(world, field).values()) == _drawn(world)


@then(parsers.parse('the sample\'s "{field}" field holds its polylines and the polylines the annotator drew'))
def holds_both(world, field):
    before = {line.id: line for line in world["sample"].fields[field].polylines}
    held = now(world, field)
    assert {k: held[k] for k in before} == before
    assert _lines(v for k, v in held.items() if k not in before) == _drawn(world)


@then("the sample's fields are as they were")
def fields_as_they_were(world):
    sample = next(world["dataset"].store.get_samples([world["sample"].id]))
    assert sample.fields == world["sample"].fields


@then(parsers.parse("the run's last load counted {count:d} unexpected labels"))
def counted(world, count):
    (summary, *_) = [e.summary for e in reversed(events(world)) if type(e).__name__ == "LoadCompleted"]
    assert summary.unexpected == count


@then(parsers.parse('I got back the polylines the annotator drew, under "{label_type}"'))
def got_back(world, label_type):
    returned = world["returned"]
    assert set(returned) == {label_type}
    assert {item.sample_id for item in returned[label_type]} == {world["sample"].id}
    assert _lines(item.label for item in returned[label_type]) == _drawn(world)


@then(parsers.parse('the load fails with "{message}"'))
def load_fails(world, message):
    assert world["error"] is not None and message in str(world["error"]), world["error"]


@then("the run has recorded no load")
def no_load(world):
    names = {type(e).__name__ for e in events(world)}
    assert not names & {"ShapesImported", "LabelMerged", "LoadCompleted"}, names
    assert run_of(world).loads == []

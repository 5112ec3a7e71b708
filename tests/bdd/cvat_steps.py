"""Steps the end-to-end load features share: the scripted annotator's edits in CVAT, loads, and
what the dataset and the run's events hold afterwards.

tests/conftest.py registers this module as a plugin, so every feature finds these steps; import
only the helpers a step module calls (``login``, ``pick``...).

Labels are named as a user reads them off the sample that was sent: ``the first "person" box``,
``the second "person" box``, ``the "car" box`` (the only one), with ``of "predictions"`` for a
field other than the run's first. The names resolve against the sample as it was when it was
sent (``world["sample"]``), so a Then step finds the same label a When step edited.
"""

from __future__ import annotations

import io
import json
import re
import sys

from pytest_bdd import given, parsers, then, when

from annoflow.adapters.cvat_sim.annotator import ScriptedAnnotator
from annoflow.application.audit import run_history
from annoflow.domain.changes import PutLabel
from annoflow.domain.labels import labels_in
from annoflow.domain.run_records import MergeAction
from annoflow.domain.task_ledger import merged_in

WIDTH, HEIGHT = 96, 64  # the background's image size
MOVED_TO = [1.0, 1.0, 20.0, 20.0]  # where "moves" puts a box, in pixels
DRAWN_AT = [30.0, 30.0, 50.0, 50.0]  # where "draws" puts a new box, in pixels
LABEL = r'(?P<which>(?:first |second )?"[^"]+" box(?: of "[^"]+")?)'


# --- helpers ------------------------------------------------------------------


def login(world):
    return {"url": world["sim"].url, "username": "annotator", "password": "pw"}


def annotator(world):
    return ScriptedAnnotator(world["sim"].url, "annotator", "pw")


def task_id(world):
    (task,) = world["results"].task_ids
    return task


def run_of(world, key=None):
    """The run with that key (the last one sent by default), deleted runs included."""
    registry = world["dataset"].registry
    runs = [registry.get_run_by_id(run_id) for run_id in registry.run_ids("quickstart", include_deleted=True)]
    (run,) = [run for run in runs if run.key == (key or world["run"].key)]
    return run


def pick(world, which):
    """(field, original label) named by e.g. 'first "person" box of "predictions"'."""
    match = re.fullmatch(r'(?:(first|second) )?"([^"]+)" box(?: of "([^"]+)")?', which)
    nth, cls, field = match.groups()
    field = field or world["run"].label_schema.field_names[0]
    found = [label for label in labels_in(world["sample"].fields.get(field)) if label.label == cls]
    if nth is None:
        assert len(found) == 1, f"the sample has {len(found)} {cls!r} labels in {field!r}, name which"
        return field, found[0]
    return field, found[{"first": 0, "second": 1}[nth]]


def now(world, field, sample_id=None):
    sample = next(world["dataset"].store.get_samples([sample_id or world["sample"].id]))
    return {label.id: label for label in labels_in(sample.fields.get(field))}


def cvat_shapes(client, task):
    """The task's shapes by their label_id attribute (None for shapes without one)."""
    specs = {a["id"] for label in client.labels(task).values() for a in label["attributes"] if a["name"] == "label_id"}
    return {
        next((a["value"] for a in s["attributes"] if a["spec_id"] in specs), None): s
        for s in client.annotations(task)["shapes"]
    }


def touch(world, field, label_id):
    world.setdefault("touched", set()).add((field, label_id))


def events(world, key=None):
    return world["dataset"].registry.history(run_of(world, key).id)


def relative(points):
    x1, y1, x2, y2 = points
    return (x1 / WIDTH, y1 / HEIGHT, (x2 - x1) / WIDTH, (y2 - y1) / HEIGHT)


def value(text):
    """A value as the feature writes it: JSON (1, true, "val2")."""
    return json.loads(text)


class Terminal(io.StringIO):
    """Standard input as a terminal where the user types the given answers."""

    def isatty(self):
        return True


# --- the annotator, in CVAT -----------------------------------------------------


def _edit(world, which, action):
    field, label = pick(world, which)
    task = task_id(world)
    with annotator(world) as client:
        shape = cvat_shapes(client, task)[label.id]
        action(client, task, shape)
    touch(world, field, label.id)


@when(parsers.re(rf"the annotator moves the {LABEL}"))
def annotator_moves(world, which):
    _edit(world, which, lambda client, task, shape: client.move_shape(task, shape["id"], MOVED_TO))


@when(parsers.re(rf"the annotator deletes the {LABEL}"))
def annotator_deletes(world, which):
    _edit(world, which, lambda client, task, shape: client.delete(task, shape["id"]))


@when(parsers.re(rf'the annotator sets "(?P<name>[^"]+)" to "(?P<text>[^"]*)" on the {LABEL}'))
def annotator_sets(world, name, text, which):
    _edit(world, which, lambda client, task, shape: client.set_attribute(task, shape["id"], name, text))


@when(parsers.re(rf'the annotator relabels the {LABEL} as "(?P<new>[^"]+)"'))
def annotator_relabels(world, which, new):
    _edit(world, which, lambda client, task, shape: client.relabel(task, shape["id"], new))


@when(parsers.re(rf"the annotator marks the {LABEL} as occluded"))
def annotator_occludes(world, which):
    _edit(world, which, lambda client, task, shape: client.set_flags(task, shape["id"], occluded=True))


@when(parsers.re(rf"the annotator puts the {LABEL} in group (?P<group>\d+)"))
def annotator_groups(world, which, group):
    _edit(world, which, lambda client, task, shape: client.set_flags(task, shape["id"], group=int(group)))


@when(parsers.re(r'the annotator draws an? "(?P<cls>[^"]+)" box(?: with "(?P<name>[^"]+)" set to "(?P<text>[^"]*)")?'))
def annotator_draws_box(world, cls, name, text):
    task = task_id(world)
    with annotator(world) as client:
        client.add_shape(task, cls, 0, "rectangle", DRAWN_AT, attributes={name: text} if name else None)


@when(
    parsers.re(
        r'the annotator places (?:an? )?"(?P<cls>[^"]+)" points? at (?P<points>\[[^\]]*\])'
        r'(?: with "(?P<name>[^"]+)" set to "(?P<text>[^"]*)")?'
    )
)
def annotator_places_points(world, cls, points, name, text):
    task = task_id(world)
    with annotator(world) as client:
        client.add_shape(
            task, cls, 0, "points", [float(p) for p in json.loads(points)], attributes={name: text} if name else None
        )


@when(
    parsers.re(
        r'the annotator draws an? "(?P<cls>[^"]+)" polyline at (?P<points>\[[^\]]*\]), which the run did not ask for'
    )
)
def annotator_draws_polyline(world, cls, points):
    task = task_id(world)
    with annotator(world) as client:
        client.add_shape(task, cls, 0, "polyline", [float(p) for p in json.loads(points)])
    world.setdefault("polylines_drawn", []).append((cls, json.loads(points)))


# --- loading ------------------------------------------------------------------------


def _load(world, key, **kwargs):
    world["key"] = key
    world["returned"] = world["dataset"].load_annotations(key, **kwargs, **login(world))


@when(parsers.parse('I load the annotations of "{key}"'))
def load(world, key):
    _load(world, key)


@when(parsers.parse('I load the annotations of "{key}" with cleanup'))
def load_cleanup(world, key):
    _load(world, key, cleanup=True)


@when(parsers.parse('I load the annotations of "{key}" into {dest}'))
def load_into(world, key, dest):
    _load(world, key, dest_field=value(dest))


@when(parsers.re(r'I load the annotations of "(?P<key>[^"]+)" and answer "(?P<answer>[^"]*)" at the prompt'))
def load_answering(world, key, answer, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", Terminal(answer + "\n"))
    capsys.readouterr()
    _load(world, key)
    world["asked"] = capsys.readouterr().out


# --- the dataset afterwards ------------------------------------------------------


@then(parsers.re(rf"the {LABEL} was moved where the annotator put it"))
def was_moved(world, which):
    field, label = pick(world, which)
    assert now(world, field)[label.id].bounding_box == relative(MOVED_TO)


@then(parsers.re(rf"the {LABEL} was not moved"))
def not_moved(world, which):
    field, label = pick(world, which)
    assert now(world, field)[label.id].bounding_box == label.bounding_box


@then(parsers.re(rf"the {LABEL} is gone"))
def is_gone(world, which):
    field, label = pick(world, which)
    assert label.id not in now(world, field)


@then(parsers.re(rf"the {LABEL} is still there, as it was"))
def still_there(world, which):
    field, label = pick(world, which)
    assert now(world, field)[label.id] == label


@then(parsers.re(rf'the {LABEL} has "(?P<name>[^"]+)" set to (?P<expected>.+)'))
def has_attribute(world, which, name, expected):
    field, label = pick(world, which)
    held = now(world, field)[label.id].attributes
    assert name in held and held[name] == value(expected) and type(held[name]) is type(value(expected)), dict(held)


@then(parsers.re(rf'the {LABEL} has no "(?P<name>[^"]+)" attribute'))
def has_no_attribute(world, which, name):
    field, label = pick(world, which)
    assert name not in now(world, field)[label.id].attributes


@then(parsers.re(rf'the {LABEL} is now labelled "(?P<new>[^"]+)", with the same id'))
def relabelled(world, which, new):
    field, label = pick(world, which)
    assert now(world, field)[label.id].label == new


def _new_labels(world, field):
    before = {label.id for label in labels_in(world["sample"].fields.get(field))}
    return [label for label_id, label in now(world, field).items() if label_id not in before]


@then(
    parsers.re(
        r'a new "(?P<cls>[^"]+)" box is in "(?P<field>[^"]+)" where the annotator drew it'
        r'(?: with "(?P<name>[^"]+)" set to (?P<expected>.+))?'
    )
)
def new_box(world, cls, field, name, expected):
    (label,) = _new_labels(world, field)
    assert (label.label, label.bounding_box) == (cls, relative(DRAWN_AT))
    if name:
        assert label.attributes[name] == value(expected) and type(label.attributes[name]) is type(value(expected))


@then(parsers.parse('no new label was added to "{field}"'))
def nothing_new(world, field):
    assert _new_labels(world, field) == []


@then(parsers.parse('the other "{field}" labels are unchanged to the bit'))
def others_untouched(world, field):
    held = now(world, field)
    touched = world.get("touched", set())
    for label in labels_in(world["sample"].fields.get(field)):
        if (field, label.id) not in touched:
            assert held[label.id] == label


@then(parsers.parse('the sample\'s "{field}" labels are as they were'))
def field_as_it_was(world, field):
    assert now(world, field) == {label.id: label for label in labels_in(world["sample"].fields.get(field))}


# --- CVAT afterwards -----------------------------------------------------------------


def _api_get(world, path):
    with annotator(world) as client:
        return client.client.get(path)


@then("the run's CVAT task is gone")
def task_gone(world):
    for task in world["results"].task_ids:
        assert _api_get(world, f"/api/tasks/{task}").status_code == 404


@then("the run's CVAT task is still there")
def task_there(world):
    for task in world["results"].task_ids:
        assert _api_get(world, f"/api/tasks/{task}").status_code == 200


# --- what the run recorded -----------------------------------------------------------


@then(parsers.parse('the audit trail of "{key}" shows a load with "{counts}"'))
def audit_load(world, key, counts):
    loads = [
        entry.text for entry in run_history(world["dataset"].registry, run_of(world, key).id) if entry.event == "load"
    ]
    assert loads, "no load in the audit trail"
    assert f": {counts} from " in loads[0], loads


@then(parsers.parse('the audit trail of "{key}" ends with "{text}"'))
def audit_ends(world, key, text):
    entries = run_history(world["dataset"].registry, run_of(world, key).id)
    assert entries[-1].text == text, [e.text for e in entries]


@then(parsers.parse('the run\'s events record the refusals "{rules}"'))
def refusals(world, rules):
    found = sorted(e.rejection.rule for e in events(world) if type(e).__name__ == "Rejected")
    assert found == sorted(r.strip() for r in rules.split(",")), found


@then("the dataset holds every change the run's events record")
def events_match_dataset(world):
    last = {}
    for event in events(world):
        if type(event).__name__ == "LabelMerged":
            for change in merged_in(event):
                last[(change.sample_id, change.field, change.label_id)] = change
    assert last, "the run recorded no change"
    for (sample_id, field, label_id), change in last.items():
        held = now(world, field, sample_id)
        if change.action is MergeAction.DELETED:
            assert label_id not in held
        else:
            assert held[label_id] == change.label


@then(parsers.parse('loading "{key}" again changes nothing'))
def load_again(world, key):
    samples = {s.id: s for s in world["dataset"].store.get_samples(run_of(world, key).sample_ids)}
    world["dataset"].load_annotations(key, **login(world))
    assert {s.id: s for s in world["dataset"].store.get_samples(list(samples))} == samples
    assert world["dataset"].last_load.summary.unchanged_tasks == len(world["results"].task_ids)


@given(parsers.re(r'the "(?P<cls>[^"]+)" boxes of ground_truth have an? "(?P<name>[^"]+)" attribute (?P<raw>.+)'))
def boxes_have_attribute(world, cls, name, raw):
    changes = [
        PutLabel(sample.id, "ground_truth", label.replace(attributes={**label.attributes, name: value(raw)}))
        for sample in world["store"].get_samples()
        for label in labels_in(sample.fields["ground_truth"])
        if label.label == cls
    ]
    assert changes, f"no {cls!r} box in the dataset"
    world["store"].apply(changes)


__all__ = [name for name in dir() if name.startswith("pytestbdd_")]

"""Step code for features/loading_annotations.feature: the scripted annotator edits, we load."""

from __future__ import annotations

import json

from pytest_bdd import given, parsers, scenarios, then, when

from annoflow.adapters.cvat_sim.annotator import ScriptedAnnotator
from annoflow.domain.changes import SetValue
from annoflow.domain.labels import labels_in

scenarios("loading_annotations.feature")


def _login(world):
    return {"url": world["sim"].url, "username": "annotator", "password": "pw"}


def _by_label_id(annotator, task_id):
    labels = annotator.labels(task_id)
    specs = {a["id"] for label in labels.values() for a in label["attributes"] if a["name"] == "label_id"}
    return {
        next((a["value"] for a in s["attributes"] if a["spec_id"] in specs), None): s
        for s in annotator.annotations(task_id)["shapes"]
    }


@when("the annotator moves one box, deletes another and draws a new one")
def annotator_edits(world):
    (task_id,) = world["results"].task_ids
    field = world["run"].label_schema.field_names[0]
    world["before"] = {label.id: label for label in labels_in(world["sample"].fields[field])}
    with ScriptedAnnotator(world["sim"].url, "annotator", "pw") as annotator:
        shapes = _by_label_id(annotator, task_id)
        moved, deleted = list(shapes)[:2]
        _x1, _y1, _x2, _y2 = shapes[moved]["points"][:4] if shapes[moved]["type"] == "rectangle" else (1, 1, 5, 5)
        annotator.move_shape(task_id, shapes[moved]["id"], [1.0, 1.0, 20.0, 20.0])
        annotator.delete(task_id, shapes[deleted]["id"])
        annotator.add_shape(task_id, next(iter(annotator.labels(task_id))), 0, "rectangle", [30.0, 30.0, 50.0, 50.0])
    world["moved"], world["deleted"] = moved, deleted


@when("the annotator draws a polyline, which the run did not ask for")
def annotator_stray(world):
    (task_id,) = world["results"].task_ids
    with ScriptedAnnotator(world["sim"].url, "annotator", "pw") as annotator:
        annotator.add_shape(task_id, next(iter(annotator.labels(task_id))), 0, "polyline", [1.0, 1.0, 30.0, 20.0])
    world["polylines_before"] = len(world["sample"].fields["polylines"])


@when(parsers.parse('I load the annotations of "{key}"'))
def load(world, key):
    world["dataset"].load_annotations(key, unexpected="ignore", **_login(world))
    world["key"] = key


@when(parsers.parse('I load the annotations of "{key}" keeping unexpected labels'))
def load_keep(world, key):
    world["dataset"].load_annotations(key, unexpected="keep", **_login(world))


@when(parsers.parse('I load the annotations of "{key}" into "{field}"'))
def load_into(world, key, field):
    world["dataset"].load_annotations(key, unexpected="ignore", dest_field=field, **_login(world))


def _now(world, field="ground_truth"):
    sample = next(world["dataset"].store.get_samples([world["sample"].id]))
    return {label.id: label for label in labels_in(sample.fields.get(field))}


@then("the sample has the moved box, not the deleted one, and the new one")
def merged(world):
    now = _now(world)
    assert world["deleted"] not in now
    assert now[world["moved"]].bounding_box == (1.0 / 96, 1.0 / 64, 19.0 / 96, 19.0 / 64)
    new = set(now) - set(world["before"])
    assert len(new) == 1 and now[new.pop()].bounding_box == (30.0 / 96, 30.0 / 64, 20.0 / 96, 20.0 / 64)


@then("the other labels are unchanged to the bit")
def untouched(world):
    now = _now(world)
    for label_id, label in world["before"].items():
        if label_id not in (world["moved"], world["deleted"]):
            assert now[label_id] == label


@then("loading again changes nothing")
def again(world):
    before = _now(world)
    world["dataset"].load_annotations(world["key"], unexpected="ignore", **_login(world))
    assert _now(world) == before and world["dataset"].last_load.summary.unchanged_tasks == 1


@then("the sample's ground_truth labels are as they were")
def as_they_were(world):
    assert _now(world) == world["before"]


@then(parsers.parse('the load refused "{rules}"'))
def refused(world, rules):
    found = {r.rule for r in world["dataset"].last_load.rejections}
    assert found == {r.strip() for r in rules.split(",")}


@then(parsers.parse('the sample has one more polyline in the field "{field}"'))
def kept(world, field):
    assert len(_now(world, field)) == world["polylines_before"] + 1


@then(parsers.parse('the sample\'s "{field}" holds what CVAT holds'))
def dest_holds(world, field):
    held = _now(world, field)
    assert world["deleted"] not in held and world["moved"] in held and len(held) == len(world["before"])


# --- scalar fields -------------------------------------------------------------------------------


def _tag(annotator, task_id, label):
    cvat_label = annotator.labels(task_id)[label]["id"]
    (tag,) = [t for t in annotator.annotations(task_id)["tags"] if t["label_id"] == cvat_label]
    return tag


@given(parsers.parse('the first sample\'s "{field}" holds {value}'))
def scalar_holds(world, field, value):
    first = world["store"].sample_ids()[0]
    world["store"].apply([SetValue(first, field, json.loads(value))])


@when(parsers.parse('the annotator types "{text}" into the value of a "{field}" tag and tags the sample "{cls}"'))
def annotator_sets_scalars(world, text, field, cls):
    (task_id,) = world["results"].task_ids
    with ScriptedAnnotator(world["sim"].url, "annotator", "pw") as annotator:
        annotator.add_tag(task_id, field, 0, attributes={"value": text})
        annotator.add_tag(task_id, cls, 0)  # with classes, the tag's label is the value


@when(parsers.parse('the annotator changes the value of the "{field}" tag to "{text}"'))
def annotator_changes_scalar(world, field, text):
    (task_id,) = world["results"].task_ids
    with ScriptedAnnotator(world["sim"].url, "annotator", "pw") as annotator:
        annotator.set_attribute(task_id, _tag(annotator, task_id, field)["id"], "value", text, kind="tags")


def _value(world, field):
    return next(world["dataset"].store.get_samples([world["sample"].id])).fields.get(field)


@then(parsers.parse('the sample\'s "{field}" holds the {kind} {value}'))
def scalar_is(world, field, kind, value):
    got = _value(world, field)
    assert type(got).__name__ == kind and got == json.loads(value)


@then("loading again changes no value")
def again_no_value(world):
    fields = world["run"].label_schema.field_names
    before = {f: _value(world, f) for f in fields}
    world["dataset"].load_annotations(world["key"], unexpected="ignore", **_login(world))
    assert {f: _value(world, f) for f in fields} == before
    assert world["dataset"].last_load.summary.unchanged_tasks == 1

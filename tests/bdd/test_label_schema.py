from __future__ import annotations

import json

from pytest_bdd import parsers, scenarios, then, when

from annoflow.domain.label_schema import LabelSchemaError
from tests.bdd.support import attempt

scenarios("label_schema.feature")


@when(parsers.parse('I annotate the label field "{field}" with classes "{classes}" and key "{key}"'))
def annotate_with_classes(world, field, classes, key):
    attempt(
        world,
        lambda: world["dataset"].annotate(key, label_field=field, classes=[c.strip() for c in classes.split(",")]),
    )


@when("I annotate with the label schema")
def annotate_with_schema(world, docstring):
    attempt(world, lambda: world["dataset"].annotate("schema", label_schema=json.loads(docstring)))


@then("no annotation run is recorded")
def no_run(world):
    assert world["dataset"].list_annotation_runs() == []


@then("nothing was sent to the annotation backend")
def nothing_sent(world):
    assert world["backend"].server.connections == 0 and world["backend"].server.tasks == {}


def _field(world, field):
    key = world["dataset"].list_annotation_runs()[0]
    return world["dataset"].get_annotation_info(key).label_schema[field]


@then(parsers.parse('the run\'s schema for "{field}" has label type "{label_type}"'))
def schema_type(world, field, label_type):
    assert _field(world, field).label_type == label_type


@then(parsers.parse("the run's schema for \"{field}\" has the dataset's classes"))
def schema_classes(world, field):
    seen = {d.label for s in world["dataset"].iter_samples() for d in s.fields[field].detections}
    assert set(_field(world, field).classes) == seen


@then(parsers.parse('the run\'s schema for "{field}" has an attribute "{name}" of type "{kind}"'))
def schema_attribute(world, field, name, kind):
    specs = {a.name: a for a in _field(world, field).attributes}
    assert specs[name].type == kind


@then(parsers.parse("the request fails listing {count:d} problems"))
def fails_listing(world, count):
    assert isinstance(world["error"], LabelSchemaError), world["error"]
    assert len(world["error"].problems) == count

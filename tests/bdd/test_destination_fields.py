"""Step code for features/destination_fields.feature: FiftyOne's CVAT guide, "Changing destination field" example
with the dict syntax it gives for runs over several fields."""

from __future__ import annotations

import json

from pytest_bdd import parsers, scenarios, then, when

from tests.bdd.cvat_steps import MOVED_TO, login, now, pick, relative
from tests.bdd.support import attempt

scenarios("destination_fields.feature")


@when(parsers.parse('I try to load the annotations of "{key}" into {dest}'))
def try_load_into(world, key, dest):
    attempt(world, lambda: world["dataset"].load_annotations(key, dest_field=json.loads(dest), **login(world)))


@then(parsers.parse('the load fails with "{message}"'))
def load_fails(world, message):
    assert world["error"] is not None and message in str(world["error"]), world["error"]


@then(parsers.parse('the dataset has no field "{field}"'))
def no_field(world, field):
    assert field not in world["dataset"].store.field_schema()


@then(parsers.parse('the sample\'s "{field}" holds the ground truth as CVAT has it'))
def copy_as_in_cvat(world, field):
    _, moved = pick(world, 'first "person" box')
    _, deleted = pick(world, '"bicycle" box')
    copy = now(world, field)
    originals = {label.id: label for label in world["sample"].fields["ground_truth"].detections}
    assert set(copy) == set(originals) - {deleted.id}
    assert copy[moved.id].bounding_box == relative(MOVED_TO)
    for label_id, label in copy.items():
        if label_id != moved.id:
            assert label == originals[label_id]

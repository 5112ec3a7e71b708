"""Step code for features/occlusion_and_groups.feature: FiftyOne's CVAT guide, "Using CVAT's occlusion widget"
and "Using CVAT groups" examples, with a label schema and with occluded_attr/group_id_attr on an
existing project."""

from __future__ import annotations

from pytest_bdd import parsers, scenarios, then

from tests.bdd.cvat_steps import annotator, now, pick

scenarios("occlusion_and_groups.feature")


@then(parsers.re(r'the (?P<which>.+ box(?: of "[^"]+")?) is in no group'))
def in_no_group(world, which):
    field, label = pick(world, which)
    assert now(world, field)[label.id].attributes.get("group_id") is None


@then(parsers.parse('every other "{field}" label has "{name}" set to false, and is otherwise unchanged'))
def others_not_occluded(world, field, name):
    held = now(world, field)
    touched = {label_id for f, label_id in world["touched"] if f == field}
    others = [label for label in world["sample"].fields[field].detections if label.id not in touched]
    assert others
    for label in others:
        assert held[label.id] == label.replace(attributes={**label.attributes, name: False})


@then(parsers.parse('the project "{name}" is still in CVAT'))
def project_kept(world, name):
    with annotator(world) as client:
        found = client.client.get("/api/projects", params={"name": name}).json()["results"]
    assert [p["name"] for p in found] == [name]

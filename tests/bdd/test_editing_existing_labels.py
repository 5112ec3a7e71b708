"""Step code for features/editing_existing_labels.feature: FiftyOne's CVAT guide, "Editing existing labels" examples."""

from __future__ import annotations

import json

from pytest_bdd import given, parsers, scenarios, then, when

from annoflow.domain.expressions import F
from annoflow.domain.labels import labels_in
from tests.bdd.cvat_steps import LABEL, annotator, now, pick, task_id

scenarios("editing_existing_labels.feature")


@when(parsers.parse('I delete the annotation run "{key}"'))
def delete_run(world, key):
    world["dataset"].delete_annotation_run(key)


@then("the dataset has no annotation runs")
def no_runs(world):
    assert world["dataset"].list_annotation_runs() == []


@given(parsers.parse('the "{cls}" boxes of ground_truth are tagged "{tag}"'))
def boxes_tagged(world, cls, tag):
    people = world["dataset"].filter_labels("ground_truth", F("label") == cls)
    people.tag_labels(tag, label_fields="ground_truth")
    world["tagged"] = {label.id for s in people.iter_samples() for label in labels_in(s.fields["ground_truth"])}
    assert world["tagged"], f"no {cls!r} box in the dataset"


@then(parsers.parse('CVAT never saw the tag "{tag}"'))
def cvat_never_saw(world, tag):
    with annotator(world) as client:
        held = json.dumps([client.annotations(task_id(world)), client.labels(task_id(world))])
    assert tag not in held


@then(parsers.re(rf'the {LABEL} still has the tag "(?P<tag>[^"]+)"'))
def still_tagged(world, which, tag):
    field, label = pick(world, which)
    assert tag in now(world, field)[label.id].tags


@then(parsers.parse('the labels tagged "{tag}" are the ones I tagged'))
def tagged_labels(world, tag):
    dataset = world["dataset"]
    view = dataset.filter_labels("ground_truth", F("tags").contains(tag))
    assert {label.id for s in view.iter_samples() for label in labels_in(s.fields["ground_truth"])} == world["tagged"]
    assert dataset.count_label_tags("ground_truth") == {tag: len(world["tagged"])}
    assert dataset.match_labels(tags=tag).sample_ids == view.sample_ids

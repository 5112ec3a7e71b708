"""Step code for features/editing_existing_labels.feature: FiftyOne's CVAT guide, "Editing existing labels" examples."""

from __future__ import annotations

from pytest_bdd import parsers, scenarios, then, when

from tests.bdd.cvat_steps import *  # noqa: F403 - the shared load steps

scenarios("editing_existing_labels.feature")


@when(parsers.parse('I delete the annotation run "{key}"'))
def delete_run(world, key):
    world["dataset"].delete_annotation_run(key)


@then("the dataset has no annotation runs")
def no_runs(world):
    assert world["dataset"].list_annotation_runs() == []

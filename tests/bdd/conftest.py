"""Steps shared by every feature: a quickstart dataset and an annotation backend."""

from __future__ import annotations

import pytest
from pytest_bdd import given, parsers, then, when

from annoflow.adapters.label_stores import InMemoryLabelStore
from annoflow.adapters.quickstart import load_quickstart
from annoflow.application.dataset import Dataset
from annoflow.application.runs.registry import RunRegistry
from tests.bdd.support import attempt
from tests.fakes import FakeBackend


@pytest.fixture
def world():
    return {}


@given(parsers.parse("the quickstart dataset with {count:d} samples"))
def quickstart(world, tmp_path, count):
    store = InMemoryLabelStore("quickstart")
    load_quickstart(store, tmp_path / "media", num_samples=count, image_size=(64, 48))
    world["store"] = store


@given("an annotation backend")
def backend(world):
    world["backend"] = FakeBackend()
    world["dataset"] = Dataset(world["store"], RunRegistry(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}),
                               {"cvat": world["backend"]})


@given(parsers.parse('I annotated the label field "{field}" with key "{key}"'))
@when(parsers.parse('I annotate the label field "{field}" with key "{key}"'))
def annotate_field(world, field, key):
    attempt(world, lambda: world["dataset"].annotate(key, label_field=field))


@then(parsers.parse('the request fails with "{message}"'))
def request_fails(world, message):
    assert world["error"] is not None, "the request succeeded"
    assert message in str(world["error"])


@then(parsers.parse('the dataset\'s annotation runs are "{keys}"'))
def runs_are(world, keys):
    assert world["dataset"].list_annotation_runs() == [k.strip() for k in keys.split(",")]

"""Steps shared by every feature: quickstart datasets, backends (a fake, or the CVAT simulator)."""

from __future__ import annotations

import json

import httpx
import pytest
from pytest_bdd import given, parsers, then, when

from annoflow.adapters.cvat_backend import CVATBackend
from annoflow.adapters.cvat_sim.server import CvatSimulator
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
    world["dataset"] = Dataset(
        world["store"], RunRegistry(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}), {"cvat": world["backend"]}
    )


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


@given("the quickstart dataset with 4 samples and every label type")
def dataset(world, tmp_path):
    store = InMemoryLabelStore("quickstart")
    load_quickstart(store, tmp_path / "media", num_samples=4, image_size=(96, 64), extra_fields=True, seed=7)
    world["store"] = store
    world["tmp"] = tmp_path


@given(parsers.parse('a CVAT server with the users "annotator", "user2" and "user3"'))
def server(world, cvat_schema):
    simulator = CvatSimulator(users={"annotator": "pw", "user2": "pw2", "user3": "pw3"}, on_exchange=cvat_schema.check)
    context = simulator.serve()
    context.__enter__()
    world["finalizers"].append(lambda: context.__exit__(None, None, None))
    world["sim"] = simulator
    opened = []
    world["opened"] = opened
    world["dataset"] = Dataset(
        world["store"],
        RunRegistry(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}),
        {"cvat": CVATBackend(interactive=False, client_options={"poll_interval": 0.01})},
        open_url=opened.append,
    )
    world["schema_checker"] = cvat_schema
    cvat_schema.take_problems()


@pytest.fixture(autouse=True)
def _cleanup(world):
    world["finalizers"] = []
    yield
    for finalize in world["finalizers"]:
        finalize()
    checker = world.get("schema_checker")
    if checker is not None:
        problems = checker.take_problems()
        assert not problems, problems


def _api(world):
    client = httpx.Client(base_url=world["sim"].url)
    client.headers["Authorization"] = (
        "Token " + client.post("/api/auth/login", json={"username": "annotator", "password": "pw"}).json()["key"]
    )
    return client


@when(parsers.re(r'I annotate (?P<which>the first sample|one sample|all samples) with key "(?P<key>[^"]+)"'))
def annotate(world, which, key, docstring):
    dataset = world["dataset"]
    collection = dataset.limit(1) if which != "all samples" else dataset
    kwargs = json.loads(docstring)
    world["results"] = collection.annotate(key, url=world["sim"].url, username="annotator", password="pw", **kwargs)
    world["run"] = dataset.registry.get_run("quickstart", key)
    world["sample"] = collection.first()

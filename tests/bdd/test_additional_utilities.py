"""Step code for features/additional_utilities.feature: FiftyOne's CVAT guide, "Additional utilities",
its examples run as written (``annoflow`` in place of ``fiftyone``) against the CVAT simulator, with the
login in the environment and the data dir in a temporary folder, as a user's machine would have them."""

from __future__ import annotations

import contextlib
import io
import textwrap
import webbrowser
from pathlib import Path

import httpx
from pytest_bdd import given, parsers, scenarios, then, when

from annoflow.adapters import wiring
from annoflow.adapters.cvat.api import CVATAnnotationAPI
from annoflow.adapters.cvat_sim.server import CvatSimulator
from annoflow.adapters.quickstart import load_quickstart

scenarios("additional_utilities.feature")

USERS = {"user1": "pw1", "user2": "pw2", "user3": "pw3"}


@given(parsers.parse('a CVAT server with the users "user1", "user2" and "user3", my login in the environment'))
def server(world, cvat_schema, monkeypatch, tmp_path):
    logins = []

    def seen(exchange):
        cvat_schema.check(exchange)
        if exchange.method == "POST" and exchange.path.rstrip("/") == "/api/auth/login":
            logins.append(exchange.status)

    simulator = CvatSimulator(users=USERS, on_exchange=seen)
    context = simulator.serve()
    context.__enter__()
    world["finalizers"].append(lambda: context.__exit__(None, None, None))
    world.update(sim=simulator, logins=logins, schema_checker=cvat_schema, tmp=tmp_path, opened=[])
    cvat_schema.take_problems()
    for name, value in (("URL", simulator.url), ("USERNAME", "user1"), ("PASSWORD", USERS["user1"])):
        monkeypatch.setenv(f"FIFTYONE_CVAT_{name}", value)
    monkeypatch.setenv("ANNOFLOW_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(webbrowser, "open", world["opened"].append)  # launch_editor opens no real browser
    monkeypatch.chdir(tmp_path)


@given("the zoo's quickstart dataset in my data dir")
def zoo_quickstart(world):
    # the zoo draws it the first time; a small one here, as if drawn before
    dataset = wiring.open_dataset("quickstart")
    load_quickstart(dataset.store, wiring.data_dir() / "media" / "quickstart", num_samples=4, image_size=(64, 48))
    world["dataset"] = dataset


@given(parsers.parse('the runs "{first}" and "{second}" of the quickstart dataset in CVAT'))
def two_runs(world, first, second):
    for key in (first, second):
        world["dataset"].limit(1).annotate(key, label_field="ground_truth")


@given(parsers.parse('the run "{key}" of the quickstart dataset in CVAT, in the project "{project}"'))
def run_in_project(world, key, project):
    world["results"] = world["dataset"].limit(2).annotate(key, label_field="ground_truth", project_name=project)
    with httpx.Client(base_url=world["sim"].url, auth=("user1", USERS["user1"])) as client:
        task_id = world["results"].task_ids[0]
        world["labels_before"] = client.get("/api/labels", params={"task_id": task_id}).json()["results"]


@given(parsers.parse("the server's next task is {task_id:d}"))
def next_task(world, task_id):
    # a server that has made tasks before: the simulator's id counter, as CVAT's database sequence
    world["sim"].state._ids["task"] = task_id - 1


@when("I run the guide's example")
@when("I run the example")
def run_example(world, docstring):
    printed = io.StringIO()
    namespace: dict = {}
    with contextlib.redirect_stdout(printed):
        exec(compile(textwrap.dedent(docstring), "<the guide's example>", "exec"), namespace)
    world["printed"] = printed.getvalue()
    world["namespace"] = namespace


def _tasks(world):
    with httpx.Client(base_url=world["sim"].url, auth=("user1", USERS["user1"])) as client:
        return client.get("/api/tasks").json()["results"]


@then("the browser opened the server's address")
def browser_opened(world):
    assert world["opened"] == [world["sim"].url]


@then(parsers.parse('the example\'s "response" lists the run "{key}"\'s task'))
def response_lists(world, key):
    task_ids = world["dataset"].load_annotation_results(key).task_ids
    listed = [task["id"] for task in world["namespace"]["response"]["results"]]
    assert task_ids and set(task_ids) <= set(listed)


@then("the example's API is closed")
def api_closed(world):
    assert world["namespace"]["api"].client.http.is_closed


@then(parsers.parse('the example printed "{text}"'))
def printed(world, text):
    assert text in world["printed"], world["printed"]


@then(
    parsers.parse(
        'the example printed the task, assigned to "{user}", and its {count:d} jobs, each assigned to "{user2}"'
    )
)
def printed_status(world, user, count, user2):
    lines = [line.strip() for line in world["printed"].splitlines()]
    assert sum(line.startswith("Task ") for line in lines) == 1, lines
    assert sum(line.startswith("Job ") for line in lines) == count, lines
    assert lines.count(f"Assignee: {user}") == 1 + count, lines


@then("the server holds no task")
def no_task(world):
    assert _tasks(world) == []


@then(parsers.parse('the example printed the status of the runs "{first}" and "{second}"'))
def printed_runs(world, first, second):
    for key in (first, second):
        for task_id in world["dataset"].load_annotation_results(key).task_ids:
            assert f"Task {task_id} (" in world["printed"], world["printed"]


@then("the server saw one login")
def one_login(world):
    # the two runs' annotate() logged in before the example; the example itself logs in once
    before = 2
    assert len(world["logins"]) == before + 1, world["logins"]


@then(parsers.parse('the example\'s "{name}" is a CVATAnnotationAPI'))
def is_api(world, name):
    assert type(world["namespace"][name]) is CVATAnnotationAPI


@then(parsers.parse('the example\'s "car" is the id of the task\'s label "car"'))
def car_label(world):
    ids = [label["id"] for label in world["labels_before"] if label["name"] == "car"]
    assert ids and world["namespace"]["car"] == ids[0]


@then(parsers.parse('the example\'s "attributes" give each label\'s "label_id" attribute its id'))
def attributes(world):
    attributes = world["namespace"]["attributes"]
    assert attributes and all(isinstance(ids.get("label_id"), int) for ids in attributes.values()), attributes


@then(parsers.parse('the example\'s "files" are the task\'s images, byte for byte, in "{folder}"'))
def files(world, folder):
    files = world["namespace"]["files"]
    originals = sorted(Path(p).read_bytes() for p in _filepaths(world, 2))
    assert sorted(path.read_bytes() for path in files.values()) == originals
    assert all(path.parent == (world["tmp"] / folder).resolve() for path in files.values()), files


def _filepaths(world, count):
    store = world["dataset"].store
    return [sample.filepath for sample in store.get_samples(store.sample_ids()[:count], fields=())]


@then(parsers.parse('the example\'s "stored" holds one shape'))
def stored(world):
    assert len(world["namespace"]["stored"]["shapes"]) == 1


@then(parsers.parse('the example\'s "gone" is true'))
def gone(world):
    assert world["namespace"]["gone"] is True

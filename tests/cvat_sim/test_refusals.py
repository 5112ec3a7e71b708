"""The server itself refuses what CVAT refuses, with CVAT's 400 and DRF's error body, in every mode.

The compiled checks are compared with openapi-core's own schema validator on generated bodies,
and the fast tests of the bulk models never pass an item the checks refuse.
"""

from __future__ import annotations

import copy
import signal
import subprocess
import sys

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_schema_validator import OAS30WriteValidator

from annoflow.adapters.cvat_sim.openapi import shared_schema
from annoflow.adapters.cvat_sim.refusals import FAST, _Compiler
from annoflow.adapters.cvat_sim.server import CvatSimulator
from tests.cvat_sim.conftest import PASSWORD, USER
from tests.cvat_sim.test_server_api import LABELS, _task_with_data
from tests.cvat_sim.test_standalone import _free_port

LONG_NAME = "x" * 5000
TOO_LONG = {"labels": [{"name": ["Ensure this field has no more than 64 characters."]}]}


@pytest.fixture
def client(cvat_sim_unchecked):
    """A token client of a simulator without the test-time validator: every refusal here is the server's."""
    with httpx.Client(base_url=cvat_sim_unchecked.url, timeout=30) as client:
        client.headers["Authorization"] = (
            "Token " + client.post("/api/auth/login", json={"username": USER, "password": PASSWORD}).json()["key"]
        )
        yield client


def _refused(answer: httpx.Response, body) -> None:
    assert (answer.status_code, answer.json()) == (400, body)


def test_lengths_enums_required_fields_and_types(client):
    _refused(client.post("/api/projects", json={"name": "p", "labels": [{"name": LONG_NAME}]}), TOO_LONG)
    assert client.get("/api/projects").json()["count"] == 0  # nothing stored
    _refused(
        client.post("/api/projects", json={"name": "p", "labels": [{"name": "cat"}, {"name": "dog", "type": "bogus"}]}),
        {"labels": [{}, {"type": ['"bogus" is not a valid choice.']}]},
    )
    _refused(client.post("/api/tasks", json={"labels": []}), {"name": ["This field is required."]})
    _refused(client.post("/api/tasks", json={"name": "   ", "labels": []}), {"name": ["This field may not be blank."]})
    _refused(
        client.post("/api/tasks", json={"name": "t", "segment_size": -1, "assignee_id": "bob"}),
        {
            "segment_size": ["Ensure this value is greater than or equal to 0."],
            "assignee_id": ["A valid integer is required."],
        },
    )
    _refused(
        client.post(
            "/api/tasks",
            json={
                "name": "t",
                "labels": [
                    {
                        "name": "cat",
                        "attributes": [
                            {"name": "a", "mutable": "yes", "input_type": "text", "values": ["ok", "y" * 201]}
                        ],
                    }
                ],
            },
        ),
        {
            "labels": [
                {
                    "attributes": [
                        {
                            "mutable": ["Must be a valid boolean."],
                            "values": {"1": ["Ensure this field has no more than 200 characters."]},
                        }
                    ]
                }
            ]
        },
    )
    _refused(
        client.post("/api/tasks", json=[1]),
        {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]},
    )
    _refused(
        client.post("/api/projects", json={"name": "p", "labels": [{"name": "cat"}, {"name": "cat"}]}),
        ["All label names must be unique"],
    )
    assert client.get("/api/tasks").json()["count"] == 0


def test_refusals_come_after_authentication_and_the_lookup(client, cvat_sim_unchecked):
    assert httpx.post(f"{cvat_sim_unchecked.url}/api/projects", json={"name": 5}).status_code == 401
    assert client.patch("/api/tasks/99", json={"name": 5}).status_code == 404


def test_jobs_lists_and_data(client, images, cvat_sim_unchecked):
    task_id = _task_with_data(client, images, segment_size=2)
    job = client.get("/api/jobs", params={"task_id": task_id}).json()["results"][0]
    _refused(
        client.patch(f"/api/jobs/{job['id']}", json={"stage": "done", "assignee": "bob"}),
        {"stage": ['"done" is not a valid choice.'], "assignee": ["A valid integer is required."]},
    )
    _refused(client.get("/api/tasks", params={"project_id": "abc"}), {"project_id": ["Enter a number."]})
    _refused(
        client.get("/api/jobs", params={"stage": "done"}),
        {"stage": ["Select a valid choice. done is not one of the available choices."]},
    )
    fresh = client.post("/api/tasks", json={"name": "t", "labels": LABELS}).json()["id"]

    def files():
        return {f"client_files[{i}]": (p.rsplit("/", 1)[-1], open(p, "rb").read()) for i, p in enumerate(images)}

    _refused(
        client.post(f"/api/tasks/{fresh}/data/", data={"sorting_method": "bogus"}, files=files()),
        {"image_quality": ["This field is required."], "sorting_method": ['"bogus" is not a valid choice.']},
    )
    _refused(
        client.post(f"/api/tasks/{fresh}/data/", data={"image_quality": "101"}, files=files()),
        {"image_quality": ["Ensure this value is less than or equal to 100."]},
    )
    _refused(
        client.post(f"/api/tasks/{fresh}/data/", data={"image_quality": "high"}, files=files()),
        {"image_quality": ["A valid integer is required."]},
    )
    assert cvat_sim_unchecked.state.uploads.get(fresh, []) == []  # refused before any file is kept
    frame = f"/api/tasks/{task_id}/data"
    _refused(client.get(frame, params={"type": "bogus", "number": 0}), ["Data type not specified or has wrong value"])
    _refused(client.get(frame, params={"type": "frame"}), ["Number is not specified"])
    _refused(client.get(frame, params={"type": "frame", "number": 0, "quality": "best"}), ["Wrong quality value"])
    rq_id = client.post(f"/api/tasks/{fresh}/data/", data={"image_quality": "70"}, files=files()).json()["rq_id"]
    assert client.get(f"/api/requests/{rq_id}").json()["status"] == "finished"


def test_annotations(client, images):
    task_id = _task_with_data(client, images, segment_size=2)
    cat = next(
        label
        for label in client.get("/api/labels", params={"task_id": task_id}).json()["results"]
        if label["name"] == "cat"
    )
    good = {"type": "rectangle", "frame": 0, "label_id": cat["id"], "points": [0, 0, 2, 2]}
    url = f"/api/tasks/{task_id}/annotations"
    _refused(
        client.put(url, json={"shapes": [good, {**good, "points": [0, 0, 2]}, {**good, "frame": -1, "rotation": 400}]}),
        {
            "shapes": [
                {},
                {"points": ["invalid length for shape type 'rectangle'"]},
                {
                    "frame": ["Ensure this value is greater than or equal to 0."],
                    "rotation": ["Ensure this value is less than or equal to 360."],
                },
            ]
        },
    )
    _refused(
        client.put(url, json={"shapes": [{**good, "points": [0, "a", 1, 1]}]}),
        {"shapes": [{"points": {"1": ["Value must be a float or an integer"]}}]},
    )
    _refused(
        client.put(
            url,
            json={
                "tags": [
                    {
                        "frame": 0,
                        "label_id": cat["id"],
                        "attributes": [{"spec_id": cat["attributes"][0]["id"], "value": "v" * 4097}],
                    }
                ]
            },
        ),
        {"tags": [{"attributes": [{"value": ["Ensure this field has no more than 4096 characters."]}]}]},
    )
    _refused(client.put(url, json={"shapes": [{**good, "label_id": 999}]}), ["label_id `999` is invalid"])
    _refused(
        client.put(url, json={"tracks": [{"frame": 0, "label_id": cat["id"], "shapes": [{"frame": 0, "points": []}]}]}),
        {"tracks": [{"shapes": [{"type": ["This field is required."]}]}]},
    )
    _refused(
        client.patch(url, params={"action": "bogus"}, json={}), ["Please specify a correct 'action' for the request"]
    )
    _refused(
        client.patch(url, params={"action": "create"}, json={"shapes": [{**good, "id": 5}]}),
        {"shapes": [{"id": ["must be absent"]}]},
    )
    _refused(
        client.patch(url, params={"action": "delete"}, json={"shapes": [good]}),
        {"shapes": [{"id": ["must be present and not null"]}]},
    )
    assert client.get(url).json()["shapes"] == []
    assert client.put(url, json={"shapes": [good]}).status_code == 200


def test_the_standalone_server_refuses_too(tmp_path):
    """The demo's `annoflow-cvat-sim` stored a 5,000-character label name: no more, with or without a data dir."""
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "annoflow.adapters.cvat_sim.cli",
            "--port",
            str(port),
            "--user",
            "alice:pw",
            "--data-dir",
            str(tmp_path / "sim"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        process.stdout.readline()
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            client.headers["Authorization"] = (
                "Token " + client.post("/api/auth/login", json={"username": "alice", "password": "pw"}).json()["key"]
            )
            _refused(client.post("/api/tasks", json={"name": "t", "labels": [{"name": LONG_NAME}]}), TOO_LONG)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
    with CvatSimulator(users={"bob": "pw"}, on_exchange=lambda exchange: None).serve() as sim:
        answer = httpx.post(
            f"{sim.url}/api/projects", auth=("bob", "pw"), json={"name": "p", "labels": [{"name": LONG_NAME}]}
        )
        _refused(answer, TOO_LONG)


# --- the compiled checks against openapi-core's validator ------------------------------------------

SPEC = shared_schema()
SHAPE = {
    "type": "rectangle",
    "frame": 0,
    "label_id": 1,
    "points": [0, 0, 1.5, 1],
    "attributes": [{"spec_id": 1, "value": "v"}],
    "group": 0,
    "source": "manual",
    "occluded": False,
    "outside": False,
    "z_order": 0,
    "rotation": 0,
    "id": None,
    "elements": [],
}
EXAMPLES = {
    "PatchedLabelRequest": {
        "name": "cat",
        "type": "rectangle",
        "color": "#fff",
        "attributes": [
            {"name": "a", "mutable": True, "input_type": "select", "values": ["x", "y"], "default_value": "x"}
        ],
    },
    "TaskWriteRequest": {
        "name": "t",
        "labels": [{"name": "cat"}],
        "segment_size": 10,
        "project_id": None,
        "overlap": None,
        "assignee_id": None,
        "bug_tracker": "",
        "subset": "",
        "target_storage": {"location": "local"},
    },
    "ProjectWriteRequest": {"name": "p", "labels": [{"name": "cat"}], "assignee_id": 2, "bug_tracker": "b"},
    "PatchedJobWriteRequest": {"assignee": 1, "stage": "annotation", "state": "new"},
    "DataRequest": {
        "image_quality": 70,
        "chunk_size": 36,
        "sorting_method": "natural",
        "use_cache": True,
        "start_frame": 0,
        "upload_file_order": ["a.jpg"],
        "frame_filter": "step=2",
        "validation_params": None,
    },
    "LabeledShapeRequest": SHAPE,
    "LabeledImageRequest": {"frame": 0, "label_id": 1, "group": None, "source": "manual", "attributes": [], "id": 3},
    "LabeledTrackRequest": {
        "frame": 0,
        "label_id": 1,
        "group": 0,
        "attributes": [],
        "shapes": [
            {
                "type": "points",
                "frame": 0,
                "points": [1, 2],
                "outside": False,
                "attributes": [{"spec_id": 2, "value": ""}],
            }
        ],
    },
}
_WORDS = st.text(alphabet="abcXYZ_09-", min_size=1, max_size=3)  # no whitespace: DRF's trimming is tested above
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from([2**31, 400, 360, 101]),
    st.floats(-1, 500, allow_nan=False),
    _WORDS,
    st.sampled_from(["", "rectangle", "points", "local", "annotation", "new", "natural", "x" * 65, "x" * 257]),
    st.sampled_from(["y" * 201, "z" * 4097]),
)
_VALUES = st.one_of(_SCALARS, st.lists(_SCALARS, max_size=3), st.dictionaries(_WORDS, _SCALARS, max_size=2))


def _paths(value, path=()):
    yield path
    if isinstance(value, dict):
        for key, sub in value.items():
            yield from _paths(sub, (*path, key))
    elif isinstance(value, list):
        for index, sub in enumerate(value):
            yield from _paths(sub, (*path, index))


@st.composite
def _mutated(draw, model: str):
    body = copy.deepcopy(EXAMPLES[model])
    for _ in range(draw(st.integers(0, 2))):
        paths = list(_paths(body))
        path = draw(st.sampled_from(paths))
        if not path:
            continue
        parent = body
        for step in path[:-1]:
            parent = parent[step]
        if isinstance(parent, dict) and draw(st.booleans()) and draw(st.booleans()):
            del parent[path[-1]]  # a field left out
        else:
            parent[path[-1]] = draw(_VALUES)
    return body


def _schema_checks(model: str):
    compiler = _Compiler(SPEC["components"]["schemas"], validate={})  # the schema alone, without validate()
    return compiler.ref(model), OAS30WriteValidator(
        {"$ref": f"#/components/schemas/{model}", "components": SPEC["components"]}
    )


@pytest.mark.parametrize("model", sorted(EXAMPLES))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_compiled_checks_refuse_what_the_schema_refuses(model, data):
    check, oracle = _schema_checks(model)
    body = data.draw(_mutated(model))
    assert (check(body) is None) == oracle.is_valid(body), (body, check(body))


@pytest.mark.parametrize("model", sorted(FAST))
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_a_fast_test_passes_nothing_the_checks_refuse(model, data):
    check = _Compiler(SPEC["components"]["schemas"]).ref(model)
    example = EXAMPLES.get(model) or EXAMPLES["LabeledTrackRequest"]["shapes"][0]
    assert FAST[model](example) and check(example) is None  # the usual item takes the fast way
    body = copy.deepcopy(example)
    mutated = (
        data.draw(_mutated(model))
        if model in EXAMPLES
        else {**body, data.draw(st.sampled_from(sorted(body))): data.draw(_VALUES)}
    )
    if FAST[model](mutated):
        assert check(mutated) is None, mutated

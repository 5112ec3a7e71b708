"""A label's type (what annotators may draw with it) is stored and read back as CVAT 2.52 does.

CVAT's LabelSerializer takes ``type`` from its LabelType choices, defaults to ``any`` and
answers it on every label read; annoflow reads it to tell which fields a project's label
serves. CVAT does not check it when annotations are saved (its UI does), nor does the simulator.
"""

from __future__ import annotations

import httpx

from tests.cvat_sim.conftest import PASSWORD, USER

# CVAT's LabelType choices; a skeleton also needs its sublabels and svg, so it is left out here.
TYPES = ["any", "rectangle", "polygon", "polyline", "points", "ellipse", "cuboid", "mask", "tag", "skeleton"]


def test_a_label_s_type_is_kept_and_defaults_to_any(cvat_sim, api):
    labels = [{"name": "untyped"}] + [{"name": f"a_{kind}", "type": kind} for kind in TYPES if kind != "skeleton"]
    project = api.post("/api/projects", json={"name": "typed", "labels": labels})
    assert project.status_code == 201
    read = api.get("/api/labels", params={"project_id": project.json()["id"], "page_size": 100}).json()["results"]
    assert {label["name"]: label["type"] for label in read} == {
        "untyped": "any",
        **{f"a_{kind}": kind for kind in TYPES if kind != "skeleton"},
    }
    one = next(label for label in read if label["name"] == "a_tag")
    assert api.get(f"/api/labels/{one['id']}").json()["type"] == "tag"


def test_a_label_type_cvat_does_not_know_is_refused(cvat_sim_unchecked):
    client = httpx.Client(base_url=cvat_sim_unchecked.url)
    client.headers["Authorization"] = (
        "Token " + client.post("/api/auth/login", json={"username": USER, "password": PASSWORD}).json()["key"]
    )
    answer = client.post("/api/projects", json={"name": "bad", "labels": [{"name": "car", "type": "box"}]})
    assert answer.status_code == 400 and cvat_sim_unchecked.state.projects == {}

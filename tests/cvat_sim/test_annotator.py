"""The scripted annotator edits through the REST API as CVAT's UI does."""

from __future__ import annotations

from annoflow.adapters.cvat_sim.annotator import ScriptedAnnotator
from tests.cvat_sim.conftest import PASSWORD, USER
from tests.cvat_sim.test_server_api import _task_with_data

LABEL_ID = "0123456789abcdef01234567"


def test_add_move_attribute_relabel_delete(cvat_sim, api, images):
    task_id = _task_with_data(api, images)
    with ScriptedAnnotator(cvat_sim.url, USER, PASSWORD) as annotator:
        shape = annotator.add_shape(task_id, "cat", 0, "rectangle", [1, 1, 10, 10], attributes={"label_id": LABEL_ID})
        annotator.move_shape(task_id, shape, [2, 2, 12, 12])
        annotator.set_attribute(task_id, shape, "iscrowd", "true")
        annotator.set_flags(task_id, shape, occluded=True, group=4)
        (stored,) = annotator.annotations(task_id)["shapes"]
        assert stored["points"] == [2, 2, 12, 12] and stored["occluded"] and stored["group"] == 4
        assert {a["value"] for a in stored["attributes"]} == {LABEL_ID, "true"}
        # "dog" has another attribute schema: CVAT clears the attributes, label_id included
        annotator.relabel(task_id, shape, "dog")
        (relabelled,) = annotator.annotations(task_id)["shapes"]
        assert relabelled["attributes"] == [] and relabelled["id"] == shape
        tag = annotator.add_tag(task_id, "dog", 1)
        annotator.delete(task_id, shape)
        annotator.delete(task_id, tag, kind="tags")
        left = annotator.annotations(task_id)
        assert left["shapes"] == [] and left["tags"] == []


def test_split_and_merge_tracks(cvat_sim, api, images):
    task_id = _task_with_data(api, images)
    labels = {label["name"]: label for label in api.get("/api/labels", params={"task_id": task_id}).json()["results"]}
    spec = labels["cat"]["attributes"][0]["id"]
    track = {
        "frame": 0,
        "label_id": labels["cat"]["id"],
        "attributes": [{"spec_id": spec, "value": LABEL_ID}],
        "shapes": [{"type": "rectangle", "frame": f, "points": [f, f, f + 5, f + 5]} for f in (0, 2, 4)],
    }
    track_id = api.patch(
        f"/api/tasks/{task_id}/annotations",
        params={"action": "create"},
        json={"tags": [], "shapes": [], "tracks": [track]},
    ).json()["tracks"][0]["id"]
    with ScriptedAnnotator(cvat_sim.url, USER, PASSWORD) as annotator:
        first, second = annotator.split_track(task_id, track_id, 3)
        tracks = {t["id"]: t for t in annotator.annotations(task_id)["tracks"]}
        # as in CVAT's UI: the track is deleted and two new ones made, cut where the object is on frame 3
        assert set(tracks) == {first, second} and track_id not in tracks
        assert [(s["frame"], s["outside"], s["points"]) for s in tracks[first]["shapes"]] == [
            (0, False, [0, 0, 5, 5]),
            (2, False, [2, 2, 7, 7]),
            (3, True, [3.0, 3.0, 8.0, 8.0]),
        ]
        assert [(s["frame"], s["points"]) for s in tracks[second]["shapes"]] == [
            (3, [3.0, 3.0, 8.0, 8.0]),
            (4, [4, 4, 9, 9]),
        ]
        assert tracks[first]["attributes"] == tracks[second]["attributes"]  # label_id duplicated
        merged = annotator.merge_tracks(task_id, [first, second])
        (only,) = annotator.annotations(task_id)["tracks"]
        assert only["id"] == merged and merged not in (first, second)
        assert [(s["frame"], s["outside"]) for s in only["shapes"]] == [(0, False), (2, False), (3, False), (4, False)]

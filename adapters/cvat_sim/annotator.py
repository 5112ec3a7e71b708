"""A scripted annotator: edits a task's annotations through the REST API, as CVAT's UI does.

It works against any CVAT (the simulator or a real server). Like the UI, it
sends PATCH requests with ``action=create|update|delete``, and when a shape's
class changes to one whose attribute schema differs, it clears the shape's
attributes (the ``label_id`` provenance attribute included), which is the
CVAT behaviour FiftyOne's CVAT guide, "CVAT limitations" section warns about.
"""

from __future__ import annotations

from typing import Any

import httpx


class ScriptedAnnotator:
    def __init__(self, url: str, username: str, password: str, *, organization: str | None = None) -> None:
        self.client = httpx.Client(base_url=url, timeout=60)
        if organization:
            self.client.headers["X-Organization"] = organization
        answer = self.client.post("/api/auth/login", json={"username": username, "password": password})
        answer.raise_for_status()
        self.client.headers["Authorization"] = f"Token {answer.json()['key']}"

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> ScriptedAnnotator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- reading --------------------------------------------------------------------

    def annotations(self, task_id: int) -> dict[str, Any]:
        answer = self.client.get(f"/api/tasks/{task_id}/annotations")
        answer.raise_for_status()
        return answer.json()

    def labels(self, task_id: int) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        url: str | None = f"/api/labels?task_id={task_id}&page_size=100"
        while url:
            page = self.client.get(url).json()
            found.update({label["name"]: label for label in page["results"]})
            url = page["next"]
        return found

    def _spec(self, label: dict[str, Any], name: str) -> int:
        for attribute in label["attributes"]:
            if attribute["name"] == name:
                return attribute["id"]
        raise KeyError(f"label {label['name']!r} has no attribute {name!r}")

    def _find(self, task_id: int, kind: str, object_id: int) -> dict[str, Any]:
        for obj in self.annotations(task_id)[kind]:
            if obj["id"] == object_id:
                return obj
        raise KeyError(f"task {task_id} has no {kind[:-1]} {object_id}")

    def _patch(self, task_id: int, action: str, kind: str, objects: list[dict[str, Any]]) -> dict[str, Any]:
        body = {"version": 0, "tags": [], "shapes": [], "tracks": [], kind: objects}
        answer = self.client.patch(f"/api/tasks/{task_id}/annotations", params={"action": action}, json=body)
        answer.raise_for_status()
        return answer.json()

    # --- shapes and tags --------------------------------------------------------------

    def add_shape(
        self,
        task_id: int,
        label: str,
        frame: int,
        shape_type: str,
        points: list[float],
        *,
        attributes: dict[str, str] | None = None,
        occluded: bool = False,
        group: int = 0,
    ) -> int:
        spec = self.labels(task_id)[label]
        shape = {
            "type": shape_type,
            "frame": frame,
            "label_id": spec["id"],
            "points": points,
            "occluded": occluded,
            "group": group,
            "source": "manual",
            "attributes": [{"spec_id": self._spec(spec, k), "value": v} for k, v in (attributes or {}).items()],
        }
        return self._patch(task_id, "create", "shapes", [shape])["shapes"][0]["id"]

    def add_tag(self, task_id: int, label: str, frame: int, *, attributes: dict[str, str] | None = None) -> int:
        spec = self.labels(task_id)[label]
        tag = {
            "frame": frame,
            "label_id": spec["id"],
            "source": "manual",
            "attributes": [{"spec_id": self._spec(spec, k), "value": v} for k, v in (attributes or {}).items()],
        }
        return self._patch(task_id, "create", "tags", [tag])["tags"][0]["id"]

    def move_shape(self, task_id: int, shape_id: int, points: list[float]) -> None:
        shape = self._find(task_id, "shapes", shape_id)
        self._patch(task_id, "update", "shapes", [{**shape, "points": points}])

    def set_attribute(self, task_id: int, shape_id: int, name: str, value: str, *, kind: str = "shapes") -> None:
        obj = self._find(task_id, kind, shape_id)
        label = next(candidate for candidate in self.labels(task_id).values() if candidate["id"] == obj["label_id"])
        spec_id = self._spec(label, name)
        values = [a for a in obj["attributes"] if a["spec_id"] != spec_id] + [{"spec_id": spec_id, "value": value}]
        self._patch(task_id, "update", kind, [{**obj, "attributes": values}])

    def set_flags(self, task_id: int, shape_id: int, *, occluded: bool | None = None, group: int | None = None) -> None:
        shape = self._find(task_id, "shapes", shape_id)
        if occluded is not None:
            shape["occluded"] = occluded
        if group is not None:
            shape["group"] = group
        self._patch(task_id, "update", "shapes", [shape])

    def relabel(self, task_id: int, object_id: int, new_label: str, *, kind: str = "shapes") -> None:
        """Change the class; attributes go when the new class's attribute schema differs (as in CVAT)."""
        labels = self.labels(task_id)
        obj = self._find(task_id, kind, object_id)
        old = next(label for label in labels.values() if label["id"] == obj["label_id"])
        new = labels[new_label]

        def schema(label: dict[str, Any]) -> list[tuple[str, str, tuple[str, ...]]]:
            return sorted((a["name"], a["input_type"], tuple(a["values"])) for a in label["attributes"])

        if schema(old) == schema(new):
            by_name = {a["name"]: a["id"] for a in new["attributes"]}
            old_names = {a["id"]: a["name"] for a in old["attributes"]}
            attributes = [{"spec_id": by_name[old_names[a["spec_id"]]], "value": a["value"]} for a in obj["attributes"]]
        else:
            attributes = []
        self._patch(task_id, "update", kind, [{**obj, "label_id": new["id"], "attributes": attributes}])

    def delete(self, task_id: int, object_id: int, *, kind: str = "shapes") -> None:
        self._patch(task_id, "delete", kind, [self._find(task_id, kind, object_id)])

    # --- tracks -------------------------------------------------------------------------

    def add_track(
        self,
        task_id: int,
        label: str,
        keyframes: dict[int, list[float]],
        *,
        shape_type: str = "rectangle",
        outside: int | None = None,
        attributes: dict[str, str] | None = None,
    ) -> int:
        """Draw a track: a shape on each keyframe (frame -> points), closed by an outside shape on frame
        ``outside`` (None: it runs to the end of the task, as one the annotator never hid). Attributes go on
        the track when immutable and on its first shape when mutable, as CVAT's UI keeps them."""
        spec = self.labels(task_id)[label]
        mutable = {a["name"]: a["mutable"] for a in spec["attributes"]}
        given = [(self._spec(spec, k), v, mutable[k]) for k, v in (attributes or {}).items()]
        frames = sorted(keyframes)
        shapes = [
            {
                "type": shape_type,
                "frame": frame,
                "points": keyframes[frame],
                "occluded": False,
                "outside": False,
                "z_order": 0,
                "rotation": 0.0,
                "attributes": [{"spec_id": s, "value": v} for s, v, m in given if m] if frame == frames[0] else [],
            }
            for frame in frames
        ]
        if outside is not None:
            shapes.append({**shapes[-1], "frame": outside, "outside": True, "attributes": []})
        track = {
            "frame": frames[0],
            "label_id": spec["id"],
            "group": 0,
            "source": "manual",
            "shapes": shapes,
            "attributes": [{"spec_id": s, "value": v} for s, v, m in given if not m],
        }
        return self._patch(task_id, "create", "tracks", [track])["tracks"][0]["id"]

    def move_keyframe(self, task_id: int, track_id: int, frame: int, points: list[float]) -> None:
        """Move a track on ``frame``: its keyframe there, made one if the frame was interpolated."""
        track = self._find(task_id, "tracks", track_id)
        shapes = [s for s in track["shapes"] if s["frame"] != frame]
        before = max((s for s in shapes if s["frame"] < frame), key=lambda s: s["frame"], default=shapes[0])
        current = next((s for s in track["shapes"] if s["frame"] == frame), None)
        shape = {
            **(current or {k: v for k, v in before.items() if k != "id"}),
            "frame": frame,
            "points": points,
            "outside": False,
        }
        if current is None:
            shape["attributes"] = []
        self._patch(
            task_id, "update", "tracks", [{**track, "shapes": sorted([*shapes, shape], key=lambda s: s["frame"])}]
        )

    def _mutable(self, task_id: int, label_id: int) -> set[int]:
        label = next(candidate for candidate in self.labels(task_id).values() if candidate["id"] == label_id)
        return {a["id"] for a in label["attributes"] if a["mutable"]}

    def split_track(self, task_id: int, track_id: int, frame: int) -> tuple[int, int]:
        """Cut a track at ``frame`` as CVAT's UI does (cvat-core's ``split``): the track is deleted and two
        new ones made, the first ending with an outside shape on ``frame``, the second starting there with
        the object as it is on that frame (its keyframe, or a rectangle interpolated linearly), each with
        the mutable attributes in effect there (a ``label_id`` is copied onto both). Returns their ids."""
        track = self._find(task_id, "tracks", track_id)
        shapes = sorted(track["shapes"], key=lambda s: s["frame"])
        if frame <= shapes[0]["frame"]:
            raise ValueError(f"frame {frame} does not split track {track_id}")
        mutable = self._mutable(task_id, track["label_id"])
        in_effect = _in_effect(shapes, frame, mutable)
        position = {key: value for key, value in self._position(shapes, frame).items() if key != "id"}
        position.update(frame=frame, attributes=[{"spec_id": k, "value": v} for k, v in in_effect.items()])
        strip = [{k: v for k, v in s.items() if k != "id"} for s in shapes]
        common = {
            "label_id": track["label_id"],
            "group": 0,
            "source": "manual",
            "attributes": track["attributes"],
            "elements": [],
        }
        prev = {
            **common,
            "frame": track["frame"],
            "shapes": [s for s in strip if s["frame"] < frame] + [{**position, "outside": True}],
        }
        nxt = {**common, "frame": frame, "shapes": [position] + [s for s in strip if s["frame"] > frame]}
        self._patch(task_id, "delete", "tracks", [track])
        created = self._patch(task_id, "create", "tracks", [prev, nxt])["tracks"]
        return created[0]["id"], created[1]["id"]

    @staticmethod
    def _position(shapes: list[dict[str, Any]], frame: int) -> dict[str, Any]:
        """The track's shape on ``frame``: its keyframe there, else (rectangles) linear between the two around it."""
        at = next((s for s in shapes if s["frame"] == frame), None)
        if at is not None:
            return dict(at)
        before = max((s for s in shapes if s["frame"] < frame), key=lambda s: s["frame"])
        after = min((s for s in shapes if s["frame"] > frame), key=lambda s: s["frame"], default=None)
        if after is None or before["outside"]:
            return {**before, "outside": before["outside"]}
        if before["type"] != "rectangle":
            raise ValueError("the scripted annotator splits other shapes only on a keyframe")
        offset = (frame - before["frame"]) / (after["frame"] - before["frame"])
        return {
            **before,
            "points": [a + (b - a) * offset for a, b in zip(before["points"], after["points"], strict=True)],
        }

    def merge_tracks(self, task_id: int, track_ids: list[int]) -> int:
        """Join tracks as CVAT's UI does (cvat-core's ``merge``): one new track holds every keyframe (a
        visible shape wins a frame over an outside one; two visible shapes on one frame are refused, as
        CVAT refuses them), each keyframe with the mutable attributes in effect when any changed, the
        first track's immutable attributes; the tracks merged are deleted. Returns the new track's id."""
        tracks = [self._find(task_id, "tracks", t) for t in track_ids]
        mutable = self._mutable(task_id, tracks[0]["label_id"])
        keyframes: dict[int, dict[str, Any]] = {}
        for track in tracks:
            keyframes.update(_keyframes_joined(track, keyframes, track_ids))
        ordered = [keyframes[f] for f in sorted(keyframes)]
        while ordered and ordered[0]["outside"]:
            ordered.pop(0)  # leading outside shapes go
        merged = {
            "frame": ordered[0]["frame"],
            "label_id": tracks[0]["label_id"],
            "group": 0,
            "source": "manual",
            "shapes": ordered,
            "elements": [],
            "attributes": [a for a in tracks[0]["attributes"] if a["spec_id"] not in mutable],
        }
        self._patch(task_id, "delete", "tracks", tracks)
        return self._patch(task_id, "create", "tracks", [merged])["tracks"][0]["id"]


def _keyframes_joined(
    track: dict[str, Any], keyframes: dict[int, dict[str, Any]], track_ids: list[int]
) -> dict[int, dict[str, Any]]:
    """A track's keyframes to add to those of the tracks merged before it (``keyframes``): a visible shape
    wins a frame over an outside one, two visible shapes on one frame are refused; each keyframe carries
    the track's mutable attributes in effect when any of them changed there."""
    added: dict[int, dict[str, Any]] = {}
    running: dict[int, str] = {}
    for shape in sorted(track["shapes"], key=lambda s: s["frame"]):
        held = added.get(shape["frame"]) or keyframes.get(shape["frame"])
        if held is not None and not held["outside"]:
            if shape["outside"]:
                continue
            raise ValueError(f"tracks {track_ids} both show the object on frame {shape['frame']}")
        updated = False
        for item in shape["attributes"]:
            if running.get(item["spec_id"]) != item["value"]:
                updated = True
                running[item["spec_id"]] = item["value"]
        added[shape["frame"]] = {
            **{k: v for k, v in shape.items() if k != "id"},
            "attributes": [{"spec_id": k, "value": v} for k, v in running.items()] if updated else [],
        }
    return added


def _in_effect(shapes: list[dict[str, Any]], frame: int, mutable: set[int]) -> dict[int, str]:
    """The mutable attributes' values in effect on ``frame``: each as its last keyframe up to there set it."""
    in_effect: dict[int, str] = {}
    for shape in shapes:
        if shape["frame"] <= frame:
            in_effect.update({a["spec_id"]: a["value"] for a in shape["attributes"] if a["spec_id"] in mutable})
    return in_effect

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

    def __enter__(self) -> "ScriptedAnnotator":
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

    def add_shape(self, task_id: int, label: str, frame: int, shape_type: str, points: list[float], *,
                  attributes: dict[str, str] | None = None, occluded: bool = False, group: int = 0) -> int:
        spec = self.labels(task_id)[label]
        shape = {
            "type": shape_type, "frame": frame, "label_id": spec["id"], "points": points, "occluded": occluded,
            "group": group, "source": "manual",
            "attributes": [{"spec_id": self._spec(spec, k), "value": v} for k, v in (attributes or {}).items()],
        }
        return self._patch(task_id, "create", "shapes", [shape])["shapes"][0]["id"]

    def add_tag(self, task_id: int, label: str, frame: int, *, attributes: dict[str, str] | None = None) -> int:
        spec = self.labels(task_id)[label]
        tag = {"frame": frame, "label_id": spec["id"], "source": "manual",
               "attributes": [{"spec_id": self._spec(spec, k), "value": v} for k, v in (attributes or {}).items()]}
        return self._patch(task_id, "create", "tags", [tag])["tags"][0]["id"]

    def move_shape(self, task_id: int, shape_id: int, points: list[float]) -> None:
        shape = self._find(task_id, "shapes", shape_id)
        self._patch(task_id, "update", "shapes", [{**shape, "points": points}])

    def set_attribute(self, task_id: int, shape_id: int, name: str, value: str, *, kind: str = "shapes") -> None:
        obj = self._find(task_id, kind, shape_id)
        label = next(l for l in self.labels(task_id).values() if l["id"] == obj["label_id"])
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
        old = next(l for l in labels.values() if l["id"] == obj["label_id"])
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

    def add_track(self, task_id: int, label: str, keyframes: dict[int, list[float]], *, shape_type: str = "rectangle",
                  outside: int | None = None, attributes: dict[str, str] | None = None) -> int:
        """Draw a track: a shape on each keyframe (frame -> points), closed by an outside shape on frame
        ``outside`` (None: it runs to the end of the task, as one the annotator never hid). Attributes go on
        the track when immutable and on its first shape when mutable, as CVAT's UI keeps them."""
        spec = self.labels(task_id)[label]
        mutable = {a["name"]: a["mutable"] for a in spec["attributes"]}
        given = [(self._spec(spec, k), v, mutable[k]) for k, v in (attributes or {}).items()]
        frames = sorted(keyframes)
        shapes = [{"type": shape_type, "frame": frame, "points": keyframes[frame], "occluded": False, "outside": False,
                   "z_order": 0, "rotation": 0.0,
                   "attributes": [{"spec_id": s, "value": v} for s, v, m in given if m] if frame == frames[0] else []}
                  for frame in frames]
        if outside is not None:
            shapes.append({**shapes[-1], "frame": outside, "outside": True, "attributes": []})
        track = {"frame": frames[0], "label_id": spec["id"], "group": 0, "source": "manual", "shapes": shapes,
                 "attributes": [{"spec_id": s, "value": v} for s, v, m in given if not m]}
        return self._patch(task_id, "create", "tracks", [track])["tracks"][0]["id"]

    def move_keyframe(self, task_id: int, track_id: int, frame: int, points: list[float]) -> None:
        """Move a track on ``frame``: its keyframe there, made one if the frame was interpolated."""
        track = self._find(task_id, "tracks", track_id)
        shapes = [s for s in track["shapes"] if s["frame"] != frame]
        before = max((s for s in shapes if s["frame"] < frame), key=lambda s: s["frame"], default=shapes[0])
        current = next((s for s in track["shapes"] if s["frame"] == frame), None)
        shape = {**(current or {k: v for k, v in before.items() if k != "id"}), "frame": frame, "points": points,
                 "outside": False}
        if current is None:
            shape["attributes"] = []
        self._patch(task_id, "update", "tracks", [{**track, "shapes": sorted(shapes + [shape], key=lambda s: s["frame"])}])

    def split_track(self, task_id: int, track_id: int, frame: int) -> tuple[int, int]:
        """Cut a track at ``frame``: the first part ends there, the second starts there.

        Both parts keep the track's attributes, so a ``label_id`` is duplicated, as in CVAT.
        """
        track = self._find(task_id, "tracks", track_id)
        before = [s for s in track["shapes"] if s["frame"] < frame]
        after = [s for s in track["shapes"] if s["frame"] >= frame]
        if not before or not after:
            raise ValueError(f"frame {frame} does not split track {track_id}")
        closing = {**before[-1], "frame": frame, "outside": True}
        closing.pop("id", None)
        first = {**track, "shapes": before + [closing]}
        second = {key: value for key, value in track.items() if key != "id"}
        second["frame"] = after[0]["frame"]
        second["shapes"] = [{k: v for k, v in s.items() if k != "id"} for s in after]
        self._patch(task_id, "update", "tracks", [first])
        created = self._patch(task_id, "create", "tracks", [second])["tracks"][0]["id"]
        return track_id, created

    def merge_tracks(self, task_id: int, track_ids: list[int]) -> int:
        """Join tracks into the first one; the others' attributes are lost, as in CVAT."""
        tracks = [self._find(task_id, "tracks", t) for t in track_ids]
        shapes = sorted((s for t in tracks for s in t["shapes"]), key=lambda s: s["frame"])
        merged: dict[int, dict[str, Any]] = {}
        for shape in shapes:
            merged[shape["frame"]] = shape  # a later track's shape wins a shared frame
        first = {**tracks[0], "frame": min(merged), "shapes": list(merged.values())}
        self._patch(task_id, "update", "tracks", [first])
        self._patch(task_id, "delete", "tracks", tracks[1:])
        return tracks[0]["id"]

"""Annotations of tasks and jobs: GET, PUT, PATCH (create, update, delete), DELETE.

As CVAT does, the server assigns ids (a PUT replaces everything with new
ids), checks labels, attribute specs and frames, and a job sees and changes
only its own frame range.
"""

from __future__ import annotations

import copy
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from annoflow.adapters.cvat_sim.http import context, cvat_json, json_body
from annoflow.adapters.cvat_sim.resources import get_job, get_task, labels_of_task
from annoflow.adapters.cvat_sim.state import SimState, bad_request, now
from annoflow.adapters.paused_gc import paused_gc

SHAPE_TYPES = frozenset({"rectangle", "polygon", "polyline", "points", "ellipse", "cuboid", "mask", "skeleton"})
SOURCES = frozenset({"manual", "semi-auto", "auto", "file", "consensus"})
KINDS = ("tags", "shapes", "tracks")
_NUMBER_TYPES = frozenset({int, float})


class _Checker:
    """Checks objects against a task's labels and a frame range, filling CVAT's defaults."""

    def __init__(self, state: SimState, task: dict[str, Any], first: int, last: int) -> None:
        self.state = state
        self.first, self.last = first, last
        self.specs: dict[int, set[int]] = {
            label["id"]: {a["id"] for a in label["attributes"]} for label in labels_of_task(state, task)
        }

    def _common(self, obj: Any, kind: str) -> dict[str, Any]:
        if not isinstance(obj, dict):
            raise bad_request(kind, "Expected a dictionary of items")
        label_id = obj.get("label_id")
        if label_id not in self.specs:
            raise bad_request(kind, f"label_id {label_id!r} is not a label of this task")
        frame = obj.get("frame")
        if not isinstance(frame, int) or not self.first <= frame <= self.last:
            raise bad_request(kind, f"frame {frame!r} is outside the frame range [{self.first}, {self.last}]")
        source = obj.get("source", "manual")
        if source not in SOURCES:
            raise bad_request(kind, f'"{source}" is not a valid choice.')
        return {
            "frame": frame, "label_id": label_id, "group": obj.get("group", 0), "source": source,
            "attributes": self._attributes(obj.get("attributes", []), label_id, kind),
        }

    def _attributes(self, values: Any, label_id: int, kind: str) -> list[dict[str, Any]]:
        if not isinstance(values, list):
            raise bad_request(kind, "attributes must be a list")
        specs = self.specs[label_id]
        out = []
        for item in values:
            if not isinstance(item, dict) or type(value := item.get("value")) is not str:
                raise bad_request(kind, "an attribute value is {spec_id, value} with a string value")
            if (spec_id := item.get("spec_id")) not in specs:
                raise bad_request(kind, f"spec_id {spec_id!r} is not an attribute of label {label_id}")
            out.append({"spec_id": spec_id, "value": value})
        return out

    def _geometry(self, obj: dict[str, Any], kind: str, label_id: int) -> dict[str, Any]:
        shape_type = obj.get("type")
        if shape_type not in SHAPE_TYPES:
            raise bad_request(kind, f'"{shape_type}" is not a valid choice.')
        points = obj.get("points", [])
        # JSON numbers decode to exactly int or float (a bool is neither here).
        if not isinstance(points, list) or not _NUMBER_TYPES.issuperset(map(type, points)):
            raise bad_request(kind, "points must be a list of numbers")
        if shape_type == "mask":
            _check_mask(points, kind)
        elif shape_type == "rectangle" and len(points) != 4:
            raise bad_request(kind, "a rectangle has 4 points: x1, y1, x2, y2")
        elif len(points) % 2:
            raise bad_request(kind, "points come in x, y pairs")
        return {
            "type": shape_type, "occluded": bool(obj.get("occluded", False)), "outside": bool(obj.get("outside", False)),
            "z_order": int(obj.get("z_order", 0)), "rotation": float(obj.get("rotation", 0.0)), "points": points,
        }

    def tag(self, obj: Any) -> dict[str, Any]:
        return self._common(obj, "tags")

    def shape(self, obj: Any) -> dict[str, Any]:
        common = self._common(obj, "shapes")
        checked = self._geometry(obj, "shapes", common["label_id"])
        checked.update(common)
        checked["elements"] = []
        return checked

    def track(self, obj: Any) -> dict[str, Any]:
        common = self._common(obj, "tracks")
        shapes = obj.get("shapes")
        if not isinstance(shapes, list) or not shapes:
            raise bad_request("tracks", "a track needs at least one shape")
        checked = []
        for shape in shapes:
            if not isinstance(shape, dict) or not isinstance(shape.get("frame"), int):
                raise bad_request("tracks", "a track shape needs a frame")
            checked.append({
                **self._geometry(shape, "tracks", common["label_id"]), "frame": shape["frame"],
                "attributes": self._attributes(shape.get("attributes", []), common["label_id"], "tracks"),
            })
        checked.sort(key=lambda s: s["frame"])
        return {**common, "shapes": checked, "elements": []}

    def check(self, body: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for kind, check in (("tags", self.tag), ("shapes", self.shape), ("tracks", self.track)):
            items = body.get(kind, [])
            if not isinstance(items, list):
                raise bad_request(kind, "Expected a list of items")
            checked = out[kind] = []
            for item in items:
                obj = check(item)
                if "id" in item:  # check() made sure it is a dict
                    obj["id"] = item["id"]
                checked.append(obj)
        return out


def _check_mask(points: list[Any], kind: str) -> None:
    if len(points) < 5:
        raise bad_request(kind, "a mask is run lengths then left, top, right, bottom")
    left, top, right, bottom = (int(v) for v in points[-4:])
    area = (right - left + 1) * (bottom - top + 1)
    if right < left or bottom < top or sum(int(v) for v in points[:-4]) != area:
        raise bad_request(kind, f"mask run lengths must cover its box of {area} pixels")


def _in_range(obj: dict[str, Any], kind: str, first: int, last: int) -> bool:
    if kind == "tracks":
        return any(first <= s["frame"] <= last for s in obj["shapes"]) or first <= obj["frame"] <= last
    return first <= obj["frame"] <= last


def routes(state: SimState) -> dict[str, Any]:
    def _assign(obj: dict[str, Any], kind: str) -> dict[str, Any]:
        obj["id"] = state.next_id("annotation")
        if kind == "tracks":
            for shape in obj["shapes"]:
                shape["id"] = state.next_id("annotation")
        return obj

    def _renumber(stored: dict[str, Any]) -> None:
        """After a save, give every stored object a new id (only when the test asks for it)."""
        if state.renumber_on_save:
            for kind in KINDS:
                for obj in stored[kind]:
                    _assign(obj, kind)

    def _scope(request: Request) -> tuple[dict[str, Any], int, int]:
        ctx = context(state, request)
        if "task_id" in request.path_params:
            task = get_task(state, ctx, request.path_params["task_id"])
            size = task["data"]["size"] if task["data"] else 0
            return task, 0, size - 1
        job = get_job(state, ctx, request.path_params["job_id"])
        return state.tasks[job["task_id"]], job["start_frame"], job["stop_frame"]

    async def annotations(request: Request) -> Response:
        # A task's annotations are tens of thousands of small acyclic objects, parsed, checked, stored
        # and encoded at once: the cyclic collector would walk everything stored many times over.
        with state.lock, paused_gc():
            task, first, last = _scope(request)
            stored = task["annotations"]
            whole_task = "task_id" in request.path_params
            if request.method == "GET":
                if whole_task:
                    return cvat_json(stored)
                return cvat_json({"version": stored["version"], **{
                    k: [o for o in stored[k] if _in_range(o, k, first, last)] for k in KINDS}})
            if request.method == "DELETE":
                for kind in KINDS:
                    stored[kind] = [o for o in stored[kind] if not _in_range(o, kind, first, last)]
                stored["version"] += 1
                return Response(status_code=204)
            if task["data"] is None:
                raise bad_request("detail", "The task has no data yet")
            body = await json_body(request)
            checker = _Checker(state, task, first, last)
            if request.method == "PUT":
                checked = checker.check(body)
                for kind in KINDS:
                    # A task's jobs are PUT one after another: the frame test is inlined for tags and shapes.
                    kept = ([o for o in stored[kind] if not _in_range(o, kind, first, last)] if kind == "tracks"
                            else [o for o in stored[kind] if not first <= o["frame"] <= last])
                    stored[kind] = kept + [_assign(o, kind) for o in checked[kind]]
                stored["version"] += 1
                task["updated"] = now()
                answer = cvat_json({"version": stored["version"], **checked})
                _renumber(stored)
                return answer
            action = request.query_params.get("action")
            if action not in ("create", "update", "delete"):
                raise bad_request("action", "Please specify a correct 'action' for the request")
            if action == "delete":
                ids = {o.get("id") for k in KINDS for o in body.get(k, []) if isinstance(o, dict)}
                removed = {k: [o for o in stored[k] if o["id"] in ids] for k in KINDS}
                for kind in KINDS:
                    stored[kind] = [o for o in stored[kind] if o["id"] not in ids]
                stored["version"] += 1
                return cvat_json({"version": stored["version"], **removed})
            checked = checker.check(body)
            if action == "create":
                for kind in KINDS:
                    stored[kind].extend(_assign(o, kind) for o in checked[kind])
            else:
                for kind in KINDS:
                    index = {o["id"]: i for i, o in enumerate(stored[kind])}
                    for obj in checked[kind]:
                        if obj.get("id") not in index:
                            raise bad_request(kind, f"object {obj.get('id')!r} does not exist")
                        if kind == "tracks":
                            for shape in obj["shapes"]:
                                shape.setdefault("id", state.next_id("annotation"))
                        stored[kind][index[obj["id"]]] = obj
            stored["version"] += 1
            task["updated"] = now()
            answer = cvat_json({"version": stored["version"], **copy.deepcopy(checked)})
            _renumber(stored)
            return answer

    return {"annotations": annotations}

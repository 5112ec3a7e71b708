"""Annotations of tasks and jobs: GET, PUT, PATCH (create, update, delete), DELETE.

As CVAT does, the server assigns ids (a PUT replaces everything with new
ids), checks labels, attribute specs and frames, and a job sees and changes
only its own frame range.
"""

from __future__ import annotations

import copy
import gc
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from annoflow.adapters.cvat_sim.http import context, cvat_json, json_body
from annoflow.adapters.cvat_sim.resources import get_job, get_task, labels_of_task
from annoflow.adapters.cvat_sim.state import SimError, SimState, bad_request, now
from annoflow.adapters.paused_gc import paused_gc

KINDS = ("tags", "shapes", "tracks")
SEQUENCES = {"tags": "labeledimage", "shapes": "labeledshape", "tracks": "labeledtrack"}  # CVAT's tables
# What CVAT stores of a shape it was sent (LabeledShapeRequest's fields), and the defaults of those left out
_SHAPE_FIELDS = frozenset(
    {"type", "occluded", "outside", "z_order", "rotation", "points", "id", "frame", "label_id", "group", "source"}
    | {"attributes", "elements"}
)
_SHAPE_DEFAULTS = (("occluded", False), ("outside", False), ("z_order", 0), ("group", None), ("source", "manual"))


class _Checker:
    """What CVAT checks of objects beyond the schema (refusals.py has checked their structure by
    now): labels and attribute specs of the task (the dataset manager's ``label_id `N` is
    invalid``), frames within the task's or job's range, and a mask's run lengths; it fills
    CVAT's defaults as the serializers do."""

    def __init__(self, state: SimState, task: dict[str, Any], first: int, last: int) -> None:
        self.state = state
        self.first, self.last = first, last
        self.specs: dict[int, set[int]] = {
            label["id"]: {a["id"] for a in label["attributes"]} for label in labels_of_task(state, task)
        }

    def _common(self, obj: dict[str, Any], kind: str) -> dict[str, Any]:
        label_id = obj["label_id"]
        if label_id not in self.specs:
            raise SimError(400, [f"label_id `{label_id}` is invalid"])
        frame = obj["frame"]
        if not self.first <= frame <= self.last:
            raise bad_request(kind, f"frame {frame!r} is outside the frame range [{self.first}, {self.last}]")
        return {
            "frame": frame,
            "label_id": label_id,
            "group": obj.get("group"),
            "source": obj.get("source", "manual"),
            "attributes": self._attributes(obj.get("attributes", ()), label_id),
        }

    def _attributes(self, values: Any, label_id: int) -> list[dict[str, Any]]:
        specs = self.specs[label_id]
        plain = type(values) is list
        for item in values:
            if item["spec_id"] not in specs:
                raise SimError(400, [f"spec_id `{item['spec_id']}` is invalid"])
            plain = plain and len(item) == 2
        # Items of just spec_id and value are kept as parsed (they are this request's own); others
        # lose what CVAT would not store.
        return values if plain else [{"spec_id": item["spec_id"], "value": item["value"]} for item in values]

    @staticmethod
    def _geometry(obj: dict[str, Any], kind: str) -> dict[str, Any]:
        points = obj.get("points", [])
        if obj["type"] == "mask":
            _check_mask(points, kind)
        return {
            "type": obj["type"],
            "occluded": obj.get("occluded", False),
            "outside": obj.get("outside", False),
            "z_order": obj.get("z_order", 0),
            "rotation": float(obj.get("rotation", 0.0)),
            "points": points,
        }

    def tag(self, obj: dict[str, Any]) -> dict[str, Any]:
        return self._common(obj, "tags")

    def shape(self, obj: dict[str, Any]) -> dict[str, Any]:
        # _geometry and _common in one, and the parsed object itself stored when it has no field
        # CVAT would drop: a job's PUT has thousands of shapes
        get = obj.get
        label_id, frame, kind = obj["label_id"], obj["frame"], obj["type"]
        specs = self.specs.get(label_id)
        if specs is None:
            raise SimError(400, [f"label_id `{label_id}` is invalid"])
        if not self.first <= frame <= self.last:
            raise bad_request("shapes", f"frame {frame!r} is outside the frame range [{self.first}, {self.last}]")
        if kind == "mask":
            _check_mask(get("points", []), "shapes")
        attributes = get("attributes")
        stored = obj if obj.keys() <= _SHAPE_FIELDS else {k: v for k, v in obj.items() if k in _SHAPE_FIELDS}
        if "id" in stored and stored["id"] is None:
            del stored["id"]  # as if left out; check() keeps a given one
        for key, value in _SHAPE_DEFAULTS:
            if key not in stored:
                stored[key] = value
        if "points" not in stored:
            stored["points"] = []
        stored["rotation"] = float(get("rotation", 0.0))
        stored["attributes"] = self._attributes(attributes, label_id) if attributes else []
        stored["elements"] = []
        return stored

    def track(self, obj: dict[str, Any]) -> dict[str, Any]:
        common = self._common(obj, "tracks")
        checked = [
            {
                **self._geometry(shape, "tracks"),
                "frame": shape["frame"],
                "attributes": self._attributes(shape.get("attributes", ()), common["label_id"]),
            }
            for shape in obj["shapes"]
        ]
        if not checked:
            raise bad_request("tracks", "a track needs at least one shape")
        checked.sort(key=lambda s: s["frame"])
        return {**common, "shapes": checked, "elements": []}

    def check(self, body: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for kind, check in (("tags", self.tag), ("shapes", self.shape), ("tracks", self.track)):
            checked = out[kind] = []
            for item in body.get(kind, ()):
                obj = check(item)
                if item.get("id") is not None:
                    obj["id"] = item["id"]
                checked.append(obj)
        return out


def _check_ids(body: dict[str, Any], action: str) -> None:
    """AnnotationSerializer.validate_id: a created object has no id, a deleted one has one."""
    errors: dict[str, list[dict[str, Any]]] = {}
    for kind in KINDS:
        items = body.get(kind, ())
        found = [
            {}
            if (item.get("id") is None) == (action == "create")
            else {"id": ["must be absent" if action == "create" else "must be present and not null"]}
            for item in items
        ]
        if any(found):
            errors[kind] = found
    if errors:
        raise SimError(400, errors)


def _check_mask(points: list[Any], kind: str) -> None:
    # Not a check of CVAT's: the simulator refuses a mask whose run lengths do not fill its box,
    # which CVAT would store and draw wrong.
    left, top, right, bottom = (int(v) for v in points[-4:])
    area = (right - left + 1) * (bottom - top + 1)
    if right < left or bottom < top or sum(int(v) for v in points[:-4]) != area:
        raise bad_request(kind, f"mask run lengths must cover its box of {area} pixels")


def _in_range(obj: dict[str, Any], kind: str, first: int, last: int) -> bool:
    if kind == "tracks":
        return any(first <= s["frame"] <= last for s in obj["shapes"]) or first <= obj["frame"] <= last
    return first <= obj["frame"] <= last


class AnnotationRoutes:
    """The annotations route of tasks and jobs: one handler, dispatching by method and action to a step each."""

    def __init__(self, state: SimState) -> None:
        self.state = state

    def _assign(self, obj: dict[str, Any], kind: str) -> dict[str, Any]:
        # CVAT keeps tags, shapes, tracks and a track's shapes in tables of their own: each has its own ids
        obj["id"] = self.state.next_id(SEQUENCES[kind])
        if kind == "tracks":
            for shape in obj["shapes"]:
                shape["id"] = self.state.next_id("trackedshape")
        return obj

    def _renumber(self, stored: dict[str, Any]) -> None:
        """After a save, give every stored object a new id (only when the test asks for it)."""
        if self.state.renumber_on_save:
            for kind in KINDS:
                for obj in stored[kind]:
                    self._assign(obj, kind)

    def _scope(self, request: Request) -> tuple[dict[str, Any], int, int]:
        ctx = context(self.state, request)
        if "task_id" in request.path_params:
            task = get_task(self.state, ctx, request.path_params["task_id"])
            size = task["data"]["size"] if task["data"] else 0
            return task, 0, size - 1
        job = get_job(self.state, ctx, request.path_params["job_id"])
        return self.state.tasks[job["task_id"]], job["start_frame"], job["stop_frame"]

    async def annotations(self, request: Request) -> Response:
        # A task's annotations are tens of thousands of small acyclic objects, parsed, checked, stored
        # and encoded at once: the cyclic collector would walk everything stored many times over.
        with self.state.lock, paused_gc():
            try:
                return await self._annotations(request)
            finally:
                if self.state.freeze_stored:
                    # What is stored lives until its job is written again and holds no cycle: frozen, the
                    # collections that follow never walk it (reference counting still frees it). Freezing
                    # takes every object of the process, so only a process of the simulator's own does it.
                    gc.freeze()

    async def _annotations(self, request: Request) -> Response:
        task, first, last = self._scope(request)
        if request.method == "GET":
            return self._get(task["annotations"], first, last, whole_task="task_id" in request.path_params)
        if request.method == "DELETE":
            return self._delete(task, first, last)
        if not task["data"] or not task["data"]["size"]:
            raise bad_request("detail", "The task has no data yet")
        action = request.query_params.get("action")
        if request.method == "PATCH" and action not in ("create", "update", "delete"):
            raise SimError(400, ["Please specify a correct 'action' for the request"])  # before the body, as CVAT
        body = await json_body(request)
        checker = _Checker(self.state, task, first, last)
        if request.method == "PUT":
            return self._put(task, first, last, checker.check(body))
        if action in ("create", "delete"):
            _check_ids(body, action)
        if action == "delete":
            return self._patch_delete(task, body)
        return self._patch_create_or_update(task, action, checker.check(body))

    @staticmethod
    def _get(stored: dict[str, Any], first: int, last: int, *, whole_task: bool) -> Response:
        if whole_task:
            return cvat_json(stored)
        return cvat_json(
            {"version": stored["version"], **{k: [o for o in stored[k] if _in_range(o, k, first, last)] for k in KINDS}}
        )

    @staticmethod
    def _delete(task: dict[str, Any], first: int, last: int) -> Response:
        stored = task["annotations"]
        for kind in KINDS:
            stored[kind] = [o for o in stored[kind] if not _in_range(o, kind, first, last)]
        stored["version"] += 1
        task["updated"] = now()  # CVAT stamps the job, its task and project on every change
        return Response(status_code=204)

    def _put(self, task: dict[str, Any], first: int, last: int, checked: dict[str, list[dict[str, Any]]]) -> Response:
        stored = task["annotations"]
        for kind in KINDS:
            # A task's jobs are PUT one after another: the frame test is inlined for tags and shapes.
            kept = (
                [o for o in stored[kind] if not _in_range(o, kind, first, last)]
                if kind == "tracks"
                else [o for o in stored[kind] if not first <= o["frame"] <= last]
            )
            stored[kind] = kept + [self._assign(o, kind) for o in checked[kind]]
        stored["version"] += 1
        task["updated"] = now()
        answer = cvat_json({"version": stored["version"], **checked})
        self._renumber(stored)
        return answer

    @staticmethod
    def _patch_delete(task: dict[str, Any], body: dict[str, Any]) -> Response:
        stored = task["annotations"]
        # each kind's ids are its own (CVAT's tables): a tag and a shape may share one
        ids = {k: {o.get("id") for o in body.get(k, []) if isinstance(o, dict)} for k in KINDS}
        removed = {k: [o for o in stored[k] if o["id"] in ids[k]] for k in KINDS}
        for kind in KINDS:
            stored[kind] = [o for o in stored[kind] if o["id"] not in ids[kind]]
        stored["version"] += 1
        task["updated"] = now()
        return cvat_json({"version": stored["version"], **removed})

    def _patch_create_or_update(
        self, task: dict[str, Any], action: str | None, checked: dict[str, list[dict[str, Any]]]
    ) -> Response:
        stored = task["annotations"]
        if action == "create":
            for kind in KINDS:
                stored[kind].extend(self._assign(o, kind) for o in checked[kind])
        else:
            for kind in KINDS:
                self._update(stored[kind], kind, checked[kind])
        stored["version"] += 1
        task["updated"] = now()
        answer = cvat_json({"version": stored["version"], **copy.deepcopy(checked)})
        self._renumber(stored)
        return answer

    def _update(self, stored: list[dict[str, Any]], kind: str, checked: list[dict[str, Any]]) -> None:
        """PATCH ?action=update: each object replaces the stored one of its id, which must exist."""
        index = {o["id"]: i for i, o in enumerate(stored)}
        for obj in checked:
            if obj.get("id") not in index:
                raise bad_request(kind, f"object {obj.get('id')!r} does not exist")
            if kind == "tracks":
                for shape in obj["shapes"]:
                    shape.setdefault("id", self.state.next_id("trackedshape"))
            stored[index[obj["id"]]] = obj


def routes(state: SimState) -> dict[str, Any]:
    """The handlers by the names app.py binds to paths."""
    handlers = AnnotationRoutes(state)
    return {
        "annotations": handlers.annotations,
    }

"""Users, projects, tasks, labels and jobs: their routes and their CVAT JSON."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from annoflow.adapters.cvat_sim.http import Context, context, cvat_json, json_body, paginate
from annoflow.adapters.cvat_sim.read_models import (
    job_json,
    label_json,
    project_json,
    seen_user_json,
    task_json,
    user_json,
)
from annoflow.adapters.cvat_sim.state import SERVER_VERSION, SimError, SimState, bad_request, not_found, now

_COLOURS = ("#33ddff", "#fa3253", "#34d1b7", "#ff007c", "#ff6037", "#ddff33", "#24b353", "#b83df5")


# --- lookups that respect the organization ---------------------------------------------------


def visible(ctx: Context, item: dict[str, Any]) -> bool:
    return item["org_id"] == ctx.org_id


def get_project(state: SimState, ctx: Context, pid: int) -> dict[str, Any]:
    project = state.projects.get(pid)
    if project is None or not visible(ctx, project):
        raise not_found()
    return project


def get_task(state: SimState, ctx: Context, tid: int) -> dict[str, Any]:
    task = state.tasks.get(tid)
    if task is None or not visible(ctx, task):
        raise not_found()
    return task


def get_job(state: SimState, ctx: Context, jid: int) -> dict[str, Any]:
    job = state.jobs.get(jid)
    if job is None or not visible(ctx, state.tasks[job["task_id"]]):
        raise not_found()
    return job


def _user_id(state: SimState, value: Any, field: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or value not in state.users:
        raise bad_request(field, f'Invalid pk "{value}" - object does not exist.')
    return value


def make_labels(
    state: SimState,
    specs: list[dict[str, Any]],
    *,
    project_id: int | None,
    task_id: int | None,
    taken: set[str] | frozenset[str] = frozenset(),
) -> list[int]:
    """LabelSerializer.create_labels, for labels the schema passed (json_body): names unique among
    the parent's labels (models.Label.create), attribute names unique within a label."""
    missing = [{} if spec.get("name") else {"name": ["This field is required."]} for spec in specs]
    if any(missing):  # PatchedLabelRequest leaves the name optional: a new label still needs one
        raise SimError(400, {"labels": missing})
    made: list[dict[str, Any]] = []
    names = set(taken)
    for spec in specs:
        name = spec["name"]
        if name in names:
            raise SimError(400, ["All label names must be unique"])
        names.add(name)
        attributes: list[dict[str, Any]] = []
        for attr in spec.get("attributes", []):
            if attr["name"] in {a["name"] for a in attributes}:
                raise SimError(400, [f"Duplicate attribute with name '{attr['name']}' exists"])
            values = list(attr["values"])
            default = attr.get("default_value")
            if default in (None, ""):
                default = values[0] if values else ("false" if attr["input_type"] == "checkbox" else "")
            attributes.append(
                {
                    "id": state.next_id("attribute"),
                    "name": attr["name"],
                    "mutable": attr["mutable"],
                    "input_type": attr["input_type"],
                    "default_value": default,
                    "values": values,
                }
            )
        label = {
            "id": state.next_id("label"),
            "name": name,
            "color": spec.get("color") or _COLOURS[len(state.labels) % len(_COLOURS)],
            "type": spec.get("type", "any"),
            "attributes": attributes,
            "project_id": project_id,
            "task_id": task_id,
        }
        made.append(label)
    for label in made:
        state.labels[label["id"]] = label
    return [label["id"] for label in made]


def labels_of_task(state: SimState, task: dict[str, Any]) -> list[dict[str, Any]]:
    if task["project_id"] is not None:
        return [label for label in state.labels.values() if label["project_id"] == task["project_id"]]
    return [label for label in state.labels.values() if label["task_id"] == task["id"]]


# --- routes -----------------------------------------------------------------------------------


def _of_project_named(state: SimState, task: dict[str, Any], name: str) -> bool:
    project = state.projects.get(task["project_id"])
    return project is not None and project["name"] == name


# A task list's filters, by query parameter: (state, task, the parameter's value) -> shown.
_TASK_FILTERS: dict[str, Callable[[SimState, dict[str, Any], str], bool]] = {
    "name": lambda state, task, value: task["name"] == value,
    # CVAT searches several fields; the name is the one that matters here
    "search": lambda state, task, value: value.lower() in task["name"].lower(),
    "project_id": lambda state, task, value: str(task["project_id"]) == value,
    "project_name": _of_project_named,
}


class ResourceRoutes:
    """The routes of users, projects, tasks, labels and jobs, each a method over the simulator's state."""

    def __init__(self, state: SimState) -> None:
        self.state = state

    async def about(self, request: Request) -> Response:
        return cvat_json(
            {
                "name": "Computer Vision Annotation Tool",
                "version": SERVER_VERSION,
                "description": "annoflow's CVAT simulator, speaking CVAT 2.52's REST API for annotation workflows",
                "logo_url": "",
                "subtitle": "simulator",
            }
        )

    async def users(self, request: Request) -> Response:
        ctx = context(self.state, request)
        q = request.query_params
        found = sorted(self.state.users.values(), key=lambda u: -u.id)  # UserViewSet.ordering
        if q.get("search"):
            found = [u for u in found if q["search"].lower() in u.username.lower()]
        if q.get("username"):
            found = [u for u in found if u.username == q["username"]]
        if ctx.org_id is not None:
            members = next(o.members for o in self.state.orgs.values() if o.id == ctx.org_id)
            found = [u for u in found if u.id in members]
        return paginate(request, found, lambda u: seen_user_json(ctx, u, listed=True))

    async def user_self(self, request: Request) -> Response:
        ctx = context(self.state, request)
        return cvat_json(user_json(ctx, ctx.user))

    async def user_detail(self, request: Request) -> Response:
        ctx = context(self.state, request)
        uid = request.path_params["id"]
        if uid not in self.state.users:
            raise not_found()
        return cvat_json(seen_user_json(ctx, self.state.users[uid]))

    async def projects(self, request: Request) -> Response:
        ctx = context(self.state, request)
        if request.method == "POST":
            body = await json_body(request)
            name = body["name"]
            with self.state.lock:
                pid = self.state.next_id("project")
                assignee = _user_id(self.state, body.get("assignee_id"), "assignee_id")
                label_ids = make_labels(self.state, body.get("labels", []), project_id=pid, task_id=None)
                stamp = now()
                self.state.projects[pid] = {
                    "id": pid,
                    "name": name,
                    "owner_id": ctx.user.id,
                    "assignee_id": assignee,
                    "bug_tracker": body.get("bug_tracker", ""),
                    "org_id": ctx.org_id,
                    "labels": label_ids,
                    "created": stamp,
                    "updated": stamp,
                    "assignee_updated": stamp if assignee else None,
                }
                return cvat_json(project_json(ctx, self.state, self.state.projects[pid]), 201)
        q = request.query_params
        found = [p for p in self.state.projects.values() if visible(ctx, p)]
        if q.get("name"):
            found = [p for p in found if p["name"] == q["name"]]
        if q.get("search"):
            found = [p for p in found if q["search"].lower() in p["name"].lower()]
        found.sort(key=lambda p: -p["id"])  # CVAT lists newest first
        return paginate(request, found, lambda p: project_json(ctx, self.state, p))

    async def project_detail(self, request: Request) -> Response:
        ctx = context(self.state, request)
        with self.state.lock:
            project = get_project(self.state, ctx, request.path_params["id"])
            if request.method == "DELETE":
                for tid in [t["id"] for t in self.state.tasks.values() if t["project_id"] == project["id"]]:
                    delete_task(self.state, tid)
                for lid in [
                    label["id"] for label in self.state.labels.values() if label["project_id"] == project["id"]
                ]:
                    del self.state.labels[lid]
                del self.state.projects[project["id"]]
                return Response(status_code=204)
            if request.method == "PATCH":
                body = await json_body(request)
                if "name" in body:
                    project["name"] = body["name"]
                if "labels" in body:
                    taken = {
                        label["name"] for label in self.state.labels.values() if label["project_id"] == project["id"]
                    }
                    project["labels"] += make_labels(
                        self.state, body["labels"], project_id=project["id"], task_id=None, taken=taken
                    )
                project["updated"] = now()
            return cvat_json(project_json(ctx, self.state, project))

    async def tasks(self, request: Request) -> Response:
        ctx = context(self.state, request)
        if request.method == "POST":
            return self._create_task(ctx, await json_body(request))
        found = self._tasks_found(ctx, request.query_params)
        found.sort(key=lambda t: -t["id"])
        return paginate(request, found, lambda t: task_json(ctx, self.state, t))

    def _tasks_found(self, ctx: Context, q: Any) -> list[dict[str, Any]]:
        """The tasks a list shows: the organization's, by the query's filters."""
        wanted = [(match, q[key]) for key, match in _TASK_FILTERS.items() if q.get(key)]
        return [
            t
            for t in self.state.tasks.values()
            if visible(ctx, t) and all(match(self.state, t, value) for match, value in wanted)
        ]

    def _create_task(self, ctx: Context, body: dict[str, Any]) -> Response:
        name = body["name"]
        with self.state.lock:
            project_id = body.get("project_id")
            if project_id is not None:
                get_project(self.state, ctx, project_id)
                if body.get("labels"):
                    raise SimError(400, ["Task must have only one of Label set or project_id"])
            segment_size = body.get("segment_size", 0)
            tid = self.state.next_id("task")
            # CVAT makes a task without labels too: labels can be added later
            label_ids = (
                []
                if project_id is not None
                else make_labels(self.state, body.get("labels", []), project_id=None, task_id=tid)
            )
            stamp = now()
            assignee = _user_id(self.state, body.get("assignee_id"), "assignee_id")
            self.state.tasks[tid] = {
                "id": tid,
                "name": name,
                "project_id": project_id,
                "owner_id": ctx.user.id,
                "assignee_id": assignee,
                "assignee_updated": stamp if assignee else None,
                "bug_tracker": body.get("bug_tracker", ""),
                "overlap": body.get("overlap"),
                "segment_size": segment_size,
                "subset": body.get("subset", ""),
                "org_id": ctx.org_id,
                "labels": label_ids,
                "data": None,
                "created": stamp,
                "updated": stamp,
                "annotations": {"version": 0, "tags": [], "shapes": [], "tracks": []},
            }
            return cvat_json(task_json(ctx, self.state, self.state.tasks[tid]), 201)

    async def task_detail(self, request: Request) -> Response:
        ctx = context(self.state, request)
        with self.state.lock:
            task = get_task(self.state, ctx, request.path_params["id"])
            if request.method == "DELETE":
                delete_task(self.state, task["id"])
                return Response(status_code=204)
            if request.method == "PATCH":
                body = await json_body(request)
                if "name" in body:
                    task["name"] = body["name"]
                if "assignee_id" in body:
                    _assign(task, _user_id(self.state, body["assignee_id"], "assignee_id"))
                if "bug_tracker" in body:
                    task["bug_tracker"] = body["bug_tracker"]
                task["updated"] = now()
            return cvat_json(task_json(ctx, self.state, task))

    async def labels(self, request: Request) -> Response:
        ctx = context(self.state, request)
        q = request.query_params
        if q.get("task_id"):
            found = labels_of_task(self.state, get_task(self.state, ctx, int(q["task_id"])))
        elif q.get("project_id"):
            pid = get_project(self.state, ctx, int(q["project_id"]))["id"]
            found = [label for label in self.state.labels.values() if label["project_id"] == pid]
        elif q.get("job_id"):
            found = labels_of_task(self.state, self.state.tasks[get_job(self.state, ctx, int(q["job_id"]))["task_id"]])
        else:
            found = [label for label in self.state.labels.values() if visible(ctx, _owner_of_label(self.state, label))]
        return paginate(request, found, label_json)

    async def label_detail(self, request: Request) -> Response:
        ctx = context(self.state, request)
        label = self.state.labels.get(request.path_params["id"])
        if label is None or not visible(ctx, _owner_of_label(self.state, label)):
            raise not_found()
        return cvat_json(label_json(label))

    async def jobs(self, request: Request) -> Response:
        ctx = context(self.state, request)
        if request.method == "POST":
            raise SimError(405, {"detail": 'Method "POST" not allowed for annotation jobs.'})
        q = request.query_params
        found = [j for j in self.state.jobs.values() if visible(ctx, self.state.tasks[j["task_id"]])]
        if q.get("task_id"):
            found = [j for j in found if str(j["task_id"]) == q["task_id"]]
        if q.get("project_id"):
            found = [j for j in found if str(self.state.tasks[j["task_id"]]["project_id"]) == q["project_id"]]
        found.sort(key=lambda j: -j["id"])  # JobViewSet.ordering
        return paginate(request, found, lambda j: job_json(ctx, self.state, j))

    async def job_detail(self, request: Request) -> Response:
        ctx = context(self.state, request)
        with self.state.lock:
            job = get_job(self.state, ctx, request.path_params["id"])
            if request.method == "PATCH":
                body = await json_body(request)
                if "assignee" in body:
                    _assign(job, _user_id(self.state, body["assignee"], "assignee"))
                # JobWriteSerializer.update: a new stage without a self.state starts that stage anew
                stage = body.get("stage", job["stage"])
                job["state"] = body.get("state", "new" if stage != job["stage"] else job["state"])
                job["stage"] = stage
                job["updated"] = now()
            elif request.method == "DELETE":
                raise SimError(400, {"detail": "Only ground truth jobs can be removed"})
            return cvat_json(job_json(ctx, self.state, job))


def routes(state: SimState) -> dict[str, Any]:
    """The handlers by the names app.py binds to paths."""
    handlers = ResourceRoutes(state)
    return {
        "about": handlers.about,
        "users": handlers.users,
        "user_self": handlers.user_self,
        "user_detail": handlers.user_detail,
        "projects": handlers.projects,
        "project_detail": handlers.project_detail,
        "tasks": handlers.tasks,
        "task_detail": handlers.task_detail,
        "labels": handlers.labels,
        "label_detail": handlers.label_detail,
        "jobs": handlers.jobs,
        "job_detail": handlers.job_detail,
    }


def _assign(item: dict[str, Any], user_id: int | None) -> None:
    """Model.update_assignee: a changed assignee stamps ``assignee_updated_date``."""
    if user_id != item["assignee_id"]:
        item["assignee_id"] = user_id
        item["assignee_updated"] = now()


def _owner_of_label(state: SimState, label: dict[str, Any]) -> dict[str, Any]:
    if label["project_id"] is not None:
        return state.projects[label["project_id"]]
    return state.tasks[label["task_id"]]


def delete_task(state: SimState, tid: int) -> None:
    for jid in [j["id"] for j in state.jobs.values() if j["task_id"] == tid]:
        del state.jobs[jid]
    for lid in [label["id"] for label in state.labels.values() if label["task_id"] == tid]:
        del state.labels[lid]
    state.uploads.pop(tid, None)
    del state.tasks[tid]

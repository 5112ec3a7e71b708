"""Users, projects, tasks, labels and jobs: their routes and their CVAT JSON."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from annoflow.adapters.cvat_sim.http import Context, context, cvat_json, json_body, paginate, user_basic
from annoflow.adapters.cvat_sim.state import SERVER_VERSION, SimError, SimState, bad_request, not_found, now

INPUT_TYPES = frozenset({"checkbox", "radio", "number", "text", "select"})
LABEL_TYPES = frozenset({"any", "cuboid", "ellipse", "mask", "points", "polygon", "polyline", "rectangle", "skeleton", "tag"})
JOB_STAGES = frozenset({"annotation", "validation", "acceptance"})
JOB_STATES = frozenset({"new", "in progress", "completed", "rejected"})
_COLOURS = ("#33ddff", "#fa3253", "#34d1b7", "#ff007c", "#ff6037", "#ddff33", "#24b353", "#b83df5")


# --- JSON of each resource ----------------------------------------------------------------

# CVAT sends null for an unset assignee, owner or storage, but its schema types those as
# `allOf: [<object>]` + `nullable`, which strict OpenAPI 3.0 validators read as "never null".
# Leaving an unset one out (none of them is required) is valid under both readings.
_ALLOF_OBJECTS = ("owner", "assignee", "target_storage", "source_storage")


def _without_unset(body: dict[str, Any]) -> dict[str, Any]:
    for key in _ALLOF_OBJECTS:
        if key in body and body[key] is None:
            del body[key]
    return body


def user_json(ctx: Context, state: SimState, user_id: int) -> dict[str, Any]:
    user = state.users[user_id]
    return {
        **user_basic(ctx, user), "email": user.email, "groups": ["user"], "is_staff": False,
        "is_superuser": False, "is_active": True, "last_login": None, "date_joined": user.joined,
        "has_analytics_access": False,
    }


def label_json(label: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": label["id"], "name": label["name"], "color": label["color"], "type": label["type"],
        "attributes": [dict(a) for a in label["attributes"]], "svg": "", "sublabels": [],
        "project_id": label["project_id"], "task_id": label["task_id"], "parent_id": None, "has_parent": False,
    }


def project_json(ctx: Context, state: SimState, project: dict[str, Any]) -> dict[str, Any]:
    pid = project["id"]
    return _without_unset({
        "url": f"{ctx.base}/api/projects/{pid}", "id": pid, "name": project["name"],
        "owner": user_basic(ctx, state.users.get(project["owner_id"])),
        "assignee": user_basic(ctx, state.users.get(project["assignee_id"])) if project["assignee_id"] else None,
        "guide_id": None, "bug_tracker": project["bug_tracker"], "task_subsets": [],
        "created_date": project["created"], "updated_date": project["updated"], "status": "annotation",
        "dimension": "2d" if any(t["project_id"] == pid for t in state.tasks.values()) else None,
        "organization": project["org_id"], "organization_id": project["org_id"],
        "target_storage": None, "source_storage": None,
        "tasks": {"count": sum(t["project_id"] == pid for t in state.tasks.values()), "url": f"{ctx.base}/api/tasks?project_id={pid}"},
        "labels": {"url": f"{ctx.base}/api/labels?project_id={pid}"},
        "assignee_updated_date": None,
    })


def task_json(ctx: Context, state: SimState, task: dict[str, Any]) -> dict[str, Any]:
    tid = task["id"]
    data = task["data"]
    jobs = [j for j in state.jobs.values() if j["task_id"] == tid]
    body: dict[str, Any] = {
        "url": f"{ctx.base}/api/tasks/{tid}", "id": tid, "name": task["name"], "project_id": task["project_id"],
        "mode": data["mode"] if data else "",
        "owner": user_basic(ctx, state.users.get(task["owner_id"])),
        "assignee": user_basic(ctx, state.users.get(task["assignee_id"])) if task["assignee_id"] else None,
        "bug_tracker": task["bug_tracker"], "created_date": task["created"], "updated_date": task["updated"],
        "overlap": task["overlap"], "segment_size": task["segment_size"], "status": "annotation",
        "data_chunk_size": data["chunk_size"] if data else None, "data_cloud_storage_id": None, "guide_id": None,
        "size": data["size"] if data else 0, "image_quality": data["image_quality"] if data else 70,
        "dimension": "2d", "subset": task["subset"], "organization": task["org_id"], "organization_id": task["org_id"],
        "target_storage": None, "source_storage": None,
        "jobs": {"count": len(jobs), "completed": sum(j["state"] == "completed" for j in jobs), "validation": 0,
                 "url": f"{ctx.base}/api/jobs?task_id={tid}"},
        "labels": {"url": f"{ctx.base}/api/labels?task_id={tid}"},
        "assignee_updated_date": None, "validation_mode": None, "consensus_enabled": False,
    }
    if data:  # CVAT's schema has these as non-null integers and chunk types: leave them out until there is data
        chunk_type = "video" if data["mode"] == "interpolation" else "imageset"
        body.update(data=tid, data_original_chunk_type=chunk_type, data_compressed_chunk_type=chunk_type)
    return _without_unset(body)


def job_json(ctx: Context, state: SimState, job: dict[str, Any]) -> dict[str, Any]:
    task = state.tasks[job["task_id"]]
    data = task["data"]
    chunk_type = "video" if data["mode"] == "interpolation" else "imageset"
    return _without_unset({
        "url": f"{ctx.base}/api/jobs/{job['id']}", "id": job["id"], "task_id": task["id"],
        "project_id": task["project_id"],
        "assignee": user_basic(ctx, state.users.get(job["assignee_id"])) if job["assignee_id"] else None,
        "guide_id": None, "dimension": "2d", "bug_tracker": task["bug_tracker"] or None,
        "status": job["stage"] if job["stage"] != "acceptance" else "completed",
        "stage": job["stage"], "state": job["state"], "mode": data["mode"],
        "frame_count": job["stop_frame"] - job["start_frame"] + 1,
        "start_frame": job["start_frame"], "stop_frame": job["stop_frame"],
        "data_chunk_size": data["chunk_size"], "data_compressed_chunk_type": chunk_type,
        "data_original_chunk_type": chunk_type, "created_date": job["created"], "updated_date": job["updated"],
        "issues": {"url": f"{ctx.base}/api/issues?job_id={job['id']}", "count": 0},
        "labels": {"url": f"{ctx.base}/api/labels?job_id={job['id']}"},
        "type": "annotation", "organization": task["org_id"], "target_storage": None, "source_storage": None,
        "assignee_updated_date": None, "parent_job_id": None, "consensus_replicas": 0,
    })


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


def make_labels(state: SimState, specs: Any, *, project_id: int | None, task_id: int | None) -> list[int]:
    if not isinstance(specs, list):
        raise bad_request("labels", "Expected a list of items")
    made: list[dict[str, Any]] = []
    names: set[str] = set()
    for spec in specs:
        name = spec.get("name") if isinstance(spec, dict) else None
        if not isinstance(name, str) or not name:
            raise bad_request("labels", "This field is required: name")
        if name in names:
            raise bad_request("labels", f"All label names must be unique: {name!r} is repeated")
        names.add(name)
        kind = spec.get("type", "any")
        if kind not in LABEL_TYPES:
            raise bad_request("labels", f'"{kind}" is not a valid choice.')
        attributes = []
        for attr in spec.get("attributes", []):
            if attr.get("input_type") not in INPUT_TYPES:
                raise bad_request("labels", f'"{attr.get("input_type")}" is not a valid choice.')
            if not isinstance(attr.get("name"), str) or not isinstance(attr.get("values", []), list):
                raise bad_request("labels", "An attribute needs a name and a list of values")
            values = [str(v) for v in attr.get("values", [])]
            default = attr.get("default_value")
            if default in (None, ""):
                default = values[0] if values else ("false" if attr["input_type"] == "checkbox" else "")
            attributes.append({
                "id": state.next_id("attribute"), "name": attr["name"], "mutable": bool(attr.get("mutable", False)),
                "input_type": attr["input_type"], "default_value": str(default), "values": values,
            })
        label = {
            "id": state.next_id("label"), "name": name, "color": spec.get("color") or _COLOURS[len(state.labels) % len(_COLOURS)],
            "type": kind, "attributes": attributes, "project_id": project_id, "task_id": task_id,
        }
        made.append(label)
    for label in made:
        state.labels[label["id"]] = label
    return [label["id"] for label in made]


def labels_of_task(state: SimState, task: dict[str, Any]) -> list[dict[str, Any]]:
    if task["project_id"] is not None:
        return [l for l in state.labels.values() if l["project_id"] == task["project_id"]]
    return [l for l in state.labels.values() if l["task_id"] == task["id"]]


# --- routes -----------------------------------------------------------------------------------


def routes(state: SimState) -> dict[str, Any]:
    """Handlers by name; app.py binds them to paths."""

    async def about(request: Request) -> Response:
        return cvat_json({
            "name": "Computer Vision Annotation Tool", "version": SERVER_VERSION,
            "description": "annoflow's CVAT simulator, speaking CVAT 2.52's REST API for annotation workflows",
            "logo_url": "", "subtitle": "simulator",
        })

    async def users(request: Request) -> Response:
        ctx = context(state, request)
        q = request.query_params
        found = sorted(state.users.values(), key=lambda u: u.id)
        if q.get("search"):
            found = [u for u in found if q["search"].lower() in u.username.lower()]
        if q.get("username"):
            found = [u for u in found if u.username == q["username"]]
        if ctx.org_id is not None:
            members = next(o.members for o in state.orgs.values() if o.id == ctx.org_id)
            found = [u for u in found if u.id in members]
        return paginate(request, found, lambda u: user_json(ctx, state, u.id))

    async def user_self(request: Request) -> Response:
        ctx = context(state, request)
        return cvat_json(user_json(ctx, state, ctx.user.id))

    async def user_detail(request: Request) -> Response:
        ctx = context(state, request)
        uid = request.path_params["id"]
        if uid not in state.users:
            raise not_found()
        return cvat_json(user_json(ctx, state, uid))

    async def projects(request: Request) -> Response:
        ctx = context(state, request)
        if request.method == "POST":
            body = await json_body(request)
            name = body.get("name")
            if not isinstance(name, str) or not name:
                raise bad_request("name", "This field is required.")
            with state.lock:
                pid = state.next_id("project")
                assignee = _user_id(state, body.get("assignee_id"), "assignee_id")
                label_ids = make_labels(state, body.get("labels", []), project_id=pid, task_id=None)
                stamp = now()
                state.projects[pid] = {
                    "id": pid, "name": name, "owner_id": ctx.user.id, "assignee_id": assignee,
                    "bug_tracker": body.get("bug_tracker", ""), "org_id": ctx.org_id, "labels": label_ids,
                    "created": stamp, "updated": stamp,
                }
                return cvat_json(project_json(ctx, state, state.projects[pid]), 201)
        q = request.query_params
        found = [p for p in state.projects.values() if visible(ctx, p)]
        if q.get("name"):
            found = [p for p in found if p["name"] == q["name"]]
        if q.get("search"):
            found = [p for p in found if q["search"].lower() in p["name"].lower()]
        found.sort(key=lambda p: -p["id"])  # CVAT lists newest first
        return paginate(request, found, lambda p: project_json(ctx, state, p))

    async def project_detail(request: Request) -> Response:
        ctx = context(state, request)
        with state.lock:
            project = get_project(state, ctx, request.path_params["id"])
            if request.method == "DELETE":
                for tid in [t["id"] for t in state.tasks.values() if t["project_id"] == project["id"]]:
                    delete_task(state, tid)
                for lid in [l["id"] for l in state.labels.values() if l["project_id"] == project["id"]]:
                    del state.labels[lid]
                del state.projects[project["id"]]
                return Response(status_code=204)
            if request.method == "PATCH":
                body = await json_body(request)
                if "name" in body:
                    project["name"] = body["name"]
                if "labels" in body:
                    project["labels"] += make_labels(state, body["labels"], project_id=project["id"], task_id=None)
                project["updated"] = now()
            return cvat_json(project_json(ctx, state, project))

    async def tasks(request: Request) -> Response:
        ctx = context(state, request)
        if request.method == "POST":
            body = await json_body(request)
            name = body.get("name")
            if not isinstance(name, str) or not name:
                raise bad_request("name", "This field is required.")
            with state.lock:
                project_id = body.get("project_id")
                if project_id is not None:
                    get_project(state, ctx, project_id)
                    if body.get("labels"):
                        raise bad_request("labels", "Label set must be empty when a project is specified")
                elif not body.get("labels"):
                    raise bad_request("label_set", "Label set must not be empty")
                segment_size = body.get("segment_size", 0) or 0
                if not isinstance(segment_size, int) or segment_size < 0:
                    raise bad_request("segment_size", "Ensure this value is greater than or equal to 0.")
                tid = state.next_id("task")
                label_ids = [] if project_id is not None else make_labels(state, body["labels"], project_id=None, task_id=tid)
                stamp = now()
                state.tasks[tid] = {
                    "id": tid, "name": name, "project_id": project_id, "owner_id": ctx.user.id,
                    "assignee_id": _user_id(state, body.get("assignee_id"), "assignee_id"),
                    "bug_tracker": body.get("bug_tracker", ""), "overlap": body.get("overlap"),
                    "segment_size": segment_size, "subset": body.get("subset", ""), "org_id": ctx.org_id,
                    "labels": label_ids, "data": None, "created": stamp, "updated": stamp,
                    "annotations": {"version": 0, "tags": [], "shapes": [], "tracks": []},
                }
                return cvat_json(task_json(ctx, state, state.tasks[tid]), 201)
        q = request.query_params
        found = [t for t in state.tasks.values() if visible(ctx, t)]
        if q.get("name"):
            found = [t for t in found if t["name"] == q["name"]]
        if q.get("search"):  # CVAT searches several fields; the name is the one that matters here
            found = [t for t in found if q["search"].lower() in t["name"].lower()]
        if q.get("project_id"):
            found = [t for t in found if str(t["project_id"]) == q["project_id"]]
        if q.get("project_name"):
            ids = {p["id"] for p in state.projects.values() if p["name"] == q["project_name"]}
            found = [t for t in found if t["project_id"] in ids]
        found.sort(key=lambda t: -t["id"])
        return paginate(request, found, lambda t: task_json(ctx, state, t))

    async def task_detail(request: Request) -> Response:
        ctx = context(state, request)
        with state.lock:
            task = get_task(state, ctx, request.path_params["id"])
            if request.method == "DELETE":
                delete_task(state, task["id"])
                return Response(status_code=204)
            if request.method == "PATCH":
                body = await json_body(request)
                if "name" in body:
                    task["name"] = body["name"]
                if "assignee_id" in body:
                    task["assignee_id"] = _user_id(state, body["assignee_id"], "assignee_id")
                if "bug_tracker" in body:
                    task["bug_tracker"] = body["bug_tracker"]
                task["updated"] = now()
            return cvat_json(task_json(ctx, state, task))

    async def labels(request: Request) -> Response:
        ctx = context(state, request)
        q = request.query_params
        if q.get("task_id"):
            found = labels_of_task(state, get_task(state, ctx, int(q["task_id"])))
        elif q.get("project_id"):
            pid = get_project(state, ctx, int(q["project_id"]))["id"]
            found = [l for l in state.labels.values() if l["project_id"] == pid]
        elif q.get("job_id"):
            found = labels_of_task(state, state.tasks[get_job(state, ctx, int(q["job_id"]))["task_id"]])
        else:
            found = [l for l in state.labels.values() if visible(ctx, _owner_of_label(state, l))]
        return paginate(request, found, label_json)

    async def label_detail(request: Request) -> Response:
        ctx = context(state, request)
        label = state.labels.get(request.path_params["id"])
        if label is None or not visible(ctx, _owner_of_label(state, label)):
            raise not_found()
        return cvat_json(label_json(label))

    async def jobs(request: Request) -> Response:
        ctx = context(state, request)
        if request.method == "POST":
            raise SimError(405, {"detail": 'Method "POST" not allowed for annotation jobs.'})
        q = request.query_params
        found = [j for j in state.jobs.values() if visible(ctx, state.tasks[j["task_id"]])]
        if q.get("task_id"):
            found = [j for j in found if str(j["task_id"]) == q["task_id"]]
        if q.get("project_id"):
            found = [j for j in found if str(state.tasks[j["task_id"]]["project_id"]) == q["project_id"]]
        found.sort(key=lambda j: j["id"])
        return paginate(request, found, lambda j: job_json(ctx, state, j))

    async def job_detail(request: Request) -> Response:
        ctx = context(state, request)
        with state.lock:
            job = get_job(state, ctx, request.path_params["id"])
            if request.method == "PATCH":
                body = await json_body(request)
                if "assignee" in body:
                    job["assignee_id"] = _user_id(state, body["assignee"], "assignee")
                if "stage" in body:
                    if body["stage"] not in JOB_STAGES:
                        raise bad_request("stage", f'"{body["stage"]}" is not a valid choice.')
                    job["stage"] = body["stage"]
                if "state" in body:
                    if body["state"] not in JOB_STATES:
                        raise bad_request("state", f'"{body["state"]}" is not a valid choice.')
                    job["state"] = body["state"]
                job["updated"] = now()
            elif request.method == "DELETE":
                raise SimError(400, {"detail": "Only ground truth jobs can be removed"})
            return cvat_json(job_json(ctx, state, job))

    return {
        "about": about, "users": users, "user_self": user_self, "user_detail": user_detail,
        "projects": projects, "project_detail": project_detail, "tasks": tasks, "task_detail": task_detail,
        "labels": labels, "label_detail": label_detail, "jobs": jobs, "job_detail": job_detail,
    }


def _owner_of_label(state: SimState, label: dict[str, Any]) -> dict[str, Any]:
    if label["project_id"] is not None:
        return state.projects[label["project_id"]]
    return state.tasks[label["task_id"]]


def delete_task(state: SimState, tid: int) -> None:
    for jid in [j["id"] for j in state.jobs.values() if j["task_id"] == tid]:
        del state.jobs[jid]
    for lid in [l["id"] for l in state.labels.values() if l["task_id"] == tid]:
        del state.labels[lid]
    state.uploads.pop(tid, None)
    del state.tasks[tid]

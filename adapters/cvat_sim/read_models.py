"""The JSON CVAT 2.52 sends for each resource, property for property.

Each function follows the read serializer named in its docstring
(cvat/apps/engine/serializers.py at v2.52.0, unless said otherwise): every
property is sent, ``null`` where CVAT sends null. Django REST framework leaves a
property out in one case only: a ``required=False`` field whose source cannot be
read (a task's ``data.size`` before any data exists) is skipped. Those gaps are
kept too, and listed where they happen; `validation.py` checks every response
against them (`CVAT_LEAVES_OUT`).
"""

from __future__ import annotations

import datetime
from typing import Any

from annoflow.adapters.cvat_sim.chunks import chunk_types
from annoflow.adapters.cvat_sim.http import Context, user_basic
from annoflow.adapters.cvat_sim.state import SimState, User

# rq's DEFAULT_RESULT_TTL for a finished request; TaskCreator keeps a failed one for
# IMPORT_CACHE_FAILED_TTL (30 days, cvat/settings/base.py)
_FINISHED_TTL = datetime.timedelta(seconds=500)
_FAILED_TTL = datetime.timedelta(days=30)


def user_json(ctx: Context, user: User) -> dict[str, Any]:
    """UserSerializer: what a user sees of themself (``/users/self``, their own ``/users/{id}``)."""
    return {
        **user_basic(ctx, user),
        "email": user.email,
        "groups": ["user"],
        "is_staff": False,
        "is_superuser": False,
        "is_active": True,
        "last_login": None,
        "date_joined": user.joined,
        "has_analytics_access": False,
    }


def seen_user_json(ctx: Context, user: User, *, listed: bool = False) -> dict[str, Any]:
    """UserViewSet.get_serializer_class: a user who is not staff sees every user of a list, and
    others, through BasicUserSerializer, and themself through UserSerializer."""
    basic = user_basic(ctx, user)
    return basic if listed or user.id != ctx.user.id else user_json(ctx, user)


def label_json(label: dict[str, Any]) -> dict[str, Any]:
    """LabelSerializer. Its ``to_representation`` drops whichever of ``task_id`` / ``project_id``
    is unset, and ``svg`` is read from the label's skeleton: a label of another type has none,
    so the field is skipped."""
    body: dict[str, Any] = {
        "id": label["id"],
        "name": label["name"],
        "color": label["color"],
        "type": label["type"],
        "attributes": [dict(a) for a in label["attributes"]],
        "sublabels": [],
        "parent_id": None,
        "has_parent": False,
    }
    if label["type"] == "skeleton":
        body["svg"] = label.get("svg", "")
    if label["project_id"]:
        body["project_id"] = label["project_id"]
    if label["task_id"]:
        body["task_id"] = label["task_id"]
    return body


def _user_or_none(ctx: Context, state: SimState, user_id: int | None) -> dict[str, Any] | None:
    return user_basic(ctx, state.users.get(user_id)) if user_id else None


def project_json(ctx: Context, state: SimState, project: dict[str, Any]) -> dict[str, Any]:
    """ProjectReadSerializer: ``task_subsets`` and ``dimension`` come from the project's tasks."""
    pid = project["id"]
    tasks = [t for t in state.tasks.values() if t["project_id"] == pid]
    return {
        "url": f"{ctx.base}/api/projects/{pid}",
        "id": pid,
        "name": project["name"],
        "owner": _user_or_none(ctx, state, project["owner_id"]),
        "assignee": _user_or_none(ctx, state, project["assignee_id"]),
        "guide_id": None,
        "bug_tracker": project["bug_tracker"],
        "task_subsets": sorted({t["subset"] for t in tasks if t["subset"]}),
        "created_date": project["created"],
        "updated_date": project["updated"],
        "status": "annotation",
        "dimension": "2d" if tasks else None,
        "organization": project["org_id"],
        "organization_id": project["org_id"],
        "target_storage": None,
        "source_storage": None,
        "tasks": {"count": len(tasks), "url": f"{ctx.base}/api/tasks?project_id={pid}"},
        "labels": {"url": f"{ctx.base}/api/labels?project_id={pid}"},
        "assignee_updated_date": project.get("assignee_updated"),
    }


def job_status(stage: str, state: str) -> str:
    """JobWriteSerializer.update: a job's status follows its stage and state."""
    if stage == "annotation":
        return "annotation"
    return "completed" if stage == "acceptance" and state == "completed" else "validation"


def _task_status(jobs: list[dict[str, Any]]) -> str:
    """signals.__save_job_handler: annotation while a job is, else validation while one is."""
    statuses = {job_status(j["stage"], j["state"]) for j in jobs}
    if not statuses or "annotation" in statuses:
        return "annotation"
    return "validation" if "validation" in statuses else "completed"


def task_json(ctx: Context, state: SimState, task: dict[str, Any]) -> dict[str, Any]:
    """TaskReadSerializer. The ``data.*`` fields are ``required=False``: a task with no data
    yet has none of them. The job summary is an annotation of the viewset's queryset, which
    TaskViewSet.perform_create reads again for the answer to a create."""
    tid = task["id"]
    data = task["data"]
    jobs = [j for j in state.jobs.values() if j["task_id"] == tid]
    body: dict[str, Any] = {
        "url": f"{ctx.base}/api/tasks/{tid}",
        "id": tid,
        "name": task["name"],
        "project_id": task["project_id"],
        "mode": data.get("mode", "") if data else "",
        "owner": _user_or_none(ctx, state, task["owner_id"]),
        "assignee": _user_or_none(ctx, state, task["assignee_id"]),
        "bug_tracker": task["bug_tracker"],
        "created_date": task["created"],
        "updated_date": task["updated"],
        "overlap": task["overlap"],
        "segment_size": task["segment_size"],
        "status": _task_status(jobs),
        "guide_id": None,
        "dimension": "2d",
        "subset": task["subset"],
        "organization_id": task["org_id"],
        "organization": task["org_id"],
        "target_storage": None,
        "source_storage": None,
        "jobs": {
            "count": len(jobs),
            "completed": sum(j["stage"] == "acceptance" and j["state"] == "completed" for j in jobs),
            "validation": sum(j["stage"] == "validation" for j in jobs),
            "url": f"{ctx.base}/api/jobs?task_id={tid}",
        },
        "labels": {"url": f"{ctx.base}/api/labels?task_id={tid}"},
        "assignee_updated_date": task.get("assignee_updated"),
        "validation_mode": None,
        "consensus_enabled": False,
    }
    if data:
        original, compressed = chunk_types(data)
        body.update(
            data_chunk_size=data.get("chunk_size"),
            data_original_chunk_type=original,
            data_compressed_chunk_type=compressed,
            data_cloud_storage_id=None,
            size=data.get("size", 0),
            image_quality=data["image_quality"],
            data=tid,
        )
    return body


def job_json(ctx: Context, state: SimState, job: dict[str, Any]) -> dict[str, Any]:
    """JobReadSerializer. ``bug_tracker`` is the task's, else its project's (null without one);
    the storages are the task's."""
    task = state.tasks[job["task_id"]]
    data = task["data"]
    project = state.projects.get(task["project_id"]) if task["project_id"] else None
    original, compressed = chunk_types(data)
    return {
        "url": f"{ctx.base}/api/jobs/{job['id']}",
        "id": job["id"],
        "task_id": task["id"],
        "project_id": task["project_id"],
        "assignee": _user_or_none(ctx, state, job["assignee_id"]),
        "guide_id": None,
        "dimension": "2d",
        "bug_tracker": task["bug_tracker"] or (project["bug_tracker"] if project else None),
        "status": job_status(job["stage"], job["state"]),
        "stage": job["stage"],
        "state": job["state"],
        "mode": data["mode"],
        "frame_count": job["stop_frame"] - job["start_frame"] + 1,
        "start_frame": job["start_frame"],
        "stop_frame": job["stop_frame"],
        "data_chunk_size": data["chunk_size"],
        "data_compressed_chunk_type": compressed,
        "data_original_chunk_type": original,
        "created_date": job["created"],
        "updated_date": job["updated"],
        "issues": {"url": f"{ctx.base}/api/issues?job_id={job['id']}", "count": 0},
        "labels": {"url": f"{ctx.base}/api/labels?job_id={job['id']}"},
        "type": "annotation",
        "organization": task["org_id"],
        "target_storage": None,
        "source_storage": None,
        "assignee_updated_date": job.get("assignee_updated"),
        "parent_job_id": None,
        "consensus_replicas": 0,
    }


def data_meta_json(task: dict[str, Any], job: dict[str, Any] | None) -> dict[str, Any]:
    """DataMetaReadSerializer, filled as TaskViewSet.metadata / JobViewSet.metadata fill it: a
    job's start and stop are frame numbers of the media, its frames the images it holds; Data
    has no ``included_frames`` (null) unless a job's segment lists its frames; ``chapters`` are
    a video's (none in the media the simulator makes), null for images."""
    data = task["data"]
    video = data.get("mode") == "interpolation"
    frames = data.get("frames", [])
    size, start, stop = data.get("size", 0), data.get("start_frame", 0), data.get("stop_frame", 0)
    if job is not None:
        step = data.get("step", 1)
        start, stop = start + job["start_frame"] * step, min(stop, start + job["stop_frame"] * step)
        size = job["stop_frame"] - job["start_frame"] + 1
        if not video:
            frames = frames[job["start_frame"] : job["stop_frame"] + 1]
    return {
        "chunks_updated_date": task["updated"],
        "chunk_size": data.get("chunk_size"),
        "size": size,
        "image_quality": data["image_quality"],
        "start_frame": start,
        "stop_frame": stop,
        "frame_filter": data.get("frame_filter", ""),
        "frames": [{**f, "related_files": 0, "has_related_context": False} for f in frames],
        "deleted_frames": [],
        "included_frames": None,
        "storage": "local",
        "cloud_storage_id": None,
        "chapters": [] if video else None,
    }


def _stamp(value: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))


def _iso(value: datetime.datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def request_json(state: SimState, record: dict[str, Any]) -> dict[str, Any]:
    """RequestSerializer (cvat/apps/redis_handler/serializers.py) of a task creation: its
    operation has ``format`` (an ImportRequestId may carry one) and ``lightweight``, no
    ``function_id``; the creation returns nothing, so ``result_id`` stays null; a finished
    or failed request expires its TTL after it ended."""
    owner = state.users[record["owner"]]
    status = record["status"]
    expiry = None
    if record.get("finished") and status in ("finished", "failed"):
        expiry = _iso(_stamp(record["finished"]) + (_FINISHED_TTL if status == "finished" else _FAILED_TTL))
    return {
        "status": status,
        "message": record["message"] if status in ("started", "failed") else "",
        "id": record["id"],
        # a task's creation, or the export of its annotations (exports.py), which carries its format and result
        "operation": {
            "type": record.get("operation", "create:task"),
            "target": "task",
            "project_id": record.get("project_id"),
            "task_id": record["task_id"],
            "job_id": None,
            "format": record.get("format"),
            "lightweight": None,
        },
        "progress": record.get("progress", 1.0 if status == "finished" else 0.0),
        "created_date": record["created"],
        "started_date": record.get("started"),
        "finished_date": record["finished"],
        "expiry_date": expiry,
        "owner": {"id": owner.id, "username": owner.username},
        "result_url": record.get("result_url"),
        "result_id": None,
    }

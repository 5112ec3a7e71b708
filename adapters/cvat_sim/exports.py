"""A task's annotations exported as CVAT 2.52 exports them: "CVAT for images 1.1" and "CVAT for video 1.1".

docs/simulator.md gives the endpoints, the XML written and what the simulator leaves out.
"""

from __future__ import annotations

import datetime
import io
import zipfile
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from annoflow.adapters.cvat_sim.http import context, cvat_json
from annoflow.adapters.cvat_sim.resources import get_task, labels_of_task
from annoflow.adapters.cvat_sim.state import SimError, SimState, bad_request, now
from annoflow.adapters.cvat_xml.writer import CvatXmlWriter, label_meta

FORMATS = ("CVAT for images 1.1", "CVAT for video 1.1")


def _named(obj: dict[str, Any], names: dict[int, str], specs: dict[int, str]) -> dict[str, Any]:
    out = {k: v for k, v in obj.items() if k not in ("label_id", "attributes")}
    if "label_id" in obj:
        out["label"] = names[obj["label_id"]]
    out["attributes"] = [(specs[a["spec_id"]], a["value"]) for a in obj.get("attributes", ()) if a["spec_id"] in specs]
    return out


def _meta(
    task: dict[str, Any], labels: list[dict[str, Any]], owner: Any, base: str, state: SimState
) -> list[tuple[str, Any]]:
    data = task["data"]
    jobs = sorted((j for j in state.jobs.values() if j["task_id"] == task["id"]), key=lambda j: j["id"])
    meta: list[tuple[str, Any]] = [
        ("id", str(task["id"])),
        ("name", task["name"]),
        ("size", str(data["size"])),
        ("mode", data["mode"]),
        ("overlap", str(task.get("overlap") or 0)),
        ("bugtracker", task.get("bug_tracker") or ""),
        ("created", task["created"]),
        ("updated", task["updated"]),
        ("subset", task.get("subset") or "default"),
        ("start_frame", str(data["start_frame"])),
        ("stop_frame", str(data["stop_frame"])),
        ("frame_filter", data.get("frame_filter") or ""),
        (
            "segments",
            [
                (
                    "segment",
                    [
                        ("id", str(j["id"])),
                        ("start", str(j["start_frame"])),
                        ("stop", str(j["stop_frame"])),
                        ("url", f"{base}/api/jobs/{j['id']}"),
                    ],
                )
                for j in jobs
            ],
        ),
        ("owner", [("username", owner.username), ("email", getattr(owner, "email", "") or "")] if owner else ""),
        ("assignee", ""),
        ("labels", label_meta(labels)),
    ]
    if data["mode"] == "interpolation":
        frame = data["frames"][0]
        meta += [
            ("original_size", [("width", str(frame["width"])), ("height", str(frame["height"]))]),
            ("source", frame["name"]),
        ]
    return [("task", meta), ("dumped", now())]


def render(state: SimState, task: dict[str, Any], fmt: str, base: str) -> bytes:
    """The export's ZIP: ``annotations.xml`` in ``fmt``."""
    labels = labels_of_task(state, task)
    names = {label["id"]: label["name"] for label in labels}
    specs = {a["id"]: a["name"] for label in labels for a in label["attributes"]}
    owner = state.users.get(task["owner_id"])
    text = io.StringIO()
    writer = CvatXmlWriter(text)
    writer.start(_meta(task, labels, owner, base, state))
    if fmt == "CVAT for images 1.1":
        _write_images(writer, task, fmt, names, specs)
    else:
        _write_video(writer, task, names, specs)
    writer.end()
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("annotations.xml", text.getvalue())
    return archive.getvalue()


def _write_images(
    writer: CvatXmlWriter, task: dict[str, Any], fmt: str, names: dict[int, str], specs: dict[int, str]
) -> None:
    """Each frame as an image with its shapes (by z_order) and tags; tracks are refused."""
    stored, data = task["annotations"], task["data"]
    step = data.get("step") or 1
    if stored["tracks"]:
        raise SimError(
            400,
            [
                f"the simulator cannot write task {task['id']}'s tracks in {fmt!r}: CVAT interpolates "
                "them into shapes, which the simulator does not (export 'CVAT for video 1.1')"
            ],
        )
    by_frame: dict[int, tuple[list[Any], list[Any]]] = {}
    for kind, slot in (("shapes", 0), ("tags", 1)):
        for obj in stored[kind]:
            by_frame.setdefault(obj["frame"], ([], []))[slot].append(_named(obj, names, specs))
    for number, frame in enumerate(data["frames"]):
        shapes, tags = by_frame.get(number, ([], []))
        writer.image(
            data["start_frame"] + number * step,
            frame["name"],
            frame["width"],
            frame["height"],
            sorted(shapes, key=lambda s: s.get("z_order", 0)),
            tags,
        )


def _write_video(writer: CvatXmlWriter, task: dict[str, Any], names: dict[int, str], specs: dict[int, str]) -> None:
    """Tracks as tracks of keyframes, then each shape as a track of its own, numbered in that order."""
    stored, data = task["annotations"], task["data"]
    step = data.get("step") or 1
    stop = data["stop_frame"]
    number = 0
    for track in stored["tracks"]:
        shapes = [
            _named({**s, "keyframe": True}, names, specs) for s in sorted(track["shapes"], key=lambda s: s["frame"])
        ]
        for shape in shapes:
            shape["attributes"] = [
                *[(specs[a["spec_id"]], a["value"]) for a in track.get("attributes", ())],
                *shape["attributes"],
            ]
            shape["frame"] = data["start_frame"] + shape["frame"] * step
        writer.track(
            number, names[track["label_id"]], shapes, source=track.get("source") or "manual", group=track.get("group")
        )
        number += 1
    for obj in stored["shapes"]:
        shape = _named(obj, names, specs)
        frame = data["start_frame"] + obj["frame"] * step
        shapes = [{**shape, "frame": frame, "keyframe": True, "outside": False}]
        if frame + step < stop:  # closed on the next frame unless that hops over the last, as CVAT does
            shapes.append({**shape, "frame": frame + step, "keyframe": True, "outside": True})
        writer.track(number, shape["label"], shapes, source=obj.get("source") or "manual", group=obj.get("group"))
        number += 1


class ExportRoutes:
    """The export routes of a task's annotations (the requests API's export, then its download)."""

    def __init__(self, state: SimState) -> None:
        self.state = state

    async def export(self, request: Request) -> Response:
        ctx = context(self.state, request)
        with self.state.lock:
            task = get_task(self.state, ctx, request.path_params["id"])
            fmt = request.query_params.get("format")
            if fmt is None:
                raise bad_request("format", "This field is required.")
            if fmt not in FORMATS:
                raise bad_request("detail", "Unknown format specified for the request")
            if request.query_params.get("save_images", "false").lower() in ("true", "1"):
                raise bad_request("save_images", "the simulator exports annotations only (save_images=false)")
            if not task["data"] or not task["data"]["size"]:
                raise bad_request("detail", "The task has no data yet")
            rq_id = (
                f"action=export&target=task&target_id={task['id']}&user_id={ctx.user.id}"
                f"&subresource=annotations&format={fmt}"
            )
            stamp = now()
            record = {
                "id": rq_id,
                "owner": ctx.user.id,
                "status": "finished",
                "message": "",
                "created": stamp,
                "started": stamp,
                "finished": stamp,
                "task_id": task["id"],
                "project_id": task["project_id"],
                "progress": 1.0,
                "operation": "export:annotations",
                "format": fmt,
                "result_url": f"{ctx.base}/api/tasks/{task['id']}/dataset/download?rq_id={quote(rq_id)}",
            }
            try:
                self.state.exports[rq_id] = render(self.state, task, fmt, ctx.base)
            except SimError as error:  # CVAT reports a failed export through the request
                record.update(
                    status="failed",
                    message=str(error.body[0] if isinstance(error.body, list) else error.body),
                    result_url=None,
                    progress=0.0,
                )
            self.state.requests[rq_id] = record
        return cvat_json({"rq_id": rq_id}, status=202)

    async def download(self, request: Request) -> Response:
        ctx = context(self.state, request)
        with self.state.lock:
            task = get_task(self.state, ctx, request.path_params["id"])
            rq_id = request.query_params.get("rq_id", "")
            record = self.state.requests.get(rq_id)
            if (
                record is None
                or record["owner"] != ctx.user.id
                or record.get("task_id") != task["id"]
                or record.get("operation") != "export:annotations"
            ):
                return Response("Unknown export request id", status_code=400)
            if record["status"] != "finished":
                return Response("The export process is not finished", status_code=400)
            content = self.state.exports.get(rq_id)
            if content is None:
                return Response("The exported file has expired, please retry exporting", status_code=404)
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y_%m_%d_%H_%M_%S")
        name = f"task_{task['id']}_annotations_{stamp}_{record['format'].lower().replace(' ', '-')}.zip"
        return Response(
            content, media_type="application/zip", headers={"Content-Disposition": f'attachment; filename="{name}"'}
        )


def routes(state: SimState) -> dict[str, Any]:
    """The handlers by the names app.py binds to paths."""
    handlers = ExportRoutes(state)
    return {
        "dataset_export": handlers.export,
        "dataset_download": handlers.download,
    }

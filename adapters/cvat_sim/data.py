"""Logging in, task data (multipart and TUS uploads), background requests, data meta and frames."""

from __future__ import annotations

import base64
import re
import secrets
from collections import Counter
from pathlib import Path
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from annoflow.adapters.cvat_sim.chunks import chunk_headers, task_chunk
from annoflow.adapters.cvat_sim.http import Context, context, cvat_json, json_body, operation, paginate
from annoflow.adapters.cvat_sim.media import new_data, video_frame_png
from annoflow.adapters.cvat_sim.processing import Processor
from annoflow.adapters.cvat_sim.read_models import data_meta_json, request_json
from annoflow.adapters.cvat_sim.resources import get_job, get_task
from annoflow.adapters.cvat_sim.state import SimError, SimState, Upload, bad_request, not_found, now


def _form_parts(items: list[tuple[str, Any]]) -> tuple[dict[str, list[str]], list[tuple[str, UploadFile]]]:
    """A multipart form's text fields (values by name) and files, CVAT's indexes (``[0]``) dropped."""
    texts: dict[str, list[str]] = {}
    files: list[tuple[str, UploadFile]] = []
    for key, value in items:
        name = re.sub(r"\[\d+\]$", "", key)
        if isinstance(value, UploadFile):
            files.append((name, value))
        else:
            texts.setdefault(name, []).append(value)
    return texts, files


def _form_fields(request: Request, texts: dict[str, list[str]], files: list[tuple[str, UploadFile]]) -> dict[str, Any]:
    """The form's fields checked as its operation's request model, as CVAT's DataSerializer does."""
    op = operation(request)
    if op is None or op.form is None:
        return _plain_fields(texts)
    if "client_files" in texts:  # a FileField given text
        raise SimError(
            400,
            {
                "client_files": {
                    str(i): ["The submitted data was not a file. Check the encoding type on the form."]
                    for i in range(len(texts["client_files"]))
                }
            },
        )
    fields = op.form_as_data(texts, Counter(name for name, _ in files))
    if (errors := op.form(fields)) is not None:
        raise SimError(400, errors)
    fields.pop("client_files", None)
    return fields


def _plain_fields(texts: dict[str, list[str]]) -> dict[str, Any]:
    return {
        name: values[-1] if len(values) == 1 and name != "upload_file_order" else values
        for name, values in texts.items()
    }


class DataRoutes:
    """The routes of logging in, task data, frames, data meta and background requests, each a
    method over the state and the processor."""

    def __init__(self, state: SimState, processor: Processor) -> None:
        self.state = state
        self.processor = processor

    async def login(self, request: Request) -> Response:
        body = await json_body(request)
        password = body.get("password")
        identity = body.get("username") or body.get("email")
        if not password or not identity:
            raise bad_request("non_field_errors", 'Must include "username" and "password".')
        found = self.state.login(identity, password)
        if found is None:
            raise bad_request("non_field_errors", "Unable to log in with provided credentials.")
        key, session, csrf = found
        response = cvat_json({"key": key})
        response.set_cookie("sessionid", session, httponly=True, samesite="lax")
        response.set_cookie("csrftoken", csrf, samesite="lax")
        return response

    async def logout(self, request: Request) -> Response:
        ctx = context(self.state, request)
        self.state.logout(ctx.user.id)
        response = cvat_json({"detail": "Successfully logged out."})
        response.delete_cookie("sessionid")
        response.delete_cookie("csrftoken")
        return response

    def _receive(self, task_id: int, folder: Path, name: str, content: bytes) -> None:
        safe = Path(name).name
        path = folder / safe
        with open(path, "wb") as out:
            out.write(content)
        self.state.uploads.setdefault(task_id, []).append(Upload(safe, path, len(content)))

    async def _files_and_fields(self, request: Request, task_id: int, *, check: bool = True) -> dict[str, Any]:
        """The data request's fields (its files saved for the task), refused as CVAT's DataSerializer
        refuses them before any file is kept; ``check=False`` for an Upload-Multiple step, which
        only carries files."""
        content_type = request.headers.get("content-type", "")
        if not content_type.startswith("multipart/form-data"):
            return await json_body(request)
        form = await request.form(max_files=100_000, max_fields=100_000)
        texts, files = _form_parts(form.multi_items())
        fields = _form_fields(request, texts, files) if check else _plain_fields(texts)
        folder = self.state.media_dir / "uploads" / str(task_id)
        folder.mkdir(parents=True, exist_ok=True)  # once per request, not per file
        for name, value in files:
            self._receive(task_id, folder, value.filename or name, await value.read())
        return fields

    def _attach_data(self, task: dict[str, Any]) -> dict[str, Any]:
        """TaskViewSet.data: the first data request gives the task its Data (size 0 until processed);
        a task whose data were processed takes no more."""
        if task["data"] is None:
            task["data"] = new_data()
        elif task["data"]["size"] != 0:
            raise SimError(400, "Adding more data is not supported")
        return task["data"]

    def _finish(self, task: dict[str, Any], fields: dict[str, Any], user_id: int) -> Response:
        # the fields passed DataRequest's checks (json_body, _files_and_fields): image_quality is there
        task["data"].update(image_quality=fields["image_quality"], chunk_size=fields.get("chunk_size"))
        rq_id = f"action=create&target=task&target_id={task['id']}"  # ImportRequestId.render()
        record = {
            "id": rq_id,
            "owner": user_id,
            "created": now(),
            "started": None,
            "finished": None,
            "task_id": task["id"],
            "project_id": task["project_id"],
            "status": "queued",
            "message": "",
            "progress": 0.0,
        }
        self.state.requests.pop(rq_id, None)  # a new request replaces a failed one, and lists as the newest
        self.state.requests[rq_id] = record
        self.processor.submit(task, record, self.state.uploads.pop(task["id"], []), fields)
        return cvat_json({"rq_id": rq_id}, 202)

    async def task_data(self, request: Request) -> Response:
        ctx = context(self.state, request)
        task = get_task(self.state, ctx, request.path_params["id"])
        if request.method == "GET":
            return self._frame(request, task)
        with self.state.lock:
            self._attach_data(task)  # before anything is read, as TaskViewSet.data
        headers = request.headers
        if "upload-start" in headers:
            self.state.uploads[task["id"]] = []
            return Response(status_code=202)
        if "upload-multiple" in headers:
            await self._files_and_fields(request, task["id"], check=False)
            return Response(status_code=200)
        if "tus-resumable" in headers:
            return self._tus_create(request, task)
        fields = await self._files_and_fields(request, task["id"])
        with self.state.lock:
            return self._finish(task, fields, ctx.user.id)

    def _tus_create(self, request: Request, task: dict[str, Any]) -> Response:
        length = int(request.headers.get("upload-length", "0"))
        meta = {}
        for item in request.headers.get("upload-metadata", "").split(","):
            if item.strip():
                key, _, value = item.strip().partition(" ")
                meta[key] = base64.b64decode(value).decode()
        name = Path(meta.get("filename") or "file").name
        file_id = secrets.token_hex(8)
        path = self.state.media_dir / "uploads" / str(task["id"]) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
        self.state.tus[file_id] = {"task": task["id"], "name": name, "path": path, "length": length, "offset": 0}
        if length == 0:
            self.state.uploads.setdefault(task["id"], []).append(Upload(name, path, 0))
        location = f"{str(request.url).split('?')[0].rstrip('/')}/{file_id}"
        return Response(
            status_code=201,
            headers={
                "Location": location,
                "Upload-Filename": name,
                "Tus-Resumable": "1.0.0",
            },
        )

    async def tus_chunk(self, request: Request) -> Response:
        ctx = context(self.state, request)
        task = get_task(self.state, ctx, request.path_params["id"])
        upload = self.state.tus.get(request.path_params["file_id"])
        if upload is None or upload["task"] != task["id"]:
            raise not_found()
        tus_headers = {"Tus-Resumable": "1.0.0", "Upload-Offset": str(upload["offset"])}
        if request.method == "HEAD":
            return Response(status_code=200, headers={**tus_headers, "Upload-Length": str(upload["length"])})
        offset = int(request.headers.get("upload-offset", "-1"))
        if offset != upload["offset"]:
            return Response(status_code=409, headers=tus_headers)
        chunk = await request.body()
        with open(upload["path"], "ab") as out:
            out.write(chunk)
        upload["offset"] += len(chunk)
        if upload["offset"] >= upload["length"]:
            self.state.uploads.setdefault(task["id"], []).append(
                Upload(upload["name"], upload["path"], upload["offset"])
            )
            del self.state.tus[request.path_params["file_id"]]
        return Response(status_code=204, headers={"Tus-Resumable": "1.0.0", "Upload-Offset": str(upload["offset"])})

    def _frame(self, request: Request, task: dict[str, Any]) -> Response:
        """A task's frame or chunk, as CVAT's ``_TaskDataGetter`` serves them (task-relative numbers)."""
        data = task["data"]
        if data is None or not data["size"]:
            raise not_found()
        query = request.query_params
        kind, number_text = query.get("type"), query.get("number")
        # _DataGetter's refusals, as CVAT words them (a list body)
        if kind not in ("chunk", "frame", "preview", "context_image"):
            raise SimError(400, ["Data type not specified or has wrong value"])
        if number_text is None and kind != "preview":
            raise SimError(400, ["Number is not specified"])
        quality = query.get("quality", "compressed")
        if quality not in ("compressed", "original"):
            raise SimError(400, ["Wrong quality value"])
        if kind not in ("frame", "chunk"):
            raise bad_request("type", "This simulator serves type=frame and type=chunk only")
        if number_text is None or not re.fullmatch(
            r"-?\d+", number_text
        ):  # CVAT fails with a 500 here; the schema says integer
            raise bad_request("number", "A valid integer is required.")
        number = int(number_text)
        if kind == "chunk":  # the frame provider's ValidationError comes back as its message, a string body
            content, mime = task_chunk(data, number, quality)
            return Response(content, media_type=mime, headers=chunk_headers(content, task["updated"]))
        if not 0 <= number < data["size"]:
            raise SimError(
                400, f"Invalid frame '{number}'. The frame number should be in the [0, {data['size']}] range"
            )
        if data["mode"] == "interpolation":  # the task's frame k is frame start + k * step of its video
            png = video_frame_png(data["files"][0], data["start_frame"] + number * data["step"])
            return Response(png, media_type="image/png")
        name = data["frames"][number]["name"]
        path = next(Path(p) for p in data["files"] if Path(p).name == name)
        return FileResponse(path)

    async def data_meta(self, request: Request) -> Response:
        ctx = context(self.state, request)
        job = None
        if "task_id" in request.path_params:
            task = get_task(self.state, ctx, request.path_params["task_id"])
        else:
            job = get_job(self.state, ctx, request.path_params["job_id"])
            task = self.state.tasks[job["task_id"]]
        if task["data"] is None:
            raise not_found()
        return cvat_json(data_meta_json(task, job))

    def _visible_requests(self, ctx: Context) -> list[dict[str, Any]]:
        return [r for r in self.state.requests.values() if r["owner"] == ctx.user.id]

    async def requests_list(self, request: Request) -> Response:
        ctx = context(self.state, request)
        found = sorted(self._visible_requests(ctx), key=lambda r: r["created"], reverse=True)  # RequestViewSet.ordering
        return paginate(request, found, lambda r: request_json(self.state, r))

    async def request_detail(self, request: Request) -> Response:
        ctx = context(self.state, request)
        record = self.state.requests.get(request.path_params["rq_id"])
        if record is None or record["owner"] != ctx.user.id:
            raise not_found()
        return cvat_json(request_json(self.state, record))

    async def task_status(self, request: Request) -> Response:
        """The deprecated route (TaskViewSet.status): the self.state of the task's creation request;
        no request at all reads as Finished, as an expired one does."""
        ctx = context(self.state, request)
        task = get_task(self.state, ctx, request.path_params["id"])
        record = self.state.requests.get(f"action=create&target=task&target_id={task['id']}")
        status = record["status"] if record else "finished"
        answer: dict[str, Any] = {"state": status.capitalize(), "message": "", "progress": 0.0}
        if record is not None and status in ("failed", "started"):
            answer["message"] = record["message"]
        return cvat_json(answer, headers={"Deprecation": "true"})


def routes(state: SimState, processor: Processor) -> dict[str, Any]:
    """The handlers by the names app.py binds to paths."""
    handlers = DataRoutes(state, processor)
    return {
        "login": handlers.login,
        "logout": handlers.logout,
        "task_data": handlers.task_data,
        "tus_chunk": handlers.tus_chunk,
        "data_meta": handlers.data_meta,
        "requests_list": handlers.requests_list,
        "request_detail": handlers.request_detail,
        "task_status": handlers.task_status,
    }

"""CVATClient: the CVAT operations an annotation workflow needs, over one httpx connection pool.

Every call goes through `request`, which turns failures into typed errors
(`CVATError` and its subclasses, carrying the HTTP status and CVAT's message). Every HTTP
exchange, the login included, is bounded by the settings' timeouts (timeouts.py): a
connect and a read timeout and an overall deadline (deadline.py); the one that runs out is
named in a `CVATTimeoutError`.
Lists are read through `next` links; nested collections given as
``{url, count}`` are followed. Media go up in groups of files opened only
for their own request, so uploads stay bounded in memory and file handles.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypedDict
from urllib.parse import quote

import httpx
import orjson

from annoflow.adapters.cvat.auth import CVATAuth
from annoflow.adapters.cvat.deadline import DeadlineExceeded, DeadlineTransport, httpx_timeout
from annoflow.adapters.cvat.errors import (
    CVATAnswerError,
    CVATConnectionError,
    CVATError,
    CVATNotFoundError,
    CVATTimeoutError,
    error_for,
)
from annoflow.adapters.cvat.retry import RetryingTransport, RetryPolicy
from annoflow.adapters.cvat.settings import CVATSettings
from annoflow.adapters.cvat.timeouts import Timeouts

logger = logging.getLogger(__name__)
# Files of one Upload-Multiple request: CVAT's SDK groups small files by size alone (100 MiB); the
# count bound keeps a request's form parts few enough for servers that cap them.
FILES_PER_REQUEST = 1000
BYTES_PER_REQUEST = 64 * 2**20
ONE_BODY_BYTES = 8 * 2**20  # a request's files up to this size are read and sent as one body


def parse_version(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


class _Exchange(TypedDict):
    """The request a transport error happened in, as a CVATError's keywords name it."""

    method: str
    url: str


class CVATClient:
    def __init__(
        self,
        settings: CVATSettings,
        *,
        transport: httpx.BaseTransport | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        wait_timeout: float = 1800.0,
        poll_interval: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.auth = CVATAuth(settings)
        self.timeouts = timeouts or settings.timeouts
        self.retrying = RetryingTransport(
            transport or DeadlineTransport(self.timeouts, tls=settings.base_url.lower().startswith("https:")),
            retry or RetryPolicy(sleep=sleep),
        )
        headers = {"Accept": "application/vnd.cvat+json, application/json", **settings.header_dict()}
        if settings.organization:
            headers["X-Organization"] = settings.organization
        self.http = httpx.Client(
            base_url=settings.base_url,
            headers=headers,
            auth=self.auth,
            transport=self.retrying,
            timeout=httpx_timeout(self.timeouts),
        )
        self.wait_timeout = wait_timeout
        self.poll_interval = poll_interval
        self._sleep = sleep
        self._clock = clock
        self._version: tuple[int, ...] | None = None
        self.requests = 0

    def __repr__(self) -> str:
        return f"CVATClient(url={self.settings.base_url!r}, user={self.settings.username or self.settings.email!r})"

    def __enter__(self) -> CVATClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    # --- the one way out --------------------------------------------------------------

    def request(self, method: str, url: str, *, expect: Sequence[int] = (), **kwargs: Any) -> httpx.Response:
        """Send a request; a status outside 2xx (and ``expect``) raises a typed CVATError."""
        self.requests += 1
        try:
            response = self.http.request(method, url, **kwargs)
        except httpx.TimeoutException as error:
            raise self._timeout_error(error, **self._exchange(error, method, url)) from None
        except httpx.TransportError as error:
            unreached = isinstance(error, httpx.ConnectError)
            what = "cannot reach CVAT" if unreached else "CVAT dropped the connection"
            raise CVATConnectionError(
                f"{what}: {type(error).__name__}", connected=not unreached, **self._exchange(error, method, url)
            ) from None
        logger.debug("%s %s: HTTP %d", method, response.request.url.path, response.status_code)
        if response.is_closed:
            # httpx's stream of a response points back at it: a cycle only the collector frees, and backends
            # pause it for a task's load, so a task's bodies (its whole annotations answer) would live until
            # the task is done. Its body read, the response needs no stream but its content's (as httpx does
            # for a request).
            response.stream = httpx.ByteStream(response.content)
        if response.is_success or response.status_code in expect:
            return response
        if response.status_code == 404 and self.settings.organization and self._organization_unknown():
            raise CVATNotFoundError(
                f"CVAT has no organization {self.settings.organization!r} (or this user is no member of it): "
                "pass the slug of one the user belongs to, or no organization",
                status=404,
                method=method,
                url=self._url(url),
            )
        raise error_for(response.status_code, response.content, method, self._url(url))

    def _organization_unknown(self) -> bool:
        """CVAT answers 404 to every request made in an organization it does not know (or the user is
        not in): asking who the user is tells that apart from an object that is not there."""
        try:
            return self.http.get("/api/users/self").status_code == 404
        except httpx.HTTPError:
            return False

    def _url(self, url: str) -> str:
        return url if url.startswith("http") else f"{self.settings.base_url}{url}"

    def _exchange(self, error: httpx.TransportError, method: str, url: str) -> _Exchange:
        """The request that failed: the exchange httpx was in (the login, say), else the one asked for."""
        try:
            failed = error.request
        except RuntimeError:  # httpx had not attached it
            return {"method": method, "url": self._url(url)}
        return {"method": failed.method, "url": str(failed.url.copy_with(query=None))}

    def _timeout_error(self, error: httpx.TimeoutException, **where: str) -> CVATTimeoutError:
        if isinstance(error.__cause__, DeadlineExceeded):
            bound, what = "deadline", "CVAT did not finish answering within the"
        elif isinstance(error, httpx.ConnectTimeout):
            bound, what = "connect", "could not connect to CVAT within the"
        elif isinstance(error, httpx.WriteTimeout):
            bound, what = "read", "CVAT took nothing of the request for the"
        else:
            bound, what = "read", "CVAT sent nothing for the"
        return CVATTimeoutError(
            f"{what} {self.timeouts.describe(bound)}",
            bound=self.timeouts.setting(bound),
            seconds=getattr(self.timeouts, bound),
            **where,
        )

    def json(self, response: httpx.Response) -> Any:
        """An answer's JSON. Anything else (an HTML page where JSON belongs, a cut-off body, NaN, which
        CVAT never writes) is a `CVATAnswerError` naming the request, never a decoder's own exception."""
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError as error:
            request = response.request
            kind = response.headers.get("content-type", "no content type").split(";")[0]
            start = response.content[:60].decode("utf-8", "replace")
            raise CVATAnswerError(
                f"CVAT answered with {kind} that is not JSON ({error}), starting {start!r}",
                status=response.status_code,
                method=request.method,
                url=self._url(request.url.path),
            ) from None

    def get_json(self, url: str, **params: Any) -> Any:
        return self.json(self.request("GET", url, params={k: v for k, v in params.items() if v is not None}))

    def paginate(self, url: str, **params: Any) -> Iterator[dict[str, Any]]:
        """Every item of a paged list, following ``next`` until it is null."""
        page: Any = self.get_json(url, page_size=100, **params)
        while True:
            if not isinstance(page, dict) or not isinstance(page.get("results"), list):
                raise CVATAnswerError(
                    f"a page of a list is an object holding a list of results, CVAT answered {type(page).__name__}",
                    method="GET",
                    url=self._url(url),
                )
            yield from page["results"]
            if not page.get("next"):
                return
            page = self.json(self.request("GET", page["next"]))

    def follow(self, summary: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The items of a nested collection given as ``{url, count}``."""
        return list(self.paginate(summary["url"]))

    # --- server and users -------------------------------------------------------------

    def server_version(self) -> tuple[int, ...]:
        if self._version is None:
            self._version = parse_version(self.get_json("/api/server/about")["version"])
        return self._version

    def user_id(self, username: str) -> int:
        for user in self.paginate("/api/users", username=username):
            if user["username"] == username:
                return user["id"]
        raise CVATNotFoundError(
            f"no CVAT user named {username!r}", status=404, method="GET", url=self._url("/api/users")
        )

    def logout(self) -> None:
        if self.auth.logged_in:
            self.request("POST", "/api/auth/logout")
            self.auth.forget()

    # --- projects -----------------------------------------------------------------------

    def find_project(self, name: str) -> dict[str, Any] | None:
        return next((p for p in self.paginate("/api/projects", name=name) if p["name"] == name), None)

    def search(self, kind: str, term: str) -> list[dict[str, Any]]:
        """Projects or tasks (``kind``) whose name contains ``term`` (CVAT's search, checked here by name)."""
        if kind not in ("projects", "tasks"):
            raise ValueError(f"kind is projects or tasks, got {kind!r}")
        return [item for item in self.paginate(f"/api/{kind}", search=term) if term in item["name"]]

    def rename(self, kind: str, object_id: int, name: str) -> dict[str, Any]:
        if kind not in ("projects", "tasks"):
            raise ValueError(f"kind is projects or tasks, got {kind!r}")
        return self.json(self.request("PATCH", f"/api/{kind}/{object_id}", json={"name": name}))

    def project(self, project_id: int) -> dict[str, Any]:
        return self.get_json(f"/api/projects/{project_id}")

    def create_project(self, name: str, labels: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        return self.json(self.request("POST", "/api/projects", json={"name": name, "labels": list(labels)}))

    def delete_project(self, project_id: int) -> bool:
        """Delete a project (and its tasks); False when it was already gone."""
        deleted = self.request("DELETE", f"/api/projects/{project_id}", expect=(404,)).status_code != 404
        logger.info("project %d %s", project_id, "deleted" if deleted else "was already gone: skipped")
        return deleted

    # --- tasks and their data -------------------------------------------------------------

    def create_task(
        self,
        name: str,
        *,
        labels: Sequence[Mapping[str, Any]] | None = None,
        project_id: int | None = None,
        segment_size: int | None = None,
        assignee_id: int | None = None,
        bug_tracker: str | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"name": name}
        if project_id is not None:
            body["project_id"] = project_id
        else:
            body["labels"] = list(labels or [])
        if segment_size:
            body["segment_size"] = segment_size
        if assignee_id is not None:
            body["assignee_id"] = assignee_id
        if bug_tracker:
            body["bug_tracker"] = bug_tracker
        return self.json(self.request("POST", "/api/tasks", json=body))

    def task(self, task_id: int) -> dict[str, Any]:
        return self.get_json(f"/api/tasks/{task_id}")

    def delete_task(self, task_id: int) -> bool:
        """Delete a task; False when it was already gone."""
        deleted = self.request("DELETE", f"/api/tasks/{task_id}", expect=(404,)).status_code != 404
        logger.info("task %d %s", task_id, "deleted" if deleted else "was already gone: skipped")
        return deleted

    def upload_data(
        self,
        task_id: int,
        paths: Sequence[str | os.PathLike[str]],
        *,
        image_quality: int = 75,
        use_cache: bool = True,
        use_zip_chunks: bool = True,
        chunk_size: int | None = None,
        start_frame: int | None = None,
        stop_frame: int | None = None,
        frame_step: int | None = None,
        sorting_method: str = "predefined",
        names: Sequence[str] | None = None,
        on_sent: Callable[[int], None] | None = None,
        on_sending: Callable[[int], None] | None = None,
    ) -> str | None:
        """Send the task's media in order and start processing; returns the request id (rq_id).

        ``names`` are the file names CVAT shows (default: the files' own names); give them when
        files from different folders share a name. ``on_sending`` is told how many files a request
        carries as it goes out (its form made), ``on_sent`` once CVAT took them.
        """
        sources = [Path(p) for p in paths]
        names = [p.name for p in sources] if names is None else list(names)
        if len(names) != len(sources) or len(set(names)) != len(names):
            raise ValueError("upload names must be unique, one per file")
        named = dict(zip(sources, names, strict=True)) if len(set(sources)) == len(sources) else None
        url = f"/api/tasks/{task_id}/data/"
        fields: dict[str, Any] = {
            "image_quality": image_quality,
            "use_cache": use_cache,
            "use_zip_chunks": use_zip_chunks,
            "sorting_method": sorting_method,
        }
        for key, value in (("chunk_size", chunk_size), ("start_frame", start_frame), ("stop_frame", stop_frame)):
            if value is not None:
                fields[key] = value
        if frame_step is not None and frame_step > 1:
            fields["frame_filter"] = f"step={frame_step}"
        if sorting_method == "predefined":
            fields["upload_file_order"] = names
        if named is None:
            raise ValueError("a file is listed twice")
        self.request("POST", url, headers={"Upload-Start": "true"})
        for group, size in _groups(sources):
            files = [(f"client_files[{i}]", named[p], p) for i, p in enumerate(group)]
            self._send_files(url, files, size, image_quality, on_sending)
            logger.debug("task %d: %d files sent", task_id, len(group))
            if on_sent is not None:
                on_sent(len(group))
        answer = self.request("POST", url, headers={"Upload-Finish": "true"}, json=fields)
        if answer.content:
            try:
                return answer.json().get("rq_id")
            except ValueError:
                return None
        return None

    def _send_files(
        self,
        url: str,
        files: list[tuple[str, str, Path]],
        size: int,
        image_quality: int,
        on_sending: Callable[[int], None] | None,
    ) -> None:
        """One Upload-Multiple request: small files read and encoded as one body (a request of
        hundreds of images would otherwise go out as a write per part), large ones streamed."""
        data = {"image_quality": str(image_quality)}
        headers = {"Upload-Multiple": "true"}
        if size <= ONE_BODY_BYTES:
            form = httpx.Request(
                "POST", url, data=data, files=[(key, (name, p.read_bytes())) for key, name, p in files]
            )
            headers["Content-Type"] = form.headers["Content-Type"]
            content = form.read()
            if on_sending is not None:
                on_sending(len(files))
            self.request("POST", url, headers=headers, content=content)
            return
        with contextlib.ExitStack() as stack:
            opened = [(key, (name, stack.enter_context(open(p, "rb")))) for key, name, p in files]
            if on_sending is not None:
                on_sending(len(files))
            self.request("POST", url, headers=headers, data=data, files=opened)

    def wait_for_data(self, task_id: int, rq_id: str | None = None, *, timeout: float | None = None) -> None:
        """Wait until the task's data is processed: the requests API, or the legacy status route."""
        deadline = self._clock() + (timeout if timeout is not None else self.wait_timeout)
        logger.info("waiting for CVAT to process the data of task %d", task_id)
        while True:
            record = None
            if rq_id is not None:
                answer = self.request("GET", f"/api/requests/{rq_id}", expect=(404,))
                if answer.status_code == 404:
                    rq_id = None  # a server without the requests API: its legacy status route answers
                else:
                    record = self.json(answer)
                    status, message = record["status"], record.get("message", "")
                    done, failed = status == "finished", status == "failed"
            if record is None:
                record = self.get_json(f"/api/tasks/{task_id}/status")
                status, message = record["state"], record.get("message", "")
                done, failed = status == "Finished", status == "Failed"
            if done:
                logger.info("task %d: data processed", task_id)
                return
            if failed:
                raise CVATError(f"CVAT could not process the data of task {task_id}: {message}")
            if self._clock() >= deadline:
                waited = timeout if timeout is not None else self.wait_timeout
                raise CVATTimeoutError(
                    f"the data of task {task_id} was not processed in time: the wait_timeout of "
                    f"{waited:g} s ran out (last status: {status})",
                    bound="wait_timeout",
                    seconds=waited,
                )
            logger.debug("task %d: data %s, looking again in %.1f s", task_id, status, self.poll_interval)
            self._sleep(self.poll_interval)

    def wait_for_request(self, rq_id: str, what: str) -> dict[str, Any]:
        """Wait until a request of CVAT's requests API is finished, at most ``wait_timeout``; its record.
        ``what`` names it in errors and logs ("the export of task 3")."""
        deadline = self._clock() + self.wait_timeout
        while True:
            record = self.get_json(f"/api/requests/{quote(rq_id, safe='')}")
            status = record.get("status") if isinstance(record, dict) else None
            if status == "finished":
                return record
            if status == "failed":
                raise CVATError(f"CVAT could not finish {what}: {record.get('message', '')}")
            if self._clock() >= deadline:
                raise CVATTimeoutError(
                    f"{what} was not finished in time: the wait_timeout of {self.wait_timeout:g} s "
                    f"ran out (last status: {status})",
                    bound="wait_timeout",
                    seconds=self.wait_timeout,
                )
            logger.debug("%s: %s, looking again in %.1f s", what, status, self.poll_interval)
            self._sleep(self.poll_interval)

    def data_meta(self, task_id: int) -> dict[str, Any]:
        return self.get_json(f"/api/tasks/{task_id}/data/meta")

    # --- jobs and labels -------------------------------------------------------------------

    def jobs(self, task_id: int) -> list[dict[str, Any]]:
        return sorted(self.paginate("/api/jobs", task_id=task_id), key=lambda j: j["start_frame"])

    def assign_job(self, job_id: int, user_id: int | None) -> dict[str, Any]:
        return self.json(self.request("PATCH", f"/api/jobs/{job_id}", json={"assignee": user_id}))

    def labels(self, *, task_id: int | None = None, project_id: int | None = None) -> list[dict[str, Any]]:
        if (task_id is None) == (project_id is None):
            raise ValueError("give task_id or project_id")
        return list(self.paginate("/api/labels", task_id=task_id, project_id=project_id))

    # --- annotations -------------------------------------------------------------------

    @staticmethod
    def _annotations_url(task_id: int | None, job_id: int | None) -> str:
        if (task_id is None) == (job_id is None):
            raise ValueError("give task_id or job_id")
        return f"/api/tasks/{task_id}/annotations/" if task_id is not None else f"/api/jobs/{job_id}/annotations/"

    def get_annotations(self, *, task_id: int | None = None, job_id: int | None = None) -> dict[str, Any]:
        return self.json(self.request("GET", self._annotations_url(task_id, job_id)))

    def get_annotations_raw(self, *, task_id: int | None = None, job_id: int | None = None) -> bytes:
        """The annotations' JSON as sent, for digests that must not depend on parsing."""
        return self.request("GET", self._annotations_url(task_id, job_id)).content

    def put_annotations(
        self, data: Mapping[str, Any], *, task_id: int | None = None, job_id: int | None = None
    ) -> dict[str, Any]:
        body = {"version": 0, "tags": [], "shapes": [], "tracks": [], **data}
        answer = self.request(
            "PUT",
            self._annotations_url(task_id, job_id),
            content=orjson.dumps(body),
            headers={"Content-Type": "application/json"},
        )
        return self.json(answer) if answer.content else {}

    def patch_annotations(
        self, action: str, data: Mapping[str, Any], *, task_id: int | None = None, job_id: int | None = None
    ) -> dict[str, Any]:
        if action not in ("create", "update", "delete"):
            raise ValueError(f"action is create, update or delete, got {action!r}")
        body = {"version": 0, "tags": [], "shapes": [], "tracks": [], **data}
        answer = self.request(
            "PATCH",
            self._annotations_url(task_id, job_id),
            params={"action": action},
            content=orjson.dumps(body),
            headers={"Content-Type": "application/json"},
        )
        return self.json(answer)


def _groups(paths: Sequence[Path]) -> Iterator[tuple[list[Path], int]]:
    """The files of each Upload-Multiple request, and their bytes."""
    group: list[Path] = []
    size = 0
    for path in paths:
        length = path.stat().st_size
        if group and (len(group) >= FILES_PER_REQUEST or size + length > BYTES_PER_REQUEST):
            yield group, size
            group, size = [], 0
        group.append(path)
        size += length
    if group:
        yield group, size

"""A fake annotation backend for unit tests: an in-memory server with the port's behaviour."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs

from annoflow.adapters.cvat_format.capabilities import CVAT_CAPABILITIES
from annoflow.application.ports.annotation_backend import (
    MAX_OBJECTS_PER_FRAME,
    AnnotationBackend,
    BackendConfig,
    BackendConfigError,
    BackendSession,
    DownloadedTask,
    MarkedResources,
    MediaNotFoundError,
    ProjectNotFoundError,
    ProjectRef,
    RemoteTask,
    TaskGoneError,
    TaskStatus,
    UploadRequest,
)
from annoflow.domain.labels import labels_in
from annoflow.domain.merge import ImportedLabel, ImportedValue
from annoflow.domain.run_records import FrameRef, TaskRecord, UploadedObject
from annoflow.domain.samples import MediaType, Sample
from annoflow.domain.task_plan import TaskPlan


@attrs.define
class FakeServer:
    tasks: dict[int, dict[str, Any]] = attrs.field(factory=dict)
    projects: dict[int, str] = attrs.field(factory=dict)
    ids: Any = attrs.field(factory=lambda: itertools.count(1))
    fail_fill_of_plan: int | None = None
    edits: dict[int, list] = attrs.field(factory=dict)
    values: dict[int, list] = attrs.field(factory=dict)  # scripted scalar values per task (ImportedValue)
    requests: int = 0
    connections: int = 0
    project_labels: dict[int, list] = attrs.field(factory=dict)
    strays: dict[int, list] = attrs.field(
        factory=dict
    )  # scripted unexpected labels per task (UnexpectedLabel)  # an existing project's labels (ProjectLabel)
    unread: dict[int, list] = attrs.field(factory=dict)  # scripted objects not read per task (Rejection)
    limits: list[int] = attrs.field(factory=list)  # the max_objects_per_frame of each download


class FakeSession(BackendSession):
    def __init__(self, server: FakeServer, config: BackendConfig) -> None:
        self.server = server
        self.config = config

    def _given_project(self, request: UploadRequest) -> int | None:
        """The project named by id, which must exist (a real server answers 404 otherwise)."""
        pid = request.config.recorded.get("project_id")
        if pid is not None and pid not in self.server.projects:
            raise ProjectNotFoundError(f"the fake server has no project {pid}")
        return pid

    def project_labels(self, request: UploadRequest) -> list | None:
        name = request.config.recorded.get("project_name")
        self.server.requests += 1
        pid = self._given_project(request)
        if pid is None:
            pid = next((p for p, n in self.server.projects.items() if n == name), None)
        # Only projects a test gave labels to have a schema to follow; others keep the run's.
        return self.server.project_labels.get(pid) if pid is not None else None

    def prepare_project(self, request: UploadRequest) -> ProjectRef:
        name = request.config.recorded.get("project_name")
        if request.config.recorded.get("project_id") is not None:
            self.server.requests += 1
            return ProjectRef(self._given_project(request))
        if name is None:
            return ProjectRef(None)
        self.server.requests += 1
        for pid, pname in self.server.projects.items():
            if pname == name:
                return ProjectRef(pid)
        pid = next(self.server.ids)
        self.server.projects[pid] = _marked(name, request.marker)
        return ProjectRef(pid, created=True)

    def confirm_project(self, request: UploadRequest, project: ProjectRef) -> None:
        self.server.requests += 1
        self.server.projects[project.project_id] = request.config.recorded["project_name"]

    def create_task(self, request: UploadRequest, plan: TaskPlan, project: ProjectRef) -> int:
        self.server.requests += 1
        task_id = next(self.server.ids)
        self.server.tasks[task_id] = {
            "name": _marked(plan.name, request.marker),
            "project": project.project_id,
            "filled": False,
            "jobs": [next(self.server.ids)],
            "created": f"made {task_id} by {id(self.server)}",
        }
        return task_id

    def find_marked(self, marker: str) -> MarkedResources:
        self.server.requests += 2
        return MarkedResources(
            [t for t, task in self.server.tasks.items() if marker in task["name"]],
            [p for p, name in self.server.projects.items() if marker in name],
        )

    def fill_task(
        self, request: UploadRequest, plan: TaskPlan, task_id: int, project: ProjectRef, samples: Iterable[Sample]
    ) -> TaskRecord:
        samples = list(samples)
        if self.server.fail_fill_of_plan == plan.index:
            self.server.fail_fill_of_plan = None
            raise ConnectionError("the server went away")
        self.server.requests += 2
        uploaded = []
        values = []
        for sample in samples:
            for field in request.label_schema:
                value = sample.get(field.path)
                if field.label_type == "scalar":
                    if value is not None and (not field.classes or str(value) in field.classes):
                        values.append(
                            ImportedValue(field.path, sample.id, str(value), next(self.server.ids))
                        )  # as text, like CVAT
                    continue
                for label in labels_in(value):
                    uploaded.append(UploadedObject(field.path, label.id, sample.id, "shape", next(self.server.ids)))
        self.server.tasks[task_id].update(filled=True, name=plan.name)
        self.server.tasks[task_id]["values"] = values
        task = self.server.tasks[task_id]
        return TaskRecord(
            task_id=task_id,
            project_id=project.project_id,
            job_ids=task["jobs"],
            frames=[FrameRef(s.id) for s in samples],
            uploaded=uploaded,
            labels=[],
            attributes=[],
            created=task["created"],
        )

    def task_revision(self, task_id: int) -> str | None:
        if task_id not in self.server.tasks:
            raise TaskGoneError(task_id)
        return self.server.tasks[task_id].get("revision")  # None unless a test stamps it

    def download_task(
        self,
        request: UploadRequest,
        task_id: int,
        provenance,
        read_originals,
        applied_digest=None,
        *,
        max_objects_per_frame: int = MAX_OBJECTS_PER_FRAME,
    ) -> DownloadedTask:
        """What the fake's annotators left: the uploaded labels, unless a test scripted edits."""
        if task_id not in self.server.tasks:
            raise TaskGoneError(task_id)
        task = provenance()
        self.server.limits.append(max_objects_per_frame)
        originals = read_originals()
        edits = self.server.edits.get(task.task_id)
        if edits is None:
            edits = [
                ImportedLabel(u.field, u.sample_id, originals[u.label_id], u.label_id, (u.remote_id,))
                for u in task.uploaded
                if u.label_id in originals
            ]
        values = self.server.values.get(task.task_id, self.server.tasks.get(task.task_id, {}).get("values", []))
        strays = self.server.strays.get(task.task_id, [])
        unread = self.server.unread.get(task.task_id, [])
        digest = f"digest-{len(edits)}-{hash(tuple(repr(e) for e in [*edits, *values, *strays, *unread]))}"
        if digest == applied_digest:
            return DownloadedTask(digest, unchanged=True)
        return DownloadedTask(digest, edits, strays, values=values, unread=unread)

    def delete_tasks(self, task_ids: Sequence[int]) -> None:
        for task_id in task_ids:
            self.server.tasks.pop(task_id, None)

    def delete_projects(self, project_ids: Sequence[int]) -> None:
        for pid in project_ids:
            self.server.projects.pop(pid, None)
            for tid in [t for t, task in self.server.tasks.items() if task["project"] == pid]:
                del self.server.tasks[tid]

    def task_statuses(self, task_ids: Sequence[int]) -> list[TaskStatus]:
        return [
            TaskStatus(t, self.server.tasks[t]["name"], "annotation", None, None, f"http://fake/tasks/{t}")
            for t in task_ids
            if t in self.server.tasks
        ]

    def describe_task(self, task_id: int) -> RemoteTask | None:
        task = self.server.tasks.get(task_id)
        if task is None:
            return None
        return RemoteTask(task_id, task["name"], task["project"], task.get("jobs", ()), task.get("created"))

    def editor_url(self, task: TaskRecord) -> str:
        return f"http://fake/tasks/{task.task_id}/jobs/{task.job_ids[0]}"


class FakeBackend(AnnotationBackend):
    name = "fake"
    capabilities = CVAT_CAPABILITIES  # its projects' labels draw what CVAT's do
    known = ("segment_size", "project_name", "project_id", "username", "password")

    def __init__(self, server: FakeServer | None = None, missing_media: Sequence[str] = ()) -> None:
        self.server = server or FakeServer()
        self.missing_media = set(missing_media)

    def parse_config(self, options: Mapping[str, Any], media_type: MediaType) -> BackendConfig:
        problems = [f"unknown option {k!r}" for k in options if k not in self.known]
        size = options.get("segment_size")
        if size is not None and (not isinstance(size, int) or size < 1):
            problems.append(f"segment_size must be a positive integer, got {size!r}")
        if problems:
            raise BackendConfigError(problems)
        recorded = {k: v for k, v in options.items() if k in ("segment_size", "project_name", "project_id")}
        return BackendConfig(recorded, {k: v for k, v in options.items() if k in ("username", "password")})

    def check_media(self, paths: Sequence[str]) -> None:
        missing = sorted(set(paths) & self.missing_media)
        if missing:
            raise MediaNotFoundError(f"media not found: {missing}")

    def connect(self, config: BackendConfig) -> FakeSession:
        self.server.connections += 1
        return FakeSession(self.server, config)


def _marked(name: str, marker: str) -> str:
    return f"{name} [{marker}]" if marker else name


def crash_first_apply(monkeypatch: Any, store: Any, *, after_applying: bool) -> Callable[[], None]:
    """The store's first apply() raises "power cut" (after applying the batch when asked:
    applied, but ChangesApplied never recorded); returns a function that restores apply()."""
    real_apply = store.apply
    calls = {"n": 0}

    def crashing_apply(changes: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            if after_applying:
                real_apply(changes)
            raise RuntimeError("power cut")
        real_apply(changes)

    monkeypatch.setattr(store, "apply", crashing_apply)
    return lambda: monkeypatch.setattr(store, "apply", real_apply)

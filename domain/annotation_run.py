"""The AnnotationRun aggregate, and the per-dataset catalog that keeps run keys unique.

A run's events are its record: replaying them rebuilds its configuration,
the tasks it created on the server, what each load imported, merged and rejected, its
renames, its cleanup and its deletion. Public methods check the command, then
trigger one event; the event-decorated methods only mutate state, so replay
never re-validates history.
"""

from __future__ import annotations

import enum
import re
import uuid
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

from eventsourcing.domain import Aggregate, event

from annoflow.domain.errors import AnnoflowError
from annoflow.domain.label_schema import LabelSchema
from annoflow.domain.run_records import LoadSummary, MergedChange, Rejection, TaskRecord, TaskSummary
from annoflow.domain.task_ledger import TaskLedger

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]{0,99}")
# Config keys that would put a secret into an event; the application strips
# credentials before it builds a run, and the aggregate refuses them anyway.
_SECRET_WORDS = ("password", "secret", "token", "apikey", "api_key", "authorization", "cookie")
# A URL whose authority carries user info (``scheme://user:password@host``).
_URL_WITH_USERINFO = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^/?#]*@")
# An Authorization header's value: a scheme and a long opaque token ("Basic recipe" is no credential).
_AUTHORIZATION_VALUE = re.compile(r"(?:Token|Bearer|Basic)\s+[A-Za-z0-9._~+/=\-]{16,}")
_CATALOG_NAMESPACE = uuid.UUID("6f1d1a5e-3c1b-4c33-9f5e-1c0a7e0b9a51")


class RunError(AnnoflowError, ValueError):
    """A command that the run's current state does not allow."""


class WrongServerError(RunError):
    """The server answering holds, under one of the run's task ids, a task the run did not make."""


class RunStatus(enum.Enum):
    REQUESTED = "requested"  # Requested recorded; tasks may be partly created
    UPLOADED = "uploaded"  # every task created and filled
    LOADING = "loading"  # a load recorded changes not yet all applied
    LOADED = "loaded"  # at least one load completed
    CLEANED_UP = "cleaned_up"  # its tasks on the server (and a project the run made) deleted
    DELETED = "deleted"  # the record is deleted; events stay for the audit trail


def check_run_key(key: object) -> str:
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise RunError(
            f"annotation key {key!r} must start with a letter or '_' and hold only "
            "letters, digits, '_' or '-' (at most 100 characters)"
        )
    return key


def credential_name(name: object) -> bool:
    """Whether an option's name says it holds a credential (``password``, ``api_token``, ``headers``, ...)."""
    lowered = str(name).lower()
    return lowered == "headers" or any(word in lowered for word in _SECRET_WORDS)


def credential_value(value: object) -> str | None:
    """Why a value is a credential whatever its name, or None: a URL with user info, a value kept
    secret (anything that hides itself behind ``reveal()``), an Authorization header's value."""
    if callable(getattr(value, "reveal", None)):
        return "is a secret"
    if isinstance(value, str):
        if _URL_WITH_USERINFO.match(value):
            return "is a URL with a user name or password in it"
        if _AUTHORIZATION_VALUE.fullmatch(value.strip()):
            return "looks like an Authorization header's value"
    return None


def _check_no_secrets(config: Mapping[str, Any], path: str = "config") -> None:
    """Refuse a config that would record a credential, by its name or by its value; never echo the value."""
    for name, value in config.items():
        where = f"{path}[{name!r}]"
        if credential_name(name):
            raise RunError(f"{where} looks like a credential and may not be recorded")
        _check_value(value, where)


def _check_value(value: Any, where: str) -> None:
    reason = credential_value(value)
    if reason:
        raise RunError(f"{where} {reason} and may not be recorded")
    if isinstance(value, Mapping):
        _check_no_secrets(value, where)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _check_value(item, f"{where}[{index}]")


def _freeze(value: Any) -> Any:
    if isinstance(value, Mapping):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    return value


class AnnotationRun(Aggregate):
    """One annotate() call and everything that happened to it afterwards."""

    @event("Requested")
    def __init__(
        self,
        *,
        dataset: str,
        key: str,
        backend: str,
        config: Mapping[str, Any],
        label_schema: LabelSchema,
        sample_ids: tuple[str, ...],
        media_field: str,
        media_type: str = "image",  # runs recorded before it was kept were all of images
    ) -> None:
        self.dataset = dataset
        self.key = key
        self.backend = backend
        self.config = _freeze(dict(config))
        self.label_schema = label_schema
        self.sample_ids = tuple(sample_ids)
        self.media_field = media_field
        self.media_type = media_type
        self.previous_keys: list[str] = []
        # Per-task summaries; each task's provenance is in its own TaskLedger.
        self.tasks: dict[int, TaskSummary] = {}
        # Tasks that exist on the server but are not yet filled: an interrupted
        # annotate() leaves them here, so resume or cleanup can delete them.
        self.started_tasks: dict[int, int] = {}  # task id -> plan index
        self.started_created: dict[int, str | None] = {}  # task id -> when the server made it
        self.created_projects: list[int] = []
        self.plan_of_task: dict[int, int] = {}
        self.status = RunStatus.REQUESTED
        # Last imported digest per task whose changes are applied: an unchanged
        # download of that task is skipped, so loading twice merges nothing twice.
        self.applied_digests: dict[int, str] = {}
        # Tasks whose recorded changes (in their ledger, under this load id) are not yet applied
        # to the label store; a crash leaves them here for the next load to finish.
        self.unapplied: dict[int, str] = {}
        self.unapplied_digests: dict[int, str] = {}
        # The server's revision stamp of each task (the time the server last changed it) when the applied digest
        # was read: while the stamp is the same, the next load need not even download the task.
        self.applied_revisions: dict[int, str] = {}
        self.unapplied_revisions: dict[int, str | None] = {}
        # Runs recorded before task ledgers kept the provenance in their own events: what a
        # ledger opened for such a task starts from.
        self.legacy_records: dict[int, TaskRecord] = {}
        self.legacy_changes: dict[int, list[tuple[str, MergedChange]]] = {}
        self.loads: list[LoadSummary] = []
        # The load that last imported each task (or settled it): one that never completed may owe
        # its caller the unexpected labels it was to return.
        self.import_load_of: dict[int, str] = {}
        self.cleaned_up_tasks: tuple[int, ...] = ()
        self.cleaned_up_projects: tuple[int, ...] = ()
        # Deleting the server's side began: its tasks may be gone, so a load only finishes the cleanup.
        self.upload_completed = False
        self.cleanup_started = False
        self.cleanup_projects: tuple[int, ...] = ()
        # The run goes into an existing project whose labels replaced the run's classes and attributes.
        self.project_schema_adopted = False

    @classmethod
    def request(
        cls,
        *,
        dataset: object,  # checked here: a non-empty name
        key: str,
        backend: str,
        config: Mapping[str, Any],
        label_schema: LabelSchema,
        sample_ids: Iterable[str],
        media_field: str = "filepath",
        media_type: str = "image",
    ) -> AnnotationRun:
        check_run_key(key)
        if not isinstance(dataset, str) or not dataset:
            raise RunError("a run belongs to a named dataset")
        _check_no_secrets(config)
        sample_ids = tuple(sample_ids)
        if not sample_ids:
            raise RunError("an annotation run needs at least one sample")
        if len(set(sample_ids)) != len(sample_ids):
            raise RunError("an annotation run lists each sample once")
        return cls(
            dataset=dataset,
            key=key,
            backend=backend,
            config=dict(config),
            label_schema=label_schema,
            sample_ids=sample_ids,
            media_field=media_field,
            media_type=media_type,
        )

    # --- annotate ----------------------------------------------------------

    @property
    def marker(self) -> str:
        """Unique to this run (its id is random): a backend names what it makes with it until recorded."""
        return f"annoflow-{self.id.hex[:16]}"

    def adopt_project_schema(self, label_schema: LabelSchema) -> None:
        """An existing project's labels rule: recorded before the first task is created."""
        self._check_uploading()
        if self.project_schema_adopted:
            raise RunError(f"run {self.key!r} already follows its project's labels")
        if self.tasks or self.started_tasks:
            raise RunError(f"run {self.key!r} already has tasks: its schema can no longer change")
        self._project_schema_adopted(label_schema=label_schema)

    @event("ProjectSchemaAdopted")
    def _project_schema_adopted(self, label_schema: LabelSchema) -> None:
        self.label_schema = label_schema
        self.project_schema_adopted = True

    def record_project(self, project_id: int) -> None:
        """The run created this project, so cleanup may delete it."""
        self._check_uploading()
        if project_id in self.created_projects:
            raise RunError(f"project {project_id} is already recorded for run {self.key!r}")
        self._project_created(project_id=project_id)

    @event("ProjectCreated")
    def _project_created(self, project_id: int) -> None:
        self.created_projects.append(project_id)

    def start_task(self, task_id: int, plan_index: int, created: str | None = None) -> None:
        """A task exists on the server (made at ``created``, as the server says); recorded before it is
        filled, so it is never orphaned."""
        self._check_uploading()
        if task_id in self.tasks or task_id in self.started_tasks:
            raise RunError(f"task {task_id} is already recorded for run {self.key!r}")
        self._task_started(task_id=task_id, plan_index=plan_index, created=created)

    @event("TaskStarted")
    def _task_started(self, task_id: int, plan_index: int, created: str | None = None) -> None:
        self.started_tasks[task_id] = plan_index
        self.started_created[task_id] = created

    def abandon_task(self, task_id: int) -> None:
        """A started task was deleted unfilled (resume or cleanup of an interrupted upload)."""
        if task_id not in self.started_tasks:
            raise RunError(f"task {task_id} is not a started, unfilled task of run {self.key!r}")
        self._task_abandoned(task_id=task_id)

    @event("TaskAbandoned")
    def _task_abandoned(self, task_id: int) -> None:
        del self.started_tasks[task_id]
        self.started_created.pop(task_id, None)

    @property
    def filled_plan_indexes(self) -> set[int]:
        return set(self.plan_of_task.values())

    def record_task(self, task: TaskRecord) -> TaskLedger:
        """A filled task: the run keeps its summary; the returned ledger (saved with the run) its provenance."""
        self._check_uploading()
        if task.task_id in self.tasks:
            raise RunError(f"task {task.task_id} is already recorded for run {self.key!r}")
        unknown = set(task.sample_ids) - set(self.sample_ids)
        if unknown:
            raise RunError(f"task {task.task_id} shows samples outside the run: {sorted(unknown)[:3]}")
        self._task_created(task=task.summary())
        return TaskLedger.open(self.id, task)

    @event("TaskCreated")
    def _task_created(self, task: TaskSummary | TaskRecord) -> None:
        if isinstance(task, TaskRecord):  # recorded before task ledgers: the whole record came with it
            self.legacy_records[task.task_id] = task
            task = task.summary()
        self.tasks[task.task_id] = task
        self.started_created.pop(task.task_id, None)
        plan_index = self.started_tasks.pop(task.task_id, None)
        if plan_index is not None:
            self.plan_of_task[task.task_id] = plan_index

    def complete_upload(self) -> None:
        self._check_live()
        if self.status is not RunStatus.REQUESTED:
            raise RunError(f"run {self.key!r} is already {self.status.value}")
        if not self.tasks:
            raise RunError(f"run {self.key!r} has no task yet")
        if self.started_tasks:
            raise RunError(f"tasks {sorted(self.started_tasks)} of run {self.key!r} were started but not filled")
        self._upload_completed()

    @event("UploadCompleted")
    def _upload_completed(self) -> None:
        self.status = RunStatus.UPLOADED
        self.upload_completed = True

    # --- load_annotations --------------------------------------------------

    def imported_by_unfinished_load(self, task_id: int) -> bool:
        """True when the load that last imported this task stopped before LoadCompleted."""
        load_id = self.import_load_of.get(task_id)
        return load_id is not None and all(summary.load_id != load_id for summary in self.loads)

    def is_unchanged(self, task_id: int, digest: str) -> bool:
        """True when this download of the task was already merged and applied."""
        return self.applied_digests.get(task_id) == digest and task_id not in self.unapplied

    def is_current(self, task_id: int, revision: str | None) -> bool:
        """True when the server's revision stamp of the task is the one its applied download had:
        nothing changed there since, so the task need not be downloaded."""
        return (
            revision is not None
            and self.applied_revisions.get(task_id) == revision
            and task_id in self.applied_digests
            and task_id not in self.unapplied
        )

    def note_revision(self, task_id: int, revision: str | None) -> None:
        """A download at this revision had the applied digest: remember the stamp, so that the next
        load skips the task without downloading it. Nothing is recorded when nothing is new."""
        if revision is None or self.applied_revisions.get(task_id) == revision:
            return
        if task_id not in self.applied_digests or task_id in self.unapplied:
            raise RunError(f"task {task_id} has no applied download to stamp with a revision")
        self._task_unchanged(task_id=task_id, revision=revision)

    @event("TaskUnchanged")
    def _task_unchanged(self, task_id: int, revision: str) -> None:
        self.applied_revisions[task_id] = revision

    def record_import(
        self,
        *,
        load_id: str,
        task_id: int,
        digest: str,
        ledger: TaskLedger,
        changes: Iterable[MergedChange],
        rejections: Iterable[Rejection],
        shape_count: int,
        revision: str | None = None,
    ) -> None:
        """Record one task's download and the changes it leads to, before they are applied: the
        changes and refusals go to the task's ledger, their counts to the run; save both together."""
        self.check_loadable()
        if task_id not in self.tasks:
            raise RunError(f"task {task_id} is not part of run {self.key!r}")
        if task_id in self.unapplied:
            raise RunError(f"task {task_id} has recorded changes not yet applied: finish them first")
        if ledger.id != TaskLedger.create_id(self.id, task_id):
            raise RunError(f"the ledger given is not the one of task {task_id} of run {self.key!r}")
        changes, rejections = list(changes), list(rejections)
        ledger.record_import(load_id, changes, rejections)
        counts = {action: sum(c.action.value == action for c in changes) for action in ("added", "edited", "deleted")}
        self._shapes_imported(
            load_id=load_id,
            task_id=task_id,
            digest=digest,
            shape_count=shape_count,
            rejected=len(rejections),
            revision=revision,
            **counts,
        )

    @event("ShapesImported")
    def _shapes_imported(
        self,
        load_id: str,
        task_id: int,
        digest: str,
        shape_count: int,
        added: int | None = None,
        edited: int = 0,
        deleted: int = 0,
        rejected: int = 0,
        revision: str | None = None,
    ) -> None:
        # added is None for a run recorded before task ledgers: its LabelMerged events follow here;
        # revision is None for one recorded before revisions were kept
        self.import_load_of[task_id] = load_id
        self.unapplied[task_id] = load_id
        self.unapplied_digests[task_id] = digest
        self.unapplied_revisions[task_id] = revision
        self.status = RunStatus.LOADING

    # Runs recorded before task ledgers carry their loads' changes in their own events.
    @event("LabelMerged")
    def _label_merged(self, load_id: str, task_id: int, change: MergedChange) -> None:
        self.legacy_changes.setdefault(task_id, []).append((load_id, change))

    @event("Rejected")
    def _rejected(self, load_id: str, task_id: int, rejection: Rejection) -> None:
        pass  # the event itself is the record; it changes no state

    def legacy_changes_of(self, task_id: int, load_id: str) -> list[MergedChange] | None:
        """The changes a load of a run recorded before task ledgers kept in the run's own events,
        or None when the task has a ledger of its own for them."""
        if task_id not in self.legacy_changes or all(lid != load_id for lid, _ in self.legacy_changes[task_id]):
            return None
        return [change for lid, change in self.legacy_changes[task_id] if lid == load_id]

    def open_legacy_ledger(self, task_id: int) -> TaskLedger:
        """The ledger of a task recorded before ledgers existed: its record, and every change its loads made."""
        if task_id not in self.legacy_records:
            raise RunError(f"task {task_id} of run {self.key!r} has no record to open a ledger from")
        return TaskLedger.open(
            self.id, self.legacy_records[task_id], [change for _, change in self.legacy_changes.get(task_id, ())]
        )

    def mark_applied(self, task_id: int) -> None:
        """The label store now holds every change recorded for this task."""
        if task_id not in self.unapplied:
            raise RunError(f"task {task_id} has no recorded changes waiting")
        self._applied(task_id=task_id)

    @event("ChangesApplied")
    def _applied(self, task_id: int) -> None:
        self.unapplied.pop(task_id)
        self.applied_digests[task_id] = self.unapplied_digests.pop(task_id)
        revision = self.unapplied_revisions.pop(task_id, None)
        if revision is None:
            self.applied_revisions.pop(task_id, None)
        else:
            self.applied_revisions[task_id] = revision

    def complete_load(self, summary: LoadSummary) -> None:
        self.check_loadable()
        if self.unapplied:
            raise RunError(f"tasks {sorted(self.unapplied)} still have changes to apply")
        self._load_completed(summary=summary)

    @event("LoadCompleted")
    def _load_completed(self, summary: LoadSummary) -> None:
        # A completed load settles what an unfinished one owed: it returned those labels, or its
        # caller chose to keep or ignore them.
        finished = {s.load_id for s in self.loads} | {summary.load_id}
        for task_id, load_id in self.import_load_of.items():
            if load_id not in finished:
                self.import_load_of[task_id] = summary.load_id
        self.loads.append(summary)
        self.status = RunStatus.LOADED

    def check_remote_task(self, task_id: int, *, name: str, job_ids: Iterable[int], created: str | None) -> None:
        """Raise WrongServerError unless the server's task ``task_id`` is the one this run made: the
        creation time and jobs it recorded (a task started but never filled carries the run's marker)."""
        summary = self.tasks.get(task_id)
        if summary is None and task_id not in self.started_tasks:
            raise RunError(f"task {task_id} is not part of run {self.key!r}")
        recorded = summary.created if summary is not None else self.started_created.get(task_id)
        mismatch = []
        if recorded is not None and created != recorded:
            mismatch.append(f"made {created}, not {recorded}")
        if summary is None and recorded is None and self.marker not in name:
            mismatch.append(f"it does not carry the run's marker {self.marker}")
        # the server adds jobs, never takes its own
        if summary is not None and not set(summary.job_ids) <= set(job_ids):
            mismatch.append(f"jobs {sorted(job_ids)}, not {list(summary.job_ids)}")
        if mismatch:
            raise WrongServerError(
                f"task {task_id} ({name!r}) on this server is not the one run {self.key!r} made "
                f"({'; '.join(mismatch)}): nothing was merged or deleted. Pass the url of the "
                "server the run was annotated on"
            )

    # --- management --------------------------------------------------------

    def rename(self, new_key: str) -> None:
        self._check_live()
        check_run_key(new_key)
        if new_key == self.key:
            raise RunError(f"run is already called {new_key!r}")
        self._renamed(old_key=self.key, new_key=new_key)

    @event("Renamed")
    def _renamed(self, old_key: str, new_key: str) -> None:
        self.previous_keys.append(old_key)
        self.key = new_key

    def start_cleanup(self, projects: Iterable[int] = ()) -> None:
        """Recorded before the first deletion, with the projects found to be the run's own on the
        server: an interrupted cleanup is finished, never mistaken for a run whose tasks are all
        there, and deletes those projects even once their tasks are gone. Starting it again records
        nothing. A run that imported tasks made outside annoflow (``config["imported"]``) is refused:
        its tasks are not annoflow's to delete."""
        self._check_live()
        if self.config.get("imported"):
            raise RunError(
                f"run {self.key!r} imported tasks made outside annoflow: a cleanup does not delete "
                "them (delete them in the annotation tool, or with connect_to_api().delete_tasks())"
            )
        if not self.cleanup_started:
            self._cleanup_started(projects=tuple(projects))

    @event("CleanupStarted")
    def _cleanup_started(self, projects: tuple[int, ...] | None = None) -> None:
        self.cleanup_started = True
        # None: recorded before projects were checked, so every project the run made
        self.cleanup_projects = tuple(self.created_projects if projects is None else projects)

    def record_cleanup(self, task_ids: Iterable[int], project_ids: Iterable[int] = ()) -> None:
        self._check_live()
        self._cleaned_up(task_ids=tuple(task_ids), project_ids=tuple(project_ids))

    @event("CleanedUp")
    def _cleaned_up(self, task_ids: tuple[int, ...], project_ids: tuple[int, ...]) -> None:
        self.cleaned_up_tasks = tuple(dict.fromkeys(self.cleaned_up_tasks + tuple(task_ids)))
        self.cleaned_up_projects = tuple(dict.fromkeys(self.cleaned_up_projects + tuple(project_ids)))
        self.status = RunStatus.CLEANED_UP

    def delete(self) -> None:
        self._check_live()
        self._deleted()

    @event("Deleted")
    def _deleted(self) -> None:
        self.status = RunStatus.DELETED

    # --- queries -----------------------------------------------------------

    @property
    def cleanup_pending(self) -> bool:
        """A cleanup started and did not finish (a crash): some of the run's tasks may be gone."""
        return self.cleanup_started and self.status not in (RunStatus.CLEANED_UP, RunStatus.DELETED)

    @property
    def is_deleted(self) -> bool:
        return self.status is RunStatus.DELETED

    @property
    def task_ids(self) -> tuple[int, ...]:
        return tuple(self.tasks)

    @property
    def job_ids(self) -> dict[int, tuple[int, ...]]:
        return {task_id: task.job_ids for task_id, task in self.tasks.items()}

    @property
    def project_ids(self) -> tuple[int, ...]:
        return tuple(dict.fromkeys(t.project_id for t in self.tasks.values() if t.project_id is not None))

    def _check_live(self) -> None:
        if self.status is RunStatus.DELETED:
            raise RunError(f"run {self.key!r} was deleted")

    def _check_uploading(self) -> None:
        self._check_live()
        if self.cleanup_started:
            raise RunError(f"run {self.key!r} is being cleaned up: clean it up again to finish")
        if self.status is not RunStatus.REQUESTED:
            raise RunError(f"run {self.key!r} is {self.status.value}: its tasks are all created")

    def check_loadable(self) -> None:
        """Raise RunError unless a load may download and record the run's tasks."""
        self._check_live()
        if self.status is RunStatus.CLEANED_UP:
            raise RunError(f"run {self.key!r} was cleaned up: its tasks on the server are gone")
        if self.cleanup_started:
            raise RunError(f"run {self.key!r} is being cleaned up: its tasks on the server may be gone")
        if self.status is RunStatus.REQUESTED:
            raise RunError(f"run {self.key!r} has not finished uploading: resume or clean it up first")


class RunCatalog(Aggregate):
    """The annotation keys of one dataset: one run per key, at any time.

    Saving a run together with its catalog in one transaction makes two
    concurrent annotate() calls with the same key collide instead of both landing.
    """

    @staticmethod
    def create_id(dataset: str) -> uuid.UUID:
        return uuid.uuid5(_CATALOG_NAMESPACE, f"dataset:{dataset}")

    @event("Opened")
    def __init__(self, dataset: str) -> None:
        self.dataset = dataset
        self.runs: dict[str, uuid.UUID] = {}
        # Every run the dataset ever had, deleted ones included, for the audit trail.
        self.ever: list[uuid.UUID] = []

    def add(self, key: str, run_id: uuid.UUID) -> None:
        check_run_key(key)
        if key in self.runs:
            raise RunError(f"dataset {self.dataset!r} already has an annotation run with key {key!r}")
        self._added(key=key, run_id=run_id)

    @event("RunAdded")
    def _added(self, key: str, run_id: uuid.UUID) -> None:
        self.runs[key] = run_id
        self.ever.append(run_id)

    def rename(self, key: str, new_key: str) -> None:
        self.get(key)
        check_run_key(new_key)
        if new_key in self.runs:
            raise RunError(f"dataset {self.dataset!r} already has an annotation run with key {new_key!r}")
        self._renamed(key=key, new_key=new_key)

    @event("RunRenamed")
    def _renamed(self, key: str, new_key: str) -> None:
        # Keep insertion order so list_annotation_runs() stays in creation order.
        self.runs = {(new_key if k == key else k): v for k, v in self.runs.items()}

    def remove(self, key: str) -> None:
        self.get(key)
        self._removed(key=key)

    @event("RunRemoved")
    def _removed(self, key: str) -> None:
        del self.runs[key]

    def get(self, key: str) -> uuid.UUID:
        try:
            return self.runs[key]
        except KeyError:
            known = ", ".join(repr(k) for k in self.runs) or "none"
            raise RunError(f"dataset {self.dataset!r} has no annotation run with key {key!r} (runs: {known})") from None

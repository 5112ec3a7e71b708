"""annotate(): check everything, record the run, then build its tasks one by one.

Order matters for safety. Every option is checked before anything is sent
(schema, task plan, backend options, media files). ``Requested`` is recorded
before the first request; each task is recorded as started as soon as it
exists and as created once it is filled, so an interruption leaves a run that
``resume=True`` finishes or ``cleanup()`` removes, never an orphan task (what
the backend makes carries the run's marker until recorded, so even a crash
between the server making a task and the run saving its id is found again).
An existing CVAT project's labels replace the run's classes and attributes
(``ProjectSchemaAdopted``) before the first task. Samples are read task by
task with only the fields the run needs, so memory follows one task's labels,
not the run's; the next task is created while one is filled, so its media go
up meanwhile.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from annoflow.application.ports.annotation_backend import (
    AnnotationBackend,
    BackendConfig,
    BackendSession,
    MarkedResources,
    ProjectNotFoundError,
    ProjectRef,
    SampleSource,
    UploadRequest,
)
from annoflow.application.ports.label_store import LabelStore
from annoflow.application.progress import NO_PROGRESS, Progress
from annoflow.application.runs.registry import RunRegistry
from annoflow.application.views import SampleCollection
from annoflow.domain.annotation_run import AnnotationRun, RunError, RunStatus, check_run_key
from annoflow.domain.label_schema import LabelSchema, LabelSchemaError, build_label_schema
from annoflow.domain.project_schema import adopt_project_labels, check_new_project
from annoflow.domain.samples import MediaType
from annoflow.domain.schema_observation import classes_left_out
from annoflow.domain.task_plan import MediaItem, TaskPlan, TaskPlanError, plan_tasks
from annoflow.domain.video_labels import frame_index_problems

SCHEMA_OPTIONS = (
    "label_schema",
    "label_field",
    "label_type",
    "classes",
    "attributes",
    "mask_targets",
    "allow_additions",
    "allow_deletions",
    "allow_label_edits",
    "allow_index_edits",
    "allow_spatial_edits",
    "occluded_attr",
    "group_id_attr",
)
logger = logging.getLogger(__name__)
# Options of the run itself, never handed to the backend again at load: the task plan's, and "imported"
# (the run's tasks were made outside annoflow, import_tasks.py).
PLAN_OPTIONS = (
    "task_size",
    "task_name",
    "task_assignee",
    "issue_tracker",
    "frame_start",
    "frame_stop",
    "frame_step",
    "imported",
)


@attrs.frozen
class AnnotateRequest:
    """One annotate() call, split into what each checker needs."""

    key: str
    backend: str
    media_field: str
    launch_editor: bool
    resume: bool
    schema_options: Mapping[str, Any]
    plan_options: Mapping[str, Any]
    # Holds connection settings, credentials included: never shown.
    backend_options: Mapping[str, Any] = attrs.field(repr=False)

    @classmethod
    def of(
        cls,
        key: str,
        backend: str,
        *,
        media_field: str = "filepath",
        launch_editor: bool = False,
        resume: bool = False,
        **options: Any,
    ) -> AnnotateRequest:
        schema = {k: options.pop(k) for k in SCHEMA_OPTIONS if k in options}
        plan = {k: options.pop(k) for k in PLAN_OPTIONS if k in options}
        return cls(
            key=key,
            backend=backend,
            media_field=media_field,
            launch_editor=bool(launch_editor),
            resume=bool(resume),
            schema_options=schema,
            plan_options=plan,
            backend_options=options,
        )


def pick_backend(backends: Mapping[str, AnnotationBackend], name: str) -> AnnotationBackend:
    try:
        return backends[name]
    except KeyError:
        known = ", ".join(sorted(backends)) or "none configured"
        raise ValueError(f"unknown annotation backend {name!r} (available: {known})") from None


@attrs.frozen(kw_only=True)
class _Media:
    """The media of a run's samples: what the task plan and the frame checks read."""

    items: tuple[MediaItem, ...]
    filepaths: Mapping[str, str]  # sample id -> its file, for the frame checks' messages
    media_type: MediaType


@attrs.frozen(kw_only=True)
class _Settings:
    """A run's label schema and options: a new run's from the request, a resumed run's as recorded."""

    schema: LabelSchema
    plan_options: Mapping[str, Any]
    backend_options: Mapping[str, Any] = attrs.field(repr=False)  # credentials included: never shown


class Annotator:
    """The annotate() use case over the ports; see the module docstring for its order."""

    def __init__(
        self,
        store: LabelStore,
        registry: RunRegistry,
        backends: Mapping[str, AnnotationBackend],
        open_url: Callable[[str], Any],
        progress: Progress = NO_PROGRESS,
    ) -> None:
        self.store = store
        self.registry = registry
        self.backends = backends
        self.open_url = open_url
        self.progress = progress

    def annotate(self, collection: SampleCollection, request: AnnotateRequest) -> AnnotationRun:
        check_run_key(request.key)
        backend = pick_backend(self.backends, request.backend)
        run = self._run_to_resume(request)
        plan_ids = list(run.sample_ids) if run is not None else collection.sample_ids
        media = self._read_media(plan_ids, request.media_field)
        settings = self._settings(collection, run, request, plan_ids, media.media_type)
        plans = plan_tasks(
            media.items,
            base_name=f"annoflow_{self.store.name}_{'_'.join(settings.schema.field_names)}",
            **settings.plan_options,
        )
        if run is None and media.media_type is MediaType.VIDEO:
            self._check_frame_labels(media.items, media.filepaths, settings.schema, plans)
        config = backend.parse_config(settings.backend_options, media.media_type)
        backend.check_media([i.media_path for i in media.items])
        backend.check_request(settings.schema, plans, config)
        if run is None:
            run = self._record_request(request, settings, config, plan_ids, media.media_type)
        upload = UploadRequest(
            dataset=self.store.name,
            key=request.key,
            label_schema=run.label_schema,
            media_field=request.media_field,
            media_type=media.media_type,
            config=config,
            marker=run.marker,
            progress=self.progress,
        )
        self._send(run, backend, config, upload, plans, collection, request)
        return run

    def _run_to_resume(self, request: AnnotateRequest) -> AnnotationRun | None:
        """The run ``request.resume`` finishes, or None for a new run; an upload that failed and was
        cleaned up is deleted first (it holds nothing anywhere: the key is free again)."""
        dataset = self.store.name
        if not self.registry.has_run(dataset, request.key):
            if request.resume:
                raise RunError(f"dataset {dataset!r} has no annotation run {request.key!r} to resume")
            return None
        run = self.registry.get_run(dataset, request.key)
        if run.status is RunStatus.CLEANED_UP and not run.upload_completed and not request.resume:
            self.registry.delete_run(dataset, request.key)
            return None
        if not request.resume:
            raise RunError(
                f"dataset {dataset!r} already has an annotation run with key {request.key!r}: "
                "choose another key, delete the run, or pass resume=True to finish an interrupted upload"
            )
        if run.status is not RunStatus.REQUESTED:
            raise RunError(f"run {request.key!r} is {run.status.value}: there is nothing to resume")
        if run.cleanup_started:
            raise RunError(f"run {request.key!r} is being cleaned up: clean it up again to finish, not resume")
        return run

    def _read_media(self, sample_ids: Sequence[str], media_field: str) -> _Media:
        """The samples' media, read with no field but ``media_field``."""
        found = self.store.get_samples(sample_ids, fields=() if media_field == "filepath" else (media_field,))
        items: list[MediaItem] = []
        filepaths: dict[str, str] = {}
        for s in found:
            items.append(MediaItem(s.id, s.media(media_field), s.media_type, getattr(s.metadata, "frame_count", None)))
            filepaths[s.id] = s.filepath
        return _Media(
            items=tuple(items), filepaths=filepaths, media_type=items[0].media_type if items else MediaType.IMAGE
        )

    def _settings(
        self,
        collection: SampleCollection,
        run: AnnotationRun | None,
        request: AnnotateRequest,
        sample_ids: Sequence[str],
        media_type: MediaType,
    ) -> _Settings:
        """A new run's schema and options, from the request; a resumed run's, exactly as requested
        then (only connection settings may come anew)."""
        if run is None:
            schema = self._schema(collection, sample_ids, request.schema_options, media_type, request.backend_options)
            return _Settings(
                schema=schema, plan_options=dict(request.plan_options), backend_options=dict(request.backend_options)
            )
        return _Settings(
            schema=run.label_schema,
            plan_options={k: v for k, v in run.config.items() if k in PLAN_OPTIONS},
            backend_options={
                **{k: v for k, v in run.config.items() if k not in PLAN_OPTIONS},
                **request.backend_options,
            },
        )

    def _record_request(
        self,
        request: AnnotateRequest,
        settings: _Settings,
        config: BackendConfig,
        sample_ids: list[str],
        media_type: MediaType,
    ) -> AnnotationRun:
        """``Requested``, recorded before the first request to the backend."""
        run = AnnotationRun.request(
            dataset=self.store.name,
            key=request.key,
            backend=request.backend,
            config={**_plain(settings.plan_options), **config.recorded},
            label_schema=settings.schema,
            sample_ids=sample_ids,
            media_field=request.media_field,
            media_type=media_type.value,
        )
        self.registry.add_run(run)
        return run

    def _send(
        self,
        run: AnnotationRun,
        backend: AnnotationBackend,
        config: BackendConfig,
        upload: UploadRequest,
        plans: list[TaskPlan],
        collection: SampleCollection,
        request: AnnotateRequest,
    ) -> None:
        """The upload, then the editor when asked; after a failure, what the run left (_after_failure)."""
        try:
            with backend.connect(config) as session:
                self._upload(run, session, upload, plans, collection, resuming=request.resume)
                if request.launch_editor:
                    self.open_url(session.editor_url(next(iter(run.tasks.values()))))
        except Exception as error:
            self._after_failure(run, error, backend, config)
            raise

    def _check_frame_labels(
        self, items: Sequence[MediaItem], filepaths: Mapping[str, str], schema: LabelSchema, plans: Sequence[TaskPlan]
    ) -> None:
        """Each video's frame labels, one video at a time (`video_labels`): every problem at once.

        Read as the store's rows (only each label's frame and index are looked at), not as samples:
        building every label of every video only to look at its index cost as much as the upload."""
        fields = [field.path for field in schema if field.on_frames and field.label_type != "scalar"]
        if not fields:
            return
        step = {sample_id: plan.frame_step for plan in plans for sample_id in plan.sample_ids}
        problems: list[str] = []
        for item in items:
            indexes: dict[str, dict[int, list[int | None]]] = {field: {} for field in fields}
            for sample_rows in self.store.get_label_rows([item.sample_id], fields):
                for row in sample_rows.rows:
                    indexes[row.field].setdefault(row.frame, []).append(row.values.get("index"))
            problems += frame_index_problems(
                filepaths[item.sample_id],
                item.frame_count,
                {field: found.items() for field, found in indexes.items()},
                step.get(item.sample_id),
            )
        if problems:
            raise TaskPlanError(problems[:20] + ([f"... and {len(problems) - 20} more"] if len(problems) > 20 else []))

    def _after_failure(
        self, run: AnnotationRun, error: BaseException, backend: AnnotationBackend, config: BackendConfig
    ) -> None:
        """A failed annotate() costs the user no key when the server holds nothing of the run: its
        record goes (its events stay for the audit trail) and the corrected call just works.
        Otherwise the error says what remains and the one call that finishes or removes it."""
        if run.is_deleted or not self.registry.has_run(run.dataset, run.key):
            return  # already gone (a refused project schema deletes it first)
        marked = MarkedResources()
        if not (run.created_projects or run.tasks or run.started_tasks):
            try:  # a request that failed may still have made something: it would carry the run's marker
                with backend.connect(config) as session:
                    marked = session.find_marked(run.marker)
            except Exception:  # noqa: BLE001 - whatever the probe meets, the run's own error is the one raised
                logger.info("could not ask the server what run %r left: it carries the marker %s", run.key, run.marker)
                if isinstance(error, Exception) and backend.made_nothing(error):
                    self.registry.delete_run(run.dataset, run.key)
                    return
                # Unknown is not nothing: the record (and its marker) stays, so a cleanup can find what is there.
                error.add_note(
                    f"annoflow: the server could not say whether it holds anything of run {run.key!r}, "
                    f"so the run is kept. Finish it with annotate({run.key!r}, ..., resume=True), or "
                    f"remove it with load_annotation_results({run.key!r}).cleanup()"
                )
                return
            if not (marked.task_ids or marked.project_ids):
                self.registry.delete_run(run.dataset, run.key)
                return
        tasks = sorted({*run.tasks, *run.started_tasks, *marked.task_ids})
        projects = [*run.created_projects, *marked.project_ids]
        what = ", ".join(filter(None, [f"tasks {tasks}" if tasks else "", f"projects {projects}" if projects else ""]))
        error.add_note(
            f"annoflow: run {run.key!r} holds {what} on the server. Finish it with "
            f"annotate({run.key!r}, ..., resume=True), or remove it with "
            f"load_annotation_results({run.key!r}).cleanup()"
        )

    def _schema(
        self,
        collection: SampleCollection,
        sample_ids: Sequence[str],
        options: Mapping[str, Any],
        media_type: MediaType,
        backend_options: Mapping[str, Any],
    ) -> LabelSchema:
        field_schema = self.store.field_schema()
        # A named project may exist and then give the classes: the run may name no field (they are asked
        # for at load time) and new fields without classes (see _follow_project).
        project = backend_options.get("project_name") is not None or backend_options.get("project_id") is not None
        # Observe only fields the run may edit, reading nothing else.
        named = _named_fields(options)
        existing = [p for p in field_schema if p in named] if named is not None else []
        observations = collection.reader.observe(sample_ids, existing)  # the labels the view shows
        schema = build_label_schema(
            **options,
            media_type=media_type.value,
            field_schema=field_schema,
            observations=observations,
            classes_from_project=project,
        )
        for path, missing in classes_left_out(schema, observations).items():
            counted = ", ".join(f"{count} {name!r}" for name, count in sorted(missing.items()))
            warnings.warn(
                f"field {path!r}: the classes given leave out {sum(missing.values())} existing label(s) of "
                f"other classes ({counted}): they are not uploaded, and loading leaves them as they are",
                UserWarning,
                stacklevel=6,
            )  # the caller of SampleCollection.annotate()
        return schema

    def _upload(
        self,
        run: AnnotationRun,
        session: BackendSession,
        upload: UploadRequest,
        plans: list[TaskPlan],
        collection: SampleCollection,
        resuming: bool,
    ) -> None:
        if resuming:
            self._clear_interrupted(run, session)
        upload = self._follow_project(run, session, upload)
        if run.created_projects:
            project = ProjectRef(run.created_projects[0], created=True)
        else:
            project = session.prepare_project(upload)
            if project.created and project.project_id is not None:
                run.record_project(project.project_id)
                self.registry.save_run(run)
        if project.created:
            session.confirm_project(upload, project)
        fields = tuple(upload.label_schema.field_names)
        media = () if upload.media_field == "filepath" else (upload.media_field,)
        done = run.filled_plan_indexes
        pending = [plan for plan in plans if plan.index not in done]
        logger.info(
            "run %r: building %d of %d tasks (%d filled before: skipped)", run.key, len(pending), len(plans), len(done)
        )
        started: dict[int, int] = {}  # plan index -> task id, created ahead of its fill

        def start(plan: TaskPlan) -> int:
            task_id = session.create_task(upload, plan, project)
            made = session.describe_task(task_id)  # when the server made it: tells it from another server's task
            run.start_task(task_id, plan.index, created=made.created if made is not None else None)
            self.registry.save_run(run)
            session.start_media(upload, plan, task_id)
            return task_id

        for position, plan in enumerate(pending):
            task_id = started.pop(plan.index) if plan.index in started else start(plan)
            if position + 1 < len(pending):  # the next task's media go up while this one is filled
                started[pending[position + 1].index] = start(pending[position + 1])
            # read as the backend sends, and as the view shows them: a filtered view uploads only its labels
            samples = SampleSource(collection.reader, plan.sample_ids, fields + media)
            ledger = run.record_task(session.fill_task(upload, plan, task_id, project, samples))
            self.registry.save_run(run, ledger)  # the task's provenance goes to its own ledger
        run.complete_upload()
        self.registry.save_run(run)

    def _follow_project(self, run: AnnotationRun, session: BackendSession, upload: UploadRequest) -> UploadRequest:
        """An existing project's labels replace the run's classes and attributes (FiftyOne's CVAT guide, "Uploading to existing projects"),
        recorded before the first task; a run with no label field, or a new field without classes,
        needs such a project, and a project id must name one the server shows: else the run is
        refused before anything is made, and its record deleted."""
        if not (run.project_schema_adopted or run.created_projects or run.tasks or run.started_tasks):
            try:
                labels = session.project_labels(upload)  # the first request: Requested is saved already
                if labels is not None:
                    capabilities = pick_backend(self.backends, run.backend).capabilities
                    run.adopt_project_schema(adopt_project_labels(run.label_schema, labels, capabilities))
                    self.registry.save_run(run)
                else:  # a project to make (or none): the run's own classes, which must be there
                    check_new_project(run.label_schema)
            except (LabelSchemaError, ProjectNotFoundError):
                # A project id that names no project, or labels the run cannot follow: nothing was
                # made on the server, so free the key for the corrected call.
                self.registry.delete_run(run.dataset, run.key)
                raise
        return attrs.evolve(upload, label_schema=run.label_schema)

    def _clear_interrupted(self, run: AnnotationRun, session: BackendSession) -> None:
        """What an interrupted upload left: started, unfilled tasks go; so do tasks a crash made
        before their id was recorded (they still carry the run's marker); a project the run made
        but did not record is adopted, so cleanup deletes it."""
        marked = session.find_marked(run.marker)
        known = set(run.tasks)
        strays = sorted((set(run.started_tasks) | set(marked.task_ids)) - known)
        if strays:
            session.delete_tasks(strays)
            for task_id in sorted(run.started_tasks):
                run.abandon_task(task_id)
            self.registry.save_run(run)
        if not run.created_projects and marked.project_ids:
            for project_id in marked.project_ids:
                run.record_project(project_id)
            self.registry.save_run(run)


def _named_fields(options: Mapping[str, Any]) -> set[str] | None:
    schema = options.get("label_schema")
    if isinstance(schema, Mapping):
        return set(schema)
    field = options.get("label_field")
    return {field} if isinstance(field, str) else None


def _plain(value: Any) -> Any:
    """Options as JSON-friendly values for the Requested event (tuples as lists)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value

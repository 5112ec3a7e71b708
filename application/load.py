"""load_annotations(): merge what annotators did in the backend back into the dataset, exactly once.

Per task, in this order:
1. changes a previous load recorded but did not apply (a crash) are applied first;
2. the task is downloaded; if its digest is the one already applied, nothing changes;
3. the merge policy decides the changes and the refusals;
4. ``ShapesImported`` with every ``LabelMerged`` and ``Rejected`` is saved in one transaction;
5. the changes are applied to the label store (idempotently: put by id, delete by id);
6. ``ChangesApplied`` is saved.
A crash anywhere leaves either nothing recorded (the task is simply loaded again)
or recorded changes that step 1 of the next load applies, never a duplicate.
With ``cleanup=True``, ``CleanupStarted`` is saved with ``LoadCompleted`` before
anything is deleted: a load after a crash while deleting finishes the cleanup.
"""

from __future__ import annotations

import logging
import sys
import uuid
import warnings
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from annoflow.application.annotate import PLAN_OPTIONS, pick_backend
from annoflow.application.ports.annotation_backend import (
    JOB_STAGES,
    JOB_STATES,
    MAX_OBJECTS_PER_FRAME,
    AnnotationBackend,
    BackendSession,
    DownloadedTask,
    TaskGoneError,
    UnexpectedLabel,
    UploadRequest,
)
from annoflow.application.ports.label_store import LabelStore
from annoflow.application.progress import NO_PROGRESS, Progress, Tracked
from annoflow.application.runs.registry import RunRegistry
from annoflow.application.server_identity import cleanup_targets
from annoflow.domain.annotation_run import AnnotationRun, RunError
from annoflow.domain.changes import DeleteLabel, LabelChange, PutLabel, SetValue
from annoflow.domain.fields import LABEL_TYPE_OF_KIND, FieldKind
from annoflow.domain.ids import derived_id
from annoflow.domain.labels import LIST_OF_ELEMENT, Label
from annoflow.domain.merge import merge_task
from annoflow.domain.run_records import LoadSummary, MergeAction, MergedChange, TaskRecord
from annoflow.domain.samples import Sample, field_labels
from annoflow.domain.task_ledger import TaskLedger

logger = logging.getLogger(__name__)
UNEXPECTED = ("prompt", "ignore", "keep", "return")


@attrs.frozen
class LoadResult:
    summary: LoadSummary
    rejections: tuple[Any, ...]
    unexpected: Mapping[str, list[UnexpectedLabel]]


class LoadReport(dict[str, list[UnexpectedLabel]]):
    """What load_annotations() did. As a dict it is what FiftyOne's load_annotations() returns with
    ``unexpected="return"`` (label type -> the unexpected labels; empty otherwise, where FiftyOne
    returns None); its attributes are the load's figures, so code written for FiftyOne keeps working."""

    def __init__(self, result: LoadResult, returned: bool) -> None:
        super().__init__(result.unexpected if returned else {})
        self.summary: LoadSummary = result.summary
        self.rejections: tuple[Any, ...] = result.rejections  # the edits refused and the objects not read

    added = property(lambda self: self.summary.added, doc="labels the load added")
    edited = property(lambda self: self.summary.edited, doc="labels (and values) the load edited")
    deleted = property(lambda self: self.summary.deleted, doc="labels (and values) the load deleted")
    rejected = property(lambda self: self.summary.rejected, doc="edits refused and objects not read")
    unexpected = property(lambda self: self.summary.unexpected, doc="labels found outside the run's schema")
    unchanged_tasks = property(lambda self: self.summary.unchanged_tasks, doc="tasks unchanged since the last load")
    missing_tasks = property(lambda self: self.summary.missing_tasks, doc="tasks the server no longer has")
    painted = property(lambda self: self.summary.painted, doc="boxes and polygons painted into segmentation masks")

    def __repr__(self) -> str:
        s = self.summary
        return (
            f"LoadReport(added={s.added}, edited={s.edited}, deleted={s.deleted}, rejected={s.rejected}, "
            f"unexpected={s.unexpected}, unchanged_tasks={s.unchanged_tasks}, missing_tasks={list(s.missing_tasks)})"
        )


def store_changes(changes: Sequence[MergedChange]) -> list[LabelChange]:
    out: list[LabelChange] = []
    for change in changes:
        # A change without a label id is a scalar field's; one with an id but no label deletes it
        # (MergedChange's validators hold both).
        if change.label_id is None:
            out.append(SetValue(change.sample_id, change.field, change.value, change.frame))
        elif change.label is None:
            out.append(DeleteLabel(change.sample_id, change.field, change.label_id, change.frame))
        else:
            out.append(PutLabel(change.sample_id, change.field, change.label, change.frame))
    return out


def _job_filter(stage: str | None, state: str | None) -> str | None:
    """The jobs a load merges, as it is recorded ("stage=validation", ...), or None for all of them."""
    if stage is not None and stage not in JOB_STAGES:
        raise ValueError(f"job_stage must be one of {', '.join(JOB_STAGES)}, got {stage!r}")
    if state is not None and state not in JOB_STATES:
        raise ValueError(f"job_state must be one of {', '.join(JOB_STATES)}, got {state!r}")
    parts = [f"stage={stage}" if stage else "", f"state={state}" if state else ""]
    return ",".join(p for p in parts if p) or None


def _within(downloaded: DownloadedTask, samples: frozenset[str], jobs: str) -> DownloadedTask:
    """What a download shows on some samples only. Its digest names the choice of jobs, so a later load
    of all jobs sees the task as changed and merges the rest (what was merged merges to nothing)."""
    return attrs.evolve(
        downloaded,
        digest=f"{downloaded.digest}|{jobs}",
        imported=[i for i in downloaded.imported if i.sample_id in samples],
        unexpected=[u for u in downloaded.unexpected if u.sample_id in samples],
        values=[v for v in downloaded.values if v.sample_id in samples],
    )


class _TaskSource:
    """One task's samples and provenance, each read from its store only when a download needs it:
    a task whose digest is unchanged costs neither."""

    def __init__(
        self, store: LabelStore, registry: RunRegistry, run: AnnotationRun, task_id: int, fields: tuple[str, ...]
    ) -> None:
        self._store, self._registry, self._run = store, registry, run
        self.task_id = task_id
        self._fields = fields
        self._ledger: TaskLedger | None = None
        self._record: TaskRecord | None = None
        self._samples: dict[str, Sample] | None = None

    @property
    def ledger(self) -> TaskLedger:
        if self._ledger is None:
            self._ledger = self._registry.get_ledger(self._run, self.task_id)
        return self._ledger

    def provenance(self) -> TaskRecord:
        if self._record is None:
            self._record = self.ledger.record()
        return self._record

    @property
    def samples(self) -> dict[str, Sample]:
        if self._samples is None:
            ids = self._run.tasks[self.task_id].sample_ids
            self._samples = {s.id: s for s in self._store.get_samples(ids, fields=self._fields)}
        return self._samples

    def originals(self) -> dict[str, Label]:
        return {label.id: label for s in self.samples.values() for f in self._fields for _, label in field_labels(s, f)}


class Loader:
    def __init__(
        self,
        store: LabelStore,
        registry: RunRegistry,
        backends: Mapping[str, AnnotationBackend],
        ask: Callable[[str], str] = input,
        interactive: bool | None = None,
        progress: Progress = NO_PROGRESS,
    ) -> None:
        self.progress = progress
        self.store = store
        self.registry = registry
        self.backends = backends
        self.ask = ask
        self.interactive = interactive

    def _declare_targets(self, run: AnnotationRun, dest: Mapping[str, str]) -> None:
        schema = self.store.field_schema()
        for field in run.label_schema:
            target = dest.get(field.path, field.path)
            if target in schema or field.label_type == "scalar":
                continue
            kind = {"instances": FieldKind.DETECTIONS, "polygons": FieldKind.POLYLINES}.get(field.label_type)
            self.store.declare_field(target, kind or FieldKind(field.label_type))

    def _scalar_kinds(self, run: AnnotationRun, dest: Mapping[str, str]) -> dict[str, str]:
        """The kind each scalar field's values load as: the destination's declared kind, else the
        kind recorded at annotate(), else str (CVAT's text); a destination holding labels is refused."""
        schema = self.store.field_schema()
        kinds = {}
        for field in run.label_schema:
            if field.label_type != "scalar":
                continue
            target = dest.get(field.path, field.path)
            declared = schema.get(target)
            if declared is not None and not declared.is_scalar:
                raise ValueError(
                    f"field {target!r} holds {declared.value}: the values of scalar field {field.path!r} "
                    "cannot load into it"
                )
            kinds[field.path] = declared.value if declared is not None else field.scalar_kind or FieldKind.STR.value
        return kinds

    def _finish_unapplied(self, run: AnnotationRun) -> None:
        for task_id, load_id in sorted(run.unapplied.items()):
            changes = run.legacy_changes_of(task_id, load_id)
            if changes is None:
                changes = self.registry.get_ledger(run, task_id).changes_of(load_id)
            self.store.apply(store_changes(changes))
            run.mark_applied(task_id)
            self.registry.save_run(run)

    def load(
        self,
        dataset: str,
        key: str,
        *,
        unexpected: str = "prompt",
        cleanup: bool = False,
        dest_field: str | Mapping[str, str] | None = None,
        max_objects_per_frame: int = MAX_OBJECTS_PER_FRAME,
        job_stage: str | None = None,
        job_state: str | None = None,
        recheck: bool = False,
        **connection: Any,
    ) -> LoadResult:
        options = _LoadOptions.checked(
            unexpected=unexpected,
            job_stage=job_stage,
            job_state=job_state,
            max_objects_per_frame=max_objects_per_frame,
            recheck=recheck,
        )
        run = self.registry.get_run(dataset, key)
        if not run.cleanup_pending:
            run.check_loadable()  # before any request: a cleaned-up run's tasks are gone
        dest = self._destinations(run, dest_field)
        backend = pick_backend(self.backends, run.backend)
        first = next(self.store.get_samples(run.sample_ids[:1], fields=()))
        recorded = {k: v for k, v in run.config.items() if k not in PLAN_OPTIONS}
        config = backend.parse_config({**recorded, **connection}, first.media_type)
        self._declare_targets(run, dest)
        scalar_kinds = self._scalar_kinds(run, dest)
        self._finish_unapplied(run)
        load_id = uuid.uuid4().hex[:12]
        request = UploadRequest(dataset, run.key, run.label_schema, run.media_field, first.media_type, config)
        with backend.connect(config) as session:
            if run.cleanup_pending:  # a crash interrupted it: tasks may be gone, so finish it instead of loading
                self._cleanup(run, session)
                return LoadResult(LoadSummary(load_id), (), {})
            walk = _TaskWalk(
                self, run, session, request, options, dest=dest, scalar_kinds=scalar_kinds, load_id=load_id
            )
            outcomes = []
            tasks = self.progress.track(list(run.tasks), f"loading {run.key!r}", unit="task")
            for task_id in tasks:
                outcomes.append(walk.load_task(task_id, tasks))
            tally = _Tally.of(outcomes)
            summary = tally.summary(load_id, options.jobs)
            run.complete_load(summary)
            if cleanup:
                # saved with LoadCompleted: a crash while deleting leaves a cleanup to finish
                run.start_cleanup(cleanup_targets(run, session, sorted(run.tasks), run.created_projects))
            self.registry.save_run(run)
            if cleanup:
                self._cleanup(run, session)
        return LoadResult(summary, tally.rejections, tally.strays if options.unexpected == "return" else {})

    @staticmethod
    def _check_is_the_runs(run: AnnotationRun, session: BackendSession, task_id: int) -> None:
        remote = session.describe_task(task_id)
        if remote is None:
            raise RunError(
                f"task {task_id} of run {run.key!r} went from the server while it was loaded: nothing of "
                "it was merged; load again"
            )
        run.check_remote_task(task_id, name=remote.name, job_ids=remote.job_ids, created=remote.created)

    def _cleanup(self, run: AnnotationRun, session: BackendSession) -> None:
        cleanup_targets(run, session, sorted(run.tasks), ())  # the tasks left are still the run's own
        session.delete_tasks(sorted(run.tasks))  # tasks and projects already gone are not an error
        session.delete_projects(list(run.cleanup_projects))  # checked when the cleanup started
        run.record_cleanup(sorted(run.tasks), run.created_projects)
        self.registry.save_run(run)

    def _destinations(self, run: AnnotationRun, dest_field: str | Mapping[str, str] | None) -> dict[str, str]:
        names = [f.path for f in run.label_schema]
        if dest_field is None:
            return {}
        if isinstance(dest_field, str):
            if len(names) != 1:
                raise ValueError(f"the run has fields {names}: give dest_field as a dict of field -> destination")
            return {names[0]: dest_field}
        unknown = sorted(set(dest_field) - set(names))
        if unknown:
            raise ValueError(f"dest_field names fields the run does not have: {unknown} (fields: {names})")
        return dict(dest_field)

    def _can_prompt(self) -> bool:
        if self.interactive is not None:
            return self.interactive
        return bool(sys.stdin and sys.stdin.isatty())

    @staticmethod
    def _no_prompt(strays: Sequence[UnexpectedLabel]) -> str:
        kinds: dict[str, int] = {}
        for stray in strays:
            kinds[stray.label_type] = kinds.get(stray.label_type, 0) + 1
        found = ", ".join(f"{n} {k}" for k, n in kinds.items())
        return (
            f"CVAT holds labels outside the run's schema ({found}) and no terminal is attached to ask where "
            "they go: pass unexpected='keep', 'ignore' or 'return'"
        )

    def _kept(
        self, strays: Sequence[UnexpectedLabel], mode: str, targets: Mapping[str, str | None], seed: str
    ) -> tuple[list[MergedChange], dict[str, str | None]]:
        """One task's unexpected labels to keep, as changes adding them, and the fields each label type goes
        to (``targets`` with the label types new in this task: asks once per label type and load)."""
        if not strays or mode in ("ignore", "return"):
            return [], dict(targets)
        targets = {**targets, **self._new_targets(strays, mode, targets)}
        changes = [
            self._kept_change(item, item.label, target, seed)
            for item in strays
            if (target := targets.get(item.label_type)) and item.label is not None
        ]
        return changes, targets

    def _new_targets(
        self, strays: Sequence[UnexpectedLabel], mode: str, known: Mapping[str, str | None]
    ) -> dict[str, str | None]:
        """The field each label type not in ``known`` goes to: its own name ("keep"), or the answer asked."""
        found = Counter(stray.label_type for stray in strays)
        targets: dict[str, str | None] = {}
        for label_type, count in found.items():
            if label_type in known:
                continue
            if mode == "keep":
                targets[label_type] = label_type
            else:
                answer = self.ask(
                    f"Found {count} unexpected {label_type}: a field to store them in (empty to discard)? "
                ).strip()
                targets[label_type] = answer or None
        return targets

    def _kept_change(self, item: UnexpectedLabel, label: Label, target: str, seed: str) -> MergedChange:
        """The change adding an unexpected label to ``target``, declared first when the store lacks it."""
        if target not in self.store.field_schema():
            container = LIST_OF_ELEMENT.get(type(label))
            kind = next(k for k, v in LABEL_TYPE_OF_KIND.items() if v is (container or type(label)))
            self.store.declare_field(target, kind)
        # the same remote object is kept as the same label at every load that sees it
        if item.remote_id is not None:
            label = label.replace(id=derived_id(seed, "unexpected", item.remote_id))
        return MergedChange(MergeAction.ADDED, item.sample_id, target, label.id, label=label)


@attrs.frozen(kw_only=True)
class _LoadOptions:
    """load()'s choices, checked before anything is read or sent."""

    unexpected: str
    job_stage: str | None
    job_state: str | None
    jobs: str | None  # the jobs the load merges, as recorded ("stage=validation"), or None for all
    max_objects_per_frame: int
    recheck: bool

    @classmethod
    def checked(
        cls, *, unexpected: str, job_stage: str | None, job_state: str | None, max_objects_per_frame: int, recheck: bool
    ) -> _LoadOptions:
        if unexpected not in UNEXPECTED:
            raise ValueError(f"unexpected must be one of {', '.join(UNEXPECTED)}, got {unexpected!r}")
        jobs = _job_filter(job_stage, job_state)
        if type(max_objects_per_frame) is not int or max_objects_per_frame < 1:
            raise ValueError(f"max_objects_per_frame must be a positive integer, got {max_objects_per_frame!r}")
        return cls(
            unexpected=unexpected,
            job_stage=job_stage,
            job_state=job_state,
            jobs=jobs,
            max_objects_per_frame=max_objects_per_frame,
            recheck=recheck,
        )


@attrs.frozen(kw_only=True)
class _TaskOutcome:
    """What loading one task did: how many labels each kind of change touched (the changes themselves
    are recorded and applied, then freed: a load holds one task's at a time), its refusals, the
    unexpected labels it showed, and whether it was unchanged or gone from the server."""

    task_id: int
    actions: Mapping[str, int] = attrs.field(factory=dict)  # a change's action -> how many
    refused: tuple[Any, ...] = ()
    strays: tuple[UnexpectedLabel, ...] = ()
    painted: int = 0
    unchanged: bool = False
    gone: bool = False


@attrs.frozen(kw_only=True)
class _Tally:
    """A load's outcomes summed, in the order of its tasks."""

    counts: Mapping[str, int]
    rejections: tuple[Any, ...]
    strays: dict[str, list[UnexpectedLabel]]  # label type -> the unexpected labels, as load() returns them
    missing: tuple[int, ...]

    @classmethod
    def of(cls, outcomes: Sequence[_TaskOutcome]) -> _Tally:
        counts: Counter[str] = Counter()
        for outcome in outcomes:
            counts.update(outcome.actions)
        strays: dict[str, list[UnexpectedLabel]] = {}
        for outcome in outcomes:
            for stray in outcome.strays:
                strays.setdefault(stray.label_type, []).append(stray)
        counts.update(
            rejected=sum(len(o.refused) for o in outcomes),
            unchanged=sum(o.unchanged for o in outcomes),
            painted=sum(o.painted for o in outcomes),
            unexpected=sum(len(v) for v in strays.values()),
        )
        return cls(
            counts=counts,
            rejections=tuple(r for o in outcomes for r in o.refused),
            strays=strays,
            missing=tuple(o.task_id for o in outcomes if o.gone),
        )

    def summary(self, load_id: str, jobs: str | None) -> LoadSummary:
        c = self.counts
        return LoadSummary(
            load_id,
            added=c["added"],
            edited=c["edited"],
            deleted=c["deleted"],
            rejected=c["rejected"],
            unexpected=c["unexpected"],
            unchanged_tasks=c["unchanged"],
            missing_tasks=self.missing,
            jobs=jobs,
            painted=c["painted"],
        )


class _TaskWalk:
    """One load's walk over its run's tasks. Each task is skipped when unchanged, else downloaded,
    checked, merged, recorded, then applied; a crash between recording and applying leaves changes
    that the next load applies first."""

    def __init__(
        self,
        loader: Loader,
        run: AnnotationRun,
        session: BackendSession,
        request: UploadRequest,
        options: _LoadOptions,
        *,
        dest: Mapping[str, str],
        scalar_kinds: Mapping[str, str],
        load_id: str,
    ) -> None:
        self._loader, self._run, self._session, self._request = loader, run, session, request
        self._options, self._dest, self._scalar_kinds, self._load_id = options, dest, scalar_kinds, load_id
        self._fields = tuple(f.path for f in run.label_schema)
        self._targets: dict[str, str | None] = {}  # label type -> the field its unexpected labels go to

    def load_task(self, task_id: int, progress: Tracked[int]) -> _TaskOutcome:
        # the task's labels are made and freed within the backend's scope for them
        with self._session.task_scope():
            return self._load_task(task_id, progress)

    def _load_task(self, task_id: int, progress: Tracked[int]) -> _TaskOutcome:
        run, options = self._run, self._options
        source = _TaskSource(self._loader.store, self._loader.registry, run, task_id, self._fields)
        # A load that crashed after merging this task never returned its unexpected labels:
        # read the task again (merging nothing twice) so that this load returns them.
        owed = options.unexpected == "return" and run.imported_by_unfinished_load(task_id)
        progress.note(f"task {task_id}: downloading")
        try:
            # read before the download: a change made while it runs shows as a new stamp next time
            revision = self._session.task_revision(task_id)
            if not owed and self._is_current(task_id, revision):
                return self._unchanged(task_id, progress)  # nothing changed on the server since its applied download
            chosen = self._chosen_frames(task_id)
            if chosen is not None and not chosen:
                return _TaskOutcome(task_id=task_id)  # none of the task's jobs is in that stage or state
            downloaded = self._download(task_id, source, owed)
        except TaskGoneError:
            return self._gone(task_id)
        downloaded, shown = self._within_jobs(downloaded, chosen, source)
        if downloaded.unchanged or run.is_unchanged(task_id, downloaded.digest):
            if shown is None:  # the whole task was read: its stamp stands for what is applied
                run.note_revision(task_id, revision)
                self._loader.registry.save_run(run)
            return self._unchanged(task_id, progress, strays=tuple(downloaded.unexpected) if owed else ())
        self._check(task_id, downloaded)  # before anything of it is merged
        progress.note(f"task {task_id}: merging")
        changes, refused = self._merge(source, downloaded, shown)
        self._record(task_id, source, downloaded, changes, refused, revision=revision if shown is None else None)
        self._apply(task_id, changes)
        return _TaskOutcome(
            task_id=task_id,
            actions=Counter(change.action.value for change in changes),
            refused=tuple(refused),
            strays=tuple(downloaded.unexpected),
            painted=downloaded.painted,
        )

    def _is_current(self, task_id: int, revision: str | None) -> bool:
        """The server's stamp of the task is its applied download's, and the load reads no more than that."""
        return not (self._options.jobs or self._options.recheck) and self._run.is_current(task_id, revision)

    def _download(self, task_id: int, source: _TaskSource, owed: bool) -> DownloadedTask:
        """The task as the server holds it now; unchanged (unread) when its digest is the applied one,
        unless the load owes its unexpected labels or merges some jobs only."""
        applied = None if owed or self._options.jobs else self._run.applied_digests.get(task_id)
        return self._session.download_task(
            self._request,
            task_id,
            source.provenance,
            source.originals,
            applied,
            max_objects_per_frame=self._options.max_objects_per_frame,
        )

    def _unchanged(
        self, task_id: int, progress: Tracked[int], strays: tuple[UnexpectedLabel, ...] = ()
    ) -> _TaskOutcome:
        logger.info("run %r: task %d unchanged since the last load: skipped", self._run.key, task_id)
        progress.note(f"task {task_id}: unchanged")
        return _TaskOutcome(task_id=task_id, unchanged=True, strays=strays)

    def _gone(self, task_id: int) -> _TaskOutcome:
        logger.warning("task %s of run %r is gone from the server: skipped", task_id, self._run.key)
        # stacklevel: the caller of load()'s caller, as when load() warned itself (load -> load_task -> _load_task
        # -> _gone)
        warnings.warn(
            f"task {task_id} of run {self._run.key!r} no longer exists on the server: skipped, "
            "its labels in the dataset are left as they are",
            stacklevel=6,
        )
        return _TaskOutcome(task_id=task_id, gone=True)

    def _chosen_frames(self, task_id: int) -> frozenset[int] | None:
        """The frames of the task's jobs in the chosen stage or state, or None when the load takes all jobs."""
        if not self._options.jobs:
            return None
        return self._session.frames_of_jobs(task_id, stage=self._options.job_stage, state=self._options.job_state)

    def _within_jobs(
        self, downloaded: DownloadedTask, chosen: frozenset[int] | None, source: _TaskSource
    ) -> tuple[DownloadedTask, frozenset[str] | None]:
        """The download narrowed to what the chosen jobs show, and the samples they show (None: all)."""
        if chosen is None or downloaded.unchanged:
            return downloaded, None
        frames = source.provenance().frames
        shown = frozenset(frames[i].sample_id for i in chosen if 0 <= i < len(frames))
        return _within(downloaded, shown, self._options.jobs or ""), shown

    def _check(self, task_id: int, downloaded: DownloadedTask) -> None:
        """Refusals before the task is recorded: a later load with another choice sees it again."""
        if downloaded.unexpected and self._options.unexpected == "prompt" and not self._loader._can_prompt():
            raise RunError(self._loader._no_prompt(downloaded.unexpected))
        self._loader._check_is_the_runs(self._run, self._session, task_id)

    def _merge(
        self, source: _TaskSource, downloaded: DownloadedTask, shown: frozenset[str] | None
    ) -> tuple[list[MergedChange], list[Any]]:
        """The changes the task's download makes to its samples and the edits refused."""
        seed = str(source.ledger.id)  # new labels' ids follow from their objects: never a copy
        merging = source.samples if shown is None else {i: s for i, s in source.samples.items() if i in shown}
        changes, refused = merge_task(
            self._run.label_schema,
            source.provenance(),
            merging,
            downloaded.imported,
            self._dest,
            downloaded.values,
            self._scalar_kinds,
            id_seed=seed,
            unread=downloaded.unread,
        )
        # kept strays are recorded and applied with their task: once its digest is applied they are not seen again
        kept, self._targets = self._loader._kept(downloaded.unexpected, self._options.unexpected, self._targets, seed)
        # objects not read are recorded as refusals too
        return [*changes, *kept], [*downloaded.unread, *refused]

    def _record(
        self,
        task_id: int,
        source: _TaskSource,
        downloaded: DownloadedTask,
        changes: Sequence[MergedChange],
        refused: Sequence[Any],
        *,
        revision: str | None,
    ) -> None:
        """ShapesImported with the task's changes and refusals, saved in one transaction with its ledger."""
        self._run.record_import(
            load_id=self._load_id,
            task_id=task_id,
            digest=downloaded.digest,
            ledger=source.ledger,
            changes=changes,
            rejections=refused,
            shape_count=len(downloaded.imported),
            revision=revision,
        )
        self._loader.registry.save_run(self._run, source.ledger)

    def _apply(self, task_id: int, changes: Sequence[MergedChange]) -> None:
        """The recorded changes into the label store, then ChangesApplied saved."""
        self._loader.store.apply(store_changes(changes))
        self._run.mark_applied(task_id)
        self._loader.registry.save_run(self._run)

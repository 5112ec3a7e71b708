"""The annotation backend port: what annotate() and load_annotations() need of CVAT.

The CVAT adapter (httpx) implements it for real; unit tests use a fake. The
port is cut at the points where the run must record an event, so an
interrupted call always leaves a record of what exists on the server:
``create_task`` returns as soon as a task exists (TaskStarted), ``fill_task``
uploads media and labels and returns the task's provenance (TaskCreated).
"""

from __future__ import annotations

import abc
import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import attrs

from annoflow.application.ports.label_store import SampleRows
from annoflow.application.progress import NO_PROGRESS, Progress
from annoflow.domain.errors import AnnoflowError
from annoflow.domain.label_schema import LabelSchema
from annoflow.domain.labels import Label
from annoflow.domain.merge import ImportedLabel, ImportedValue
from annoflow.domain.project_schema import ProjectLabel
from annoflow.domain.run_records import Rejection, TaskRecord, TaskSummary
from annoflow.domain.samples import MediaType, Sample
from annoflow.domain.task_plan import TaskPlan
from annoflow.domain.tool_capabilities import ToolCapabilities

# A job's stage and state in the annotation workflow (CVAT's words, which FiftyOne's users know):
# load_annotations(job_stage=..., job_state=...) merges only the jobs in them.
JOB_STAGES = ("annotation", "validation", "acceptance")
JOB_STATES = ("new", "in progress", "rejected", "completed")

# How many objects a load reads on one frame (load_annotations()'s max_objects_per_frame): more than
# people draw on one image, and a bound on what one answer of a broken or hostile server can cost.
MAX_OBJECTS_PER_FRAME = 10_000


class BackendConfigError(AnnoflowError, ValueError):
    """Backend options that cannot work, all listed, found before anything is sent."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("invalid backend options:\n" + "\n".join(f"  - {p}" for p in self.problems))


class UnusableMediaError(AnnoflowError, ValueError):
    """Media files the backend could not take (empty, unreadable, not an image or a video, cut short)."""


class MediaNotFoundError(AnnoflowError, FileNotFoundError):
    """Media files a run would upload do not exist; raised by `AnnotationBackend.check_media`,
    before anything is recorded or sent."""


class ProjectNotFoundError(AnnoflowError, LookupError):
    """The run names, by id, a project the server does not show its user: none was made, nothing
    was sent. Raised by `BackendSession.project_labels` (and `prepare_project`), before anything
    is made; annotate() then deletes the run's record, so the corrected call can use its key."""


@attrs.frozen
class BackendConfig:
    """Checked options: what may be recorded in the run, and what may not.

    ``recorded`` holds plain values safe to store in an event (never a
    credential); ``connection`` holds what is needed to connect and is never
    recorded or printed.
    """

    recorded: Mapping[str, Any]
    connection: Any = attrs.field(repr=False)


@attrs.frozen
class UploadRequest:
    """Everything a backend needs to build a run's tasks."""

    dataset: str
    key: str
    label_schema: LabelSchema
    media_field: str
    media_type: MediaType
    config: BackendConfig
    # Unique to the run: what the backend makes carries it until the run has recorded its id,
    # so a resumed upload finds what a crash left unrecorded (`find_marked`).
    marker: str = ""
    # Where the backend reports each task's stages (uploading media, uploading labels).
    progress: Progress = attrs.field(default=NO_PROGRESS, eq=False, repr=False)


# attrs converters a type checker reads: with ``converter=tuple`` a field takes "an iterable of _T_co".
def _ints(values: Iterable[int]) -> tuple[int, ...]:
    return tuple(values)


def _strings(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


def _imported(values: Iterable[ImportedLabel]) -> tuple[ImportedLabel, ...]:
    return tuple(values)


def _unexpected(values: Iterable[UnexpectedLabel]) -> tuple[UnexpectedLabel, ...]:
    return tuple(values)


def _values(values: Iterable[ImportedValue]) -> tuple[ImportedValue, ...]:
    return tuple(values)


def _rejections(values: Iterable[Rejection]) -> tuple[Rejection, ...]:
    return tuple(values)


@attrs.frozen
class MarkedResources:
    """Tasks and projects on the server that still carry a run's marker."""

    task_ids: tuple[int, ...] = attrs.field(default=(), converter=_ints)
    project_ids: tuple[int, ...] = attrs.field(default=(), converter=_ints)


@attrs.frozen
class ProjectRef:
    """The project the run's tasks go into: existing (found or given) or made by the run."""

    project_id: int | None
    created: bool = False


@attrs.frozen
class UnexpectedLabel:
    """A label the annotators made outside the run's schema (another type, an unknown class)."""

    sample_id: str
    label_type: str  # e.g. "detections", "polylines": the field it would fit
    label: Label | None
    description: str
    remote_id: str | None = None  # names the backend's object, so keeping it twice keeps one label


@attrs.frozen
class DownloadedTask:
    """One task's annotations read back: a digest of what the server sent, the labels, the strays, the
    scalars, and what was not read."""

    digest: str
    imported: tuple[ImportedLabel, ...] = attrs.field(default=(), converter=_imported)
    unexpected: tuple[UnexpectedLabel, ...] = attrs.field(default=(), converter=_unexpected)
    unchanged: bool = False  # the digest is the one already applied: nothing was converted
    # Scalar fields' values as the backend holds them (CVAT: text), one per value found; a sample of
    # the task with none for a field holds no value there.
    values: tuple[ImportedValue, ...] = attrs.field(default=(), converter=_values)
    # Objects the server sent that were not read, as refusals the load records with the merge's: rule
    # "malformed" (what was wrong with one object: its form, a frame outside the task, geometry its
    # frame cannot hold) or "max_objects_per_frame" (a frame's objects past the load's limit). Each
    # names the uploaded label the object stands for, when it tells: the merge keeps that label as
    # it is (`merge_task`'s ``unread``), since its object is still on the server.
    unread: tuple[Rejection, ...] = attrs.field(default=(), converter=_rejections)
    # Boxes and polygons drawn with a segmentation's class, painted into its masks (the merge sees
    # the segmentation as it now stands).
    painted: int = 0


@attrs.frozen
class ImportSelection:
    """The tasks an import reads, and the project they were found in (None for tasks given by id)."""

    task_ids: tuple[int, ...] = attrs.field(converter=_ints)
    project_id: int | None = None
    videos: tuple[int, ...] = attrs.field(default=(), converter=_ints)  # the tasks that hold a video


class SampleReader(Protocol):
    """What reads a task's samples: the label store, or a view's reader over it."""

    def get_samples(self, ids: Sequence[str] | None = None, fields: Any = None) -> Iterator[Sample]: ...

    def get_label_rows(self, ids: Sequence[str], fields: Any) -> Iterator[SampleRows]: ...


@attrs.frozen(eq=False)
class SampleSource:
    """A task's samples as its reader gives them, read lazily: iterated as samples, or, for a
    backend that converts labels straight from their values, as label rows (`label_rows`)."""

    reader: SampleReader
    ids: tuple[str, ...] = attrs.field(converter=_strings)
    fields: tuple[str, ...] = attrs.field(converter=_strings)

    def __iter__(self) -> Iterator[Sample]:
        return self.reader.get_samples(self.ids, fields=self.fields)

    def label_rows(self, fields: Sequence[str]) -> Iterator[SampleRows]:
        return self.reader.get_label_rows(self.ids, fields)


class TaskGoneError(AnnoflowError, LookupError):
    """The backend no longer has the task (deleted there): a load skips it."""

    def __init__(self, task_id: int) -> None:
        self.task_id = task_id
        super().__init__(f"task {task_id} no longer exists on the server")


@attrs.frozen
class RemoteTask:
    """What the server says a task is: enough to tell a run's own task from another one."""

    task_id: int
    name: str
    project_id: int | None
    job_ids: tuple[int, ...] = attrs.field(converter=tuple)
    created: str | None = None


@attrs.frozen
class TaskStatus:
    """One task's status as the backend reports it now (``results.get_status()``).

    Attributes:
        task_id: the task's id.
        name: the task's name.
        status: the task's status as the backend names it (CVAT: ``annotation``, ``validation`` or
            ``completed``).
        assignee: the username of the task's assignee, or None.
        updated: when the task last changed, as the backend writes it (CVAT: ISO 8601), or None.
        url: where a person opens the task in the backend's UI.
        jobs: per job, a dict with its ``id``, ``status`` (CVAT: the job's stage, ``annotation``,
            ``validation`` or ``acceptance``) and ``assignee`` (a username or None).
    """

    task_id: int
    name: str
    status: str
    assignee: str | None
    updated: str | None
    url: str
    jobs: tuple[Mapping[str, Any], ...] = ()


@runtime_checkable
class AnnotationAPI(Protocol):
    """A backend's public API object (for CVAT: ``CVATAnnotationAPI``): a context manager over the
    backend's logged-in connections. This layer only hands it on; `AnnotationBackend.session_over`
    builds the sessions that go through it."""

    def close(self) -> None: ...

    def __enter__(self) -> Any: ...

    def __exit__(self, *exc: object) -> None: ...


class BackendSession(abc.ABC):
    """One connection to the backend, used for one annotate() or load call."""

    def __enter__(self) -> BackendSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:  # noqa: B027 - an optional hook: the default holds nothing to release
        """Release the connection; the default holds none."""

    def task_scope(self) -> contextlib.AbstractContextManager[None]:
        """The context one task's load runs in, from its download until its changes are applied and its
        labels freed. Default: none. (The CVAT backend pauses Python's cyclic collector there: a task's
        labels hold no reference cycles, and are freed before it walks them.)"""
        return contextlib.nullcontext()

    @abc.abstractmethod
    def prepare_project(self, request: UploadRequest) -> ProjectRef:
        """Find or create the run's project (None when the run uses no project).

        A project it creates carries ``request.marker`` until `confirm_project`.
        """

    def project_labels(self, request: UploadRequest) -> Sequence[ProjectLabel] | None:
        """The labels of the run's project when it exists already (they replace the run's classes
        and attributes); None when the run names no project or one that does not exist yet (by
        name: it is made). A project named by id that the server does not show raises
        `ProjectNotFoundError`."""
        return None

    def confirm_project(self, request: UploadRequest, project: ProjectRef) -> None:  # noqa: B027 - an optional hook: a backend without the need keeps the default
        """The run recorded the project it created: drop the marker (idempotent). Default: nothing to do."""

    @abc.abstractmethod
    def create_task(self, request: UploadRequest, plan: TaskPlan, project: ProjectRef) -> int:
        """Create one empty task and return its id; it carries ``request.marker`` until filled."""

    def start_media(self, request: UploadRequest, plan: TaskPlan, task_id: int) -> None:  # noqa: B027 - an optional hook: a backend without the need keeps the default
        """Begin sending a created task's media before its `fill_task`, so they go up while an earlier
        task is filled. Default: nothing (fill_task sends them)."""

    def find_marked(self, marker: str) -> MarkedResources:
        """Tasks and projects still carrying a run's marker: made, maybe not recorded, before a crash.

        Default: a backend that marks nothing finds nothing.
        """
        return MarkedResources()

    @abc.abstractmethod
    def fill_task(
        self,
        request: UploadRequest,
        plan: TaskPlan,
        task_id: int,
        project: ProjectRef,
        samples: SampleSource | Iterable[Sample],
    ) -> TaskRecord:
        """Upload the task's media and labels; return what is needed to read it back.

        ``samples`` (the plan's, in its order) are read lazily from the label store: a backend
        may start sending the media (``plan.media_paths``) before it consumes them. A
        `SampleSource` also gives them as label rows.
        """

    @abc.abstractmethod
    def task_revision(self, task_id: int) -> str | None:
        """A stamp of the task's annotations that changes whenever they change (CVAT: the task's
        ``updated_date``, which every change of its annotations sets), or None when the server has
        none. Read before a download: a change made after it shows as a new stamp next time. A task
        the server no longer has raises `TaskGoneError`."""

    @abc.abstractmethod
    def download_task(
        self,
        request: UploadRequest,
        task_id: int,
        provenance: Callable[[], TaskRecord],
        read_originals: Callable[[], Mapping[str, Label]],
        applied_digest: str | None = None,
        *,
        max_objects_per_frame: int = MAX_OBJECTS_PER_FRAME,
    ) -> DownloadedTask:
        """Read a task's annotations back as labels with their provenance.

        When what the server sends has ``applied_digest``, stop there (``unchanged=True``): a load
        that finds nothing new reads no labels and no provenance. ``provenance()`` gives the task's
        record as its ledger holds it now (uploads and the labels loads added since). A task the
        server no longer has raises `TaskGoneError`. ``read_originals()`` gives the uploaded labels as the
        dataset holds them now (by id): a label whose geometry CVAT returns unchanged gets the
        original's exact coordinates back.

        Nothing the server sends is trusted: an object that cannot be read, or one past
        ``max_objects_per_frame`` on its frame, is left out as a refusal (``unread``) and the rest is
        read; an answer that is no annotations at all raises the backend's own error type, naming
        the request. No other exception comes out of what the server sent.
        """

    @abc.abstractmethod
    def delete_tasks(self, task_ids: Sequence[int]) -> None:
        """Delete tasks; tasks already gone are not an error."""

    @abc.abstractmethod
    def delete_projects(self, project_ids: Sequence[int]) -> None:
        """Delete projects; projects already gone are not an error."""

    @abc.abstractmethod
    def task_statuses(self, task_ids: Sequence[int]) -> list[TaskStatus]:
        """Status of each task and its jobs."""

    def frames_of_jobs(self, task_id: int, *, stage: str | None = None, state: str | None = None) -> frozenset[int]:
        """The task's frames (0-based, in the task) whose jobs are in this stage and state, for a load
        that merges only those (``load_annotations(job_stage=..., job_state=...)``)."""
        raise BackendConfigError(["this annotation backend cannot select jobs by stage or state"])

    @abc.abstractmethod
    def describe_task(self, task_id: int) -> RemoteTask | None:
        """The task as the server holds it (its name, project and jobs), None when it has none:
        checked against the run's record before anything is merged from it or deleted."""

    @abc.abstractmethod
    def editor_url(self, task: TaskSummary) -> str:
        """Where a person opens the task's first job."""

    # --- importing tasks made elsewhere (import_annotations) ---------------------------------

    def find_tasks(
        self, *, project_name: str | None = None, project_id: int | None = None, task_ids: Sequence[int] = ()
    ) -> ImportSelection:
        """The tasks an import reads: a project's (by name or id) or the ones given, each checked to
        exist. Raises `ProjectNotFoundError` for a project the server does not show, `TaskGoneError`
        for a task it does not have. Default: this backend imports nothing."""
        raise NotImplementedError(f"{type(self).__name__} cannot import tasks made outside annoflow")

    def import_labels(self, selection: ImportSelection) -> Sequence[ProjectLabel]:
        """The labels an import's fields take their classes from (the project's, or the tasks')."""
        raise NotImplementedError(f"{type(self).__name__} cannot import tasks made outside annoflow")

    def media_names(self, task_id: int) -> list[str]:
        """The names the server gives a task's frames, in frame order (image tasks)."""
        raise NotImplementedError(f"{type(self).__name__} cannot import tasks made outside annoflow")

    def download_media(self, task_ids: Sequence[int], folder: str) -> dict[int, list[str]]:
        """Download the tasks' frames into ``folder``, each under its server name made a plain name
        that cannot leave the folder, no two the same across the tasks (in the order given, so the
        same tasks get the same names again); a file already there is kept. Nothing is written when
        a name would lead outside the folder. Returns each task's paths in frame order."""
        raise NotImplementedError(f"{type(self).__name__} cannot import tasks made outside annoflow")

    def adopt_task(self, request: UploadRequest, task_id: int, sample_ids: Sequence[str]) -> TaskRecord:
        """A task made elsewhere as a run's task: its frames are ``sample_ids`` (in frame order), its labels
        paired with the classes of ``request.label_schema`` (adopted from `import_labels`), nothing uploaded:
        every object it holds loads as a new label, tracked by its remote id from then on."""
        raise NotImplementedError(f"{type(self).__name__} cannot import tasks made outside annoflow")


class AnnotationBackend(abc.ABC):
    """A kind of annotation server: checks options without I/O, then opens sessions.

    ``capabilities`` is the server's capability table (which of its object kinds each label type
    takes, how its attribute input types read back): the domain reads an existing project's labels
    (`project_schema.adopt_project_labels`) and an import's label types through it.
    """

    name: str
    capabilities: ToolCapabilities

    @abc.abstractmethod
    def parse_config(self, options: Mapping[str, Any], media_type: MediaType) -> BackendConfig:
        """Check the backend's options (server parameters, connection settings) without I/O."""

    @abc.abstractmethod
    def check_media(self, paths: Sequence[str]) -> None:
        """Raise `MediaNotFoundError` naming media that cannot be uploaded, before anything is sent."""

    def check_request(self, schema: LabelSchema, plans: Sequence[TaskPlan], config: BackendConfig) -> None:  # noqa: B027 - an optional hook: a backend without the need keeps the default
        """Raise BackendConfigError listing what the server would refuse of this run's labels and tasks
        (names too long, ...), before anything is recorded. Default: the server takes anything."""

    @abc.abstractmethod
    def connect(self, config: BackendConfig) -> BackendSession:
        """Open a session; credentials come from ``config.connection``."""

    def open_api(self, config: BackendConfig) -> AnnotationAPI:
        """The backend's public API object (for CVAT: ``CVATAnnotationAPI``), connected with
        ``config``'s settings: what ``results.connect_to_api()`` returns. Default: a session."""
        return self.connect(config)

    def made_nothing(self, error: BaseException) -> bool:
        """Whether the request that failed with ``error`` certainly made nothing on the server: it
        never reached it, or the server refused it. A failed annotate() whose server cannot then be
        asked what the run left frees the run's key only when this holds.

        Args:
            error: what a request of this backend raised.

        Returns:
            True when nothing can have been made; the default, False, means "cannot tell".
        """
        return False

    def session_over(self, api: AnnotationAPI, options: Mapping[str, Any], media_type: MediaType) -> BackendSession:
        """A session whose requests go through ``api`` (from `open_api`, or the backend's own
        ``connect_to_api()``), with a run's recorded ``options``; closing it leaves ``api`` open.
        This is how ``results.use_api()`` reuses one login across runs. Default: ``api`` when it is
        already a session.

        Raises:
            TypeError: ``api`` is no API of this backend.
        """
        if isinstance(api, BackendSession):
            return api
        raise TypeError(f"the {self.name!r} backend cannot use {type(api).__name__} as its API")

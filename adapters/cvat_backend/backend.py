"""CVATBackend: the annotation backend port over the CVAT client and the CVAT JSON conversion."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import itertools
import logging
import os
import threading
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, cast

import attrs

from annoflow.adapters.cvat.api import CVATAnnotationAPI
from annoflow.adapters.cvat.client import CVATClient
from annoflow.adapters.cvat.errors import (
    CVATAnswerError,
    CVATAuthError,
    CVATConnectionError,
    CVATError,
    CVATNotFoundError,
    CVATSettingsError,
)
from annoflow.adapters.cvat_backend import importing
from annoflow.adapters.cvat_backend import options as cvat_options
from annoflow.adapters.cvat_backend.limits import label_problems, plan_problems
from annoflow.adapters.cvat_backend.media_check import unusable_media
from annoflow.adapters.cvat_backend.unread import JobRange, claim_reader, rejections
from annoflow.adapters.cvat_format.answer import Refused, check_objects, read_answer
from annoflow.adapters.cvat_format.capabilities import CVAT_CAPABILITIES
from annoflow.adapters.cvat_format.checks import is_int
from annoflow.adapters.cvat_format.download import (
    Downloader,
    Imported,
    Size,
    UnreadableError,
    imported_values,
    keep_unmoved,
    size_of,
    stray_label,
    uploads_as,
    with_geometry_of,
)
from annoflow.adapters.cvat_format.frames import task_frames
from annoflow.adapters.cvat_format.meta import frame_sizes
from annoflow.adapters.cvat_format.schema import (
    LABEL_ID,
    ServerLabels,
    cvat_classes,
    cvat_label_requests,
    object_type,
    project_labels,
    recorded_labels,
)
from annoflow.adapters.cvat_format.tracks import (
    TRACK_CLASSES,
    expand_tracks,
    outside_ends,
    split_tracks,
    track_body,
    track_of_objects,
)
from annoflow.adapters.cvat_format.unchanged import split_unchanged
from annoflow.adapters.cvat_format.unchanged_tracks import UnchangedTracks, carried_label_ids
from annoflow.adapters.cvat_format.upload import Uploader
from annoflow.adapters.paused_gc import paused_gc
from annoflow.adapters.released_memory import released_after
from annoflow.application.ports.annotation_backend import (
    MAX_OBJECTS_PER_FRAME,
    AnnotationAPI,
    AnnotationBackend,
    BackendConfig,
    BackendConfigError,
    BackendSession,
    DownloadedTask,
    ImportSelection,
    MarkedResources,
    MediaNotFoundError,
    ProjectNotFoundError,
    ProjectRef,
    RemoteTask,
    SampleSource,
    TaskGoneError,
    TaskStatus,
    UnexpectedLabel,
    UnusableMediaError,
    UploadRequest,
)
from annoflow.application.ports.label_store import LabelRow, SampleRows
from annoflow.application.progress import Progress
from annoflow.domain.fields import FRAMES_PREFIX
from annoflow.domain.label_schema import LabelSchema
from annoflow.domain.labels import Label
from annoflow.domain.merge import ImportedLabel
from annoflow.domain.project_schema import ProjectLabel
from annoflow.domain.run_records import (
    FrameRef,
    RemoteAttributeRef,
    RemoteLabelRef,
    TaskRecord,
    TaskSummary,
    UploadedObjects,
)
from annoflow.domain.samples import MediaType, Sample
from annoflow.domain.task_plan import TaskPlan
from annoflow.domain.track_indexes import TrackSeen, track_indexes

logger = logging.getLogger(__name__)
# Annotation requests a session keeps at the server at once: it works on one while the next
# arrives, and this process converts the one after (each job's objects are held until sent).
_IN_FLIGHT = 2
# (field, annoflow label id) of an uploaded tag or shape, no id for scalars; (field, TrackedLabels) of a
# track: which one, the kind it is sent as says (mypy cannot follow that, hence Any)
UploadedFrom = tuple[str, Any]
# `UploadedObjects`' columns: field, label id, sample id, CVAT type, CVAT id, video frame number
ProvenanceColumns = tuple[list[str], list[str], list[str], list[str], list[int], list[int | None]]


@attrs.frozen
class _MediaUpload:
    """A task's media upload: its answer (the data's meta), and whether its first request is going out."""

    answer: Future[Mapping[str, Any]]
    going: threading.Event


@attrs.frozen
class TaskFrames:
    """Each task frame's sample, and (a video's) the frame number it shows."""

    samples: Sequence[str]
    numbers: Sequence[int | None] | None = None  # None: an image task's frames are samples


def _lines_up(answer: Sequence[Mapping[str, Any]], objects: Sequence[tuple[dict[str, Any], Any]]) -> bool:
    return len(answer) == len(objects) and all(
        a["frame"] == body["frame"] and a["label_id"] == body["label_id"]
        for a, (body, _) in zip(answer, objects, strict=True)
    )


def _frame_numbers(fields: Sequence[str], frames: Sequence[int], where: TaskFrames) -> list[int | None]:
    """The video frame number of each object of a frame field (None for the rest)."""
    numbers = where.numbers
    if numbers is None:
        return [None] * len(frames)
    return [
        numbers[frame] if field.startswith(FRAMES_PREFIX) else None for field, frame in zip(fields, frames, strict=True)
    ]


def _aligned_columns(
    answer: Sequence[Mapping[str, Any]],
    objects: Sequence[tuple[dict[str, Any], UploadedFrom]],
    cvat_type: str,
    where: TaskFrames,
) -> ProvenanceColumns:
    """The columns of objects CVAT answered in the order they were sent (scalars' tags have no label id)."""
    kept = [(a, origin) for a, (_, origin) in zip(answer, objects, strict=True) if origin[1]]
    frames = [a["frame"] for a, _ in kept]
    fields = [field for _, (field, _) in kept]
    return (
        fields,
        [label_id for _, (_, label_id) in kept],
        [where.samples[frame] for frame in frames],
        [cvat_type] * len(kept),
        [a["id"] for a, _ in kept],
        _frame_numbers(fields, frames, where),
    )


def _columns(found: Sequence[tuple[str, str, int, str, int]], where: TaskFrames) -> ProvenanceColumns:
    """(field, label id, task frame, CVAT type, CVAT id) rows as `ProvenanceColumns`."""
    fields = [row[0] for row in found]
    frames = [row[2] for row in found]
    return (
        fields,
        [row[1] for row in found],
        [where.samples[frame] for frame in frames],
        [row[3] for row in found],
        [row[4] for row in found],
        _frame_numbers(fields, frames, where),
    )


def _size_or_none(sizes: Sequence[Size | None], frame: int) -> Size:
    """A frame's size for `keep_unmoved`; (0, 0) when data/meta gives none (only a tag gets here then)."""
    try:
        return size_of(sizes, frame)
    except UnreadableError:
        return 0, 0


def _marked(name: str, marker: str) -> str:
    """A name carrying the run's marker, until the run has recorded what it names."""
    return f"{name} [{marker}]" if marker else name


class CVATSession(BackendSession):
    def __init__(self, client: CVATClient, options: cvat_options.CVATOptions, *, owns_client: bool = True) -> None:
        self.client = client
        self.options = options
        self._owns_client = owns_client  # a session over the user's API leaves its connections open
        self._user_ids: dict[str, int] = {}
        # Two senders, so a task's media can go up while the previous task's annotations do.
        self._media_sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="annoflow-cvat-media")
        self._annotation_sender = ThreadPoolExecutor(
            max_workers=_IN_FLIGHT, thread_name_prefix="annoflow-cvat-annotations"
        )
        self._media: dict[int, _MediaUpload] = {}
        self._checked_options = False

    def close(self) -> None:
        for executor in self._media_sender, self._annotation_sender:
            executor.shutdown(wait=True, cancel_futures=True)
        if self._owns_client:
            self.client.close()

    @contextlib.contextmanager
    def task_scope(self) -> Iterator[None]:
        # A task's labels and the objects its merge makes are freed when its load returns, inside the pause:
        # the collector walks none of them (`download_task` pauses it too, for a caller without this scope).
        # Then its cyclic garbage is collected and the C heap's free pages given back (`adapters/released_memory.py`),
        # so a run's next tasks start from one task's memory, however many came before.
        with released_after(), paused_gc(self.options.pause_gc):
            yield

    def start_media(self, request: UploadRequest, plan: TaskPlan, task_id: int) -> None:
        self._media[task_id] = self._send_media(request, plan, task_id)

    def _send_media(self, request: UploadRequest, plan: TaskPlan, task_id: int) -> _MediaUpload:
        going = threading.Event()
        return _MediaUpload(
            self._media_sender.submit(self._upload_media, plan, task_id, request.progress, going), going
        )

    def _user(self, name: str) -> int:
        if name not in self._user_ids:
            self._user_ids[name] = self.client.user_id(name)
        return self._user_ids[name]

    def _given_project(self, project_id: int) -> int:
        """The id of the project the run names by id, which must exist and be visible to the user:
        CVAT answers 404 for a project that does not exist (or lies outside the request's
        organization) and 403 for one the user may not see."""
        try:
            return int(self.client.project(project_id)["id"])
        except (CVATNotFoundError, CVATAuthError) as error:
            if error.status not in (403, 404):
                raise
            raise ProjectNotFoundError(
                f"CVAT has no project {project_id} (or this user cannot see it): pass an existing project_id, "
                "or project_name to create one"
            ) from error

    def prepare_project(self, request: UploadRequest) -> ProjectRef:
        if self.options.project_id is not None:
            return ProjectRef(self._given_project(self.options.project_id))
        if self.options.project_name is None:
            return ProjectRef(None)
        found = self.client.find_project(self.options.project_name)
        if found is not None:
            logger.info("uploading to CVAT project %d (%r), found by name", found["id"], self.options.project_name)
            return ProjectRef(found["id"])
        labels = cvat_label_requests(cvat_classes(request.label_schema), request.label_schema)
        name = _marked(self.options.project_name, request.marker)
        project_id = self.client.create_project(name, labels)["id"]
        logger.info("created CVAT project %d (%r)", project_id, self.options.project_name)
        return ProjectRef(project_id, created=True)

    def project_labels(self, request: UploadRequest) -> list[ProjectLabel] | None:
        if self.options.project_id is not None:
            project_id = self._given_project(self.options.project_id)
        elif self.options.project_name is not None:
            found = self.client.find_project(self.options.project_name)
            if found is None:
                return None
            project_id = found["id"]
        else:
            return None
        return project_labels(self.client.labels(project_id=project_id))

    def confirm_project(self, request: UploadRequest, project: ProjectRef) -> None:
        if project.project_id is not None and request.marker and self.options.project_name:
            self.client.rename("projects", project.project_id, self.options.project_name)

    def find_marked(self, marker: str) -> MarkedResources:
        if not marker:
            return MarkedResources()
        return MarkedResources(
            [t["id"] for t in self.client.search("tasks", marker)],
            [p["id"] for p in self.client.search("projects", marker)],
        )

    def _check_options(self) -> None:
        """Options this server accepts but does nothing with are warned about, once per session."""
        if self._checked_options:
            return
        self._checked_options = True
        if self.options.job_reviewers and self.client.server_version() >= (2,):
            version = ".".join(map(str, self.client.server_version()))
            warnings.warn(
                f"job_reviewers has no effect on this CVAT server ({version}): CVAT 2 has no job reviewers, so "
                f"{list(self.options.job_reviewers)} are not assigned (FiftyOne's CVAT guide: a CVAT 1 option)",
                UserWarning,
                stacklevel=2,
            )

    def create_task(self, request: UploadRequest, plan: TaskPlan, project: ProjectRef) -> int:
        self._check_options()
        schema = request.label_schema
        labels = None if project.project_id is not None else cvat_label_requests(cvat_classes(schema), schema)
        task = self.client.create_task(
            _marked(plan.name, request.marker),
            labels=labels,
            project_id=project.project_id,
            segment_size=self.options.segment_size,
            assignee_id=self._user(plan.assignee) if plan.assignee else None,
            bug_tracker=plan.issue_tracker,
        )
        logger.info("created CVAT task %d (%r) for %d media", task["id"], plan.name, len(plan.media_paths))
        return task["id"]

    def fill_task(
        self, request: UploadRequest, plan: TaskPlan, task_id: int, project: ProjectRef, samples: Iterable[Sample]
    ) -> TaskRecord:
        # Sender threads: the media go up while the first job's labels are read from the store (or
        # while the previous task was filled, see start_media), and each job's annotations go up
        # while the next job's are read and converted. The server works on one request while this
        # process prepares the next.
        sender = self._annotation_sender
        media = self._media.pop(task_id, None) or self._send_media(request, plan, task_id)
        media_ready = media.answer
        count = len(plan.media_paths)
        labels_sent = request.progress.bar(f"task {plan.index + 1}: uploading labels", total=count, unit="sample")
        read: list[Sample | SampleRows | None] = []  # a job's samples are dropped once converted; their ids stay
        sample_ids: list[str] = []
        video = request.media_type is MediaType.VIDEO
        frame_refs: list = []  # a video task's frames, once its data/meta is read
        # Labels are converted from the store's rows, without building a label each
        # (upload.Uploader.objects_of_rows): an image task's sample fields, a video task's frame
        # fields (its tracks by `_frame_row_objects`); scalar fields and a video's own fields go as samples.
        as_rows = isinstance(samples, SampleSource) and all(
            f.label_type != "scalar" and f.on_frames == video for f in request.label_schema
        )
        source: Iterator[Sample | SampleRows] = iter(
            samples.label_rows([f.path for f in request.label_schema])
            if as_rows and isinstance(samples, SampleSource)
            else samples
        )
        sent: list[Future[ProvenanceColumns]] = []
        try:
            # One pause for the task's whole life in this process: what it builds is dropped before the
            # collector runs again, so only the provenance that outlives the call is ever walked.
            with paused_gc(self.options.pause_gc):
                # Reading holds the interpreter much of the time: the media's first request is made
                # (its files read and encoded) before, not slowed by it.
                media.going.wait()
                self._read_upto(source, read, sample_ids, min(count, self.options.segment_size or count) - 1)
                # the media upload keeps the server busy: read on meanwhile (a task's labels at most)
                while not media_ready.done() and len(read) < count:
                    before = len(read)
                    self._read_upto(source, read, sample_ids, before)
                    if len(read) == before:
                        break  # the store has no more: the count is checked below
                meta = media_ready.result()
                if video:
                    frame_refs = task_frames(meta, sample_ids[:1], video=True)
                classes = cvat_classes(request.label_schema)
                existing_project = project.project_id is not None and not project.created
                task_labels = self.client.labels(task_id=task_id)
                server = ServerLabels.match(classes, task_labels, existing_project=existing_project)
                jobs = self.client.jobs(task_id)
                # an image task's frames are its samples, as read so far (the list grows)
                where = (
                    TaskFrames([ref.sample_id for ref in frame_refs], [ref.frame for ref in frame_refs])
                    if video
                    else TaskFrames(sample_ids)
                )
                for first, last, target in self._annotation_targets(request, task_id, jobs, count):
                    self._read_upto(source, read, sample_ids, last)
                    objects = self._objects(request, read, first, last, meta, server, frame_refs)
                    read[first : last + 1] = [None] * (last + 1 - first)
                    # The sender reads CVAT's ids from the answer too, so nothing waits for it at the end.
                    sent.append(
                        sender.submit(
                            self._send,
                            objects,
                            target,
                            where,
                            server,
                            functools.partial(labels_sent.advance, last + 1 - first),
                        )
                    )
                    del objects
                    if len(sent) > _IN_FLIGHT:  # the server holds two requests; the rest wait here, not in memory
                        sent[-1 - _IN_FLIGHT].result()
                self._read_upto(source, read, sample_ids, count)  # one more than planned, if the store has it
                if len(sample_ids) != count:
                    raise ValueError(f"task {plan.name!r} plans {count} media but got {len(sample_ids)} samples")
                parts = [answer.result() for answer in sent]
                uploaded = UploadedObjects(
                    *(list(itertools.chain.from_iterable(p[i] for p in parts)) for i in range(6))
                )
                del parts, read[:], sent[:]
        finally:
            for answer in sent:  # on an error, wait for (or drop) what is still queued
                answer.cancel() or answer.exception()
            labels_sent.close()
        for index, job in enumerate(jobs):
            if self.options.job_assignees:
                self.client.assign_job(
                    job["id"], self._user(self.options.job_assignees[index % len(self.options.job_assignees)])
                )
        # filled: the run is about to record it, with the time the server made it, which tells this
        # task from another server's task of the same id
        task = self.client.rename("tasks", task_id, plan.name) if request.marker else self.client.task(task_id)
        return TaskRecord(
            task_id=task_id,
            project_id=project.project_id,
            job_ids=[j["id"] for j in jobs],
            frames=frame_refs or task_frames(meta, sample_ids, video=False),
            uploaded=uploaded,
            labels=[RemoteLabelRef(label_id, c.cvat_name, c.field, c.class_name) for label_id, c in server.pairs()]
            # a project's labels of no run field: what annotators draw with them loads as unexpected, by name
            + [
                RemoteLabelRef(task_label["id"], task_label["name"], "", task_label["name"])
                for task_label in task_labels
                if task_label["id"] not in server.classes_by_id
            ],
            attributes=[RemoteAttributeRef(spec, label, name) for (label, name), spec in server.spec_ids.items()],
            created=task.get("created_date"),
        )

    @staticmethod
    def _read_upto(
        source: Iterator[Sample | SampleRows], read: list[Sample | SampleRows | None], ids: list[str], last: int
    ) -> None:
        """Read samples from the store until sample ``last`` is in ``read`` (or the store has no more)."""
        for sample in itertools.islice(source, max(0, last + 1 - len(read))):
            read.append(sample)
            ids.append(sample.id)

    def _upload_media(
        self, plan: TaskPlan, task_id: int, progress: Progress, going: threading.Event
    ) -> Mapping[str, Any]:
        # Index-prefixed names keep files from different folders apart, as FiftyOne names them.
        names = [f"{i:06d}_{os.path.basename(path)}" for i, path in enumerate(plan.media_paths)]
        try:
            with progress.bar(f"task {plan.index + 1}: uploading media", total=len(names), unit="file") as bar:
                rq_id = self.client.upload_data(
                    task_id,
                    plan.media_paths,
                    names=names,
                    image_quality=self.options.image_quality,
                    use_cache=self.options.use_cache,
                    use_zip_chunks=self.options.use_zip_chunks,
                    chunk_size=self.options.chunk_size,
                    start_frame=plan.frame_start,
                    stop_frame=plan.frame_stop,
                    frame_step=plan.frame_step,
                    on_sent=bar.advance,
                    on_sending=lambda count: going.set(),
                )
                bar.note("CVAT is processing them")
                self.client.wait_for_data(task_id, rq_id)
        finally:
            going.set()  # also when the upload failed before its first request: nothing waits in vain
        return self.client.data_meta(task_id)

    @staticmethod
    def _annotation_targets(
        request: UploadRequest, task_id: int, jobs: Sequence[Mapping[str, Any]], count: int
    ) -> list[tuple[int, int, dict[str, int]]]:
        """(first sample, last sample, where to PUT) for each request: one per job of an image task.

        A job's frames are its samples' indexes in the task; a video's jobs split one sample's
        frames, so a video task goes up in one request.
        """
        covered = sorted((j["start_frame"], j["stop_frame"]) for j in jobs)
        whole = [(0, count - 1, {"task_id": task_id})]
        if request.media_type is not MediaType.IMAGE or len(jobs) < 2:
            return whole
        if (
            covered[0][0] != 0
            or covered[-1][1] != count - 1
            or any(b[0] != a[1] + 1 for a, b in itertools.pairwise(covered))
        ):
            return whole  # jobs that do not tile the task's frames exactly: let the server split them
        return [
            (j["start_frame"], j["stop_frame"], {"job_id": j["id"]})
            for j in sorted(jobs, key=lambda j: j["start_frame"])
        ]

    def _send(
        self,
        objects: Mapping[str, list[tuple[dict[str, Any], UploadedFrom]]],
        target: Mapping[str, int],
        where: TaskFrames,
        server: ServerLabels,
        sent: Callable[[], None],
    ) -> ProvenanceColumns:
        """PUT one request's objects; the provenance columns of what CVAT stored."""
        answer = self.client.put_annotations(
            {kind: [body for body, _ in items] for kind, items in objects.items()}, **target
        )
        logger.debug(
            "%s: %d tags and %d shapes uploaded", target, len(objects.get("tags", ())), len(objects.get("shapes", ()))
        )
        sent()
        return self._provenance(answer, objects, where, server)

    def _objects(
        self,
        request: UploadRequest,
        samples: Sequence[Sample | SampleRows | None],
        first: int,
        last: int,
        meta: Mapping[str, Any],
        server: ServerLabels,
        frame_refs: Sequence[FrameRef] = (),
    ) -> dict[str, list[tuple[dict[str, Any], UploadedFrom]]]:
        """The CVAT objects of samples first..last, each with the (field, label id) it comes from.

        A video's sample fields go on its task's first frame, its frame fields on each task frame
        (``frame_refs``: which frame of the video each task frame shows)."""
        frames = meta["frames"]
        uploaders = [Uploader(field, server) for field in request.label_schema]
        objects: dict[str, list[tuple[dict[str, Any], Any]]] = {"tags": [], "shapes": [], "tracks": []}
        for index in range(first, last + 1):
            sample = samples[index]
            size = frames[index] if len(frames) > index else frames[0]
            if isinstance(sample, SampleRows):
                by_field: dict[str, list[LabelRow]] = {}
                for row in sample.rows:
                    by_field.setdefault(row.field, []).append(row)
                for uploader in uploaders:
                    source = uploader.field.path
                    if uploader.field.on_frames:
                        for kind, body, origin in self._frame_row_objects(
                            uploader, by_field.get(source, ()), frame_refs, size
                        ):
                            objects[kind].append((body, origin))
                        continue
                    for obj in uploader.objects_of_rows(by_field.get(source, ()), index, size["width"], size["height"]):
                        objects[obj.kind].append((obj.body, (source, obj.label_id)))
                continue
            assert sample is not None  # read[first:last + 1] is dropped only once its objects are made
            for uploader in uploaders:
                source = uploader.field.path
                if uploader.field.on_frames:
                    for kind, body, origin in self._frame_objects(uploader, sample, frame_refs, size):
                        objects[kind].append((body, origin))
                    continue
                for obj in uploader.objects(sample.get(source), index, size["width"], size["height"]):
                    objects[obj.kind].append((obj.body, (source, obj.label_id)))
        return objects

    @staticmethod
    def _frame_objects(
        uploader: Uploader, sample: Sample, frame_refs: Sequence[FrameRef], size: Mapping[str, Any]
    ) -> Iterator[tuple[str, dict[str, Any], Any]]:
        """A video frame field's objects: its tracks (labels sharing an index), then its other labels
        as shapes of their frames (`cvat_format.tracks`)."""
        source, width, height = uploader.field.path, size["width"], size["height"]
        if uploader.field.label_type == "scalar":  # one value per frame: a tag on its task frame
            for k, ref in enumerate(frame_refs):
                for obj in uploader.objects(sample.get(source, ref.frame), k, width, height):
                    yield obj.kind, obj.body, (source, obj.label_id)
            return
        tracks, loose = split_tracks((k, sample.get(source, ref.frame)) for k, ref in enumerate(frame_refs))
        keyframes_only = any(label.keyframe for items in tracks.values() for _, label in items) or any(
            getattr(label, "keyframe", None) for _, label in loose
        )
        for items in tracks.values():
            made = track_body(uploader, items, len(frame_refs), width, height, keyframes_only)
            if made is None:  # a label that is no single shape: its frames' labels go up as shapes
                loose += items
                continue
            yield "tracks", made[0], (source, made[1])
        for k, label in sorted(loose, key=lambda item: item[0]):
            for obj in uploader.objects(label, k, width, height):
                yield obj.kind, obj.body, (source, obj.label_id)

    @staticmethod
    def _frame_row_objects(
        uploader: Uploader, rows: Iterable[LabelRow], frame_refs: Sequence[FrameRef], size: Mapping[str, Any]
    ) -> Iterator[tuple[str, dict[str, Any], Any]]:
        """`_frame_objects` of a video frame field read as the store's rows (frame: the video's frame
        number), the same objects in the same order, without building a label per frame
        (tests/cvat_format/test_track_rows.py checks both agree)."""
        source, width, height = uploader.field.path, size["width"], size["height"]
        task_frame = {ref.frame: k for k, ref in enumerate(frame_refs)}
        tracks: dict[int, list[tuple[int, LabelRow]]] = {}
        loose: list[tuple[int, LabelRow]] = []
        keyframes_only = False
        # in task frame order, each frame's labels in list order, as `split_tracks` reads a sample's
        for k, row in sorted(
            ((task_frame[row.frame], row) for row in rows if row.frame in task_frame), key=lambda item: item[0]
        ):
            values = row.values
            keyframes_only = keyframes_only or bool(values.get("keyframe"))
            index = values.get("index")
            if index is None:
                loose.append((k, row))
            else:
                tracks.setdefault(index, []).append((k, row))
        for items in tracks.values():
            made = track_of_objects(
                uploader,
                [
                    (
                        k,
                        row.label_id,
                        row.values.get("keyframe"),
                        list(uploader.objects_of_rows((row,), k, width, height)),
                    )
                    for k, row in items
                ],
                len(frame_refs),
                keyframes_only,
            )
            if made is None:  # a label that is no single shape: its frames' labels go up as shapes
                loose += items
                continue
            yield "tracks", made[0], (source, made[1])
        for k, row in sorted(loose, key=lambda item: item[0]):
            for obj in uploader.objects_of_rows((row,), k, width, height):
                yield obj.kind, obj.body, (source, obj.label_id)

    @staticmethod
    def _provenance(
        stored: Mapping[str, Any],
        sent: Mapping[str, list[tuple[dict[str, Any], UploadedFrom]]],
        where: TaskFrames,
        server: ServerLabels,
    ) -> ProvenanceColumns:
        """CVAT's ids of the uploaded objects: `UploadedObjects`' columns.

        CVAT answers a PUT with the objects in the order they were sent, now with ids;
        when the answer does not line up with what was sent (count, frame or label), each
        object is found by the label_id attribute it carries instead. ``where`` names the
        sample (and video frame number) of each task frame; a row of a frame field carries the
        frame number.
        """
        # Built column by column, not row by row: a job's answer holds thousands of objects.
        found: list[tuple[str, str, int, str, int]] = []  # (field, label id, task frame, type, CVAT id)
        answer, objects = stored.get("tracks", []), sent.get("tracks", [])
        if _lines_up(answer, objects):
            pairs = [(a, origin) for a, (_, origin) in zip(answer, objects, strict=True)]
        else:  # found by the label_id its shapes carry
            by_label = {label_id: origin for _, origin in objects for label_id, _ in origin[1]}
            pairs = []
            for a in answer:
                spec = server.spec_ids.get((a["label_id"], LABEL_ID))
                carried = [
                    item["value"]
                    for shape in a.get("shapes", [])
                    for item in shape.get("attributes", [])
                    if item["spec_id"] == spec and item["value"] in by_label
                ]
                if carried:
                    pairs.append((a, by_label[carried[0]]))
        found += [
            (field, label_id, frame, "track", a["id"]) for a, (field, labels) in pairs for label_id, frame in labels
        ]
        columns = _columns(found, where)
        for kind, cvat_type in (("tags", "tag"), ("shapes", "shape")):
            answer, objects = stored.get(kind, []), sent.get(kind, [])
            if _lines_up(answer, objects):
                more = _aligned_columns(answer, objects, cvat_type, where)
            else:  # found by the label_id each carries
                lost = []
                for obj in answer:
                    spec = server.spec_ids.get((obj["label_id"], LABEL_ID))
                    label_id = next((a["value"] for a in obj.get("attributes", []) if a["spec_id"] == spec), None)
                    cvat_class = server.class_of(obj["label_id"], object_type(obj, kind))
                    if label_id and cvat_class is not None:
                        lost.append((cvat_class.field, label_id, obj["frame"], cvat_type, obj["id"]))
                more = _columns(lost, where)
            for column, extra in zip(columns, more, strict=True):
                cast(list, column).extend(cast(list, extra))
        return columns

    def task_revision(self, task_id: int) -> str | None:
        try:
            task = self.client.task(task_id)
        except CVATNotFoundError:
            raise TaskGoneError(task_id) from None
        stamp = task.get("updated_date")
        return stamp if isinstance(stamp, str) and stamp else None

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
        url = f"{self.client.settings.base_url}/api/tasks/{task_id}/annotations/"
        try:
            raw = self.client.get_annotations_raw(task_id=task_id)
        except CVATNotFoundError:
            raise TaskGoneError(task_id) from None
        digest = hashlib.sha256(raw).hexdigest()
        if digest == applied_digest:
            return DownloadedTask(digest, unchanged=True)
        task = provenance()
        sizes = frame_sizes(
            self.client.data_meta(task_id),
            method="GET",
            url=f"{self.client.settings.base_url}/api/tasks/{task_id}/data/meta",
        )
        server = recorded_labels(request.label_schema, task)
        uploaders = {field.path: Uploader(field, server) for field in request.label_schema}
        claim = claim_reader(task, server)
        # Paused until the task's labels are made (its last step builds one per frame of every track
        # too), and while its samples' labels are read: the collector then walks what survives once,
        # not every few thousand new labels. The answer is parsed (and its bytes dropped) before the samples'
        # labels are read, so the parser's transient memory never stands beside the task's labels.
        with paused_gc(self.options.pause_gc):
            answer = read_answer(
                raw, frames=len(task.frames), limit=max_objects_per_frame, claim=claim, method="GET", url=url
            )
            del raw
            originals = read_originals()
            data, unchanged = split_unchanged(answer.objects, task, originals, uploaders, server, sizes)
            checked = check_objects(data, frames=len(task.frames), claim=claim)
            label_specs = {spec for (_, name), spec in server.spec_ids.items() if name == LABEL_ID}
            tracks = checked.objects.get("tracks", [])
            # a track's frames CVAT returns as uploaded stand for their originals: neither expanded nor converted
            claims = carried_label_ids(
                checked.objects, label_specs, (label_id for _, _, _, label_id, _, _ in unchanged)
            )
            same_frames = UnchangedTracks(
                request.label_schema, task, originals, uploaders, server, sizes, label_specs, claims
            )
            tracked, track_refusals = expand_tracks(
                tracks,
                len(task.frames),
                label_specs,
                self._track_index(task, originals, tracks, label_specs, server),
                skip=same_frames.frames_of,
            )
            downloader = Downloader(request.label_schema, server)
            found, strays, refused = downloader.read({**checked.objects, "tracked": tracked}, sizes)
            refused += track_refusals
            del tracked
            up = task.uploaded
            # a track stands for a label per frame; tracks and single shapes are numbered apart, as CVAT numbers them
            # (only the ids the objects read here name: the unchanged are most of a task, and were mapped for nothing)
            named = {cvat_id for item in found for cvat_id in item.cvat_ids}
            by_cvat_id = {
                (kind == "track", cvat_id, frame): label_id
                for kind, cvat_id, frame, label_id in zip(
                    up.remote_kinds, up.remote_ids, up.frames, up.label_ids, strict=True
                )
                if cvat_id in named
            }
            carried = {item.label_id for item in found} | set(by_cvat_id.values())
            place_of = {
                label_id: (sample_id, number)
                for label_id, sample_id, number in zip(up.label_ids, up.sample_ids, up.frames, strict=True)
                if label_id in carried
            }
            del named, carried
            imported = [
                ImportedLabel(field, sample_id, label, label_id, (cvat_id,), number)
                for field, sample_id, label, label_id, cvat_id, number in unchanged
            ]
            imported += same_frames.imported
            first_of_track: set[int] = set()
            placed = []
            for item in found:
                if not isinstance(item.value, Label):
                    continue  # a scalar field's value: see imported_values
                ref = task.frames[item.frame]
                if item.cvat_type == "track" and not item.field.startswith(FRAMES_PREFIX):
                    # a sample field holds one label per object: a track of its class loads its first frame
                    if item.cvat_ids[0] in first_of_track:
                        continue
                    first_of_track.add(item.cvat_ids[0])
                # a frame field's label is on its video frame; a sample field's, drawn on any frame, on the sample
                place = (ref.sample_id, ref.frame if item.field.startswith(FRAMES_PREFIX) else None)
                # the original whose coordinates may be kept: one of this sample's (and frame's), never another's
                is_track = item.cvat_type == "track"
                source = next(
                    (
                        label_id
                        for label_id in (
                            item.label_id,
                            *(by_cvat_id.get((is_track, c, place[1])) for c in item.cvat_ids),
                        )
                        if label_id is not None and label_id in originals and place_of.get(label_id) == place
                    ),
                    None,
                )
                placed.append((item, place, source))
            placed, continued = _track_sources(placed, up, originals, same_frames.index_of)
            # a track's keyframes CVAT returned as their originals upload: the frames between two of them
            # (or after the last) are what the upload made them, so they keep their originals' geometry too
            # (asked once per label: keep_unmoved below takes the answer)
            unmoved = [
                source is not None
                and uploads_as(originals[source], item, uploaders[item.field], *_size_or_none(sizes, item.frame))
                for item, _, source in placed
            ]
            untouched = {
                (item.cvat_ids[0], item.frame)
                for (item, _, _), same in zip(placed, unmoved, strict=True)
                if item.cvat_type == "track" and item.between is None and same
            } | same_frames.untouched
            # so does an outside shape where a track was cut, holding the original of its frame where it was
            fields_of = {
                **same_frames.fields,
                **{item.cvat_ids[0]: item.field for item, _, _ in placed if item.cvat_type == "track"},
            }
            for track_id, frame, points in outside_ends(tracks):
                field = fields_of.get(track_id)
                ref = task.frames[frame]
                source = continued(field, (ref.sample_id, ref.frame), track_id) if field is not None else None
                if source and field is not None:
                    end = Imported(field, frame, originals[source], None, "track", (track_id,), (tuple(points),))
                    if uploads_as(originals[source], end, uploaders[field], *_size_or_none(sizes, frame)):
                        untouched.add((track_id, frame))
            for (item, place, source), same in zip(placed, unmoved, strict=True):
                label = item.value
                assert isinstance(label, Label)  # placed holds labels only (scalar values were left out above)
                if source is not None:
                    label = keep_unmoved(
                        originals[source], item, uploaders[item.field], *_size_or_none(sizes, item.frame), same=same
                    )
                    if item.between is not None and all(
                        frame is None or (item.cvat_ids[0], frame) in untouched for frame in item.between
                    ):
                        label = with_geometry_of(originals[source], label)
                imported.append(
                    ImportedLabel(
                        item.field, place[0], label, item.label_id, item.cvat_ids, place[1], item.cvat_type == "track"
                    )
                )
            unexpected = []
            names = {ref.remote_label_id: ref.class_name for ref in task.labels}
            for stray in strays:
                class_name = names.get(stray.body["label_id"], f"label {stray.body['label_id']}")
                try:
                    label_type, label = stray_label(
                        stray.body, stray.cvat_type, class_name, size_of(sizes, stray.frame)
                    )
                except (ValueError, TypeError) as error:  # geometry its frame cannot hold
                    refused.append(
                        Refused(f"{stray.cvat_type}s", stray.frame, str(error), stray.cvat_id, stray.body["label_id"])
                    )
                    continue
                unexpected.append(
                    UnexpectedLabel(
                        task.frames[stray.frame].sample_id,
                        label_type,
                        label,
                        f"a {stray.body.get('type', 'tag')} of {class_name!r} on frame {stray.frame}",
                        f"{stray.cvat_type}:{stray.cvat_id}",
                    )
                )
            unread = rejections(
                task, [*answer.refused, *checked.refused, *refused], server, lambda: self._job_ranges(task)
            )
            return DownloadedTask(
                digest,
                imported,
                unexpected,
                values=imported_values(found, task),
                unread=unread,
                painted=downloader.painted,
            )

    @staticmethod
    def _track_index(
        task: TaskRecord,
        originals: Mapping[str, Label],
        tracks: Sequence[Mapping[str, Any]],
        label_specs: set[int],
        server: ServerLabels,
    ) -> Callable[[int], int]:
        """Each track's index in the dataset, by FiftyOne's rule (`domain.track_indexes`): the index of the
        labels it holds (by the CVAT id recorded for them, or the label_id its shapes carry), per field."""
        up = task.uploaded
        field_of = dict(zip(up.label_ids, up.fields, strict=True))
        by_object: dict[int, list[str]] = defaultdict(list)
        for cvat_type, cvat_id, label_id in zip(up.remote_kinds, up.remote_ids, up.label_ids, strict=True):
            if cvat_type != "tag":  # labels loads added from a track are recorded as shapes of its id
                by_object[cvat_id].append(label_id)
        seen: dict[str, list[TrackSeen]] = defaultdict(list)
        for track in tracks:
            shapes = track["shapes"]
            cls = server.class_of(track["label_id"], object_type(shapes[0], "tracks")) if shapes else None
            field = cls.field if cls is not None else ""
            carried = [
                a["value"] for shape in shapes for a in shape.get("attributes", []) if a["spec_id"] in label_specs
            ]
            held = tuple(
                label_id for label_id in (*by_object.get(track["id"], ()), *carried) if field_of.get(label_id) == field
            )
            seen[field].append(TrackSeen(track["id"], min((s["frame"] for s in shapes), default=track["frame"]), held))
        indexes = [
            label.index for label in originals.values() if isinstance(label, TRACK_CLASSES) and label.index is not None
        ]
        found: dict[Any, int] = {}
        for field, items in seen.items():
            existing = {
                label_id: label.index
                for label_id, f in field_of.items()
                if f == field
                and isinstance(label := originals.get(label_id), TRACK_CLASSES)
                and label.index is not None
            }
            found.update(track_indexes(items, existing, indexes))
        return lambda track_id: found.get(track_id, track_id)

    def _job_ranges(self, task: TaskRecord) -> list[JobRange]:
        """(first frame, last frame, job id) of the task's jobs, to name where a refused object is."""
        if len(task.job_ids) == 1:
            return [(0, len(task.frames) - 1, task.job_ids[0])]
        try:
            jobs: list[Any] = list(self.client.paginate("/api/jobs", task_id=task.task_id))  # unchecked: checked below
        except CVATAnswerError:
            return []  # the refusals say the job is unknown; the load goes on
        return [
            (j["start_frame"], j["stop_frame"], j["id"])
            for j in jobs
            if isinstance(j, dict) and all(is_int(j.get(key)) for key in ("start_frame", "stop_frame", "id"))
        ]

    def delete_tasks(self, task_ids: Sequence[int]) -> None:
        for task_id in task_ids:
            self.client.delete_task(task_id)

    def delete_projects(self, project_ids: Sequence[int]) -> None:
        for project_id in project_ids:
            self.client.delete_project(project_id)

    def task_statuses(self, task_ids: Sequence[int]) -> list[TaskStatus]:
        statuses = []
        for task_id in task_ids:
            task = self.client.task(task_id)
            jobs = tuple(
                {"id": j["id"], "status": j["stage"], "assignee": (j.get("assignee") or {}).get("username")}
                for j in self.client.jobs(task_id)
            )
            statuses.append(
                TaskStatus(
                    task_id=task_id,
                    name=task["name"],
                    status=task["status"],
                    assignee=(task.get("assignee") or {}).get("username"),
                    updated=task["updated_date"],
                    url=f"{self.client.settings.base_url}/tasks/{task_id}",
                    jobs=jobs,
                )
            )
        return statuses

    def frames_of_jobs(self, task_id: int, *, stage: str | None = None, state: str | None = None) -> frozenset[int]:
        frames: set[int] = set()
        for job in self.client.jobs(task_id):
            if (stage is None or job.get("stage") == stage) and (state is None or job.get("state") == state):
                frames.update(range(job["start_frame"], job["stop_frame"] + 1))
        return frozenset(frames)

    def describe_task(self, task_id: int) -> RemoteTask | None:
        try:
            task = self.client.task(task_id)
        except CVATNotFoundError:
            return None
        jobs = tuple(job["id"] for job in self.client.jobs(task_id))
        return RemoteTask(task_id, task["name"], task.get("project_id"), jobs, task.get("created_date"))

    def editor_url(self, task: TaskSummary) -> str:
        return f"{self.client.settings.base_url}/tasks/{task.task_id}/jobs/{task.job_ids[0]}"

    # --- import_annotations: tasks made elsewhere (importing.py) -----------------------------

    def find_tasks(
        self, *, project_name: str | None = None, project_id: int | None = None, task_ids: Sequence[int] = ()
    ) -> ImportSelection:
        return importing.find_tasks(self.client, project_name=project_name, project_id=project_id, task_ids=task_ids)

    def media_names(self, task_id: int) -> list[str]:
        return importing.media_names(self.client, task_id)

    def download_media(self, task_ids: Sequence[int], folder: str) -> dict[int, list[str]]:
        return importing.download_media(self.client, task_ids, folder)

    def import_labels(self, selection: ImportSelection) -> list[ProjectLabel]:
        return importing.import_labels(self.client, selection)

    def adopt_task(self, request: UploadRequest, task_id: int, sample_ids: Sequence[str]) -> TaskRecord:
        return importing.adopt_task(
            self.client, request.label_schema, task_id, sample_ids, video=request.media_type is MediaType.VIDEO
        )


class CVATBackend(AnnotationBackend):
    name = "cvat"
    capabilities = CVAT_CAPABILITIES

    def __init__(self, *, interactive: bool | None = None, client_options: Mapping[str, Any] | None = None) -> None:
        self.interactive = interactive
        self.client_options = dict(client_options or {})

    def parse_config(self, options: Mapping[str, Any], media_type: MediaType) -> BackendConfig:
        return cvat_options.parse(options, media_type, interactive=self.interactive)

    def made_nothing(self, error: BaseException) -> bool:
        # Refused (4xx), never connected, credentials missing before any request, or a request that makes
        # nothing (a read, the login): CVAT made nothing. Otherwise a timeout, a dropped connection or a
        # 5xx may come after the server did the work.
        if isinstance(error, CVATSettingsError):
            return True
        if not isinstance(error, CVATError):
            return False
        if error.method in ("GET", "HEAD", "OPTIONS") or (error.url or "").split("?")[0].endswith("/api/auth/login"):
            return True
        if isinstance(error, CVATConnectionError):
            return not error.connected
        return error.status is not None and 400 <= error.status < 500

    def check_media(self, paths: Sequence[str]) -> None:
        missing = [p for p in paths if not os.path.isfile(p)]
        if missing:
            raise MediaNotFoundError(
                f"{len(missing)} media file(s) cannot be uploaded because they do not exist: {missing[:5]}"
            )
        unusable = unusable_media(paths)
        if unusable:
            listed = "; ".join(f"{path}: {reason}" for path, reason in unusable[:5])
            more = f" (and {len(unusable) - 5} more)" if len(unusable) > 5 else ""
            raise UnusableMediaError(f"{len(unusable)} media file(s) CVAT cannot take: {listed}{more}")

    def check_request(self, schema: LabelSchema, plans: Sequence[TaskPlan], config: BackendConfig) -> None:
        parsed, _ = cvat_options.unpack(config)
        # labels of an existing project rule over the run's own: only a new project's (or none) go up
        problems = plan_problems(plans) + (
            [] if parsed.project_name or parsed.project_id is not None else label_problems(schema)
        )
        if problems:
            raise BackendConfigError(problems)

    def connect(self, config: BackendConfig) -> CVATSession:
        parsed, settings = cvat_options.unpack(config)
        return CVATSession(CVATClient(settings, **self.client_options), parsed)

    def open_api(self, config: BackendConfig) -> CVATAnnotationAPI:
        _, settings = cvat_options.unpack(config)
        return CVATAnnotationAPI(CVATClient(settings, **self.client_options))

    def session_over(self, api: AnnotationAPI, options: Mapping[str, Any], media_type: MediaType) -> BackendSession:
        if isinstance(api, CVATSession):  # a session another run's results handed out before
            return api
        if not isinstance(api, CVATAnnotationAPI):
            raise TypeError(f"use_api() takes the CVATAnnotationAPI of connect_to_api(), got {type(api).__name__}")
        return CVATSession(api.client, cvat_options.parse_options(options, media_type), owns_client=False)


def _track_sources(
    placed: list[tuple[Any, tuple[str, int | None], str | None]],
    up: Any,
    originals: Mapping[str, Label],
    indexes: Mapping[int, int],
) -> tuple[
    list[tuple[Any, tuple[str, int | None], str | None]], Callable[[str, tuple[str, int | None], int], str | None]
]:
    """A track CVAT re-created (split or merged in its UI) has a new id, so its interpolated frames carry no
    provenance: their original is the label of their frame with their track's index (the one the track's
    matched labels had, else its new one), as the merge pairs them, so their geometry can be kept too.
    Also returns that lookup: (field, (sample, frame), track id) -> the original's id. ``indexes``: the index of
    the originals of the tracks some of whose frames were not read (`UnchangedTracks`: every label those
    tracks stand for holds it)."""
    # looked up with a None index too (a track whose labels had none): that finds nothing
    on_track: dict[tuple[str, str, int | None, int | None], str] = {
        (field, sample_id, frame, label.index): label_id
        for field, label_id, sample_id, frame in zip(up.fields, up.label_ids, up.sample_ids, up.frames, strict=True)
        if frame is not None and isinstance(label := originals.get(label_id), TRACK_CLASSES) and label.index is not None
    }
    was: dict[int, int] = dict(indexes)
    for item, _, source in placed:
        if (
            item.cvat_type == "track"
            and source is not None
            and isinstance(original := originals[source], TRACK_CLASSES)
            and original.index is not None
        ):
            was.setdefault(item.cvat_ids[0], original.index)

    def continued(field: str, place: tuple[str, int | None], track_id: int, index: int | None = None) -> str | None:
        return on_track.get((field, *place, index)) or on_track.get((field, *place, was.get(track_id)))

    out = []
    for item, place, source in placed:
        if source is None and item.cvat_type == "track" and place[1] is not None:
            source = continued(item.field, place, item.cvat_ids[0], item.value.index)
        out.append((item, place, source))
    return out, continued

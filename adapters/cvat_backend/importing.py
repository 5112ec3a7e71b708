"""Tasks made outside annoflow (CVAT's UI, cvat-sdk, another tool) read as a run's tasks, for
import_annotations(): which tasks (and which hold a video), their media files' names, an image
task's frames downloaded under safe names, and each task's record (every CVAT label of no run
field, nothing uploaded; a video task's frames mapped to its video's frame numbers)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from annoflow.adapters.cvat.api import CVATAnnotationAPI
from annoflow.adapters.cvat.client import CVATClient
from annoflow.adapters.cvat.errors import CVATAuthError, CVATNotFoundError
from annoflow.adapters.cvat.media_names import inside, unique_names
from annoflow.adapters.cvat_format.frames import task_frames
from annoflow.adapters.cvat_format.schema import ServerLabels, cvat_classes, project_labels
from annoflow.application.ports.annotation_backend import (
    BackendConfigError,
    ImportSelection,
    ProjectNotFoundError,
    TaskGoneError,
)
from annoflow.domain.label_schema import LabelSchema
from annoflow.domain.project_schema import ProjectLabel
from annoflow.domain.run_records import RemoteAttributeRef, RemoteLabelRef, TaskRecord, UploadedObjects

logger = logging.getLogger(__name__)


def find_tasks(
    client: CVATClient, *, project_name: str | None, project_id: int | None, task_ids: Sequence[int]
) -> ImportSelection:
    if project_name is not None:
        project = client.find_project(project_name)
        if project is None:
            raise ProjectNotFoundError(f"CVAT has no project named {project_name!r} (or this user cannot see it)")
        project_id = int(project["id"])
    if project_id is not None:
        try:
            client.project(project_id)
        except (CVATNotFoundError, CVATAuthError) as error:
            if error.status not in (403, 404):
                raise
            raise ProjectNotFoundError(f"CVAT has no project {project_id} (or this user cannot see it)") from error
        tasks = sorted(client.paginate("/api/tasks", project_id=project_id), key=lambda t: int(t["id"]))
        return ImportSelection(
            [int(t["id"]) for t in tasks], project_id, [int(t["id"]) for t in tasks if t.get("mode") == "interpolation"]
        )
    videos = []
    for task_id in task_ids:
        try:
            task = client.task(task_id)
        except (CVATNotFoundError, CVATAuthError) as error:
            if error.status not in (403, 404):
                raise
            raise TaskGoneError(task_id) from error
        if task.get("mode") == "interpolation":
            videos.append(task_id)
    return ImportSelection(task_ids, None, videos)


def media_names(client: CVATClient, task_id: int) -> list[str]:
    """The names of a task's media files, in frame order: an image task's frames, a video task's video
    (data/meta names the video on its one frame entry)."""
    frames = client.data_meta(task_id)["frames"]
    if client.task(task_id).get("mode") == "interpolation":
        return [str(frames[0].get("name", ""))] if frames else []
    return [str(frame.get("name", "")) for frame in frames]


def download_media(client: CVATClient, task_ids: Sequence[int], folder: str) -> dict[int, list[str]]:
    videos = [task_id for task_id in task_ids if client.task(task_id).get("mode") == "interpolation"]
    if videos:  # refused before anything is written
        raise BackendConfigError(
            [
                f"tasks {videos} hold videos: CVAT's API serves a video task's frames, not its "
                "video file; put the videos in data_path (a folder, or a dict of CVAT file name "
                "-> local path) and import without download_media"
            ]
        )
    names = {task_id: media_names(client, task_id) for task_id in task_ids}  # every task checked before a write
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    flat = unique_names(name for task_id in task_ids for name in names[task_id])  # unique across the tasks
    targets: dict[int, list[Path]] = {}
    position = 0
    for task_id in task_ids:
        count = len(names[task_id])
        targets[task_id] = [inside(root, name) for name in flat[position : position + count]]  # all checked first
        position += count
    api = CVATAnnotationAPI(client)
    for task_id, paths in targets.items():
        missing = [(frame_id, path) for frame_id, path in enumerate(paths) if not path.exists()]
        for frame_id, path in missing:
            api.download_frame(task_id, frame_id, path)
        logger.info(
            "task %d: %d frames downloaded into %s, %d already there",
            task_id,
            len(missing),
            root,
            len(paths) - len(missing),
        )
    return {task_id: [str(path) for path in paths] for task_id, paths in targets.items()}


def import_labels(client: CVATClient, selection: ImportSelection) -> list[ProjectLabel]:
    """The labels the import's fields take their classes from: the project's, or, for tasks given by
    id, each name's first definition among the tasks' labels."""
    if selection.project_id is not None:
        return project_labels(client.labels(project_id=selection.project_id))
    first: dict[str, dict] = {}
    for task_id in selection.task_ids:
        for label in client.labels(task_id=task_id):
            first.setdefault(label["name"], label)
    return project_labels(first.values())


def adopt_task(
    client: CVATClient, schema: LabelSchema, task_id: int, sample_ids: Sequence[str], *, video: bool = False
) -> TaskRecord:
    """The task as a run's task, as fill_task records one it filled: its CVAT labels paired with the
    run's classes (a project's labels shared by fields, told apart by object type), nothing uploaded;
    a video task's frames mapped to the video's frame numbers from its data/meta (`task_frames`)."""
    task = client.task(task_id)
    frames = task_frames(client.data_meta(task_id), sample_ids, video=video)
    task_labels = client.labels(task_id=task_id)
    server = ServerLabels.match(cvat_classes(schema), task_labels, existing_project=True)
    jobs = client.jobs(task_id)
    return TaskRecord(
        task_id=task_id,
        project_id=task.get("project_id"),
        job_ids=[job["id"] for job in jobs],
        frames=frames,
        uploaded=UploadedObjects.of(()),
        labels=[RemoteLabelRef(label_id, c.cvat_name, c.field, c.class_name) for label_id, c in server.pairs()]
        # labels no field takes: what is drawn with them loads as unexpected, named by the label
        + [
            RemoteLabelRef(task_label["id"], task_label["name"], "", task_label["name"])
            for task_label in task_labels
            if task_label["id"] not in server.classes_by_id
        ],
        attributes=[RemoteAttributeRef(spec, label, name) for (label, name), spec in server.spec_ids.items()],
        created=task.get("created_date"),
    )

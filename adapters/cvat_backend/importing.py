"""Tasks made outside annoflow (CVAT's UI, cvat-sdk, another tool) read as a run's tasks, for
import_annotations(): which tasks, their frames' names, their media downloaded under safe names,
and each task's record (every CVAT label of no run field, nothing uploaded)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from annoflow.adapters.cvat.api import CVATAnnotationAPI
from annoflow.adapters.cvat.client import CVATClient
from annoflow.adapters.cvat.errors import CVATAuthError, CVATNotFoundError
from annoflow.adapters.cvat.media_names import inside, unique_names
from annoflow.adapters.cvat_format.schema import project_labels
from annoflow.application.ports.annotation_backend import ImportSelection, ProjectNotFoundError, TaskGoneError
from annoflow.domain.project_schema import attribute_spec
from annoflow.domain.run_records import CvatAttributeRef, CvatLabelRef, FrameRef, TaskRecord, UploadedObjects


def find_tasks(client: CVATClient, *, project_name: str | None, project_id: int | None,
               task_ids: Sequence[int]) -> ImportSelection:
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
        found = sorted(int(t["id"]) for t in client.paginate("/api/tasks", project_id=project_id))
        return ImportSelection(found, project_id)
    for task_id in task_ids:
        try:
            client.task(task_id)
        except (CVATNotFoundError, CVATAuthError) as error:
            if error.status not in (403, 404):
                raise
            raise TaskGoneError(task_id) from error
    return ImportSelection(task_ids, None)


def media_names(client: CVATClient, task_id: int) -> list[str]:
    task = client.task(task_id)
    if task.get("mode") == "interpolation":
        raise NotImplementedError(f"task {task_id} is a video task: importing video tasks is not supported yet")
    return [str(frame.get("name", "")) for frame in client.data_meta(task_id)["frames"]]


def download_media(client: CVATClient, task_ids: Sequence[int], folder: str) -> dict[int, list[str]]:
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    names = {task_id: media_names(client, task_id) for task_id in task_ids}
    flat = unique_names(name for task_id in task_ids for name in names[task_id])  # unique across the tasks
    targets: dict[int, list[Path]] = {}
    position = 0
    for task_id in task_ids:
        count = len(names[task_id])
        targets[task_id] = [inside(root, name) for name in flat[position:position + count]]  # all checked first
        position += count
    api = CVATAnnotationAPI(client)
    for task_id, paths in targets.items():
        for frame_id, path in enumerate(paths):
            if not path.exists():
                api.download_frame(task_id, frame_id, path)
    return {task_id: [str(path) for path in paths] for task_id, paths in targets.items()}


def adopt_task(client: CVATClient, task_id: int, sample_ids: Sequence[str]) -> TaskRecord:
    task = client.task(task_id)
    labels = client.labels(task_id=task_id)
    jobs = client.jobs(task_id)
    return TaskRecord(
        task_id=task_id, project_id=task.get("project_id"), job_ids=[job["id"] for job in jobs],
        frames=[FrameRef(sample_id) for sample_id in sample_ids], uploaded=UploadedObjects.of(()),
        # every label of no run field: what the task holds loads as unexpected labels, named by their class
        labels=[CvatLabelRef(label["id"], label["name"], "", label["name"]) for label in labels],
        attributes=[CvatAttributeRef(int(attr["id"]), int(label["id"]), attr["name"], attribute_spec(label["name"], typed))
                    for label in labels
                    for attr, typed in zip(label.get("attributes") or (), project_labels([label])[0].attributes)],
        created=task.get("created_date"),
    )

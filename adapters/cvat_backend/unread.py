"""Objects a download did not read, as the refusals the load records (`DownloadedTask.unread`), and
what each stands for.

Each says where the object is (task, job, frame), what it was and what was wrong with it, and
names the uploaded label it stands for when it tells (its label_id attribute, else the CVAT id
recorded at upload): the merge keeps that label as it is, since its object is still on the
server. A frame's objects past the per-frame limit make one refusal for the frame, and one for
each uploaded label among them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from annoflow.adapters.cvat_format.answer import Refused
from annoflow.adapters.cvat_format.schema import LABEL_ID, ServerLabels
from annoflow.domain.run_records import Rejection, TaskRecord

MALFORMED = "malformed"
OVER_LIMIT = "max_objects_per_frame"
JobRange = tuple[int, int, int]  # (first frame, last frame, job id)
_SINGULAR = {"tags": "tag", "shapes": "shape", "tracks": "track", "": "object"}
_PLURAL = {"tag": "tags", "shape": "shapes", "track": "tracks"}


def _by_cvat_id(task: TaskRecord) -> dict[tuple[str, int], str]:
    """Uploaded labels by (kind, CVAT id): CVAT numbers tags, shapes and tracks in tables of their own."""
    up = task.uploaded
    return {
        (_PLURAL[kind], cvat_id): label_id
        for kind, cvat_id, label_id in zip(up.remote_kinds, up.remote_ids, up.label_ids, strict=True)
    }


def claim_reader(task: TaskRecord, server: ServerLabels) -> Callable[[Any, str], str | None]:
    """The uploaded label an object of the answer (of kind "tags", "shapes" or "tracks") stands for, read
    from any JSON value: its label_id attribute when it names an uploaded label, else the CVAT id
    recorded at upload for that kind."""
    specs = {spec for (_, name), spec in server.spec_ids.items() if name == LABEL_ID}
    uploaded = set(task.uploaded.label_ids)
    by_cvat_id = _by_cvat_id(task)

    def claim(obj: Any, kind: str) -> str | None:
        if type(obj) is not dict:
            return None
        attributes = obj.get("attributes")
        for item in attributes if type(attributes) is list else ():
            if (
                type(item) is dict
                and type(item.get("spec_id")) is int
                and item["spec_id"] in specs
                and type(item.get("value")) is str
                and item["value"] in uploaded
            ):
                return item["value"]
        cvat_id = obj.get("id")
        return by_cvat_id.get((kind, cvat_id)) if type(cvat_id) is int else None

    return claim


def rejections(
    task: TaskRecord, refused: Iterable[Refused], server: ServerLabels, jobs: Callable[[], Sequence[JobRange]]
) -> list[Rejection]:
    """The refusals of ``refused``; ``jobs()`` (asked once, only when needed) gives the task's job ranges."""
    refused = list(refused)
    if not refused:
        return []
    up = task.uploaded
    uploaded = {
        label_id: (field, sample_id)
        for field, label_id, sample_id in zip(up.fields, up.label_ids, up.sample_ids, strict=True)
    }
    by_cvat_id = _by_cvat_id(task)
    ranges = jobs()
    out = []
    for item in refused:
        sample_id = video_frame = None
        where = f"task {task.task_id}, no frame of the task"
        if item.frame is not None:
            sample_id, video_frame = task.frames[item.frame].sample_id, task.frames[item.frame].frame
            job = next((job_id for first, last, job_id in ranges if first <= item.frame <= last), None)
            where = f"task {task.task_id}, job {job if job is not None else '(unknown)'}, frame {item.frame}"
        if item.over_limit:
            out.append(Rejection(sample_id, "", OVER_LIMIT, f"{where}: {item.problem}", None, video_frame))
            for claimed in item.claims:
                field, owner = uploaded[claimed]
                out.append(
                    Rejection(
                        owner,
                        field,
                        OVER_LIMIT,
                        f"{where}: label {claimed} kept as it is: its object was among those not read",
                        claimed,
                        video_frame,
                    )
                )
            continue
        claim = next((c for c in item.claims if c in uploaded), None) or (
            by_cvat_id.get((item.kind, item.cvat_id)) if item.cvat_id is not None else None
        )
        if claim is not None:
            field, sample_id = uploaded[claim]
        else:
            cls = server.classes_by_id.get(item.cvat_label) if item.cvat_label is not None else None
            field = cls.field if cls is not None else ""
        subject = _SINGULAR[item.kind] + (f" {item.cvat_id}" if item.cvat_id is not None else "")
        out.append(
            Rejection(
                sample_id, field, MALFORMED, f"{where}: {subject}: {item.problem}", claim, video_frame, item.cvat_id
            )
        )
    return out

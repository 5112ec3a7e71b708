"""The scripted annotator saving through jobs, as CVAT's UI does: each edit goes to the job of its frame.

`ScriptedAnnotator` sends every PATCH to the task; an annotator in CVAT's UI works in one job at a
time and saves there (``PATCH /api/jobs/{id}/annotations``), where CVAT checks the frame against
the job's range. Reading stays task-wide. A task's labels and jobs do not change while annotators
work, so each is read once.
"""

from __future__ import annotations

from typing import Any

from annoflow.adapters.cvat_sim.annotator import ScriptedAnnotator


class JobAnnotator(ScriptedAnnotator):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._labels: dict[int, dict[str, dict[str, Any]]] = {}
        self._jobs: dict[int, list[dict[str, Any]]] = {}

    def labels(self, task_id: int) -> dict[str, dict[str, Any]]:
        if task_id not in self._labels:
            self._labels[task_id] = super().labels(task_id)
        return self._labels[task_id]

    def jobs(self, task_id: int) -> list[dict[str, Any]]:
        if task_id not in self._jobs:
            answer = self.client.get("/api/jobs", params={"task_id": task_id, "page_size": 100})
            answer.raise_for_status()
            self._jobs[task_id] = answer.json()["results"]
        return self._jobs[task_id]

    def job_of(self, task_id: int, frame: int) -> int:
        for job in self.jobs(task_id):
            if job["start_frame"] <= frame <= job["stop_frame"]:
                return job["id"]
        raise KeyError(f"task {task_id} has no job with frame {frame}")

    def _patch(self, task_id: int, action: str, kind: str, objects: list[dict[str, Any]]) -> dict[str, Any]:
        (frame,) = {o["frame"] for o in objects}  # one edit, one frame: one job
        body = {"version": 0, "tags": [], "shapes": [], "tracks": [], kind: objects}
        answer = self.client.patch(
            f"/api/jobs/{self.job_of(task_id, frame)}/annotations", params={"action": action}, json=body
        )
        answer.raise_for_status()
        return answer.json()

"""CVAT's task creation worker: uploaded data go queued, started, finished, and only then are there jobs.

CVAT processes a task's media in a background worker (the import queue): the
upload's answer carries a request id, the request is ``queued`` until a worker
takes it, ``started`` while the media are read, and ``finished`` (or ``failed``)
after; the task's size, frames and jobs exist only from then on. `Processor`
does the same with a processing time per frame (``seconds_per_frame``, 0 by
default: the request is finished before the upload is answered, for speed). With
a time, one worker thread takes the requests in order, as one CVAT worker does:
a task uploaded while another is processed waits its turn.
"""

from __future__ import annotations

import queue
import threading
import time
from typing import Any

import attrs

from annoflow.adapters.cvat_sim.media import read_media
from annoflow.adapters.cvat_sim.state import SimError, SimState, Upload, error_text, now

# What CVAT's create_thread says of itself while it reads the media (update_status)
STARTED_MESSAGE = "Media files are being extracted..."
_PROGRESS_STEP = 0.05  # seconds between progress updates of a processing request


def make_segments(task: dict[str, Any], size: int, video: bool) -> list[tuple[int, int]]:
    """Frame ranges of the task's jobs: ``segment_size`` frames each, a video's overlapping by 5."""
    segment = task["segment_size"] or size
    overlap = task["overlap"]
    if overlap is None:
        overlap = 5 if video and segment < size else 0
    overlap = min(overlap, max(segment - 1, 0))
    segments, start = [], 0
    while start < size:
        stop = min(start + segment - 1, size - 1)
        segments.append((start, stop))
        if stop == size - 1:
            break
        start = stop + 1 - overlap
    return segments


@attrs.frozen
class _Work:
    task: dict[str, Any]
    record: dict[str, Any]
    files: list[Upload]
    fields: dict[str, Any]


class Processor:
    def __init__(self, state: SimState, seconds_per_frame: float = 0.0) -> None:
        self.state = state
        self.seconds_per_frame = seconds_per_frame
        self._queue: queue.Queue[_Work | None] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._stopping = threading.Event()

    def submit(self, task: dict[str, Any], record: dict[str, Any], files: list[Upload], fields: dict[str, Any]) -> None:
        """Process a task's uploaded files: at once without a processing time, else in turn."""
        work = _Work(task, record, files, fields)
        if self.seconds_per_frame <= 0:
            self._run(work)
            return
        with self.state.lock:
            if self._worker is None or not self._worker.is_alive():
                self._stopping.clear()
                self._worker = threading.Thread(target=self._work, name="cvat-sim-worker", daemon=True)
                self._worker.start()
        self._queue.put(work)

    def close(self) -> None:
        """Stop the worker; what it had not finished fails, as a request whose worker died."""
        self._stopping.set()
        self._queue.put(None)
        if self._worker is not None:
            self._worker.join(timeout=10)
        while True:
            try:
                work = self._queue.get_nowait()
            except queue.Empty:
                break
            if work is not None:
                self._fail(work.record, "the simulator stopped before the request was processed")

    def _work(self) -> None:
        while (work := self._queue.get()) is not None:
            if self._stopping.is_set():
                self._fail(work.record, "the simulator stopped before the request was processed")
                continue
            self._run(work)

    def _fail(self, record: dict[str, Any], message: str) -> None:
        with self.state.lock:
            record.update(status="failed", message=message, finished=now())

    def _run(self, work: _Work) -> None:
        record = work.record
        with self.state.lock:
            record.update(status="started", started=now(), message=STARTED_MESSAGE)
        try:
            processed = read_media(work.files, work.fields)
        except SimError as error:
            # CVAT reports processing failures through the request, not the upload answer.
            self._fail(record, error_text(error))
            return
        self._take_time(record, processed["size"])
        if self._stopping.is_set():
            self._fail(record, "the simulator stopped before the request was processed")
            return
        with self.state.lock:
            task = work.task
            if self.state.tasks.get(task["id"]) is not task:
                record.update(status="failed", message=f"Task {task['id']} does not exist", finished=now())
                return
            task["data"].update(processed)
            stamp = now()
            for start, stop in make_segments(task, processed["size"], processed["mode"] == "interpolation"):
                job_id = self.state.next_id("job")
                self.state.jobs[job_id] = {
                    "id": job_id,
                    "task_id": task["id"],
                    "start_frame": start,
                    "stop_frame": stop,
                    "assignee_id": None,
                    "stage": "annotation",
                    "state": "new",
                    "created": stamp,
                    "updated": stamp,
                }
            task["updated"] = stamp
            record.update(status="finished", finished=now(), progress=1.0, message="")

    def _take_time(self, record: dict[str, Any], frames: int) -> None:
        total = frames * self.seconds_per_frame
        started = time.monotonic()
        while (elapsed := time.monotonic() - started) < total and not self._stopping.is_set():
            record["progress"] = round(elapsed / total, 3)
            time.sleep(min(_PROGRESS_STEP, total - elapsed))

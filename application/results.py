"""AnnotationResults: what annotate() and load_annotation_results() return.

It reads the run's record (task, job and project ids, frame maps) and talks
to the backend only when asked: status, cleanup, the backend's API (``connect_to_api`` gives it,
``use_api`` takes one; status and cleanup go through a session over it, built by the port's
``session_over``, so this layer never knows the API's type).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from annoflow.application.ports.annotation_backend import (
    AnnotationAPI,
    AnnotationBackend,
    BackendConfig,
    BackendSession,
    MarkedResources,
    TaskStatus,
)
from annoflow.application.runs.registry import RunRegistry
from annoflow.application.server_identity import cleanup_targets
from annoflow.domain.annotation_run import AnnotationRun, RunStatus
from annoflow.domain.samples import MediaType

logger = logging.getLogger(__name__)


class AnnotationResults:
    """A run's results: its ids from the record, and its status, cleanup and backend on request."""

    def __init__(
        self,
        registry: RunRegistry,
        run: AnnotationRun,
        backend: AnnotationBackend,
        connect: Callable[[], BackendConfig],
        options: Mapping[str, Any] | None = None,
        media_type: MediaType = MediaType.IMAGE,
    ) -> None:
        self._registry = registry
        self._run = run
        self._backend = backend
        self._connect = connect
        # the run's recorded options: what a session over an API the user gives needs (no credential)
        self._options = dict(options if options is not None else run.config)
        self._media_type = media_type
        self._api: AnnotationAPI | None = None
        self._session: BackendSession | None = None

    # --- the record ------------------------------------------------------------------

    @property
    def anno_key(self) -> str:
        return self._run.key

    @property
    def task_ids(self) -> list[int]:
        return list(self._run.task_ids)

    @property
    def job_ids(self) -> dict[int, list[int]]:
        return {task: list(jobs) for task, jobs in self._run.job_ids.items()}

    @property
    def project_ids(self) -> list[int]:
        return list(self._run.project_ids)

    @property
    def frame_id_map(self) -> dict[int, dict[int, dict[str, Any]]]:
        """Per task, each task frame's sample id; a video task's frames also their ``frame_number``
        in the video (1-based, as the dataset numbers frames), one entry per frame of the task."""
        out: dict[int, dict[int, dict[str, Any]]] = {}
        for task_id, task in self._run.tasks.items():
            if task.first_frame is None:
                out[task_id] = {index: {"sample_id": sample_id} for index, sample_id in enumerate(task.sample_ids)}
            else:
                (sample_id,) = task.sample_ids
                out[task_id] = {
                    index: {"sample_id": sample_id, "frame_number": number}
                    for index, number in enumerate(task.frame_numbers())
                }
        return out

    # --- the backend -----------------------------------------------------------------

    def use_api(self, api: AnnotationAPI) -> None:
        """Reuse an open API (e.g. across many runs) instead of connecting again: the results'
        status and cleanup go through its logged-in session (FiftyOne's CVAT guide, "Viewing task
        statuses").

        Args:
            api: the backend's API, from ``annoflow.connect_to_api()`` or another run's
                ``connect_to_api()``; it stays open (close it, or use it as a context manager).

        Raises:
            TypeError: an object that is no API of the run's backend.
        """
        session = self._backend.session_over(api, self._options, self._media_type)  # checked now, not at first use
        self._api, self._session = api, session

    def connect_to_api(self) -> AnnotationAPI:
        """The backend's API (for CVAT: ``CVATAnnotationAPI``), connected on first call with the
        run's settings; the same object on later calls.

        Returns:
            The API, a context manager (FiftyOne's CVAT guide, "Deleting tasks").

        Raises:
            BackendConfigError: no credentials, or recorded options the backend refuses now.
        """
        if self._api is None:
            self._api = self._backend.open_api(self._connect())
        return self._api

    def _backend_session(self) -> BackendSession:
        if self._session is None:
            self._session = self._backend.session_over(self.connect_to_api(), self._options, self._media_type)
        return self._session

    def get_status(self) -> list[TaskStatus]:
        """The status of the run's tasks and their jobs, as the backend reports them now.

        Returns:
            One `TaskStatus` per task of the run, in the run's order: name, status, assignee, last
            update, URL and jobs.

        Raises:
            BackendConfigError: no credentials, when the results connect for the first time.
            CVATError: CVAT refused a request or could not be reached (CVATNotFoundError: a task
                that is gone).
        """
        return self._backend_session().task_statuses(self.task_ids)

    def print_status(self, print_fn: Callable[[str], Any] = print) -> None:
        """Print ``get_status()`` as FiftyOne does: per task, its status, assignee, update and URL,
        then each job's status, assignee and reviewer.

        Args:
            print_fn: where each line goes (default: ``print``, to stdout).

        Raises:
            CVATError: CVAT refused a request or could not be reached.
        """
        fields = ", ".join(f"'{f}'" for f in self._run.label_schema.field_names)
        print_fn(f"Status for label field {fields}:" if fields else "Status:")
        for status in self.get_status():
            print_fn(f"    Task {status.task_id} ({status.name}):")
            print_fn(f"        Status: {status.status}")
            print_fn(f"        Assignee: {status.assignee}")
            print_fn(f"        Last updated: {status.updated}")
            print_fn(f"        URL: {status.url}")
            for job in status.jobs:
                print_fn(f"        Job {job['id']}:")
                print_fn(f"            Status: {job.get('status')}")
                print_fn(f"            Assignee: {job.get('assignee')}")
                if job.get("reviewer") is not None:
                    print_fn(f"            Reviewer: {job['reviewer']}")

    def cleanup(self) -> None:
        """Delete the run's tasks (started ones too) and the projects the run created.

        A project found by name or id is never deleted. The cleanup is recorded before the
        first deletion: a crash while deleting leaves a cleanup that the next ``cleanup()`` or
        load finishes. Cleaning up again is always possible.

        Raises:
            BackendConfigError: no credentials.
            WrongServerError: the server holds another task under one of the run's task ids (the
                results point at another server); nothing was deleted.
            CVATError: CVAT refused a request or could not be reached.
        """
        # The record may have moved on since these results were made (a load, here or in another
        # process): clean up from its latest state, so the cleanup's events follow the load's.
        run = self._run = self._registry.get_run_by_id(self._run.id)
        session = self._backend_session()
        # An upload that never finished may have made tasks or a project whose ids a crash kept
        # from the record: they still carry the run's marker.
        marked = session.find_marked(run.marker) if run.status is RunStatus.REQUESTED else MarkedResources()
        tasks = sorted(set(run.task_ids) | set(run.started_tasks) | set(marked.task_ids))
        # the server must hold the run's own tasks: checked before anything is deleted
        # (projects carrying the run's marker, or checked by an earlier attempt, are the run's own)
        projects = cleanup_targets(
            run,
            session,
            sorted(set(run.task_ids) | set(run.started_tasks)),
            [*run.created_projects, *marked.project_ids],
            [*marked.project_ids, *run.cleanup_projects],
        )
        run.start_cleanup(projects)  # recorded first: a load after an interrupted cleanup finishes it
        logger.info("cleaning up run %r: tasks %s, projects %s", run.key, tasks, projects)
        self._registry.save_run(run)
        session.delete_tasks(tasks)
        session.delete_projects(projects)
        for task_id in sorted(run.started_tasks):
            run.abandon_task(task_id)
        run.record_cleanup(tasks, projects)
        self._registry.save_run(run)

"""Before merging from or deleting on a server, make sure it holds the run's own tasks.

A run records the ids CVAT gave it; another server (a second CVAT, a test instance, the same
address after a reinstall) may hold other tasks under the same ids. Each task is checked against
what the run recorded when it was made, see `AnnotationRun.check_remote_task`.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable

from annoflow.application.ports.annotation_backend import BackendSession
from annoflow.domain.annotation_run import AnnotationRun

logger = logging.getLogger(__name__)


def cleanup_targets(
    run: AnnotationRun,
    session: BackendSession,
    task_ids: Iterable[int],
    project_ids: Iterable[int],
    marked_projects: Iterable[int] = (),
) -> list[int]:
    """Check every task of the run the server still holds, and return the projects it may delete:
    those holding one of the run's checked tasks, and those carrying the run's marker.

    Raises WrongServerError (nothing deleted) when the server holds another task under a run's id.
    A project none of whose tasks is left cannot be told from another server's: it stays, with a warning.
    """
    holding: set[int | None] = set()
    for task_id in task_ids:
        remote = session.describe_task(task_id)
        if remote is None:
            continue  # already gone: nothing to delete, nothing to check
        run.check_remote_task(task_id, name=remote.name, job_ids=remote.job_ids, created=remote.created)
        holding.add(remote.project_id)
    marked = set(marked_projects)
    projects = [p for p in dict.fromkeys(project_ids) if p in holding or p in marked]
    for project_id in dict.fromkeys(project_ids):
        if project_id not in projects:
            logger.warning("project %s of run %r holds none of its tasks on this server: left", project_id, run.key)
            warnings.warn(
                f"project {project_id} of run {run.key!r} holds none of the run's tasks on this server, "
                "so it cannot be told from another server's project: it was not deleted",
                stacklevel=3,
            )
    return projects

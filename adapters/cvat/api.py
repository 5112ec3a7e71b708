"""The public CVAT API type, FiftyOne's ``CVATAnnotationAPI`` (FiftyOne's CVAT guide, "Additional utilities").

``annoflow.connect_to_api()`` and ``results.connect_to_api()`` both return it, and ``results.use_api()``
takes it: the results' status and cleanup then go through its logged-in session.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import webbrowser
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import httpx

from annoflow.adapters.cvat.client import CVATClient
from annoflow.adapters.cvat.media_names import inside, unique_names
from annoflow.adapters.cvat.retry import RetryPolicy
from annoflow.adapters.cvat.secrets import Secret, seal_credentials
from annoflow.adapters.cvat.settings import resolve_settings

logger = logging.getLogger(__name__)


class CVATAnnotationAPI:
    """A thin, safe wrapper around CVAT's REST API; a context manager that closes its connections.

    Every request goes through one logged-in session (login on the first request, retries, request
    bounds, typed errors, no credential shown).
    """

    def __init__(self, client: CVATClient, *, open_url: Callable[[str], Any] | None = None) -> None:
        self.client = client
        self._open_url = open_url

    def __repr__(self) -> str:
        return f"CVATAnnotationAPI(base_url={self.base_url!r})"

    def __enter__(self) -> CVATAnnotationAPI:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the session's connections; leaving the ``with`` block does it too."""
        self.client.close()

    # --- addresses ------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self.client.settings.base_url

    @property
    def base_api_url(self) -> str:
        return f"{self.base_url}/api"

    @property
    def tasks_url(self) -> str:
        return f"{self.base_api_url}/tasks"

    @property
    def projects_url(self) -> str:
        return f"{self.base_api_url}/projects"

    @property
    def jobs_url(self) -> str:
        return f"{self.base_api_url}/jobs"

    def task_url(self, task_id: int) -> str:
        """The API address of a task.

        Args:
            task_id: the task's id.

        Returns:
            ``<base_url>/api/tasks/<task_id>``.
        """
        return f"{self.tasks_url}/{task_id}"

    def project_url(self, project_id: int) -> str:
        """The API address of a project.

        Args:
            project_id: the project's id.

        Returns:
            ``<base_url>/api/projects/<project_id>``.
        """
        return f"{self.projects_url}/{project_id}"

    def task_data_meta_url(self, task_id: int) -> str:
        """The API address of a task's media metadata (its frames' names and sizes).

        Args:
            task_id: the task's id.

        Returns:
            ``<base_url>/api/tasks/<task_id>/data/meta``.
        """
        return f"{self.task_url(task_id)}/data/meta"

    def task_data_download_url(self, task_id: int, frame_id: int) -> str:
        """The API address where a task's frame is read as the file uploaded (quality ``original``).

        Args:
            task_id: the task's id.
            frame_id: the frame's number in the task, from 0.

        Returns:
            The address, with its query string.
        """
        return f"{self.task_url(task_id)}/data?type=frame&quality=original&number={frame_id}"

    def task_annotation_url(self, task_id: int) -> str:
        """The API address of a task's annotations.

        Args:
            task_id: the task's id.

        Returns:
            ``<base_url>/api/tasks/<task_id>/annotations``.
        """
        return f"{self.task_url(task_id)}/annotations"

    def taskless_job_url(self, job_id: int) -> str:
        """Where a person opens a job in CVAT's UI (not an API address).

        Args:
            job_id: the job's id.

        Returns:
            ``<base_url>/jobs/<job_id>``.
        """
        return f"{self.base_url}/jobs/{job_id}"

    # --- raw requests (authenticated, retried, errors typed) -------------------------------

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        """Send a GET request to CVAT through the logged-in session; it logs in first if need be.

        Retried, after a dropped connection or a timeout too, as the request is idempotent.

        Args:
            url: an address under CVAT's (``api.tasks_url``, ``api.task_url(7)``) or a path relative to
                it (``"/api/tasks"``).
            **kwargs: httpx's request arguments (``params``, ``json``, ``content``, ``files``,
                ``headers``, ...), and ``expect``: statuses outside 2xx to return instead of raising
                (``expect=(404,)``).

        Returns:
            CVAT's answer (``response.json()`` reads its body).

        Raises:
            CVATAuthError: the login failed, or CVAT answered 401 or 403.
            CVATNotFoundError: CVAT answered 404.
            CVATConnectionError: CVAT could not be reached, or dropped the connection.
            CVATTimeoutError: CVAT took longer than the request bounds allow.
            CVATError: any other answer outside 2xx.
        """
        return self.client.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        """Send a POST request to CVAT through the logged-in session; it logs in first if need be.

        Retried only when CVAT refused it before doing anything (429, 503): after a dropped
        connection or a timeout it may have been done, so it is not sent again.

        Args:
            url: an address under CVAT's (``api.tasks_url``, ``api.task_url(7)``) or a path relative to
                it (``"/api/tasks"``).
            **kwargs: httpx's request arguments (``params``, ``json``, ``content``, ``files``,
                ``headers``, ...), and ``expect``: statuses outside 2xx to return instead of raising
                (``expect=(404,)``).

        Returns:
            CVAT's answer (``response.json()`` reads its body).

        Raises:
            CVATAuthError: the login failed, or CVAT answered 401 or 403.
            CVATNotFoundError: CVAT answered 404.
            CVATConnectionError: CVAT could not be reached, or dropped the connection.
            CVATTimeoutError: CVAT took longer than the request bounds allow.
            CVATError: any other answer outside 2xx.
        """
        return self.client.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> httpx.Response:
        """Send a PUT request to CVAT through the logged-in session; it logs in first if need be.

        Retried, after a dropped connection or a timeout too, as the request is idempotent.

        Args:
            url: an address under CVAT's (``api.tasks_url``, ``api.task_url(7)``) or a path relative to
                it (``"/api/tasks"``).
            **kwargs: httpx's request arguments (``params``, ``json``, ``content``, ``files``,
                ``headers``, ...), and ``expect``: statuses outside 2xx to return instead of raising
                (``expect=(404,)``).

        Returns:
            CVAT's answer (``response.json()`` reads its body).

        Raises:
            CVATAuthError: the login failed, or CVAT answered 401 or 403.
            CVATNotFoundError: CVAT answered 404.
            CVATConnectionError: CVAT could not be reached, or dropped the connection.
            CVATTimeoutError: CVAT took longer than the request bounds allow.
            CVATError: any other answer outside 2xx.
        """
        return self.client.request("PUT", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> httpx.Response:
        """Send a PATCH request to CVAT through the logged-in session; it logs in first if need be.

        Retried only when CVAT refused it before doing anything (429, 503): after a dropped
        connection or a timeout it may have been done, so it is not sent again.

        Args:
            url: an address under CVAT's (``api.tasks_url``, ``api.task_url(7)``) or a path relative to
                it (``"/api/tasks"``).
            **kwargs: httpx's request arguments (``params``, ``json``, ``content``, ``files``,
                ``headers``, ...), and ``expect``: statuses outside 2xx to return instead of raising
                (``expect=(404,)``).

        Returns:
            CVAT's answer (``response.json()`` reads its body).

        Raises:
            CVATAuthError: the login failed, or CVAT answered 401 or 403.
            CVATNotFoundError: CVAT answered 404.
            CVATConnectionError: CVAT could not be reached, or dropped the connection.
            CVATTimeoutError: CVAT took longer than the request bounds allow.
            CVATError: any other answer outside 2xx.
        """
        return self.client.request("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        """Send a DELETE request to CVAT through the logged-in session; it logs in first if need be.

        Retried, after a dropped connection or a timeout too, as the request is idempotent.

        Args:
            url: an address under CVAT's (``api.tasks_url``, ``api.task_url(7)``) or a path relative to
                it (``"/api/tasks"``).
            **kwargs: httpx's request arguments (``params``, ``json``, ``content``, ``files``,
                ``headers``, ...), and ``expect``: statuses outside 2xx to return instead of raising
                (``expect=(404,)``).

        Returns:
            CVAT's answer (``response.json()`` reads its body).

        Raises:
            CVATAuthError: the login failed, or CVAT answered 401 or 403.
            CVATNotFoundError: CVAT answered 404.
            CVATConnectionError: CVAT could not be reached, or dropped the connection.
            CVATTimeoutError: CVAT took longer than the request bounds allow.
            CVATError: any other answer outside 2xx.
        """
        return self.client.request("DELETE", url, **kwargs)

    # --- conveniences the examples of FiftyOne's CVAT guide use -----------------------------------------------

    def launch_editor(self, url: str | None = None) -> None:
        """Open a CVAT page in the web browser (or with ``connect_to_api(open_url=...)``'s opener).

        Args:
            url: the page to open (default: ``base_url``, CVAT's home page); ``results.get_status()``
                and ``taskless_job_url()`` give the pages of tasks and jobs.
        """
        (self._open_url or webbrowser.open)(url or self.base_url)  # looked up now: the browser Python knows today

    def get_user_id(self, username: str) -> int:
        """The id of the CVAT user with this username.

        Args:
            username: the user's username, exactly.

        Returns:
            The user's id.

        Raises:
            CVATNotFoundError: CVAT has no user of that name the logged-in user can see.
            CVATError: CVAT refused a request or could not be reached.
        """
        return self.client.user_id(username)

    def get_project_id(self, project_name: str) -> int | None:
        """The id of the project with this name.

        Args:
            project_name: the project's name, exactly.

        Returns:
            The project's id, or None when the user can see no project of that name.

        Raises:
            CVATError: CVAT refused a request or could not be reached.
        """
        project = self.client.find_project(project_name)
        return project["id"] if project else None

    def get_project_ids(self, project_names: Iterable[str] | None = None) -> list[int]:
        """The ids of the projects with these names, or of every project.

        Args:
            project_names: the projects' names (default: every project the user can see).

        Returns:
            The ids of the projects found, in the order of the names; a name with no project is left out.

        Raises:
            CVATError: CVAT refused a request or could not be reached.
        """
        if project_names is None:
            return [p["id"] for p in self.client.paginate("/api/projects")]
        return [pid for name in project_names if (pid := self.get_project_id(name)) is not None]

    def get_task_ids(self, project_id: int | None = None) -> list[int]:
        """The ids of a project's tasks, or of every task.

        Args:
            project_id: the project whose tasks to list (default: every task the user can see).

        Returns:
            The task ids, in CVAT's order.

        Raises:
            CVATError: CVAT refused a request or could not be reached.
        """
        return [t["id"] for t in self.client.paginate("/api/tasks", project_id=project_id)]

    def task_exists(self, task_id: int) -> bool:
        """Whether CVAT has this task (one the user can see).

        Args:
            task_id: the task's id.

        Returns:
            False when CVAT answers 404, True otherwise.

        Raises:
            CVATError: CVAT refused a request or could not be reached.
        """
        return self.client.request("GET", f"/api/tasks/{task_id}", expect=(404,)).status_code != 404

    def project_exists(self, project_id: int) -> bool:
        """Whether CVAT has this project (one the user can see).

        Args:
            project_id: the project's id.

        Returns:
            False when CVAT answers 404, True otherwise.

        Raises:
            CVATError: CVAT refused a request or could not be reached.
        """
        return self.client.request("GET", f"/api/projects/{project_id}", expect=(404,)).status_code != 404

    def delete_task(self, task_id: int) -> None:
        """Delete a task, its jobs and annotations; a task already gone is skipped.

        Args:
            task_id: the task's id.

        Raises:
            CVATError: CVAT refused a request or could not be reached.
        """
        self.client.delete_task(task_id)

    def delete_tasks(self, task_ids: Iterable[int]) -> None:
        """Delete tasks one after the other (see ``delete_task``); tasks already gone are skipped.

        Args:
            task_ids: the tasks' ids.

        Raises:
            CVATError: CVAT refused a request or could not be reached; the tasks before it are deleted.
        """
        for task_id in task_ids:
            self.client.delete_task(task_id)

    def delete_project(self, project_id: int) -> None:
        """Delete a project and all its tasks; a project already gone is skipped.

        Args:
            project_id: the project's id.

        Raises:
            CVATError: CVAT refused a request or could not be reached.
        """
        self.client.delete_project(project_id)

    def delete_projects(self, project_ids: Iterable[int]) -> None:
        """Delete projects and their tasks one after the other (see ``delete_project``).

        Args:
            project_ids: the projects' ids.

        Raises:
            CVATError: CVAT refused a request or could not be reached; the projects before it are deleted.
        """
        for project_id in project_ids:
            self.client.delete_project(project_id)

    def get_project_tasks(self, project_id: int) -> list[int]:
        """The ids of a project's tasks (``get_task_ids(project_id)``).

        Args:
            project_id: the project's id.

        Returns:
            The task ids, in CVAT's order.

        Raises:
            CVATError: CVAT refused a request or could not be reached.
        """
        return self.get_task_ids(project_id)

    # --- labels and attributes ----------------------------------------------------------------

    def _labels(self, task_id: int | None, project_id: int | None) -> list[dict[str, Any]]:
        return self.client.labels(task_id=task_id, project_id=project_id)

    def get_label_id(self, label_name: str, *, task_id: int | None = None, project_id: int | None = None) -> int | None:
        """The id CVAT gave the label named ``label_name`` in a task or project (one of them), None when it has none.

        Args:
            label_name: the label's name.
            task_id: the task whose labels to look in.
            project_id: the project whose labels to look in, instead of a task's.

        Returns:
            The label's id, or None.

        Raises:
            ValueError: neither or both of task_id and project_id.
        """
        return next(
            (int(label["id"]) for label in self._labels(task_id, project_id) if label["name"] == label_name), None
        )

    def get_attr_id_map(
        self, *, task_id: int | None = None, project_id: int | None = None
    ) -> dict[str, dict[str, int]]:
        """Per label name of a task or project (one of them), each attribute's name -> the id CVAT gave it.

        Args:
            task_id: the task whose labels to read.
            project_id: the project whose labels to read, instead of a task's.

        Returns:
            Label name -> attribute name -> spec id.

        Raises:
            ValueError: neither or both of task_id and project_id.
        """
        return {
            label["name"]: {attr["name"]: int(attr["id"]) for attr in label.get("attributes") or ()}
            for label in self._labels(task_id, project_id)
        }

    # --- media and annotations ------------------------------------------------------------------

    def download_media(
        self, task_id: int, folder: str | Path, frame_ids: Iterable[int] | None = None, *, overwrite: bool = False
    ) -> dict[int, Path]:
        """Download frames of an image task, as uploaded, into ``folder`` (made if missing).

        Each file is named after the frame's name in CVAT, made safe: a name never leaves the
        folder (separators, ``..``, drive letters, NUL and control characters, over-long names are
        turned into a plain name; frames whose names end up equal get ``_1``, ``_2``...), and a
        symlink in the folder is never written through. A file already there is kept, as FiftyOne
        keeps it, unless ``overwrite``: downloading the same task again gives the same paths.

        Args:
            task_id: the task.
            folder: where the files go.
            frame_ids: the frames to download (default: all of the task's).
            overwrite: download frames whose file is already there too.

        Returns:
            Each frame's file.

        Raises:
            UnsafeMediaPathError: a name would resolve outside the folder (a symlink there).
            CVATError: CVAT refused a request or could not be reached.
        """
        root = Path(folder)
        root.mkdir(parents=True, exist_ok=True)
        frames = self.client.data_meta(task_id)["frames"]
        wanted = range(len(frames)) if frame_ids is None else list(frame_ids)
        names = unique_names(str(frames[i].get("name", "")) for i in wanted)
        targets = {
            frame_id: inside(root, name) for frame_id, name in zip(wanted, names, strict=True)
        }  # all checked first
        for frame_id, target in targets.items():
            if overwrite or not target.exists():
                self.download_frame(task_id, frame_id, target)
        return targets

    def download_frame(self, task_id: int, frame_id: int, target: Path) -> None:
        """Write a frame of a task, as uploaded, to ``target``; ``download_media`` calls it for each frame.

        Note:
            The bytes go to a new temporary file in ``target``'s folder (made exclusively, so it
            follows no symlink and is no other frame's file), renamed over ``target`` when whole: a
            crash never leaves a truncated file under the frame's name.

        Args:
            task_id: the task's id.
            frame_id: the frame's number in the task, from 0.
            target: the file to write (its folder must exist); a file there is replaced.

        Raises:
            CVATError: CVAT refused a request or could not be reached.
        """
        response = self.client.request(
            "GET", f"/api/tasks/{task_id}/data", params={"type": "frame", "quality": "original", "number": frame_id}
        )
        handle, partial = tempfile.mkstemp(dir=target.parent, prefix=".annoflow-", suffix=".part")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(response.content)
            os.replace(partial, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(partial)
            raise
        logger.debug("task %d: frame %d downloaded to %s", task_id, frame_id, target)

    def upload_annotations(self, task_id: int, annotations: Mapping[str, Any]) -> dict[str, Any]:
        """Replace a task's annotations with ``annotations`` (CVAT's JSON: ``tags``, ``shapes``,
        ``tracks``, with CVAT's label and attribute ids).

        Args:
            task_id: the task.
            annotations: CVAT's annotations JSON (missing kinds are sent empty).

        Returns:
            What CVAT stored, with the ids it gave.

        Raises:
            CVATError: CVAT refused them (its message says why) or could not be reached.
        """
        return self.client.put_annotations(annotations, task_id=task_id)


CVATAPI = CVATAnnotationAPI  # the name this type had before FiftyOne's


def connect_to_api(
    url: str | None = None,
    username: str | None = None,
    password: str | Secret | None = None,
    email: str | None = None,
    headers: Mapping[str, str] | None = None,
    organization: str | None = None,
    *,
    connect_timeout: float | None = None,
    read_timeout: float | None = None,
    request_deadline: float | None = None,
    retry: RetryPolicy | None = None,
    wait_timeout: float = 1800.0,
    poll_interval: float = 0.5,
    transport: httpx.BaseTransport | None = None,
    open_url: Callable[[str], Any] | None = None,
) -> CVATAnnotationAPI:
    """Connect to CVAT's REST API (FiftyOne's CVAT guide, "Additional utilities").

    Each connection setting not given comes from the environment (``ANNOFLOW_CVAT_*``, then
    ``FIFTYONE_CVAT_*``), then annoflow's or FiftyOne's config file, then a prompt on a
    terminal. Nothing is sent until the first request, which logs in.

    Args:
        url: CVAT's address (default: ``https://app.cvat.ai``); user info in it is taken as the
            username and password, and never recorded or shown.
        username: the CVAT user.
        password: the user's password (never logged or shown).
        email: the user's email, instead of the username.
        headers: extra HTTP headers for every request (their values are never shown).
        organization: the CVAT organization to send requests in.
        connect_timeout: seconds to wait for a connection (else the environment or config file; 10).
        read_timeout: seconds to wait for each read or write on the connection (60).
        request_deadline: seconds one whole HTTP exchange may take (600).
        retry: which failures are retried and how long to wait (default: ``RetryPolicy()``).
        wait_timeout: seconds to wait for CVAT to process a task's data.
        poll_interval: seconds between two looks at a task's data processing.
        transport: the httpx transport under the retries (tests and proxies).
        open_url: how ``launch_editor()`` opens a URL (default: the web browser).

    Returns:
        The API wrapper; use it as a context manager to close its connections.

    Raises:
        CredentialsError: no credentials were given or found, and no terminal to ask on.
        CVATSettingsError: a setting that cannot work (a bound that is not a positive number, ...).
    """
    connection = seal_credentials(
        {  # first: no frame holds a password in the clear
            "url": url,
            "username": username,
            "password": password,
            "email": email,
            "headers": headers,
            "organization": organization,
            "connect_timeout": connect_timeout,
            "read_timeout": read_timeout,
            "request_deadline": request_deadline,
        }
    )
    settings = resolve_settings(**{k: v for k, v in connection.items() if v is not None})
    client = CVATClient(
        settings, transport=transport, retry=retry, wait_timeout=wait_timeout, poll_interval=poll_interval
    )
    return CVATAnnotationAPI(client, open_url=open_url)

"""The public CVAT API wrapper that ``connect_to_api()`` returns (FiftyOne's CVAT guide, "Additional utilities")."""

from __future__ import annotations

import webbrowser
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import httpx

from annoflow.adapters.cvat.client import CVATClient
from annoflow.adapters.cvat.retry import RetryPolicy
from annoflow.adapters.cvat.secrets import Secret, seal_credentials
from annoflow.adapters.cvat.settings import resolve_settings


class CVATAPI:
    """A thin, safe wrapper around CVAT's REST API; a context manager that closes its connections."""

    def __init__(self, client: CVATClient, *, open_url: Callable[[str], Any] = webbrowser.open) -> None:
        self.client = client
        self._open_url = open_url

    def __repr__(self) -> str:
        return f"CVATAPI(base_url={self.base_url!r})"

    def __enter__(self) -> "CVATAPI":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
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
        return f"{self.tasks_url}/{task_id}"

    def project_url(self, project_id: int) -> str:
        return f"{self.projects_url}/{project_id}"

    def task_annotation_url(self, task_id: int) -> str:
        return f"{self.task_url(task_id)}/annotations"

    def taskless_job_url(self, job_id: int) -> str:
        """Where a person opens a job in CVAT's UI."""
        return f"{self.base_url}/jobs/{job_id}"

    # --- raw requests (authenticated, retried, errors typed) -------------------------------

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.client.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.client.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.client.request("PUT", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.client.request("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.client.request("DELETE", url, **kwargs)

    # --- conveniences the examples of FiftyOne's CVAT guide use -----------------------------------------------

    def launch_editor(self, url: str | None = None) -> None:
        self._open_url(url or self.base_url)

    def get_user_id(self, username: str) -> int:
        return self.client.user_id(username)

    def get_project_id(self, project_name: str) -> int | None:
        project = self.client.find_project(project_name)
        return project["id"] if project else None

    def get_project_ids(self, project_names: Iterable[str] | None = None) -> list[int]:
        if project_names is None:
            return [p["id"] for p in self.client.paginate("/api/projects")]
        return [pid for name in project_names if (pid := self.get_project_id(name)) is not None]

    def get_task_ids(self, project_id: int | None = None) -> list[int]:
        return [t["id"] for t in self.client.paginate("/api/tasks", project_id=project_id)]

    def task_exists(self, task_id: int) -> bool:
        return self.client.request("GET", f"/api/tasks/{task_id}", expect=(404,)).status_code != 404

    def project_exists(self, project_id: int) -> bool:
        return self.client.request("GET", f"/api/projects/{project_id}", expect=(404,)).status_code != 404

    def delete_task(self, task_id: int) -> None:
        self.client.delete_task(task_id)

    def delete_tasks(self, task_ids: Iterable[int]) -> None:
        for task_id in task_ids:
            self.client.delete_task(task_id)

    def delete_project(self, project_id: int) -> None:
        self.client.delete_project(project_id)

    def delete_projects(self, project_ids: Iterable[int]) -> None:
        for project_id in project_ids:
            self.client.delete_project(project_id)


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
    open_url: Callable[[str], Any] = webbrowser.open,
) -> CVATAPI:
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
    connection = seal_credentials({  # first: no frame holds a password in the clear
        "url": url, "username": username, "password": password, "email": email, "headers": headers,
        "organization": organization, "connect_timeout": connect_timeout, "read_timeout": read_timeout,
        "request_deadline": request_deadline})
    settings = resolve_settings(**{k: v for k, v in connection.items() if v is not None})
    client = CVATClient(settings, transport=transport, retry=retry, wait_timeout=wait_timeout,
                        poll_interval=poll_interval)
    return CVATAPI(client, open_url=open_url)

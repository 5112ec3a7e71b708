"""A task's annotations as CVAT's server exports them, fetched as CVAT 2.52 serves them, for
``annoflow import --from-export``.

``POST /api/tasks/{id}/dataset/export?format=...&save_images=false`` starts the export (202 and a
request id); ``GET /api/requests/{rq_id}`` is asked until the request is finished (or failed, or
the client's ``wait_timeout`` runs out); its ``result_url`` is then downloaded: a ZIP holding
``annotations.xml``. What the server sends is not trusted: the result is fetched from the
server annoflow talks to, whatever host ``result_url`` names (only its path and query are taken),
the download is streamed to a file and refused past ``max_bytes``, and only the archive's
``annotations.xml`` is read, copied out with the same bound whatever size the archive claims for
it (a ZIP bomb stops at the bound), never extracted by the names the archive gives.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from annoflow.adapters.cvat.client import CVATClient
from annoflow.adapters.cvat.errors import CVATAnswerError, error_for
from annoflow.adapters.cvat_xml.reader import MAX_BYTES

if TYPE_CHECKING:
    from annoflow.adapters.cvat_xml.importing import XmlImportSummary
    from annoflow.application.dataset import Dataset

logger = logging.getLogger(__name__)
IMAGES, VIDEO = "CVAT for images 1.1", "CVAT for video 1.1"


def format_of(client: CVATClient, task_id: int) -> str:
    """The format CVAT exports the task in: video tasks (mode interpolation) as video, others as images."""
    return VIDEO if client.task(task_id).get("mode") == "interpolation" else IMAGES


def _wait(client: CVATClient, task_id: int, rq_id: str) -> str:
    """The finished request's result URL."""
    record = client.wait_for_request(rq_id, f"the export of task {task_id}")
    result = record.get("result_url")
    if not isinstance(result, str) or not result:
        raise CVATAnswerError(
            f"CVAT finished exporting task {task_id} but gave no result_url",
            method="GET",
            url=f"{client.settings.base_url}/api/requests/{rq_id}",
        )
    return result


def _download(client: CVATClient, url: str, target: Path, max_bytes: int) -> None:
    parts = urlsplit(url)
    local = parts.path + (f"?{parts.query}" if parts.query else "")  # this server, whatever host it names
    if not local.startswith("/api/"):
        raise CVATAnswerError(
            f"CVAT's export result_url is not an API path: {parts.path[:80]!r}", method="GET", url=url
        )
    written = 0
    with client.http.stream("GET", local) as response:
        if not response.is_success:
            raise error_for(response.status_code, response.read()[:4096], "GET", client.settings.base_url + parts.path)
        with open(target, "wb") as file:
            for chunk in response.iter_bytes():
                written += len(chunk)
                if written > max_bytes:
                    raise CVATAnswerError(
                        f"CVAT's export of {parts.path} is more than {max_bytes:,} bytes: refused "
                        "(pass max_bytes= to take a larger one)",
                        method="GET",
                        url=client.settings.base_url + parts.path,
                    )
                file.write(chunk)


def _annotations_xml(archive: Path, target: Path, max_bytes: int) -> None:
    try:
        with zipfile.ZipFile(archive) as zipped:
            try:
                member = zipped.getinfo("annotations.xml")
            except KeyError:
                raise CVATAnswerError(
                    f"CVAT's export holds no annotations.xml ({len(zipped.infolist())} files)",
                    method="GET",
                    url=str(archive),
                ) from None
            copied = 0
            with zipped.open(member) as source, open(target, "wb") as out:
                while chunk := source.read(1 << 20):
                    copied += len(chunk)
                    if copied > max_bytes:
                        raise CVATAnswerError(
                            f"the export's annotations.xml is more than {max_bytes:,} bytes: refused",
                            method="GET",
                            url=str(archive),
                        )
                    out.write(chunk)
    except zipfile.BadZipFile as error:
        raise CVATAnswerError(f"CVAT's export is not a ZIP archive: {error}", method="GET", url=str(archive)) from None


def fetch_export(
    client: CVATClient,
    task_id: int,
    folder: str | os.PathLike[str],
    *,
    fmt: str | None = None,
    max_bytes: int = MAX_BYTES,
) -> Path:
    """Ask the server to export ``task_id``'s annotations and write its annotations.xml into
    ``folder`` as ``task_<id>.xml``; returns that file."""
    fmt = fmt or format_of(client, task_id)
    answer = client.request(
        "POST", f"/api/tasks/{task_id}/dataset/export", params={"format": fmt, "save_images": "false"}
    )
    body = client.json(answer)
    rq_id = body.get("rq_id") if isinstance(body, dict) else None
    if not isinstance(rq_id, str) or not rq_id:
        raise CVATAnswerError(
            f"CVAT's answer to exporting task {task_id} carries no rq_id",
            method="POST",
            url=f"{client.settings.base_url}/api/tasks/{task_id}/dataset/export",
        )
    logger.info("task %d: CVAT exports it as %r (request %s)", task_id, fmt, rq_id)
    result = _wait(client, task_id, rq_id)
    target = Path(folder) / f"task_{task_id}.xml"
    with tempfile.TemporaryDirectory(dir=folder, prefix=".annoflow-export-") as scratch:
        archive = Path(scratch) / "export.zip"
        _download(client, result, archive, max_bytes)
        _annotations_xml(archive, Path(scratch) / "annotations.xml", max_bytes)
        shutil.move(str(Path(scratch) / "annotations.xml"), target)
    return target


def import_from_exports(
    dataset: Dataset,
    client: CVATClient,
    task_ids: list[int],
    data_path: Any,
    *,
    download_media: bool = False,
    max_bytes: int = MAX_BYTES,
    **options: Any,
) -> list[XmlImportSummary]:
    """Each task's export, as the server makes it, imported with `import_cvat_xml`: its media in
    ``data_path`` (a folder, or a dict of the tasks' frame names -> local paths; with ``download_media``,
    a folder each image task's frames are downloaded into first, under names that cannot leave it).
    ``options`` go to `import_cvat_xml` (``label_types``, ``occluded_attr``, ...). Returns each task's
    import summary."""
    from annoflow.adapters.cvat_backend.importing import download_media as download
    from annoflow.adapters.cvat_backend.importing import media_names
    from annoflow.adapters.cvat_xml.importing import import_cvat_xml

    formats = {task_id: format_of(client, task_id) for task_id in task_ids}  # every task found before a write
    if download_media and not isinstance(data_path, (str, os.PathLike)):
        raise ValueError("download_media=True needs data_path: the folder the media are downloaded into")
    if isinstance(data_path, (str, os.PathLike)):
        os.makedirs(data_path, exist_ok=True)
    summaries = []
    with tempfile.TemporaryDirectory(prefix="annoflow-exports-") as scratch:
        for task_id in task_ids:
            media: object = os.fspath(data_path) if isinstance(data_path, (str, os.PathLike)) else data_path
            if download_media:
                if formats[task_id] == VIDEO:
                    raise ValueError(
                        f"task {task_id} is a video task: download_media takes image tasks; put the video in data_path"
                    )
                paths = download(client, [task_id], os.fspath(data_path))[task_id]
                media = dict(zip(media_names(client, task_id), paths, strict=True))
            xml = fetch_export(client, task_id, scratch, fmt=formats[task_id], max_bytes=max_bytes)
            summaries.append(import_cvat_xml(dataset, xml, media, max_bytes=max_bytes, **options))
    return summaries

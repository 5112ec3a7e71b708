"""The wiring of defaults: which run registry and label store a user gets without asking.

Embedded defaults: a SQLite event store for runs and a SQLite label store,
both in the user's data dir (``ANNOFLOW_DATA_DIR`` overrides it). Teams point
the registry at PostgreSQL through eventsourcing's variables, e.g.
``PERSISTENCE_MODULE=eventsourcing.postgres POSTGRES_DBNAME=... POSTGRES_HOST=...``;
the choice is made by environment, never by import.

How long a write waits for another writer to release a SQLite file (the busy
timeout, 30 s): ``busy_timeout=`` of `open_dataset` (and of `open_label_store`,
`open_registry`), else ``ANNOFLOW_BUSY_TIMEOUT`` (seconds), else 30. For
runs.sqlite eventsourcing's own ``SQLITE_LOCK_TIMEOUT``, when set, comes before
``ANNOFLOW_BUSY_TIMEOUT``, and the wait is whole seconds (eventsourcing takes an
integer), rounded up. Past it a write raises `LabelStoreLockedError` or
`RunRegistryLockedError`, naming the file; nothing was written.
"""

from __future__ import annotations

import logging
import math
import os
import webbrowser
from collections.abc import Mapping
from pathlib import Path

import platformdirs

from annoflow.adapters.cvat_backend import CVATBackend
from annoflow.adapters.progress import progress_for
from annoflow.application.dataset import Dataset
from annoflow.application.ports.annotation_backend import AnnotationBackend
from annoflow.application.ports.label_store import LabelStore
from annoflow.application.runs.registry import RunRegistry

BUSY_TIMEOUT = 30.0  # seconds
logger = logging.getLogger(__name__)
PERSISTENCE_VARIABLES = ("PERSISTENCE_MODULE", f"{RunRegistry.name.upper()}_PERSISTENCE_MODULE")


def data_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    path = Path(env.get("ANNOFLOW_DATA_DIR") or platformdirs.user_data_path("annoflow"))
    if not path.is_dir():
        logger.info("making the data dir %s", path)
    path.mkdir(parents=True, exist_ok=True)
    return path


def busy_seconds(env: Mapping[str, str] | None = None, given: float | None = None) -> float:
    """Seconds a write waits for another writer: ``given``, else ``ANNOFLOW_BUSY_TIMEOUT``, else 30."""
    env = os.environ if env is None else env
    value: object = given if given is not None else env.get("ANNOFLOW_BUSY_TIMEOUT") or BUSY_TIMEOUT
    name = "busy_timeout" if given is not None else "ANNOFLOW_BUSY_TIMEOUT"
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        seconds = math.nan
    if isinstance(value, bool) or not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
    return seconds


def registry_env(env: Mapping[str, str] | None = None, busy: float | None = None) -> dict[str, str]:
    """eventsourcing's environment for the run registry, with the embedded default filled in."""
    env = dict(os.environ if env is None else env)
    if not any(env.get(name) for name in PERSISTENCE_VARIABLES):
        env["PERSISTENCE_MODULE"] = "eventsourcing.sqlite"
        env.setdefault("SQLITE_DBNAME", str(data_dir(env) / "runs.sqlite"))
    if busy is not None or not env.get("SQLITE_LOCK_TIMEOUT"):
        env["SQLITE_LOCK_TIMEOUT"] = str(math.ceil(busy_seconds(env, busy)))
    return env


def open_registry(env: Mapping[str, str] | None = None, *, busy_timeout: float | None = None) -> RunRegistry:
    return RunRegistry(env=registry_env(env, busy_timeout))


def open_label_store(name: str, env: Mapping[str, str] | None = None, *, busy_timeout: float | None = None) -> LabelStore:
    from annoflow.adapters.label_stores.sqlite import SqliteLabelStore

    return SqliteLabelStore(data_dir(env) / "datasets.sqlite", name=name, busy_timeout=busy_seconds(env, busy_timeout))


def list_datasets(env: Mapping[str, str] | None = None) -> list[str]:
    """The datasets in the data dir's label store (FiftyOne's ``fo.list_datasets()``).

    Args:
        env: the environment to read ``ANNOFLOW_DATA_DIR`` from (default: ``os.environ``).

    Returns:
        Their names, sorted: those with samples or declared fields.
    """
    from annoflow.adapters.label_stores.sqlite import dataset_names

    return dataset_names(data_dir(env) / "datasets.sqlite")


def open_dataset(
    name: str,
    *,
    store: LabelStore | None = None,
    registry: RunRegistry | None = None,
    env: Mapping[str, str] | None = None,
    busy_timeout: float | None = None,
) -> Dataset:
    """Open (or start) the named dataset: on the embedded defaults, or on the store and registry given.

    Args:
        name: the dataset's name; a name the store does not hold yet starts an empty dataset.
        store: the label store to use (default: the SQLite file in the data dir).
        registry: the run registry to use (default: from the environment, see the module docstring).
        env: the environment to read ``ANNOFLOW_DATA_DIR`` and eventsourcing's variables from
            (default: ``os.environ``).
        busy_timeout: seconds to wait for a SQLite file another writer holds (default:
            ``ANNOFLOW_BUSY_TIMEOUT``, else 30), after which a typed error names the file.

    Returns:
        The dataset, with the CVAT backend configured as ``"cvat"`` and tqdm progress bars.
    """
    return Dataset(store or open_label_store(name, env, busy_timeout=busy_timeout),
                   registry or open_registry(env, busy_timeout=busy_timeout), default_backends(),
                   open_url=webbrowser.open, progress=progress_for)


def default_backends() -> dict[str, AnnotationBackend]:
    return {"cvat": CVATBackend()}

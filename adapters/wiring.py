"""The wiring of defaults: which run registry and label store a user gets without asking.

SQLite for both, in the user's data dir, unless the environment chooses otherwise
(docs/configuration.md lists the variables).
"""

from __future__ import annotations

import logging
import math
import os
import time
import webbrowser
from collections.abc import Mapping
from pathlib import Path

import platformdirs
from eventsourcing.persistence import PersistenceError

from annoflow.adapters.cvat_backend import CVATBackend
from annoflow.adapters.datasets import Dataset
from annoflow.adapters.export_formats import CVAT_XML
from annoflow.adapters.progress import progress_for
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


# What PostgreSQL answers one of two processes that create a new registry's tables at once
# (eventsourcing's CREATE ... IF NOT EXISTS is not safe against a concurrent one).
_CONCURRENT_CREATE = ("tuple concurrently updated", "duplicate key value violates unique constraint", "already exists")
_OPEN_TRIES = 5


def open_registry(env: Mapping[str, str] | None = None, *, busy_timeout: float | None = None) -> RunRegistry:
    settings = registry_env(env, busy_timeout)
    for attempt in range(1, _OPEN_TRIES):
        try:
            return RunRegistry(env=settings)
        except PersistenceError as error:
            # Two machines opening a new team registry at once: the other one's tables now exist, so open again.
            if not any(text in str(error) for text in _CONCURRENT_CREATE):
                raise
            logger.info("another process was creating the run registry's tables; opening it again")
            time.sleep(0.05 * attempt)
    return RunRegistry(env=settings)


LABEL_STORES = ("sqlite", "postgres", "fiftyone")
_POSTGRES_PARTS = {
    "dbname": "POSTGRES_DBNAME",
    "host": "POSTGRES_HOST",
    "port": "POSTGRES_PORT",
    "user": "POSTGRES_USER",
    "password": "POSTGRES_PASSWORD",
}


def label_store_kind(env: Mapping[str, str] | None = None) -> str:
    """Which label store the environment chooses: ``ANNOFLOW_LABEL_STORE``, else ``sqlite``."""
    env = os.environ if env is None else env
    kind = (env.get("ANNOFLOW_LABEL_STORE") or "sqlite").strip().lower()
    if kind not in LABEL_STORES:
        raise ValueError(f"ANNOFLOW_LABEL_STORE must be one of {', '.join(LABEL_STORES)}, got {kind!r}")
    return kind


def postgres_conninfo(env: Mapping[str, str] | None = None) -> str:
    """The label store's PostgreSQL connection string: ``ANNOFLOW_POSTGRES_DSN``, else the ``POSTGRES_*`` variables."""
    from psycopg.conninfo import make_conninfo

    env = os.environ if env is None else env
    if env.get("ANNOFLOW_POSTGRES_DSN"):
        return make_conninfo(env["ANNOFLOW_POSTGRES_DSN"])
    if not env.get("POSTGRES_DBNAME"):
        raise ValueError(
            "ANNOFLOW_LABEL_STORE=postgres needs ANNOFLOW_POSTGRES_DSN or POSTGRES_DBNAME "
            "(with POSTGRES_HOST, POSTGRES_PORT, POSTGRES_USER, POSTGRES_PASSWORD as needed)"
        )
    # An empty password means none (eventsourcing's variables are often set empty).
    return make_conninfo(**{part: env[name] for part, name in _POSTGRES_PARTS.items() if env.get(name)})


def postgres_schema(env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    return env.get("ANNOFLOW_POSTGRES_SCHEMA") or "annoflow"


def _store_spec(spec: str) -> tuple[str, str | None]:
    """("postgres", None), ("fiftyone", None), ("sqlite", None) for the data dir's file, or ("sqlite", PATH)
    from ``sqlite:PATH``."""
    kind, _, path = spec.partition(":")
    if kind in ("postgres", "fiftyone") and not path:
        return kind, None
    if kind == "sqlite":
        return kind, path or None
    raise ValueError(f"a label store is fiftyone, postgres, sqlite or sqlite:PATH, got {spec!r}")


def open_store_at(
    spec: str, name: str, env: Mapping[str, str] | None = None, *, busy_timeout: float | None = None
) -> LabelStore:
    """The named dataset in the store ``spec`` names: ``postgres`` (the environment's server),
    ``sqlite`` (the data dir's file) or ``sqlite:PATH``."""
    kind, path = _store_spec(spec)
    if kind == "postgres":
        from annoflow.adapters.label_stores.postgres import PostgresLabelStore

        return PostgresLabelStore(postgres_conninfo(env), name=name, schema=postgres_schema(env))
    if kind == "fiftyone":
        from annoflow.adapters.label_stores.fiftyone_store import open_fiftyone_dataset

        return open_fiftyone_dataset(name)
    from annoflow.adapters.label_stores.sqlite import SqliteLabelStore

    file = Path(path) if path else data_dir(env) / "datasets.sqlite"
    return SqliteLabelStore(file, name=name, busy_timeout=busy_seconds(env, busy_timeout))


def open_label_store(
    name: str, env: Mapping[str, str] | None = None, *, busy_timeout: float | None = None
) -> LabelStore:
    """The named dataset's label store, of the kind the environment chooses (see the module docstring)."""
    return open_store_at(label_store_kind(env), name, env, busy_timeout=busy_timeout)


def label_store_location(env: Mapping[str, str] | None = None, spec: str | None = None) -> str:
    """Where a label store (``spec`` as `open_store_at` takes it; default: the environment's) keeps its
    datasets, for messages (never with a password)."""
    kind, path = _store_spec(spec or label_store_kind(env))
    if kind == "fiftyone":
        return "FiftyOne's database"
    if kind == "postgres":
        from annoflow.adapters.label_stores.postgres import where

        return f"schema {postgres_schema(env)} on {where(postgres_conninfo(env))}"
    return str(Path(path) if path else data_dir(env) / "datasets.sqlite")


def list_datasets(env: Mapping[str, str] | None = None) -> list[str]:
    """The datasets in the environment's label store (FiftyOne's ``fo.list_datasets()``).

    Args:
        env: the environment to read ``ANNOFLOW_DATA_DIR`` (or ``ANNOFLOW_LABEL_STORE`` and the
            PostgreSQL variables) from (default: ``os.environ``).

    Returns:
        Their names, sorted: those with samples or declared fields.
    """
    if label_store_kind(env) == "fiftyone":
        from annoflow.adapters.label_stores.fiftyone_store import fiftyone_dataset_names

        return fiftyone_dataset_names()
    if label_store_kind(env) == "postgres":
        from annoflow.adapters.label_stores.postgres import dataset_names as postgres_names

        return postgres_names(postgres_conninfo(env), postgres_schema(env))
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
        store: the label store to use (default: the environment's, see the module docstring: the
            SQLite file in the data dir unless ``ANNOFLOW_LABEL_STORE=postgres``).
        registry: the run registry to use (default: from the environment, see the module docstring).
        env: the environment to read ``ANNOFLOW_DATA_DIR``, ``ANNOFLOW_LABEL_STORE`` and the
            PostgreSQL and eventsourcing variables from (default: ``os.environ``).
        busy_timeout: seconds to wait for a SQLite file another writer holds (default:
            ``ANNOFLOW_BUSY_TIMEOUT``, else 30), after which a typed error names the file.

    Returns:
        The dataset, with the CVAT backend configured as ``"cvat"`` and tqdm progress bars.
    """
    # `is None`, not `or`: an empty store is falsy (it has a length), and is the one given all the same.
    return Dataset(
        store if store is not None else open_label_store(name, env, busy_timeout=busy_timeout),
        registry if registry is not None else open_registry(env, busy_timeout=busy_timeout),
        default_backends(),
        open_url=webbrowser.open,
        progress=progress_for,
        exporters=CVAT_XML,
        open_store=lambda other: open_label_store(other, env, busy_timeout=busy_timeout),
    )


def default_backends() -> dict[str, AnnotationBackend]:
    return {"cvat": CVATBackend()}

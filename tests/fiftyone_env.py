"""FiftyOne for the tests: its own MongoDB in a temporary folder, nothing sent home.

FiftyOne reads its settings from the environment when first imported, so this plugin sets
them when pytest starts: ``FIFTYONE_DATABASE_DIR`` (a folder of the session's, where FiftyOne starts its own
``mongod``), ``FIFTYONE_DO_NOT_TRACK``, a config path that does not exist (a developer's
``~/.fiftyone/config.json`` is not read) and no ``FIFTYONE_DATABASE_URI`` (a developer's server
is never touched). Tests that need FiftyOne take the ``fiftyone`` fixture, which starts its database.

Without FiftyOne installed (the ``fiftyone`` extra) the tests that need it are skipped, except
under CI (``CI`` or ``ANNOFLOW_REQUIRE_FIFTYONE=1``, set by .ci/run), where that fails them.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path
from types import ModuleType

import pytest

SETTINGS = {"FIFTYONE_DO_NOT_TRACK": "true", "FIFTYONE_DATABASE_VALIDATION": "false"}
_OWN_DATABASE = pytest.StashKey[bool]()
_HOME_PREFIX = "annoflow-fiftyone-"


def fiftyone_required() -> bool:
    return os.environ.get("ANNOFLOW_REQUIRE_FIFTYONE") == "1" or os.environ.get("CI", "").lower() in ("1", "true")


@pytest.hookimpl(trylast=True)  # after pytest's tmpdir plugin has made its folder factory
def pytest_configure(config: pytest.Config) -> None:
    """FiftyOne's settings, before any test module can import FiftyOne (test_errors.py imports every
    module of annoflow's, annoflow.fiftyone among them)."""
    if "fiftyone" in sys.modules:  # imported before the tests began (by a plugin): it read its settings
        return
    config.stash[_OWN_DATABASE] = True
    home = _database_home()
    os.environ.update(SETTINGS)
    os.environ["FIFTYONE_DATABASE_DIR"] = str(home / "db")
    os.environ["FIFTYONE_CONFIG_PATH"] = str(home / "config.json")
    os.environ.pop("FIFTYONE_DATABASE_URI", None)
    # Set by a FiftyOne process for its children: the tests start their own database.
    os.environ.pop("FIFTYONE_PRIVATE_DATABASE_PORT", None)


def _database_home() -> Path:
    """A folder of this session's for FiftyOne's database, named by its process id.

    Not under pytest's temporary folder: pytest prunes old session folders when a session starts,
    and with several sessions at once (a developer's and CI's) one pruned another's database from
    under its mongod. Nor removed at the end: FiftyOne's mongod stops only after pytest exits. Folders
    of sessions whose process is gone are removed instead, when the next session starts."""
    root = Path(tempfile.gettempdir())
    for old in root.glob(f"{_HOME_PREFIX}*"):
        pid = old.name.removeprefix(_HOME_PREFIX)
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(old, ignore_errors=True)
    home = root / f"{_HOME_PREFIX}{os.getpid()}"
    shutil.rmtree(home, ignore_errors=True)  # a reused process id's leftovers
    home.mkdir()
    return home


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


@pytest.fixture(scope="session")
def fiftyone(request: pytest.FixtureRequest) -> ModuleType:
    """The ``fiftyone`` module, on a database of the session's own."""
    if importlib.util.find_spec("fiftyone") is None:
        if fiftyone_required():
            pytest.fail("FiftyOne is not installed: pip install -e '.[fiftyone]'")
        pytest.skip("FiftyOne is not installed (the fiftyone extra): pip install -e '.[fiftyone]'")
    if not request.config.stash.get(_OWN_DATABASE, False):
        pytest.fail(
            "FiftyOne was imported before the tests began, with its own settings: its tests would "
            "use a developer's database; run pytest without the plugin that imports it"
        )
    fiftyone = importlib.import_module("fiftyone")
    _connect(fiftyone)
    return fiftyone


def _connect(fiftyone: ModuleType, tries: int = 3) -> None:
    """Start FiftyOne's mongod and connect. On a busy machine its first start has once been seen to miss
    FiftyOne's 30 s wait: that start is abandoned and another made, up to ``tries`` in all."""
    from fiftyone.core.odm import database

    for attempt in range(1, tries + 1):
        try:
            fiftyone.list_datasets()
            return
        except ConnectionError:
            if attempt == tries:
                raise
            logging.getLogger(__name__).warning(
                "FiftyOne's mongod did not answer (try %d of %d); starting another", attempt, tries
            )
            if database._db_service is not None:
                database._db_service.stop()
            database._client = database._db_service = None
            os.environ.pop("FIFTYONE_PRIVATE_DATABASE_PORT", None)


@pytest.fixture
def fo_dataset(fiftyone):
    """A new, non-persistent FiftyOne dataset, deleted after the test."""
    dataset = fiftyone.Dataset()
    yield dataset
    if not dataset.deleted:
        dataset.delete()

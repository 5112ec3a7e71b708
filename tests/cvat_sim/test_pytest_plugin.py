"""The simulator's fixtures reach any test suite through pytest's `pytest11` entry point.

A user's suite outside this repository, with no conftest and no import of annoflow's test
helpers, gets `cvat_sim`, `cvat_sim_unchecked` and `cvat_schema` from the installed package alone.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

USERS_SUITE = """
import httpx


def test_a_validated_simulator(cvat_sim, cvat_schema):
    answer = httpx.post(cvat_sim.url + "/api/auth/login", json={"username": "annotator", "password": "annotator-pw"})
    assert answer.status_code == 200 and answer.json()["key"]
    assert cvat_sim.url.startswith("http://127.0.0.1:")


def test_an_unchecked_simulator(cvat_sim_unchecked):
    answer = httpx.post(cvat_sim_unchecked.url + "/api/auth/login", json={"username": "annotator", "password": "wrong"})
    assert answer.status_code == 400
"""


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    # The user's environment: this repository is not on the path, only what the venv installed.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTEST_ADDOPTS", "PYTEST_PLUGINS")}
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_a_users_suite_outside_the_repository_gets_the_fixtures(tmp_path):
    assert ROOT not in tmp_path.parents
    (tmp_path / "test_users_suite.py").write_text(USERS_SUITE)
    run = _run(["-m", "pytest", "-q", "-p", "no:cacheprovider", "test_users_suite.py"], tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "2 passed" in run.stdout


def test_a_conftest_naming_the_module_in_pytest_plugins_still_works(tmp_path):
    # The way the fixtures were enabled before the entry point: it must not register them twice.
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["annoflow.adapters.cvat_sim.testing"]\n')
    (tmp_path / "test_users_suite.py").write_text(USERS_SUITE)
    run = _run(["-m", "pytest", "-q", "-p", "no:cacheprovider", "test_users_suite.py"], tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "2 passed" in run.stdout


def test_the_plugin_can_be_turned_off(tmp_path):
    (tmp_path / "test_users_suite.py").write_text(USERS_SUITE)
    run = _run(
        [
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:annoflow.adapters.cvat_sim.testing",
            "test_users_suite.py",
        ],
        tmp_path,
    )
    assert run.returncode != 0
    assert "fixture 'cvat_sim' not found" in run.stdout


def test_loading_the_plugin_imports_no_simulator(tmp_path):
    # pytest loads it in every environment annoflow is installed in, the sim extra or not.
    code = "import sys, annoflow.adapters.cvat_sim.testing; print(sorted(m for m in ('starlette', 'uvicorn', 'openapi_core') if m in sys.modules))"
    run = _run(["-c", code], tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


def test_the_entry_point_is_declared():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["entry-points"]["pytest11"] == {
        "annoflow.adapters.cvat_sim.testing": "annoflow.adapters.cvat_sim.testing"
    }

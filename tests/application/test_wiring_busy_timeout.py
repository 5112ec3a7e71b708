"""The busy timeout of the embedded SQLite files: the wiring's parameter, ANNOFLOW_BUSY_TIMEOUT, or 30 s."""

from __future__ import annotations

import pytest

from annoflow.adapters import wiring


@pytest.fixture
def env(tmp_path):
    return {"ANNOFLOW_DATA_DIR": str(tmp_path / "data")}


def _waits(dataset) -> tuple[float, str | None]:
    return dataset.store.busy_timeout, dataset.registry.env.get("SQLITE_LOCK_TIMEOUT")


def test_thirty_seconds_by_default(env):
    assert _waits(wiring.open_dataset("ds", env=env)) == (30.0, "30")


def test_the_environment_sets_it_and_runs_wait_whole_seconds(env):
    env["ANNOFLOW_BUSY_TIMEOUT"] = "2.5"
    assert _waits(wiring.open_dataset("ds", env=env)) == (2.5, "3")


def test_the_parameter_beats_the_environment(env):
    env.update(ANNOFLOW_BUSY_TIMEOUT="2.5", SQLITE_LOCK_TIMEOUT="7")
    assert _waits(wiring.open_dataset("ds", env=env, busy_timeout=0.5)) == (0.5, "1")


def test_eventsourcings_own_variable_comes_before_ours_for_the_runs(env):
    env.update(ANNOFLOW_BUSY_TIMEOUT="2.5", SQLITE_LOCK_TIMEOUT="7")
    assert _waits(wiring.open_dataset("ds", env=env)) == (2.5, "7")


@pytest.mark.parametrize("value", ["0", "-3", "soon", "nan"])
def test_a_wait_that_cannot_work_is_refused_by_name(env, value):
    env["ANNOFLOW_BUSY_TIMEOUT"] = value
    with pytest.raises(ValueError, match=f"ANNOFLOW_BUSY_TIMEOUT must be a positive number of seconds, got '{value}'"):
        wiring.open_dataset("ds", env=env)
    with pytest.raises(ValueError, match="busy_timeout must be a positive number of seconds, got 0"):
        wiring.open_dataset("ds", env={"ANNOFLOW_DATA_DIR": env["ANNOFLOW_DATA_DIR"]}, busy_timeout=0)

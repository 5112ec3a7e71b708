"""The request bounds come from kwargs, annoflow's variables or annoflow's config file, and are checked."""

from __future__ import annotations

import json

import pytest

from annoflow.adapters.cvat import CVATSettingsError, Timeouts, resolve_settings


@pytest.fixture
def env(tmp_path):
    return {
        "ANNOFLOW_CONFIG": str(tmp_path / "annoflow.json"),
        "FIFTYONE_ANNOTATION_CONFIG_PATH": str(tmp_path / "annotation_config.json"),
        "FIFTYONE_CVAT_USERNAME": "u",
        "FIFTYONE_CVAT_PASSWORD": "p",
    }


def test_defaults(env):
    assert resolve_settings(env=env, interactive=False).timeouts == Timeouts(connect=10, read=60, deadline=600)


def test_kwargs_beat_our_variables_beat_our_file(env, tmp_path):
    (tmp_path / "annoflow.json").write_text(
        json.dumps({"cvat": {"connect_timeout": 3, "read_timeout": 4, "request_deadline": 5}})
    )
    assert resolve_settings(env=env, interactive=False).timeouts == Timeouts(connect=3, read=4, deadline=5)
    env.update(ANNOFLOW_CVAT_READ_TIMEOUT="7.5", ANNOFLOW_CVAT_REQUEST_DEADLINE="90")
    assert resolve_settings(env=env, interactive=False).timeouts == Timeouts(connect=3, read=7.5, deadline=90)
    settings = resolve_settings(env=env, interactive=False, connect_timeout=0.5, request_deadline=2)
    assert settings.timeouts == Timeouts(connect=0.5, read=7.5, deadline=2)


def test_fiftyone_names_no_bounds_so_its_sources_give_none(env, tmp_path):
    # FiftyOne's file and FIFTYONE_CVAT_* hold FiftyOne's settings only
    (tmp_path / "annotation_config.json").write_text(json.dumps({"backends": {"cvat": {"read_timeout": 1}}}))
    env["FIFTYONE_CVAT_REQUEST_DEADLINE"] = "1"
    assert resolve_settings(env=env, interactive=False).timeouts == Timeouts()


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "soon"])
def test_a_bound_that_cannot_work_is_refused_by_name(env, value):
    env["ANNOFLOW_CVAT_READ_TIMEOUT"] = value
    with pytest.raises(CVATSettingsError, match=f"read_timeout must be a positive number of seconds, got '{value}'"):
        resolve_settings(env=env, interactive=False)

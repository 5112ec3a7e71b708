"""Connection settings come from kwargs, the environment, config files or a prompt, in that order."""

from __future__ import annotations

import json

import pytest

from annoflow.adapters.cvat import CredentialsError, Secret, resolve_settings


@pytest.fixture
def files(tmp_path):
    ours = tmp_path / "annoflow.json"
    fiftyone = tmp_path / "annotation_config.json"
    env = {"ANNOFLOW_CONFIG": str(ours), "FIFTYONE_ANNOTATION_CONFIG_PATH": str(fiftyone)}
    return ours, fiftyone, env


def test_kwargs_beat_environment_beat_files(files):
    ours, fiftyone, env = files
    fiftyone.write_text(
        json.dumps(
            {
                "backends": {
                    "cvat": {
                        "url": "http://from-fiftyone-file",
                        "username": "f",
                        "password": "fp",
                        "headers": {"X-Proxy": "k"},
                    }
                }
            }
        )
    )
    settings = resolve_settings(env=env, interactive=False)
    assert (settings.url, settings.username, settings.password.reveal()) == ("http://from-fiftyone-file", "f", "fp")
    assert settings.header_dict() == {"X-Proxy": "k"}
    ours.write_text(json.dumps({"cvat": {"url": "http://from-our-file"}}))
    assert resolve_settings(env=env, interactive=False).url == "http://from-our-file"
    env.update(FIFTYONE_CVAT_URL="http://fiftyone-env", FIFTYONE_CVAT_USERNAME="e", FIFTYONE_CVAT_PASSWORD="ep")
    settings = resolve_settings(env=env, interactive=False)
    assert (settings.url, settings.username) == ("http://fiftyone-env", "e")
    env["ANNOFLOW_CVAT_URL"] = "http://our-env"
    assert resolve_settings(env=env, interactive=False).url == "http://our-env"
    settings = resolve_settings(
        env=env, interactive=False, url="http://kwarg", username="k", password="kp", organization="team"
    )
    assert (settings.url, settings.username, settings.password.reveal(), settings.organization) == (
        "http://kwarg",
        "k",
        "kp",
        "team",
    )


def test_default_url_and_email_login(files):
    _, _, env = files
    settings = resolve_settings(env=env, interactive=False, email="me@example.com", password="pw")
    assert settings.url == "https://app.cvat.ai" and settings.email == "me@example.com" and settings.username is None


def test_without_a_terminal_the_error_names_the_three_ways(files):
    _, _, env = files
    with pytest.raises(CredentialsError) as caught:
        resolve_settings(env=env, interactive=False, url="http://x")
    text = str(caught.value)
    assert "keyword arguments" in text and "FIFTYONE_CVAT_USERNAME" in text and "annotation_config.json" in text


def test_prompt_when_a_terminal_is_attached(files, capsys):
    _, _, env = files
    asked = []
    settings = resolve_settings(
        env=env,
        interactive=True,
        ask=lambda q: asked.append(q) or "alice",
        ask_secret=lambda q: asked.append(q) or "s3cret",
    )
    assert asked == ["Username: ", "Password: "] and settings.password.reveal() == "s3cret"
    assert "Please enter your login credentials." in capsys.readouterr().err


def test_secrets_never_show(files):
    _, _, env = files
    settings = resolve_settings(
        env=env, interactive=False, username="u", password="hunter2", headers={"Authorization": "Bearer tok"}
    )
    shown = repr(settings) + str(settings) + repr(settings.password) + str(Secret("hunter2"))
    assert "hunter2" not in shown and "tok" not in shown


def test_unknown_setting_and_bad_config(files):
    _, fiftyone, env = files
    with pytest.raises(TypeError, match="unknown CVAT connection settings"):
        resolve_settings(env=env, interactive=False, passwd="x")
    fiftyone.write_text("{not json")
    with pytest.raises(CredentialsError, match="cannot read CVAT settings from"):
        resolve_settings(env=env, interactive=False)

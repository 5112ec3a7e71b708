"""User info in a CVAT URL: taken out of the URL, used as its source's credentials, refused when the
same source disagrees; every credential a Secret from the moment it is read."""

from __future__ import annotations

import json
import re

import pytest

from annoflow.adapters.cvat import CredentialsError, CVATSettings, Secret, resolve_settings


@pytest.fixture
def env(tmp_path):
    return {
        "ANNOFLOW_CONFIG": str(tmp_path / "annoflow.json"),
        "FIFTYONE_ANNOTATION_CONFIG_PATH": str(tmp_path / "annotation_config.json"),
    }


def test_the_urls_user_info_logs_in_and_leaves_the_url(env):
    settings = resolve_settings(env=env, interactive=False, url="https://admin:pw@cvat.example:8443/sub?x=1")
    assert settings.url == "https://cvat.example:8443/sub?x=1"
    assert settings.username == "admin" and settings.password == Secret("pw")
    assert "pw" not in repr(settings)


def test_percent_encoded_user_info_is_decoded(env):
    settings = resolve_settings(env=env, interactive=False, url="http://me%40team.org:p%3Aw%40rd@cvat.example")
    assert (settings.url, settings.username, settings.password.reveal()) == (
        "http://cvat.example",
        "me@team.org",
        "p:w@rd",
    )


def test_a_user_name_alone_takes_the_password_from_elsewhere(env):
    env["FIFTYONE_CVAT_PASSWORD"] = "from-env"
    settings = resolve_settings(env=env, interactive=False, url="http://admin@cvat.example")
    assert (settings.url, settings.username, settings.password.reveal()) == ("http://cvat.example", "admin", "from-env")


@pytest.mark.parametrize("field, value", [("username", "bob"), ("password", "other")])
def test_the_same_source_giving_it_twice_differently_is_refused(env, field, value):
    with pytest.raises(CredentialsError) as caught:
        resolve_settings(env=env, interactive=False, url="http://admin:pw@cvat.example", **{field: value})
    message = str(caught.value)
    assert f"keyword arguments gives a {field} in the CVAT url and a different one as {field}" in message
    assert "pw" not in message.replace("password", "") and "admin" not in message and value not in message


def test_the_same_source_giving_it_twice_alike_is_fine(env):
    settings = resolve_settings(
        env=env, interactive=False, url="http://admin:pw@cvat.example", username="admin", password="pw"
    )
    assert (settings.url, settings.username, settings.password.reveal()) == ("http://cvat.example", "admin", "pw")


def test_each_source_keeps_its_rank(env, tmp_path):
    # the environment's URL carries credentials; keyword arguments name another user: they win, per setting
    env["FIFTYONE_CVAT_URL"] = "http://envuser:envpw@cvat.example"
    settings = resolve_settings(env=env, interactive=False, username="kwuser")
    assert (settings.url, settings.username, settings.password.reveal()) == ("http://cvat.example", "kwuser", "envpw")
    # a config file's URL with user info, and the environment giving the user: no disagreement, env wins
    del env["FIFTYONE_CVAT_URL"]
    (tmp_path / "annotation_config.json").write_text(
        json.dumps({"backends": {"cvat": {"url": "http://fu:fpw@file.example"}}})
    )
    env["FIFTYONE_CVAT_USERNAME"] = "envuser"
    settings = resolve_settings(env=env, interactive=False)
    assert (settings.url, settings.username, settings.password.reveal()) == ("http://file.example", "envuser", "fpw")
    # one config file disagreeing with itself is refused, naming the file
    (tmp_path / "annoflow.json").write_text(json.dumps({"cvat": {"url": "http://a:b@ours.example", "password": "c"}}))
    with pytest.raises(
        CredentialsError, match=re.escape("annoflow.json gives a password in the CVAT url and a different one")
    ):
        resolve_settings(env=env, interactive=False)


def test_settings_never_hold_a_url_with_user_info():
    with pytest.raises(CredentialsError, match="may not carry user info") as caught:
        CVATSettings(url="http://admin:pw@cvat.example")
    assert "admin:pw" not in str(caught.value)


def test_credentials_from_every_source_are_secrets(env, tmp_path):
    (tmp_path / "annoflow.json").write_text(json.dumps({"cvat": {"headers": {"X-Key": "hk"}}}))
    env.update(FIFTYONE_CVAT_USERNAME="u", FIFTYONE_CVAT_PASSWORD="pw")
    settings = resolve_settings(env=env, interactive=False)
    assert settings.password == Secret("pw") and settings.headers == (("X-Key", Secret("hk")),)
    prompted = resolve_settings(
        env={k: v for k, v in env.items() if "PASSWORD" not in k},
        interactive=True,
        ask=lambda q: "u",
        ask_secret=lambda q: "typed",
    )
    assert prompted.password == Secret("typed")

"""The service API seals credentials as they enter: named like one, header values, URLs with user info."""

from __future__ import annotations

from annoflow.application.secrets import Secret, seal_credentials


def test_credentials_are_sealed_and_the_rest_kept():
    sealed = seal_credentials(
        {
            "password": "pw",
            "api_token": "t",
            "headers": {"X-Key": "k", "X-Done": Secret("d")},
            "url": "http://u:pw@host",
            "bug_tracker": "https://u@bugs",
            "project_name": "Basic recipe",
            "plain_url": "http://host/a@b",
            "segment_size": 2,
            "email": None,
        }
    )
    assert sealed == {
        "password": Secret("pw"),
        "api_token": Secret("t"),
        "headers": {"X-Key": Secret("k"), "X-Done": Secret("d")},
        "url": Secret("http://u:pw@host"),
        "bug_tracker": Secret("https://u@bugs"),
        "project_name": "Basic recipe",
        "plain_url": "http://host/a@b",
        "segment_size": 2,
        "email": None,
    }
    assert seal_credentials(sealed) == sealed  # idempotent
    assert "pw" not in repr(sealed) and "http://u" not in repr(sealed)


def test_a_secret_never_shows_itself():
    secret = Secret("hunter2")
    assert repr(secret) == str(secret) == f"{secret}" == "Secret('********')"
    assert secret.reveal() == "hunter2" and secret and not Secret("")

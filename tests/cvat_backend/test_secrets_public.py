"""A password never shows itself: not in events, `runs info`, get_annotation_info(), errors, logs,
or a traceback formatted with its locals (what pytest -l, rich and Sentry show).

Through the public API (`open_dataset`: SQLite store and registry files, the default CVAT
backend) against the simulator, with a user whose password is a string nothing else contains.
"""

from __future__ import annotations

import logging
import traceback

import pytest

from annoflow.adapters import cli
from annoflow.adapters.cvat import CVATAuthError, CVATError, connect_to_api
from annoflow.adapters.quickstart import load_quickstart
from annoflow.adapters.wiring import open_dataset
from annoflow.application.ports.annotation_backend import BackendConfigError
from tests.hostile_servers import HostileServer

USER, PASSWORD = "keeper", "Kp-7f3a9c1e-never-shown"


@pytest.fixture
def keeper(cvat_sim):
    cvat_sim.state.add_user(USER, PASSWORD)
    return cvat_sim


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    path = tmp_path / "data"
    monkeypatch.setenv("ANNOFLOW_DATA_DIR", str(path))  # the command line opens the same files
    return path


@pytest.fixture
def public(data_dir, tmp_path):
    dataset = open_dataset("secrets", env={"ANNOFLOW_DATA_DIR": str(data_dir)})
    load_quickstart(dataset.store, tmp_path / "media", num_samples=3, image_size=(64, 48))
    yield dataset
    dataset.store.close()


def _with_userinfo(url: str, password: str = PASSWORD) -> str:
    return url.replace("http://", f"http://{USER}:{password}@")


def _stored_bytes(data_dir) -> bytes:
    return b"".join(path.read_bytes() for path in sorted(data_dir.iterdir()) if path.is_file())


def _traceback_with_locals(error: BaseException) -> str:
    return "".join(traceback.TracebackException.from_exception(error, capture_locals=True).format())


def test_a_password_in_the_url_logs_in_and_is_never_recorded_shown_or_logged(public, keeper, data_dir, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    results = public.annotate("run", label_field="ground_truth", url=_with_userinfo(keeper.url))
    assert results.task_ids
    public.load_annotations("run", url=_with_userinfo(keeper.url))
    info = public.get_annotation_info("run")
    assert info.config["url"] == keeper.url
    assert PASSWORD not in str(info) and PASSWORD not in repr(info)
    assert cli.main(["runs", "--dataset", "secrets", "info", "run"]) == 0
    shown = capsys.readouterr().out
    assert keeper.url in shown and PASSWORD not in shown
    assert PASSWORD.encode() not in _stored_bytes(data_dir)  # runs.sqlite (and its WAL) and datasets.sqlite
    logged = [record.getMessage() for record in caplog.records]
    assert any(f"{keeper.url}/api/auth/login" in line for line in logged), "httpx logs each request at INFO"
    assert not [line for line in logged if PASSWORD in line or f"{USER}:" in line]


def test_the_url_and_the_keyword_arguments_may_not_disagree(public, keeper):
    with pytest.raises(BackendConfigError) as caught:
        public.annotate(
            "run",
            label_field="ground_truth",
            url=_with_userinfo(keeper.url, "another-pw"),
            username=USER,
            password=PASSWORD,
        )
    message = str(caught.value)
    assert "keyword arguments gives a password in the CVAT url and a different one as password" in message
    assert PASSWORD not in message and "another-pw" not in message
    assert not public.list_annotation_runs()
    # the same credentials twice are no disagreement
    assert public.annotate(
        "run", label_field="ground_truth", url=_with_userinfo(keeper.url), username=USER, password=PASSWORD
    ).task_ids


def test_an_error_at_login_shows_the_password_nowhere(public, keeper, caplog):
    caplog.set_level(logging.DEBUG)
    with pytest.raises(CVATAuthError) as caught:
        public.annotate("run", label_field="ground_truth", url=keeper.url, username=USER, password=PASSWORD + "-wrong")
    text = _traceback_with_locals(caught.value)
    assert "login refused" in text and "Secret('********')" in text, "the locals are there, the password is not"
    assert PASSWORD not in text and PASSWORD not in str(caught.value)
    assert not [r for r in caplog.records if PASSWORD in r.getMessage()]


@pytest.mark.parametrize("kind", ["silent", "drip", "closing"])
@pytest.mark.parametrize("given", ["kwargs", "url", "environment"])
def test_a_failed_request_shows_the_password_nowhere(public, keeper, kind, given, monkeypatch, caplog):
    public.annotate("loaded", label_field="ground_truth", url=keeper.url, username=USER, password=PASSWORD)
    caplog.set_level(logging.DEBUG)
    texts = []
    with HostileServer(kind) as server:
        if given == "environment":
            monkeypatch.setenv("FIFTYONE_CVAT_USERNAME", USER)
            monkeypatch.setenv("FIFTYONE_CVAT_PASSWORD", PASSWORD)
        for call in (public.annotate, public.load_annotations):
            # built inline, never a local of this frame (the traceback starts here)
            with pytest.raises(CVATError) as caught:
                call(
                    "fresh" if call == public.annotate else "loaded",
                    read_timeout=0.5,
                    request_deadline=1.0,
                    **({"label_field": "ground_truth"} if call == public.annotate else {}),
                    **(
                        {"url": server.url}
                        if given == "environment"
                        else {"url": _with_userinfo(server.url)}
                        if given == "url"
                        else {"url": server.url, "username": USER, "password": PASSWORD, "headers": {"X-Key": PASSWORD}}
                    ),
                )
            texts.append(_traceback_with_locals(caught.value))
            del caught
    for text in texts:
        assert ("kwargs" in text and "Secret('********')" in text) or given == "environment", (
            "the frames' locals are there"
        )
        assert PASSWORD not in text and f"{USER}:" not in text
    assert not [r for r in caplog.records if PASSWORD in r.getMessage() or f"{USER}:" in r.getMessage()]


def test_connect_to_api_keeps_the_password_sealed_too(keeper):
    with HostileServer("silent") as server, connect_to_api(url=_with_userinfo(server.url), read_timeout=0.5) as api:
        assert api.base_url == server.url
        with pytest.raises(CVATError) as caught:
            api.get(api.tasks_url)
        text = _traceback_with_locals(caught.value)
    assert PASSWORD not in text and server.url in text

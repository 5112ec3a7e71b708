"""annotate() and load_annotations() end by their request bounds against a server that never finishes.

Through the public API: a dataset from `open_dataset` (SQLite store and registry, the default
CVAT backend), the bounds given as keyword arguments or ``ANNOFLOW_CVAT_*`` variables, short so
the tests stay fast. A failed call loses nothing: the same run then loads from the real server.
"""

from __future__ import annotations

import time

import pytest

from annoflow.adapters.cvat import CVATConnectionError, CVATError, CVATTimeoutError
from annoflow.adapters.quickstart import load_quickstart
from annoflow.adapters.wiring import open_dataset
from tests.cvat_backend.conftest import PASSWORD, USER
from tests.hostile_servers import HostileServer

CEILING = 10.0  # far above the bounds used here; a wait that ignores its bound fails the test

# server kind -> (bounds given, the bound the error must name)
CASES = {
    "silent": ({"read_timeout": 0.4, "request_deadline": CEILING}, "read_timeout"),
    "drip": ({"read_timeout": 1.0, "request_deadline": 1.5}, "request_deadline"),
    "full": ({"connect_timeout": 0.4, "request_deadline": CEILING}, "connect_timeout"),
    "closing": ({"request_deadline": CEILING}, None),
}


@pytest.fixture
def public(tmp_path):
    dataset = open_dataset("bounds", env={"ANNOFLOW_DATA_DIR": str(tmp_path / "data")})
    load_quickstart(dataset.store, tmp_path / "media", num_samples=3, image_size=(64, 48))
    yield dataset
    dataset.store.close()


def _fails(call) -> tuple[CVATError, float]:
    start = time.monotonic()
    with pytest.raises(CVATError) as caught:
        call()
    return caught.value, time.monotonic() - start


def _check(error: CVATError, took: float, server: HostileServer, bound: str | None) -> None:
    assert error.url == f"{server.url}/api/auth/login" and error.method == "POST"
    if bound is None:
        assert isinstance(error, CVATConnectionError)
    else:
        assert isinstance(error, CVATTimeoutError) and error.bound == bound and bound in str(error)
        assert error.seconds <= took
    assert took < CEILING


@pytest.mark.parametrize("kind", sorted(CASES))
def test_annotate_ends_by_its_bounds(public, kind):
    bounds, bound = CASES[kind]
    with HostileServer(kind) as server:
        error, took = _fails(
            lambda: public.annotate(
                "run", label_field="ground_truth", url=server.url, username=USER, password=PASSWORD, **bounds
            )
        )
    _check(error, took, server, bound)
    # nothing was made, so the key is free again; the attempt stays in the audit, without the bounds
    assert not public.has_annotation_run("run")
    (attempt,) = public.registry.run_ids("bounds", include_deleted=True)
    run = public.registry.get_run_by_id(attempt)
    assert run.is_deleted and run.tasks == {} and not set(bounds) & set(run.config)


@pytest.mark.parametrize("kind", sorted(CASES))
def test_load_annotations_ends_by_its_bounds_and_the_next_load_works(public, cvat_sim, kind):
    bounds, bound = CASES[kind]
    public.annotate("run", label_field="ground_truth", url=cvat_sim.url, username=USER, password=PASSWORD)
    with HostileServer(kind) as server:
        error, took = _fails(
            lambda: public.load_annotations("run", url=server.url, username=USER, password=PASSWORD, **bounds)
        )
    _check(error, took, server, bound)
    assert public.registry.get_run("bounds", "run").loads == []
    public.load_annotations("run", url=cvat_sim.url, username=USER, password=PASSWORD)
    assert len(public.registry.get_run("bounds", "run").loads) == 1


def test_the_bounds_come_from_the_environment_too(public, monkeypatch):
    monkeypatch.setenv("ANNOFLOW_CVAT_READ_TIMEOUT", "1.0")
    monkeypatch.setenv("ANNOFLOW_CVAT_REQUEST_DEADLINE", "1.5")
    with HostileServer("drip") as server:
        error, took = _fails(
            lambda: public.annotate("run", label_field="ground_truth", url=server.url, username=USER, password=PASSWORD)
        )
    _check(error, took, server, "request_deadline")


def test_a_bound_that_cannot_work_is_refused_before_anything_is_sent(public, cvat_sim):
    from annoflow.application.ports.annotation_backend import BackendConfigError

    with pytest.raises(BackendConfigError) as caught:
        public.annotate(
            "run",
            label_field="ground_truth",
            url=cvat_sim.url,
            username=USER,
            password=PASSWORD,
            read_timeout=0,
            request_deadline="soon",
        )
    assert "read_timeout must be a positive number of seconds, got 0" in str(caught.value)
    assert "request_deadline must be a positive number of seconds, got 'soon'" in str(caught.value)
    assert not public.list_annotation_runs()

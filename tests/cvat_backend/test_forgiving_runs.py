"""A failed annotate() costs the user no key, and says what remains when the server holds something.

As a new user meets them: a wrong password, an unreachable url, a server refusing the first
request. The corrected call with the same key just works, and the audit trail keeps the attempt.
"""

from __future__ import annotations

import socket

import pytest

from annoflow.adapters.cvat.errors import CVATAuthError, CVATError
from annoflow.adapters.cvat_sim.testing import USER
from annoflow.application.audit import dataset_history
from annoflow.domain.annotation_run import RunStatus


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens there once the socket is closed


@pytest.mark.parametrize("mistake", ["password", "url"])
def test_a_call_that_failed_before_the_server_made_anything_frees_its_key(dataset, login, mistake):
    wrong = {
        "password": {**login, "password": "not-it"},
        "url": {**login, "url": f"http://127.0.0.1:{_closed_port()}"},
    }[mistake]
    with pytest.raises(CVATAuthError if mistake == "password" else CVATError):
        dataset.annotate("first_try", label_field="ground_truth", **wrong)
    assert not dataset.has_annotation_run("first_try")
    results = dataset.annotate("first_try", label_field="ground_truth", **login)  # the corrected call
    assert results.task_ids and dataset.list_annotation_runs() == ["first_try"]
    attempts = [run for run, _ in dataset_history(dataset.registry, "quickstart")]
    assert [run.is_deleted for run in attempts] == [True, False]  # the failed attempt stays in the audit


def test_a_call_that_failed_after_the_server_made_a_task_says_what_remains(dataset, login, cvat_sim_unchecked):
    cvat = {**login, "url": cvat_sim_unchecked.url}
    cvat_sim_unchecked.faults.add("PUT", r"/annotations/?$", status=400, nth=2)  # the second task's labels
    with pytest.raises(CVATError) as caught:
        dataset.annotate("half", label_field="ground_truth", task_size=2, **cvat)
    (note,) = caught.value.__notes__
    assert note.startswith("annoflow: run 'half' holds tasks [") and "resume=True" in note and ".cleanup()" in note
    assert dataset.registry.get_run("quickstart", "half").status is RunStatus.REQUESTED
    dataset.load_annotation_results("half", **cvat).cleanup()
    assert cvat_sim_unchecked.state.tasks == {}
    # cleaned up, and never uploaded: nothing of it is left anywhere, so the key is free again
    results = dataset.annotate("half", label_field="ground_truth", task_size=2, **cvat)
    assert dataset.registry.get_run("quickstart", "half").status is RunStatus.UPLOADED and results.task_ids


def test_a_task_the_server_refused_to_make_frees_the_key_too(dataset, login, cvat_sim):
    cvat_sim.faults.add("POST", r"^/api/tasks/?$", nth=1, status=500)
    with pytest.raises(CVATError):
        dataset.annotate("k", label_field="ground_truth", **login)
    assert not dataset.has_annotation_run("k") and cvat_sim.state.tasks == {}
    assert dataset.annotate("k", label_field="ground_truth", **login).task_ids


def test_an_unknown_organization_is_named_and_a_known_one_is_remembered_for_cleanup(dataset, login, cvat_sim):
    cvat_sim.state.add_organization("team", USER)
    with pytest.raises(CVATError, match="CVAT has no organization 'tema' \\(or this user is no member of it\\)"):
        dataset.annotate("k", label_field="ground_truth", organization="tema", **login)
    assert not dataset.has_annotation_run("k")  # nothing was made: the corrected call may use the key
    results = dataset.annotate("k", label_field="ground_truth", organization="team", **login)
    assert results.task_ids and cvat_sim.state.tasks
    dataset.load_annotation_results("k", **login).cleanup()  # no organization given: the run's is used
    assert cvat_sim.state.tasks == {}


def test_only_a_refused_or_unsent_request_counts_as_having_made_nothing():
    """What lets a failed annotate() free its key when the server cannot be asked afterwards."""
    from annoflow.adapters.cvat.errors import CredentialsError, CVATConnectionError, CVATTimeoutError
    from annoflow.adapters.cvat_backend import CVATBackend

    backend = CVATBackend(interactive=False)
    assert backend.made_nothing(CVATAuthError("wrong password", status=401))
    assert backend.made_nothing(CVATError("bad body", status=400))
    assert backend.made_nothing(CVATConnectionError("cannot reach CVAT", connected=False))
    assert backend.made_nothing(CredentialsError("no password"))
    assert not backend.made_nothing(
        CVATConnectionError("CVAT dropped the connection", method="POST", url="http://cvat/api/tasks")
    )  # perhaps after the work
    assert not backend.made_nothing(
        CVATTimeoutError("no answer in time", method="PUT", url="http://cvat/api/jobs/1/annotations")
    )
    assert not backend.made_nothing(CVATError("server error", status=500, method="POST", url="http://cvat/api/tasks"))
    assert backend.made_nothing(
        CVATTimeoutError("no answer in time", method="GET", url="http://cvat/api/tasks")
    )  # a read
    assert backend.made_nothing(
        CVATConnectionError("CVAT dropped the connection", method="POST", url="http://cvat/api/auth/login")
    )  # the login makes nothing
    assert not backend.made_nothing(RuntimeError("something else"))

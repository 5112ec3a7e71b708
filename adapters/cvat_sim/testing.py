"""pytest fixtures for any test suite that needs a CVAT: import them into a conftest.py.

    from annoflow.adapters.cvat_sim.testing import cvat_schema, cvat_sim  # noqa: F401

``cvat_sim`` is a running simulator (real sockets on 127.0.0.1) whose every
exchange is validated against CVAT's OpenAPI schema; a test that caused a
mismatch fails at teardown with the list. Its default user is ``USER`` /
``PASSWORD`` of this module (``annotator`` / ``annotator-pw``); log in at
``/api/auth/login`` for a token. Enable the fixtures with
``pytest_plugins = ["annoflow.adapters.cvat_sim.testing"]`` or the import above.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from annoflow.adapters.cvat_sim.server import CvatSimulator
from annoflow.adapters.cvat_sim.validation import SchemaValidator

USER, PASSWORD = "annotator", "annotator-pw"


@pytest.fixture(scope="session")
def cvat_schema() -> SchemaValidator:
    return SchemaValidator()


@pytest.fixture
def cvat_sim(cvat_schema: SchemaValidator) -> Iterator[CvatSimulator]:
    cvat_schema.take_problems()
    simulator = CvatSimulator(users={USER: PASSWORD, "reviewer": "reviewer-pw"}, on_exchange=cvat_schema.check)
    with simulator.serve():
        yield simulator
    simulator.close()
    problems = cvat_schema.take_problems()
    if problems:
        pytest.fail("traffic that CVAT's schema does not allow:\n" + "\n".join(problems), pytrace=False)


@pytest.fixture
def cvat_sim_unchecked() -> Iterator[CvatSimulator]:
    """A simulator for error paths: CVAT's schema documents no 4xx bodies, so they go unvalidated."""
    simulator = CvatSimulator(users={USER: PASSWORD})
    with simulator.serve():
        yield simulator
    simulator.close()

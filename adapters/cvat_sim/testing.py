"""pytest fixtures for any test suite that needs a CVAT, registered as a pytest plugin.

Installing annoflow with its ``sim`` extra registers this module under pytest's ``pytest11``
entry point, so any test suite gets the fixtures with no import:

    def test_upload(cvat_sim):
        ...

``cvat_sim`` is a running simulator (real sockets on 127.0.0.1) whose every
exchange is validated against CVAT's OpenAPI schema; a test that caused a
mismatch fails at teardown with the list. Its default user is ``USER`` /
``PASSWORD`` of this module (``annotator`` / ``annotator-pw``); log in at
``/api/auth/login`` for a token. ``-p no:annoflow.adapters.cvat_sim.testing`` turns the
plugin off; a conftest that names it in ``pytest_plugins``, as before, finds it already loaded.

pytest loads the plugin at startup in every environment annoflow is installed in, so this module
imports only pytest: the simulator (Starlette, uvicorn) and the validator (openapi-core) are
imported when a fixture is first used.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from annoflow.adapters.cvat_sim.server import CvatSimulator
    from annoflow.adapters.cvat_sim.validation import SchemaValidator

USER, PASSWORD = "annotator", "annotator-pw"


@pytest.fixture(scope="session")
def cvat_schema() -> SchemaValidator:
    """The validator of CVAT's OpenAPI schema, loaded once per session (it takes a second)."""
    from annoflow.adapters.cvat_sim.validation import SchemaValidator

    return SchemaValidator()


@pytest.fixture
def cvat_sim(cvat_schema: SchemaValidator) -> Iterator[CvatSimulator]:
    """A running simulator whose traffic must match CVAT's schema (checked at teardown)."""
    from annoflow.adapters.cvat_sim.server import CvatSimulator

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
    from annoflow.adapters.cvat_sim.server import CvatSimulator

    simulator = CvatSimulator(users={USER: PASSWORD})
    with simulator.serve():
        yield simulator
    simulator.close()

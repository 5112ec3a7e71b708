from __future__ import annotations

import httpx
import pytest

from annoflow.adapters.cvat_sim.testing import PASSWORD, USER


@pytest.fixture
def api(cvat_sim):
    """An httpx client logged in with a token."""
    client = httpx.Client(base_url=cvat_sim.url, timeout=30)
    key = client.post("/api/auth/login", json={"username": USER, "password": PASSWORD}).json()["key"]
    client.headers["Authorization"] = f"Token {key}"
    yield client
    client.close()


@pytest.fixture
def images(tmp_path):
    from annoflow.adapters.quickstart import generate_quickstart

    return [s.filepath for s in generate_quickstart(tmp_path / "img", num_samples=5, image_size=(64, 48), seed=5)]

from __future__ import annotations

import pytest

from annoflow.adapters.cvat import RetryPolicy
from annoflow.adapters.cvat_backend import CVATBackend
from annoflow.adapters.cvat_sim.testing import PASSWORD, USER
from annoflow.adapters.label_stores import InMemoryLabelStore
from annoflow.adapters.quickstart import load_quickstart
from annoflow.application.dataset import Dataset
from annoflow.application.runs.registry import RunRegistry


@pytest.fixture
def dataset(tmp_path):
    store = InMemoryLabelStore("quickstart")
    load_quickstart(store, tmp_path / "media", num_samples=5, image_size=(96, 64), extra_fields=True, with_masks=True)
    opened = []
    ds = Dataset(
        store,
        RunRegistry(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}),
        {
            "cvat": CVATBackend(
                interactive=False, client_options={"poll_interval": 0.01, "retry": RetryPolicy(backoff=0.001)}
            )
        },
        open_url=opened.append,
    )
    ds.opened = opened
    return ds


@pytest.fixture
def login(cvat_sim):
    return {"url": cvat_sim.url, "username": USER, "password": PASSWORD}

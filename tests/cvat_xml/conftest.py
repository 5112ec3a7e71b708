"""Datasets for the CVAT XML tests: files on disk (the import looks them up), sizes in metadata."""

from __future__ import annotations

from pathlib import Path

import pytest

from annoflow.adapters import wiring


@pytest.fixture
def open_ds(tmp_path: Path):
    env = {"ANNOFLOW_DATA_DIR": str(tmp_path / "data")}
    opened = []

    def open_(name: str):
        dataset = wiring.open_dataset(name, env=env)
        opened.append(dataset)
        return dataset

    yield open_
    for dataset in opened:
        dataset.store.close()

from __future__ import annotations

from pathlib import Path

import attrs
import pytest
from PIL import Image


def write_image(path: Path, size: tuple[int, int], fmt: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (40, 80, 120)).save(path, format=fmt)
    return path


@pytest.fixture
def images(tmp_path):
    """A media folder: a.jpg 40x30, sub/b.png 20x10."""
    folder = tmp_path / "media"
    write_image(folder / "a.jpg", (40, 30))
    write_image(folder / "sub" / "b.png", (20, 10))
    return folder


@pytest.fixture
def env(tmp_path, monkeypatch):
    for name in ("PERSISTENCE_MODULE", "SQLITE_DBNAME", "POSTGRES_DBNAME", "ANNOFLOW_LABEL_STORE"):
        monkeypatch.delenv(name, raising=False)
    environ = {"ANNOFLOW_DATA_DIR": str(tmp_path / "data")}
    monkeypatch.setenv("ANNOFLOW_DATA_DIR", environ["ANNOFLOW_DATA_DIR"])
    return environ


def without_ids(samples, field="ground_truth"):
    """What a sample holds apart from ids that each import draws anew: path, metadata, tags, labels."""
    out = []
    for sample in samples:
        value = sample.fields.get(field)
        labels = [attrs.evolve(label, id="0" * 24) for label in value.items] if value is not None else None
        out.append((sample.filepath, sample.metadata, sample.tags, labels))
    return out

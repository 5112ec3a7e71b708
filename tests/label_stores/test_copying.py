"""`annoflow datasets copy NAME --to postgres|sqlite:PATH`: a dataset moves between stores with its ids."""

from __future__ import annotations

import uuid

import pytest

from annoflow.adapters import cli, wiring
from annoflow.adapters.label_stores import InMemoryLabelStore, SqliteLabelStore
from annoflow.adapters.label_stores.copying import copy_dataset
from annoflow.adapters.quickstart import load_quickstart
from annoflow.application.ports.label_store import DuplicateSampleError
from annoflow.domain.fields import FieldKind
from annoflow.domain.samples import Sample


@pytest.fixture
def postgres_env(postgres_server, postgres_labels_dsn, tmp_path, monkeypatch):
    """The command line's environment: a data dir, and a PostgreSQL schema of the test's own."""
    env = {
        "ANNOFLOW_DATA_DIR": str(tmp_path / "data"),
        "ANNOFLOW_POSTGRES_DSN": postgres_labels_dsn,
        "ANNOFLOW_POSTGRES_SCHEMA": f"t_{uuid.uuid4().hex[:12]}",
    }
    for name in ("ANNOFLOW_LABEL_STORE", "POSTGRES_DBNAME", "PERSISTENCE_MODULE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


def test_a_dataset_goes_to_postgres_and_back_with_its_ids(postgres_env, tmp_path, monkeypatch, capsys):
    source = wiring.open_label_store("q")
    load_quickstart(source, tmp_path / "media", num_samples=5, image_size=(64, 48), extra_fields=True, with_masks=True)
    source.declare_field("frames.reviewed", FieldKind.BOOL)  # declared, never set: copied too
    original = list(source.get_samples())
    schema = dict(source.field_schema())
    source.close()

    assert cli.main(["datasets", "copy", "q", "--to", "postgres"]) == 0
    assert "copied 5 samples of dataset 'q' to schema t_" in capsys.readouterr().out
    monkeypatch.setenv("ANNOFLOW_LABEL_STORE", "postgres")
    copy = wiring.open_label_store("q")
    assert list(copy.get_samples()) == original and dict(copy.field_schema()) == schema
    copy.close()

    back = tmp_path / "back.sqlite"
    assert cli.main(["datasets", "copy", "q", "--to", f"sqlite:{back}"]) == 0
    again = SqliteLabelStore(back, name="q")
    assert list(again.get_samples()) == original and dict(again.field_schema()) == schema
    again.close()


def test_bad_copies_are_refused_before_anything_is_written(postgres_env, tmp_path, capsys):
    assert cli.main(["datasets", "copy", "q", "--to", "mongo"]) == 2
    assert "a label store is fiftyone, postgres, sqlite or sqlite:PATH, got 'mongo'" in capsys.readouterr().err
    assert cli.main(["datasets", "copy", "nothing", "--to", f"sqlite:{tmp_path / 'x.sqlite'}"]) == 2
    assert "no dataset 'nothing' in" in capsys.readouterr().err
    assert not (tmp_path / "x.sqlite").exists()


def _samples(count: int) -> list[Sample]:
    return [Sample(filepath=f"/{i}.jpg", media_type="image", fields={"n": i}) for i in range(count)]


def test_an_interrupted_copy_goes_on_and_a_foreign_target_is_refused():
    source = InMemoryLabelStore("ds")
    samples = _samples(7)
    source.add_samples(samples)
    target = InMemoryLabelStore("ds")
    target.add_samples(samples[:3])  # what a copy cut short after its first batch left
    assert copy_dataset(source, target, batch=2) == 4
    assert list(target.get_samples()) == samples

    other = InMemoryLabelStore("ds")
    other.add_samples(_samples(1))
    with pytest.raises(DuplicateSampleError, match="not an interrupted copy"):
        copy_dataset(source, other)
    assert len(other) == 1 and dict(other.field_schema()) == {"n": FieldKind.INT}

"""The embedded defaults: SQLite files in the data dir; the environment picks other persistence."""

from __future__ import annotations

import pytest

from annoflow.adapters import cli, wiring
from annoflow.adapters.label_stores import SqliteLabelStore
from annoflow.domain.annotation_run import AnnotationRun
from annoflow.domain.label_schema import LabelSchema
from annoflow.domain.samples import Sample


def test_defaults_live_in_the_data_dir(tmp_path):
    env = {"ANNOFLOW_DATA_DIR": str(tmp_path / "data")}
    assert wiring.registry_env(env)["SQLITE_DBNAME"] == str(tmp_path / "data" / "runs.sqlite")
    dataset = wiring.open_dataset("ds", env=env)
    assert isinstance(dataset.store, SqliteLabelStore) and dataset.store.path == tmp_path / "data" / "datasets.sqlite"
    dataset.store.add_samples([Sample(filepath="/a.jpg", media_type="image")])
    run = AnnotationRun.request(
        dataset="ds", key="k", backend="cvat", config={}, label_schema=LabelSchema(()), sample_ids=dataset.sample_ids
    )
    dataset.registry.add_run(run)
    again = wiring.open_dataset("ds", env=env)
    assert again.list_annotation_runs() == ["k"] and len(again) == 1


def test_an_empty_store_given_is_the_one_used(tmp_path):
    env = {"ANNOFLOW_DATA_DIR": str(tmp_path / "data")}
    empty = SqliteLabelStore(tmp_path / "mine.sqlite", name="ds")  # falsy: it has a length, 0
    dataset = wiring.open_dataset("ds", store=empty, env=env)
    assert dataset.store is empty and not (tmp_path / "data" / "datasets.sqlite").exists()


def test_the_environment_chooses_other_persistence(tmp_path):
    env = {"ANNOFLOW_DATA_DIR": str(tmp_path), "PERSISTENCE_MODULE": "eventsourcing.popo"}
    assert "SQLITE_DBNAME" not in wiring.registry_env(env)
    assert wiring.open_registry(env).list_runs("ds") == []
    assert not (tmp_path / "runs.sqlite").exists()


def test_cli_manages_runs_and_prints_the_audit_trail(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ANNOFLOW_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("PERSISTENCE_MODULE", raising=False)
    dataset = wiring.open_dataset("quickstart")
    dataset.store.add_samples([Sample(filepath="/a.jpg", media_type="image")])
    dataset.registry.add_run(
        AnnotationRun.request(
            dataset="quickstart",
            key="k",
            backend="cvat",
            config={},
            label_schema=LabelSchema(()),
            sample_ids=dataset.sample_ids,
        )
    )
    assert cli.main(["runs", "list"]) == 0
    header, row = capsys.readouterr().out.splitlines()
    assert header.split() == ["key", "status", "tasks", "samples", "created", "last", "load"]
    assert row.split()[:4] == ["k", "requested", "0", "1"] and row.endswith("-")
    assert cli.main(["runs", "rename", "k", "k2"]) == 0
    assert cli.main(["runs", "info", "k"]) == 2
    assert "no annotation run with key 'k'" in capsys.readouterr().err
    assert cli.main(["audit"]) == 0
    out = capsys.readouterr().out
    assert "run 'k2' (requested" in out and "requested key 'k' on dataset 'quickstart': 1 sample to cvat" in out
    assert "renamed 'k' -> 'k2'" in out
    assert cli.main(["runs", "delete", "k2"]) == 0
    assert cli.main(["audit", "--dataset", "quickstart"]) == 0
    assert "run 'k2' (deleted" in capsys.readouterr().out


def test_cli_builds_the_quickstart_datasets(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ANNOFLOW_DATA_DIR", str(tmp_path))
    assert cli.main(["quickstart", "--samples", "3"]) == 0
    out = capsys.readouterr().out
    assert "built dataset 'quickstart': 3 samples" in out and "ground_truth: detections" in out
    assert cli.main(["quickstart", "--samples", "3"]) == 0
    assert "already holds 3 samples" in capsys.readouterr().out
    assert cli.main(["quickstart", "--dataset", "quickstart-video", "--video", "--samples", "1"]) == 0
    assert "frames.detections: detections" in capsys.readouterr().out
    video = wiring.open_dataset("quickstart-video").first()
    assert video.media_type.value == "video" and video.frames


def test_demo_runs_the_workflow_end_to_end(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ANNOFLOW_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("PERSISTENCE_MODULE", raising=False)
    assert cli.main(["demo", "--samples", "8"]) == 0
    out = capsys.readouterr().out
    assert "built the quickstart dataset: 8 images" in out and "CVAT simulator serving http://127.0.0.1:" in out
    assert "Status for label field 'ground_truth':" in out and "CVAT tasks cleaned up" in out
    assert "loaded: 1 added, 1 edited, 1 deleted, 0 rejected; unexpected: 1 polylines" in out
    assert "unchanged labels identical: True" in out and "1 task(s) unchanged, nothing merged twice" in out
    assert "TaskCreated" in out and "CleanedUp" in out and "fields ground_truth" in out
    (key,) = wiring.open_dataset("quickstart").list_annotation_runs()
    assert wiring.open_dataset("quickstart").get_annotation_info(key).status == "cleaned_up"


def test_a_registry_another_process_is_creating_opens_once_its_tables_exist(tmp_path, monkeypatch):
    # PostgreSQL refuses one of two concurrent CREATE ... IF NOT EXISTS (seen with two machines
    # opening a new team registry at once); the tables are there by then, so opening again works.
    from eventsourcing.persistence import InternalError, ProgrammingError

    real = wiring.RunRegistry
    refusals = [InternalError("tuple concurrently updated"), InternalError("tuple concurrently updated")]
    calls = []

    def registry(env):
        calls.append(env)
        if refusals:
            raise refusals.pop(0)
        return real(env=env)

    monkeypatch.setattr(wiring, "RunRegistry", registry)
    monkeypatch.setattr(wiring.time, "sleep", lambda seconds: None)
    opened = wiring.open_registry({"ANNOFLOW_DATA_DIR": str(tmp_path)})
    assert isinstance(opened, real) and len(calls) == 3
    # any other refusal is the caller's, at once
    calls.clear()
    refusals[:] = [ProgrammingError("permission denied for schema public")]
    with pytest.raises(ProgrammingError, match="permission denied"):
        wiring.open_registry({"ANNOFLOW_DATA_DIR": str(tmp_path)})
    assert len(calls) == 1
    # and a creator that never finishes is not waited for forever
    calls.clear()
    refusals[:] = [InternalError("tuple concurrently updated")] * 10
    with pytest.raises(InternalError):
        wiring.open_registry({"ANNOFLOW_DATA_DIR": str(tmp_path)})
    assert len(calls) == wiring._OPEN_TRIES

"""The command line on runs made against the simulator: the runs table and a run's CVAT status."""

from __future__ import annotations

import pytest

from annoflow.adapters import cli, wiring
from annoflow.adapters.quickstart import load_quickstart
from tests.cvat_backend.conftest import PASSWORD, USER


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ANNOFLOW_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("PERSISTENCE_MODULE", raising=False)
    return tmp_path


def test_runs_list_and_status(data_dir, cvat_sim, login, monkeypatch, capsys):
    dataset = wiring.open_dataset("quickstart")
    load_quickstart(dataset.store, data_dir / "media", num_samples=4, image_size=(64, 48))
    dataset.annotate("loaded", label_field="ground_truth", segment_size=2, progress=False, **login)
    dataset.load_annotations("loaded", progress=False, **login)
    dataset.take(1, seed=1).annotate("sent", label_field="predictions", progress=False, **login)

    assert cli.main(["runs", "list"]) == 0
    header, *rows = capsys.readouterr().out.splitlines()
    assert header.split() == ["key", "status", "tasks", "samples", "created", "last", "load"]
    loaded, sent = (row.split() for row in rows)
    assert loaded[:4] == ["loaded", "loaded", "1", "4"] and len(loaded) == 8  # created and last load: date, time
    assert sent[:4] == ["sent", "uploaded", "1", "1"] and sent[-1] == "-"

    # The URL is the one recorded at annotate(); the credentials come from the environment.
    monkeypatch.setenv("ANNOFLOW_CVAT_USERNAME", USER)
    monkeypatch.setenv("ANNOFLOW_CVAT_PASSWORD", PASSWORD)
    assert cli.main(["status", "loaded"]) == 0
    out = capsys.readouterr().out
    (task_id,) = dataset.load_annotation_results("loaded").task_ids
    assert f"run 'loaded' of dataset 'quickstart': tasks [{task_id}]" in out
    assert "Status for label field 'ground_truth':" in out and f"Task {task_id} (" in out and out.count("Job ") == 2
    monkeypatch.delenv("ANNOFLOW_CVAT_PASSWORD")
    monkeypatch.delenv("FIFTYONE_CVAT_PASSWORD", raising=False)
    monkeypatch.setenv("ANNOFLOW_CONFIG", str(data_dir / "none.json"))
    monkeypatch.setenv("FIFTYONE_ANNOTATION_CONFIG_PATH", str(data_dir / "none.json"))
    assert cli.main(["status", "loaded", "--url", cvat_sim.url]) == 2
    err = capsys.readouterr().err
    assert (
        err.startswith("annoflow: error: invalid backend options: no CVAT credentials found") and err.count("\n") == 1
    )
    assert PASSWORD not in err

"""``annoflow import`` of a project made with cvat-sdk: recorded as a run that ``annoflow audit`` and
``annoflow runs list`` show, and that a later import (or load) takes up again: what annotators change
in CVAT since is merged, nothing is added twice."""

from __future__ import annotations

from annoflow.adapters import cli, wiring
from annoflow.adapters.cvat_sim.testing import PASSWORD, USER
from tests.cvat_backend.test_import_annotations import images, move_first_box, project  # noqa: F401 - fixtures


def test_an_import_is_a_run_the_audit_shows_and_a_later_import_loads_again(
    cvat_sim,
    project,  # noqa: F811 - a fixture imported above
    tmp_path,
    monkeypatch,
    capsys,
):
    monkeypatch.setenv("ANNOFLOW_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("ANNOFLOW_LABEL_STORE", raising=False)
    monkeypatch.setenv("ANNOFLOW_CVAT_PASSWORD", PASSWORD)
    argv = [
        "import",
        "--project",
        "made elsewhere",
        "--dataset",
        "mine",
        "--data-path",
        str(tmp_path / "media"),
        "--download-media",
        "--url",
        cvat_sim.url,
        "--username",
        USER,
    ]
    assert cli.main(argv) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    key = f"cvat_import_project_{project['id']}"
    assert f"as run {key!r}: 4 new samples, 8 labels added" in out

    assert cli.main(["audit", key, "--dataset", "mine"]) == 0
    audit = capsys.readouterr().out
    assert "Requested" in audit and audit.count("TaskCreated") == 2 and "8 added" in audit
    assert cli.main(["runs", "--dataset", "mine", "list"]) == 0
    assert key in capsys.readouterr().out

    # an annotator moves the box in CVAT; importing again takes up the run: the box is edited, nothing added
    move_first_box(cvat_sim.url, project["tasks"][0], [5.0, 6.0, 30.0, 40.0])
    assert cli.main(argv) == 0
    assert "0 new samples, 0 labels added, 1 edited, 1 tasks unchanged" in capsys.readouterr().out
    dataset = wiring.open_dataset("mine")
    boxes = [d for s in dataset.iter_samples() if s.fields.get("detections") for d in s.fields["detections"].items]
    assert len(boxes) == 2 and sorted(round(b.bounding_box[0] * 64) for b in boxes) == [1, 5]
    dataset.store.close()

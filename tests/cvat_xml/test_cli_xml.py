"""``annoflow export NAME --format cvat-images PATH`` and ``annoflow import --xml FILE``."""

from __future__ import annotations

from pathlib import Path

import pytest

from annoflow.adapters import cli, wiring
from annoflow.adapters.quickstart import load_quickstart


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ANNOFLOW_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("ANNOFLOW_LABEL_STORE", raising=False)
    return tmp_path


def test_export_then_import_on_the_command_line(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dataset = wiring.open_dataset("quick")
    load_quickstart(dataset.store, data_dir / "media", num_samples=4, seed=5)
    boxes = {s.filepath: s.fields["ground_truth"] for s in dataset.iter_samples()}
    dataset.store.close()

    assert (
        cli.main(
            ["export", "quick", "--format", "cvat-images", "--label-field", "ground_truth", str(data_dir / "gt.xml")]
        )
        == 0
    )
    assert "exported dataset 'quick' as CVAT for images 1.1: 4 samples" in capsys.readouterr().out
    assert cli.main(["export", "--dataset", "quick", "--format", "cvat-images", str(data_dir / "all.xml")]) == 0
    assert (data_dir / "all.xml").stat().st_size > (data_dir / "gt.xml").stat().st_size  # predictions too

    assert (
        cli.main(
            ["import", "--xml", str(data_dir / "gt.xml"), "--dataset", "back", "--data-path", str(data_dir / "media")]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "into dataset 'back': 4 samples (4 new)" in out and "detections (detections)" in out
    back = wiring.open_dataset("back")
    for sample in back.iter_samples():
        for new, old in zip(sample.fields["detections"].items, boxes[sample.filepath].items, strict=True):
            assert (new.id, new.label, new.attributes) == (old.id, old.label, old.attributes)
            assert (
                max(abs(a - b) for a, b in zip(new.bounding_box, old.bounding_box, strict=True)) < 0.006 / 480
            )  # CVAT's 0.01 px
    back.store.close()


def test_exporting_videos_as_images_is_refused(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dataset = wiring.open_dataset("clips")
    load_quickstart(dataset.store, data_dir / "media", video=True, num_samples=1, seed=5)
    dataset.store.close()
    assert cli.main(["export", "clips", "--format", "cvat-images", str(data_dir / "x.xml")]) == 2
    assert "this collection holds videos: use cvat-video" in capsys.readouterr().err
    assert cli.main(["export", "clips", "--format", "cvat-video", str(data_dir / "x.xml")]) == 0
    assert "<track id=" in (data_dir / "x.xml").read_text()

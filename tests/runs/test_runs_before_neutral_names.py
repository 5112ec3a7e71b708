"""Runs recorded before the domain's neutral names keep working: listed, audited, their results opened, loaded once.

The fixture (tests/fixtures/runs_before_neutral_names, made by its make_fixture.py) holds two runs
whose events name the annotation tool's objects as they did then: images with boxes (masks
included) and a classification, whose load added, edited, deleted and refused; and a video whose
track a load edited. CVAT (the simulator's saved state) has since moved the added box A and the
track on another frame. Loading now must find A and the track by the ids the old events recorded:
edited, not added again; a second load changes nothing.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from annoflow.adapters.cvat import RetryPolicy
from annoflow.adapters.cvat_backend import CVATBackend
from annoflow.adapters.cvat_sim.server import CvatSimulator
from annoflow.adapters.label_stores.sqlite import SqliteLabelStore
from annoflow.application.audit import change_lines, run_history
from annoflow.application.dataset import Dataset
from annoflow.application.runs.registry import RunRegistry
from annoflow.domain.labels import labels_in

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "runs_before_neutral_names"
USER, PASSWORD = "annotator", "annotator-pw"


@pytest.fixture
def old_runs(tmp_path):
    for name in ("datasets.sqlite", "runs.sqlite", "sim"):
        source = FIXTURE / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, tmp_path / name)
    with CvatSimulator(users={USER: PASSWORD}, media_dir=tmp_path / "sim").serve() as sim:

        def open_dataset(name: str) -> Dataset:
            registry = RunRegistry(
                env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "runs.sqlite")}
            )
            backends = {
                "cvat": CVATBackend(
                    interactive=False, client_options={"poll_interval": 0.01, "retry": RetryPolicy(backoff=0.001)}
                )
            }
            return Dataset(SqliteLabelStore(tmp_path / "datasets.sqlite", name=name), registry, backends)

        yield open_dataset, {"url": sim.url, "username": USER, "password": PASSWORD}


def _labels(dataset: Dataset, field: str) -> dict[str, object]:
    if field.startswith("frames."):
        name = field.split(".", 1)[1]
        return {
            (s.id, n, label.id): label
            for s in dataset.iter_samples()
            for n, frame in s.frames.items()
            for label in labels_in(frame.get(name))
        }
    return {(s.id, label.id): label for s in dataset.iter_samples() for label in labels_in(s.fields.get(field))}


def _history(dataset: Dataset, key: str) -> tuple[list[str], list[str]]:
    run = dataset.registry.get_run(dataset.name, key)
    (task_id,) = run.task_ids
    return (
        [e.text for e in run_history(dataset.registry, run.id)],
        list(change_lines(dataset.registry.ledger_history(run, task_id))),
    )


def test_an_image_run_is_listed_audited_opened_and_loaded_exactly_once(old_runs):
    open_dataset, login = old_runs
    expected = json.loads((FIXTURE / "expected.json").read_text())["boxes"]
    dataset = open_dataset("quickstart")
    assert dataset.list_annotation_runs() == ["boxes"]
    info = dataset.get_annotation_info("boxes")
    assert (info.status, info.task_ids, info.sample_count) == ("loaded", (expected["task_id"],), 3)
    assert [f.path for f in info.label_schema] == ["ground_truth", "weather"]
    run_lines, changes = _history(dataset, "boxes")
    assert any("12 labels uploaded" in line for line in run_lines), run_lines
    assert any("1 added, 2 edited, 1 deleted, 1 rejected" in line for line in run_lines), run_lines
    assert [sum(f" {word} " in line for line in changes) for word in ("added", "edited", "deleted")] == [1, 2, 1]
    assert any("refused (allow_label_edits)" in line and "relabel 'bicycle' as 'car'" in line for line in changes)
    results = dataset.load_annotation_results("boxes", **login)
    assert results.task_ids == [expected["task_id"]] and len(results.frame_id_map[expected["task_id"]]) == 3
    boxes, weather = _labels(dataset, "ground_truth"), _labels(dataset, "weather")

    dataset.load_annotations("boxes", unexpected="keep", **login)
    summary = dataset.last_load.summary
    # A moved again: an edit of the label the first load added, not a copy; the relabel is still refused
    assert (summary.added, summary.edited, summary.deleted, summary.rejected) == (0, 1, 0, 1)
    after = _labels(dataset, "ground_truth")
    assert set(after) == set(boxes) and sum(after[k] != boxes[k] for k in after) == 1
    assert _labels(dataset, "weather") == weather

    again = open_dataset("quickstart")  # a new process: nothing left to change
    again.load_annotations("boxes", unexpected="keep", **login)
    assert again.last_load.summary.unchanged_tasks == 1
    assert _labels(again, "ground_truth") == after and _labels(again, "weather") == weather


def test_a_video_run_is_listed_audited_opened_and_loaded_exactly_once(old_runs):
    open_dataset, login = old_runs
    expected = json.loads((FIXTURE / "expected.json").read_text())["video"]
    dataset = open_dataset("quickstart-video")
    assert dataset.list_annotation_runs() == ["video"]
    info = dataset.get_annotation_info("video")
    assert (info.status, info.task_ids) == ("loaded", (expected["task_id"],))
    run_lines, changes = _history(dataset, "video")
    assert any("0 added, 1 edited, 0 deleted, 0 rejected" in line for line in run_lines), run_lines
    assert any("edited Detection" in line and "frame 3, track 1" in line for line in changes), changes
    results = dataset.load_annotation_results("video", **login)
    assert len(results.frame_id_map[expected["task_id"]]) == 6
    before = _labels(dataset, "frames.detections")

    dataset.load_annotations("video", **login)
    summary = dataset.last_load.summary
    assert (summary.added, summary.edited, summary.deleted, summary.rejected) == (0, 1, 0, 0)  # the track, frame 5
    after = _labels(dataset, "frames.detections")
    assert set(after) == set(before) and [k[1] for k in after if after[k] != before[k]] == [5]

    again = open_dataset("quickstart-video")
    again.load_annotations("video", **login)
    assert again.last_load.summary.unchanged_tasks == 1 and _labels(again, "frames.detections") == after

"""`annoflow datasets copy NAME --to fiftyone`: a dataset moves into a FiftyOne dataset with its sample and
label ids, so a run started on the SQLite store loads into the FiftyOne copy, its provenance intact, and
every change the run's events record holds on the copy."""

from __future__ import annotations

import pytest

from annoflow.adapters import cli, wiring
from annoflow.adapters.cvat_sim.annotator import ScriptedAnnotator
from annoflow.adapters.cvat_sim.testing import PASSWORD, USER
from annoflow.adapters.label_stores import SqliteLabelStore
from annoflow.adapters.quickstart import load_quickstart
from annoflow.domain.fields import FieldKind
from annoflow.domain.labels import labels_in
from annoflow.domain.run_records import MergeAction
from annoflow.domain.task_ledger import merged_in

pytestmark = pytest.mark.fiftyone
LOGIN = {"username": USER, "password": PASSWORD}


@pytest.fixture
def env(fiftyone, tmp_path, monkeypatch):
    """The command line's environment: a data dir of the test's own; the FiftyOne dataset "q" deleted after."""
    monkeypatch.setenv("ANNOFLOW_DATA_DIR", str(tmp_path / "data"))
    for name in ("ANNOFLOW_LABEL_STORE", "POSTGRES_DBNAME", "PERSISTENCE_MODULE", "SQLITE_DBNAME"):
        monkeypatch.delenv(name, raising=False)
    yield fiftyone
    if fiftyone.dataset_exists("q"):
        fiftyone.delete_dataset("q")


def _boxes(store) -> dict:
    return {label.id: label for sample in store.get_samples() for label in labels_in(sample.fields.get("ground_truth"))}


def _edit(url: str, task_id: int) -> None:
    """An annotator moves a box, deletes one and draws one."""
    with ScriptedAnnotator(url, USER, PASSWORD) as annotator:
        moved, deleted = annotator.annotations(task_id)["shapes"][:2]
        annotator.move_shape(task_id, moved["id"], [1.0, 2.0, 30.0, 40.0])
        annotator.delete(task_id, deleted["id"])
        annotator.add_shape(task_id, sorted(annotator.labels(task_id))[0], 0, "rectangle", [5.0, 5.0, 20.0, 20.0])


def test_a_dataset_goes_to_fiftyone_and_back_with_its_ids(env, tmp_path, monkeypatch, capsys):
    source = wiring.open_label_store("q")
    load_quickstart(source, tmp_path / "media", num_samples=4, image_size=(64, 48), extra_fields=True, with_masks=True)
    original, schema = list(source.get_samples()), dict(source.field_schema())
    source.close()
    assert cli.main(["datasets", "copy", "q", "--to", "fiftyone"]) == 0
    assert "copied 4 samples of dataset 'q' to FiftyOne's database" in capsys.readouterr().out
    fo_dataset = env.load_dataset("q")
    assert fo_dataset.persistent and fo_dataset.values("id") == [s.id for s in original]
    first = fo_dataset.first()
    assert [d.id for d in first.ground_truth.detections] == [
        d.id for d in original[0].fields["ground_truth"].detections
    ]

    monkeypatch.setenv("ANNOFLOW_LABEL_STORE", "fiftyone")  # the FiftyOne dataset as the environment's store
    assert "q" in wiring.list_datasets()
    back = tmp_path / "back.sqlite"
    assert cli.main(["datasets", "copy", "q", "--to", f"sqlite:{back}"]) == 0
    again = SqliteLabelStore(back, name="q")
    assert list(again.get_samples()) == original and dict(again.field_schema()) == schema
    again.close()


def test_an_image_dataset_with_a_frame_field_is_refused_by_fiftyone_before_any_sample(env, tmp_path, capsys):
    source = wiring.open_label_store("q")
    load_quickstart(source, tmp_path / "media", num_samples=2, image_size=(64, 48))
    source.declare_field("frames.reviewed", FieldKind.BOOL)
    source.close()
    assert cli.main(["datasets", "copy", "q", "--to", "fiftyone"]) == 2
    assert "FiftyOne keeps frame fields only on video datasets" in capsys.readouterr().err
    assert len(env.load_dataset("q")) == 0


def test_a_run_started_on_sqlite_loads_into_its_fiftyone_copy(env, cvat_sim, tmp_path):
    import annoflow.fiftyone as aff

    local = wiring.open_dataset("q")
    load_quickstart(local.store, tmp_path / "media", num_samples=3, image_size=(64, 48))
    (task_id,) = local.annotate("run", label_field="ground_truth", url=cvat_sim.url, **LOGIN).task_ids
    _edit(cvat_sim.url, task_id)
    local.load_annotations("run", url=cvat_sim.url, **LOGIN)  # the first load lands in SQLite
    loaded = _boxes(local.store)
    assert cli.main(["datasets", "copy", "q", "--to", "fiftyone"]) == 0
    fo_dataset = env.load_dataset("q")

    # Replay: every change the run's events record holds on the copy.
    registry = local.registry
    run = registry.get_run("q", "run")
    copy = aff.annoflow_dataset(fo_dataset)
    held = _boxes(copy.store)
    merged = [
        c
        for e in registry.iter_history(run.id, details=True)
        if type(e).__name__ == "LabelMerged"
        for c in merged_in(e)
    ]
    assert len(merged) == 3
    for change in merged:
        assert (
            (change.label_id not in held)
            if change.action is MergeAction.DELETED
            else held[change.label_id] == change.label
        )
    assert held == loaded

    # The run goes on on the copy: the annotator edits again, the load finds its labels by their provenance.
    with ScriptedAnnotator(cvat_sim.url, USER, PASSWORD) as annotator:
        drawn = max(annotator.annotations(task_id)["shapes"], key=lambda s: s["id"])  # the box drawn before
        annotator.move_shape(task_id, drawn["id"], [2.0, 2.0, 10.0, 10.0])
    report = aff.load_annotations(fo_dataset, "run", url=cvat_sim.url, **LOGIN)
    assert (report.added, report.edited, report.deleted) == (0, 1, 0)  # the drawn box, edited under its id
    after = _boxes(copy.store)
    assert set(after) == set(loaded)
    assert {i for i in after if after[i] != loaded[i]} == {
        next(c.label_id for c in merged if c.action is MergeAction.ADDED)
    }
    assert _boxes(local.store) == loaded  # the SQLite original is untouched
    local.store.close()

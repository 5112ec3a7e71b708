"""load_annotations() merges exactly once, enforces restrictions and survives a crash at any step."""

from __future__ import annotations

import pytest

from annoflow.adapters.label_stores import InMemoryLabelStore
from annoflow.application.dataset import Dataset
from annoflow.application.runs.registry import RunRegistry
from annoflow.domain.labels import Detection, Detections, labels_in
from annoflow.domain.merge import ImportedLabel
from annoflow.domain.samples import Sample
from annoflow.domain.task_ledger import merged_in
from tests.fakes import FakeBackend, crash_first_apply


def _det(label, x=0.1, **kw):
    return Detection(label=label, bounding_box=(x, 0.1, 0.2, 0.2), **kw)


@pytest.fixture
def dataset():
    store = InMemoryLabelStore("quickstart")
    store.add_samples(
        [
            Sample(
                filepath=f"/img/{i}.jpg",
                media_type="image",
                fields={
                    "ground_truth": Detections(
                        [_det("cat", attributes={"iscrowd": 0, "extra": "kept"}), _det("dog", 0.5)]
                    )
                },
            )
            for i in range(2)
        ]
    )
    return Dataset(
        store,
        RunRegistry(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}),
        {"fake": FakeBackend()},
        default_backend="fake",
    )


def _edit(dataset, key, edit):
    """Script what the annotators did: edit(sample_id, labels) -> imported labels for that sample."""
    run = dataset.registry.get_run("quickstart", key)
    for task in run.tasks.values():
        imported = []
        for sample in dataset.store.get_samples(task.sample_ids):
            for item in edit(sample.id, list(labels_in(sample.fields["ground_truth"]))):
                imported.append(
                    item if isinstance(item, ImportedLabel) else ImportedLabel("ground_truth", sample.id, item, item.id)
                )
        dataset.backends["fake"].server.edits[task.task_id] = imported


def _events(dataset, key):
    run = dataset.registry.get_run("quickstart", key)
    return [type(e).__name__ for e in dataset.registry.history(run.id)]


def test_edits_additions_and_deletions_merge_once(dataset):
    dataset.annotate("k", label_field="ground_truth", attributes=["iscrowd"])
    new = _det("bird", 0.7)
    _edit(dataset, "k", lambda sid, labels: [labels[0].replace(label="lion", attributes={"iscrowd": 1}), new])
    dataset.load_annotations("k", unexpected="ignore")
    for sample in dataset.iter_samples():
        dets = sample.fields["ground_truth"].detections
        assert [d.label for d in dets] == ["lion", "bird"]  # dog deleted in CVAT, bird added
        assert dict(dets[0].attributes) == {"iscrowd": 1, "extra": "kept"}  # unsent attribute kept
        assert dets[1].id != new.id  # a new label gets its own id
    summary = dataset.last_load.summary
    assert (summary.added, summary.edited, summary.deleted) == (2, 2, 2)
    before = [s.fields for s in dataset.iter_samples()]
    dataset.load_annotations("k", unexpected="ignore")  # same CVAT data: nothing changes
    assert [s.fields for s in dataset.iter_samples()] == before
    run = dataset.registry.get_run("quickstart", "k")
    merged = [c for e in dataset.registry.history(run.id) if type(e).__name__ == "LabelMerged" for c in merged_in(e)]
    assert _events(dataset, "k")[-1] == "LoadCompleted" and len(merged) == 6
    assert dataset.last_load.summary.unchanged_tasks == 1


def test_restrictions_are_enforced_and_recorded(dataset):
    dataset.annotate(
        "r",
        label_field="ground_truth",
        attributes={"iscrowd": {"type": "text", "read_only": True}},
        allow_additions=False,
        allow_deletions=False,
        allow_label_edits=False,
        allow_spatial_edits=False,
    )
    _edit(
        dataset,
        "r",
        lambda sid, labels: [
            labels[0].replace(label="lion", bounding_box=(0.0, 0.0, 0.5, 0.5), attributes={"iscrowd": 9}),
            _det("bird", 0.7),
        ],
    )
    original = [s.fields for s in dataset.iter_samples()]
    dataset.load_annotations("r", unexpected="ignore")
    assert [s.fields for s in dataset.iter_samples()] == original  # nothing refused reaches the store
    rules = sorted(r.rule for r in dataset.last_load.rejections)
    assert rules == sorted(
        ["allow_label_edits", "allow_spatial_edits", "read_only", "allow_additions", "allow_deletions"] * 2
    )
    assert _events(dataset, "r").count("Rejected") == 10


def test_provenance_by_cvat_id_when_the_label_id_was_lost(dataset):
    dataset.annotate("p", label_field="ground_truth")
    run = dataset.registry.get_run("quickstart", "p")
    cvat_ids = {
        u.label_id: u.remote_id for t in run.tasks for u in dataset.registry.get_ledger(run, t).record().uploaded
    }
    _edit(
        dataset,
        "p",
        lambda sid, labels: [
            ImportedLabel("ground_truth", sid, label.replace(label="renamed"), None, (cvat_ids[label.id],))
            for label in labels
        ],
    )
    dataset.load_annotations("p", unexpected="ignore")
    for sample in dataset.iter_samples():
        assert [d.label for d in sample.fields["ground_truth"].detections] == ["renamed", "renamed"]
    assert dataset.last_load.summary.added == 0


def test_dest_field_leaves_the_source_alone(dataset):
    dataset.annotate("d", label_field="ground_truth")
    _edit(dataset, "d", lambda sid, labels: [labels[0].replace(label="lion")])
    source = [s.fields["ground_truth"] for s in dataset.iter_samples()]
    dataset.load_annotations("d", unexpected="ignore", dest_field="test_field")
    for sample, before in zip(dataset.iter_samples(), source, strict=True):
        assert sample.fields["ground_truth"] == before
        assert [d.label for d in sample.fields["test_field"].detections] == ["lion"]
    with pytest.raises(ValueError, match="dest_field names fields the run does not have"):
        dataset.load_annotations("d", dest_field={"nope": "x"})


@pytest.mark.parametrize("crash_after", ["record", "apply"])
def test_a_crash_between_recording_and_applying_is_finished_without_duplicates(dataset, monkeypatch, crash_after):
    dataset.annotate("c", label_field="ground_truth")
    _edit(dataset, "c", lambda sid, labels: [labels[0], _det("bird", 0.7)])
    restore = crash_first_apply(monkeypatch, dataset.store, after_applying=crash_after == "apply")
    with pytest.raises(RuntimeError, match="power cut"):
        dataset.load_annotations("c", unexpected="ignore")
    restore()
    dataset.load_annotations("c", unexpected="ignore")
    for sample in dataset.iter_samples():
        assert [d.label for d in sample.fields["ground_truth"].detections] == ["cat", "bird"]
    dataset.load_annotations("c", unexpected="ignore")
    assert all(len(s.fields["ground_truth"]) == 2 for s in dataset.iter_samples())
    assert _events(dataset, "c").count("ShapesImported") == 1


def test_unexpected_labels_owed_by_a_crashed_load_are_returned_by_the_next_and_only_once(dataset, monkeypatch):
    from annoflow.application.ports.annotation_backend import UnexpectedLabel
    from annoflow.domain.labels import Polyline

    dataset.annotate("r", label_field="ground_truth", task_size=1)
    run = dataset.registry.get_run("quickstart", "r")
    server = dataset.backends["fake"].server
    for task in run.tasks.values():
        line = Polyline(label="lane", points=[[(0.1, 0.1), (0.5, 0.5)]])
        server.strays[task.task_id] = [UnexpectedLabel(task.sample_ids[0], "polylines", line, "a polyline")]
    calls = {"n": 0}
    real_apply = dataset.store.apply

    def crash_on_second_task(changes):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("power cut")
        real_apply(changes)

    monkeypatch.setattr(dataset.store, "apply", crash_on_second_task)
    with pytest.raises(RuntimeError, match="power cut"):
        dataset.load_annotations("r", unexpected="return")  # the first task is merged, its stray never returned
    monkeypatch.setattr(dataset.store, "apply", real_apply)
    returned = dataset.load_annotations("r", unexpected="return")
    assert sorted(s.sample_id for s in returned["polylines"]) == sorted(t.sample_ids[0] for t in run.tasks.values())
    assert dataset.load_annotations("r", unexpected="return") == {}  # settled: nothing owed any more


def test_a_load_asks_once_per_label_type_where_unexpected_labels_go_and_keeps_them_from_every_task(dataset):
    from annoflow.application.load import Loader
    from annoflow.application.ports.annotation_backend import UnexpectedLabel
    from annoflow.domain.labels import Polyline

    dataset.annotate("r", label_field="ground_truth", task_size=1)
    run = dataset.registry.get_run("quickstart", "r")
    assert len(run.tasks) == 2
    server = dataset.backends["fake"].server
    for task in run.tasks.values():
        line = Polyline(label="lane", points=[[(0.1, 0.1), (0.5, 0.5)]])
        server.strays[task.task_id] = [UnexpectedLabel(task.sample_ids[0], "polylines", line, "a polyline")]
    questions = []

    def ask(question):
        questions.append(question)
        return "lanes"

    loader = Loader(dataset.store, dataset.registry, dataset.backends, ask=ask, interactive=True)
    result = loader.load("quickstart", "r", unexpected="prompt")
    assert questions == ["Found 1 unexpected polylines: a field to store them in (empty to discard)? "]
    assert result.summary.added == 2 and result.summary.unexpected == 2
    kept = [s.fields.get("lanes") for s in dataset.store.get_samples(run.sample_ids, fields=("lanes",))]
    assert all(lanes is not None and len(lanes.polylines) == 1 for lanes in kept)

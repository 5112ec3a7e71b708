"""load_annotations() merges scalar fields: one value per sample, typed, restricted, recorded, exactly once."""

from __future__ import annotations

import pytest

from annoflow.adapters.label_stores import InMemoryLabelStore
from annoflow.application.dataset import Dataset
from annoflow.application.runs.registry import RunRegistry
from annoflow.domain.fields import FieldKind
from annoflow.domain.labels import Classification
from annoflow.domain.merge import ImportedValue
from annoflow.domain.samples import Sample
from annoflow.domain.task_ledger import merged_in
from tests.fakes import FakeBackend, crash_first_apply


@pytest.fixture
def dataset():
    store = InMemoryLabelStore("quickstart")
    store.add_samples(
        [
            Sample(
                filepath="/img/0.jpg", media_type="image", fields={"count": 1, "weather": Classification(label="sun")}
            ),
            Sample(filepath="/img/1.jpg", media_type="image", fields={"count": 2, "score": 0.5}),
            Sample(filepath="/img/2.jpg", media_type="image", fields={"flag": True}),
        ]
    )
    store.declare_field("note", FieldKind.STR)
    return Dataset(
        store,
        RunRegistry(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}),
        {"fake": FakeBackend()},
        default_backend="fake",
    )


def _cvat_holds(dataset, key, texts):
    """Script what CVAT holds: {field: [text per sample, in sample order]} (None: no tag)."""
    run = dataset.registry.get_run("quickstart", key)
    for task in run.tasks.values():
        dataset.backends["fake"].server.values[task.task_id] = [
            ImportedValue(field, sample_id, values[run.sample_ids.index(sample_id)], remote_id=i)
            for field, values in texts.items()
            for i, sample_id in enumerate(task.sample_ids)
            if values[run.sample_ids.index(sample_id)] is not None
        ]


def _values(dataset, field):
    return [s.fields.get(field) for s in dataset.iter_samples()]


def _events(dataset, key):
    run = dataset.registry.get_run("quickstart", key)
    return list(dataset.registry.history(run.id))


def test_values_set_changed_and_cleared_in_cvat_are_merged_typed_and_once(dataset):
    schema = {
        "count": {"type": "scalar"},
        "score": {"type": "scalar"},
        "flag": {"type": "scalar"},
        "note": {"type": "scalar", "classes": ["good", "bad"]},
    }
    dataset.annotate("s", label_schema=schema)
    _cvat_holds(
        dataset,
        "s",
        {
            "count": ["1", "5", "7"],
            "score": [None, None, "0.25"],
            "flag": [None, "false", "True"],
            "note": ["good", None, "bad"],
        },
    )
    dataset.load_annotations("s", unexpected="ignore")
    assert _values(dataset, "count") == [1, 5, 7]
    assert _values(dataset, "score") == [None, None, 0.25]
    assert _values(dataset, "flag") == [None, False, True]
    assert _values(dataset, "note") == ["good", None, "bad"]
    assert [type(v).__name__ for v in _values(dataset, "count") + _values(dataset, "score")[2:]] == [
        "int",
        "int",
        "int",
        "float",
    ]
    summary = dataset.last_load.summary
    # added: count 7, score 0.25, flag False, note good and bad; edited: count 5; deleted: score 0.5 (flag True unchanged)
    assert (summary.added, summary.edited, summary.deleted) == (5, 1, 1)
    merged = [c for e in _events(dataset, "s") if type(e).__name__ == "LabelMerged" for c in merged_in(e)]
    assert sorted((c.field, c.action.value, c.value) for c in merged) == sorted(
        [
            ("count", "edited", 5),
            ("count", "added", 7),
            ("score", "deleted", None),
            ("score", "added", 0.25),
            ("flag", "added", False),
            ("note", "added", "good"),
            ("note", "added", "bad"),
        ]
    )
    assert all(c.is_scalar and c.label_id is None for c in merged)
    dataset.load_annotations("s", unexpected="ignore")  # the same CVAT data: nothing changes, nothing recorded
    assert dataset.last_load.summary.unchanged_tasks == 1
    assert sum(len(merged_in(e)) for e in _events(dataset, "s") if type(e).__name__ == "LabelMerged") == 7
    assert _values(dataset, "count") == [1, 5, 7]


def test_an_untouched_task_changes_no_scalar(dataset):
    dataset.annotate("u", label_schema={"count": {"type": "scalar"}, "flag": {"type": "scalar"}})
    before = [s.fields for s in dataset.iter_samples()]
    dataset.load_annotations("u", unexpected="ignore")
    assert [s.fields for s in dataset.iter_samples()] == before
    summary = dataset.last_load.summary
    assert (summary.added, summary.edited, summary.deleted, summary.rejected) == (0, 0, 0, 0)


def test_refused_values_are_recorded_and_never_reach_the_store(dataset):
    dataset.annotate(
        "r",
        label_field="count",
        label_type="scalar",
        allow_additions=False,
        allow_deletions=False,
        allow_label_edits=False,
    )
    _cvat_holds(dataset, "r", {"count": [None, "3", "4"]})
    dataset.load_annotations("r", unexpected="ignore")
    assert _values(dataset, "count") == [1, 2, None]
    assert sorted(r.rule for r in dataset.last_load.rejections) == [
        "allow_additions",
        "allow_deletions",
        "allow_label_edits",
    ]
    rejected = [e.rejection for e in _events(dataset, "r") if type(e).__name__ == "Rejected"]
    assert sorted(r.attempted for r in rejected) == ["change the value 2 to 3", "clear the value 1", "set the value 4"]


def test_a_value_that_is_not_of_the_fields_kind_is_refused(dataset):
    dataset.annotate("k", label_field="count", label_type="scalar")
    _cvat_holds(dataset, "k", {"count": ["lots", "2", "3"]})
    dataset.load_annotations("k", unexpected="ignore")
    assert _values(dataset, "count") == [1, 2, 3]  # sample 0 keeps its value
    (rejection,) = dataset.last_load.rejections
    assert rejection.rule == "scalar_kind"
    assert rejection.attempted == "set the value 'lots': 'lots' is not an int (field 'count' holds int values)"


def test_a_new_field_holds_text_unless_it_was_declared_since(dataset):
    dataset.annotate("n", label_schema={"fresh": {"type": "scalar"}, "later": {"type": "scalar"}})
    dataset.store.declare_field("later", FieldKind.FLOAT)  # declared after annotate(): its kind wins
    _cvat_holds(dataset, "n", {"fresh": ["12", None, None], "later": [None, "12", None]})
    dataset.load_annotations("n", unexpected="ignore")
    assert _values(dataset, "fresh") == ["12", None, None] and dataset.store.field_schema()["fresh"] is FieldKind.STR
    assert _values(dataset, "later") == [None, 12.0, None] and isinstance(_values(dataset, "later")[1], float)


def test_dest_field_receives_the_values_and_must_hold_scalars(dataset):
    dataset.annotate("d", label_field="count", label_type="scalar")
    _cvat_holds(dataset, "d", {"count": ["1", None, "9"]})
    with pytest.raises(
        ValueError, match="field 'weather' holds classification: the values of scalar field 'count' cannot load into it"
    ):
        dataset.load_annotations("d", unexpected="ignore", dest_field="weather")
    assert not any(type(e).__name__ == "ShapesImported" for e in _events(dataset, "d"))  # refused before anything
    dataset.load_annotations("d", unexpected="ignore", dest_field="count_v2")
    assert _values(dataset, "count") == [1, 2, None]  # the source is left alone
    assert _values(dataset, "count_v2") == [1, None, 9]


@pytest.mark.parametrize("crash_after", ["record", "apply"])
def test_a_crash_between_recording_and_applying_scalars_is_finished_once(dataset, monkeypatch, crash_after):
    dataset.annotate("c", label_field="count", label_type="scalar")
    _cvat_holds(dataset, "c", {"count": ["10", None, "30"]})
    restore = crash_first_apply(monkeypatch, dataset.store, after_applying=crash_after == "apply")
    with pytest.raises(RuntimeError, match="power cut"):
        dataset.load_annotations("c", unexpected="ignore")
    restore()
    dataset.load_annotations("c", unexpected="ignore")
    assert _values(dataset, "count") == [10, None, 30]
    dataset.load_annotations("c", unexpected="ignore")
    assert [type(e).__name__ for e in _events(dataset, "c")].count("ShapesImported") == 1
    assert _values(dataset, "count") == [10, None, 30]

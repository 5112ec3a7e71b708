"""filter_labels, match_labels, select/exclude_fields and F in match/sort_by; a filtered view
uploads only the labels it shows, and a load leaves the labels it hid as they are."""

from __future__ import annotations

import pytest

from annoflow.adapters.label_stores import InMemoryLabelStore
from annoflow.application.dataset import Dataset
from annoflow.application.runs.registry import RunRegistry
from annoflow.domain.expressions import ExpressionError, F
from annoflow.domain.labels import Classification, Detection, Detections, labels_in
from annoflow.domain.merge import ImportedLabel
from annoflow.domain.samples import Sample
from tests.fakes import FakeBackend


def _det(label, conf=None, ev=None, x=0.1):
    return Detection(
        label=label, bounding_box=(x, 0.1, 0.2, 0.2), confidence=conf, attributes={} if ev is None else {"eval": ev}
    )


@pytest.fixture
def dataset():
    store = InMemoryLabelStore("ds")
    store.add_samples(
        [
            Sample(
                filepath="/0.jpg",
                media_type="image",
                fields={
                    "predictions": Detections(
                        [_det("cat", 0.9, "fp"), _det("dog", 0.95, "tp"), _det("cat", 0.3, "fp")]
                    ),
                    "ground_truth": Detections([_det("dog")]),
                    "weather": Classification(label="sunny"),
                },
            ),
            Sample(
                filepath="/1.jpg",
                media_type="image",
                fields={
                    "predictions": Detections(
                        [_det("cat", 0.85, "fp"), _det("bird", 0.99, "fp"), _det("cat", 0.81, "fp")]
                    ),
                    "ground_truth": Detections([_det("person"), _det("cat")]),
                },
            ),
            Sample(
                filepath="/2.jpg",
                media_type="image",
                fields={"predictions": Detections([_det("dog", 0.5, "fp")]), "ground_truth": Detections([])},
            ),
        ]
    )
    return Dataset(
        store,
        RunRegistry(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}),
        {"fake": FakeBackend()},
        default_backend="fake",
    )


def test_the_basic_recipes_view(dataset):
    ids = dataset.sample_ids
    view = dataset.filter_labels("predictions", (F("confidence") > 0.8) & (F("eval") == "fp")).sort_by(
        F("predictions.detections").length(), reverse=True
    )
    assert view.sample_ids == [ids[1], ids[0]]  # sample 2 has no match; sorted by the labels kept
    assert [len(s.fields["predictions"]) for s in view] == [3, 1]
    assert view.first().fields["ground_truth"] == next(dataset.store.get_samples([ids[1]])).fields["ground_truth"]
    kept = dataset.filter_labels("predictions", F("confidence") > 0.8, only_matches=False)
    assert kept.sample_ids == ids and len(list(kept)[2].fields["predictions"]) == 0
    assert kept.values("predictions")[2] == Detections([])
    assert len(next(dataset.store.get_samples([ids[0]])).fields["predictions"]) == 3  # the store is unchanged


def test_a_single_label_field_is_unset_when_filtered_out(dataset):
    view = dataset.filter_labels("weather", F("label") == "rainy", only_matches=False)
    assert "weather" not in view.first().fields
    assert len(dataset.filter_labels("weather", F("label") == "sunny")) == 1


def test_match_and_match_labels(dataset):
    ids = dataset.sample_ids
    assert dataset.match(F("ground_truth.detections").length() > 0).sample_ids == ids[:2]
    assert dataset.match(F("ground_truth.detections.label").length() >= 2).sample_ids == [ids[1]]
    people = dataset.match_labels(filter=F("label") == "person", fields="ground_truth")
    assert people.sample_ids == [ids[1]]
    assert people.limit(1).first().fields["ground_truth"].detections[0].label == "person"  # labels not filtered
    assert dataset.match_labels(filter=F("label") == "person", fields="ground_truth", bool=False).sample_ids == [
        ids[0],
        ids[2],
    ]
    assert dataset.match_labels(filter=F("label") == "bird").sample_ids == [ids[1]]  # every label field
    some = next(dataset.store.get_samples([ids[2]])).fields["predictions"].detections[0].id
    assert dataset.match_labels(ids=[some]).sample_ids == [ids[2]]
    # FiftyOne's labels= form: each label's sample, field and id
    assert dataset.match_labels(
        labels=[{"sample_id": ids[2], "field": "predictions", "label_id": some}]
    ).sample_ids == [ids[2]]
    assert (
        dataset.match_labels(labels=[{"sample_id": ids[2], "field": "ground_truth", "label_id": some}]).sample_ids == []
    )
    named = [{"sample_id": ids[2], "field": "predictions", "label_id": some}]
    assert dataset.match_labels(labels=named, fields="ground_truth").sample_ids == []  # the fields given win
    person = next(dataset.store.get_samples([ids[1]])).fields["ground_truth"].detections[0].id
    assert dataset.match_labels(labels=named, ids=[person], fields=["ground_truth", "predictions"]).sample_ids == [
        ids[1],
        ids[2],
    ]  # the ids given and the labels' ids
    with pytest.raises(ExpressionError, match="takes dicts with 'field' and 'label_id'"):
        dataset.match_labels(labels=[some])
    with pytest.raises(ExpressionError, match=r"match_labels\(\) takes an F expression"):
        dataset.match_labels(filter=lambda label: True)
    with pytest.raises(ExpressionError, match="a tag is a string, got 1"):
        dataset.match_labels(tags=["x", 1])
    with pytest.raises(ExpressionError, match="takes a tag or a list of tags"):
        dataset.match_labels(tags=5)


def test_stages_refuse_what_cannot_work(dataset):
    with pytest.raises(ExpressionError, match="no field 'nope'"):
        dataset.filter_labels("nope", F("label") == "x")
    with pytest.raises(ExpressionError, match="takes an F expression"):
        dataset.filter_labels("predictions", lambda label: True)
    dataset.store.add_samples([Sample(filepath="/3.jpg", media_type="image", fields={"rank": 1})])
    with pytest.raises(ExpressionError, match="holds int values, not labels"):
        dataset.filter_labels("rank", F() > 0)


def test_select_and_exclude_fields(dataset):
    assert set(dataset.select_fields("ground_truth").first().fields) == {"ground_truth"}
    assert set(dataset.exclude_fields(["ground_truth", "weather"]).first().fields) == {"predictions"}
    view = dataset.select_fields("predictions").filter_labels("predictions", F("label") == "dog")
    assert [len(s.fields["predictions"]) for s in view] == [1, 1]


def test_a_filtered_view_uploads_its_labels_only_and_a_load_leaves_the_rest(dataset):
    ids = dataset.sample_ids
    view = dataset.filter_labels("predictions", F("label") == "cat")
    before = {s.id: s.fields["predictions"] for s in dataset.iter_samples()}
    view.annotate("cats", label_field="predictions")
    record = dataset.registry.get_run("ds", "cats")
    assert list(record.sample_ids) == ids[:2]
    assert sorted(record.label_schema["predictions"].classes) == ["cat"]  # observed through the view
    uploaded = {
        label_id
        for task in record.tasks.values()
        for label_id in dataset.registry.get_ledger(record, task.task_id).record().uploaded.label_ids
    }
    cats = {d.id for s in before.values() for d in labels_in(s) if d.label == "cat"}
    assert uploaded == cats
    # the annotators delete every cat of sample 0 and relabel sample 1's first cat
    first = before[ids[1]].detections[0]
    dataset.backends["fake"].server.edits[next(iter(record.tasks))] = [
        ImportedLabel("predictions", ids[1], first.replace(label="lion"), first.id),
        ImportedLabel("predictions", ids[1], before[ids[1]].detections[2], before[ids[1]].detections[2].id),
    ]
    dataset.load_annotations("cats", unexpected="ignore")
    after = {s.id: s.fields["predictions"] for s in dataset.iter_samples()}
    assert [d.label for d in after[ids[0]].detections] == ["dog"]  # the hidden dog stays
    assert [d.label for d in after[ids[1]].detections] == ["lion", "bird", "cat"]  # the hidden bird stays
    assert after[ids[2]] == before[ids[2]]

"""Label tags as FiftyOne's on datasets and views: match_labels(tags=...), filter_labels with
F("tags").contains(...), tag_labels, untag_labels and count_label_tags, each edit one atomic batch
through the LabelStore port, on the in-memory and SQLite stores alike."""

from __future__ import annotations

import pytest

from annoflow.adapters.label_stores import InMemoryLabelStore, SqliteLabelStore
from annoflow.application.dataset import Dataset
from annoflow.application.ports.label_store import UnknownSampleError
from annoflow.application.runs.registry import RunRegistry
from annoflow.domain.changes import PutLabel
from annoflow.domain.expressions import ExpressionError, F
from annoflow.domain.labels import Classification, Detection, Detections, labels_in
from annoflow.domain.samples import Sample, VideoMetadata


def _det(label, conf, tags=()):
    return Detection(label=label, bounding_box=(0.1, 0.1, 0.2, 0.2), confidence=conf, tags=tags)


def _samples():
    return [
        Sample(
            filepath="/0.jpg",
            media_type="image",
            fields={
                "predictions": Detections(
                    [_det("cat", 0.9, ("fp",)), _det("dog", 0.95), _det("cat", 0.3, ("fp", "hard"))]
                ),
                "ground_truth": Detections([_det("dog", None)]),
                "weather": Classification(label="sunny", tags=("hard",)),
            },
        ),
        Sample(
            filepath="/1.jpg",
            media_type="image",
            fields={
                "predictions": Detections([_det("bird", 0.99)]),
                "ground_truth": Detections([_det("bird", None, ("ok",))]),
            },
        ),
        Sample(filepath="/2.jpg", media_type="image", fields={"predictions": Detections([])}),
    ]


class CountingStore:
    """The store, counting the batches applied to it."""

    def __init__(self, store):
        self._store = store
        self.batches = []

    def apply(self, changes):
        self.batches.append(list(changes))
        return self._store.apply(changes)

    def __getattr__(self, name):
        return getattr(self._store, name)


@pytest.fixture(params=["memory", "sqlite"])
def dataset(request, tmp_path):
    store = (
        InMemoryLabelStore("ds")
        if request.param == "memory"
        else SqliteLabelStore(tmp_path / "labels.sqlite", name="ds")
    )
    store.add_samples(_samples())
    yield Dataset(CountingStore(store), RunRegistry(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}))
    store.close()


def _tags(dataset, field="predictions"):
    return [[label.tags for label in labels_in(s.fields.get(field))] for s in dataset.iter_samples(fields=[field])]


def test_match_labels_by_tags(dataset):
    ids = dataset.sample_ids
    assert dataset.match_labels(tags="fp").sample_ids == [ids[0]]
    assert dataset.match_labels(tags=["ok", "nope"]).sample_ids == [ids[1]]  # labels with any of them
    assert dataset.match_labels(tags="hard", fields="weather").sample_ids == [ids[0]]
    assert dataset.match_labels(tags="ok", fields="predictions").sample_ids == []
    assert dataset.match_labels(tags="fp", bool=False).sample_ids == [ids[1], ids[2]]
    # every criterion given: a label tagged fp whose confidence is above 0.5
    assert dataset.match_labels(tags="fp", filter=F("confidence") > 0.5).sample_ids == [ids[0]]
    assert dataset.match_labels(tags="hard", filter=F("confidence") > 0.5, fields="predictions").sample_ids == []
    cat = next(dataset.store.get_samples([ids[0]])).fields["predictions"].detections[0]
    assert dataset.match_labels(tags="fp", ids=[cat.id]).sample_ids == [ids[0]]
    assert dataset.match_labels(tags="ok", ids=[cat.id]).sample_ids == []
    assert dataset.match_labels(tags=[]).sample_ids == []  # no tag to hold


def test_filter_labels_by_tags(dataset):
    view = dataset.filter_labels("predictions", F("tags").contains("fp"))
    assert [[d.confidence for d in s.fields["predictions"].detections] for s in view] == [[0.9, 0.3]]
    both = dataset.filter_labels("predictions", F("tags").contains(["fp", "hard"], all=True))
    assert [[d.confidence for d in s.fields["predictions"].detections] for s in both] == [[0.3]]
    untagged = dataset.filter_labels("predictions", ~F("tags").contains("fp"), only_matches=False)
    assert [[d.label for d in s.fields["predictions"].detections] for s in untagged] == [["dog"], ["bird"], []]


def test_tag_and_untag_labels_of_a_dataset_in_one_batch_each(dataset):
    dataset.tag_labels(["fp", "reviewed"], label_fields="predictions")
    assert _tags(dataset) == [
        [("fp", "reviewed"), ("fp", "reviewed"), ("fp", "hard", "reviewed")],
        [("fp", "reviewed")],
        [],
    ]
    assert _tags(dataset, "ground_truth") == [[()], [("ok",)], []]  # other fields untouched
    assert len(dataset.store.batches) == 1 and len(dataset.store.batches[0]) == 4  # every label lacked one
    dataset.tag_labels("fp", label_fields=["predictions"])
    assert dataset.store.batches[-1] == []  # nothing to add: no label is written again
    dataset.untag_labels(["fp", "nope"], label_fields="predictions")
    assert _tags(dataset) == [[("reviewed",), ("reviewed",), ("hard", "reviewed")], [("reviewed",)], []]
    dataset.tag_labels("all")  # every label field
    assert dataset.count_label_tags() == {"all": 7, "hard": 2, "ok": 1, "reviewed": 4}
    assert dataset.count_label_tags("ground_truth") == {"all": 2, "ok": 1}
    assert dataset.count_label_tags(["weather", "ground_truth"]) == {"all": 3, "hard": 1, "ok": 1}


def test_a_view_tags_only_the_labels_it_shows(dataset):
    ids = dataset.sample_ids
    confident = dataset.filter_labels("predictions", F("confidence") > 0.8)
    assert confident.count_label_tags("predictions") == {"fp": 1}
    confident.tag_labels("confident")
    assert _tags(dataset) == [[("fp", "confident"), ("confident",), ("fp", "hard")], [("confident",)], []]
    # the fields it does not filter show whole: every label of the samples it keeps (0 and 1)
    assert dataset.count_label_tags(["ground_truth", "weather"]) == {"confident": 3, "hard": 1, "ok": 1}
    first = dataset.select(ids[0]).select_fields("weather")
    first.untag_labels(["hard", "confident"])  # only the field it shows
    assert next(dataset.store.get_samples([ids[0]])).fields["weather"].tags == ()
    assert _tags(dataset)[0][2] == ("fp", "hard")
    dataset.match_labels(tags="confident").untag_labels("confident", label_fields="predictions")
    assert dataset.count_label_tags() == {"confident": 2, "fp": 2, "hard": 1, "ok": 1}  # the ground truth's


def test_label_tags_on_a_video_s_frames(tmp_path):
    store = InMemoryLabelStore("videos")
    video = Sample(
        filepath="/v.mp4",
        media_type="video",
        metadata=VideoMetadata(64, 48, 3, 30.0),
        frames={
            1: {"objects": Detections([_det("car", None)])},
            3: {"objects": Detections([_det("car", None, ("ok",))])},
        },
    )
    store.add_samples([video])
    dataset = Dataset(store, RunRegistry(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}))
    assert dataset.count_label_tags() == {"ok": 1}
    assert dataset.match_labels(tags="ok", fields="frames.objects").sample_ids == [video.id]
    dataset.tag_labels("seen", label_fields="frames.objects")
    (back,) = store.get_samples()
    assert [[d.tags for d in frame["objects"].detections] for frame in back.frames.values()] == [
        [("seen",)],
        [("ok", "seen")],
    ]


def test_bad_tags_and_fields_are_refused_before_anything_is_written(dataset):
    with pytest.raises(ExpressionError, match="a tag is a string, got 3"):
        dataset.tag_labels(["ok", 3])
    with pytest.raises(ExpressionError, match="tag_labels\\(\\): the dataset has no field 'nope'"):
        dataset.tag_labels("ok", label_fields="nope")
    dataset.store.add_samples([Sample(filepath="/3.jpg", media_type="image", fields={"rank": 1})])
    with pytest.raises(ExpressionError, match="holds int values, not labels"):
        dataset.untag_labels("ok", label_fields="rank")
    with pytest.raises(ExpressionError, match="a tag or a list of tags"):
        dataset.untag_labels(None)
    assert dataset.store.batches == []


def test_a_batch_that_fails_tags_nothing(dataset):
    store = dataset.store

    def failing(changes):  # the batch is refused as a whole, as a store refuses any bad batch
        store._store.apply([*changes, PutLabel("f" * 24, "predictions", _det("x", None))])

    store.apply = failing
    with pytest.raises(UnknownSampleError):
        dataset.tag_labels("lost")
    assert dataset.count_label_tags() == {"fp": 2, "hard": 2, "ok": 1}
    assert dataset.match_labels(tags="lost").sample_ids == []

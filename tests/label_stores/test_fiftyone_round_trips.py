"""The FiftyOne store against the in-memory one on random samples and batches of changes (a FiftyOne
dataset holds images or videos, so each example draws one kind), and FiftyOne's side of it: the
documents are the ones FiftyOne's classes write, under the same ids, and what annoflow does not
model of a label FiftyOne made is kept when annoflow edits it."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annoflow.adapters.label_stores import InMemoryLabelStore
from annoflow.application.ports.label_store import FieldSchemaError
from annoflow.domain.changes import DeleteLabel, PutLabel, SetValue
from annoflow.domain.labels import (
    Classification,
    Detection,
    Detections,
    Keypoint,
    Keypoints,
    Polyline,
    Polylines,
    Segmentation,
)
from annoflow.domain.samples import ImageMetadata, Sample
from annoflow.domain.schema_observation import observe
from tests import strategies as strat
from tests.label_stores.exact import exact
from tests.label_stores.test_round_trips import SETTINGS, histories, replay_beside

pytestmark = pytest.mark.fiftyone
FIFTYONE_SETTINGS = settings(SETTINGS, max_examples=40)  # a FiftyOne dataset per example

one_media = st.one_of(
    st.lists(strat.image_samples(), min_size=1, max_size=4).map(strat.unique_samples),
    st.lists(strat.video_samples(), min_size=1, max_size=4).map(strat.unique_samples),
)


@pytest.fixture
def new_store(fiftyone):
    """A factory for stores over new FiftyOne datasets, deleted after the test."""
    from annoflow.adapters.label_stores.fiftyone_store import FiftyOneLabelStore

    made = []

    def make():
        made.append(fiftyone.Dataset())
        return FiftyOneLabelStore(made[-1])

    yield make
    for dataset in made:
        dataset.delete()


@FIFTYONE_SETTINGS
@given(one_media)
def test_samples_round_trip_bit_exact(new_store, samples):
    store = new_store()
    store.add_samples(samples)
    assert exact(list(store.get_samples())) == exact(samples)
    assert exact(list(store.get_samples(list(reversed([s.id for s in samples]))))) == exact(samples[::-1])
    assert store.sample_ids() == [s.id for s in samples]


@FIFTYONE_SETTINGS
@given(histories().filter(lambda h: len({s.media_type for s in h[0]}) == 1))
def test_fiftyone_ends_as_memory_after_the_same_changes(new_store, history):
    samples, batches = history
    videos = samples[0].media_type.value == "video"
    replay_beside(InMemoryLabelStore("ds"), new_store(), samples, batches, frame_fields=videos)


@FIFTYONE_SETTINGS
@given(one_media, st.data())
def test_observing_reads_what_the_samples_show(new_store, samples, data):
    store = new_store()
    store.add_samples(samples)
    ids = data.draw(st.lists(st.sampled_from([s.id for s in samples]), unique=True, min_size=1))
    paths = sorted(store.field_schema())
    assert exact(store.observe(ids, paths)) == exact(
        observe(InMemoryLabelStore_of(samples).get_samples(ids, fields=paths), paths)
    )


def InMemoryLabelStore_of(samples):  # noqa: N802 - reads as the store it makes
    memory = InMemoryLabelStore("ds")
    memory.add_samples(samples)
    return memory


def test_fiftyone_reads_annoflows_labels_under_the_same_ids(new_store, fiftyone):
    store = new_store()
    box = Detection(
        label="cat",
        bounding_box=(0.1, 0.2, 0.3, 0.4),
        mask=np.eye(3, dtype=bool),
        confidence=0.5,
        index=2,
        keyframe=True,
        attributes={"occluded": False, "score": 3},
    )
    points = Keypoint(label="face", points=[(0.1, 0.2), (float("nan"), float("nan"))], confidence=[0.9, 0.1])
    seg = Segmentation(mask=np.arange(6, dtype=np.uint8).reshape(2, 3))
    line = Polyline(label="road", points=[[(0.0, 0.0), (1.0, 1.0)]], closed=True)
    sample = Sample(
        filepath="/a.jpg",
        media_type="image",
        metadata=ImageMetadata(64, 48),
        fields={"gt": Detections([box]), "kps": Keypoints([points]), "seg": seg, "n": 3},
        tags=["val"],
    )
    store.add_samples([sample])
    store.apply(
        [SetValue(sample.id, "line", Polylines([line])), SetValue(sample.id, "weather", Classification(label="sun"))]
    )
    fo_sample = store.fiftyone_dataset[sample.id]
    (fo_box,) = fo_sample.gt.detections
    assert fo_box.id == box.id and fo_box.label == "cat" and fo_box.bounding_box == [0.1, 0.2, 0.3, 0.4]
    assert fo_box.mask.tolist() == box.mask.tolist() and fo_box.index == 2 and fo_box.keyframe is True
    assert fo_box.occluded is False and fo_box.score == 3 and fo_box.confidence == 0.5
    assert fo_sample.kps.keypoints[0].id == points.id and fo_sample.seg.mask.tolist() == seg.mask.tolist()
    assert fo_sample.line.polylines[0].closed and fo_sample.weather.label == "sun" and fo_sample.n == 3
    assert fo_sample.tags == ["val"] and fo_sample.metadata.width == 64
    assert isinstance(store.fiftyone_dataset.get_field("gt"), fiftyone.EmbeddedDocumentField)


def test_what_annoflow_does_not_model_is_kept_when_it_edits_a_label(new_store, fiftyone):
    store = new_store()
    dataset = store.fiftyone_dataset
    made = fiftyone.Detection(
        label="cat",
        bounding_box=[0.1, 0.1, 0.2, 0.2],
        tags=["checked"],
        mask_path="/m.png",
        occluded=True,
        history=["a", "b"],
    )
    broken = fiftyone.Detection(bounding_box=[0.1, 0.1, 0.2, 0.2])  # no class: annoflow cannot hold it
    dataset.add_sample(fiftyone.Sample(filepath="/a.jpg", gt=fiftyone.Detections(detections=[made, broken])))
    (sample,) = store.get_samples()
    (box,) = sample.fields["gt"].detections  # the broken one is left out
    assert box.id == made.id and dict(box.attributes) == {"occluded": True}
    store.apply(
        [
            PutLabel(sample.id, "gt", box.replace(label="dog", attributes={})),
            PutLabel(sample.id, "gt", Detection(label="new", bounding_box=(0, 0, 0.1, 0.1))),
        ]
    )
    labels = dataset.first().gt.detections
    assert [d.label for d in labels] == ["dog", None, "new"]
    edited = labels[0]
    assert edited.tags == ["checked"] and edited.mask_path == "/m.png" and edited.history == ["a", "b"]
    assert not edited.has_field("occluded") or edited["occluded"] is None  # annoflow removed the attribute
    store.apply([DeleteLabel(sample.id, "gt", made.id)])
    assert [d.label for d in dataset.first().gt.detections] == [None, "new"]


def test_what_fiftyone_cannot_hold_is_refused_before_anything_is_written(new_store, fiftyone):
    store = new_store()
    sample = Sample(filepath="/a.jpg", media_type="image", fields={"n": 1})
    store.add_samples([sample])
    with pytest.raises(FieldSchemaError, match="attribute 'mask_path' of a Detection names a field of FiftyOne's"):
        store.apply(
            [
                SetValue(sample.id, "n", 2),
                SetValue(
                    sample.id,
                    "gt",
                    Detections([Detection(label="x", bounding_box=(0, 0, 1, 1), attributes={"mask_path": "p"})]),
                ),
            ]
        )
    with pytest.raises(FieldSchemaError, match="does not fit a 64-bit integer"):
        store.apply([SetValue(sample.id, "n", 2**63)])
    assert next(store.get_samples()).fields == {"n": 1} and "gt" not in store.field_schema()
    with pytest.raises(FieldSchemaError, match="FiftyOne keeps frame fields only on video datasets"):
        store.declare_field("frames.x", store.field_schema()["n"])
    with pytest.raises(ValueError, match="holds images only: got video samples"):
        store.add_samples([Sample(filepath="/v.mp4", media_type="video")])
    with pytest.raises(
        FieldSchemaError, match=r"field 'created_at' of FiftyOne dataset .* holds values annoflow does not hold"
    ):
        store.apply([SetValue(sample.id, "created_at", "today")])


def test_a_store_over_a_view_reads_what_the_view_shows_and_writes_to_the_dataset(new_store, fiftyone):
    from fiftyone import ViewField as F

    from annoflow.adapters.label_stores.fiftyone_store import FiftyOneLabelStore

    store = new_store()
    boxes = [Detection(label=name, bounding_box=(0.1, 0.1, 0.2, 0.2)) for name in ("cat", "dog")]
    shown = Sample(filepath="/a.jpg", media_type="image", fields={"gt": Detections(boxes)})
    hidden = Sample(filepath="/b.jpg", media_type="image", fields={"gt": Detections([boxes[1].replace(id="a" * 24)])})
    store.add_samples([shown, hidden])
    view = store.fiftyone_dataset.filter_labels("gt", F("label") == "cat")
    through = FiftyOneLabelStore(view)
    assert through.name == store.name and through.sample_ids() == [shown.id] and len(through) == 1
    (sample,) = through.get_samples()
    assert [d.label for d in sample.fields["gt"].detections] == ["cat"]
    through.apply([DeleteLabel(shown.id, "gt", boxes[0].id)])
    assert [d.label for d in next(store.get_samples([shown.id])).fields["gt"].detections] == ["dog"]


def test_generated_views_and_grouped_datasets_are_refused_by_name(new_store, fiftyone):
    from annoflow.adapters.label_stores.fiftyone_store import FiftyOneLabelStore

    store = new_store()
    store.add_samples(
        [
            Sample(
                filepath="/a.jpg",
                media_type="image",
                fields={"gt": Detections([Detection(label="x", bounding_box=(0, 0, 1, 1))])},
            )
        ]
    )
    with pytest.raises(TypeError, match="is a patches, frames or clips view: annotate the samples it comes from"):
        FiftyOneLabelStore(store.fiftyone_dataset.to_patches("gt"))
    grouped = fiftyone.Dataset()
    try:
        grouped.add_group_field("group", default="left")
        group = fiftyone.Group()
        grouped.add_samples([fiftyone.Sample(filepath="/l.jpg", group=group.element("left"))])
        with pytest.raises(TypeError, match="holds group samples: annoflow takes image and video datasets"):
            FiftyOneLabelStore(grouped)
    finally:
        grouped.delete()

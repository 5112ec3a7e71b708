"""Views select the samples the workflows of FiftyOne's CVAT guide annotate, reading only what they need."""

from __future__ import annotations

import pytest

from annoflow.adapters.label_stores import InMemoryLabelStore
from annoflow.application.dataset import Dataset
from annoflow.application.runs.registry import RunRegistry
from annoflow.domain.labels import Detection, Detections
from annoflow.domain.samples import Sample


def _dataset(n=10):
    store = InMemoryLabelStore("ds")
    samples = []
    for i in range(n):
        dets = Detections(
            [
                Detection(label="person" if j % 2 else "cat", bounding_box=(0, 0, 0.1, 0.1), confidence=j / 10)
                for j in range(i % 4)
            ]
        )
        fields = {"gt": dets, "rank": n - i}
        if i % 3 == 0:
            fields["note"] = f"n{i}"
        samples.append(Sample(filepath=f"/img{i}.jpg", media_type="image", fields=fields))
    store.add_samples(samples)
    return Dataset(store, RunRegistry(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})), [s.id for s in samples]


def test_select_limit_skip():
    ds, ids = _dataset()
    assert ds.select([ids[5], ids[2]]).sample_ids == [ids[2], ids[5]]
    assert ds.select([ids[5], ids[2]], ordered=True).sample_ids == [ids[5], ids[2]]
    assert ds.select(ids[3]).sample_ids == [ids[3]]
    assert ds.skip(2).limit(3).sample_ids == ids[2:5]
    assert len(ds.limit(0)) == 0 and len(ds) == 10


def test_take_is_seeded():
    ds, ids = _dataset()
    taken = ds.take(4, seed=51).sample_ids
    assert len(taken) == 4 and set(taken) <= set(ids)
    assert ds.take(4, seed=51).sample_ids == taken
    assert ds.take(4, seed=52).sample_ids != taken or ds.take(4, seed=53).sample_ids != taken
    assert sorted(ds.take(100, seed=1).sample_ids) == sorted(ids)


def test_match_exists_sort_by():
    ds, ids = _dataset()
    people = ds.match(
        lambda s: any(d.label == "person" for d in s.fields.get("gt", Detections()).detections), fields=["gt"]
    )
    assert people.sample_ids == [i for k, i in enumerate(ids) if k % 4 >= 2]
    assert ds.exists("note").sample_ids == [ids[0], ids[3], ids[6], ids[9]]
    assert ds.exists("gt").sample_ids == [i for k, i in enumerate(ids) if k % 4]  # empty lists do not count
    assert ds.exists("note", False).sample_ids == [i for k, i in enumerate(ids) if k % 3]
    assert ds.sort_by("rank").sample_ids == list(reversed(ids))
    most = ds.sort_by("gt", reverse=True).sample_ids
    assert [len(s.fields["gt"]) for s in ds.store.get_samples(most)] == sorted((k % 4 for k in range(10)), reverse=True)
    assert ds.sort_by("note", reverse=True).sample_ids[-6:] == [i for k, i in enumerate(ids) if k % 3]  # missing last
    assert ds.sort_by(lambda s: s.filepath, reverse=True).first().filepath == "/img9.jpg"


def test_values_and_first():
    ds, ids = _dataset(3)
    assert ds.values("id") == ids
    assert ds.values("rank") == [3, 2, 1]
    assert ds.limit(1).first().id == ids[0]
    with pytest.raises(ValueError, match="empty"):
        ds.limit(0).first()


def test_views_compose_without_touching_the_dataset():
    ds, ids = _dataset()
    view = ds.skip(1)
    assert view.limit(2).sample_ids == ids[1:3]
    assert view.sample_ids == ids[1:]
    assert len(view.stages) == 1


def test_a_view_loads_the_annotations_of_the_run_it_sent():
    from tests.fakes import FakeBackend

    ds, _ids = _dataset(4)
    ds.backends["fake"], ds.default_backend = FakeBackend(), "fake"
    view = ds.skip(1).limit(2)
    view.annotate("k", label_field="gt")
    run = ds.registry.get_run("ds", "k")
    (task,) = run.tasks.values()
    ds.backends["fake"].server.edits[task.task_id] = []  # the annotator deleted every label
    report = ds.load_annotation_view("k").load_annotations("k", unexpected="ignore", cleanup=True)
    assert report == {} and not report  # nothing returned, as FiftyOne returns nothing; the figures are attributes
    assert (report.deleted, report.added, report.missing_tasks) == (3, 0, ())
    assert [len(s.fields["gt"]) for s in ds.iter_samples()] == [0, 0, 0, 3]
    assert ds.last_load.summary.deleted == 3 and ds.registry.get_run("ds", "k").status.value == "cleaned_up"


def test_sort_by_a_frame_field_counts_its_labels_over_all_frames():
    from annoflow.domain.samples import VideoMetadata

    store = InMemoryLabelStore("videos")
    videos = [
        Sample(
            filepath=f"/v{n}.mp4",
            media_type="video",
            metadata=VideoMetadata(64, 48, 3, 30.0),
            frames={
                frame: {
                    "objects": Detections([Detection(label="car", bounding_box=(0, 0, 0.1, 0.1)) for _ in range(count)])
                }
                for frame, count in counts.items()
            },
        )
        for n, counts in enumerate([{1: 3}, {1: 1, 2: 1, 3: 2}, {2: 1}])
    ]
    store.add_samples(videos)
    dataset = Dataset(store, RunRegistry(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}))
    assert dataset.sort_by("frames.objects", reverse=True).sample_ids == [videos[1].id, videos[0].id, videos[2].id]

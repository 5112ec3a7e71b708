"""Step code for features/annotating_videos.feature: FiftyOne's CVAT guide, "Annotating videos"."""

from __future__ import annotations

import numpy as np
import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from annoflow.adapters.label_stores import InMemoryLabelStore
from annoflow.adapters.quickstart import generate_quickstart_video
from annoflow.domain.changes import SetValue
from tests.bdd.cvat_steps import *  # noqa: F403 - the shared load steps
from tests.bdd.cvat_steps import annotator, login, task_id

scenarios("annotating_videos.feature")

SIZE = (64, 48)
KEYFRAMES = {0: [4.0, 6.0, 20.0, 18.0], 3: [16.0, 12.0, 40.0, 30.0]}


@given(parsers.parse("the quickstart-video dataset with {count:d} videos of {frames:d} frames as MP4 files"))
def quickstart_video(world, tmp_path, count, frames):
    store = InMemoryLabelStore("quickstart")
    store.add_samples(generate_quickstart_video(tmp_path / "media", num_samples=count, num_frames=frames, size=SIZE))
    world["store"] = store
    world["frames"] = frames


@given(parsers.parse('the frame field "{name}" is deleted'))
def delete_frame_field(world, name):
    store = world["store"]
    store.apply([SetValue(sample.id, f"frames.{name}", None, number)
                 for sample in store.get_samples(store.sample_ids()) for number in sample.frames])


@when(parsers.parse('the annotator draws a "{cls}" track with "{name}" set to "{text}", keyframes on task frames '
                    '{first:d} and {second:d}, hidden from task frame {hidden:d}'))
def draws_track(world, cls, name, text, first, second, hidden):
    assert set(KEYFRAMES) == {first, second}
    with annotator(world) as client:
        world["track"] = client.add_track(task_id(world), cls, KEYFRAMES, outside=hidden, attributes={name: text})


def _detections(world, number):
    sample = next(world["dataset"].store.get_samples([world["sample"].id]))
    value = sample.frames.get(number, {}).get("detections")
    return list(value.detections) if value is not None else []


@then(parsers.parse('frames {first:d} to {last:d} of the video have one "{cls}" detection with "{name}" set to '
                    '"{text}", all with one index'))
def frames_have_track(world, first, last, cls, name, text):
    found = [_detections(world, number) for number in range(first, last + 1)]
    assert all(len(labels) == 1 for labels in found), found
    labels = [labels[0] for labels in found]
    assert {(l.label, l.attributes.get(name)) for l in labels} == {(cls, text)}
    assert len({l.index for l in labels}) == 1 and labels[0].index is not None
    assert len({l.id for l in labels}) == len(labels)  # one label per frame, each its own id


@then(parsers.re(r"its frames (?P<a>\d+) and (?P<b>\d+) are keyframes and frames (?P<between>[\d, and]+) are as "
                 r"CVAT interpolates them"))
def keyframes_and_interpolation(world, a, b, between):
    width, height = SIZE
    start, stop = (np.asarray(KEYFRAMES[k]) for k in sorted(KEYFRAMES))
    for number in (int(a), int(b)):
        (label,) = _detections(world, number)
        x1, y1, x2, y2 = KEYFRAMES[number - 1]
        assert label.keyframe is True
        assert label.bounding_box == pytest.approx((x1 / width, y1 / height, (x2 - x1) / width, (y2 - y1) / height))
    for number in (int(n) for n in between.replace("and", ",").split(",") if n.strip()):
        (label,) = _detections(world, number)
        frame = number - 1  # task frame
        if frame < 3:
            x1, y1, x2, y2 = (start + (stop - start) * (frame / 3)).tolist()
        else:  # after the last keyframe, CVAT holds it until the track is hidden
            x1, y1, x2, y2 = stop.tolist()
        assert label.keyframe is False
        assert label.bounding_box == pytest.approx((x1 / width, y1 / height, (x2 - x1) / width, (y2 - y1) / height),
                                                   abs=1e-12)


@then(parsers.parse("frames {a:d} and {b:d} of the video have no detections"))
def frames_empty(world, a, b):
    assert _detections(world, a) == [] and _detections(world, b) == []


@then(parsers.parse('the annotation view of "{key}" holds the annotated video only'))
def annotation_view(world, key):
    assert [s.id for s in world["dataset"].load_annotation_view(key).iter_samples()] == [world["sample"].id]


@when(parsers.parse('I clean up the run "{key}" and delete it'))
def cleanup_and_delete(world, key):
    world["dataset"].load_annotation_results(key, **login(world)).cleanup()
    world["dataset"].delete_annotation_run(key)


@then("the dataset has no annotation run")
def no_runs(world):
    assert world["dataset"].list_annotation_runs() == []

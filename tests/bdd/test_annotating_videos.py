"""Step code for features/annotating_videos.feature: FiftyOne's CVAT guide, "Annotating videos"."""

from __future__ import annotations

import numpy as np
import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from annoflow.adapters.label_stores import InMemoryLabelStore
from annoflow.adapters.quickstart import generate_quickstart_video
from annoflow.domain.changes import SetValue
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
    store.apply(
        [
            SetValue(sample.id, f"frames.{name}", None, number)
            for sample in store.get_samples(store.sample_ids())
            for number in sample.frames
        ]
    )


@when(
    parsers.parse(
        'the annotator draws a "{cls}" track with "{name}" set to "{text}", keyframes on task frames '
        "{first:d} and {second:d}, hidden from task frame {hidden:d}"
    )
)
def draws_track(world, cls, name, text, first, second, hidden):
    assert set(KEYFRAMES) == {first, second}
    with annotator(world) as client:
        world["track"] = client.add_track(task_id(world), cls, KEYFRAMES, outside=hidden, attributes={name: text})


def _detections(world, number):
    sample = next(world["dataset"].store.get_samples([world["sample"].id]))
    value = sample.frames.get(number, {}).get("detections")
    return list(value.detections) if value is not None else []


@then(
    parsers.parse(
        'frames {first:d} to {last:d} of the video have one "{cls}" detection with "{name}" set to '
        '"{text}", all with one index'
    )
)
def frames_have_track(world, first, last, cls, name, text):
    found = [_detections(world, number) for number in range(first, last + 1)]
    assert all(len(labels) == 1 for labels in found), found
    labels = [labels[0] for labels in found]
    assert {(detection.label, detection.attributes.get(name)) for detection in labels} == {(cls, text)}
    assert len({label.index for label in labels}) == 1 and labels[0].index is not None
    assert len({label.id for label in labels}) == len(labels)  # one label per frame, each its own id


@then(
    parsers.re(
        r"its frames (?P<a>\d+) and (?P<b>\d+) are keyframes and frames (?P<between>[\d, and]+) are as "
        r"CVAT interpolates them"
    )
)
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
        assert label.bounding_box == pytest.approx(
            (x1 / width, y1 / height, (x2 - x1) / width, (y2 - y1) / height), abs=1e-12
        )


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


MOVED = [1.0, 2.0, 21.0, 12.0]


def _labels(world):
    """(frame number, index) -> label of the annotated video's frames.detections."""
    sample = next(world["dataset"].store.get_samples([world["sample"].id]))
    return {
        (number, label.index): label
        for number, frame in sample.frames.items()
        for label in (frame["detections"].detections if frame.get("detections") is not None else ())
    }


@given(parsers.parse('every {nth:d}th frame and the last of the video\'s "{name}" are keyframes'))
def mark_keyframes(world, nth, name):
    store = world["store"]
    sample = store.get_samples(store.sample_ids()[:1]).__next__()
    count = len(sample.frames)
    keyframes = set(range(1, count, nth)) | {1, count}
    store.apply(
        [
            SetValue(
                sample.id,
                f"frames.{name}",
                type(frame[name])(
                    [d.replace(keyframe=True) if number in keyframes else d for d in frame[name].detections]
                ),
                number,
            )
            for number, frame in sample.frames.items()
        ]
    )
    world["keyframes"] = keyframes


@then(
    parsers.re(r"CVAT holds one track per object of the video, with shapes on task frames (?P<frames>[\d, and]+) only")
)
def tracks_on_keyframes(world, frames):
    expected = [int(n) for n in frames.replace("and", ",").split(",") if n.strip()]
    world["before"] = _labels(world)
    with annotator(world) as client:
        stored = client.annotations(task_id(world))
    assert stored["shapes"] == [] and len(stored["tracks"]) == len({index for _, index in world["before"]})
    assert all([s["frame"] for s in track["shapes"]] == expected for track in stored["tracks"])


@when(parsers.parse("the annotator moves the first track on task frame {frame:d}"))
def move_first_track(world, frame):
    with annotator(world) as client:
        track = min(client.annotations(task_id(world))["tracks"], key=lambda t: t["id"])
        client.move_keyframe(task_id(world), track["id"], frame, MOVED)
        # the first track went up first: the smallest index among the video's objects
        world["moved_index"] = min(index for _, index in world["before"])


def _relative(points):
    width, height = SIZE
    x1, y1, x2, y2 = points
    return (x1 / width, y1 / height, (x2 - x1) / width, (y2 - y1) / height)


@then(
    parsers.parse("that object's label on frame {number:d} is where the annotator put it, a keyframe with the same id")
)
def moved_keyframe(world, number):
    index = world["moved_index"]
    label = _labels(world)[(number, index)]
    assert label.bounding_box == pytest.approx(_relative(MOVED)) and label.keyframe is True
    assert label.id == world["before"][(number, index)].id


def _pixels(box):
    width, height = SIZE
    x, y, w, h = box
    return np.asarray([x * width, y * height, (x + w) * width, (y + h) * height])


@then(
    parsers.parse(
        "that object's frames {a:d} to {b:d} and {c:d} to {d:d} are as CVAT interpolates them, with their ids"
    )
)
def interpolated_frames(world, a, b, c, d):
    index, before, now = world["moved_index"], world["before"], _labels(world)
    moved = np.asarray(MOVED)
    spans = [
        (range(a, b + 1), _pixels(before[(a - 1, index)].bounding_box), moved, a - 1, b + 1),
        (range(c, d + 1), moved, _pixels(before[(d + 1, index)].bounding_box), c - 1, d + 1),
    ]
    for numbers, start, stop, first, last in spans:
        for number in numbers:
            # CVAT works in task frames: here task frame = number - 1, on both ends alike
            expected = start + (stop - start) * ((number - first) / (last - first))
            label = now[(number, index)]
            assert label.bounding_box == pytest.approx(_relative(expected.tolist()), abs=1e-12), number
            # the same label, its own flags kept: it was no keyframe and the annotator did not make it one
            assert label.id == before[(number, index)].id and label.keyframe == before[(number, index)].keyframe


@then("the other labels of the video are unchanged to the bit")
def others_unchanged(world):
    now, index = _labels(world), world["moved_index"]
    assert all(now[key] == label for key, label in world["before"].items() if key[1] != index)
    assert set(now) == set(world["before"])


# --- "Restricting label edits": a read-only type and an immutable make -----------------------


def _spec_ids(client, task, name):
    return {a["id"] for label in client.labels(task).values() for a in label["attributes"] if a["name"] == name}


@then(parsers.parse('CVAT holds "{track_level}" on each track and "{shape_level}" on each of its shapes'))
def attributes_where_cvat_keeps_them(world, track_level, shape_level):
    with annotator(world) as client:
        task = task_id(world)
        on_track, on_shapes = _spec_ids(client, task, track_level), _spec_ids(client, task, shape_level)
        tracks = client.annotations(task)["tracks"]
    assert tracks
    for track in tracks:
        assert {a["spec_id"] for a in track["attributes"]} <= on_track  # immutable: the track's (none set yet)
        assert all({a["spec_id"] for a in s["attributes"]} & on_shapes for s in track["shapes"] if not s["outside"])
        assert not any({a["spec_id"] for a in s["attributes"]} & on_track for s in track["shapes"])
    world["before"] = _labels(world)


@when(
    parsers.parse(
        'the annotator sets the first track\'s "{track_level}" to "{make}" and its "{shape_level}" to '
        '"{kind}" on every frame'
    )
)
def set_track_attributes(world, track_level, make, shape_level, kind):
    with annotator(world) as client:
        task = task_id(world)
        (make_spec,), type_specs = _spec_ids(client, task, track_level), _spec_ids(client, task, shape_level)
        track = min(client.annotations(task)["tracks"], key=lambda t: t["id"])
        type_spec = next(a["spec_id"] for a in track["shapes"][0]["attributes"] if a["spec_id"] in type_specs)
        shapes = [
            {
                **s,
                "attributes": [a for a in s["attributes"] if a["spec_id"] != type_spec]
                + [{"spec_id": type_spec, "value": kind}],
            }
            for s in track["shapes"]
        ]
        client._patch(
            task,
            "update",
            "tracks",
            [{**track, "shapes": shapes, "attributes": [{"spec_id": make_spec, "value": make}]}],
        )
        world["edited_frames"] = sorted(s["frame"] + 1 for s in track["shapes"] if not s["outside"])
    world["edited_index"] = min(index for _, index in world["before"])


@then(parsers.parse('every frame of that object has "{name}" set to "{make}" and keeps its "{kept}"'))
def every_frame_has_make(world, name, make, kept):
    index, before, now = world["edited_index"], world["before"], _labels(world)
    frames = [number for number, i in before if i == index]
    assert frames == world["edited_frames"]
    for number in frames:
        label = now[(number, index)]
        assert label.attributes[name] == make and label.attributes[kept] == before[(number, index)].attributes[kept]
        assert label.id == before[(number, index)].id


@then(parsers.parse('the other object has no "{name}"'))
def other_has_no_make(world, name):
    index, now = world["edited_index"], _labels(world)
    assert all(name not in label.attributes for (_, i), label in now.items() if i != index)
    assert all(label == world["before"][key] for key, label in now.items() if key[1] != index)


@then(parsers.parse('the run\'s events record a "{rule}" refusal on each frame of that object'))
def refusal_per_frame(world, rule):
    run = world["dataset"].registry.get_run("quickstart", world["run"].key)
    found = sorted(
        e.rejection.frame
        for e in world["dataset"].registry.iter_history(run.id, details=True)
        if type(e).__name__ == "Rejected" and e.rejection.rule == rule
    )
    assert found == world["edited_frames"]


# --- "Using frame start, stop, step" ------------------------------------------------------------


@when(
    parsers.parse(
        'I annotate both videos\' "{field}" starting the first at frame {first:d} and the second at frame '
        "{second:d}, with steps {step1:d} and {step2:d}, stopping at frame {stop:d}"
    )
)
def annotate_clips(world, field, first, second, step1, step2, stop):
    dataset = world["dataset"]
    paths = [s.filepath for s in dataset.iter_samples()]
    world["videos"] = [s.id for s in dataset.iter_samples()]
    world["results"] = dataset.annotate(
        "frame_args",
        label_field=field,
        label_type="detections",
        classes=["person", "vehicle"],
        frame_start={paths[0]: first, paths[1]: second},
        frame_step=[step1, step2],
        frame_stop=stop,
        **login(world),
    )
    world["run"] = dataset.registry.get_run("quickstart", "frame_args")
    world["field"] = field


def _task_of(world, position):
    results = world["results"]
    (task,) = [t for t in results.task_ids if results.frame_id_map[t][0]["sample_id"] == world["videos"][position]]
    return task


@then(
    parsers.re(
        r"the first video's task shows its frames (?P<first>[\d, and]+) and the second's its frames "
        r"(?P<second>[\d, and]+)"
    )
)
def clips_shown(world, first, second):
    for position, text in enumerate((first, second)):
        expected = [int(n) for n in text.replace("and", ",").split(",") if n.strip()]
        frames = world["results"].frame_id_map[_task_of(world, position)]
        assert [frames[k]["frame_number"] for k in sorted(frames)] == expected
        assert {f["sample_id"] for f in frames.values()} == {world["videos"][position]}


@when(
    parsers.parse(
        'the annotator draws a "{cls}" box on task frame {a:d} of the first task and on task frame {b:d} of the second'
    )
)
def draw_on_clips(world, cls, a, b):
    with annotator(world) as client:
        for position, frame in enumerate((a, b)):
            client.add_shape(_task_of(world, position), cls, frame, "rectangle", [4.0, 4.0, 20.0, 16.0])


@then(
    parsers.parse("the first video has one new detection, on its frame {a:d}, and the second one, on its frame {b:d}")
)
def new_detections_on_frames(world, a, b):
    name = world["field"].removeprefix("frames.")
    width, height = SIZE
    for video, number in zip(world["videos"], (a, b), strict=True):
        sample = next(world["dataset"].store.get_samples([video]))
        found = {
            n: frame[name].detections
            for n, frame in sample.frames.items()
            if frame.get(name) is not None and frame[name].detections
        }
        assert list(found) == [number]
        (label,) = found[number]
        assert label.bounding_box == pytest.approx((4 / width, 4 / height, 16 / width, 12 / height))


@when(parsers.parse('I delete the annotation run "{key}"'))
def delete_run(world, key):
    world["dataset"].delete_annotation_run(key)

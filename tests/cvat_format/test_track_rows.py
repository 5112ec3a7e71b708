"""A video's frame labels read as rows go up exactly as the same labels read as samples (property tests).

annotate() converts a video task's frame fields straight from the store's rows
(`CVATSession._frame_row_objects`: tracks by index, loose labels as shapes); the sample path
(`CVATSession._frame_objects`) builds a label per frame. Both must send the same CVAT objects in
the same order, whatever the tracks' gaps, keyframes, classes, immutable attributes, and the
task's frame range.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annoflow.adapters.cvat_backend.backend import CVATSession
from annoflow.adapters.cvat_format.upload import Uploader
from annoflow.adapters.label_stores import SqliteLabelStore
from annoflow.application.ports.label_store import rows_of_sample
from annoflow.domain.label_schema import build_label_schema
from annoflow.domain.labels import Detection, Detections, Keypoints, Polylines
from annoflow.domain.run_records import FrameRef
from annoflow.domain.samples import Sample, VideoMetadata
from tests import strategies as strat
from tests.cvat_format.test_round_trip import CLASSES, _server

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
classes = st.sampled_from(
    [*CLASSES[:3] * 3, "not in the schema"]
)  # mostly sent: a label not sent makes its track loose
attributes = st.dictionaries(
    st.sampled_from(["make", "type", "occluded", "other"]),
    st.none() | st.booleans() | st.integers(-3, 3) | st.text("ab ", max_size=3),
    max_size=3,
)
indexes = st.sampled_from([1, 2, 3, 1, 2, None])  # few indexes: labels of a field share them, as tracks do


def _tracked(label, cls, attrs, index, keyframe, masked=False):
    extra = {"mask": label.mask if masked else None} if hasattr(label, "mask") else {}
    return label.replace(
        label=cls, attributes={k: v for k, v in attrs.items() if v is not None}, index=index, keyframe=keyframe, **extra
    )


boxes = st.builds(_tracked, strat.detections, classes, attributes, indexes, strat.keyframes, st.booleans())
lines = st.builds(_tracked, strat.polylines, classes, attributes, indexes, strat.keyframes)
points = st.builds(_tracked, strat.keypoints(), classes, attributes, indexes, strat.keyframes)
FIELDS = {
    "detections": ("detections", Detections, boxes),
    "lines": ("polylines", Polylines, lines),
    "kps": ("keypoints", Keypoints, points),
}


def _frame_labels(element):
    # an index is one object on a frame once (checked before any upload): drop a frame's repeats
    def one_per_index(labels):
        seen, out = set(), []
        for label in labels:
            if label.index is None or label.index not in seen:
                seen.add(label.index)
                out.append(label)
        return out

    return st.lists(element, min_size=1, max_size=3).map(one_per_index)


@SETTINGS
@given(
    st.sampled_from(sorted(FIELDS)),
    st.data(),
    st.integers(1, 3),
    st.integers(1, 2),
    st.booleans(),
    st.integers(1, 3000),
    st.integers(1, 3000),
)
def test_rows_and_samples_send_the_same_video_objects(name, data, first, step, mutable, width, height):
    label_type, cls, element = FIELDS[name]
    count = 12
    # labelled frames: a run of frames (a track's segment) or any of them (gaps)
    numbers = data.draw(
        st.builds(lambda a, n: set(range(a, min(a + n, count + 1))), st.integers(1, count), st.integers(1, count))
        | st.sets(st.integers(1, count), max_size=10)
    )
    frames = {n: data.draw(_frame_labels(element)) for n in sorted(numbers)}
    seen, unique = set(), {}
    for n, labels in frames.items():  # every label id once in the video
        unique[n] = [label for label in labels if label.id not in seen and not seen.add(label.id)]
    sample = Sample(
        filepath="/v.mp4",
        media_type="video",
        metadata=VideoMetadata(width, height, count, 10.0),
        frames={n: {name: cls(labels)} for n, labels in unique.items()},
    )
    path = f"frames.{name}"
    schema = build_label_schema(
        label_schema={
            path: {
                "type": label_type,
                "classes": CLASSES[:3],
                "attributes": {
                    "make": {"type": "text", "mutable": mutable},
                    "type": {"type": "text", "mutable": False},
                    "occluded": {"type": "checkbox"},
                },
            }
        },
        field_schema={},
        media_type="video",
        occluded_attr="occluded",
    )
    with tempfile.TemporaryDirectory() as folder:
        store = SqliteLabelStore(Path(folder) / "labels.sqlite", name="ds")
        try:
            store.add_samples([sample])
            (read,) = store.get_label_rows([sample.id], (path,))
            (stored,) = store.get_samples([sample.id], fields=(path,))
        finally:
            store.close()
    refs = [FrameRef(sample.id, n) for n in range(first, count + 1, step)]  # the task's frame range
    size = {"width": width, "height": height}
    uploader = Uploader(schema[path], _server(schema))
    from_samples = list(CVATSession._frame_objects(uploader, stored, refs, size))
    from_rows = list(CVATSession._frame_row_objects(uploader, read.rows, refs, size))
    assert from_rows == from_samples
    # and the rows a sample already built gives (the default of every store) send the same too
    built = rows_of_sample(stored, (path,)).rows
    assert list(CVATSession._frame_row_objects(uploader, built, refs, size)) == from_samples


def test_only_keyframes_go_up_from_rows_when_the_video_marks_keyframes():
    frames = {
        n: {
            "detections": Detections(
                [
                    Detection(
                        label="cat", bounding_box=(0.1, 0.1, 0.2, 0.2), index=1, keyframe=n in (1, 3), id=f"{n:024x}"
                    )
                ]
            )
        }
        for n in range(1, 6)
    }
    sample = Sample(filepath="/v.mp4", media_type="video", metadata=VideoMetadata(10, 10, 12, 10.0), frames=frames)
    schema = build_label_schema(
        label_schema={"frames.detections": {"type": "detections", "classes": CLASSES[:3]}},
        field_schema={},
        media_type="video",
    )
    uploader = Uploader(schema["frames.detections"], _server(schema))
    refs = [FrameRef(sample.id, n) for n in range(1, 13)]
    size = {"width": 10, "height": 10}
    rows = rows_of_sample(sample, ("frames.detections",)).rows
    ((kind, track, _),) = CVATSession._frame_row_objects(uploader, rows, refs, size)
    # frames 1 and 3 (keyframes), 5 (the segment's end) and the outside shape after it
    assert kind == "tracks" and [shape["frame"] for shape in track["shapes"]] == [0, 2, 4, 5]
    assert list(CVATSession._frame_objects(uploader, sample, refs, size)) == [(kind, track, _)]

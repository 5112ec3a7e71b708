"""A task's provenance is stored compactly, and comes back equal, in either stored layout."""

from __future__ import annotations

import json

import pytest
from eventsourcing.persistence import JSONTranscoder

from annoflow.application.runs.registry import event_value_objects
from annoflow.application.runs.transcodings import register_value_objects
from annoflow.domain.ids import new_id
from annoflow.domain.run_records import FrameRef, RemoteAttributeRef, RemoteLabelRef, TaskRecord, UploadedObjects


def _transcoder() -> JSONTranscoder:
    transcoder = JSONTranscoder()
    register_value_objects(transcoder, event_value_objects())
    return transcoder


def _record(samples: int = 1000, per_sample: int = 20, video: bool = False) -> TaskRecord:
    sample_ids = [new_id() for _ in range(samples)]
    rows = [
        (
            "ground_truth" if i % 3 else "predictions",
            new_id(),
            sample,
            "tag" if i % 7 == 0 else "shape",
            1000 + i * 2,
            (i % 5) if video else None,
        )
        for n, sample in enumerate(sample_ids)
        for i in range(n * per_sample, (n + 1) * per_sample)
    ]
    return TaskRecord(
        task_id=3,
        project_id=None,
        job_ids=[4, 5],
        frames=[FrameRef(s, 1 if video else None) for s in sample_ids],
        uploaded=UploadedObjects(*zip(*rows, strict=True)),
        labels=[RemoteLabelRef(9, "cat", "ground_truth", "cat")],
        attributes=[RemoteAttributeRef(11, 9, "label_id")],
    )


def test_at_most_60_bytes_a_label_and_equal_on_the_way_back():
    for record in (_record(), _record(video=True, samples=10, per_sample=30)):
        encoded = _transcoder().encode(record)
        assert _transcoder().decode(encoded) == record
    record = _record()
    assert len(_transcoder().encode(record)) / len(record.uploaded) <= 60


def test_records_stored_as_plain_columns_still_decode():
    record = _record(samples=3, per_sample=2)
    stored = json.loads(_transcoder().encode(record))
    data = stored["_data_"]
    up = record.uploaded
    data["frames"] = [
        {"_type_": "FrameRef", "_data_": {"sample_id": f.sample_id, "frame": f.frame}} for f in record.frames
    ]
    data["uploaded"] = {
        "columns": {
            "field": list(up.fields),
            "label_id": list(up.label_ids),
            "sample_id": list(up.sample_ids),
            "cvat_type": list(up.remote_kinds),
            "cvat_id": list(up.remote_ids),
            "frame": list(up.frames),
        }
    }
    assert _transcoder().decode(json.dumps(stored).encode()) == record


@pytest.mark.parametrize("deltas_packed", [False, True], ids=["JSON numbers", "packed differences from 0"])
def test_records_stored_in_earlier_integer_layouts_still_decode(deltas_packed):
    # before: the integer columns as JSON lists and remote ids as differences from 0 (a while also
    # packed, with the first difference among them)
    from annoflow.application.runs.transcodings import _packed, _unpacked

    for record in (_record(samples=30, per_sample=4), _record(video=True, samples=10, per_sample=3)):
        stored = json.loads(_transcoder().encode(record))
        data = stored["_data_"]
        uploaded = data["uploaded"]
        for key in ("field", "sample", "remote_steps", "frames"):
            assert uploaded[key] is None or isinstance(uploaded[key], str)  # packed now
            uploaded[key] = _unpacked(uploaded[key])
        data["frames"]["numbers"] = _unpacked(data["frames"]["numbers"])
        ids = list(record.uploaded.remote_ids)
        deltas = [b - a for a, b in zip([0, *ids], ids, strict=False)]
        del uploaded["remote_start"], uploaded["remote_steps"]
        uploaded["remote_deltas"] = _packed(deltas) if deltas_packed else deltas
        assert _transcoder().decode(json.dumps(stored).encode()) == record


def test_a_task_whose_remote_ids_start_high_packs_its_steps_narrow():
    # the first id of a run's fiftieth task is large; its steps are not
    record = _record(samples=5, per_sample=4)
    up = record.uploaded
    high = tuple(10**9 + 2 * i for i in range(len(up)))
    record = TaskRecord(
        **{
            **{a.name: getattr(record, a.name) for a in TaskRecord.__attrs_attrs__},
            "uploaded": UploadedObjects(up.fields, up.label_ids, up.sample_ids, up.remote_kinds, high, up.frames),
        }
    )
    uploaded = json.loads(_transcoder().encode(record))["_data_"]["uploaded"]
    assert uploaded["remote_start"] == 10**9 and uploaded["remote_steps"].startswith("i1:")
    assert _transcoder().decode(_transcoder().encode(record)) == record


@pytest.mark.parametrize(
    ("values", "code"),
    [
        ([0, 1, 127, -128], "i1"),
        ([128, -129, 300], "i2"),
        ([2**31 - 1, -(2**31), 5], "i4"),
        ([2**40, -(2**63), 2**63 - 1], "i8"),
        ([7] * 1000, "i1"),
    ],
)
def test_int_columns_pack_into_the_smallest_type_and_come_back_equal(values, code):
    from annoflow.application.runs.transcodings import _packed, _unpacked

    packed = _packed(values)
    assert isinstance(packed, str) and packed.startswith(f"{code}:")
    back = _unpacked(packed)
    assert back == values and all(type(v) is int for v in back)


@pytest.mark.parametrize("values", [[], [2**63], [1, "5f0c0ffee0c0ffee0c0ffee0"], [None, 3], [1.5]])
def test_columns_that_are_not_64_bit_ints_stay_lists(values):
    from annoflow.application.runs.transcodings import _packed, _unpacked

    assert _packed(values) == values and _unpacked(values) == values


def test_a_label_whose_sample_has_no_frame_keeps_its_sample_id():
    record = _record(samples=3, per_sample=2)
    stray = new_id()  # a sample the task's frames do not show: its id travels as it is
    up = record.uploaded
    moved = UploadedObjects(
        up.fields, up.label_ids, (stray, *up.sample_ids[1:]), up.remote_kinds, up.remote_ids, up.frames
    )
    record = TaskRecord(**{**{a.name: getattr(record, a.name) for a in TaskRecord.__attrs_attrs__}, "uploaded": moved})
    assert _transcoder().decode(_transcoder().encode(record)) == record


def test_a_load_s_changes_of_a_task_travel_as_columns_and_come_back_equal():
    import math

    import numpy as np

    from annoflow.domain.labels import Classification, Detection, Keypoint, Polyline, Segmentation
    from annoflow.domain.run_records import MergedChange, MergedChanges

    mask = np.zeros((5, 7), dtype=bool)
    mask[1:4, 2:6] = True
    box = Detection(
        label="cat",
        bounding_box=(0.123456789, 0.2, 0.3, 0.4),
        confidence=0.9,
        index=3,
        attributes={"iscrowd": 1, "note": "x", "score": math.inf},
    )
    sample, other = new_id(), new_id()
    changes = MergedChanges(
        [
            MergedChange("edited", sample, "gt", box.id, label=box, remote_id=101),
            MergedChange(
                "added",
                sample,
                "gt",
                (m := Detection(label="dog", bounding_box=(0, 0, 1, 1), mask=mask)).id,
                label=m,
                remote_id=102,
                source_field="ground_truth",
            ),
            MergedChange("deleted", other, "gt", new_id()),
            MergedChange(
                "added",
                other,
                "frames.kp",
                (k := Keypoint(label="face", points=((0.1, 0.2), (math.nan, math.nan)))).id,
                frame=4,
                label=k,
                remote_id=7,
                tracked=True,
            ),
            MergedChange(
                "added",
                other,
                "lines",
                (p := Polyline(label="road", points=(((0.1, 0.2), (0.3, 0.4)),))).id,
                label=p,
                remote_id=8,
            ),
            MergedChange("edited", other, "weather", (c := Classification(label="sunny")).id, label=c, remote_id=9),
            MergedChange(
                "added", other, "seg", (s := Segmentation(mask=np.arange(12, dtype=np.uint8).reshape(3, 4))).id, label=s
            ),
            MergedChange("edited", sample, "count", None, value=5),
            MergedChange("deleted", sample, "note", None),
        ]
    )
    encoded = _transcoder().encode(changes)
    assert _transcoder().decode(encoded) == changes
    boxes = MergedChanges(
        [
            MergedChange(
                "edited",
                new_id(),
                "ground_truth",
                (
                    d := Detection(
                        label="cat", bounding_box=(0.1234567, 0.2345678, 0.31, 0.42), attributes={"iscrowd": 0}
                    )
                ).id,
                label=d,
                remote_id=1000 + i,
            )
            for i in range(1000)
        ]
    )
    per_change = len(_transcoder().encode(boxes)) / 1000
    assert per_change <= 200, per_change  # an event per change cost about 870 bytes stored

"""A load's changes encode to the very bytes they encoded to before MergedChangesTranscoding.encode was
split into steps: stored runs and their digests depend on the format, so a refactoring must not move a byte."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from eventsourcing.persistence import JSONTranscoder

from annoflow.application.runs.registry import event_value_objects
from annoflow.application.runs.transcodings import register_value_objects
from annoflow.domain.labels import Classification, Detection, Keypoint, Polyline, Segmentation
from annoflow.domain.run_records import MergedChange, MergedChanges

RECORDED = Path(__file__).parent.parent / "fixtures" / "transcodings" / "merged_changes.json"


def _transcoder() -> JSONTranscoder:
    transcoder = JSONTranscoder()
    register_value_objects(transcoder, event_value_objects())
    return transcoder


def _id(n: int) -> str:
    return f"{n:024x}"


def _changes() -> MergedChanges:
    mask = np.zeros((5, 7), dtype=bool)
    mask[1:4, 2:6] = True
    box = Detection(
        id=_id(1),
        label="cat",
        bounding_box=(0.123456789, 0.2, 0.3, 0.4),
        confidence=0.9,
        index=3,
        attributes={"iscrowd": 1, "note": "x", "score": math.inf},
    )
    masked = Detection(id=_id(2), label="dog", bounding_box=(0, 0, 1, 1), mask=mask)
    point = Keypoint(id=_id(3), label="face", points=((0.1, 0.2), (math.nan, math.nan)))
    line = Polyline(id=_id(4), label="road", points=(((0.1, 0.2), (0.3, 0.4)),))
    tag = Classification(id=_id(5), label="sunny")
    seg = Segmentation(id=_id(6), mask=np.arange(12, dtype=np.uint8).reshape(3, 4))
    sample, other = _id(100), _id(101)
    return MergedChanges(
        [
            MergedChange("edited", sample, "gt", box.id, label=box, remote_id=101),
            MergedChange("added", sample, "gt", masked.id, label=masked, remote_id=102, source_field="ground_truth"),
            MergedChange("deleted", other, "gt", _id(7)),
            MergedChange("added", other, "frames.kp", point.id, frame=4, label=point, remote_id=7, tracked=True),
            MergedChange("added", other, "lines", line.id, label=line, remote_id=8),
            MergedChange("edited", other, "weather", tag.id, label=tag, remote_id=9),
            MergedChange("added", other, "seg", seg.id, label=seg),
            MergedChange("edited", sample, "count", None, value=5),
            MergedChange("deleted", sample, "note", None),
        ]
    )


def _untracked_scalars_only() -> MergedChanges:
    """All-None columns (frames, labels, remote ids, sources) and no track go out as None."""
    return MergedChanges(
        [MergedChange("edited", _id(200), "count", None, value=3), MergedChange("deleted", _id(201), "note", None)]
    )


def test_a_fixed_load_s_changes_encode_to_the_bytes_recorded_before():
    encoded = _transcoder().encode(_changes()) + b"\n" + _transcoder().encode(_untracked_scalars_only()) + b"\n"
    assert encoded == RECORDED.read_bytes()
    assert _transcoder().decode(encoded.split(b"\n")[0]) == _changes()

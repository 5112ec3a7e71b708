"""A task's provenance is stored compactly, and comes back equal, in either stored layout."""

from __future__ import annotations

import json

from eventsourcing.persistence import JSONTranscoder

from annoflow.application.runs.registry import event_value_objects
from annoflow.application.runs.transcodings import register_value_objects
from annoflow.domain.ids import new_id
from annoflow.domain.run_records import CvatAttributeRef, CvatLabelRef, FrameRef, TaskRecord, UploadedObjects


def _transcoder() -> JSONTranscoder:
    transcoder = JSONTranscoder()
    register_value_objects(transcoder, event_value_objects())
    return transcoder


def _record(samples: int = 1000, per_sample: int = 20, video: bool = False) -> TaskRecord:
    sample_ids = [new_id() for _ in range(samples)]
    rows = [("ground_truth" if i % 3 else "predictions", new_id(), sample, "tag" if i % 7 == 0 else "shape",
             1000 + i * 2, (i % 5) if video else None)
            for n, sample in enumerate(sample_ids) for i in range(n * per_sample, (n + 1) * per_sample)]
    return TaskRecord(
        task_id=3, project_id=None, job_ids=[4, 5],
        frames=[FrameRef(s, 1 if video else None) for s in sample_ids],
        uploaded=UploadedObjects(*zip(*rows)),
        labels=[CvatLabelRef(9, "cat", "ground_truth", "cat")], attributes=[CvatAttributeRef(11, 9, "label_id")],
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
    data["frames"] = [{"_type_": "FrameRef", "_data_": {"sample_id": f.sample_id, "frame": f.frame}} for f in record.frames]
    data["uploaded"] = {"columns": {"field": list(up.fields), "label_id": list(up.label_ids),
                                    "sample_id": list(up.sample_ids), "cvat_type": list(up.cvat_types),
                                    "cvat_id": list(up.cvat_ids), "frame": list(up.frames)}}
    assert _transcoder().decode(json.dumps(stored).encode()) == record

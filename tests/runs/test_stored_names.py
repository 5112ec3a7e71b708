"""Value objects renamed in the domain are stored under the names they were first written with.

The domain's remote names (`RemoteLabelRef`, ``remote_id``...) replaced CVAT's; the stored
format did not change, so a file written now reads in the same way as one written before, and
the objects come back equal.
"""

from __future__ import annotations

import json

from eventsourcing.persistence import JSONTranscoder

from annoflow.application.runs.registry import event_value_objects
from annoflow.application.runs.transcodings import register_value_objects
from annoflow.domain.ids import new_id
from annoflow.domain.labels import Detection
from annoflow.domain.run_records import (
    MergedChange,
    Rejection,
    RemoteAttributeRef,
    RemoteLabelRef,
    RemoteObjectKind,
    UploadedObject,
)


def _transcoder() -> JSONTranscoder:
    transcoder = JSONTranscoder()
    register_value_objects(transcoder, event_value_objects())
    return transcoder


def test_renamed_value_objects_keep_their_stored_type_names_and_keys():
    transcoder = _transcoder()
    box = Detection(label="cat", bounding_box=(0.1, 0.2, 0.3, 0.4))
    objects = {
        "label": RemoteLabelRef(remote_label_id=5, remote_name="cat_gt", field="gt", class_name="cat"),
        "attribute": RemoteAttributeRef(spec_id=9, remote_label_id=5, name="label_id"),
        "uploaded": UploadedObject("gt", new_id(), new_id(), RemoteObjectKind.TRACK, 17, 3),
        "change": MergedChange("added", new_id(), "gt", box.id, label=box, remote_id=102),
        "rejection": Rejection(new_id(), "gt", "allow_additions", "add 'cat' box", remote_id=103),
    }
    stored = json.loads(transcoder.encode(objects))
    assert stored["label"]["_type_"] == "CvatLabelRef"
    assert stored["label"]["_data_"] == {"cvat_label_id": 5, "cvat_name": "cat_gt", "field": "gt", "class_name": "cat"}
    assert stored["attribute"]["_type_"] == "CvatAttributeRef"
    assert stored["attribute"]["_data_"] == {"spec_id": 9, "cvat_label_id": 5, "name": "label_id"}
    assert (stored["uploaded"]["_data_"]["cvat_type"], stored["uploaded"]["_data_"]["cvat_id"]) == ("track", 17)
    assert stored["change"]["_data_"]["cvat_id"] == 102 and stored["rejection"]["_data_"]["cvat_id"] == 103
    assert not any("remote" in key for value in stored.values() for key in value["_data_"])
    assert transcoder.decode(transcoder.encode(objects)) == objects


def test_an_object_stored_before_the_rename_reads_back_under_the_new_names():
    transcoder = _transcoder()
    sample = new_id()
    old = {
        "_type_": "Rejection",
        "_data_": {
            "sample_id": sample,
            "field": "gt",
            "rule": "malformed",
            "attempted": "shape 7: no points",
            "label_id": None,
            "frame": 2,
            "cvat_id": 7,
        },
    }
    back = transcoder.decode(json.dumps({"r": old}).encode())["r"]
    assert back == Rejection(sample, "gt", "malformed", "shape 7: no points", None, 2, remote_id=7)

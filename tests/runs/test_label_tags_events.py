"""Label tags in run events: a tagged label comes back with its tags, and a label recorded before
labels had tags (no ``tags`` in its stored form) comes back with none."""

from __future__ import annotations

import json

import numpy as np
from eventsourcing.persistence import JSONTranscoder

from annoflow.application.runs.registry import event_value_objects
from annoflow.application.runs.transcodings import register_value_objects
from annoflow.domain.ids import new_id
from annoflow.domain.labels import Classification, Detection, Segmentation
from annoflow.domain.run_records import MergedChange, MergedChanges


def _transcoder() -> JSONTranscoder:
    transcoder = JSONTranscoder()
    register_value_objects(transcoder, event_value_objects())
    return transcoder


def _changes(tags: tuple[str, ...]) -> MergedChanges:
    sample = new_id()
    box = Detection(label="cat", bounding_box=(0.1, 0.2, 0.3, 0.4), confidence=0.9, tags=tags)
    seg = Segmentation(mask=np.arange(6, dtype=np.uint8).reshape(2, 3), tags=tags)
    weather = Classification(label="sunny", tags=tags)
    return MergedChanges(
        [
            MergedChange("edited", sample, "gt", box.id, label=box, remote_id=3),
            MergedChange("added", sample, "seg", seg.id, label=seg),
            MergedChange("edited", sample, "weather", weather.id, label=weather, remote_id=4),
        ]
    )


def test_tagged_labels_of_a_load_come_back_with_their_tags():
    changes = _changes(("reviewed", "hard"))
    back = _transcoder().decode(_transcoder().encode(changes))
    assert back == changes
    assert all(c.label.tags == ("reviewed", "hard") for c in back.items)


def test_a_batch_of_changes_recorded_before_tags_decodes_with_empty_tags():
    changes = _changes(())
    stored = json.loads(_transcoder().encode(changes))
    labels = stored["_data_"]["labels"]
    assert all("tags" not in values for _, values, _ in labels)  # untagged labels are stored as before tags
    for _, values, _ in labels:  # and the form written before tags existed is exactly this
        values.pop("tags", None)
    back = _transcoder().decode(json.dumps(stored).encode())
    assert back == changes and all(c.label.tags == () for c in back.items)


def test_a_change_recorded_one_an_event_before_tags_decodes_with_empty_tags():
    # ledgers written before batches carry one MergedChange an event, its label as an attrs object
    change = _changes(("reviewed",)).items[0]
    assert _transcoder().decode(_transcoder().encode(change)) == change
    stored = json.loads(_transcoder().encode(change))
    label = stored["_data_"]["label"]
    assert label["_data_"].pop("tags") == ["reviewed"]  # what an event of a label before tags lacks
    back = _transcoder().decode(json.dumps(stored).encode())
    assert back.label.tags == () and back.label == change.label.replace(tags=())

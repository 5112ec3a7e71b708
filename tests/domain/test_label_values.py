"""Labels as plain values and back: tags travel when set and are left out when empty, so rows and
events written before labels had tags still read."""

from __future__ import annotations

import json

import numpy as np
import pytest

from annoflow.application.ports.mask_codec import decode_mask, encode_mask
from annoflow.domain.label_values import label_from_values, label_values
from annoflow.domain.labels import Classification, Detection, Keypoint, Polyline, Segmentation

LABELS = [
    Classification(label="cat", attributes={"note": "x"}),
    Detection(label="cat", bounding_box=(0.1, 0.2, 0.3, 0.4), confidence=0.5),
    Polyline(label="road", points=[[(0.1, 0.2), (0.3, 0.4)]]),
    Keypoint(label="person", points=[(0.1, 0.2)]),
    Segmentation(mask=np.eye(3, dtype=np.uint8)),
]


def _mask(label):
    mask = getattr(label, "mask", None)
    return None if mask is None else decode_mask(encode_mask(mask))  # as a store or an event gives it back


@pytest.mark.parametrize("label", LABELS, ids=lambda label: label.kind)
def test_tags_travel_through_plain_values(label):
    tagged = label.replace(tags=("train", "hard"))
    values = json.loads(json.dumps(label_values(tagged)))  # as a store or an event keeps them
    assert values["tags"] == ["train", "hard"]
    back = label_from_values(label.kind, label.id, values, _mask(tagged))
    assert back == tagged and type(back.tags) is tuple


@pytest.mark.parametrize("label", LABELS, ids=lambda label: label.kind)
def test_empty_tags_are_left_out_and_values_without_tags_read_as_untagged(label):
    values = label_values(label)
    assert "tags" not in values  # rows and events of untagged labels are as they were before tags
    back = label_from_values(label.kind, label.id, json.loads(json.dumps(values)), _mask(label))
    assert back == label and back.tags == ()

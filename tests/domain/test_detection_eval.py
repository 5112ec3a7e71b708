"""coco_map: pycocotools' mAP figure on cases small enough to work out by hand."""

from __future__ import annotations

import pytest

from annoflow.domain.detection_eval import coco_map
from annoflow.domain.labels import Detection


def _box(label, x, confidence=None, crowd=False):
    attributes = {"iscrowd": 1} if crowd else {}
    return Detection(label=label, bounding_box=(x, 0.1, 0.2, 0.2), confidence=confidence, attributes=attributes)


def test_predictions_on_every_object_score_one():
    gts = [_box("cat", 0.1), _box("dog", 0.5)]
    preds = [_box("cat", 0.1, 0.9), _box("dog", 0.5, 0.8)]
    assert coco_map([(preds, gts)]) == pytest.approx(1.0)


def test_a_class_without_ground_truth_is_left_out():
    gts = [_box("cat", 0.1)]
    preds = [_box("cat", 0.1, 0.9), _box("bird", 0.5, 0.8)]
    assert coco_map([(preds, gts)]) == pytest.approx(1.0)  # bird, all false positives, does not count


def test_no_ground_truth_at_all_gives_minus_one():
    assert coco_map([([_box("cat", 0.1, 0.9)], [])]) == -1.0
    assert coco_map([]) == -1.0


def test_a_prediction_matched_to_a_crowd_is_ignored():
    gts = [_box("cat", 0.1), _box("cat", 0.6, crowd=True)]
    preds = [_box("cat", 0.6, 0.95), _box("cat", 0.35, 0.9), _box("cat", 0.1, 0.8)]
    # the crowd's match is neither true nor false: a false positive, then the match, precision 1/2 at recall 1
    assert coco_map([(preds, gts)]) == pytest.approx(0.5)


def test_a_false_positive_above_the_match_halves_the_precision():
    gts = [_box("cat", 0.1)]
    preds = [_box("cat", 0.7, 0.95), _box("cat", 0.1, 0.9)]
    # recall reaches 1 at the second prediction, where precision is 1/2, at every threshold
    assert coco_map([(preds, gts)]) == pytest.approx(0.5)


def test_classes_and_samples_are_pooled_per_class():
    first = ([_box("cat", 0.1, 0.9)], [_box("cat", 0.1)])
    second = ([_box("cat", 0.1, 0.95), _box("dog", 0.5, 0.5)], [_box("dog", 0.1)])
    # cat: a false positive (0.95) ranks above the match (0.9): precision 1/2 at recall 1; dog: nothing found
    assert coco_map([first, second]) == pytest.approx((0.5 + 0.0) / 2)

"""Labels validate what they are given and compare bit-exactly."""

from __future__ import annotations

import math

import numpy as np
import pytest

from annoflow.domain.fields import FieldKind, FieldPath, kind_of
from annoflow.domain.ids import is_id, new_id
from annoflow.domain.labels import (
    Classification,
    Classifications,
    Detection,
    Detections,
    Keypoint,
    Polyline,
    Segmentation,
    labels_in,
)
from annoflow.domain.samples import ImageMetadata, Sample, VideoMetadata

NAN = float("nan")


def test_ids_are_unique_24_hex():
    ids = {new_id() for _ in range(10_000)}
    assert len(ids) == 10_000 and all(is_id(i) for i in ids)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: Detection(label="", bounding_box=(0, 0, 1, 1)), "label must be a non-empty string"),
        (lambda: Detection(label="a", bounding_box=(0.5, 0, 0.6, 1)), r"inside \[0, 1\]"),
        (lambda: Detection(label="a", bounding_box=(0, 0, -0.1, 1)), r"inside \[0, 1\]"),
        (lambda: Detection(label="a", bounding_box=(NAN, 0, 0.1, 1)), "must be finite"),
        (lambda: Detection(label="a", bounding_box=(0, 0, 1, 1), mask=np.zeros(3)), "must be 2-D"),
        (lambda: Detection(label="a", bounding_box=(0, 0, 1, 1), mask=np.full((2, 2), 7)), "booleans"),
        (lambda: Detection(label="a", bounding_box=(0, 0, 1, 1), confidence=math.inf), "confidence must be finite"),
        (lambda: Detection(label="a", bounding_box=(0, 0, 1, 1), index=1.5), "expected an integer"),
        (lambda: Detection(label="a", bounding_box=(0, 0, 1, 1), keyframe=1), "expected a bool"),
        (lambda: Detection(label="a", bounding_box=(0, 0, 1, 1), id="xyz"), "24 lowercase hex"),
        (lambda: Classification(label="a", attributes={"tags": [1]}), "reserved"),
        (lambda: Classification(label="a", attributes={"x": [1]}), "scalars only"),
        (lambda: Classification(label="a", attributes={"not ok": 1}), "not an identifier"),
        (lambda: Classification(label="a", attributes={"label_id": "x"}), "reserved"),
        (lambda: Keypoint(label="a", points=[(0.1, NAN)]), r"\(nan, nan\)"),
        (lambda: Keypoint(label="a", points=[(0.1, 0.2)], confidence=[0.1, 0.2]), "one value per point"),
        (lambda: Polyline(label="a", points=[[(0, math.inf)]]), "must be finite"),
        (lambda: Segmentation(mask=np.zeros((2, 2), float)), "holds integers"),
        (lambda: Segmentation(mask=np.zeros((2, 2, 3), np.uint8)), "must be 2-D"),
        (lambda: Detections([Classification(label="a")]), "expected Detection items"),
        (lambda: Classification(label="a", tags="train"), "a list of strings"),
        (lambda: Detection(label="a", bounding_box=(0, 0, 1, 1), tags=["ok", 1]), "strings only"),
        (lambda: Segmentation(mask=np.zeros((2, 2), np.uint8), tags=[None]), "strings only"),
        (lambda: Keypoint(label="a", points=[(0.1, 0.2)], tags=3), "a list of strings"),
    ],
)
def test_invalid_labels_are_refused(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()


def test_duplicate_ids_in_a_list_are_refused():
    det = Detection(label="a", bounding_box=(0, 0, 1, 1))
    with pytest.raises(ValueError, match="duplicate label ids"):
        Detections([det, det])


def test_masks_compare_bit_exact_and_are_read_only():
    mask = np.zeros((3, 4), np.uint8)
    mask[1, 2] = 1
    det = Detection(label="a", bounding_box=(0, 0, 1, 1), mask=mask)
    assert det.mask.dtype == np.bool_ and not det.mask.flags.writeable
    mask[0, 0] = 1  # the label copied the array
    assert not det.mask[0, 0]
    assert det == det.replace()
    assert det != det.replace(mask=np.zeros((3, 4), bool))
    seg = Segmentation(mask=np.ones((2, 2), np.uint8), id=det.id)
    assert seg != Segmentation(mask=np.ones((2, 2), np.uint16), id=det.id)  # dtype is part of the value


def test_missing_keypoints_equal_missing_keypoints():
    kp = Keypoint(label="p", points=[(0.1, 0.2), (NAN, NAN)], confidence=[0.9, NAN])
    assert kp == kp.replace()
    assert kp != kp.replace(points=[(0.1, 0.2), (0.3, 0.3)])


def test_numpy_scalars_become_python_scalars():
    c = Classification(label="a", confidence=np.float32(0.5), attributes={"n": np.int64(3), "b": np.bool_(True)})
    assert type(c.attributes["n"]) is int and type(c.attributes["b"]) is bool
    assert type(c.confidence) is float


def test_field_kinds_and_paths():
    assert kind_of(True) is FieldKind.BOOL and kind_of(1) is FieldKind.INT and kind_of(None) is None
    assert (
        kind_of(Detections()) is FieldKind.DETECTIONS and kind_of(Classification(label="a")) is FieldKind.CLASSIFICATION
    )
    assert FieldPath.parse("frames.detections") == FieldPath("detections", on_frames=True)
    assert str(FieldPath.parse("frames.detections")) == "frames.detections"
    with pytest.raises(ValueError, match="must be an identifier"):
        FieldPath.parse("frames.")
    assert labels_in(Classifications([Classification(label="a")]))[0].label == "a"


def test_samples():
    image = Sample(filepath="/a.jpg", media_type="image", metadata=ImageMetadata(640, 480), fields={"alt": "/b.jpg"})
    assert image.media() == "/a.jpg" and image.media("alt") == "/b.jpg"
    with pytest.raises(ValueError, match="no media path in field 'nope'"):
        image.media("nope")
    with pytest.raises(ValueError, match="only video samples have frames"):
        Sample(filepath="/a.jpg", media_type="image", frames={1: {"n": 1}})
    with pytest.raises(TypeError, match="takes ImageMetadata"):
        Sample(filepath="/a.jpg", media_type="image", metadata=VideoMetadata(1, 1, 1, 1))
    with pytest.raises(ValueError, match="reserved for a sample property"):
        Sample(filepath="/a.jpg", media_type="image", fields={"metadata": 1})
    with pytest.raises(ValueError, match="frame numbers start at 1"):
        Sample(filepath="/a.mp4", media_type="video", frames={0: {}})
    video = Sample(filepath="/a.mp4", media_type="video").with_value("frames.det", Detections(), frame=3)
    assert video.get("frames.det", frame=3) == Detections() and video.get("frames.det", frame=1) is None
    assert video.with_value("frames.det", None, frame=3).frames == {}  # None unsets; empty frames are left out


def test_every_label_has_tags_empty_by_default():
    made = [
        Classification(label="a"),
        Detection(label="a", bounding_box=(0, 0, 1, 1)),
        Polyline(label="a", points=[[(0, 0)]]),
        Keypoint(label="a", points=[(0.1, 0.2)]),
        Segmentation(mask=np.zeros((2, 2), np.uint8)),
    ]
    for label in made:
        assert label.tags == ()
        tagged = label.replace(tags=["train", np.str_("hard")])
        assert tagged.tags == ("train", "hard") and type(tagged.tags) is tuple
        assert tagged != label  # tags are part of the value
        assert label.replace(tags=None).tags == ()

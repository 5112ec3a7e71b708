"""F expressions evaluate as FiftyOne's (MongoDB's) do over annoflow's samples and labels."""

from __future__ import annotations

import pytest

from annoflow.domain.expressions import ExpressionError, F, evaluate, fields_read
from annoflow.domain.labels import Classification, Detection, Detections
from annoflow.domain.samples import ImageMetadata, Sample


def _sample():
    dets = Detections(
        [
            Detection(label="cat", bounding_box=(0.1, 0.1, 0.2, 0.2), confidence=0.9, attributes={"eval": "fp"}),
            Detection(label="dog", bounding_box=(0.5, 0.5, 0.2, 0.3), confidence=0.4),
            Detection(label="cat", bounding_box=(0.2, 0.2, 0.1, 0.1)),
        ]
    )
    return Sample(
        filepath="/a.jpg",
        media_type="image",
        metadata=ImageMetadata(640, 480),
        fields={"predictions": dets, "weather": Classification(label="sunny"), "rank": 3},
    )


def test_nested_paths_go_through_label_lists():
    s = _sample()
    assert evaluate(F("predictions.detections").length(), s) == 3
    assert evaluate(F("predictions.detections.label"), s) == ["cat", "dog", "cat"]
    assert evaluate(F("predictions.detections.confidence"), s) == [0.9, 0.4]  # missing values left out
    assert evaluate(F("weather.label"), s) == "sunny"
    assert evaluate(F("metadata.width") * F("metadata.height"), s) == 640 * 480
    assert evaluate(F("filepath"), s) == "/a.jpg"
    assert evaluate(F("nothing.here"), s) is None
    assert evaluate(F("nothing").length(), s) == 0


def test_label_relative_paths_and_the_root():
    s = _sample()
    cat, dog, plain = s.fields["predictions"].detections
    expr = (F("confidence") > 0.8) & (F("eval") == "fp")
    assert [evaluate(expr, s, d) for d in (cat, dog, plain)] == [True, False, False]
    assert evaluate(F("id"), s, cat) == cat.id
    assert evaluate(F("bounding_box"), s, cat) == [0.1, 0.1, 0.2, 0.2]
    assert evaluate(F("$rank") + 1, s, dog) == 4


def test_missing_values_compare_as_mongodb_null():
    s = _sample()
    plain = s.fields["predictions"].detections[2]
    assert evaluate(F("confidence") > 0.5, s, plain) is False
    assert evaluate(F("confidence") < 0.5, s, plain) is True  # null sorts below numbers
    assert evaluate(F("confidence").exists(), s, plain) is False
    assert evaluate(F("confidence").exists(False), s, plain) is True
    assert evaluate(F("confidence") + 1, s, plain) is None
    assert evaluate(F("label") > 3, s, plain) is True  # strings sort above numbers


def test_logic_membership_and_arithmetic():
    s = _sample()
    cat, dog, _ = s.fields["predictions"].detections
    assert evaluate(F("label").is_in(["dog", "bird"]), s, dog) is True
    assert evaluate(~F("label").is_in(["dog", "bird"]), s, dog) is False
    assert evaluate((F("label") == "cat") | (F("confidence") < 0.5), s, dog) is True
    assert evaluate(abs(F("confidence") - 1) * 10 / 2, s, cat) == pytest.approx(0.5)
    assert evaluate(-F("$rank"), s) == -3
    assert evaluate(F("$rank") == 3.0, s) is True


def test_misuse_is_refused_clearly():
    with pytest.raises(ExpressionError, match="no truth value"):
        bool(F("a") > 1)
    with pytest.raises(ExpressionError, match="is_in"):
        F("a").is_in("cat")
    with pytest.raises(ExpressionError, match="division by zero"):
        evaluate(F("$rank") / 0, _sample())
    with pytest.raises(ExpressionError, match="takes numbers"):
        evaluate(F("filepath") + 1, _sample())
    with pytest.raises(ExpressionError, match="empty part"):
        F("predictions..label")


def test_fields_read_names_the_sample_fields():
    expr = (F("predictions.detections").length() > 2) & (F("$rank") > 1) & (F("filepath") != "x")
    assert fields_read(expr, relative_to_sample=True) == {"predictions", "rank"}
    assert fields_read((F("confidence") > 1) & (F("$rank") > 1), relative_to_sample=False) == {"rank"}


def test_repr_reads_like_the_code():
    assert (
        repr((F("confidence") > 0.8) & ~F("label").is_in(["a"]))
        == "((F('confidence') > 0.8) & ~F('label').is_in(['a']))"
    )


def test_contains_tests_a_list_for_any_or_every_value_as_fiftyone():
    hard = Detection(label="cat", bounding_box=(0, 0, 1, 1), tags=("reviewed", "hard"))
    plain = Detection(label="cat", bounding_box=(0, 0, 1, 1))
    s = Sample(filepath="/a.jpg", media_type="image", tags=["train"], fields={"gt": Detections([hard, plain])})
    assert evaluate(F("tags"), s, hard) == ["reviewed", "hard"] and evaluate(F("tags"), s, plain) == []
    assert evaluate(F("tags").contains("hard"), s, hard) is True  # one value
    assert evaluate(F("tags").contains(["fp", "reviewed"]), s, hard) is True  # any of them
    assert evaluate(F("tags").contains(["fp", "reviewed"], all=True), s, hard) is False  # every one of them
    assert evaluate(F("tags").contains(("hard", "reviewed"), all=True), s, hard) is True
    assert evaluate(F("tags").contains([]), s, hard) is False
    assert evaluate(F("tags").contains([], all=True), s, plain) is True  # the empty set is in every list
    assert evaluate(F("tags").contains("hard"), s, plain) is False
    assert evaluate(F("tags").contains(1), s, hard) is False  # values compare by type too
    assert evaluate(F("tags").contains(F("$tags")), s, hard) is False  # values given by an expression
    assert evaluate(F("nothing").contains("x"), s, hard) is False  # a missing list holds nothing
    assert evaluate(F("tags").contains("train"), s) is True  # the sample's own tags, in match()
    assert evaluate(F("gt.detections.label").contains("cat"), s) is True
    with pytest.raises(ExpressionError, match="contains\\(\\) takes a list, got 'cat'"):
        evaluate(F("label").contains("cat"), s, hard)
    assert repr(F("tags").contains("fp")) == "F('tags').contains(['fp'])"
    assert repr(F("tags").contains(["a", "b"], all=True)) == "F('tags').contains(['a', 'b'], all=True)"


def test_a_segmentation_has_no_attributes_to_read_so_they_are_missing():
    import numpy as np

    from annoflow.domain.labels import Segmentation

    seg = Segmentation(mask=np.zeros((2, 2), dtype=np.uint8))
    sample = Sample(filepath="/a.jpg", media_type="image", metadata=ImageMetadata(2, 2), fields={"seg": seg})
    assert evaluate(F("label") == "cat", sample, seg) is False
    assert evaluate(F("iscrowd").exists(), sample, seg) is False
    assert evaluate(F("id") == seg.id, sample, seg) is True


def test_a_samples_own_properties_and_its_frames_are_paths_too():
    car = Detection(label="car", bounding_box=(0, 0, 1, 1), attributes={"make": "vw"})
    video = Sample(
        filepath="/v.mp4",
        media_type="video",
        tags=["val"],
        frames={1: {"dets": Detections([car]), "n": 2}, 2: {"n": 5}},
    )
    assert evaluate(F("id"), video) == evaluate(F("_id"), video) == video.id
    assert evaluate(F("media_type"), video) == "video"
    assert evaluate(F("tags"), video) == ["val"]
    assert evaluate(F("frames").length(), video) == 2
    assert evaluate(F("frames.n"), video) == [2, 5]  # a frame is a document of its fields
    assert evaluate(F("frames.dets.detections.label"), video) == [["car"]]
    assert evaluate(F("frames.dets.detections.make"), video) == [["vw"]]
    assert evaluate(F("frames.missing"), video) == []
    assert evaluate(F("metadata"), video) is None
    assert evaluate(F("filepath.name"), video) is None  # a string has no fields
    assert evaluate(F("dets.label"), video, video.frames[1]["dets"]) is None  # a label list holds only its labels

"""CVAT's mask runs: what a server sends is checked against its frame before anything is allocated,
and whatever annoflow uploads passes that check."""

from __future__ import annotations

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given, settings

from annoflow.adapters.cvat_format import checks, rle
from annoflow.adapters.cvat_format.upload import Uploader
from annoflow.domain.label_schema import build_label_schema
from annoflow.domain.labels import Detection, Detections
from tests.cvat_format.test_round_trip import _server


@pytest.mark.parametrize(
    ("points", "problem"),
    [
        ([1.0, 2.0, 3.0], "a mask is run lengths then left, top, right, bottom: 3 number(s) are none"),
        ([4.0, 0.5, 0.0, 1.0, 1.0], "its box [0.5, 0.0, 1.0, 1.0] is not in whole pixels"),
        ([4.0, 2.0, 0.0, 1.0, 1.0], "its box (left 2, top 0, right 1, bottom 1) does not lie within the 10x8 frame"),
        ([4.0, -1.0, 0.0, 0.0, 1.0], "its box (left -1, top 0, right 0, bottom 1) does not lie within the 10x8 frame"),
        ([4.0, 0.0, 0.0, 11.0, 1.0], "its box (left 0, top 0, right 11, bottom 1) does not lie within the 10x8 frame"),
        (
            [1e18, 0.0, 0.0, 1e9, 1e9],
            "its box (left 0, top 0, right 1000000000, bottom 1000000000) does not lie within the 10x8 frame",
        ),
        ([0.0] * 6 + [0.0, 0.0, 1.0, 1.0], "6 runs for a box of 4 pixels"),
        ([2.0, -2.0, 4.0, 0.0, 0.0, 1.0, 1.0], "its run lengths are not whole numbers from 0"),
        ([1.5, 2.5, 0.0, 0.0, 1.0, 1.0], "its run lengths are not whole numbers from 0"),
        ([1e8, 0.0, 0.0, 1.0, 1.0], "a run of 100000000 pixels is longer than its box of 4"),
        ([1.0, 2.0, 0.0, 0.0, 1.0, 1.0], "its runs cover 3 pixels, its 2x2 box 4"),
    ],
)
def test_what_is_no_mask_of_its_frame_is_named(points, problem):
    assert rle.problem(points, 10, 8) == problem
    with pytest.raises(ValueError, match=r"^" + problem.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        rle.decode(points, 10, 8)


def test_a_mask_decodes_within_its_frame():
    mask = np.array([[0, 1, 1], [1, 0, 0]], dtype=bool)
    points = rle.encode(mask, 7, 6)
    assert rle.problem(points, 10, 8) is None
    decoded, left, top = rle.decode(points, 10, 8)
    assert (left, top) == (7, 6) and (decoded == mask).all()
    assert rle.problem(points, 9, 8) is None  # the box may end one pixel past the frame (see below)
    assert "does not lie within" in rle.problem(points, 8, 8)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 200),
    st.integers(1, 200),
    st.floats(0, 1),
    st.floats(0, 1),
    st.floats(0, 1),
    st.floats(0, 1),
    st.integers(1, 5),
    st.integers(1, 5),
    st.data(),
)
def test_every_instance_mask_annoflow_uploads_passes_the_check(width, height, x, y, w, h, mask_h, mask_w, data):
    w, h = min(w, 1 - x), min(h, 1 - y)
    mask = data.draw(
        st.lists(st.lists(st.booleans(), min_size=mask_w, max_size=mask_w), min_size=mask_h, max_size=mask_h)
    )
    detection = Detection(label="cat", bounding_box=(x, y, w, h), mask=np.array(mask, dtype=bool))
    schema = build_label_schema(label_field="gt", label_type="instances", classes=["cat"], field_schema={})
    (obj,) = Uploader(schema["gt"], _server(schema)).objects(Detections([detection]), 0, width, height)
    assert checks.problem({**obj.body, "id": 1}, "shapes", 1) is None
    assert rle.problem(obj.body["points"], width, height) is None

"""Hypothesis strategies for labels and samples, shared by every test folder."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from annoflow.domain.ids import new_id
from annoflow.domain.labels import (
    Classification,
    Classifications,
    Detection,
    Detections,
    Keypoint,
    Keypoints,
    Polyline,
    Polylines,
    Segmentation,
)
from annoflow.domain.samples import ImageMetadata, Sample, VideoMetadata

NAN = float("nan")
ids = st.builds(lambda _: new_id(), st.integers())
class_names = st.sampled_from(["cat", "dog", "person", "car", "bird", "ünïcode label", "a b"])
unit = st.floats(0, 1, allow_nan=False, allow_infinity=False)
coordinate = st.floats(-0.5, 1.5, allow_nan=False, allow_infinity=False)
confidences = st.none() | unit
scalars = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12)
attribute_names = st.sampled_from(["iscrowd", "occluded", "group_id", "note", "score", "make"])
attributes = st.dictionaries(attribute_names, scalars, max_size=4)
indexes = st.none() | st.integers(0, 10_000)
keyframes = st.none() | st.booleans()


@st.composite
def boxes(draw):
    x, y = draw(unit), draw(unit)
    w = draw(st.floats(0, 1 - x, allow_nan=False))
    h = draw(st.floats(0, 1 - y, allow_nan=False))
    return (x, y, w, h)


bool_masks = hnp.arrays(np.bool_, hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=24))
int_masks = hnp.arrays(
    st.sampled_from([np.uint8, np.uint16, np.int32, np.int64]),
    hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=24),
    elements=st.integers(0, 255),
)

classifications = st.builds(Classification, label=class_names, confidence=confidences, id=ids, attributes=attributes)
detections = st.builds(
    Detection, label=class_names, bounding_box=boxes(), mask=st.none() | bool_masks, confidence=confidences,
    index=indexes, keyframe=keyframes, id=ids, attributes=attributes,
)
points = st.tuples(coordinate, coordinate)
polylines = st.builds(
    Polyline, label=class_names, points=st.lists(st.lists(points, min_size=1, max_size=6), min_size=1, max_size=3),
    closed=st.booleans(), filled=st.booleans(), confidence=confidences, index=indexes, keyframe=keyframes,
    id=ids, attributes=attributes,
)


@st.composite
def keypoints(draw):
    pts = draw(st.lists(st.one_of(points, st.just((NAN, NAN))), min_size=1, max_size=8))
    conf = draw(st.none() | st.lists(st.one_of(unit, st.just(NAN)), min_size=len(pts), max_size=len(pts)))
    return Keypoint(label=draw(class_names), points=pts, confidence=conf, index=draw(indexes),
                    keyframe=draw(keyframes), id=draw(ids), attributes=draw(attributes))


segmentations = st.builds(Segmentation, mask=int_masks, id=ids)


def _unique(items):
    seen, out = set(), []
    for item in items:
        if item.id not in seen:
            seen.add(item.id)
            out.append(item)
    return out


lists_of = {
    Classifications: classifications, Detections: detections, Polylines: polylines, Keypoints: keypoints(),
}
label_lists = st.one_of(*[st.lists(elem, max_size=4).map(lambda xs, c=cls: c(_unique(xs))) for cls, elem in lists_of.items()])
single_labels = st.one_of(classifications, segmentations)

# One kind per field name, as a dataset's field schema requires.
SAMPLE_FIELDS = {
    "cls": classifications, "tags_field": st.lists(classifications, max_size=3).map(lambda x: Classifications(_unique(x))),
    "gt": st.lists(detections, max_size=4).map(lambda x: Detections(_unique(x))),
    "lines": st.lists(polylines, max_size=3).map(lambda x: Polylines(_unique(x))),
    "kps": st.lists(keypoints(), max_size=3).map(lambda x: Keypoints(_unique(x))),
    "seg": segmentations, "count": st.integers(-(2**53), 2**53), "score": st.floats(allow_nan=False),
    "note": st.text(max_size=10), "flag": st.booleans(), "alt_filepath": st.just("/tmp/blurred/img.jpg"),
}
FRAME_FIELDS = {
    "detections": SAMPLE_FIELDS["gt"], "keypoints": SAMPLE_FIELDS["kps"], "label": classifications,
}


@st.composite
def field_values(draw, table):
    names = draw(st.sets(st.sampled_from(sorted(table)), max_size=len(table)))
    return {name: draw(st.none() | table[name]) for name in sorted(names)}


@st.composite
def image_samples(draw):
    return Sample(
        id=draw(ids), filepath=f"/data/{draw(st.integers(0, 10**6))}.jpg", media_type="image",
        metadata=draw(st.none() | st.builds(ImageMetadata, st.integers(1, 4000), st.integers(1, 4000))),
        fields=draw(field_values(SAMPLE_FIELDS)), tags=draw(st.lists(st.sampled_from(["train", "val"]), max_size=2)),
    )


@st.composite
def video_samples(draw):
    frames = draw(st.dictionaries(st.integers(1, 50), field_values(FRAME_FIELDS), max_size=4))
    return Sample(
        id=draw(ids), filepath=f"/data/{draw(st.integers(0, 10**6))}.mp4", media_type="video",
        metadata=draw(st.none() | st.builds(VideoMetadata, st.integers(1, 4000), st.integers(1, 4000),
                                            st.integers(1, 1000), st.floats(1, 120))),
        fields=draw(field_values({"note": SAMPLE_FIELDS["note"]})), frames=frames,
    )


samples = st.one_of(image_samples(), video_samples())

"""Hypothesis strategies for labels and samples, shared by every test folder.

They reach for the edges a store or a codec could get wrong: colliding and
random ids, attributes of every scalar kind (NaN, infinities and -0.0
included), label tags (empty or not), masks of random shapes (empty ones too), dtypes and byte orders,
missing keypoints, empty label lists, unset fields, frame fields of videos
and alternate media paths in string fields.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

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
# Drawn, not generated with new_id(): Hypothesis must be able to replay and shrink
# an example, and a small alphabet makes colliding ids (which stores must handle) likely.
ids = st.text("0123456789abcdef", min_size=24, max_size=24) | st.sampled_from(["0" * 24, "f" * 24])
texts = st.text(max_size=12)
class_names = st.sampled_from(["cat", "dog", "person", "ünïcode label", "a b"]) | st.text(min_size=1, max_size=12)
unit = st.floats(0, 1, allow_nan=False, allow_infinity=False)
coordinate = st.floats(-0.5, 1.5, allow_nan=False, allow_infinity=False)
confidences = st.none() | unit
any_float = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([-0.0, 5e-324, 1.7976931348623157e308])
scalars = st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | any_float | texts
attribute_names = st.sampled_from(["iscrowd", "occluded", "group_id", "note", "score", "make"]) | st.from_regex(
    r"[a-z][a-z0-9_]{0,8}", fullmatch=True
).filter(
    lambda n: (
        n
        not in {
            "id",
            "label",
            "confidence",
            "bounding_box",
            "mask",
            "index",
            "keyframe",
            "points",
            "closed",
            "filled",
            "attributes",
        }
    )
)
attributes = st.dictionaries(attribute_names, scalars, max_size=4)
# FiftyOne's label tags: strings, duplicates and empty ones included (a label keeps what it is given)
label_tags = st.lists(st.sampled_from(["reviewed", "hard", "fp"]) | texts, max_size=3)
indexes = st.none() | st.integers(0, 10_000)
keyframes = st.none() | st.booleans()


@st.composite
def boxes(draw):
    x, y = draw(unit), draw(unit)
    w = draw(st.floats(0, 1 - x, allow_nan=False))
    h = draw(st.floats(0, 1 - y, allow_nan=False))
    return (x, y, w, h)


mask_shapes = hnp.array_shapes(min_dims=2, max_dims=2, min_side=0, max_side=24)
# Instance masks are boolean; 0/1 integers are accepted and become booleans.
instance_masks = hnp.arrays(np.bool_, mask_shapes) | hnp.arrays(
    st.sampled_from([np.uint8, np.int64]), mask_shapes, elements=st.integers(0, 1)
)
int_dtypes = hnp.integer_dtypes(endianness="?") | hnp.unsigned_integer_dtypes(endianness="?")
int_masks = hnp.arrays(int_dtypes, mask_shapes) | hnp.arrays(np.bool_, mask_shapes)  # booleans become uint8

classifications = st.builds(
    Classification, label=class_names, confidence=confidences, id=ids, attributes=attributes, tags=label_tags
)
detections = st.builds(
    Detection,
    label=class_names,
    bounding_box=boxes(),
    mask=st.none() | instance_masks,
    confidence=confidences,
    index=indexes,
    keyframe=keyframes,
    id=ids,
    attributes=attributes,
    tags=label_tags,
)
points = st.tuples(coordinate, coordinate)
polylines = st.builds(
    Polyline,
    label=class_names,
    points=st.lists(st.lists(points, min_size=1, max_size=6), min_size=1, max_size=3),
    closed=st.booleans(),
    filled=st.booleans(),
    confidence=confidences,
    index=indexes,
    keyframe=keyframes,
    id=ids,
    attributes=attributes,
    tags=label_tags,
)


@st.composite
def keypoints(draw):
    pts = draw(st.lists(st.one_of(points, st.just((NAN, NAN))), min_size=1, max_size=8))
    conf = draw(st.none() | st.lists(st.one_of(unit, st.just(NAN)), min_size=len(pts), max_size=len(pts)))
    return Keypoint(
        label=draw(class_names),
        points=pts,
        confidence=conf,
        index=draw(indexes),
        keyframe=draw(keyframes),
        id=draw(ids),
        attributes=draw(attributes),
        tags=draw(label_tags),
    )


segmentations = st.builds(Segmentation, mask=int_masks, id=ids, tags=label_tags)


def unique_ids(items):
    """The items with the first of each id: a label list holds every id once."""
    seen, out = set(), []
    for item in items:
        if item.id not in seen:
            seen.add(item.id)
            out.append(item)
    return out


def lists(cls, element, max_size=4):
    return st.lists(element, max_size=max_size).map(lambda xs: cls(unique_ids(xs)))


LIST_ELEMENTS = {Classifications: classifications, Detections: detections, Polylines: polylines, Keypoints: keypoints()}
label_lists = st.one_of(*[lists(cls, element) for cls, element in LIST_ELEMENTS.items()])
single_labels = st.one_of(classifications, segmentations)

# One kind per field name, as a dataset's field schema requires.
SAMPLE_FIELDS = {
    "cls": classifications,
    "tags_field": lists(Classifications, classifications, 3),
    "gt": lists(Detections, detections),
    "lines": lists(Polylines, polylines, 3),
    "kps": lists(Keypoints, keypoints(), 3),
    "seg": segmentations,
    "count": st.integers(-(2**63), 2**63 - 1),
    "score": any_float,
    "note": texts,
    "flag": st.booleans(),
    "alt_filepath": st.builds(lambda d, n: f"/{d}/blurred/{n}.jpg", st.text("abc/ _é", max_size=8), st.integers(0, 99)),
}
FRAME_FIELDS = {
    "detections": SAMPLE_FIELDS["gt"],
    "keypoints": SAMPLE_FIELDS["kps"],
    "label": classifications,
    "frame_score": any_float,
}


@st.composite
def field_values(draw, table):
    """Some of the table's fields, each set or left unset (None)."""
    names = draw(st.sets(st.sampled_from(sorted(table)), max_size=len(table)))
    return {name: draw(st.none() | table[name]) for name in sorted(names)}


tags = st.lists(st.sampled_from(["train", "val"]) | texts, max_size=3)


@st.composite
def image_samples(draw):
    return Sample(
        id=draw(ids),
        filepath=f"/data/{draw(texts)}.jpg",
        media_type="image",
        metadata=draw(st.none() | st.builds(ImageMetadata, st.integers(1, 8000), st.integers(1, 8000))),
        fields=draw(field_values(SAMPLE_FIELDS)),
        tags=draw(tags),
    )


@st.composite
def video_samples(draw):
    frames = draw(st.dictionaries(st.integers(1, 100_000), field_values(FRAME_FIELDS), max_size=4))
    return Sample(
        id=draw(ids),
        filepath=f"/data/{draw(texts)}.mp4",
        media_type="video",
        metadata=draw(
            st.none()
            | st.builds(
                VideoMetadata, st.integers(1, 4000), st.integers(1, 4000), st.integers(1, 100_000), st.floats(1e-3, 240)
            )
        ),
        fields=draw(field_values({"note": SAMPLE_FIELDS["note"], "alt_filepath": SAMPLE_FIELDS["alt_filepath"]})),
        frames=frames,
        tags=draw(tags),
    )


samples = st.one_of(image_samples(), video_samples())


def unique_samples(items):
    """The samples with the first of each id: a dataset holds every id once."""
    return unique_ids(items)

"""Upload conversion then download conversion gives the labels back (property tests).

A label nobody edited comes back bit-identical (through keep_unmoved); the
coordinates of any label come back within 1e-9 before that step.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annoflow.adapters.cvat_format.download import Downloader, keep_unmoved
from annoflow.adapters.cvat_format.schema import ServerLabels, cvat_classes, cvat_label_requests
from annoflow.adapters.cvat_format.upload import Uploader
from annoflow.domain.label_schema import build_label_schema
from annoflow.domain.labels import Classification, Detection, Detections, Keypoint, Polyline, Segmentation
from tests import strategies as strat

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CLASSES = ["cat", "dog", "person", "car", "bird", "ünïcode label", "a b"]
sizes = st.tuples(st.integers(1, 4000), st.integers(1, 4000))


def _server(schema):
    classes = cvat_classes(schema)
    requests = cvat_label_requests(classes, schema)
    spec = iter(range(1000, 100000))
    labels = [{"id": i + 1, "name": r["name"], "attributes": [{"id": next(spec), "name": a["name"]} for a in r["attributes"]]}
              for i, r in enumerate(requests)]
    return ServerLabels.match(classes, labels)


def _round_trip(schema, field, value, width, height):
    server = _server(schema)
    uploader = Uploader(schema[field], server)
    objects = list(uploader.objects(value, 0, width, height))
    stored = {"tags": [], "shapes": []}
    for i, obj in enumerate(objects):
        stored[obj.kind].append({**obj.body, "id": i + 1})  # what CVAT answers: the object with an id
    imported, unexpected = Downloader(schema, server).read(stored, [(width, height)])
    assert unexpected == []
    return uploader, imported


def _schema(field, label_type):
    """A run annotating a new field of this type with CLASSES and no attributes."""
    return build_label_schema(label_field=field, label_type=label_type, classes=CLASSES, attributes=False, field_schema={})


def _close(a, b):
    return all(math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12) for x, y in zip(a, b))


in_classes = st.sampled_from(CLASSES)


@SETTINGS
@given(st.lists(st.tuples(strat.detections, in_classes).map(lambda p: p[0].replace(mask=None, label=p[1])), min_size=1, max_size=5), sizes)
def test_boxes(detections, size):
    detections = list({d.id: d for d in detections}.values())
    schema = _schema("gt", "detections")
    uploader, imported = _round_trip(schema, "gt", Detections(detections), *size)
    by_id = {i.label_id: i for i in imported}
    for det in detections:
        got = by_id[det.id].value
        assert got.label == det.label and _close(got.bounding_box, det.bounding_box)
        exact = keep_unmoved(det, by_id[det.id], uploader, *size)
        assert exact.bounding_box == det.bounding_box and exact.id == det.id


@st.composite
def instances(draw):
    width, height = draw(sizes.filter(lambda s: s[0] <= 300 and s[1] <= 300))
    w, h = draw(st.integers(1, width)), draw(st.integers(1, height))
    left, top = draw(st.integers(0, width - w)), draw(st.integers(0, height - h))
    mask = draw(strat.hnp.arrays(np.bool_, (h, w)))
    det = Detection(label=draw(st.sampled_from(CLASSES)), bounding_box=(left / width, top / height, w / width, h / height),
                    mask=mask)
    return det, width, height


@SETTINGS
@given(instances())
def test_instance_masks_are_pixel_exact(case):
    det, width, height = case
    schema = _schema("gt", "instances")
    uploader, (imported,) = _round_trip(schema, "gt", Detections([det]), width, height)
    assert imported.value.mask.tolist() == det.mask.tolist()
    assert _close(imported.value.bounding_box, det.bounding_box)
    assert keep_unmoved(det, imported, uploader, width, height).bounding_box == det.bounding_box


@SETTINGS
@given(strat.polylines, in_classes, sizes)
def test_polylines_and_polygons(line, name, size):
    line = line.replace(label=name, points=[p for p in line.points if len(p) >= 3], filled=line.closed or line.filled,
                        closed=line.closed or line.filled)
    if not line.points:
        return
    schema = _schema("lines", "polygons" if line.closed else "polylines")
    uploader, (imported,) = _round_trip(schema, "lines", _wrap(line), *size)
    got = imported.value
    assert got.id == line.id and len(got.points) == len(line.points)
    for part, original in zip(got.points, line.points):
        assert all(_close(p, q) for p, q in zip(part, original))
    assert keep_unmoved(line, imported, uploader, *size).points == line.points


def _wrap(label):
    from annoflow.domain.labels import LIST_OF_ELEMENT

    return LIST_OF_ELEMENT[type(label)]([label])


@SETTINGS
@given(st.lists(strat.points, min_size=1, max_size=8), st.sampled_from(CLASSES), sizes)
def test_keypoints(points, label, size):
    kp = Keypoint(label=label, points=points)
    schema = _schema("kps", "keypoints")
    uploader, (imported,) = _round_trip(schema, "kps", _wrap(kp), *size)
    assert all(_close(p, q) for p, q in zip(imported.value.points, kp.points))
    assert keep_unmoved(kp, imported, uploader, *size).points == kp.points


@SETTINGS
@given(st.lists(st.sampled_from(CLASSES), min_size=1, max_size=4, unique=True))
def test_classifications_keep_their_ids(names):
    from annoflow.domain.labels import Classifications

    labels = [Classification(label=n) for n in names]
    schema = _schema("weather", "classifications")
    _, imported = _round_trip(schema, "weather", Classifications(labels), 10, 10)
    assert sorted((i.value.label, i.label_id) for i in imported) == sorted((c.label, c.id) for c in labels)


@SETTINGS
@given(st.integers(1, 60), st.integers(1, 60), st.data())
def test_semantic_segmentation_is_pixel_exact(width, height, data):
    targets = {1: "road", 2: "sky", 7: "car"}
    mask = data.draw(strat.hnp.arrays(np.uint8, (height, width), elements=st.sampled_from([0, 1, 2, 7])))
    seg = Segmentation(mask=mask)
    schema = build_label_schema(label_field="seg", label_type="segmentation", mask_targets=targets, field_schema={})
    _, imported = _round_trip(schema, "seg", seg, width, height)
    if not mask.any():
        assert imported == []
        return
    (got,) = imported
    assert got.value.mask.dtype == np.uint8 and (got.value.mask == mask).all() and got.label_id == seg.id


def test_typed_attributes_and_widgets_come_back():
    det = Detection(label="cat", bounding_box=(0.1, 0.1, 0.5, 0.5),
                    attributes={"iscrowd": True, "pose": "sit", "note": "x y", "occ": True, "grp": 3})
    schema = build_label_schema(
        label_field="gt", label_type="detections", classes=["cat"], field_schema={},
        attributes={"iscrowd": {"type": "checkbox"}, "pose": {"type": "select", "values": ["sit", "run"]},
                    "note": {"type": "text"}, "occ": {"type": "occluded"}, "grp": {"type": "group_id"}},
    )
    _, (imported,) = _round_trip(schema, "gt", Detections([det]), 100, 80)
    assert dict(imported.value.attributes) == dict(det.attributes)

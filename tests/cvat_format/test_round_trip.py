"""Upload conversion then download conversion gives the labels back (property tests).

A label nobody edited comes back bit-identical (through keep_unmoved); the
coordinates of any label come back within 1e-9 before that step.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annoflow.adapters.cvat_format.download import Downloader, imported_values, keep_unmoved
from annoflow.adapters.cvat_format.schema import ServerLabels, cvat_classes, cvat_label_requests
from annoflow.adapters.cvat_format.upload import Uploader
from annoflow.domain.fields import FieldKind
from annoflow.domain.ids import new_id
from annoflow.domain.label_schema import build_label_schema
from annoflow.domain.labels import Classification, Detection, Detections, Keypoint, Segmentation
from annoflow.domain.merge import scalar_as
from annoflow.domain.run_records import FrameRef, TaskRecord
from tests import strategies as strat

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CLASSES = ["cat", "dog", "person", "car", "bird", "ünïcode label", "a b"]
sizes = st.tuples(st.integers(1, 4000), st.integers(1, 4000))


def _server(schema):
    classes = cvat_classes(schema)
    requests = cvat_label_requests(classes, schema)
    spec = iter(range(1000, 100000))
    labels = [
        {"id": i + 1, "name": r["name"], "attributes": [{"id": next(spec), "name": a["name"]} for a in r["attributes"]]}
        for i, r in enumerate(requests)
    ]
    return ServerLabels.match(classes, labels)


def _round_trip(schema, field, value, width, height):
    server = _server(schema)
    uploader = Uploader(schema[field], server)
    objects = list(uploader.objects(value, 0, width, height))
    stored = {"tags": [], "shapes": []}
    for i, obj in enumerate(objects):
        stored[obj.kind].append({**obj.body, "id": i + 1})  # what CVAT answers: the object with an id
    imported, unexpected, refused = Downloader(schema, server).read(stored, [(width, height)])
    assert refused == []
    assert unexpected == []
    return uploader, imported


def _schema(field, label_type):
    """A run annotating a new field of this type with CLASSES and no attributes."""
    return build_label_schema(
        label_field=field, label_type=label_type, classes=CLASSES, attributes=False, field_schema={}
    )


def _close(a, b):
    return all(math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12) for x, y in zip(a, b, strict=True))


in_classes = st.sampled_from(CLASSES)


@SETTINGS
@given(
    st.lists(
        st.tuples(strat.detections, in_classes).map(lambda p: p[0].replace(mask=None, label=p[1])),
        min_size=1,
        max_size=5,
    ),
    sizes,
)
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
    det = Detection(
        label=draw(st.sampled_from(CLASSES)),
        bounding_box=(left / width, top / height, w / width, h / height),
        mask=mask,
    )
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
    line = line.replace(
        label=name,
        points=[p for p in line.points if len(p) >= 3],
        filled=line.closed or line.filled,
        closed=line.closed or line.filled,
    )
    if not line.points:
        return
    schema = _schema("lines", "polygons" if line.closed else "polylines")
    uploader, (imported,) = _round_trip(schema, "lines", _wrap(line), *size)
    got = imported.value
    assert got.id == line.id and len(got.points) == len(line.points)
    for part, original in zip(got.points, line.points, strict=True):
        assert all(_close(p, q) for p, q in zip(part, original, strict=True))
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
    assert all(_close(p, q) for p, q in zip(imported.value.points, kp.points, strict=True))
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


def test_a_box_or_polygon_of_a_segmentation_class_is_painted_and_a_tag_is_a_stray():
    """A box or polygon of a mask target's class paints the pixels whose centres it covers (its points
    are no run lengths: no crash); a tag of that class paints nothing and loads as unexpected."""
    targets = {1: "road", 2: "sky"}
    mask = np.zeros((4, 6), np.uint8)
    mask[1:3, 2:5] = 2
    schema = build_label_schema(label_field="seg", label_type="segmentation", mask_targets=targets, field_schema={})
    server = _server(schema)
    sky, road = server.label_ids[("seg", "sky")], server.label_ids[("seg", "road")]
    stored = {"tags": [{"id": 90, "frame": 0, "label_id": sky, "attributes": []}], "shapes": []}
    for i, obj in enumerate(Uploader(schema["seg"], server).objects(Segmentation(mask=mask), 0, 6, 4)):
        stored[obj.kind].append({**obj.body, "id": i + 1})
    stored["shapes"] += [
        {"id": 91, "frame": 0, "label_id": road, "type": "rectangle", "points": [0.0, 0.0, 2.0, 2.0], "attributes": []},
        # below the line y = x - 0.2: the pixels whose centres are (1.5, 0.5), (2.5, 0.5) and (2.5, 1.5)
        {
            "id": 92,
            "frame": 0,
            "label_id": sky,
            "type": "polygon",
            "points": [0.2, 0.0, 3.0, 0.0, 3.0, 2.8],
            "attributes": [],
        },
    ]
    downloader = Downloader(schema, server)
    imported, unexpected, refused = downloader.read(stored, [(6, 4)])
    assert refused == [] and downloader.painted == 2
    (got,) = imported
    expected = mask.copy()
    expected[0:2, 0:2] = 1  # the box, road
    expected[0, 1:3] = expected[1, 2] = 2  # the polygon, sky, over the box where they meet
    assert (got.value.mask == expected).all()
    assert [u.cvat_id for u in unexpected] == [90]


def test_typed_attributes_and_widgets_come_back():
    det = Detection(
        label="cat",
        bounding_box=(0.1, 0.1, 0.5, 0.5),
        attributes={"iscrowd": True, "pose": "sit", "note": "x y", "occ": True, "grp": 3},
    )
    schema = build_label_schema(
        label_field="gt",
        label_type="detections",
        classes=["cat"],
        field_schema={},
        attributes={
            "iscrowd": {"type": "checkbox"},
            "pose": {"type": "select", "values": ["sit", "run"]},
            "note": {"type": "text"},
            "occ": {"type": "occluded"},
            "grp": {"type": "group_id"},
        },
    )
    _, (imported,) = _round_trip(schema, "gt", Detections([det]), 100, 80)
    assert dict(imported.value.attributes) == dict(det.attributes)


# --- keypoints with missing points: CVAT has no NaN, so they go up without them -------------------

kp_points = st.lists(strat.points | st.just((math.nan, math.nan)), min_size=1, max_size=8).filter(
    lambda ps: any(not math.isnan(x) for x, _ in ps)
)


def _missing(points):
    return [i for i, (x, _) in enumerate(points) if math.isnan(x)]


@SETTINGS
@given(kp_points, sizes, st.floats(-5, 5, allow_nan=False))
def test_moved_keypoints_get_their_missing_points_back(points, size, shift):
    kp = Keypoint(label="person", points=points)
    schema = _schema("kps", "keypoints")
    uploader, (imported,) = _round_trip(schema, "kps", _wrap(kp), *size)
    assert len(imported.value.points) == len(points) - len(_missing(points))  # what CVAT holds
    assert keep_unmoved(kp, imported, uploader, *size) == kp  # nobody moved it: bit-identical, NaN included
    (cvat_points,) = imported.cvat_points
    moved = [c + shift for c in cvat_points]  # the annotator drags every point: same count
    _, (again,) = _round_trip_objects(schema, "points", moved, imported, *size)
    got = keep_unmoved(kp, again, uploader, *size)
    assert _missing(got.points) == _missing(points)  # NaN back where it was
    present = [p for p in got.points if not math.isnan(p[0])]
    assert all(_close(p, q) for p, q in zip(present, again.value.points, strict=True)) and len(present) == len(
        again.value.points
    )


@SETTINGS
@given(kp_points.filter(lambda ps: _missing(ps)), sizes)
def test_keypoints_whose_point_count_changed_are_taken_as_cvat_holds_them(points, size):
    kp = Keypoint(label="person", points=points)
    schema = _schema("kps", "keypoints")
    uploader, (imported,) = _round_trip(schema, "kps", _wrap(kp), *size)
    (cvat_points,) = imported.cvat_points
    for changed in ([*cvat_points, 1.0, 1.0], list(cvat_points)[:-2]):  # a point added, a point removed
        if not changed:
            continue
        _, (again,) = _round_trip_objects(schema, "points", changed, imported, *size)
        got = keep_unmoved(kp, again, uploader, *size)
        assert got.points == again.value.points and not _missing(got.points)


def _round_trip_objects(schema, shape_type, points, imported, width, height):
    """CVAT's answer after an annotator changed one shape's points."""
    server = _server(schema)
    cvat_label = server.label_ids[(imported.field, imported.value.label)]
    shape = {
        "id": imported.cvat_ids[0],
        "frame": 0,
        "label_id": cvat_label,
        "type": shape_type,
        "points": points,
        "occluded": False,
        "group": 0,
        "attributes": [{"spec_id": server.spec_ids[(cvat_label, "label_id")], "value": imported.label_id}],
    }
    found, unexpected, refused = Downloader(schema, server).read({"tags": [], "shapes": [shape]}, [(width, height)])
    assert refused == []
    assert unexpected == []
    return server, found


# --- scalar fields: CVAT tags, the class or the `value` text, typed again by the merge ---------------

scalar_values = st.sampled_from(
    [
        ("int", st.integers(-(2**70), 2**70)),
        ("float", st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([-0.0, 5e-324, 0.1])),
        ("bool", st.booleans()),
        ("str", st.text(min_size=1, max_size=20)),
    ]
)


@SETTINGS
@given(scalar_values.flatmap(lambda kv: st.tuples(st.just(kv[0]), st.lists(kv[1], min_size=1, max_size=4))))
def test_scalar_values_come_back_in_their_kind(case):
    kind, values = case
    schema = build_label_schema(label_field="f", label_type="scalar", field_schema={"f": FieldKind(kind)})
    server = _server(schema)
    uploader = Uploader(schema["f"], server)
    stored = {"tags": [], "shapes": []}
    for frame, value in enumerate(values):
        for obj in uploader.objects(value, frame, 10, 10):
            stored[obj.kind].append({**obj.body, "id": 100 + frame})
    found, unexpected, refused = Downloader(schema, server).read(stored, [(10, 10)] * len(values))
    assert refused == []
    task = TaskRecord(
        task_id=1,
        project_id=None,
        job_ids=[1],
        frames=[FrameRef(new_id()) for _ in values],
        uploaded=[],
        labels=[],
        attributes=[],
    )
    back = imported_values(found, task)
    assert unexpected == [] and [v.sample_id for v in back] == [f.sample_id for f in task.frames]
    assert [v.remote_id for v in back] == [100 + i for i in range(len(values))]
    for value, item in zip(values, back, strict=True):
        assert isinstance(item.value, str)  # CVAT keeps text
        got = scalar_as(kind, item.value)
        assert type(got) is type(value)
        assert got == value or (math.isnan(got) and math.isnan(value))
        if kind == "float" and not math.isnan(value):  # -0.0 stays -0.0; a NaN's sign bit is not kept (as in the store)
            assert math.copysign(1, got) == math.copysign(1, value)


def test_a_scalar_class_drawn_as_a_shape_loads_as_unexpected():
    """A scalar field's value comes from a tag: a box drawn with one of its classes sets nothing."""
    schema = build_label_schema(
        label_schema={"weather": {"type": "scalar", "classes": ["sunny", "rainy"]}}, field_schema={}
    )
    server = _server(schema)
    rainy = server.label_ids[("weather", "rainy")]
    box = {
        "id": 7,
        "frame": 0,
        "label_id": rainy,
        "type": "rectangle",
        "points": [0.0, 0.0, 2.0, 2.0],
        "attributes": [],
    }
    found, unexpected, refused = Downloader(schema, server).read({"tags": [], "shapes": [box]}, [(10, 10)])
    assert refused == []
    assert found == [] and [u.cvat_id for u in unexpected] == [7]


def test_scalar_classes_come_back_as_the_tags_class():
    schema = build_label_schema(
        label_schema={
            "scalar1": {"type": "scalar"},
            "scalar2": {"type": "scalar", "classes": ["class1", "class2", "class3"]},
        },
        field_schema={},
    )
    server = _server(schema)
    tags = [
        {**obj.body, "id": i}
        for i, obj in enumerate(
            [
                *Uploader(schema["scalar2"], server).objects("class3", 0, 10, 10),
                *Uploader(schema["scalar1"], server).objects("typed text", 1, 10, 10),
                *Uploader(schema["scalar2"], server).objects("not a class", 1, 10, 10),
            ]
        )
    ]  # outside the classes: not sent
    assert len(tags) == 2
    empty = {**tags[1], "id": 9, "frame": 0, "attributes": []}  # a tag whose value nobody typed
    found, _, refused = Downloader(schema, server).read({"tags": [*tags, empty], "shapes": []}, [(10, 10)] * 2)
    assert refused == []
    task = TaskRecord(
        task_id=1,
        project_id=None,
        job_ids=[1],
        frames=[FrameRef(new_id()), FrameRef(new_id())],
        uploaded=[],
        labels=[],
        attributes=[],
    )
    assert sorted(((v.field, v.value, v.remote_id) for v in imported_values(found, task)), key=lambda v: v[2]) == [
        ("scalar2", "class3", 0),
        ("scalar1", "typed text", 1),
        ("scalar1", None, 9),
    ]
    far = Downloader(schema, server).read({"tags": [{**tags[0], "frame": 5}], "shapes": []}, [(10, 10)] * 6)[0]
    with pytest.raises(
        ValueError, match="CVAT task 1 holds a value of field 'scalar2' on frame 5, but the task has 2 frame"
    ):
        imported_values(far, task)

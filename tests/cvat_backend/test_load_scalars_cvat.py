"""Scalar fields and keypoints with missing points, loaded back from the simulator after the scripted annotator's edits."""

from __future__ import annotations

import math

from annoflow.adapters.cvat_sim.annotator import ScriptedAnnotator
from annoflow.domain.changes import SetValue
from annoflow.domain.labels import labels_in
from tests.cvat_backend.conftest import PASSWORD, USER


def _tags(annotator, task_id, label):
    labels = annotator.labels(task_id)
    return sorted(
        (t for t in annotator.annotations(task_id)["tags"] if t["label_id"] == labels[label]["id"]),
        key=lambda t: t["frame"],
    )


def test_scalar_values_edited_in_cvat_come_back_typed_and_once(dataset, login, cvat_sim):
    first, second = dataset.store.sample_ids()[:2]
    dataset.store.apply([SetValue(first, "count", 3), SetValue(second, "count", 4), SetValue(first, "ratio", 0.5)])
    view = dataset.limit(2)
    schema = {
        "scalar1": {"type": "scalar"},
        "scalar2": {"type": "scalar", "classes": ["class1", "class2", "class3"]},
        "count": {"type": "scalar"},
        "ratio": {"type": "scalar"},
    }
    results = view.annotate("scalars", label_schema=schema, **login)
    (task_id,) = results.task_ids
    with ScriptedAnnotator(cvat_sim.url, USER, PASSWORD) as annotator:
        assert [t["frame"] for t in _tags(annotator, task_id, "count")] == [0, 1]  # the values went up as tags
        annotator.add_tag(task_id, "scalar1", 0, attributes={"value": "typed in CVAT"})
        annotator.add_tag(task_id, "class2", 1)  # with classes, the tag's label is the value
        count_first, count_second = _tags(annotator, task_id, "count")
        annotator.set_attribute(task_id, count_first["id"], "value", "30", kind="tags")
        annotator.delete(task_id, count_second["id"], kind="tags")
        annotator.add_tag(task_id, "ratio", 1, attributes={"value": "0.125"})
    dataset.load_annotations("scalars", unexpected="ignore", **login)
    samples = list(view.iter_samples())
    assert [s.fields.get("scalar1") for s in samples] == ["typed in CVAT", None]
    assert [s.fields.get("scalar2") for s in samples] == [None, "class2"]
    assert [s.fields.get("count") for s in samples] == [30, None]
    assert [s.fields.get("ratio") for s in samples] == [0.5, 0.125]
    assert type(samples[0].fields["count"]) is int and type(samples[1].fields["ratio"]) is float
    summary = dataset.last_load.summary
    assert (summary.added, summary.edited, summary.deleted, summary.rejected) == (3, 1, 1, 0)
    dataset.load_annotations("scalars", unexpected="ignore", **login)
    assert dataset.last_load.summary.unchanged_tasks == 1
    assert [s.fields.get("count") for s in view.iter_samples()] == [30, None]


def test_a_cvat_value_of_the_wrong_kind_is_refused(dataset, login, cvat_sim):
    first = dataset.store.sample_ids()[0]
    dataset.store.apply([SetValue(first, "count", 3)])
    results = dataset.limit(1).annotate("wrong", label_field="count", label_type="scalar", **login)
    with ScriptedAnnotator(cvat_sim.url, USER, PASSWORD) as annotator:
        (tag,) = _tags(annotator, results.task_ids[0], "count")
        annotator.set_attribute(results.task_ids[0], tag["id"], "value", "three", kind="tags")
    dataset.load_annotations("wrong", unexpected="ignore", **login)
    assert dataset.limit(1).first().fields["count"] == 3
    (rejection,) = dataset.last_load.rejections
    assert (rejection.rule, rejection.remote_id) == ("scalar_kind", tag["id"])


def _points_by_label_id(annotator, task_id):
    labels = annotator.labels(task_id)
    spec = {a["id"] for label in labels.values() for a in label["attributes"] if a["name"] == "label_id"}
    return {
        next(a["value"] for a in s["attributes"] if a["spec_id"] in spec): s
        for s in annotator.annotations(task_id)["shapes"]
        if s["type"] == "points"
    }


def test_moved_keypoints_keep_their_missing_points(dataset, login, cvat_sim):
    view = dataset.limit(5)
    before = {k.id: k for s in view.iter_samples() for k in labels_in(s.fields["keypoints"])}
    with_missing = [k for k in before.values() if any(math.isnan(x) for x, _ in k.points)]
    assert len(with_missing) >= 2
    moved, grown = with_missing[:2]
    results = view.annotate("kps", label_field="keypoints", **login)
    (task_id,) = results.task_ids
    with ScriptedAnnotator(cvat_sim.url, USER, PASSWORD) as annotator:
        shapes = _points_by_label_id(annotator, task_id)
        present = [p for p in moved.points if not math.isnan(p[0])]
        assert len(shapes[moved.id]["points"]) == 2 * len(present)  # NaN points were left out
        annotator.move_shape(task_id, shapes[moved.id]["id"], [c + 2.0 for c in shapes[moved.id]["points"]])
        annotator.move_shape(task_id, shapes[grown.id]["id"], shapes[grown.id]["points"] + [48.0, 32.0])
    dataset.load_annotations("kps", unexpected="ignore", **login)
    after = {k.id: k for s in view.iter_samples() for k in labels_in(s.fields["keypoints"])}
    got = after[moved.id]
    assert len(got.points) == len(moved.points)
    for old, new in zip(moved.points, got.points, strict=True):
        if math.isnan(old[0]):
            assert math.isnan(new[0]) and math.isnan(new[1])  # NaN back at its index
        else:
            assert math.isclose(new[0], old[0] + 2.0 / 96, abs_tol=1e-9) and math.isclose(
                new[1], old[1] + 2.0 / 64, abs_tol=1e-9
            )
    # a point added in CVAT: which point is which cannot be told, so CVAT's points are taken as they are
    grown_after = after[grown.id]
    assert len(grown_after.points) == sum(not math.isnan(x) for x, _ in grown.points) + 1
    assert grown_after.points[-1] == (0.5, 0.5) and not any(math.isnan(x) for x, _ in grown_after.points)
    untouched = set(before) - {moved.id, grown.id}
    assert all(after[i] == before[i] for i in untouched)
    summary = dataset.last_load.summary
    assert (summary.added, summary.edited, summary.deleted) == (0, 2, 0)
    dataset.load_annotations("kps", unexpected="ignore", **login)
    assert dataset.last_load.summary.unchanged_tasks == 1

"""The label schema: every form FiftyOne's CVAT guide accepts, inference from existing labels, and clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from annoflow.domain.fields import FieldKind
from annoflow.domain.label_schema import (
    AttributeSpec,
    LabelSchemaError,
    build_label_schema,
    observe,
)
from annoflow.domain.labels import (
    Classification,
    Detection,
    Detections,
    Keypoint,
    Keypoints,
    Polyline,
    Polylines,
    Segmentation,
)
from annoflow.domain.samples import Sample

BOX = (0.1, 0.1, 0.2, 0.2)


def _quickstart_samples():
    return [
        Sample(
            filepath="/a.jpg",
            media_type="image",
            fields={
                "ground_truth": Detections(
                    [
                        Detection(
                            label="person",
                            bounding_box=BOX,
                            attributes={"iscrowd": 0, "occluded": False, "group_id": 1, "make": "ford"},
                        ),
                        Detection(
                            label="dog", bounding_box=BOX, attributes={"iscrowd": 1, "occluded": True, "make": "vw"}
                        ),
                    ]
                ),
                "predictions": Detections([Detection(label="cat", bounding_box=BOX, confidence=0.9)]),
                "polys": Polylines([Polyline(label="road", points=[[(0, 0), (1, 1), (0, 1)]], filled=True)]),
                "lines": Polylines([Polyline(label="lane", points=[[(0, 0), (1, 1)]])]),
                "masks": Detections(
                    [Detection(label="cat", bounding_box=BOX, mask=np.ones((2, 2), bool), attributes={"note": 3.5})]
                ),
                "seg": Segmentation(mask=np.array([[0, 1], [2, 2]], np.uint8)),
                "kps": Keypoints([Keypoint(label="person", points=[(0.1, 0.1)])]),
                "weather": Classification(label="sunny"),
                "count": 3,
            },
        ),
    ]


FIELDS = {
    "ground_truth": FieldKind.DETECTIONS,
    "predictions": FieldKind.DETECTIONS,
    "polys": FieldKind.POLYLINES,
    "lines": FieldKind.POLYLINES,
    "masks": FieldKind.DETECTIONS,
    "seg": FieldKind.SEGMENTATION,
    "kps": FieldKind.KEYPOINTS,
    "weather": FieldKind.CLASSIFICATION,
    "count": FieldKind.INT,
    "frames.detections": FieldKind.DETECTIONS,
}
OBSERVED = observe(_quickstart_samples(), list(FIELDS))


def build(media_type="image", **kwargs):
    return build_label_schema(field_schema=FIELDS, observations=OBSERVED, media_type=media_type, **kwargs)


# --- accepted forms (the examples of FiftyOne's CVAT guide) ----------------------------------------------------


def test_new_field_with_label_field_label_type_classes():
    (field,) = build(label_field="new_classifications", label_type="classifications", classes=["dog", "cat", "person"])
    assert (field.path, field.label_type, field.existing, field.classes) == (
        "new_classifications",
        "classifications",
        False,
        ("dog", "cat", "person"),
    )
    assert field.attributes == ()


def test_the_same_run_through_label_schema():
    schema = build(
        label_schema={"new_classifications": {"type": "classifications", "classes": ["dog", "cat", "person"]}}
    )
    assert schema == build(
        label_field="new_classifications", label_type="classifications", classes=["dog", "cat", "person"]
    )


def test_existing_field_is_inferred():
    (field,) = build(label_field="ground_truth")
    assert field.label_type == "detections" and field.existing
    assert field.classes == ("dog", "person")
    specs = {a.name: a for a in field.attributes}
    assert specs["iscrowd"] == AttributeSpec("iscrowd", "text", value_type="int")  # new labels get ints back
    assert specs["occluded"] == AttributeSpec("occluded", "occluded")  # linked to CVAT's widget
    assert specs["group_id"] == AttributeSpec("group_id", "group_id")  # linked to CVAT groups
    assert specs["make"] == AttributeSpec("make", "select", values=("ford", "vw"))
    assert field.occluded_attribute.name == "occluded" and field.group_id_attribute.name == "group_id"


def test_new_classes_and_attributes_on_an_existing_field():
    (field,) = build(
        label_field="ground_truth",
        classes=["person", "dog", "cat", "helicopter"],
        attributes={"iscrowd": {}, "attr2": {"type": "select", "values": ["val1", "val2"]}},
    )
    assert field.classes == ("person", "dog", "cat", "helicopter")
    assert [a.name for a in field.attributes] == ["iscrowd", "attr2"]
    assert field.attributes[0].type == "text"


def test_restrictions_and_read_only():
    (field,) = build(
        label_field="ground_truth",
        classes=["person"],
        allow_additions=False,
        allow_deletions=False,
        allow_label_edits=False,
        allow_spatial_edits=False,
        attributes={
            "sex": {"type": "select", "values": ["male", "female"]},
            "age": {"type": "text"},
            "make": {"type": "text", "read_only": True},
        },
    )
    assert (
        field.allow_additions,
        field.allow_deletions,
        field.allow_label_edits,
        field.allow_spatial_edits,
        field.allow_index_edits,
    ) == (False, False, False, False, True)
    assert [a.read_only for a in field.attributes] == [False, False, True]


def test_label_schema_flags_per_field_override_kwargs():
    schema = build(label_schema={"ground_truth": {"allow_deletions": False}, "predictions": {}}, allow_deletions=True)
    assert [f.allow_deletions for f in schema] == [False, True]


def test_per_class_attribute_groups():
    (field,) = build(
        label_schema={
            "new_field": {
                "type": "detections",
                "classes": [
                    {
                        "classes": ["class1", "class2"],
                        "attributes": {"attr1": {"type": "select", "values": ["val1", "val2"], "default": "val1"}},
                    },
                    "class3",
                    "class4",
                ],
                "attributes": {"attr2": {"type": "radio", "values": [True, False], "default": False}},
            }
        }
    )
    assert field.classes == ("class1", "class2", "class3", "class4")
    assert [a.name for a in field.attributes_for("class1")] == ["attr2", "attr1"]
    assert [a.name for a in field.attributes_for("class3")] == ["attr2"]


def test_multiple_fields_and_video_mutability():
    schema = build(
        label_schema={
            "ground_truth": {},
            "new_keypoints": {
                "type": "keypoints",
                "classes": ["person", "cat"],
                "attributes": {"is_truncated": {"type": "select", "values": [True, False]}},
            },
        }
    )
    assert schema.field_names == ("ground_truth", "new_keypoints")
    (video,) = build(
        media_type="video",
        label_field="frames.new",
        label_type="detections",
        classes=["vehicle"],
        attributes={"type": {"type": "select", "values": ["sedan", "suv"], "mutable": False}},
    )
    assert video.on_frames and video.attributes[0].mutable is False


def test_inferred_types_for_other_label_kinds():
    assert build(label_field="polys")[0].label_type == "polygons"
    assert build(label_field="lines")[0].label_type == "polylines"
    assert build(label_field="masks")[0].label_type == "instances"
    assert build(label_field="kps")[0].label_type == "keypoints"
    assert build(label_field="weather")[0].label_type == "classification"
    seg = build(label_field="seg")[0]
    assert seg.label_type == "segmentation" and seg.mask_targets_dict == {1: "1", 2: "2"}
    given = build(label_field="seg", mask_targets={1: "road", 2: "sky"})[0]
    assert given.classes == ("road", "sky") and given.mask_targets == ((1, "road"), (2, "sky"))


def test_scalar_fields_with_and_without_classes():
    schema = build(
        label_schema={"int_field": {"type": "scalar"}, "str_field": {"type": "scalar", "classes": ["class1", "class2"]}}
    )
    assert [(f.label_type, f.classes) for f in schema] == [("scalar", ()), ("scalar", ("class1", "class2"))]
    assert build(label_field="count")[0].scalar_kind == "int"


def test_attribute_list_and_false():
    (field,) = build(label_field="ground_truth", attributes=["iscrowd"])
    assert [a.name for a in field.attributes] == ["iscrowd"]
    assert build(label_field="ground_truth", attributes=False)[0].attributes == ()


def test_occluded_and_group_id_attrs_apply_to_spatial_fields_without_their_own():
    schema = build(label_schema={"predictions": {}, "weather": {}}, occluded_attr="is_occluded", group_id_attr="grp")
    predictions, weather = schema
    assert predictions.occluded_attribute.name == "is_occluded" and predictions.group_id_attribute.name == "grp"
    assert weather.attributes == ()
    own = build(label_schema={"ground_truth": {"attributes": {"occluded": {"type": "occluded"}}}}, occluded_attr="x")
    assert own[0].occluded_attribute.name == "occluded"


def test_existing_project_needs_names_and_types_only():
    # A named project may give the classes: a new field needs only its type, and no field is needed at all.
    schema = build(label_field="new_field", label_type="detections", classes_from_project=True)
    assert schema[0].classes == () and schema["new_field"].label_type == "detections"
    assert build(classes_from_project=True).fields == ()
    with pytest.raises(LabelSchemaError, match="classes are required for a new field"):
        build(label_field="new_field", label_type="detections")  # no project: they are needed now
    # what is given is still checked and kept, for a project that turns out to be new
    (field,) = build(label_field="ground_truth", classes_from_project=True, attributes={"note": {"type": "text"}})
    assert "person" in field.classes and [a.name for a in field.attributes] == ["note"]
    with pytest.raises(LabelSchemaError, match="unknown type 'texte'"):
        build(label_field="ground_truth", classes_from_project=True, attributes={"note": {"type": "texte"}})


# --- invalid input: one error listing every problem -------------------------------------------

INVALID = [
    ({}, "no label field: give label_schema or label_field"),
    ({"label_schema": []}, "label_schema must be a non-empty dict"),
    ({"label_schema": {"f": 3}}, r"label_schema\['f'\]: a field spec must be a dict, got int"),
    ({"label_schema": {"new_field": {"classes": ["a"]}}}, r"label_schema\['new_field'\]: a new field needs a 'type'"),
    ({"label_schema": {"f": {"type": "boxes", "classes": ["a"]}}}, "unknown label type 'boxes'"),
    ({"label_schema": {"f": {"type": "detections", "classes": ["a"], "colour": 1}}}, r"unknown keys \['colour'\]"),
    (
        {"label_field": "ground_truth", "label_type": "keypoints"},
        "field 'ground_truth' holds detections; label_type 'keypoints' does not fit",
    ),
    (
        {"label_field": "count", "label_type": "detections"},
        "field 'count' holds int; label_type 'detections' does not fit",
    ),
    ({"label_field": "x", "label_type": "detections"}, "label_field 'x': classes are required for a new field"),
    ({"label_field": "x", "label_type": "detections", "classes": []}, "classes must not be empty"),
    ({"label_field": "x", "label_type": "detections", "classes": "cat"}, "classes must be a list, got str"),
    (
        {"label_field": "x", "label_type": "detections", "classes": ["a", "a"]},
        r"classes listed more than once: \['a'\]",
    ),
    ({"label_field": "x", "label_type": "detections", "classes": [3]}, "classes hold names or class groups, got 3"),
    (
        {"label_field": "x", "label_type": "detections", "classes": [{"classes": []}]},
        "a class group needs a non-empty list",
    ),
    (
        {"label_field": "x", "label_type": "detections", "classes": [{"classes": ["a"], "attrs": {}}]},
        "a class group takes 'classes' and 'attributes'",
    ),
    (
        {"label_field": "x", "label_type": "detections", "classes": ["a"], "attributes": {"attr1": {"type": "select"}}},
        "attribute 'attr1' of label_field 'x': type 'select' requires 'values'",
    ),
    (
        {
            "label_field": "x",
            "label_type": "detections",
            "classes": ["a"],
            "attributes": {"a1": {"type": "radio", "values": [1, 2], "default": 3}},
        },
        r"default 3 is not one of its values \[1, 2\]",
    ),
    (
        {
            "label_field": "x",
            "label_type": "detections",
            "classes": ["a"],
            "attributes": {"a1": {"type": "checkbox", "default": "yes"}},
        },
        "a checkbox default must be a bool, got 'yes'",
    ),
    (
        {"label_field": "x", "label_type": "detections", "classes": ["a"], "attributes": {"a1": {"type": "slider"}}},
        "unknown type 'slider'",
    ),
    (
        {
            "label_field": "x",
            "label_type": "detections",
            "classes": ["a"],
            "attributes": {"a1": {"type": "text", "colour": 1}},
        },
        r"unknown keys \['colour'\]",
    ),
    ({"label_field": "x", "label_type": "detections", "classes": ["a"], "attributes": {"a1": {}}}, "needs a 'type'"),
    (
        {
            "label_field": "x",
            "label_type": "detections",
            "classes": ["a"],
            "attributes": {"label_id": {"type": "text"}},
        },
        "the name 'label_id' is reserved",
    ),
    (
        {
            "label_field": "x",
            "label_type": "detections",
            "classes": ["a"],
            "attributes": {"bad name": {"type": "text"}},
        },
        "is not an identifier",
    ),
    (
        {
            "label_field": "x",
            "label_type": "detections",
            "classes": ["a"],
            "attributes": {"a": {"type": "occluded"}, "b": {"type": "occluded"}},
        },
        "at most one attribute of type 'occluded' \\(found 'a', 'b'\\)",
    ),
    (
        {
            "label_field": "x",
            "label_type": "classifications",
            "classes": ["a"],
            "attributes": {"occ": {"type": "occluded"}},
        },
        "type 'occluded' applies to spatial labels only, not classifications",
    ),
    (
        {
            "label_field": "x",
            "label_type": "detections",
            "classes": ["a"],
            "attributes": {"g": {"type": "group_id", "default": 1.5}},
        },
        "a group_id default must be an integer",
    ),
    (
        {
            "label_field": "x",
            "label_type": "detections",
            "classes": ["a"],
            "attributes": {"m": {"type": "text", "mutable": "no"}},
        },
        "mutable must be a bool",
    ),
    (
        {"label_field": "x", "label_type": "detections", "classes": ["a"], "attributes": ["iscrowd"]},
        "a new field's attributes need their types",
    ),
    (
        {"label_field": "x", "label_type": "detections", "classes": ["a"], "attributes": 5},
        "attributes must be True, False, a list of names or a dict",
    ),
    ({"label_field": "ground_truth", "attributes": ["nope"]}, "attribute 'nope' is not on the field's labels"),
    (
        {"label_field": "ground_truth", "attributes": {"make": {"type": "occluded"}}},
        "an occluded attribute must hold bools on the existing labels",
    ),
    (
        {"label_field": "ground_truth", "attributes": {"make": {"type": "group_id"}}},
        "a group_id attribute must hold integers on the existing labels",
    ),
    ({"label_field": "x", "label_type": "segmentation"}, "a new segmentation field needs mask_targets"),
    (
        {"label_field": "x", "label_type": "segmentation", "mask_targets": {300000: "a"}},
        r"mask_targets keys must be integers in \[0, 65535\]",
    ),
    (
        {"label_field": "x", "label_type": "segmentation", "mask_targets": {"1": "a"}},
        "mask_targets keys must be integers",
    ),
    (
        {"label_field": "x", "label_type": "segmentation", "mask_targets": {1: ""}},
        r"mask_targets\[1\] must be a non-empty class name",
    ),
    (
        {"label_field": "x", "label_type": "detections", "classes": ["a"], "mask_targets": {1: "a"}},
        "mask_targets apply to segmentation fields only",
    ),
    ({"label_field": "seg", "classes": ["a"]}, "segmentation fields take mask_targets, not classes"),
    ({"label_field": "frames.new", "label_type": "detections", "classes": ["a"]}, "frame fields need a video dataset"),
    ({"label_field": "filepath", "label_type": "scalar"}, "'filepath' is reserved and cannot be annotated"),
    ({"label_field": "bad name", "label_type": "scalar"}, "'bad name' is not a valid field name"),
    ({"label_field": "ground_truth", "allow_additions": "no"}, "allow_additions must be True or False, got 'no'"),
    ({"label_schema": {"ground_truth": {"allow_deletions": 0}}}, "allow_deletions must be True or False, got 0"),
    ({"label_field": "ground_truth", "occluded_attr": "not valid"}, "occluded_attr must be an attribute name"),
    (
        {"label_field": "ground_truth", "occluded_attr": "x", "group_id_attr": "x"},
        "occluded_attr and group_id_attr cannot both be 'x'",
    ),
    (
        {"label_field": "ground_truth", "attributes": ["make"], "occluded_attr": "make"},
        "an occluded attribute must hold bools on the existing labels",
    ),
    (
        {"label_field": "x", "label_type": "scalar", "attributes": {"a": {"type": "text"}}},
        "scalar fields take no attributes",
    ),
    ({"label_field": "count", "classes": ["a"]}, "classes of a scalar field are strings; field 'count' holds int"),
    (
        {
            "label_field": "x",
            "label_type": "detections",
            "classes": ["a"],
            "attributes": {"a1": {"type": "radio", "values": [1, 2], "default": True}},
        },
        r"default True is not one of its values \[1, 2\]",
    ),
    (
        {
            "label_field": "x",
            "label_type": "detections",
            "classes": [{"classes": ["a"], "attributes": {"x": {"type": "text"}}}],
            "attributes": {"x": {"type": "checkbox"}},
        },
        r"attribute 'x' of classes \['a'\] differs from the field-wide one",
    ),
    (
        {"label_field": "x", "label_type": "segmentation", "mask_targets": {}},
        "mask_targets must be a non-empty dict of pixel value -> class name",
    ),
    (
        {"label_field": "x", "label_type": "segmentation", "mask_targets": [(1, "a")]},
        "mask_targets must be a non-empty dict",
    ),
    (
        {"label_field": "ground_truth", "attributes": ["make", 3]},
        r"an attributes list holds attribute names, got \['make', 3\]",
    ),
    (
        {"label_field": "x", "label_type": "detections", "classes": [{"classes": ["a"], "attributes": ["x"]}]},
        "class-group attributes must be a dict, got list",
    ),
    (
        {"label_field": "x", "label_type": "detections", "classes": ["a"], "attributes": {"a1": 3}},
        "its spec must be a dict, got int",
    ),
    (
        {
            "label_field": "x",
            "label_type": "detections",
            "classes": ["a"],
            "attributes": {"a1": {"type": "select", "values": [[1]]}},
        },
        "values must be a list of scalars",
    ),
    (
        {
            "label_field": "x",
            "label_type": "detections",
            "classes": ["a"],
            "attributes": {"a1": {"type": "select", "values": "ab"}},
        },
        "values must be a list of scalars",
    ),
    (
        {
            "label_field": "x",
            "label_type": "detections",
            "classes": ["a"],
            "attributes": {"a1": {"type": "select", "values": None}},
        },
        "type 'select' requires 'values'",
    ),
    (
        {
            "label_field": "x",
            "label_type": "detections",
            "classes": ["a"],
            "attributes": {"a1": {"type": "select", "values": ["a", "a"]}},
        },
        "values listed more than once",
    ),
    (
        {
            "label_field": "x",
            "label_type": "detections",
            "classes": ["a"],
            "attributes": {"a1": {"type": "text", "default": 3}},
        },
        "a text default must be a string, got 3",
    ),
    (
        {
            "label_field": "x",
            "label_type": "detections",
            "classes": ["a"],
            "attributes": {"g": {"type": "group_id", "default": True}},
        },
        "a group_id default must be an integer, got True",
    ),
    ({"label_schema": {3: {"type": "scalar"}}}, r"label_schema\[3\]: a field name must be a string"),
    ({"label_field": "ground_truth", "attributes": ["make", "make"]}, r"attributes defined twice: \['make'\]"),
]


@pytest.mark.parametrize("kwargs, message", INVALID, ids=[str(i) for i in range(len(INVALID))])
def test_invalid_schemas_are_refused_with_a_clear_message(kwargs, message):
    with pytest.raises(LabelSchemaError, match=message):
        build(**kwargs)


def test_every_problem_is_listed_in_one_error():
    with pytest.raises(LabelSchemaError) as caught:
        build(
            label_schema={
                "new_a": {"classes": ["x"]},
                "new_b": {"type": "detections"},
                "ground_truth": {"attributes": {"a1": {"type": "select"}}},
            },
            allow_additions="no",
        )
    problems = caught.value.problems
    assert len(problems) == 4
    assert str(caught.value).startswith("invalid label schema:\n  - allow_additions must be True or False")


def test_observe_reads_frames_and_caps_values():
    video = Sample(
        filepath="/v.mp4",
        media_type="video",
        frames={
            1: {"detections": Detections([Detection(label="car", bounding_box=BOX, attributes={"type": "suv"})])},
            2: {"detections": Detections([Detection(label="truck", bounding_box=BOX, attributes={"type": "sedan"})])},
        },
    )
    seen = observe([video], ["frames.detections"]).get("frames.detections")
    assert seen.classes == ("car", "truck") and seen.attribute("type").values == (
        "sedan",
        "suv",
    )  # sorted, whatever the reading order
    assert seen.label_count == 2


def test_observe_keeps_true_apart_from_one():
    sample = Sample(
        filepath="/a.jpg",
        media_type="image",
        fields={
            "d": Detections(
                [
                    Detection(label="a", bounding_box=BOX, attributes={"flag": 1}),
                    Detection(label="a", bounding_box=BOX, attributes={"flag": True}),
                ]
            )
        },
    )
    seen = observe([sample], ["d"]).get("d").attribute("flag")
    assert [(type(v), v) for v in seen.values] == [(bool, True), (int, 1)]  # by type name, then value
    assert seen.types == ("bool", "int")


def test_a_class_group_may_repeat_the_field_wide_attribute_unchanged():
    (field,) = build(
        label_field="x",
        label_type="detections",
        classes=[{"classes": ["a"], "attributes": {"x": {"type": "text"}}}, "b"],
        attributes={"x": {"type": "text"}},
    )
    assert [a.name for a in field.all_attributes] == ["x"]


def test_existing_project_still_links_occluded_and_group_id_attrs():
    from annoflow.adapters.cvat_format.capabilities import CVAT_CAPABILITIES
    from annoflow.domain.project_schema import ProjectLabel, adopt_project_labels

    requested = build(
        label_field="ground_truth",
        classes_from_project=True,
        attributes={"ignored": {"type": "text"}},
        occluded_attr="is_occluded",
        group_id_attr="group_id_value",
    )
    (field,) = adopt_project_labels(requested, [ProjectLabel("car")], CVAT_CAPABILITIES)
    assert field.classes == ("car",)  # the run's classes and attributes are ignored, the widget links kept
    assert [(a.name, a.type) for a in field.attributes] == [("is_occluded", "occluded"), ("group_id_value", "group_id")]
    (weather,) = build(label_field="weather", classes_from_project=True, occluded_attr="is_occluded")
    assert weather.attributes == ()


def test_existing_project_checks_the_linked_attribute_against_existing_labels():
    with pytest.raises(LabelSchemaError, match="an occluded attribute must hold bools on the existing labels"):
        build(label_field="ground_truth", classes_from_project=True, occluded_attr="make")


def test_occluded_and_group_id_on_classifications_stay_plain_attributes():
    sample = Sample(
        filepath="/a.jpg",
        media_type="image",
        fields={"w": Classification(label="x", attributes={"occluded": True, "group_id": 2})},
    )
    (field,) = build_label_schema(
        label_field="w", field_schema={"w": FieldKind.CLASSIFICATION}, observations=observe([sample], ["w"])
    )
    assert {a.name: a.type for a in field.attributes} == {"occluded": "checkbox", "group_id": "text"}
    assert field.occluded_attribute is None and field.group_id_attribute is None


def test_the_shared_classes_kwarg_skips_segmentation_fields_in_label_schema():
    schema = build(label_schema={"predictions": {}, "seg": {"mask_targets": {1: "road"}}}, classes=["cat", "dog"])
    assert schema["predictions"].classes == ("cat", "dog")
    assert schema["seg"].classes == ("road",)
    with pytest.raises(LabelSchemaError, match="segmentation fields take mask_targets, not classes"):
        build(label_schema={"seg": {"classes": ["road"]}})


def test_a_text_attribute_remembers_the_one_type_its_existing_values_hold():
    def sample(value):
        return Sample(
            filepath="/a.jpg",
            media_type="image",
            fields={"d": Detections([Detection(label="a", bounding_box=BOX, attributes={"n": value})])},
        )

    seen = observe([sample(0), sample(3)], ["d"])
    (field,) = build_label_schema(label_field="d", field_schema={"d": FieldKind.DETECTIONS}, observations=seen)
    assert _attr(field, "n") == AttributeSpec("n", "text", value_type="int")
    mixed = observe([sample(0), sample("x")], ["d"])
    (field,) = build_label_schema(label_field="d", field_schema={"d": FieldKind.DETECTIONS}, observations=mixed)
    assert _attr(field, "n").value_type is None
    (field,) = build_label_schema(
        label_field="d", attributes={"n": {"type": "text"}}, field_schema={"d": FieldKind.DETECTIONS}, observations=seen
    )
    assert _attr(field, "n").value_type == "int"


def _attr(field, name):
    return next(a for a in field.attributes if a.name == name)


def _problems(**kwargs):
    with pytest.raises(LabelSchemaError) as caught:
        build(**kwargs)
    return caught.value.problems


def test_problems_are_listed_in_the_order_they_are_checked():
    problems = _problems(
        label_schema={
            3: {},
            "bad name": {},
            "filepath": {},
            "frames.new": {"type": "boxes", "colour": 1},
            "x": {
                "type": "detections",
                "allow_deletions": "n",
                "mask_targets": {1: "a"},
                "classes": [3, {"classes": ["b"], "attrs": 1, "attributes": {"z": {"type": "text"}}}, "b"],
                "attributes": {"z": {"type": "checkbox"}, "o": {"type": "occluded"}},
            },
            "count": {"classes": ["a"], "attributes": {"q": {"type": "text"}}},
        },
        allow_additions="no",
        allow_spatial_edits=0,
        occluded_attr="o2",
        group_id_attr="o2",
    )
    assert problems == [
        "allow_additions must be True or False, got 'no'",
        "allow_spatial_edits must be True or False, got 0",
        "occluded_attr and group_id_attr cannot both be 'o2'",
        "label_schema[3]: a field name must be a string",
        "label_schema['bad name']: 'bad name' is not a valid field name",
        "label_schema['filepath']: 'filepath' is reserved and cannot be annotated",
        "label_schema['frames.new']: frame fields need a video dataset",
        "label_schema['frames.new']: unknown keys ['colour'] (allowed: allow_additions, allow_deletions, allow_index_edits, "
        "allow_label_edits, allow_spatial_edits, attributes, classes, mask_targets, type)",
        "label_schema['frames.new']: unknown label type 'boxes' (one of classification, classifications, detections, "
        "instances, polylines, polygons, keypoints, segmentation, scalar)",
        "label_schema['x']: allow_deletions must be True or False, got 'n'",
        "label_schema['x']: mask_targets apply to segmentation fields only",
        "label_schema['x']: classes hold names or class groups, got 3",
        "label_schema['x']: a class group takes 'classes' and 'attributes', not ['attrs']",
        "label_schema['x']: classes listed more than once: ['b']",
        "label_schema['x']: attribute 'z' of classes ['b'] differs from the field-wide one",
        "label_schema['count']: classes of a scalar field are strings; field 'count' holds int",
        "label_schema['count']: scalar fields take no attributes",
    ]


def test_an_attribute_reports_each_of_its_problems_in_order():
    at = "attribute 'o' of label_field 'x'"
    assert _problems(
        label_field="x",
        label_type="classifications",
        classes=["a"],
        attributes={"o": {"type": "occluded", "default": "x", "mutable": 1, "read_only": "no"}},
    ) == [
        f"{at}: a occluded default must be a bool, got 'x'",
        f"{at}: mutable must be a bool, got 1",
        f"{at}: read_only must be a bool, got 'no'",
        f"{at}: type 'occluded' applies to spatial labels only, not classifications",
    ]
    at = "attribute 'make' of label_field 'ground_truth'"
    assert _problems(
        label_field="ground_truth", attributes={"make": {"type": "group_id", "default": "1", "read_only": 0}}
    ) == [
        f"{at}: a group_id default must be an integer, got '1'",
        f"{at}: read_only must be a bool, got 0",
        f"{at}: a group_id attribute must hold integers on the existing labels, found ['str']",
    ]


def test_a_link_checked_for_the_attributes_and_the_project_is_reported_once():
    assert _problems(
        label_field="ground_truth",
        attributes=False,
        classes_from_project=True,
        occluded_attr="make",
        group_id_attr="make",
    ) == [
        "occluded_attr and group_id_attr cannot both be 'make'",
        "occluded_attr 'make' on label_field 'ground_truth': an occluded attribute must hold bools on the existing labels, "
        "found ['str']",
        "group_id_attr 'make' on label_field 'ground_truth': a group_id attribute must hold integers on the existing labels, "
        "found ['str']",
    ]


def test_a_field_or_attribute_spec_given_as_none_takes_every_default():
    assert (
        build(label_schema={"ground_truth": None})
        == build(label_schema={"ground_truth": {}})
        == build(label_field="ground_truth")
    )
    (field,) = build(label_field="ground_truth", attributes={"make": None})
    assert field.attributes == (AttributeSpec("make", "select", values=("ford", "vw")),)

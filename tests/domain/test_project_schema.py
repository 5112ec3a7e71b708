"""A run into an existing project follows the project's labels (FiftyOne's CVAT guide, 'Uploading to existing projects')."""

from __future__ import annotations

import pytest

from annoflow.adapters.cvat_format.capabilities import CVAT_CAPABILITIES
from annoflow.domain.fields import FieldKind
from annoflow.domain.label_schema import AttributeSpec, ClassGroup, LabelSchemaError, build_label_schema, observe
from annoflow.domain.labels import Detection, Detections
from annoflow.domain.project_schema import (
    ProjectAttribute,
    ProjectLabel,
    adopt_project_labels,
    check_new_project,
)
from annoflow.domain.samples import Sample

NOTE = ProjectAttribute("note", "text", default="")
KIND = ProjectAttribute("kind", "select", values=("suv", "van"), default="van")
FIELDS = {
    "boxes": FieldKind.DETECTIONS,
    "seg": FieldKind.SEGMENTATION,
    "count": FieldKind.INT,
    "lines": FieldKind.POLYLINES,
    "weather": FieldKind.CLASSIFICATION,
}
BOX = (0.1, 0.1, 0.2, 0.2)
OBSERVED = observe(
    [
        Sample(
            filepath="/a.jpg",
            media_type="image",
            fields={
                "boxes": Detections(
                    [
                        Detection(
                            label="cat", bounding_box=BOX, attributes={"occluded": True, "hidden": False, "size": 3}
                        )
                    ]
                )
            },
        )
    ],
    ["boxes"],
)


def _schema(**options):
    return build_label_schema(field_schema=FIELDS, observations=OBSERVED, classes_from_project=True, **options)


def test_the_project_s_classes_and_shared_attributes_replace_the_run_s():
    schema = _schema(
        label_field="boxes",
        classes=["cat"],
        attributes={"mine": {"type": "text"}},
        occluded_attr="hidden",
        allow_deletions=False,
    )
    adopted = adopt_project_labels(
        schema, [ProjectLabel("car", [NOTE]), ProjectLabel("dog", [NOTE])], CVAT_CAPABILITIES
    )
    (field,) = adopted
    assert adopted.from_project and not schema.from_project
    assert field.classes == ("car", "dog") and field.class_groups == ()
    assert field.attributes == (AttributeSpec("note", "text"), AttributeSpec("hidden", "occluded"))  # the link stays
    assert field.occluded_attribute.name == "hidden" and field.label_type == "detections"
    assert field.existing and not field.allow_deletions  # fields, types and restrictions stay


def test_the_attributes_own_widgets_are_ignored_only_the_links_given_as_arguments_stay():
    # attributes=True infers the boxes' `occluded` bools as CVAT's occluded widget: ignored in a project
    (requested,) = _schema(label_field="boxes")
    assert requested.occluded_attribute.name == "occluded"
    (field,) = adopt_project_labels(_schema(label_field="boxes"), [ProjectLabel("car")], CVAT_CAPABILITIES)
    assert field.attributes == () and field.occluded_attribute is None
    (linked,) = adopt_project_labels(
        _schema(label_field="boxes", group_id_attr="grp"), [ProjectLabel("car")], CVAT_CAPABILITIES
    )
    assert linked.attributes == (AttributeSpec("grp", "group_id"),)


def test_per_label_attributes_become_class_groups():
    schema = _schema(label_field="boxes", classes=["cat"])
    (field,) = adopt_project_labels(
        schema, [ProjectLabel("car", [KIND]), ProjectLabel("dog"), ProjectLabel("van", [NOTE])], CVAT_CAPABILITIES
    )
    kind = AttributeSpec("kind", "select", values=("suv", "van"), default="van")
    assert field.classes == ("car", "dog", "van") and field.attributes == ()
    assert field.class_groups == (ClassGroup(["car"], [kind]), ClassGroup(["van"], [AttributeSpec("note", "text")]))
    assert field.attributes_for("car") == (kind,) and field.attributes_for("dog") == ()


def test_cvat_input_types_map_to_the_schema_s_types():
    attributes = [
        ProjectAttribute("label_id", "text"),  # annoflow's provenance on the projects it makes: not the user's
        ProjectAttribute("kind", "radio", values=("a", "b"), default="z", mutable=False),
        ProjectAttribute("seen", "checkbox", values=("true",), default="true"),
        ProjectAttribute("unseen", "checkbox", values=("false",), default="false"),
        ProjectAttribute("count", "number", values=("0", "10", "1"), default="0"),
        ProjectAttribute("ratio", "number", values=("0", "1", "0.1"), default="0"),
        ProjectAttribute("free", "select", values=()),
        ProjectAttribute("note", "text", default="n/a"),
    ]
    (field,) = adopt_project_labels(_schema(label_field="boxes"), [ProjectLabel("car", attributes)], CVAT_CAPABILITIES)
    assert field.attributes == (
        AttributeSpec(
            "kind", "radio", values=("a", "b"), default=None, mutable=False
        ),  # a default not among the values
        AttributeSpec("seen", "checkbox", default=True),
        AttributeSpec("unseen", "checkbox", default=False),
        AttributeSpec("count", "text", default="0", value_type="int"),  # numbers come back as numbers
        AttributeSpec("ratio", "text", default="0", value_type="float"),
        AttributeSpec("free", "text"),
        AttributeSpec("note", "text", default="n/a"),
    )


def test_names_a_label_cannot_hold_and_unknown_input_types_are_refused_together():
    bad = [
        ProjectAttribute("confidence", "text"),
        ProjectAttribute("is hidden", "checkbox"),
        ProjectAttribute("size", "slider"),
    ]
    with pytest.raises(LabelSchemaError) as caught:
        adopt_project_labels(_schema(label_field="boxes"), [ProjectLabel("car", bad)], CVAT_CAPABILITIES)
    assert caught.value.problems == [
        "attribute 'confidence' of the project's label 'car': the name is reserved for a label property",
        "attribute 'is hidden' of the project's label 'car': the name is not an identifier, so a label cannot hold it",
        "attribute 'size' of the project's label 'car': input type 'slider' has no counterpart "
        "(select, radio, checkbox, number, text)",
    ]


def test_a_project_attribute_named_like_a_widget_link_yields_to_it():
    schema = _schema(label_field="boxes", occluded_attr="hidden")
    (field,) = adopt_project_labels(
        schema, [ProjectLabel("car", [ProjectAttribute("hidden", "checkbox"), NOTE])], CVAT_CAPABILITIES
    )
    assert field.attributes == (AttributeSpec("note", "text"), AttributeSpec("hidden", "occluded"))


def test_a_text_attribute_the_run_knew_keeps_the_type_of_the_dataset_s_values():
    (requested,) = _schema(label_field="boxes")
    assert next(a for a in requested.attributes if a.name == "size").value_type == "int"
    (field,) = adopt_project_labels(
        _schema(label_field="boxes"), [ProjectLabel("car", [ProjectAttribute("size", "text")])], CVAT_CAPABILITIES
    )
    assert field.attributes == (AttributeSpec("size", "text", value_type="int"),)


def test_a_segmentation_keeps_the_mask_targets_the_project_names():
    schema = _schema(label_field="seg", mask_targets={1: "road", 2: "sky"})
    (field,) = adopt_project_labels(schema, [ProjectLabel("road"), ProjectLabel("tree")], CVAT_CAPABILITIES)
    assert field.mask_targets == ((1, "road"),) and field.classes == ("road",)
    with pytest.raises(LabelSchemaError, match=r"field 'seg': none of its mask targets \['road', 'sky'\] is a label"):
        adopt_project_labels(schema, [ProjectLabel("tree")], CVAT_CAPABILITIES)


def test_a_project_without_labels_is_one_problem_not_one_per_field():
    schema = _schema(
        label_schema={"seg": {"type": "segmentation", "mask_targets": {1: "road"}}, "boxes": {"type": "detections"}}
    )
    with pytest.raises(LabelSchemaError) as caught:
        adopt_project_labels(schema, [], CVAT_CAPABILITIES)
    assert caught.value.problems == ["the existing project has no labels to annotate with"]


def test_a_scalar_field_holds_the_value_of_its_own_label_or_takes_the_labels_as_classes():
    both = _schema(label_schema={"count": {}, "weather": {}})
    count, weather = adopt_project_labels(
        both,
        [ProjectLabel("count", [ProjectAttribute("value", "text")]), ProjectLabel("sunny"), ProjectLabel("rainy")],
        CVAT_CAPABILITIES,
    )
    assert count.classes == () and count.attributes == ()  # the `count` label's value, as annoflow's projects hold it
    assert weather.classes == ("sunny", "rainy")  # the scalar's label is not a class of the other fields
    (as_classes,) = adopt_project_labels(_schema(label_field="count"), [ProjectLabel("sunny")], CVAT_CAPABILITIES)
    assert as_classes.classes == ("sunny",)
    with pytest.raises(LabelSchemaError, match="field 'weather': the project has no label for it"):
        adopt_project_labels(both, [ProjectLabel("count")], CVAT_CAPABILITIES)


def test_no_field_stays_no_field_and_a_project_without_labels_is_refused():
    assert adopt_project_labels(_schema(), [ProjectLabel("car")], CVAT_CAPABILITIES).fields == ()
    with pytest.raises(LabelSchemaError, match="no labels"):
        adopt_project_labels(_schema(label_field="boxes", classes=["a"]), [], CVAT_CAPABILITIES)
    with pytest.raises(LabelSchemaError, match=r"several labels named \['car'\]"):
        adopt_project_labels(_schema(), [ProjectLabel("car"), ProjectLabel("car")], CVAT_CAPABILITIES)


def test_several_fields_are_told_apart_by_object_type():
    schema = _schema(label_schema={"boxes": {}, "lines": {}, "weather": {}, "kps": {"type": "keypoints"}})
    fields = adopt_project_labels(schema, [ProjectLabel("car"), ProjectLabel("dog")], CVAT_CAPABILITIES)
    assert [f.classes for f in fields] == [("car", "dog")] * 4
    assert [f.label_type for f in fields] == ["detections", "polylines", "classification", "keypoints"]
    assert (
        CVAT_CAPABILITIES.takes("detections", "rectangle")
        and CVAT_CAPABILITIES.takes("instances", "mask")
        and CVAT_CAPABILITIES.takes("polygons", "polyline")
    )
    assert (
        CVAT_CAPABILITIES.takes("classification", "tag")
        and CVAT_CAPABILITIES.takes("scalar", "tag")
        and CVAT_CAPABILITIES.takes("keypoints", "points")
    )
    assert (
        not CVAT_CAPABILITIES.takes("detections", "tag")
        and not CVAT_CAPABILITIES.takes("keypoints", "rectangle")
        and not CVAT_CAPABILITIES.takes("segmentation", "rectangle")
    )


@pytest.mark.parametrize(
    "label_schema, fields, types",
    [
        (
            {"boxes": {}, "masks": {"type": "instances", "classes": ["x"]}},
            "'boxes' (detections) and 'masks' (instances)",
            "mask or rectangle",
        ),
        (
            {"weather": {}, "more": {"type": "classifications", "classes": ["x"]}},
            "'weather' (classification) and 'more' (classifications)",
            "tag",
        ),
        ({"weather": {}, "mood": {"type": "scalar"}}, "'weather' (classification) and 'mood' (scalar)", "tag"),
        ({"seg": {"mask_targets": {1: "car"}}, "boxes": {}}, "'seg' (segmentation) and 'boxes' (detections)", "mask"),
    ],
)
def test_two_fields_that_could_take_the_same_object_are_refused_naming_them(label_schema, fields, types):
    with pytest.raises(LabelSchemaError) as caught:
        adopt_project_labels(
            _schema(label_schema=label_schema), [ProjectLabel("car"), ProjectLabel("count")], CVAT_CAPABILITIES
        )
    (problem,) = caught.value.problems
    assert problem.startswith(f"fields {fields} would both take a {types} of the project's labels ['car'")
    assert "annotate them in separate runs" in problem


def test_a_project_that_turns_out_new_needs_the_classes_the_run_left_to_it():
    check_new_project(_schema(label_field="boxes"))  # an existing field: its own classes
    check_new_project(_schema(label_field="new", label_type="detections", classes=["a"]))
    check_new_project(_schema(label_field="new_count", label_type="scalar"))  # a scalar's value needs none
    with pytest.raises(LabelSchemaError) as caught:
        check_new_project(_schema(label_schema={"new": {"type": "detections"}, "other": {"type": "polylines"}}))
    assert [p.split(":")[0] for p in caught.value.problems] == ["field 'new'", "field 'other'"]
    assert "no existing project gives them" in caught.value.problems[0]
    with pytest.raises(LabelSchemaError, match="no label field: give label_schema or label_field, or the name or id"):
        check_new_project(_schema())


def test_a_typed_label_serves_only_the_fields_that_take_its_type():
    schema = _schema(label_schema={"boxes": {}, "lines": {}, "weather": {}, "kps": {"type": "keypoints"}})
    labels = [
        ProjectLabel("car", object_kind="rectangle"),
        ProjectLabel("road", object_kind="polyline"),
        ProjectLabel("sunny", object_kind="tag"),
        ProjectLabel("person"),
        ProjectLabel("joint", object_kind="points"),
        ProjectLabel("sky", object_kind="mask"),
        ProjectLabel("ring", object_kind="ellipse"),
    ]
    boxes, lines, weather, kps = adopt_project_labels(schema, labels, CVAT_CAPABILITIES)
    assert ProjectLabel("person").object_kind is None  # any object
    assert boxes.classes == ("car", "person", "sky")  # rectangles, masks and "any"
    assert lines.classes == ("road", "person") and weather.classes == ("sunny", "person")
    assert kps.classes == ("person", "joint")  # an ellipse serves no field: what is drawn with it loads as unexpected


def test_a_segmentation_keeps_the_mask_targets_a_mask_can_draw():
    schema = _schema(label_field="seg", mask_targets={1: "road", 2: "sky"})
    (field,) = adopt_project_labels(
        schema,
        [ProjectLabel("road", object_kind="polygon"), ProjectLabel("sky", object_kind="mask")],
        CVAT_CAPABILITIES,
    )
    assert field.mask_targets == ((2, "sky"),) and field.classes == ("sky",)


def test_a_field_left_without_a_class_by_the_label_types_is_refused_naming_them():
    schema = _schema(label_schema={"boxes": {}, "kps": {"type": "keypoints"}, "seg": {"mask_targets": {1: "road"}}})
    with pytest.raises(LabelSchemaError) as caught:
        adopt_project_labels(
            schema,
            [ProjectLabel("road", object_kind="polyline"), ProjectLabel("sunny", object_kind="tag")],
            CVAT_CAPABILITIES,
        )
    assert caught.value.problems == [
        "field 'boxes' (detections): none of the project's labels can be drawn as a mask or rectangle "
        "(its labels by type: polyline: road; tag: sunny)",
        "field 'kps' (keypoints): none of the project's labels can be drawn as points "
        "(its labels by type: polyline: road; tag: sunny)",
        "field 'seg' (segmentation): none of its mask targets ['road'] is a label of the project that can be drawn "
        "as a mask (its labels by type: polyline: road; tag: sunny)",
    ]


def test_a_scalar_field_holds_its_own_label_s_value_only_when_the_label_can_be_a_tag():
    both = _schema(label_schema={"count": {}, "weather": {}})
    count, weather = adopt_project_labels(
        both, [ProjectLabel("count", object_kind="tag"), ProjectLabel("sunny", object_kind="tag")], CVAT_CAPABILITIES
    )
    assert count.classes == () and weather.classes == ("sunny",)
    with pytest.raises(
        LabelSchemaError,
        match=r"field 'count' \(scalar\): none of the project's labels can be drawn as "
        r"a tag \(its labels by type: rectangle: count, sunny\)",
    ):
        adopt_project_labels(
            _schema(label_field="count"),
            [ProjectLabel("count", object_kind="rectangle"), ProjectLabel("sunny", object_kind="rectangle")],
            CVAT_CAPABILITIES,
        )


def test_two_fields_sharing_an_object_type_are_ambiguous_only_for_what_their_labels_can_draw():
    schema = _schema(label_schema={"boxes": {}, "masks": {"type": "instances", "classes": ["x"]}})
    with pytest.raises(LabelSchemaError) as caught:
        adopt_project_labels(
            schema,
            [ProjectLabel("car", object_kind="rectangle"), ProjectLabel("dog", object_kind="polygon")],
            CVAT_CAPABILITIES,
        )
    (problem,) = caught.value.problems
    assert problem.startswith(
        "fields 'boxes' (detections) and 'masks' (instances) would both take a rectangle "
        "of the project's labels ['car']"
    )  # not a mask: car is drawn as a rectangle
    semantic = _schema(label_schema={"boxes": {}, "seg": {"mask_targets": {1: "road", 2: "sky"}}})
    with pytest.raises(LabelSchemaError) as caught:
        adopt_project_labels(
            semantic,
            [
                ProjectLabel("car", object_kind="rectangle"),
                ProjectLabel("road", object_kind="mask"),
                ProjectLabel("sky"),
            ],
            CVAT_CAPABILITIES,
        )
    (problem,) = caught.value.problems  # a mask label, or an "any" one, is still both a box's and the segmentation's
    assert problem.startswith(
        "fields 'boxes' (detections) and 'seg' (segmentation) would both take a mask "
        "of the project's labels ['road', 'sky']"
    )

"""A run into an existing project follows the project's labels (the seed's 'Uploading to existing projects')."""

from __future__ import annotations

import pytest

from annoflow.domain.fields import FieldKind
from annoflow.domain.label_schema import AttributeSpec, ClassGroup, LabelSchemaError, build_label_schema
from annoflow.domain.project_schema import ProjectLabel, adopt_project_labels

NOTE = AttributeSpec("note", "text")
KIND = AttributeSpec("kind", "select", values=("suv", "van"))


def _schema(**options):
    return build_label_schema(field_schema={"boxes": FieldKind.DETECTIONS, "seg": FieldKind.SEGMENTATION}, **options)


def test_the_project_s_classes_and_shared_attributes_replace_the_run_s():
    schema = _schema(label_field="boxes", classes=["cat"], attributes={"mine": {"type": "text"}},
                     occluded_attr="hidden")
    (field,) = adopt_project_labels(schema, [ProjectLabel("car", [NOTE]), ProjectLabel("dog", [NOTE])])
    assert field.classes == ("car", "dog") and field.class_groups == ()
    assert [a.name for a in field.attributes] == ["note", "hidden"]  # the widget link stays
    assert field.occluded_attribute.name == "hidden" and field.label_type == "detections"


def test_per_label_attributes_become_class_groups():
    schema = _schema(label_field="boxes", label_type="detections", classes=["cat"])
    (field,) = adopt_project_labels(schema, [ProjectLabel("car", [KIND]), ProjectLabel("dog")])
    assert field.classes == ("car", "dog") and field.attributes == ()
    assert field.class_groups == (ClassGroup(["car"], [KIND]),)
    assert field.attributes_for("car") == (KIND,) and field.attributes_for("dog") == ()


def test_a_segmentation_keeps_the_mask_targets_the_project_names():
    schema = _schema(label_field="seg", mask_targets={1: "road", 2: "sky"})
    (field,) = adopt_project_labels(schema, [ProjectLabel("road"), ProjectLabel("tree")])
    assert field.mask_targets == ((1, "road"),) and field.classes == ("road",)


def test_no_field_stays_no_field_and_several_fields_are_refused():
    empty = _schema(classes_from_project=True)
    assert adopt_project_labels(empty, [ProjectLabel("car")]).fields == ()
    two = _schema(label_schema={"boxes": {"classes": ["a"]}, "other": {"type": "detections", "classes": ["a"]}})
    with pytest.raises(LabelSchemaError, match="one label field.*boxes, other"):
        adopt_project_labels(two, [ProjectLabel("car")])
    with pytest.raises(LabelSchemaError, match="no labels"):
        adopt_project_labels(_schema(label_field="boxes", classes=["a"]), [])

"""An existing project's labels read through a capability table in another tool's words.

The domain holds no tool's vocabulary: a backend whose objects are "box", "choice" and "line",
and whose attribute input types are "choice", "bool", "integer" and "string", adopts a project as
CVAT's table does, and its messages use its words.
"""

from __future__ import annotations

import pytest

from annoflow.domain.fields import FieldKind
from annoflow.domain.label_schema import AttributeSpec, LabelSchemaError, build_label_schema
from annoflow.domain.project_schema import ProjectAttribute, ProjectLabel, adopt_project_labels
from annoflow.domain.tool_capabilities import InputReading, ToolCapabilities

OTHER_TOOL = ToolCapabilities(
    object_kinds={
        "detections": {"box"},
        "instances": {"box"},
        "classification": {"choice"},
        "scalar": {"choice"},
        "polylines": {"line"},
    },
    input_types={
        "choice": InputReading.SELECT,
        "bool": InputReading.CHECKBOX,
        "integer": InputReading.NUMERIC,
        "string": InputReading.TEXT,
    },
)
FIELDS = {"boxes": FieldKind.DETECTIONS, "weather": FieldKind.CLASSIFICATION, "lines": FieldKind.POLYLINES}


def _schema(**options):
    return build_label_schema(field_schema=FIELDS, classes_from_project=True, **options)


def test_the_table_says_which_kinds_each_label_type_takes():
    assert OTHER_TOOL.takes("detections", "box") and not OTHER_TOOL.takes("detections", "choice")
    assert not OTHER_TOOL.takes("keypoints", "box")  # a label type the tool lacks takes nothing
    assert OTHER_TOOL.draws_for(None, "keypoints") and OTHER_TOOL.draws_for("line", "polylines")
    assert OTHER_TOOL.kinds_of("instances") == frozenset({"box"}) and OTHER_TOOL.kinds_of("segmentation") == frozenset()


def test_a_project_of_another_tool_is_adopted_through_its_table():
    schema = _schema(label_schema={"boxes": {}, "weather": {}, "lines": {}})
    labels = [
        ProjectLabel(
            "car",
            [
                ProjectAttribute("size", "integer", values=("0", "10", "1")),
                ProjectAttribute("seen", "bool", default="true"),
                ProjectAttribute("kind", "choice", values=("suv", "van")),
            ],
            object_kind="box",
        ),
        ProjectLabel("sunny", object_kind="choice"),
        ProjectLabel("road", object_kind="line"),
        ProjectLabel("thing"),
    ]
    boxes, weather, lines = adopt_project_labels(schema, labels, OTHER_TOOL)
    assert boxes.classes == ("car", "thing") and weather.classes == ("sunny", "thing")
    assert lines.classes == ("road", "thing")
    (car,) = [g for g in boxes.class_groups if g.classes == ("car",)]
    assert car.attributes == (
        AttributeSpec("size", "text", value_type="int"),
        AttributeSpec("seen", "checkbox", default=True),
        AttributeSpec("kind", "select", values=("suv", "van")),
    )


def test_its_messages_name_its_kinds_and_input_types():
    with pytest.raises(LabelSchemaError) as caught:
        adopt_project_labels(
            _schema(label_schema={"boxes": {}, "lines": {}}),
            [ProjectLabel("road", [ProjectAttribute("width", "slider")], object_kind="line")],
            OTHER_TOOL,
        )
    assert caught.value.problems == [
        "attribute 'width' of the project's label 'road': input type 'slider' has no counterpart "
        "(choice, bool, integer, string)",
        "field 'boxes' (detections): none of the project's labels can be drawn as a box (its labels by type: line: road)",
    ]
    with pytest.raises(LabelSchemaError, match=r"would both take a box of the project's labels \['car'\]"):
        adopt_project_labels(
            _schema(label_schema={"boxes": {}, "masks": {"type": "instances", "classes": ["x"]}}),
            [ProjectLabel("car")],
            OTHER_TOOL,
        )

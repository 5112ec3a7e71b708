"""Attribute values come back from CVAT's text in the type the schema knows."""

from annoflow.adapters.cvat_format.download import typed_value
from annoflow.domain.label_schema import AttributeSpec


def test_a_text_attribute_comes_back_in_the_type_the_existing_values_held():
    assert typed_value(AttributeSpec("n", "text", value_type="int"), "1") == 1
    assert typed_value(AttributeSpec("n", "text", value_type="float"), "0.5") == 0.5
    assert typed_value(AttributeSpec("n", "text", value_type="bool"), "True") is True
    assert typed_value(AttributeSpec("n", "text", value_type="int"), "lots") == "lots"  # not an int: kept as typed
    assert typed_value(AttributeSpec("n", "text"), "1") == "1"

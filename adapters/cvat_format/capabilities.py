"""CVAT's capability table: which of its objects each label type takes, how its attribute input types read back.

CVAT's objects are tags and shapes of a type (``rectangle``, ``polygon``, ``polyline``,
``points``, ``mask``...); a label's type (``shape_type`` in CVAT's API) is ``any`` (CVAT's
default) or the one object type annotators may draw with it. Its attributes' input types are
select, radio, checkbox, text and number, whose values (min, max, step) bound a number kept as text.
"""

from __future__ import annotations

from annoflow.domain.tool_capabilities import InputReading, ToolCapabilities

# The label type of a label annotators may draw as any object (CVAT's default label type).
ANY_SHAPE = "any"

CVAT_CAPABILITIES = ToolCapabilities(
    object_kinds={
        "classification": {"tag"},
        "classifications": {"tag"},
        "scalar": {"tag"},
        "detections": {"rectangle", "mask"},
        "instances": {"rectangle", "mask"},
        "polylines": {"polygon", "polyline"},
        "polygons": {"polygon", "polyline"},
        "keypoints": {"points"},
        "segmentation": {"mask"},
    },
    input_types={
        "select": InputReading.SELECT,
        "radio": InputReading.RADIO,
        "checkbox": InputReading.CHECKBOX,
        "number": InputReading.NUMERIC,
        "text": InputReading.TEXT,
    },
)


def label_kind(shape_type: str | None) -> str | None:
    """What a CVAT label draws, as the domain's `ProjectLabel` holds it: its one object type, or None for any."""
    return None if not shape_type or shape_type == ANY_SHAPE else shape_type

"""A run's label schema as CVAT labels, and the maps that lead back from CVAT to fields and classes.

CVAT has no notion of fields, so a class used by several fields goes up as
``<class>_<field>``. Every label of a field that holds labels gets a
``label_id`` text attribute: the provenance that load_annotations() matches
first. The occluded and group_id attribute types are CVAT's own widgets (the
shape's ``occluded`` flag and ``group`` number), not CVAT attributes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from annoflow.domain.label_schema import AttributeSpec, FieldSchema, LabelSchema
from annoflow.domain.project_schema import ProjectAttribute, ProjectLabel

LABEL_ID = "label_id"
SCALAR_VALUE = "value"
WIDGETS = frozenset({"occluded", "group_id"})


@attrs.frozen
class CvatClass:
    """One CVAT label: which field and class it stands for, and the attributes it carries."""

    cvat_name: str
    field: str
    class_name: str
    attributes: tuple[AttributeSpec, ...]


def attribute_value(spec: AttributeSpec, value: Any) -> str:
    """A label attribute's value as CVAT writes it (always a string)."""
    if spec.type == "checkbox":
        return "true" if value else "false"
    return "" if value is None else str(value)


def _cvat_attribute(spec: AttributeSpec) -> dict[str, Any]:
    input_type = {"text": "text", "select": "select", "radio": "radio", "checkbox": "checkbox"}[spec.type]
    values = [attribute_value(spec, v) for v in spec.values]
    if spec.type == "checkbox":
        values = ["true" if spec.default else "false"]
    default = values[0] if values and spec.default is None else attribute_value(spec, spec.default)
    if spec.type == "text":
        values = [default] if default else []
    return {"name": spec.name, "mutable": bool(spec.mutable), "input_type": input_type, "values": values,
            "default_value": default}


def _classes_of(field: FieldSchema) -> list[str]:
    if field.label_type == "scalar" and not field.classes:
        return [field.path]  # one CVAT label whose `value` attribute holds the scalar
    if field.label_type == "segmentation":
        return [name for value, name in field.mask_targets if value != 0]
    return list(field.classes)


def cvat_classes(schema: LabelSchema) -> list[CvatClass]:
    """The run's classes as CVAT labels, names disambiguated across fields."""
    per_field = [(field, _classes_of(field)) for field in schema]
    counts = Counter(name for _, names in per_field for name in set(names))
    out = []
    for field, names in per_field:
        for name in names:
            cvat_name = f"{name}_{field.path.replace('frames.', '')}" if counts[name] > 1 else name
            if field.label_type == "scalar" and not field.classes:
                specs: tuple[AttributeSpec, ...] = (AttributeSpec(SCALAR_VALUE, "text"),)
            elif field.label_type in ("scalar", "segmentation"):
                specs = ()
            else:
                specs = tuple(a for a in field.attributes_for(name) if a.type not in WIDGETS)
            out.append(CvatClass(cvat_name, field.path, name, specs))
    return out


def cvat_label_requests(classes: Iterable[CvatClass], schema: LabelSchema) -> list[dict[str, Any]]:
    """The ``labels`` of a project or task request (PatchedLabelRequest)."""
    with_provenance = {f.path for f in schema if f.label_type not in ("scalar",)}
    requests = []
    for cls in classes:
        attributes = [_cvat_attribute(spec) for spec in cls.attributes]
        if cls.field in with_provenance:
            attributes.insert(0, {"name": LABEL_ID, "mutable": True, "input_type": "text", "values": [], "default_value": ""})
        requests.append({"name": cls.cvat_name, "type": "any", "attributes": attributes})
    return requests


@attrs.frozen
class ServerLabels:
    """The ids CVAT gave the run's labels and attributes."""

    label_ids: Mapping[tuple[str, str], int]  # (field, class) -> CVAT label id
    spec_ids: Mapping[tuple[int, str], int]  # (CVAT label id, attribute name) -> spec id
    classes_by_id: Mapping[int, CvatClass]

    @classmethod
    def match(cls, classes: Sequence[CvatClass], server_labels: Iterable[Mapping[str, Any]], *,
              existing_project: bool = False) -> "ServerLabels":
        """Pair the run's classes with the server's labels by name.

        In a project the run made (or a task with its own labels) every class is there. An
        existing project's labels rule, as the seed says: a class is matched by its CVAT name
        or its plain name, and classes the project lacks are not sent.
        """
        by_name = {label["name"]: label for label in server_labels}
        label_ids, spec_ids, classes_by_id = {}, {}, {}
        for c in classes:
            label = by_name.get(c.cvat_name) or (by_name.get(c.class_name) if existing_project else None)
            if label is None:
                if existing_project:
                    continue
                raise ValueError(f"CVAT has no label named {c.cvat_name!r} for class {c.class_name!r} of field {c.field!r}")
            label_ids[(c.field, c.class_name)] = label["id"]
            classes_by_id[label["id"]] = c
            for attribute in label.get("attributes", []):
                spec_ids[(label["id"], attribute["name"])] = attribute["id"]
        return cls(label_ids, spec_ids, classes_by_id)


def recorded_labels(schema: LabelSchema, task: Any) -> ServerLabels:
    """The ServerLabels of a task from what its TaskCreated event recorded: no request needed."""
    classes = {(c.field, c.class_name): c for c in cvat_classes(schema)}
    label_ids, classes_by_id = {}, {}
    for ref in task.labels:
        cls = classes.get((ref.field, ref.class_name))
        if cls is None:
            continue
        label_ids[(ref.field, ref.class_name)] = ref.cvat_label_id
        classes_by_id[ref.cvat_label_id] = cls
    spec_ids = {(ref.cvat_label_id, ref.name): ref.spec_id for ref in task.attributes}
    return ServerLabels(label_ids, spec_ids, classes_by_id)


def project_labels(server_labels: Iterable[Mapping[str, Any]]) -> list[ProjectLabel]:
    """An existing project's CVAT labels as the domain reads them (`adopt_project_labels` decides
    what each becomes): names, and attributes with their input type, values, default and mutability."""
    return [
        ProjectLabel(label["name"], [
            ProjectAttribute(a["name"], a.get("input_type", "text"), [str(v) for v in a.get("values") or ()],
                             None if a.get("default_value") is None else str(a["default_value"]),
                             bool(a.get("mutable", True)))
            for a in label.get("attributes", [])
        ])
        for label in server_labels
    ]

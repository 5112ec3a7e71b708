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

from annoflow.adapters.cvat_format.capabilities import CVAT_CAPABILITIES, label_kind
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
    label_type: str = ""  # the field's: which object types it takes back (`CVAT_CAPABILITIES`)


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
    return {
        "name": spec.name,
        "mutable": bool(spec.mutable),
        "input_type": input_type,
        "values": values,
        "default_value": default,
    }


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
            out.append(CvatClass(cvat_name, field.path, name, specs, field.label_type))
    return out


def cvat_label_requests(classes: Iterable[CvatClass], schema: LabelSchema) -> list[dict[str, Any]]:
    """The ``labels`` of a project or task request (PatchedLabelRequest)."""
    with_provenance = {f.path for f in schema if f.label_type not in ("scalar",)}
    requests = []
    for cls in classes:
        attributes = [_cvat_attribute(spec) for spec in cls.attributes]
        if cls.field in with_provenance:
            attributes.insert(
                0, {"name": LABEL_ID, "mutable": True, "input_type": "text", "values": [], "default_value": ""}
            )
        requests.append({"name": cls.cvat_name, "type": "any", "attributes": attributes})
    return requests


def object_type(obj: Mapping[str, Any], kind: str) -> str:
    """A CVAT object's type as `CVAT_CAPABILITIES` names it: ``tag``, or the shape's type."""
    return "tag" if kind in ("tag", "tags") else str(obj.get("type"))


@attrs.frozen
class ServerLabels:
    """The ids CVAT gave the run's labels and attributes.

    In a project or task the run made, each CVAT label is one class of one field. An existing
    project's labels are plain names that every field taking what the label draws shares (an
    ``any`` label: every field; a typed one: the fields that take its object type; see
    `adopt_project_labels`), so one label may stand for a class of several fields: ``shared``
    holds them all, and an object read back belongs to the one field whose label type takes its
    object type (the domain refused runs where two fields could take the same object).
    """

    label_ids: Mapping[tuple[str, str], int]  # (field, class) -> CVAT label id
    spec_ids: Mapping[tuple[int, str], int]  # (CVAT label id, attribute name) -> spec id
    classes_by_id: Mapping[int, CvatClass]  # CVAT label id -> its class (the first field's, when shared)
    shared: Mapping[int, tuple[CvatClass, ...]] = attrs.field(factory=dict)  # labels of several fields

    @classmethod
    def of(cls, pairs: Iterable[tuple[int, CvatClass]], spec_ids: Mapping[tuple[int, str], int]) -> ServerLabels:
        label_ids: dict[tuple[str, str], int] = {}
        every: dict[int, list[CvatClass]] = {}
        for label_id, c in pairs:
            label_ids[(c.field, c.class_name)] = label_id
            every.setdefault(label_id, []).append(c)
        return cls(
            label_ids,
            spec_ids,
            {label_id: classes[0] for label_id, classes in every.items()},
            {label_id: tuple(classes) for label_id, classes in every.items() if len(classes) > 1},
        )

    def class_of(self, label_id: int, object_type: str) -> CvatClass | None:
        """The class (and field) an object of this CVAT label and object type stands for, if any."""
        several = self.shared.get(label_id)
        if several is None:
            return self.classes_by_id.get(label_id)
        return next((c for c in several if CVAT_CAPABILITIES.takes(c.label_type, object_type)), None)

    def class_in(self, field: str, label_id: int) -> CvatClass:
        """The class a CVAT label stands for in one field (its attributes are the field's)."""
        return (
            next((c for c in self.shared.get(label_id, ()) if c.field == field), None) or self.classes_by_id[label_id]
        )

    def pairs(self) -> list[tuple[int, CvatClass]]:
        """Every (CVAT label id, class) the run uses, a shared label once per field."""
        return [
            (label_id, c) for label_id, first in self.classes_by_id.items() for c in self.shared.get(label_id, (first,))
        ]

    @classmethod
    def match(
        cls, classes: Sequence[CvatClass], server_labels: Iterable[Mapping[str, Any]], *, existing_project: bool = False
    ) -> ServerLabels:
        """Pair the run's classes with the server's labels by name.

        In a project the run made (or a task with its own labels) every class is there, under
        its CVAT name. An existing project's labels rule, as FiftyOne's CVAT guide says ("Uploading to existing projects"): the run's classes
        are its labels' plain names (`adopt_project_labels`), matched as they are, and classes
        the project lacks are not sent.
        """
        labels = list(server_labels)
        by_name = {label["name"]: label for label in labels}
        pairs = []
        for c in classes:
            label = by_name.get(c.class_name if existing_project else c.cvat_name)
            if label is None:
                if existing_project:
                    continue
                raise ValueError(
                    f"CVAT has no label named {c.cvat_name!r} for class {c.class_name!r} of field {c.field!r}"
                )
            pairs.append((label["id"], attrs.evolve(c, cvat_name=label["name"])))
        used = {label_id for label_id, _ in pairs}
        spec_ids = {
            (label["id"], a["name"]): a["id"]
            for label in labels
            if label["id"] in used
            for a in label.get("attributes", [])
        }
        return cls.of(pairs, spec_ids)


def recorded_labels(schema: LabelSchema, task: Any) -> ServerLabels:
    """The ServerLabels of a task from what its TaskCreated event recorded: no request needed."""
    classes = {(c.field, c.class_name): c for c in cvat_classes(schema)}
    pairs = [
        (ref.remote_label_id, classes[(ref.field, ref.class_name)])
        for ref in task.labels
        if (ref.field, ref.class_name) in classes
    ]
    spec_ids = {(ref.remote_label_id, ref.name): ref.spec_id for ref in task.attributes}
    return ServerLabels.of(pairs, spec_ids)


def project_labels(server_labels: Iterable[Mapping[str, Any]]) -> list[ProjectLabel]:
    """An existing project's CVAT labels as the domain reads them (`adopt_project_labels` decides
    what each becomes): names, label types (what annotators may draw with each; CVAT's default is
    ``any``), and attributes with their input type, values, default and mutability."""
    return [
        ProjectLabel(
            label["name"],
            [
                ProjectAttribute(
                    a["name"],
                    a.get("input_type", "text"),
                    [str(v) for v in a.get("values") or ()],
                    None if a.get("default_value") is None else str(a["default_value"]),
                    bool(a.get("mutable", True)),
                )
                for a in label.get("attributes", [])
            ],
            object_kind=label_kind(label.get("type")),
        )
        for label in server_labels
    ]

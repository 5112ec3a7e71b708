"""A run into an existing CVAT project follows the project's labels, as the seed says.

When annotate() targets a project that already exists, "the schema of the project is
automatically applied": the run's classes and attributes are replaced by the project's
labels and their attributes. The run's fields and label types stay (they name where
uploaded labels come from and where annotations go), and so do the occluded and group_id
widget links, the only attributes a project cannot carry.

A project's labels are plain class names, so one object in CVAT cannot say which of two
fields it belongs to: a run into an existing project takes one label field, or none (then
the fields are asked for at load time, as unexpected annotations). Several fields are
refused, naming them.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from annoflow.domain.label_schema import AttributeSpec, ClassGroup, FieldSchema, LabelSchema, LabelSchemaError


@attrs.frozen
class ProjectLabel:
    """One label (class) of an existing project, with its attributes."""

    name: str
    attributes: tuple[AttributeSpec, ...] = attrs.field(default=(), converter=tuple)


def adopt_project_labels(schema: LabelSchema, labels: Sequence[ProjectLabel]) -> LabelSchema:
    """The run's schema with the project's classes and attributes, or a LabelSchemaError."""
    problems = []
    if len(schema.fields) > 1:
        problems.append(
            "an existing CVAT project's labels are plain class names, so a run into it annotates one label field "
            f"(or none, to choose fields at load time); this run has {', '.join(schema.field_names)}")
    if not labels:
        problems.append("the existing CVAT project has no labels to annotate with")
    if problems:
        raise LabelSchemaError(problems)
    return LabelSchema([_adopted(field, labels) for field in schema], from_project=True)


def _adopted(field: FieldSchema, labels: Sequence[ProjectLabel]) -> FieldSchema:
    widgets = tuple(a for a in (field.occluded_attribute, field.group_id_attribute) if a is not None)
    names = tuple(label.name for label in labels)
    if field.label_type == "scalar":
        return attrs.evolve(field, classes=names if field.classes else (), class_groups=(), attributes=())
    if field.label_type == "segmentation":
        targets = tuple((value, name) for value, name in field.mask_targets if name in names)
        return attrs.evolve(field, classes=tuple(n for v, n in targets if v != 0), class_groups=(), attributes=(),
                            mask_targets=targets)
    shared = labels[0].attributes if all(l.attributes == labels[0].attributes for l in labels) else ()
    taken = {a.name for a in widgets}
    groups = () if shared or all(not l.attributes for l in labels) else tuple(
        ClassGroup([l.name], [a for a in l.attributes if a.name not in taken]) for l in labels if l.attributes)
    attributes = tuple(a for a in shared if a.name not in taken) + widgets
    return attrs.evolve(field, classes=names, class_groups=groups, attributes=attributes)

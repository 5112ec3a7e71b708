"""A run into an existing project takes the project's labels as its classes and attributes.

`adopt_project_labels` applies FiftyOne's guide ("Uploading to existing projects"): the run keeps
its fields, label types, restrictions and widget links, and gets each field's classes from the
project's labels that can draw what the field takes. ARCHITECTURE.md ("Existing CVAT projects")
gives the rules.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from annoflow.domain.label_schema import AttributeSpec, ClassGroup, FieldSchema, LabelSchema, LabelSchemaError
from annoflow.domain.labels import RESERVED_ATTRIBUTE_NAMES
from annoflow.domain.tool_capabilities import InputReading, ToolCapabilities

# The attribute annoflow gives every label of the projects it makes: provenance, not the user's.
PROVENANCE_ATTRIBUTE = "label_id"


def _tuple(values: Iterable[Any]) -> tuple[Any, ...]:
    """attrs converter: a named function mypy reads, where it cannot read ``converter=tuple``."""
    return tuple(values)


@attrs.frozen
class ProjectAttribute:
    """One attribute of a project's label, as the annotation tool defines it (all text)."""

    name: str
    input_type: str  # the tool's word, read back as the capability table says
    values: tuple[str, ...] = attrs.field(default=(), converter=_tuple)  # a numeric one's are min, max, step
    default: str | None = None
    mutable: bool = True


@attrs.frozen
class ProjectLabel:
    """One label (class) of an existing project, with its attributes and what annotators draw with it."""

    name: str
    attributes: tuple[ProjectAttribute, ...] = attrs.field(default=(), converter=_tuple)
    # The one kind of object annotators may draw with the label, in the tool's words (one no field
    # takes is kept too); None: any object.
    object_kind: str | None = None


def adopt_project_labels(
    schema: LabelSchema, labels: Sequence[ProjectLabel], capabilities: ToolCapabilities
) -> LabelSchema:
    """The run's schema with the project's classes and attributes, or one LabelSchemaError listing every problem.

    ``capabilities``: the backend's table of which object kinds each label type takes and how its
    attribute input types read back.
    """
    problems = _label_problems(labels)
    specs: dict[str, tuple[AttributeSpec, ...]] = {}
    for label in labels:
        specs[label.name], refused = _specs(label, capabilities)
        problems += refused
    kinds = {label.name: label.object_kind for label in labels}
    # A scalar field named like a project label that can be a tag holds that label's value; the other
    # fields share the rest, each the labels that can draw what it takes.
    value_labels = {
        f.path
        for f in schema
        if f.label_type == "scalar" and f.path in specs and capabilities.draws_for(kinds[f.path], "scalar")
    }
    shared = tuple(n for n in dict.fromkeys(label.name for label in labels) if n not in value_labels)
    fields = []
    for field in schema:
        adopted, refused = _adopted(field, shared, specs, kinds, value_labels, capabilities)
        fields.append(adopted)
        problems += refused
    problems.extend(_ambiguities(fields, kinds, capabilities))
    if problems:
        raise LabelSchemaError(problems)
    return LabelSchema(fields, from_project=True)


def _label_problems(labels: Sequence[ProjectLabel]) -> list[str]:
    """A project with no labels, or with several of one name."""
    problems = []
    if not labels:
        problems.append("the existing project has no labels to annotate with")
    names = [label.name for label in labels]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        problems.append(f"the existing project has several labels named {repeated}")
    return problems


def check_new_project(schema: LabelSchema) -> None:
    """A project the run makes (or no project) takes the run's own classes: the ones left to
    the project must have been given after all. Raises a LabelSchemaError naming each gap."""
    problems = []
    if not schema.fields:
        problems.append(
            "no label field: give label_schema or label_field, or the name or id of an existing "
            "project whose labels to use"
        )
    for field in schema:
        if not field.existing and not field.classes and field.label_type not in ("scalar", "segmentation"):
            problems.append(
                f"field {field.path!r}: classes are required for a new field, and no existing "
                "project gives them (the named project does not exist yet)"
            )
    if problems:
        raise LabelSchemaError(problems)


def _specs(label: ProjectLabel, capabilities: ToolCapabilities) -> tuple[tuple[AttributeSpec, ...], list[str]]:
    """The label's attributes as the run's, and a problem for each that cannot be one."""
    specs: list[AttributeSpec] = []
    problems: list[str] = []
    for attribute in label.attributes:
        spec, problem = _spec(label.name, attribute, capabilities)
        if spec is not None:
            specs.append(spec)
        if problem is not None:
            problems.append(problem)
    return tuple(specs), problems


def _spec(
    label: str, attribute: ProjectAttribute, capabilities: ToolCapabilities
) -> tuple[AttributeSpec | None, str | None]:
    """One attribute as the run's (None: left out), or the problem that keeps it out."""
    name = attribute.name
    where = f"attribute {name!r} of the project's label {label!r}"
    if name == PROVENANCE_ATTRIBUTE:
        return None, None
    if not name.isidentifier():
        return None, f"{where}: the name is not an identifier, so a label cannot hold it"
    if name in RESERVED_ATTRIBUTE_NAMES:
        return None, f"{where}: the name is reserved for a label property"
    reading = capabilities.input_types.get(attribute.input_type)
    if reading is None:
        return None, (
            f"{where}: input type {attribute.input_type!r} has no counterpart ({', '.join(capabilities.input_types)})"
        )
    return _read_as(attribute, reading), None


def _read_as(attribute: ProjectAttribute, reading: InputReading) -> AttributeSpec:
    """The run's attribute for a project attribute whose input type reads back as ``reading``."""
    name, default = attribute.name, attribute.default or None
    if reading in (InputReading.SELECT, InputReading.RADIO) and attribute.values:
        return AttributeSpec(
            name,
            reading.value,
            values=attribute.values,
            default=default if default in attribute.values else None,
            mutable=attribute.mutable,
        )
    if reading is InputReading.CHECKBOX:
        return AttributeSpec(name, "checkbox", default=(default or "").lower() == "true", mutable=attribute.mutable)
    if reading is InputReading.NUMERIC:
        whole = bool(attribute.values) and all(_is_int(v) for v in attribute.values)
        return AttributeSpec(
            name, "text", default=default, mutable=attribute.mutable, value_type="int" if whole else "float"
        )
    # text, or a select without values: free text
    return AttributeSpec(name, "text", default=default, mutable=attribute.mutable)


def _is_int(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


def _adopted(
    field: FieldSchema,
    shared: tuple[str, ...],
    specs: Mapping[str, tuple[AttributeSpec, ...]],
    kinds: Mapping[str, str | None],
    value_labels: set[str],
    capabilities: ToolCapabilities,
) -> tuple[FieldSchema, list[str]]:
    """The field with the project's classes and attributes, and the problems that keep it from having any."""
    if field.label_type == "scalar" and field.path in value_labels:
        return attrs.evolve(field, classes=(), class_groups=(), attributes=()), []
    # what annotators draw it with
    usable = tuple(n for n in shared if capabilities.draws_for(kinds[n], field.label_type))
    if field.label_type == "segmentation":
        return _adopted_masks(field, shared, usable, bool(specs), kinds, capabilities)
    problems = []
    if specs and not shared:
        problems.append(
            f"field {field.path!r}: the project has no label for it (its labels hold scalar fields' values)"
        )
    elif specs and not usable:
        problems.append(
            f"field {field.path!r} ({field.label_type}): none of the project's labels can be drawn as "
            f"{_drawn_as(capabilities, field.label_type)} ({_by_type(kinds)})"
        )
    if field.label_type == "scalar":
        return attrs.evolve(field, classes=usable, class_groups=(), attributes=()), problems
    return _with_attributes(field, usable, specs), problems


def _adopted_masks(
    field: FieldSchema,
    shared: tuple[str, ...],
    usable: tuple[str, ...],
    any_labels: bool,
    kinds: Mapping[str, str | None],
    capabilities: ToolCapabilities,
) -> tuple[FieldSchema, list[str]]:
    """A segmentation field keeps the mask targets the project has a label for that can draw a mask."""
    targets = tuple((value, name) for value, name in field.mask_targets if name in usable)
    wanted = [n for v, n in field.mask_targets if v != 0]
    problems = []
    if any_labels and not any(value != 0 for value, _ in targets):
        if any(n in shared for n in wanted):
            problems.append(
                f"field {field.path!r} ({field.label_type}): none of its mask targets {wanted} is a "
                "label of the project that can be drawn as "
                f"{_drawn_as(capabilities, field.label_type)} "
                f"({_by_type(kinds)})"
            )
        else:
            problems.append(
                f"field {field.path!r}: none of its mask targets {wanted} is a label of the project {list(shared)}"
            )
    adopted = attrs.evolve(
        field, classes=tuple(n for v, n in targets if v != 0), mask_targets=targets, class_groups=(), attributes=()
    )
    return adopted, problems


def _with_attributes(
    field: FieldSchema, usable: tuple[str, ...], specs: Mapping[str, tuple[AttributeSpec, ...]]
) -> FieldSchema:
    """The field with the classes ``usable`` and their attributes: field-wide when every class has the same
    ones, else one class group per class that has any."""
    widgets = field.project_links  # occluded_attr / group_id_attr; the run's attributes' own widgets are ignored
    widget_names = {w.name for w in widgets}
    known = {a.name: a for a in field.all_attributes if a.type == "text" and a.value_type is not None}

    def own(spec: AttributeSpec) -> AttributeSpec:
        before = known.get(spec.name)
        if spec.type == "text" and spec.value_type is None and before is not None:
            return attrs.evolve(spec, value_type=before.value_type)  # the values the dataset holds keep their type
        return spec

    per_class = {name: tuple(own(s) for s in specs[name] if s.name not in widget_names) for name in usable}
    distinct = set(per_class.values())
    if len(distinct) <= 1:
        common = next(iter(distinct), ())
        return attrs.evolve(field, classes=usable, class_groups=(), attributes=common + widgets)
    groups = tuple(ClassGroup([name], attributes) for name, attributes in per_class.items() if attributes)
    return attrs.evolve(field, classes=usable, class_groups=groups, attributes=widgets)


def _drawn_as(capabilities: ToolCapabilities, label_type: str) -> str:
    """The objects a field of this label type takes, for a message: "a mask or rectangle", "points"."""
    words = " or ".join(sorted(capabilities.kinds_of(label_type))) or "nothing"
    return words if words in ("points", "nothing") else f"a {words}"


def _by_type(kinds: Mapping[str, str | None]) -> str:
    """A project's labels grouped by the kind of object they draw ("any" for any), for a message."""
    groups: dict[str, list[str]] = {}
    for name, kind in kinds.items():
        groups.setdefault(kind or "any", []).append(name)
    return "its labels by type: " + "; ".join(f"{kind}: {', '.join(names)}" for kind, names in sorted(groups.items()))


def _ambiguities(
    fields: Sequence[FieldSchema], kinds: Mapping[str, str | None], capabilities: ToolCapabilities
) -> list[str]:
    """Pairs of fields that could take the same annotation object: a common class (each field holds
    only the labels that can draw what it takes) drawn as an object type both take."""
    problems = []
    for a, b in itertools.combinations(fields, 2):
        types = capabilities.kinds_of(a.label_type) & capabilities.kinds_of(b.label_type)
        classes = sorted(set(_class_names(a)) & set(_class_names(b)))
        drawn = {t for c in classes for t in types if kinds.get(c) in (None, t)}
        if drawn:
            problems.append(
                f"fields {a.path!r} ({a.label_type}) and {b.path!r} ({b.label_type}) would both take a "
                f"{' or '.join(sorted(drawn))} of the project's labels {classes}: the project's labels are "
                "plain names, so what annotators draw could not be told apart; annotate them in separate runs"
            )
    return problems


def _class_names(field: FieldSchema) -> tuple[str, ...]:
    if field.label_type == "scalar" and not field.classes:
        return (field.path,)
    return field.classes

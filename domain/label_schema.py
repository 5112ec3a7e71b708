"""The label schema of an annotation run: which fields, label types, classes and attributes.

``build_label_schema`` resolves annotate()'s schema arguments against the dataset's fields and
existing labels, or raises one ``LabelSchemaError`` listing every problem (ARCHITECTURE.md,
"Label schemas").
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import attrs

from annoflow.domain.errors import AnnoflowError
from annoflow.domain.fields import FieldKind, FieldPath
from annoflow.domain.labels import RESERVED_ATTRIBUTE_NAMES
from annoflow.domain.samples import RESERVED_FIELD_NAMES
from annoflow.domain.schema_observation import (
    AttributeObservation,
    FieldObservation,
    SchemaObservations,
    observe,
)


def _tuple(values: Iterable[Any]) -> tuple[Any, ...]:
    """attrs converter: a named function mypy reads, where it cannot read ``converter=tuple``."""
    return tuple(values)


LABEL_TYPES = (
    "classification",
    "classifications",
    "detections",
    "instances",
    "polylines",
    "polygons",
    "keypoints",
    "segmentation",
    "scalar",
)
ATTRIBUTE_TYPES = ("text", "select", "radio", "checkbox", "occluded", "group_id")
SPATIAL_TYPES = frozenset({"detections", "instances", "polylines", "polygons", "keypoints"})
KIND_OF_LABEL_TYPE = {
    "classification": FieldKind.CLASSIFICATION,
    "classifications": FieldKind.CLASSIFICATIONS,
    "detections": FieldKind.DETECTIONS,
    "instances": FieldKind.DETECTIONS,
    "polylines": FieldKind.POLYLINES,
    "polygons": FieldKind.POLYLINES,
    "keypoints": FieldKind.KEYPOINTS,
    "segmentation": FieldKind.SEGMENTATION,
}
ENTRY_KEYS = frozenset(
    {
        "type",
        "classes",
        "attributes",
        "mask_targets",
        "allow_additions",
        "allow_deletions",
        "allow_label_edits",
        "allow_index_edits",
        "allow_spatial_edits",
    }
)
ATTRIBUTE_KEYS = frozenset({"type", "values", "default", "mutable", "read_only"})
ALLOW_FLAGS = ("allow_additions", "allow_deletions", "allow_label_edits", "allow_index_edits", "allow_spatial_edits")
MAX_SELECT_VALUES = 20
MAX_MASK_TARGET = 65535


class LabelSchemaError(AnnoflowError, ValueError):
    """Every problem of a label schema, listed in one message."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("invalid label schema:\n" + "\n".join(f"  - {p}" for p in self.problems))


# --- the resolved schema ------------------------------------------------------


@attrs.frozen
class AttributeSpec:
    name: str
    type: str
    values: tuple[Any, ...] = attrs.field(default=(), converter=_tuple)
    default: Any = None
    mutable: bool = True
    read_only: bool = False
    # For a text attribute: the one type the existing labels' values hold (int, float, bool or str),
    # so values read back as text, on new labels too, get it again.
    value_type: str | None = None


@attrs.frozen
class ClassGroup:
    """Classes that share extra attributes (the guide's per-class attribute groups)."""

    classes: tuple[str, ...] = attrs.field(converter=_tuple)
    attributes: tuple[AttributeSpec, ...] = attrs.field(converter=_tuple)


def _pairs(pairs: Iterable[Iterable[Any]]) -> tuple[tuple[int, str], ...]:
    """Mask targets as (value, class) pairs, from any pairs (lists, as JSON gives them)."""
    return tuple(tuple(pair) for pair in pairs)


@attrs.frozen
class FieldSchema:
    path: str
    label_type: str
    existing: bool
    classes: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    class_groups: tuple[ClassGroup, ...] = attrs.field(default=(), converter=_tuple)
    attributes: tuple[AttributeSpec, ...] = attrs.field(default=(), converter=_tuple)
    mask_targets: tuple[tuple[int, str], ...] = attrs.field(default=(), converter=_pairs)
    scalar_kind: str | None = None  # for scalar fields: int, float, str or bool
    allow_additions: bool = True
    allow_deletions: bool = True
    allow_label_edits: bool = True
    allow_index_edits: bool = True
    allow_spatial_edits: bool = True
    # When the run names a project: the widget links occluded_attr / group_id_attr ask for. An
    # existing project's labels keep these and ignore the attributes' own widgets (the warning in the guide's "Uploading to existing projects").
    project_links: tuple[AttributeSpec, ...] = attrs.field(default=(), converter=_tuple)

    @property
    def on_frames(self) -> bool:
        return FieldPath.parse(self.path).on_frames

    @property
    def mask_targets_dict(self) -> dict[int, str]:
        return dict(self.mask_targets)

    def attributes_for(self, class_name: str) -> tuple[AttributeSpec, ...]:
        """Field-wide attributes plus those of the class's groups."""
        specs = list(self.attributes)
        for group in self.class_groups:
            if class_name in group.classes:
                specs.extend(group.attributes)
        return tuple(specs)

    @property
    def all_attributes(self) -> tuple[AttributeSpec, ...]:
        """Every attribute of the field once, by name (field-wide first)."""
        seen: dict[str, AttributeSpec] = {}
        for spec in self.attributes + tuple(a for g in self.class_groups for a in g.attributes):
            seen.setdefault(spec.name, spec)
        return tuple(seen.values())

    def _special(self, kind: str) -> AttributeSpec | None:
        return next((a for a in self.all_attributes if a.type == kind), None)

    @property
    def occluded_attribute(self) -> AttributeSpec | None:
        return self._special("occluded")

    @property
    def group_id_attribute(self) -> AttributeSpec | None:
        return self._special("group_id")


@attrs.frozen
class LabelSchema:
    fields: tuple[FieldSchema, ...] = attrs.field(converter=_tuple)
    # The classes and attributes are an existing project's labels (`project_schema.adopt_project_labels`).
    from_project: bool = False

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.path for f in self.fields)

    def field(self, path: str) -> FieldSchema:
        for schema in self.fields:
            if schema.path == path:
                return schema
        raise KeyError(f"the run's schema has no field {path!r} (fields: {', '.join(self.field_names)})")

    def __iter__(self) -> Iterator[FieldSchema]:
        return iter(self.fields)

    def __getitem__(self, key: int | str) -> FieldSchema:
        return self.field(key) if isinstance(key, str) else self.fields[key]

    def __len__(self) -> int:
        return len(self.fields)


# --- resolving annotate()'s arguments ------------------------------------------------


@attrs.frozen
class _Entry:
    """One field asked for, as given: its spec is label_schema's dict, or label_field's arguments."""

    path: Any
    where: str  # how problems name it
    spec: Mapping[str, Any]
    inherited_classes: bool = False  # the classes are the shared classes kwarg, not the field's own


def build_label_schema(
    *,
    label_schema: Any = None,
    label_field: Any = None,
    label_type: Any = None,
    classes: Any = None,
    attributes: Any = True,
    mask_targets: Any = None,
    allow_additions: Any = True,
    allow_deletions: Any = True,
    allow_label_edits: Any = True,
    allow_index_edits: Any = True,
    allow_spatial_edits: Any = True,
    occluded_attr: Any = None,
    group_id_attr: Any = None,
    media_type: str = "image",
    field_schema: Mapping[str, FieldKind],
    observations: SchemaObservations = SchemaObservations(),
    classes_from_project: bool = False,
) -> LabelSchema:
    """Resolve annotate()'s schema arguments, or raise one LabelSchemaError listing every problem.

    ``classes_from_project``: the run names a project, which may exist already and then
    gives the classes and attributes (`project_schema.adopt_project_labels`). So the run may
    name no label field, and a new field may come without classes; what is given is still
    checked and kept, for the case the project turns out to be new (`check_new_project`).
    """
    b = _Builder(field_schema, observations, media_type, classes_from_project)
    flags, problems = _checked_allow_flags(
        {
            "allow_additions": allow_additions,
            "allow_deletions": allow_deletions,
            "allow_label_edits": allow_label_edits,
            "allow_index_edits": allow_index_edits,
            "allow_spatial_edits": allow_spatial_edits,
        }
    )
    b.report(problems)
    b.report(_link_name_problems(occluded_attr, group_id_attr))
    if label_schema is not None:
        entries, problems = _schema_entries(label_schema, classes, attributes)
    elif label_field is not None:
        spec = {"type": label_type, "classes": classes, "attributes": attributes, "mask_targets": mask_targets}
        entries, problems = [_Entry(path=label_field, where=f"label_field {label_field!r}", spec=spec)], []
    elif classes_from_project:
        entries, problems = [], []  # a run into a project may name no label field (see above)
    else:
        entries, problems = [], ["no label field: give label_schema or label_field"]
    b.report(problems)
    links = {"occluded": occluded_attr, "group_id": group_id_attr}
    fields = [b.field(entry, flags, links) for entry in entries]
    if b.problems:
        raise LabelSchemaError(list(dict.fromkeys(b.problems)))  # a link checked twice is reported once
    return LabelSchema([schema for schema in fields if schema is not None])


def _checked_allow_flags(given: Mapping[str, Any], where: str | None = None) -> tuple[dict[str, bool], list[str]]:
    """The allow_* flags, each that is no bool reported and read as True (so reported once, not again for every field)."""
    prefix = f"{where}: " if where else ""
    problems = [
        f"{prefix}{flag} must be True or False, got {value!r}"
        for flag, value in given.items()
        if not isinstance(value, bool)
    ]
    return {flag: value if isinstance(value, bool) else True for flag, value in given.items()}, problems


def _link_name_problems(occluded_attr: Any, group_id_attr: Any) -> list[str]:
    problems = [
        f"{name} must be an attribute name, got {value!r}"
        for name, value in (("occluded_attr", occluded_attr), ("group_id_attr", group_id_attr))
        if value is not None and (not isinstance(value, str) or not value.isidentifier())
    ]
    if occluded_attr is not None and occluded_attr == group_id_attr:
        problems.append(f"occluded_attr and group_id_attr cannot both be {occluded_attr!r}")
    return problems


def _schema_entries(label_schema: Any, classes: Any, attributes: Any) -> tuple[list[_Entry], list[str]]:
    """label_schema's fields, the shared classes and attributes kwargs filling what a field leaves out."""
    if not isinstance(label_schema, Mapping) or not label_schema:
        return [], ["label_schema must be a non-empty dict of field name -> field spec"]
    entries = []
    problems = []
    for path, spec in label_schema.items():
        where = f"label_schema[{path!r}]"
        if spec is None:
            spec = {}
        if not isinstance(spec, Mapping):
            problems.append(f"{where}: a field spec must be a dict, got {type(spec).__name__}")
            continue
        entries.append(
            _Entry(
                path=path,
                where=where,
                spec={"classes": classes, "attributes": attributes, **spec},
                inherited_classes="classes" not in spec,
            )
        )
    return entries, problems


# --- the builder: one field at a time, recording its problems ------------------------


class _Builder:
    """Resolves the fields one at a time, recording every problem in the order it is found."""

    def __init__(
        self,
        field_schema: Mapping[str, FieldKind],
        observations: SchemaObservations,
        media_type: str,
        from_project: bool,
    ) -> None:
        self.field_schema = field_schema
        self.observations = observations
        self.media_type = media_type
        self.from_project = from_project
        self.problems: list[str] = []

    def problem(self, text: str) -> None:
        self.problems.append(text)

    def report(self, problems: Iterable[str]) -> None:
        self.problems.extend(problems)

    def _observed(self, path: str, name: str) -> AttributeObservation | None:
        seen = self.observations.get(path)
        return seen.attribute(name) if seen else None

    # the field --------------------------------------------------------------

    def field(self, entry: _Entry, flags: Mapping[str, bool], links: Mapping[str, str | None]) -> FieldSchema | None:
        """The field's resolved schema, or None when a problem leaves nothing to resolve."""
        where, path, spec = entry.where, entry.path, entry.spec
        name_problem = _field_name_problem(where, path)
        if name_problem is not None:
            self.problem(name_problem)
            return None
        self.report(_entry_problems(where, path, spec, self.media_type))
        existing_kind = self.field_schema.get(path)
        label_type = self.label_type(where, path, spec.get("type"), existing_kind)
        if label_type is None:
            return None
        allow, problems = _checked_allow_flags({flag: spec.get(flag, flags[flag]) for flag in ALLOW_FLAGS}, where)
        self.report(problems)
        existing = existing_kind is not None
        scalar_kind = existing_kind.value if existing_kind is not None and existing_kind.is_scalar else None
        targets = self.mask_targets(where, path, label_type, spec.get("mask_targets"), existing)
        # The shared classes kwarg is for the other fields: mask_targets name a segmentation's classes.
        given_classes = None if entry.inherited_classes and label_type == "segmentation" else spec.get("classes")
        classes, groups = self.classes(where, path, label_type, given_classes, existing, targets)
        if label_type == "scalar" and classes and scalar_kind not in (None, "str"):
            self.problem(f"{where}: classes of a scalar field are strings; field '{path}' holds {scalar_kind}")
        specs = self.attributes(where, path, label_type, spec.get("attributes"), existing)
        project_links: list[AttributeSpec] = []
        if label_type in SPATIAL_TYPES:
            specs, project_links = self.linked_widgets(where, path, specs, groups, links)
        self.report(_attribute_clashes(where, specs, groups))
        return FieldSchema(
            path=path,
            label_type=label_type,
            existing=existing,
            classes=classes,
            class_groups=groups,
            attributes=specs,
            mask_targets=targets,
            scalar_kind=scalar_kind,
            project_links=project_links,
            **allow,
        )

    # label type -------------------------------------------------------------

    def label_type(self, where: str, path: str, given: Any, existing: FieldKind | None) -> str | None:
        if given is not None and given not in LABEL_TYPES:
            self.problem(f"{where}: unknown label type {given!r} (one of {', '.join(LABEL_TYPES)})")
            return None
        chosen: str | None = given  # one of LABEL_TYPES now, or none given
        if existing is None:
            if chosen is None:
                self.problem(f"{where}: a new field needs a 'type'")
            return chosen
        inferred = self._inferred_type(path, existing)
        if chosen is None:
            return inferred
        fits = existing.is_scalar if chosen == "scalar" else KIND_OF_LABEL_TYPE[chosen] is existing
        if not fits:
            self.problem(f"{where}: field '{path}' holds {existing.value}; label_type '{chosen}' does not fit")
            return None
        return chosen

    def _inferred_type(self, path: str, kind: FieldKind) -> str:
        if kind.is_scalar:
            return "scalar"
        seen = self.observations.get(path)
        if kind is FieldKind.DETECTIONS and seen is not None and seen.has_masks:
            return "instances"
        if kind is FieldKind.POLYLINES:
            return "polygons" if seen is not None and seen.all_filled else "polylines"
        return str(kind.value)  # the label type named like the kind

    # classes ------------------------------------------------------------------

    def classes(
        self,
        where: str,
        path: str,
        label_type: str,
        given: Any,
        existing: bool,
        mask_targets: tuple[tuple[int, str], ...],
    ) -> tuple[list[str], list[ClassGroup]]:
        if label_type == "segmentation":
            if given is not None:
                self.problem(f"{where}: segmentation fields take mask_targets, not classes")
            return [name for _, name in mask_targets], []
        if given is None:
            return self._classes_not_given(where, path, label_type, existing), []
        if not isinstance(given, (list, tuple)):
            self.problem(f"{where}: classes must be a list, got {type(given).__name__}")
            return [], []
        flat, groups = self._listed_classes(where, path, label_type, given)
        duplicates = sorted({c for c in flat if flat.count(c) > 1})
        if duplicates:
            self.problem(f"{where}: classes listed more than once: {duplicates}")
        if not flat and label_type != "scalar":
            self.problem(f"{where}: classes must not be empty")
        return list(dict.fromkeys(flat)), groups

    def _classes_not_given(self, where: str, path: str, label_type: str, existing: bool) -> list[str]:
        if label_type == "scalar":
            return []
        if not existing:
            if not self.from_project:
                self.problem(f"{where}: classes are required for a new field")
            return []  # else an existing project's labels give them (`project_schema.check_new_project`)
        seen = self.observations.get(path)
        return list(seen.classes) if seen is not None else []

    def _listed_classes(
        self, where: str, path: str, label_type: str, given: Sequence[Any]
    ) -> tuple[list[str], list[ClassGroup]]:
        """Every class listed (with repeats, to report them), and the class groups."""
        flat: list[str] = []
        groups: list[ClassGroup] = []
        for item in given:
            if isinstance(item, str) and item:
                flat.append(item)
            elif isinstance(item, Mapping):
                group = self._class_group(where, path, label_type, item)
                if group is not None:
                    flat.extend(group.classes)
                    groups.append(group)
            else:
                self.problem(f"{where}: classes hold names or class groups, got {item!r}")
        return flat, groups

    def _class_group(self, where: str, path: str, label_type: str, item: Mapping[str, Any]) -> ClassGroup | None:
        unknown = sorted(set(item) - {"classes", "attributes"})
        if unknown:
            self.problem(f"{where}: a class group takes 'classes' and 'attributes', not {unknown}")
        members = item.get("classes")
        if not isinstance(members, (list, tuple)) or not members or not all(isinstance(c, str) and c for c in members):
            self.problem(f"{where}: a class group needs a non-empty list of class names")
            return None
        specs = self.attribute_dict(f"{where}, classes {list(members)}", path, item.get("attributes", {}), label_type)
        return ClassGroup(classes=members, attributes=specs)

    def mask_targets(
        self, where: str, path: str, label_type: str | None, given: Any, existing: bool
    ) -> tuple[tuple[int, str], ...]:
        if given is None:
            return self._observed_mask_targets(where, path, label_type, existing)
        if label_type != "segmentation":
            self.problem(f"{where}: mask_targets apply to segmentation fields only")
            return ()
        if not isinstance(given, Mapping) or not given:
            self.problem(f"{where}: mask_targets must be a non-empty dict of pixel value -> class name")
            return ()
        pairs, problems = _mask_target_pairs(where, given)
        self.report(problems)
        return pairs

    def _observed_mask_targets(
        self, where: str, path: str, label_type: str | None, existing: bool
    ) -> tuple[tuple[int, str], ...]:
        if label_type != "segmentation":
            return ()
        seen = self.observations.get(path)
        if existing and seen is not None and seen.mask_values:
            return tuple((v, str(v)) for v in seen.mask_values if v != 0)
        if not existing:
            self.problem(f"{where}: a new segmentation field needs mask_targets")
        return ()

    # attributes -------------------------------------------------------------------

    def attributes(self, where: str, path: str, label_type: str, given: Any, existing: bool) -> list[AttributeSpec]:
        if label_type in ("segmentation", "scalar"):
            if isinstance(given, (Mapping, list, tuple)) and given:
                self.problem(f"{where}: {label_type} fields take no attributes")
            return []
        if given is True:
            return self._inferred(where, path, None, label_type) if existing else []
        if given is False or given is None:
            return []
        if isinstance(given, (list, tuple)):
            if not all(isinstance(n, str) for n in given):
                self.problem(f"{where}: an attributes list holds attribute names, got {list(given)!r}")
                return []
            if not existing:
                self.problem(f"{where}: a new field's attributes need their types (use the dict form)")
                return []
            return self._inferred(where, path, list(given), label_type)
        if isinstance(given, Mapping):
            return self.attribute_dict(where, path, given, label_type)
        self.problem(f"{where}: attributes must be True, False, a list of names or a dict, got {type(given).__name__}")
        return []

    def _inferred(self, where: str, path: str, names: list[str] | None, label_type: str) -> list[AttributeSpec]:
        seen = self.observations.get(path)
        observed = {a.name: a for a in (seen.attributes if seen else ())}
        if names is None:
            names = [n for n in observed if n not in RESERVED_ATTRIBUTE_NAMES]
        specs = []
        for name in names:
            if name not in observed:
                self.problem(
                    f"{where}: attribute '{name}' is not on the field's labels; give its type with the dict form"
                )
                continue
            specs.append(_infer_spec(observed[name], label_type))
        return specs

    def attribute_dict(self, where: str, path: str, given: Any, label_type: str) -> list[AttributeSpec]:
        if not isinstance(given, Mapping):
            self.problem(f"{where}: class-group attributes must be a dict, got {type(given).__name__}")
            return []
        specs = []
        for name, raw in given.items():
            at = f"attribute '{name}' of {where}"
            if not isinstance(name, str) or not name.isidentifier():
                self.problem(f"{where}: attribute name {name!r} is not an identifier")
                continue
            if name in RESERVED_ATTRIBUTE_NAMES:
                self.problem(f"{at}: the name '{name}' is reserved")
                continue
            if raw is None:
                raw = {}
            if not isinstance(raw, Mapping):
                self.problem(f"{at}: its spec must be a dict, got {type(raw).__name__}")
                continue
            unknown = sorted(set(raw) - ATTRIBUTE_KEYS)
            if unknown:
                self.problem(f"{at}: unknown keys {unknown} (allowed: {', '.join(sorted(ATTRIBUTE_KEYS))})")
            observed = self._observed(path, name)
            if "type" not in raw:
                if observed is None:
                    self.problem(f"{at}: needs a 'type' (it is not on the field's labels to infer it from)")
                    continue
                inferred = _infer_spec(observed, label_type)
                raw = {**attrs.asdict(inferred, recurse=False), **raw}
                raw.pop("name")
                raw.pop("value_type")
            spec = self._checked_spec(at, name, raw, label_type, observed)
            if spec is not None:
                specs.append(spec)
        return specs

    def _checked_spec(
        self, at: str, name: str, raw: Mapping[str, Any], label_type: str, observed: AttributeObservation | None
    ) -> AttributeSpec | None:
        kind = raw.get("type")
        if kind not in ATTRIBUTE_TYPES:
            self.problem(f"{at}: unknown type {kind!r} (one of {', '.join(ATTRIBUTE_TYPES)})")
            return None
        values = raw.get("values", ())
        if values is None:
            values = ()
        if not isinstance(values, (list, tuple)) or not all(_is_scalar(v) for v in values):
            self.problem(f"{at}: values must be a list of scalars")
            return None
        default = raw.get("default")
        problems = [
            *_value_problems(at, kind, values, default),
            *_flag_problems(at, raw),
            *_widget_problems(at, kind, label_type, observed),
        ]
        if problems:
            self.report(problems)
            return None
        return AttributeSpec(
            name=name,
            type=kind,
            values=tuple(values) if kind in _CHOICE_TYPES else (),
            default=default,
            mutable=raw.get("mutable", True),
            read_only=raw.get("read_only", False),
            value_type=_text_value_type(kind, observed),
        )

    def link_widget(
        self, where: str, path: str, specs: list[AttributeSpec], groups: list[ClassGroup], kind: str, name: str | None
    ) -> list[AttributeSpec]:
        """Check at most one occluded/group_id attribute; add occluded_attr/group_id_attr where none is defined."""
        found = [a.name for a in specs if a.type == kind]
        found_per_group = [[a.name for a in g.attributes if a.type == kind] for g in groups]
        self.report(_widget_count_problems(where, kind, found, found_per_group))
        if name is None or found or any(found_per_group):
            return specs
        spec = self._checked_spec(
            f"{kind}_attr '{name}' on {where}", name, {"type": kind}, "detections", self._observed(path, name)
        )
        if spec is None:
            return specs
        return [a for a in specs if a.name != name] + [spec]

    def linked_widgets(
        self,
        where: str,
        path: str,
        specs: list[AttributeSpec],
        groups: list[ClassGroup],
        links: Mapping[str, str | None],
    ) -> tuple[list[AttributeSpec], list[AttributeSpec]]:
        """The field's attributes with occluded_attr/group_id_attr linked, and the links an existing project keeps."""
        for kind, name in links.items():
            specs = self.link_widget(where, path, specs, groups, kind, name)
        project_links: list[AttributeSpec] = []
        if self.from_project:
            for kind, name in links.items():
                project_links = self.link_widget(where, path, project_links, [], kind, name)
        return specs, project_links


# --- checks that return their problems ---------------------------------------------------


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float, str))


def _typed(value: Any) -> tuple[str, Any]:
    # True == 1 == 1.0 in Python, but the tool sends them as different strings: compare with the type.
    return type(value).__name__, value


_CHOICE_TYPES = ("select", "radio")
# The widget attribute types, with the one value type the existing labels' values may hold.
_WIDGET_VALUE_TYPES = {
    "occluded": ("bool", "an occluded attribute must hold bools"),
    "group_id": ("int", "a group_id attribute must hold integers"),
}


def _mask_target_pairs(where: str, given: Mapping[Any, Any]) -> tuple[tuple[tuple[int, str], ...], list[str]]:
    """The (pixel value, class) pairs given, sorted, and the problems of those left out."""
    pairs = []
    problems = []
    for value, name in given.items():
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_MASK_TARGET:
            problems.append(f"{where}: mask_targets keys must be integers in [0, {MAX_MASK_TARGET}], got {value!r}")
        elif not isinstance(name, str) or not name:
            problems.append(f"{where}: mask_targets[{value}] must be a non-empty class name, got {name!r}")
        else:
            pairs.append((value, name))
    return tuple(sorted(pairs)), problems


def _widget_count_problems(where: str, kind: str, found: list[str], found_per_group: list[list[str]]) -> list[str]:
    """A label has one occluded and one group_id widget: a field's class may hold one attribute of each."""
    if len(found) + max([0] + [len(names) for names in found_per_group]) <= 1:
        return []
    names = found + [n for names in found_per_group for n in names]
    return [f"{where}: at most one attribute of type '{kind}' (found {', '.join(repr(n) for n in names)})"]


def _value_problems(at: str, kind: str, values: Sequence[Any], default: Any) -> list[str]:
    """What is wrong with an attribute's values and default for its type: one problem at most."""
    if kind in _CHOICE_TYPES:
        return _choice_problems(at, kind, values, default)
    if default is None:
        return []
    if kind in ("checkbox", "occluded") and not isinstance(default, bool):
        return [f"{at}: a {kind} default must be a bool, got {default!r}"]
    if kind == "group_id" and (isinstance(default, bool) or not isinstance(default, int)):
        return [f"{at}: a group_id default must be an integer, got {default!r}"]
    if kind == "text" and not isinstance(default, str):
        return [f"{at}: a text default must be a string, got {default!r}"]
    return []


def _choice_problems(at: str, kind: str, values: Sequence[Any], default: Any) -> list[str]:
    if not values:
        return [f"{at}: type '{kind}' requires 'values'"]
    if len(set(map(repr, values))) != len(values):
        return [f"{at}: values listed more than once"]
    if default is not None and _typed(default) not in {_typed(v) for v in values}:
        return [f"{at}: default {default!r} is not one of its values {list(values)!r}"]
    return []


def _flag_problems(at: str, raw: Mapping[str, Any]) -> list[str]:
    return [
        f"{at}: {flag} must be a bool, got {raw[flag]!r}"
        for flag in ("mutable", "read_only")
        if not isinstance(raw.get(flag, False), bool)
    ]


def _widget_problems(at: str, kind: str, label_type: str, observed: AttributeObservation | None) -> list[str]:
    """An occluded or group_id attribute goes on spatial labels, and the existing labels' values must fit it."""
    if kind not in _WIDGET_VALUE_TYPES:
        return []
    problems = []
    if label_type not in SPATIAL_TYPES:
        problems.append(f"{at}: type '{kind}' applies to spatial labels only, not {label_type}")
    held, rule = _WIDGET_VALUE_TYPES[kind]
    if observed is not None and set(observed.types) - {held}:
        problems.append(f"{at}: {rule} on the existing labels, found {list(observed.types)}")
    return problems


def _text_value_type(kind: str, observed: AttributeObservation | None) -> str | None:
    """A text attribute's one value type on the existing labels, if they hold one."""
    return observed.types[0] if kind == "text" and observed is not None and len(observed.types) == 1 else None


def _infer_spec(observed: AttributeObservation, label_type: str) -> AttributeSpec:
    types = set(observed.types)
    # The tool has occlusion and groups for shapes only; on tags these stay plain attributes.
    spatial = label_type in SPATIAL_TYPES
    if spatial and observed.name == "occluded" and types == {"bool"}:
        return AttributeSpec(observed.name, "occluded")
    if spatial and observed.name == "group_id" and types == {"int"}:
        return AttributeSpec(observed.name, "group_id")
    if types == {"bool"}:
        return AttributeSpec(observed.name, "checkbox", default=False)
    if types == {"str"} and not observed.truncated and len(observed.values) <= MAX_SELECT_VALUES:
        return AttributeSpec(observed.name, "select", values=tuple(sorted(observed.values)))
    return AttributeSpec(observed.name, "text", value_type=observed.types[0] if len(types) == 1 else None)


def _field_name_problem(where: str, path: Any) -> str | None:
    """Why ``path`` names no field annoflow may annotate, if it does not."""
    if not isinstance(path, str):
        return f"{where}: a field name must be a string"
    try:
        parsed = FieldPath.parse(path)
    except ValueError:
        return f"{where}: '{path}' is not a valid field name"
    if parsed.name in RESERVED_FIELD_NAMES or parsed.name == "label_id":
        return f"{where}: '{parsed.name}' is reserved and cannot be annotated"
    return None


def _entry_problems(where: str, path: str, spec: Mapping[str, Any], media_type: str) -> list[str]:
    problems = []
    if FieldPath.parse(path).on_frames and media_type != "video":
        problems.append(f"{where}: frame fields need a video dataset")
    unknown = sorted(set(spec) - ENTRY_KEYS)
    if unknown:
        problems.append(f"{where}: unknown keys {unknown} (allowed: {', '.join(sorted(ENTRY_KEYS))})")
    return problems


def _attribute_clashes(where: str, specs: Sequence[AttributeSpec], groups: Sequence[ClassGroup]) -> list[str]:
    """Attributes defined twice, and class-group attributes that differ from the field-wide one of their name."""
    names = [a.name for a in specs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    problems = [f"{where}: attributes defined twice: {duplicates}"] if duplicates else []
    # The tool keys a label's attributes by name, so a class cannot hold two different specs under one name.
    field_wide = {a.name: a for a in specs}
    for group in groups:
        for spec in group.attributes:
            other = field_wide.get(spec.name)
            if other is not None and other != spec:
                problems.append(
                    f"{where}: attribute '{spec.name}' of classes {list(group.classes)} differs from the field-wide one"
                )
    return problems


__all__ = [
    "AttributeObservation",
    "AttributeSpec",
    "ClassGroup",
    "FieldObservation",
    "FieldSchema",
    "LabelSchema",
    "LabelSchemaError",
    "SchemaObservations",
    "build_label_schema",
    "observe",
]

"""What CVAT refuses: each request's body and list filters checked against CVAT's schema, in the server.

`Rules` compiles every operation's request schema once into checks that answer with Django REST
framework's error bodies and messages; docs/simulator.md gives the details.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from typing import Any

from annoflow.adapters.cvat_sim.openapi import shared_schema

Error = Any  # a DRF error detail: a list of messages, a dict of them, or a list of dicts
Check = Callable[[Any], Error]  # None when the value is good

_NUMBERS = frozenset({int, float})
_INTEGER = re.compile(r"-?\d+")
_DECIMAL = re.compile(r"-?\d+(\.\d+)?")
NULL = ["This field may not be null."]
REQUIRED = ["This field is required."]


def _type_name(value: Any) -> str:
    return type(value).__name__


def _choice(value: Any) -> list[str]:
    return [f'"{value}" is not a valid choice.']


def _filter_choice(allowed: frozenset[str], value: str) -> list[str] | None:
    """A query filter's check against its enum: None when the value is one of them."""
    return None if value in allowed else [f"Select a valid choice. {value} is not one of the available choices."]


class _Compiler:
    def __init__(
        self, components: Mapping[str, Any], validate: Mapping[str, Callable[[dict[str, Any]], Error]] | None = None
    ) -> None:
        """``validate``: what serializers check beyond a model's schema (VALIDATE unless given)."""
        self.components = components
        self.validate = VALIDATE if validate is None else validate
        self.named: dict[str, Check] = {}

    def ref(self, name: str) -> Check:
        if name not in self.named:
            later: list[Check] = []
            self.named[name] = lambda value: later[0](value)  # a model that contains itself
            later.append(self.compile(self.components[name], name))
            self.named[name] = later[0]
        return self.named[name]

    def is_object(self, schema: Mapping[str, Any]) -> bool:
        while "$ref" in schema or ("allOf" in schema and len(schema["allOf"]) == 1):
            schema = self.components[schema["$ref"].rsplit("/", 1)[-1]] if "$ref" in schema else schema["allOf"][0]
        return schema.get("type") == "object" or "properties" in schema

    def compile(self, schema: Mapping[str, Any], name: str | None = None) -> Check:
        if "$ref" in schema:
            return self.ref(schema["$ref"].rsplit("/", 1)[-1])
        for key in ("anyOf", "oneOf"):
            if key in schema:
                return self._union(schema[key])
        if "allOf" in schema:
            parts = [self.compile(part) for part in schema["allOf"]]
            return parts[0] if len(parts) == 1 else self._every(parts)
        nullable = schema.get("nullable") is True or None in schema.get("enum", ())
        check = self._typed(schema, name)
        return lambda v: (None if nullable else NULL) if v is None else check(v)

    def _typed(self, schema: Mapping[str, Any], name: str | None) -> Check:
        """The check of a value that is not null, by the schema's enum or type."""
        kind = schema.get("type")
        if "enum" in schema:
            return self._enum(schema["enum"])
        if kind == "object" or "properties" in schema:
            return self._object(schema, self.validate.get(name or ""))
        if kind == "array":
            return self._array(schema, name)
        if kind == "string":
            return self._string(schema)
        if kind == "integer":
            return self._number(schema, lambda v: type(v) is int, "A valid integer is required.")
        if kind == "number":
            return self._number(schema, lambda v: type(v) in _NUMBERS, "A valid number is required.")
        if kind == "boolean":
            return lambda v: None if type(v) is bool else ["Must be a valid boolean."]
        return lambda v: None  # no type: anything

    @staticmethod
    def _every(parts: list[Check]) -> Check:
        def check(value: Any) -> Error:
            return next((error for part in parts if (error := part(value)) is not None), None)

        return check

    def _union(self, alternatives: list[Mapping[str, Any]]) -> Check:
        checks = [self.compile(alt) for alt in alternatives]

        def check(value: Any) -> Error:
            errors = []
            for one in checks:
                error = one(value)
                if error is None:
                    return None
                errors.append(error)
            return errors[0]

        return check

    @staticmethod
    def _enum(values: list[Any]) -> Check:
        allowed = frozenset(v for v in values if v is not None)
        return lambda v: None if isinstance(v, str) and v in allowed else _choice(v)

    def _object(self, schema: Mapping[str, Any], validate: Callable[[dict[str, Any]], Error] | None) -> Check:
        # read-only properties are not input: DRF ignores them, as any property it does not know
        properties = {
            key: self.compile(sub) for key, sub in schema.get("properties", {}).items() if not sub.get("readOnly")
        }
        required = [key for key in schema.get("required", []) if key in properties]

        def check(value: Any) -> Error:
            if type(value) is not dict:
                return {"non_field_errors": [f"Invalid data. Expected a dictionary, but got {_type_name(value)}."]}
            errors = {key: REQUIRED for key in required if key not in value}
            for key, one in properties.items():
                if key in value and (error := one(value[key])) is not None:
                    errors[key] = error
            if not errors and validate is not None:  # the serializer's validate(): once its fields are good
                return validate(value)
            return errors or None

        return check

    def _array(self, schema: Mapping[str, Any], name: str | None) -> Check:
        items = schema.get("items", {})
        item_check = self.compile(items)
        fast = FAST.get(items.get("$ref", "").rsplit("/", 1)[-1], lambda item: False)
        many = self.is_object(items)  # DRF's ListSerializer; else a ListField, whose errors go by index
        min_items = schema.get("minItems", 0)

        if items.get("type") == "number":  # points: CVAT's OptimizedFloatListField words it so
            item_check = lambda v: None if type(v) in _NUMBERS else ["Value must be a float or an integer"]  # noqa: E731

        def check(value: Any) -> Error:
            if type(value) is not list:
                return [f'Expected a list of items but got type "{_type_name(value)}".']
            if len(value) < min_items:
                return ["This list may not be empty."]
            found: dict[int, Error] = {}
            for index, item in enumerate(value):
                if not fast(item) and (error := item_check(item)) is not None:
                    found[index] = error
            if not found:
                return None
            if many:
                return [found.get(index, {}) for index in range(len(value))]
            return {str(index): error for index, error in found.items()}

        return check

    @staticmethod
    def _string(schema: Mapping[str, Any]) -> Check:
        low, high = schema.get("minLength", 0), schema.get("maxLength")
        pattern = re.compile(schema["pattern"]) if "pattern" in schema else None

        def check(value: Any) -> Error:
            if type(value) is not str:
                return ["Not a valid string."]
            if low and not value.strip():  # DRF trims, then a non-blank field refuses what is left
                return ["This field may not be blank."]
            if high is not None and len(value) > high:
                return [f"Ensure this field has no more than {high} characters."]
            if len(value) < low:
                return [f"Ensure this field has at least {low} characters."]
            if pattern is not None and not pattern.search(value):
                return ["This value does not match the required pattern."]
            return None

        return check

    @staticmethod
    def _number(schema: Mapping[str, Any], is_kind: Callable[[Any], bool], invalid: str) -> Check:
        low, high = schema.get("minimum"), schema.get("maximum")

        def check(value: Any) -> Error:
            if not is_kind(value):
                return [invalid]
            if low is not None and value < low:
                return [f"Ensure this value is greater than or equal to {low}."]
            if high is not None and value > high:
                return [f"Ensure this value is less than or equal to {high}."]
            return None

        return check


# --- what the serializers' validate() adds to the schema ----------------------------------------------


def _points_fit(shape_type: str, count: int) -> bool:
    """ShapeSerializer.validate: how many coordinates each shape type takes."""
    if shape_type in ("rectangle", "ellipse"):
        return count == 4
    if shape_type == "cuboid":
        return count == 16
    if shape_type == "mask":
        return count >= 5
    if shape_type == "skeleton":
        return count == 0
    least = {"polygon": 6, "polyline": 4, "points": 2}[shape_type]
    return count >= least and count % 2 == 0


def _validate_geometry(shape: dict[str, Any]) -> Error:
    if not _points_fit(shape["type"], len(shape.get("points", ()))):
        return {"points": [f"invalid length for shape type '{shape['type']}'"]}
    return None


def _validate_shape(shape: dict[str, Any]) -> Error:
    """LabeledShapeSerializer.validate: a skeleton has elements, nothing else has any."""
    if (error := _validate_geometry(shape)) is not None:
        return error
    elements = len(shape.get("elements", ()))
    if shape["type"] == "skeleton" and not elements:
        return {"elements": ["at least one required for skeleton shape"]}
    if shape["type"] != "skeleton" and elements:
        return {"elements": ["not allowed for non-skeleton shape"]}
    return None


VALIDATE: dict[str, Callable[[dict[str, Any]], Error]] = {
    "LabeledShapeRequest": _validate_shape,
    "SubLabeledShapeRequest": _validate_geometry,
    "TrackedShapeRequest": _validate_geometry,
}


# --- fast structural tests of the bulk models: True only for an item the schema accepts ------------

_SHAPE_TYPES = frozenset({"rectangle", "polygon", "polyline", "points", "ellipse", "cuboid", "mask", "skeleton"})
_FAST_COUNTS = {"rectangle": 4, "ellipse": 4, "cuboid": 16}  # exact counts; the others by _points_fit


def _fast_attributes(values: Any) -> bool:
    if type(values) is not list:
        return False
    for item in values:
        if type(item) is not dict or type(item.get("spec_id")) is not int:
            return False
        value = item.get("value")
        if type(value) is not str or len(value) > 4096:
            return False
    return True


def _fast_annotation(item: dict[str, Any]) -> bool:
    """What tags, shapes and tracks share: id, frame, label_id, group, source, attributes."""
    frame, label = item.get("frame"), item.get("label_id")
    if type(frame) is not int or frame < 0 or type(label) is not int or label < 0:
        return False
    if item.get("id") is not None and type(item["id"]) is not int:
        return False
    group = item.get("group")
    if group is not None and (type(group) is not int or group < 0):
        return False
    if "source" in item and (type(item["source"]) is not str or not item["source"].strip()):
        return False
    return "attributes" not in item or _fast_attributes(item["attributes"])


def _fast_geometry(item: dict[str, Any]) -> bool:
    kind = item.get("type")
    if type(kind) is not str or kind not in _SHAPE_TYPES:
        return False
    if type(item.get("occluded", False)) is not bool or type(item.get("outside", False)) is not bool:
        return False
    if type(item.get("z_order", 0)) is not int:
        return False
    rotation = item.get("rotation", 0)
    if type(rotation) not in _NUMBERS or not 0 <= rotation <= 360:
        return False
    points = item.get("points", [])
    if type(points) is not list or not _NUMBERS.issuperset(map(type, points)):
        return False
    exact = _FAST_COUNTS.get(item["type"])
    return len(points) == exact if exact is not None else _points_fit(item["type"], len(points))


def fast_tag(item: Any) -> bool:
    return type(item) is dict and _fast_annotation(item)


def fast_shape(item: Any) -> bool:
    """_fast_annotation and _fast_geometry inlined: a task's PUT has tens of thousands of shapes.

    One function on purpose (radon 30): split into three steps it ran 7-17% slower on 50,000 shapes
    (best of 25 rounds), and it is the hot path of every benchmark's PUT."""
    if type(item) is not dict:
        return False
    get = item.get
    frame, label, kind = get("frame"), get("label_id"), get("type")
    if type(frame) is not int or frame < 0 or type(label) is not int or label < 0 or type(kind) is not str:
        return False
    points = get("points", [])
    if type(points) is not list:
        return False
    exact = _FAST_COUNTS.get(kind)
    if exact is not None:
        if len(points) != exact:
            return False
    elif kind not in _SHAPE_TYPES or kind == "skeleton" or not _points_fit(kind, len(points)):
        return False  # a skeleton, with its elements, goes to the compiled check
    if not _NUMBERS.issuperset(map(type, points)):
        return False
    if ((value := get("id")) is not None and type(value) is not int) or (
        (value := get("group")) is not None and (type(value) is not int or value < 0)
    ):
        return False
    if (
        type(get("occluded", False)) is not bool
        or type(get("outside", False)) is not bool
        or type(get("z_order", 0)) is not int
    ):
        return False
    rotation = get("rotation", 0)
    if type(rotation) not in _NUMBERS or not 0 <= rotation <= 360:
        return False
    if "source" in item and (type(item["source"]) is not str or not item["source"].strip()):
        return False
    if "elements" in item and item["elements"] != []:
        return False
    return "attributes" not in item or _fast_attributes(item["attributes"])


def fast_tracked_shape(item: Any) -> bool:
    if type(item) is not dict or not _fast_geometry(item):
        return False
    frame = item.get("frame")
    if type(frame) is not int or frame < 0 or (item.get("id") is not None and type(item["id"]) is not int):
        return False
    return "attributes" not in item or _fast_attributes(item["attributes"])


def fast_track(item: Any) -> bool:
    if type(item) is not dict or not _fast_annotation(item) or item.get("elements", []) != []:
        return False
    shapes = item.get("shapes")
    return type(shapes) is list and all(map(fast_tracked_shape, shapes))


FAST: dict[str, Callable[[Any], bool]] = {
    "LabeledImageRequest": fast_tag,
    "LabeledShapeRequest": fast_shape,
    "LabeledTrackRequest": fast_track,
    "TrackedShapeRequest": fast_tracked_shape,
}


# --- operations ----------------------------------------------------------------------------------

# Query parameters a list does not filter by, or that other code checks as CVAT does:
# paging (an invalid page is a 404), the organization (IAM), the JSON filter, sort and search.
_NOT_FILTERS = frozenset({"page", "page_size", "org", "org_id", "filter", "sort", "search"})


class Operation:
    """One operation's checks: its JSON / form body, and a list's filters."""

    def __init__(self, compiler: _Compiler, operation: Mapping[str, Any]) -> None:
        content = operation.get("requestBody", {}).get("content", {})
        json_schema = content.get("application/json", {}).get("schema")
        form_schema = content.get("multipart/form-data", {}).get("schema")
        self.body: Check | None = compiler.compile(json_schema) if json_schema else None
        self.form: Check | None = compiler.compile(form_schema) if form_schema else None
        self.form_fields: dict[str, Mapping[str, Any]] = {}
        self.form_required: frozenset[str] = frozenset()
        if form_schema:
            model = (
                compiler.components[form_schema["$ref"].rsplit("/", 1)[-1]] if "$ref" in form_schema else form_schema
            )
            self.form_fields = dict(model.get("properties", {}))
            self.form_required = frozenset(model.get("required", ()))
        parameters = operation.get("parameters", [])
        paged = any(p.get("name") == "page" for p in parameters)
        self.filters: dict[str, Callable[[str], list[str] | None]] = {}
        for parameter in parameters if paged else ():
            name, schema = parameter.get("name"), parameter.get("schema", {})
            if parameter.get("in") != "query" or name in _NOT_FILTERS:
                continue
            if "enum" in schema:
                allowed = frozenset(schema["enum"])
                self.filters[name] = functools.partial(_filter_choice, allowed)
            elif schema.get("type") == "integer":
                self.filters[name] = lambda v: None if _DECIMAL.fullmatch(v.strip()) else ["Enter a number."]

    def check_query(self, query: Mapping[str, str]) -> dict[str, list[str]] | None:
        errors = {
            name: error
            for name, check in self.filters.items()
            if name in query and query[name] != "" and (error := check(query[name])) is not None
        }
        return errors or None

    def form_as_data(self, fields: Mapping[str, list[str]], files: Mapping[str, int]) -> dict[str, Any]:
        """A multipart form's fields as the values its model types them as (a form holds text).

        ``files`` counts the files sent under each field name. As DRF reads a form: an empty value
        is no value (or null where the field is nullable)."""
        data: dict[str, Any] = {}
        for name, values in fields.items():
            schema = self.form_fields.get(name, {})
            kind = schema.get("type")
            if kind == "array":
                data[name] = list(values)
                continue
            value = values[-1]
            if value == "":
                if schema.get("nullable"):
                    data[name] = None
                elif name in self.form_required:
                    data[name] = value
                continue
            if kind == "integer":
                data[name] = int(value) if _INTEGER.fullmatch(value) else value
            elif kind == "boolean":
                data[name] = {"true": True, "false": False}.get(value.lower(), value)
            else:
                data[name] = value
        for name, count in files.items():
            data[name] = ["<file>"] * count  # a file stands for a binary string
        return data


class Rules:
    """Every operation of CVAT's schema, by method and by path with its parameters unnamed."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        compiler = _Compiler(spec["components"]["schemas"])
        self.operations: dict[tuple[str, str], Operation] = {}
        for path, item in spec["paths"].items():
            for method, operation in item.items():
                if method in ("get", "post", "put", "patch", "delete"):
                    self.operations[(method.upper(), normal_path(path))] = Operation(compiler, operation)

    def for_route(self, route_path: str) -> dict[str, Operation]:
        """The operations of one of the simulator's routes, by method."""
        key = normal_path(route_path)
        return {method: op for (method, path), op in self.operations.items() if path == key}


def normal_path(path: str) -> str:
    """/api/tasks/{id}/data/ and /api/tasks/{id:int}/data both read /api/tasks/{}/data."""
    return re.sub(r"\{[^}]+\}", "{}", path).rstrip("/")


@functools.lru_cache(maxsize=1)
def rules() -> Rules:
    """Compiled once per process: the schema's YAML is read once, the checks are closures."""
    return Rules(shared_schema())

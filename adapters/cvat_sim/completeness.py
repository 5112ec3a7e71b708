"""Does a response carry every property its schema model lists, as CVAT sends it?

An OpenAPI validator passes a body that leaves out a property its model does
not mark required, which is most of them; CVAT's read serializers send every
field (null when unset), so a client may index any of them. `problems()` walks
a response body with the model its operation documents and names each property
that is missing, and each one sent that the model does not list.

Django REST framework leaves a property out in one case: a ``required=False``
field whose source cannot be read is skipped. `CVAT_LEAVES_OUT` lists where that
happens in the models the simulator serves (cvat/apps/engine/serializers.py at
v2.52.0); there, the property must be absent as CVAT has it, not merely may be.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

# TaskReadSerializer: the data.* fields are required=False, so a task with no data has none of them.
_TASK_DATA = frozenset(
    {
        "data_chunk_size",
        "data_original_chunk_type",
        "data_compressed_chunk_type",
        "data_cloud_storage_id",
        "size",
        "image_quality",
        "data",
    }
)


def _task_read(body: Mapping[str, Any]) -> frozenset[str]:
    return frozenset() if "data" in body else _TASK_DATA


def _label(body: Mapping[str, Any]) -> frozenset[str]:
    # LabelSerializer.to_representation drops the unset one of task_id / project_id; svg is read
    # from a skeleton, so a label of another type has none.
    out = {"task_id"} if body.get("project_id") else {"project_id"}
    if body.get("type") != "skeleton":
        out.add("svg")
    return frozenset(out)


def _request_operation(body: Mapping[str, Any]) -> frozenset[str]:
    # RequestDataOperationSerializer.to_representation (cvat/apps/redis_handler/serializers.py):
    # function_id for an auto-annotation only, format for request ids that may carry one.
    action = str(body.get("type", "")).split(":")[0]
    out = set()
    if action != "autoannotate":
        out.add("function_id")
    if action not in ("create", "import", "export"):
        out.add("format")
    return frozenset(out)


CVAT_LEAVES_OUT: dict[str, Callable[[Mapping[str, Any]], frozenset[str]]] = {
    "TaskRead": _task_read,
    "Label": _label,
    "RequestDataOperation": _request_operation,
}


class Completeness:
    """Walks response bodies with the schema's models (a schema dict read by `openapi.py`)."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.spec = spec
        self.components = spec["components"]["schemas"]
        self.models_seen: set[str] = set()

    def response_schema(self, template: str, method: str, status: int, content_type: str) -> Any:
        """The schema of an operation's documented answer, or None where it documents none."""
        operation = self.spec["paths"].get(template, {}).get(method.lower())
        answer = (operation or {}).get("responses", {}).get(str(status))
        content = (answer or {}).get("content", {})
        media = content.get(content_type) or content.get("application/json")
        return None if media is None else media.get("schema")

    def problems(self, body: Any, schema: Any, where: str = "body") -> list[str]:
        return self._walk(body, schema, where, None)

    def _walk(self, body: Any, schema: Any, where: str, model: str | None) -> list[str]:
        if not isinstance(schema, Mapping):
            return []
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            return self._walk(body, self.components[name], where, name)
        for key in ("anyOf", "oneOf"):
            if key in schema:
                return self._alternatives(body, schema[key], where, model)
        found: list[str] = []
        for part in schema.get("allOf", []):
            found += self._walk(body, part, where, model)
        if isinstance(body, list) and "items" in schema:
            for index, item in enumerate(body):
                found += self._walk(item, schema["items"], f"{where}[{index}]", None)
        elif isinstance(body, Mapping) and "properties" in schema:
            if model is not None:
                self.models_seen.add(model)
            found += self._object(body, schema, where, model)
        return found

    def _alternatives(self, body: Any, alternatives: list[Any], where: str, model: str | None) -> list[str]:
        """anyOf / oneOf: nothing when one alternative fits (null fits a nullable one), else the
        shortest list of problems."""
        if body is None and any(alt.get("enum") == [None] for alt in alternatives):
            return []
        tries = [self._walk(body, alt, where, model) for alt in alternatives if alt.get("enum") != [None]]
        return [] if any(not found for found in tries) else min(tries, key=len)

    def _object(self, body: Mapping[str, Any], schema: Mapping[str, Any], where: str, model: str | None) -> list[str]:
        listed = {name: sub for name, sub in schema["properties"].items() if not sub.get("writeOnly")}
        found = self._properties(body, listed, bool(schema.get("additionalProperties")), where, model)
        for name, sub in listed.items():
            if name in body:
                found += self._walk(body[name], sub, f"{where}.{name}", None)
        return found

    @staticmethod
    def _properties(
        body: Mapping[str, Any], listed: Mapping[str, Any], more_allowed: bool, where: str, model: str | None
    ) -> list[str]:
        """An object's properties against its model's: missing, sent where CVAT leaves them out, unknown."""
        left_out = CVAT_LEAVES_OUT[model](body) if model in CVAT_LEAVES_OUT else frozenset()
        found = [
            f"{where}.{name} is missing ({model or 'inline'} lists it; CVAT sends it, null when unset)"
            for name in listed
            if name not in body and name not in left_out
        ]
        found += [
            f"{where}.{name} is sent, but CVAT leaves it out here ({model})"
            for name in sorted(left_out)
            if name in body
        ]
        found += [
            f"{where}.{name} is not a property of {model or 'the inline model'}"
            for name in body
            if name not in listed and not more_allowed
        ]
        return found

"""Checking traffic against CVAT's own OpenAPI schema with openapi-core.

Build one `SchemaValidator` per test session (the schema takes a second to
load); hand its `check` to the simulator as ``on_exchange`` and every
request and response is validated as it happens. Problems are collected, not
raised inside the server, so the test that caused them fails with all of them.
"""

from __future__ import annotations

import copy
import email
import json
import re
import threading
from email.message import Message
from pathlib import Path
from typing import Any

from annoflow.adapters.cvat_sim.completeness import Completeness
from annoflow.adapters.cvat_sim.faults import CONTROL_PREFIX, Exchange

# SCHEMA_FILE and schema_path stay importable from here, where they were first.
from annoflow.adapters.cvat_sim.openapi import SCHEMA_FILE, cvat_schema, read_schema, schema_path  # noqa: F401

# Where CVAT's schema and CVAT's server (v2.52.0) part ways, each for a stated reason:
# - the TUS upload protocol: the chunk route (PATCH/HEAD /api/tasks/{id}/data/{file_id}) is not in
#   the schema, and the Upload-Start / Upload-Multiple steps answer 202 and 200 without a body;
#   these exchanges are counted, not validated. Upload-Finish carries the DataRequest and IS
#   validated, its flag header (sent empty by cvat-sdk, meaning "present") read as true.
# - the simulator's own control routes (/_simulator/..., control.py) are not CVAT's: counted, not validated.
# - GET /api/server/about is served to anonymous clients (ServerViewSet.about has no permission
#   classes; cvat-sdk calls it before logging in), although the schema's global security says
#   otherwise: its request is not checked for credentials; its response is validated.
# - a nullable `allOf` / `oneOf` (an unset owner, assignee or storage) admits null, as CVAT means it
#   (openapi.py rewrites the schema so; strict OpenAPI 3.0 would read it as never null).
# - a response must also carry every property its model lists, except where CVAT's serializers
#   leave one out (completeness.py): the schema marks few of them required, CVAT sends them all.
# - an export's download (GET /api/tasks/{id}/dataset/download?rq_id=...) is left out of the schema by CVAT
#   itself (`exclude=True`: a private endpoint, used only as a request's result_url): counted, not validated.
UNDOCUMENTED = re.compile(r"^/api/tasks/\d+/(data/[0-9a-f]{16}|dataset/download/?)$")
TUS_STEPS = ("upload-start", "upload-multiple", "tus-resumable")


class SchemaValidator:
    def __init__(self, path: Path | None = None) -> None:
        from openapi_core import Config, OpenAPI

        config = Config(extra_media_type_deserializers={"application/vnd.cvat+json": lambda data: json.loads(data)})
        spec = read_schema(path) if path is not None else cvat_schema()
        self.completeness = Completeness(spec)
        self.openapi = OpenAPI.from_dict(copy.deepcopy(spec), config=config)
        # str(): openapi-core types the schema's keys as any JSON key; the paths' keys are strings.
        # keys(): iterating openapi-core's SchemaPath is not iterating its keys.
        paths = self.openapi.spec["paths"].keys()
        self._templates = {str(p): self._template(str(p)) for p in paths}
        self._lock = threading.Lock()
        self.problems: list[str] = []
        self.checked = 0
        self.undocumented = 0
        self.undocumented_errors = 0

    @staticmethod
    def _template(path: str) -> re.Pattern[str]:
        return re.compile("^" + re.sub(r"\{[^}]+\}", r"[^/]+", path) + "$")

    def _documented_path(self, path: str) -> str:
        """CVAT answers action routes without their trailing slash; the schema writes them with it."""
        if any(t.match(path) for t in self._templates.values()):
            return path
        if any(t.match(path + "/") for t in self._templates.values()):
            return path + "/"
        return path

    def _template_of(self, path: str) -> str:
        documented = self._documented_path(path)
        # literal routes (/api/users/self) before templated ones (/api/users/{id})
        for template, pattern in sorted(self._templates.items(), key=lambda item: item[0].count("{")):
            if pattern.match(documented):
                return template
        raise KeyError(f"{path} is not in CVAT's schema")

    def check(self, exchange: Exchange) -> None:
        """Validate one exchange; never raises inside the server, records what it finds."""
        try:
            self._check(exchange)
        except Exception as error:  # noqa: BLE001 - a crash of the check is itself a finding
            with self._lock:
                self.problems.append(f"could not check {exchange.method} {exchange.path}: {_describe(error)}")

    def _check(self, exchange: Exchange) -> None:
        if (
            UNDOCUMENTED.match(exchange.path)
            or exchange.path.startswith(CONTROL_PREFIX)
            or any(h in exchange.request_headers for h in TUS_STEPS)
        ):
            with self._lock:
                self.undocumented += 1
            return
        request, anonymous_about = self._mock_request(exchange)
        problems = []
        try:
            if not anonymous_about:
                self.openapi.validate_request(request)
        except Exception as error:  # noqa: BLE001 - every validation error is a finding, whatever its class
            problems.append(f"request {exchange.method} {exchange.path}?{exchange.query}: {_describe(error)}")
        operation = self._operation(exchange)
        if exchange.status >= 400 and operation is not None and str(exchange.status) not in operation["responses"]:
            # CVAT's schema leaves most error answers undocumented: nothing to compare them with.
            with self._lock:
                self.checked += 1
                self.undocumented_errors += 1
                self.problems.extend(problems)
            return
        problems += self._response_problems(request, exchange)
        with self._lock:
            self.checked += 1
            self.problems.extend(problems)

    def _mock_request(self, exchange: Exchange) -> tuple[Any, bool]:
        """The exchange's request as openapi-core reads it, and whether it is an anonymous
        server/about (whose credentials go unchecked, see above)."""
        from urllib.parse import parse_qsl

        from openapi_core.testing import MockRequest
        from werkzeug.datastructures import ImmutableMultiDict

        headers = dict(exchange.request_headers)
        if "upload-finish" in headers:
            headers["upload-finish"] = "true"
        anonymous_about = exchange.path.rstrip("/") == "/api/server/about" and not (
            "authorization" in headers or "sessionid" in headers.get("cookie", "")
        )
        body = exchange.request_body
        content_type = headers.get("content-type", "")
        if content_type.startswith("multipart/form-data") and body:
            # openapi-core neither casts form fields nor knows CVAT's indexed file names
            # (client_files[0], ...): validate the form as the JSON body it stands for.
            body = json.dumps(self._form_as_json(exchange)).encode()
            headers["content-type"] = content_type = "application/json"
        cookies = {}
        for part in headers.get("cookie", "").split(";"):
            if "=" in part:
                key, _, value = part.strip().partition("=")
                cookies[key] = value
        request = MockRequest(
            "http://cvat.local",
            exchange.method,
            self._documented_path(exchange.path),
            headers=headers,
            cookies=cookies,
            data=body or None,
            content_type=content_type.split(";")[0] if body else content_type,
        )
        request.parameters.query = ImmutableMultiDict(parse_qsl(exchange.query, keep_blank_values=True))
        return request, anonymous_about

    def _response_problems(self, request: Any, exchange: Exchange) -> list[str]:
        """The response against its operation's schema, then against what CVAT sends."""
        from openapi_core.testing import MockResponse

        response = MockResponse(
            exchange.response_body,
            status_code=exchange.status,
            headers=exchange.response_headers,
            content_type=exchange.response_headers.get("content-type", "").split(";")[0],
        )
        problems = []
        try:
            self.openapi.validate_response(request, response)
        except Exception as error:  # noqa: BLE001 - as for the request: every error is a finding
            problems.append(f"response {exchange.status} to {exchange.method} {exchange.path}: {_describe(error)}")
        return problems + self._incomplete(exchange)

    def _incomplete(self, exchange: Exchange) -> list[str]:
        """Properties a response leaves out that CVAT sends (completeness.py)."""
        content_type = exchange.response_headers.get("content-type", "").split(";")[0]
        if exchange.status >= 300 or not exchange.response_body or not content_type.endswith("json"):
            return []
        try:
            schema = self.completeness.response_schema(
                self._template_of(exchange.path), exchange.method, exchange.status, content_type
            )
        except KeyError:
            return []
        if schema is None:
            return []
        found = self.completeness.problems(json.loads(exchange.response_body), schema)
        return [f"response {exchange.status} to {exchange.method} {exchange.path}: {problem}" for problem in found[:20]]

    def _operation(self, exchange: Exchange) -> Any:
        try:
            return self.openapi.spec["paths"][self._template_of(exchange.path)][exchange.method.lower()]
        except KeyError:
            return None

    def _form_as_json(self, exchange: Exchange) -> dict[str, Any]:
        message = email.message_from_bytes(
            b"Content-Type: " + exchange.request_headers["content-type"].encode() + b"\r\n\r\n" + exchange.request_body
        )
        operation = self.openapi.spec["paths"][self._template_of(exchange.path)][exchange.method.lower()]
        schema_ref = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
        properties = dict(schema_ref.get("properties", {}))
        out: dict[str, Any] = {}
        for part in _form_parts(message):
            name = part.get_param("name", header="content-disposition")
            if not isinstance(name, str):
                raise ValueError(f"a form part has no plain name in its Content-Disposition: {name!r}")
            filename = part.get_filename()
            field = re.sub(r"\[\d+\]$", "", name)
            value: Any = filename if filename is not None else _part_bytes(part).decode()
            kind = properties.get(field, {}).get("type") if field in properties else None
            if kind == "array" or name != field:
                out.setdefault(field, []).append(value)
            elif kind == "integer":
                out[field] = int(value) if value.lstrip("-").isdigit() else value
            elif kind == "boolean":
                out[field] = {"true": True, "false": False}.get(value.lower(), value)
            else:
                out[field] = value
        return out

    def take_problems(self) -> list[str]:
        with self._lock:
            found, self.problems = self.problems, []
            return found


def _describe(error: Exception) -> str:
    parts = [f"{type(error).__name__}: {error}"]
    cause: Any = error.__cause__
    while cause is not None:
        parts.append(f"{type(cause).__name__}: {cause}")
        for sub in getattr(cause, "schema_errors", []) or []:
            parts.append(f"  - {sub.message} at {list(sub.path)}")
        cause = cause.__cause__
    return " <- ".join(parts)[:2000]


def _form_parts(message: Message) -> list[Message]:
    """The parts of a multipart/form-data body."""
    parts = message.get_payload()
    if not isinstance(parts, list):
        raise ValueError("the form body is not multipart")
    return [part for part in parts if isinstance(part, Message)]


def _part_bytes(part: Message) -> bytes:
    """A form part's content, its transfer encoding undone."""
    content = part.get_payload(decode=True)
    if not isinstance(content, bytes):
        raise ValueError(
            f"the form part {part.get_param('name', header='content-disposition')!r} holds parts, not a value"
        )
    return content

"""Fault injection and the exchange hook, as one ASGI middleware in front of every route.

A `FaultPlan` holds rules: from the Nth request matching a method and a path
pattern, for one or more requests in a row, answer a status (5xx, or 429 with
Retry-After), hang for a while before answering, or drop the connection. Rules
come from code or as one line each (fault_spec.py: the command line and the
control endpoint). Every finished exchange (request and response, bodies
included) is handed to ``on_exchange``, which the tests use to validate
traffic against CVAT's OpenAPI schema.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import re
import threading
from collections.abc import Callable
from typing import Any

import attrs

from annoflow.adapters.cvat_sim.fault_spec import parse_fault

# The connection's transport, set by the server's protocol for the request it starts,
# so a fault can drop the connection the way a failing proxy or server does.
current_transport: contextvars.ContextVar[Any] = contextvars.ContextVar("cvat_sim_transport", default=None)


@attrs.frozen
class Exchange:
    method: str
    path: str
    query: str
    request_headers: dict[str, str]
    request_body: bytes
    status: int
    response_headers: dict[str, str]
    response_body: bytes


@attrs.define
class FaultRule:
    method: str
    path: re.Pattern[str]
    nth: int
    status: int | None = None
    retry_after: float | None = None
    hang: float | None = None
    reset: bool = False
    times: int | None = 1  # None: every matching request from the nth on
    text: str = ""  # the line it was written as (fault_spec.py), if any
    seen: int = 0
    hits: int = 0
    fired: bool = False  # done: it will not misbehave again

    def summary(self) -> dict[str, Any]:
        return {
            "fault": self.text or f"{self.method} {self.path.pattern}",
            "seen": self.seen,
            "fired": self.hits,
            "done": self.fired,
        }


# The simulator's own control routes are never faulted, so a plan can always be changed.
CONTROL_PREFIX = "/_simulator/"


class FaultPlan:
    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()

    def add(
        self,
        method: str,
        path: str,
        *,
        nth: int = 1,
        status: int | None = None,
        retry_after: float | None = None,
        hang: float | None = None,
        reset: bool = False,
        times: int | None = 1,
        text: str = "",
    ) -> FaultRule:
        """From the ``nth`` matching request (``path`` is a regex on the URL path), misbehave ``times``
        times in a row (None: always): answer ``status`` (with ``retry_after``), ``hang`` seconds
        first, or ``reset`` the connection."""
        if status is None and hang is None and not reset:
            raise ValueError("a fault answers a status, hangs or resets the connection")
        rule = FaultRule(method.upper(), re.compile(path), nth, status, retry_after, hang, reset, times, text)
        with self._lock:
            self._rules.append(rule)
        return rule

    def add_spec(self, text: str) -> FaultRule:
        """A fault written as one line (fault_spec.py), e.g. ``PUT /api/jobs/*/annotations 500 x2``."""
        spec = parse_fault(text)
        return self.add(
            spec.method,
            spec.path,
            nth=spec.nth,
            status=spec.status,
            retry_after=spec.retry_after,
            hang=spec.hang,
            reset=spec.reset,
            times=spec.times,
            text=spec.text,
        )

    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def match(self, method: str, path: str) -> FaultRule | None:
        if path.startswith(CONTROL_PREFIX):
            return None
        with self._lock:
            for rule in self._rules:
                if not rule.fired and rule.method in (method, "*") and rule.path.search(path):
                    rule.seen += 1
                    if rule.seen >= rule.nth:
                        rule.hits += 1
                        rule.fired = rule.times is not None and rule.hits >= rule.times
                        return rule
        return None


class FaultMiddleware:
    def __init__(self, app: Any, plan: FaultPlan, on_exchange: Callable[[Exchange], None] | None = None) -> None:
        self.app = app
        self.plan = plan
        self.on_exchange = on_exchange

    async def __call__(self, scope: dict[str, Any], receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rule = self.plan.match(scope["method"], scope["path"])
        if rule is not None and rule.hang:
            await asyncio.sleep(rule.hang)
        if rule is not None and rule.reset:
            transport = current_transport.get()
            if transport is not None:
                transport.abort()  # no answer at all: the client sees the connection dropped
            return
        if rule is not None and rule.status:
            await _answer_fault(rule, receive, send)
        elif not self.on_exchange:  # nobody listens (a hook may say so): no copy of each body is kept
            await self.app(scope, receive, send)
        else:
            await self._recorded(scope, receive, send, self.on_exchange)

    async def _recorded(
        self, scope: dict[str, Any], receive: Callable, send: Callable, on_exchange: Callable[[Exchange], None]
    ) -> None:
        """The app's answer, with the exchange shown to ``on_exchange`` before its last message goes out."""
        # Read the whole request first: the exchange must show what the client sent even when
        # the route answers (401, 404) without reading the body.
        request_body = await _whole_body(receive)
        response: dict[str, Any] = {"status": 0, "headers": [], "body": bytearray()}
        replayed = False
        last: list[dict[str, Any]] = []  # the answer's last message, held back until the exchange is seen

        async def recording_receive() -> dict[str, Any]:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(request_body), "more_body": False}
            return await receive()

        async def recording_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                response["status"] = message["status"]
                response["headers"] = message.get("headers", [])
            elif message["type"] == "http.response.body":
                response["body"].extend(message.get("body", b""))
                if not message.get("more_body", False):
                    last.append(message)
                    return
            await send(message)

        await self.app(scope, recording_receive, recording_send)
        # Seen before the client has the whole answer: a check's findings are in by the next request.
        on_exchange(
            Exchange(
                method=scope["method"],
                path=scope["path"],
                query=scope.get("query_string", b"").decode(),
                request_headers={k.decode().lower(): v.decode() for k, v in scope["headers"]},
                request_body=bytes(request_body),
                status=response["status"],
                response_headers={k.decode().lower(): v.decode() for k, v in response["headers"]},
                response_body=bytes(response["body"]),
            )
        )
        for message in last:
            await send(message)


async def _answer_fault(rule: FaultRule, receive: Callable, send: Callable) -> None:
    """The rule's status instead of the server's answer, once the request is drained."""
    body = json.dumps({"detail": f"simulated fault: {rule.status}"}).encode()
    headers = [(b"content-type", b"application/vnd.cvat+json"), (b"content-length", str(len(body)).encode())]
    if rule.retry_after is not None:
        headers.append((b"retry-after", str(rule.retry_after).encode()))
    # drain the request so the client sees a clean answer
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": rule.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _whole_body(receive: Callable) -> bytearray:
    body = bytearray()
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        body.extend(message.get("body", b""))
        more = message.get("more_body", False)
    return body

"""A rewriting HTTP proxy in front of the CVAT simulator: a server that answers what a test tells it to.

The simulator checks everything it stores, so it never sends a malformed object; a
hostile or broken CVAT does. The proxy forwards every request to the simulator and
hands chosen answers to a rewrite first: the test decides what the client reads
(frames out of range, broken geometry, NaN, HTML after login, floods of objects).
Real sockets on 127.0.0.1, as for the simulator itself.

    with RewritingProxy(cvat_sim.url) as proxy:
        proxy.rewrite_json("GET", r"/api/tasks/\\d+/annotations", lambda data: {...})
        dataset.load_annotations(key, url=proxy.url, ...)
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import attrs
import httpx
import orjson

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "transfer-encoding",
        "content-length",
        "content-encoding",
        "host",
        "te",
        "trailer",
        "upgrade",
        "proxy-connection",
    }
)


@attrs.frozen
class Answer:
    """What the proxy sends back instead of the simulator's answer."""

    body: bytes
    status: int = 200
    content_type: str = "application/vnd.cvat+json"


Rewrite = Callable[[bytes], "bytes | Answer"]


@attrs.define
class _Rule:
    method: str
    path: re.Pattern[str]
    rewrite: Rewrite
    times: int | None  # None: every matching answer
    used: int = 0


class RewritingProxy:
    """Forwards to ``upstream``; answers matching a rule go through its rewrite (first rule wins)."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self._rules: list[_Rule] = []
        self._lock = threading.Lock()
        self._http = httpx.Client(base_url=self.upstream, timeout=60, follow_redirects=False)
        self.seen: list[tuple[str, str]] = []  # (method, path) of every request, in order
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet: pytest shows failures, not traffic
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                proxy._answer(self, body)

            # BaseHTTPRequestHandler dispatches to do_<METHOD> by these names
            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _forward  # noqa: N815

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="rewriting-proxy", daemon=True)

    def __enter__(self) -> RewritingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()
        self._http.close()

    def rewrite(self, method: str, path: str, rewrite: Rewrite, *, times: int | None = None) -> None:
        """Answers to ``method`` requests whose path matches the regex ``path`` go through ``rewrite``
        (the simulator's body in, the body to send or an `Answer` out), ``times`` times or always."""
        with self._lock:
            self._rules.append(_Rule(method.upper(), re.compile(path), rewrite, times))

    def rewrite_json(self, method: str, path: str, change: Callable[[Any], Any], *, times: int | None = None) -> None:
        """As `rewrite`, on the decoded JSON: ``change`` returns the document to send (any JSON value)."""
        self.rewrite(method, path, lambda body: orjson.dumps(change(orjson.loads(body))), times=times)

    def clear(self) -> None:
        """Back to a clean server: every answer as the simulator gives it."""
        with self._lock:
            self._rules.clear()

    def _rule(self, method: str, path: str) -> _Rule | None:
        with self._lock:
            for rule in self._rules:
                if rule.method == method and rule.path.search(path) and (rule.times is None or rule.used < rule.times):
                    rule.used += 1
                    return rule
        return None

    def _answer(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        method, target = handler.command, handler.path
        path = target.split("?", 1)[0]
        self.seen.append((method, path))
        headers = [(k, v) for k, v in handler.headers.items() if k.lower() not in HOP_BY_HOP]
        upstream = self._http.request(method, target, content=body, headers=headers)
        status = upstream.status_code
        # The simulator writes absolute links (``next`` pages) with its own address: keep the client here.
        content = upstream.content.replace(self.upstream.encode(), self.url.encode())
        content_type = upstream.headers.get("content-type", "application/octet-stream")
        rule = self._rule(method, path) if upstream.is_success else None
        if rule is not None:
            rewritten = rule.rewrite(content)
            if isinstance(rewritten, Answer):
                status, content, content_type = rewritten.status, rewritten.body, rewritten.content_type
            else:
                content = rewritten
        handler.send_response(status)
        for key, value in upstream.headers.multi_items():
            if key.lower() not in HOP_BY_HOP and key.lower() != "content-type":
                handler.send_header(key, value.replace(self.upstream, self.url))
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(content)))
        handler.end_headers()
        if method != "HEAD":
            handler.wfile.write(content)

"""The client over httpx.MockTransport: login flows, retries, typed errors, pagination, uploads."""

from __future__ import annotations

import json

import httpx
import pytest

from annoflow.adapters.cvat import (
    CVATAuthError,
    CVATClient,
    CVATConnectionError,
    CVATError,
    CVATNotFoundError,
    CVATSettings,
    CVATTimeoutError,
    RetryPolicy,
    Secret,
)

BASE = "http://cvat.test"


class Server:
    """A scripted server: a handler per (method, path), a record of what was asked."""

    def __init__(self, token: bool = True):
        self.token = token
        self.seen: list[httpx.Request] = []
        self.routes = {}
        self.logins = 0
        self.valid = {"Token k1"}
        self.sessions = True

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        path = request.url.path
        if path == "/api/auth/login":
            body = json.loads(request.content)
            if body.get("password") != "pw":
                return httpx.Response(400, json={"non_field_errors": ["Unable to log in with provided credentials."]})
            self.logins += 1
            key = f"k{self.logins}"
            self.valid.add(f"Token {key}")
            headers = [
                ("set-cookie", f"sessionid=s{self.logins}; Path=/"),
                ("set-cookie", f"csrftoken=c{self.logins}; Path=/"),
            ]
            return httpx.Response(200, json={"key": key} if self.token else {}, headers=headers)
        if not self._authorised(request):
            return httpx.Response(401, json={"detail": "Invalid token."})
        handler = self.routes.get((request.method, path))
        if handler is None:
            return httpx.Response(404, json={"detail": "Not found."})
        return handler(request)

    def _authorised(self, request):
        if request.headers.get("authorization") in self.valid:
            return True
        cookie = request.headers.get("cookie", "")
        if "sessionid=" in cookie and self.sessions:
            return request.method == "GET" or request.headers.get("x-csrftoken", "").startswith("c")
        return False


def client(server, **kwargs):
    sleeps = []
    settings = CVATSettings(
        url=BASE, username="alice", password=Secret("pw"), headers={"X-Proxy": "p"}, organization="team"
    )
    c = CVATClient(
        settings,
        transport=httpx.MockTransport(server),
        retry=RetryPolicy(sleep=sleeps.append, jitter=lambda: 0.0),
        sleep=sleeps.append,
        **kwargs,
    )
    c.sleeps = sleeps
    return c


def test_token_login_headers_and_organization():
    server = Server()
    server.routes[("GET", "/api/projects")] = lambda r: httpx.Response(
        200, json={"count": 0, "next": None, "previous": None, "results": []}
    )
    c = client(server)
    assert c.find_project("x") is None
    request = server.seen[-1]
    assert request.headers["authorization"] == "Token k1"
    assert request.headers["x-organization"] == "team" and request.headers["x-proxy"] == "p"
    assert server.logins == 1 and c.auth.logins == 1


def test_session_login_sends_cookie_and_csrf():
    server = Server(token=False)
    server.routes[("POST", "/api/projects")] = lambda r: httpx.Response(201, json={"id": 3, "name": "p"})
    c = client(server)
    assert c.create_project("p", [])["id"] == 3
    request = server.seen[-1]
    assert "sessionid=s1" in request.headers["cookie"] and request.headers["x-csrftoken"] == "c1"


def test_an_expired_session_logs_in_again_once():
    server = Server()
    server.routes[("GET", "/api/tasks/1")] = lambda r: httpx.Response(200, json={"id": 1})
    c = client(server)
    c.task(1)
    server.valid, server.sessions = set(), False  # the server forgot every token and session
    assert c.task(1) == {"id": 1}
    assert server.logins == 2


def test_bad_credentials_raise_an_auth_error_without_the_password():
    server = Server()
    settings = CVATSettings(url=BASE, username="alice", password=Secret("wrong-secret"))
    c = CVATClient(settings, transport=httpx.MockTransport(server))
    with pytest.raises(CVATAuthError) as caught:
        c.task(1)
    assert caught.value.status == 400 and "Unable to log in" in str(caught.value)
    assert "wrong-secret" not in str(caught.value) and "wrong-secret" not in repr(c) + repr(c.auth)


def test_typed_errors_carry_status_and_cvat_message():
    server = Server()
    server.routes[("POST", "/api/tasks")] = lambda r: httpx.Response(
        400, json={"labels": ["Label set must not be empty"]}
    )
    c = client(server)
    with pytest.raises(CVATError) as caught:
        c.create_task("t", labels=[])
    assert caught.value.status == 400 and "labels: Label set must not be empty" in str(caught.value)
    with pytest.raises(CVATNotFoundError):
        c.task(9)


def test_retries_honour_retry_after_and_stop():
    server = Server()
    answers = iter(
        [httpx.Response(429, headers={"Retry-After": "2"}), httpx.Response(503), httpx.Response(200, json={"id": 1})]
    )
    server.routes[("GET", "/api/tasks/1")] = lambda r: next(answers)
    c = client(server)
    assert c.task(1) == {"id": 1}
    assert c.sleeps[:2] == [2.0, 1.0]  # Retry-After, then backoff 0.5 * 2
    server.routes[("GET", "/api/tasks/2")] = lambda r: httpx.Response(503)
    with pytest.raises(CVATError) as caught:
        c.task(2)
    assert caught.value.status == 503


def test_post_is_not_retried_when_it_may_have_been_done():
    server = Server()
    calls = []
    server.routes[("POST", "/api/tasks")] = lambda r: calls.append(1) or httpx.Response(502)
    c = client(server)
    with pytest.raises(CVATError):
        c.create_task("t", labels=[{"name": "cat"}])
    assert len(calls) == 1
    server.routes[("POST", "/api/projects")] = lambda r: (
        calls.append(2) or (httpx.Response(503) if calls.count(2) == 1 else httpx.Response(201, json={"id": 1}))
    )
    assert c.create_project("p", [])["id"] == 1  # 503: refused before doing anything, so retried


def test_transport_errors_are_retried_for_idempotent_requests_then_typed():
    server = Server()
    failures = {"n": 0}

    def flaky(request):
        failures["n"] += 1
        if failures["n"] < 3:
            raise httpx.ConnectError("reset")
        return httpx.Response(200, json={"id": 1})

    server.routes[("GET", "/api/tasks/1")] = flaky
    c = client(server)
    assert c.task(1) == {"id": 1}

    def always(request):
        raise httpx.ReadTimeout("slow")

    server.routes[("GET", "/api/tasks/2")] = always
    with pytest.raises(CVATTimeoutError):
        c.task(2)
    server.routes[("POST", "/api/projects")] = lambda r: (_ for _ in ()).throw(httpx.ConnectError("down"))
    with pytest.raises(CVATConnectionError):
        c.create_project("p", [])


def test_pagination_and_nested_collections():
    server = Server()
    pages = {
        "1": {
            "count": 3,
            "next": f"{BASE}/api/jobs?task_id=7&page=2",
            "previous": None,
            "results": [{"id": 2, "start_frame": 5}],
        },
        "2": {
            "count": 3,
            "next": None,
            "previous": "x",
            "results": [{"id": 1, "start_frame": 0}, {"id": 3, "start_frame": 9}],
        },
    }
    server.routes[("GET", "/api/jobs")] = lambda r: httpx.Response(200, json=pages[r.url.params.get("page", "1")])
    c = client(server)
    assert [j["id"] for j in c.jobs(7)] == [1, 2, 3]
    assert [j["id"] for j in c.follow({"url": f"{BASE}/api/jobs?task_id=7", "count": 3})] == [2, 1, 3]


def test_waiting_uses_the_requests_api_or_the_legacy_status_and_is_bounded():
    server = Server()
    states = iter(["queued", "started", "finished"])
    server.routes[("GET", "/api/requests/rq1")] = lambda r: httpx.Response(
        200, json={"status": next(states), "message": ""}
    )
    c = client(server)
    c.wait_for_data(1, "rq1")
    legacy = iter(["Queued", "Finished"])
    server.routes[("GET", "/api/tasks/2/status")] = lambda r: httpx.Response(
        200, json={"state": next(legacy), "message": ""}
    )
    c.wait_for_data(2, None)
    older = iter(["Started", "Finished"])
    server.routes[("GET", "/api/tasks/5/status")] = lambda r: httpx.Response(
        200, json={"state": next(older), "message": ""}
    )
    c.wait_for_data(5, "rq-unknown-to-this-server")  # /api/requests answers 404: the legacy route is asked
    assert [r.url.path for r in server.seen[-3:]] == [
        "/api/requests/rq-unknown-to-this-server",
        "/api/tasks/5/status",
        "/api/tasks/5/status",
    ]
    server.routes[("GET", "/api/requests/rq3")] = lambda r: httpx.Response(
        200, json={"status": "failed", "message": "bad video"}
    )
    with pytest.raises(CVATError, match="bad video"):
        c.wait_for_data(3, "rq3")
    now = {"t": 0.0}
    slow = CVATClient(
        CVATSettings(url=BASE, username="alice", password=Secret("pw")),
        transport=httpx.MockTransport(server),
        sleep=lambda s: now.update(t=now["t"] + s),
        clock=lambda: now["t"],
        poll_interval=1.0,
    )
    server.routes[("GET", "/api/requests/rq4")] = lambda r: httpx.Response(200, json={"status": "started"})
    with pytest.raises(CVATTimeoutError, match="not processed in time"):
        slow.wait_for_data(4, "rq4", timeout=5)


def _form_parts(headers, body):
    """A multipart body's parts (headers and content), without their boundaries' line breaks."""
    boundary = b"--" + headers["content-type"].split("boundary=")[1].encode()
    return [part[2:-2] for part in body.split(boundary)[1:-1]]


@pytest.mark.parametrize("one_body_bytes", [0, 2**20], ids=["streamed", "one body"])
def test_upload_sends_files_in_groups(tmp_path, monkeypatch, one_body_bytes):
    # small groups are encoded as one body, larger ones streamed from their files: the same form either way
    import annoflow.adapters.cvat.client as client_module

    monkeypatch.setattr(client_module, "FILES_PER_REQUEST", 2)
    monkeypatch.setattr(client_module, "ONE_BODY_BYTES", one_body_bytes)
    paths = []
    for i in range(5):
        path = tmp_path / f"{i}.jpg"
        path.write_bytes(b"\xff\xd8" + bytes([i]) * 10)
        paths.append(path)
    server = Server()
    posts = []

    def data(request):
        posts.append((dict(request.headers), request.read()))
        if "upload-finish" in request.headers:
            return httpx.Response(202, json={"rq_id": "rq"})
        return httpx.Response(202 if "upload-start" in request.headers else 200)

    server.routes[("POST", "/api/tasks/1/data/")] = data
    c = client(server)
    told = []  # (what, files, requests the server had by then)
    assert (
        c.upload_data(
            1,
            paths,
            image_quality=80,
            frame_step=3,
            start_frame=1,
            on_sending=lambda n: told.append(("sending", n, len(posts))),
            on_sent=lambda n: told.append(("sent", n, len(posts))),
        )
        == "rq"
    )
    # each request is announced as it goes out, and reported once the server took it
    assert told == [
        ("sending", 2, 1),
        ("sent", 2, 2),
        ("sending", 2, 2),
        ("sent", 2, 3),
        ("sending", 1, 3),
        ("sent", 1, 4),
    ]
    kinds = [
        next(h for h in ("upload-start", "upload-multiple", "upload-finish") if h in headers) for headers, _ in posts
    ]
    assert kinds == ["upload-start", "upload-multiple", "upload-multiple", "upload-multiple", "upload-finish"]
    assert b'filename="0.jpg"' in posts[1][1] and b'filename="4.jpg"' in posts[3][1]
    sent = [_form_parts(headers, body) for headers, body in posts[1:4]]
    assert all(parts[0] == b'Content-Disposition: form-data; name="image_quality"\r\n\r\n80' for parts in sent)
    assert [part.split(b"\r\n\r\n", 1)[1] for parts in sent for part in parts[1:]] == [
        path.read_bytes() for path in paths
    ]
    finish = json.loads(posts[-1][1])
    assert finish["frame_filter"] == "step=3" and finish["upload_file_order"] == [p.name for p in paths]
    assert finish["image_quality"] == 80 and finish["start_frame"] == 1


def test_a_read_response_is_freed_without_the_cyclic_collector():
    # Backends pause the collector for a task's load: a response (and its body, a task's whole
    # annotations answer) must not wait for it in a reference cycle.
    import gc
    import weakref

    server = Server()
    server.routes[("GET", "/api/tasks/1/annotations")] = lambda r: httpx.Response(200, content=b'{"shapes": []}')
    c = client(server)
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        response = c.request("GET", "/api/tasks/1/annotations")
        assert response.content == b'{"shapes": []}' and response.read() == b'{"shapes": []}'
        freed = weakref.ref(response)
        del response
        assert freed() is None
    finally:
        if was_enabled:
            gc.enable()


def test_a_plain_http_client_makes_no_tls_context_an_https_one_shares_a_verifying_one(monkeypatch):
    # Loading the CA bundle costs a process 25-50 ms: a client of an http:// server never needs it.
    import ssl

    from annoflow.adapters.cvat import deadline

    made = []
    monkeypatch.setattr(deadline, "_tls_context", lambda: made.append(1) or ssl.create_default_context())

    def pool_context(url):
        c = CVATClient(CVATSettings(url=url, username="alice", password=Secret("pw")))
        try:
            return c.retrying.inner._pool._ssl_context
        finally:
            c.close()

    assert pool_context("http://cvat.local:8080") is None and made == []
    # None: httpcore verifies any TLS connection such a client still makes with a default context of its own
    context = pool_context("HTTPS://cvat.example.com")
    assert made == [1] and context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname

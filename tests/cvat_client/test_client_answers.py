"""An answer that is not the JSON CVAT's API defines is one CVATAnswerError naming the request, never a
decoder's own exception (JSONDecodeError, KeyError, TypeError)."""

from __future__ import annotations

import httpx
import pytest

from annoflow.adapters.cvat import CVATAnswerError, CVATError
from tests.cvat_client.test_client_unit import BASE, Server, client

HTML = b"<!DOCTYPE html><html><head><title>Sign in</title></head></html>"


@pytest.mark.parametrize(
    ("call", "method", "path"),
    [
        (lambda c: c.task(1), "GET", "/api/tasks/1"),
        (lambda c: c.data_meta(1), "GET", "/api/tasks/1/data/meta"),
        (lambda c: c.get_annotations(task_id=1), "GET", "/api/tasks/1/annotations/"),
        (lambda c: c.put_annotations({}, task_id=1), "PUT", "/api/tasks/1/annotations/"),
        (lambda c: c.patch_annotations("create", {}, job_id=1), "PATCH", "/api/jobs/1/annotations/"),
        (lambda c: c.create_project("p", []), "POST", "/api/projects"),
        (lambda c: c.jobs(1), "GET", "/api/jobs"),
    ],
)
@pytest.mark.parametrize("body", [HTML, b'{"id": 1', b'{"x": NaN}', b""])
def test_an_answer_that_is_not_json_names_the_request(call, method, path, body):
    server = Server()
    server.routes[(method, path)] = lambda r: httpx.Response(200, content=body, headers={"content-type": "text/html"})
    c = client(server)
    if method == "PUT" and not body:
        assert call(c) == {}  # CVAT may answer a PUT with no body
        return
    with pytest.raises(CVATAnswerError) as caught:
        call(c)
    assert (caught.value.method, caught.value.url) == (method, f"{BASE}{path}")
    assert "CVAT answered with text/html that is not JSON" in str(caught.value)
    assert isinstance(caught.value, CVATError)


@pytest.mark.parametrize("page", [b"[]", b"null", b'{"count": 1}', b'{"results": {"id": 1}}', b"5"])
def test_a_page_that_is_no_page_is_one_typed_error(page):
    server = Server()
    server.routes[("GET", "/api/jobs")] = lambda r: httpx.Response(200, content=page)
    with pytest.raises(CVATAnswerError, match="a page of a list is an object holding a list of results") as caught:
        client(server).jobs(7)
    assert caught.value.url == f"{BASE}/api/jobs"

"""What every route shares: CVAT's JSON responses, authentication, organizations, paging."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import Any, overload

import attrs
import orjson
from starlette.requests import Request
from starlette.responses import Response

from annoflow.adapters.cvat_sim.refusals import Operation
from annoflow.adapters.cvat_sim.state import SimError, SimState, User

CVAT_JSON = "application/vnd.cvat+json"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _dumps(data: Any) -> bytes:
    # orjson: a task's annotations are tens of thousands of objects; the stdlib takes seconds.
    return orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS)


def cvat_json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(_dumps(data), status_code=status, media_type=CVAT_JSON, headers=headers)


def error_response(error: SimError) -> Response:
    return cvat_json(error.body, error.status)


@attrs.frozen
class Context:
    user: User
    org_id: int | None
    base: str  # e.g. http://127.0.0.1:8080


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def authenticate(state: SimState, request: Request) -> User:
    """The request's user, from a token, a bearer token, basic auth or a session with CSRF."""
    header = request.headers.get("authorization", "")
    scheme, _, credential = header.partition(" ")
    if header and scheme.lower() == "basic":
        return _basic_user(state, credential)
    user_id = _token_user_id(state, scheme, credential) if header else _session_user_id(state, request)
    user = state.users.get(user_id)
    if user is None:
        raise SimError(401, {"detail": "User inactive or deleted."})
    return user


def _token_user_id(state: SimState, scheme: str, credential: str) -> int:
    if scheme.lower() not in ("token", "bearer"):
        raise SimError(401, {"detail": "Authentication credentials were not provided."})
    user_id = state.tokens.get(credential.strip())
    if user_id is None:
        raise SimError(401, {"detail": "Invalid token."})
    return user_id


def _basic_user(state: SimState, credential: str) -> User:
    try:
        name, _, password = base64.b64decode(credential).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise SimError(401, {"detail": "Invalid basic header. Credentials not correctly base64 encoded."}) from None
    user = next((u for u in state.users.values() if u.username == name and u.password == password), None)
    if user is None:
        raise SimError(401, {"detail": "Invalid username/password."})
    return user


def _session_user_id(state: SimState, request: Request) -> int:
    """A session cookie's user; an unsafe method must also send the session's CSRF token, in the
    header and the cookie."""
    entry = state.sessions.get(request.cookies.get("sessionid") or "")
    if entry is None:
        raise SimError(401, {"detail": "Authentication credentials were not provided."})
    user_id, csrf = entry
    if request.method in UNSAFE:
        sent = request.headers.get("x-csrftoken")
        if not sent or sent != request.cookies.get("csrftoken") or sent != csrf:
            raise SimError(403, {"detail": "CSRF Failed: CSRF token missing or incorrect."})
    return user_id


def organization(state: SimState, request: Request, user: User) -> int | None:
    """The organization a request works in: X-Organization, ?org=slug or ?org_id=; none is the sandbox."""
    slug = request.headers.get("x-organization") or request.query_params.get("org")
    org_id = request.query_params.get("org_id")
    if slug:
        org = state.orgs.get(slug)
    elif org_id:
        org = next((o for o in state.orgs.values() if str(o.id) == org_id), None)
    else:
        return None
    if org is None:
        raise SimError(404, {"detail": "Not found."})
    if user.id not in org.members:
        raise SimError(403, {"detail": "You do not have permission to perform this action."})
    return org.id


def operation(request: Request) -> Operation | None:
    """The CVAT operation a request is (app.py puts each route's operations in its scope)."""
    return request.scope.get("cvat_operations", {}).get(request.method)


def context(state: SimState, request: Request) -> Context:
    """Who asks, in which organization; then a list's filters, checked as CVAT's django-filter does."""
    user = authenticate(state, request)
    found = Context(user, organization(state, request, user), base_url(request))
    if (op := operation(request)) is not None and op.filters and (errors := op.check_query(request.query_params)):
        raise SimError(400, errors)
    return found


def paginate(request: Request, items: Sequence[Any], serialize: Callable[[Any], Any]) -> Response:
    try:
        page = int(request.query_params.get("page", 1))
        size = int(request.query_params.get("page_size", 10))
    except ValueError:
        raise SimError(404, {"detail": "Invalid page."}) from None
    if page < 1 or size < 1:
        raise SimError(404, {"detail": "Invalid page."})
    pages = max(1, -(-len(items) // size))
    if page > pages:
        raise SimError(404, {"detail": "Invalid page."})
    chunk = items[(page - 1) * size : page * size]
    url = request.url

    def link(number: int) -> str:
        return str(url.include_query_params(page=number, page_size=size))

    return cvat_json(
        {
            "count": len(items),
            "next": link(page + 1) if page < pages else None,
            "previous": link(page - 1) if page > 1 else None,
            "results": [serialize(item) for item in chunk],
        }
    )


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON, refused with CVAT's 400 and DRF's error body where the operation's
    schema refuses it (refusals.py)."""
    raw = await request.body()
    try:
        body = orjson.loads(raw) if raw else {}
    except ValueError as error:
        raise SimError(400, {"detail": f"JSON parse error - {error}"}) from None
    op = operation(request)
    if op is not None and op.body is not None and (errors := op.body(body)) is not None:
        raise SimError(400, errors)
    if not isinstance(body, dict):
        raise SimError(
            400, {"non_field_errors": [f"Invalid data. Expected a dictionary, but got {type(body).__name__}."]}
        )
    return body


@overload
def user_basic(ctx: Context, user: User) -> dict[str, Any]: ...


@overload
def user_basic(ctx: Context, user: User | None) -> dict[str, Any] | None: ...


def user_basic(ctx: Context, user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {
        "url": f"{ctx.base}/api/users/{user.id}",
        "id": user.id,
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
    }

"""The simulator's Starlette application: CVAT's routes, their checks of the input, errors and faults."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

# annotations.py as another name: `annotations` is the __future__ feature's name here
from annoflow.adapters.cvat_sim import annotations as annotation_routes
from annoflow.adapters.cvat_sim import data, exports, resources
from annoflow.adapters.cvat_sim.control import control_routes
from annoflow.adapters.cvat_sim.faults import Exchange, FaultMiddleware, FaultPlan
from annoflow.adapters.cvat_sim.http import error_response
from annoflow.adapters.cvat_sim.processing import Processor
from annoflow.adapters.cvat_sim.refusals import Operation, rules
from annoflow.adapters.cvat_sim.state import SimError, SimState


def _route(path: str, handler: Callable[..., Any], methods: list[str], *, action: bool = False) -> list[Route]:
    # CVAT's action routes answer with and without the trailing slash; collections only without.
    paths = [path, path + "/"] if action else [path]
    return [Route(p, _checked(handler, rules().for_route(path)), methods=methods) for p in paths]


def _checked(handler: Callable[[Request], Awaitable[Response]], operations: dict[str, Operation]) -> Callable[..., Any]:
    """The handler, with its operations' checks where reading the query and the body finds them
    (http.context, http.json_body, the data upload): after authentication and the object's
    lookup, as in CVAT, where the serializer meets the input last."""

    async def endpoint(request: Request) -> Response:
        request.scope["cvat_operations"] = operations
        return await handler(request)

    return endpoint


def build_app(
    state: SimState,
    faults: FaultPlan,
    on_exchange: Callable[[Exchange], None] | None = None,
    processor: Processor | None = None,
) -> Starlette:
    """``processor`` processes uploaded data (at once when not given)."""
    processor = processor or Processor(state)
    r = {
        **resources.routes(state),
        **data.routes(state, processor),
        **annotation_routes.routes(state),
        **exports.routes(state),
    }
    table = [
        *_route("/api/server/about", r["about"], ["GET"]),
        *_route("/api/auth/login", r["login"], ["POST"], action=True),
        *_route("/api/auth/logout", r["logout"], ["POST"], action=True),
        *_route("/api/users", r["users"], ["GET"]),
        *_route("/api/users/self", r["user_self"], ["GET"]),
        *_route("/api/users/{id:int}", r["user_detail"], ["GET"]),
        *_route("/api/projects", r["projects"], ["GET", "POST"]),
        *_route("/api/projects/{id:int}", r["project_detail"], ["GET", "PATCH", "DELETE"]),
        *_route("/api/tasks", r["tasks"], ["GET", "POST"]),
        *_route("/api/tasks/{id:int}", r["task_detail"], ["GET", "PATCH", "DELETE"]),
        *_route("/api/tasks/{id:int}/data", r["task_data"], ["GET", "POST"], action=True),
        *_route("/api/tasks/{id:int}/data/{file_id:str}", r["tus_chunk"], ["PATCH", "HEAD"]),
        *_route("/api/tasks/{task_id:int}/data/meta", r["data_meta"], ["GET"], action=True),
        *_route("/api/tasks/{id:int}/status", r["task_status"], ["GET"], action=True),
        *_route(
            "/api/tasks/{task_id:int}/annotations", r["annotations"], ["GET", "PUT", "PATCH", "DELETE"], action=True
        ),
        *_route("/api/tasks/{id:int}/dataset/export", r["dataset_export"], ["POST"], action=True),
        *_route("/api/tasks/{id:int}/dataset/download", r["dataset_download"], ["GET"], action=True),
        *_route("/api/jobs", r["jobs"], ["GET", "POST"]),
        *_route("/api/jobs/{id:int}", r["job_detail"], ["GET", "PATCH", "DELETE"]),
        *_route("/api/jobs/{job_id:int}/data/meta", r["data_meta"], ["GET"], action=True),
        *_route("/api/jobs/{job_id:int}/annotations", r["annotations"], ["GET", "PUT", "PATCH", "DELETE"], action=True),
        *_route("/api/labels", r["labels"], ["GET"]),
        *_route("/api/labels/{id:int}", r["label_detail"], ["GET"]),
        *_route("/api/requests", r["requests_list"], ["GET"]),
        *_route("/api/requests/{rq_id:str}", r["request_detail"], ["GET"]),
    ]
    # data/meta must win over the TUS chunk route that would also match it
    table.sort(key=lambda route: "{file_id" in route.path)
    table += control_routes(faults, processor)

    async def sim_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SimError)
        return error_response(exc)

    async def not_found(request: Request, exc: Exception) -> Response:
        return error_response(
            SimError(getattr(exc, "status_code", 404), {"detail": getattr(exc, "detail", "Not found.")})
        )

    app = Starlette(routes=table, exception_handlers={SimError: sim_error, 404: not_found, 405: not_found})
    app.add_middleware(FaultMiddleware, plan=faults, on_exchange=on_exchange)
    return app

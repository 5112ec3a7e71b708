"""The simulator's own control routes, beside CVAT's: faults and processing time, changed while it runs.

    GET    /_simulator/faults       the plan: each fault's line, requests seen, times fired, done
    POST   /_simulator/faults       {"fault": "PUT /api/jobs/*/annotations 500 x2"} (or {"faults": [...]})
    DELETE /_simulator/faults       no more faults
    GET    /_simulator/processing   {"seconds_per_frame": 0.0}
    PUT    /_simulator/processing   {"seconds_per_frame": 0.01}

They take no credentials (the simulator serves loopback tests and demos), are never faulted
themselves, and are not CVAT's: the schema validator counts them without checking them.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from annoflow.adapters.cvat_sim.fault_spec import FaultSpecError, parse_fault
from annoflow.adapters.cvat_sim.faults import CONTROL_PREFIX, FaultPlan
from annoflow.adapters.cvat_sim.http import cvat_json
from annoflow.adapters.cvat_sim.processing import Processor
from annoflow.adapters.cvat_sim.state import SimError


async def _object(request: Request) -> dict[str, Any]:
    try:
        body = orjson.loads(await request.body() or b"{}")
    except ValueError as error:
        raise SimError(400, {"detail": f"JSON parse error - {error}"}) from None
    if not isinstance(body, dict):
        raise SimError(400, {"detail": "expected a JSON object"})
    return body


def control_routes(faults: FaultPlan, processor: Processor) -> list[Route]:
    async def fault_plan(request: Request) -> Response:
        if request.method == "DELETE":
            faults.clear()
            return Response(status_code=204)
        if request.method == "POST":
            body = await _object(request)
            lines = body.get("faults", [body["fault"]] if "fault" in body else None)
            if not isinstance(lines, list) or not lines or not all(isinstance(line, str) for line in lines):
                raise SimError(400, {"fault": ['give {"fault": "METHOD PATH EFFECT..."} or {"faults": [...]}']})
            try:
                for line in lines:  # all or none: every line is read before any is added
                    parse_fault(line)
            except FaultSpecError as error:
                raise SimError(400, {"fault": [str(error)]}) from None
            added = [faults.add_spec(line) for line in lines]
            return cvat_json({"faults": [rule.summary() for rule in added]}, 201)
        return cvat_json({"faults": [rule.summary() for rule in faults.rules()]})

    async def processing(request: Request) -> Response:
        if request.method == "PUT":
            value = (await _object(request)).get("seconds_per_frame")
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise SimError(400, {"seconds_per_frame": ["a number of seconds, 0 or more"]})
            processor.seconds_per_frame = float(value)
        return cvat_json({"seconds_per_frame": processor.seconds_per_frame})

    return [
        Route(f"{CONTROL_PREFIX}faults", fault_plan, methods=["GET", "POST", "DELETE"]),
        Route(f"{CONTROL_PREFIX}processing", processing, methods=["GET", "PUT"]),
    ]

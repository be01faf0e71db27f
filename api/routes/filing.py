"""Filing facts: one event, or a tablet's offline queue."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import APIRouter, Request

from api.deps import ActorDep, FieldLogDep
from api.openapi import EVENT_BODY, SYNC_BODY
from api.problems import ProblemError, outcome_response
from api.responses import OrjsonResponse
from incidents.outcome import Outcome
from incidents.roles import Actor

router = APIRouter(tags=["filing"])
auth_log = logging.getLogger("fieldlog.auth")
MAX_SYNC_EVENTS = 1000


def log_refusals(outcomes: list[Outcome], actor: Actor) -> None:
    """A type the role may not file is a refused authorisation: log it (never the token)."""
    for outcome in outcomes:
        if outcome.refusal == "forbidden":
            auth_log.warning("authorisation refused: %s: %s", actor.recorded_by, outcome.detail)


async def json_body(request: Request) -> Any:
    raw = await request.body()
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ProblemError(400, "the request body is not valid JSON") from None


@router.post(
    "/v1/events",
    status_code=201,
    openapi_extra=EVENT_BODY,
    responses={
        200: {"description": "duplicate"},
        409: {"description": "conflict"},
        422: {"description": "invalid"},
    },
)
async def file_event(request: Request, actor: ActorDep, app: FieldLogDep) -> Any:
    """File one event: 201 stored, 200 duplicate, or a problem naming the rule."""
    body = await json_body(request)
    from starlette.concurrency import run_in_threadpool

    outcome = await run_in_threadpool(app.submit, body, actor)
    log_refusals([outcome], actor)
    return outcome_response(outcome)


@router.post("/v1/sync", openapi_extra=SYNC_BODY)
async def sync(request: Request, actor: ActorDep, app: FieldLogDep) -> Any:
    """A tablet's offline queue in capture order: one result per event, always 200."""
    body = await json_body(request)
    if not isinstance(body, dict) or not isinstance(body.get("events"), list):
        raise ProblemError(422, "field `events`: required, the list of queued events")
    extra = set(body) - {"device_id", "events"}
    if extra:
        raise ProblemError(422, f"field `{sorted(extra)[0]}`: not a field of a sync request")
    device_id = body.get("device_id")
    if not isinstance(device_id, str) or not 1 <= len(device_id) <= 200:
        raise ProblemError(422, "field `device_id`: required, the tablet's id (text)")
    events = body["events"]
    if len(events) > MAX_SYNC_EVENTS:
        raise ProblemError(413, f"at most {MAX_SYNC_EVENTS} events per sync; send the rest next")
    from starlette.concurrency import run_in_threadpool

    outcomes = await run_in_threadpool(app.submit_many, events, actor)
    log_refusals(outcomes, actor)
    # Encoded here: FastAPI's jsonable_encoder walk over 500 results costs more than orjson.
    return OrjsonResponse({"device_id": device_id, "results": [o.as_dict() for o in outcomes]})

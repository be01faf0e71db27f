"""Dependencies every route uses: the process's application, the caller, the policy."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import Depends, Request

from api.policy import allowed_roles
from api.problems import ProblemError
from api.ratelimit import RateLimiter
from incidents.application import FieldLog
from incidents.roles import Actor
from incidents.tokens import TokenBook
from projections.queries import ReadModel

log = logging.getLogger("fieldlog.auth")
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


# The dependencies are `async def`: FastAPI runs a plain `def` dependency in the thread
# pool, and each hop costs more than the work (a timeline page made five of them). The
# token lookup is one indexed read, short enough to run on the event loop.


async def get_fieldlog(request: Request) -> FieldLog:
    fieldlog: FieldLog = request.app.state.fieldlog
    return fieldlog


async def get_read_model(request: Request) -> ReadModel:
    read_model: ReadModel = request.app.state.read_model
    return read_model


async def authorized_actor(request: Request) -> Actor:
    """Authenticate the bearer token, then apply the role policy of the route (deny by
    default: a route missing from the policy table answers 403 to everyone)."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        log.warning("authentication failed: no bearer token on %s", request.url.path)
        raise ProblemError(
            401, "send `Authorization: Bearer <token>`", {"WWW-Authenticate": "Bearer"}
        )
    tokens: TokenBook = request.app.state.tokens
    actor = tokens.authenticate(token.strip())
    if actor is None:
        log.warning(
            "authentication failed: unknown, expired or revoked token on %s", request.url.path
        )
        raise ProblemError(
            401, "the token is unknown, expired or revoked", {"WWW-Authenticate": "Bearer"}
        )
    route = request.scope.get("route")
    template = getattr(route, "path", request.url.path)
    if actor.role not in allowed_roles(request.method, template):
        log.warning(
            "authorisation refused: %s may not %s %s", actor.recorded_by, request.method, template
        )
        raise ProblemError(403, f"the {actor.role} role may not {request.method} {template}")
    if request.method in WRITE_METHODS:
        limiter: RateLimiter = request.app.state.rate_limiter
        wait = limiter.hit(actor.name)
        if wait is not None:
            log.warning(
                "rate limit: %s over %s writes a minute", actor.recorded_by, limiter.per_minute
            )
            raise ProblemError(
                429,
                f"over {limiter.per_minute} writes a minute for this token; "
                f"retry after {RateLimiter.retry_after(wait)} s",
                {"Retry-After": RateLimiter.retry_after(wait)},
            )
    request.state.actor = actor
    return actor


FieldLogDep = Annotated[FieldLog, Depends(get_fieldlog)]
ReadModelDep = Annotated[ReadModel, Depends(get_read_model)]
ActorDep = Annotated[Actor, Depends(authorized_actor)]

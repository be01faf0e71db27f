"""Every error as an RFC 9457 problem document; no stack trace ever reaches a client."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.responses import ProblemResponse
from incidents.errors import (
    DomainError,
    EventConflictError,
    InvalidEventError,
    NotFoundError,
    NotPermittedError,
    RegistryConflictError,
)
from incidents.outcome import Outcome
from incidents.submissions import describe_validation_error

log = logging.getLogger("fieldlog.api")

TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Invalid",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}
DOMAIN_STATUS: list[tuple[type[DomainError], int]] = [
    (NotPermittedError, 403),
    (NotFoundError, 404),
    (EventConflictError, 409),
    (RegistryConflictError, 409),
    (InvalidEventError, 422),
]


class ProblemError(Exception):
    """Raised by the API layer for a refusal that is not a domain rule (auth, params)."""

    def __init__(
        self, status: int, detail: str, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers
        self.extra = extra


def problem(
    status: int, detail: str, headers: dict[str, str] | None = None, **extra: Any
) -> ProblemResponse:
    body = {"type": "about:blank", "title": TITLES.get(status, "Error"), "status": status}
    body["detail"] = detail
    body.update({k: v for k, v in extra.items() if v is not None})
    return ProblemResponse(body, status_code=status, headers=headers)


OUTCOME_STATUS = {"stored": 201, "duplicate": 200, "conflict": 409, "invalid": 422}
REFUSAL_STATUS = {"forbidden": 403, "not_found": 404}


def outcome_response(outcome: Outcome) -> Any:
    """The answer to `POST /v1/events`: the outcome, or a problem naming it."""
    if outcome.result in ("stored", "duplicate"):
        from api.responses import OrjsonResponse

        return OrjsonResponse(outcome.as_dict(), status_code=OUTCOME_STATUS[outcome.result])
    status = REFUSAL_STATUS[outcome.refusal] if outcome.refusal else OUTCOME_STATUS[outcome.result]
    return problem(
        status,
        outcome.detail or outcome.result,
        event_id=outcome.event_id,
        stream_id=outcome.stream_id,
        result=outcome.result,
        current_version=outcome.current_version,
    )


def install(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def _problem(_: Request, exc: ProblemError) -> ProblemResponse:
        return problem(exc.status, exc.detail, exc.headers, **exc.extra)

    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> ProblemResponse:
        for kind, status in DOMAIN_STATUS:
            if isinstance(exc, kind):
                return problem(status, exc.detail)
        return problem(422, exc.detail)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> ProblemResponse:
        errors = exc.errors()
        in_body = any(e.get("loc", ("",))[0] == "body" for e in errors)
        parts = []
        for e in errors:
            loc = [str(p) for p in e.get("loc", ()) if p not in ("body", "query", "path")]
            where = ".".join(loc) or "body"
            if e.get("type") == "json_invalid":
                return problem(400, "the request body is not valid JSON")
            kind = "parameter" if not in_body else "field"
            parts.append(
                f"{kind} `{where}`: {e.get('msg', 'invalid').removeprefix('Value error, ')}"
            )
        return problem(422 if in_body else 400, "; ".join(parts))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> ProblemResponse:
        detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "")
        if exc.status_code == 404 and detail == "Not Found":
            detail = "no such path; see /docs for the API"
        return problem(exc.status_code, detail, dict(exc.headers or {}) or None)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> ProblemResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return problem(500, "the server failed to answer; resending the same event is safe")


__all__ = ["ProblemError", "describe_validation_error", "install", "outcome_response", "problem"]

"""OpenAPI documents for the filed events: every type with an example from the seed story.

`/v1/events` reads its body itself (so a bad event is answered by the service with the
contract's result), so its schema is attached here rather than inferred from a model.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import TypeAdapter

from incidents.demo import example_for
from incidents.submissions import MODELS, AnySubmission

REF = "#/components/schemas/{model}"

EVENT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": REF.format(model="Event")}}},
    }
}
SYNC_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": REF.format(model="SyncRequest")}}},
    }
}


def event_schemas() -> dict[str, Any]:
    schema = TypeAdapter(AnySubmission).json_schema(ref_template=REF)
    defs: dict[str, Any] = schema.pop("$defs")
    for kind, model in MODELS.items():
        defs[model.__name__]["examples"] = [example_for(kind)]
        defs[model.__name__]["description"] = (model.__doc__ or kind).strip()
    defs["Event"] = {**schema, "description": "One filed event; `type` picks its payload."}
    defs["SyncRequest"] = {
        "type": "object",
        "required": ["device_id", "events"],
        "additionalProperties": False,
        "properties": {
            "device_id": {"type": "string", "maxLength": 200},
            "events": {
                "type": "array",
                "maxItems": 1000,
                "items": {"$ref": REF.format(model="Event")},
            },
        },
    }
    return defs


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details; event refusals add event_id, stream_id, "
    "result and (for a stale expected_version) current_version.",
    "required": ["title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "event_id": {"type": "string"},
        "stream_id": {"type": "string"},
        "result": {"type": "string", "enum": ["conflict", "invalid"]},
        "current_version": {"type": "integer"},
    },
}
ERRORS = {
    "400": "malformed JSON or a bad query parameter",
    "401": "missing, unknown, expired or revoked token",
    "403": "the role may not do this",
    "404": "not found, or another crew's",
    "409": "conflict",
    "413": "body over the limit",
    "422": "invalid",
    "429": "over the write rate limit (see Retry-After)",
}
MEDIA = {
    "/v1/reports/recognition": ("text/csv", "application/pdf"),
}


def document_problems(document: dict[str, Any]) -> None:
    """Every refusal is application/problem+json: say so on every operation."""
    problem = {"application/problem+json": {"schema": {"$ref": REF.format(model="Problem")}}}
    for path, operations in document.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for code, why in ERRORS.items():
                if path.startswith("/v1/") or code in ("400", "404", "422"):
                    responses[code] = {"description": why, "content": problem}
            ok = responses.get("200", {})
            for media in MEDIA.get(path, ()):
                ok.setdefault("content", {})[media] = {
                    "schema": {"type": "string", "format": "binary"}
                }


def install(app: FastAPI) -> None:
    def custom_openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        document = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        components = document.setdefault("components", {}).setdefault("schemas", {})
        components.update(event_schemas())
        components["Problem"] = PROBLEM_SCHEMA
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        document_problems(document)
        document.setdefault("components", {})["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer"}
        }
        document["security"] = [{"bearer": []}]
        app.openapi_schema = document
        return document

    app.openapi = custom_openapi  # type: ignore[method-assign]

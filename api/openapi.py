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


def install(app: FastAPI) -> None:
    def custom_openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        document = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        components = document.setdefault("components", {}).setdefault("schemas", {})
        components.update(event_schemas())
        document.setdefault("components", {})["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer"}
        }
        document["security"] = [{"bearer": []}]
        app.openapi_schema = document
        return document

    app.openapi = custom_openapi  # type: ignore[method-assign]

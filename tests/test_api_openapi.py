"""The API documents itself: /openapi.json names every event type with an example, and
/docs answers for integrators."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

Tokens = dict[str, dict[str, str]]

# The published language: every type a client files (the contract's event table).
FILED_TYPES = (
    "PatrolStarted",
    "LineObservationRecorded",
    "PatrolEnded",
    "IncidentOpened",
    "ObservationRecorded",
    "EmergencyServicesCalled",
    "RescueActionTaken",
    "HelperJoined",
    "VictimHandedOver",
    "OutcomeRecorded",
    "VictimDetailsRecorded",
    "ThanksReceived",
    "EntryCorrected",
    "IncidentReviewed",
    "IncidentReopened",
    "CommendationNominated",
    "CommendationEndorsed",
    "CommendationApproved",
    "CommendationRejected",
)
CONTRACT_PATHS = {
    "/v1/people": {"get", "post"},
    "/v1/people/{person_id}": {"get"},
    "/v1/people/{person_id}/timeline": {"get"},
    "/v1/crews": {"get", "post"},
    "/v1/crews/{crew_id}": {"get"},
    "/v1/crews/{crew_id}/members": {"post"},
    "/v1/crews/{crew_id}/members/{person_id}": {"delete"},
    "/v1/crews/{crew_id}/timeline": {"get"},
    "/v1/events": {"post"},
    "/v1/sync": {"post"},
    "/v1/patrols": {"get"},
    "/v1/patrols/{patrol_id}": {"get"},
    "/v1/incidents": {"get"},
    "/v1/incidents/{incident_id}": {"get"},
    "/v1/incidents/{incident_id}/events": {"get"},
    "/v1/incidents/{incident_id}/replay": {"get"},
    "/v1/commendations": {"get"},
    "/v1/commendations/{commendation_id}": {"get"},
    "/v1/reports/recognition": {"get"},
    "/v1/feed": {"get"},
    "/v1/feed/stream": {"get"},
    "/v1/integrity": {"get"},
    "/healthz": {"get"},
    "/metrics": {"get"},
}


@pytest.fixture(scope="module")
def document(demo_api: tuple[TestClient, Tokens]) -> dict[str, Any]:
    client, _ = demo_api
    response = client.get("/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize("event_type", FILED_TYPES)
def test_given_the_openapi_document_when_read_then_each_event_type_has_a_schema_and_example(
    document: dict[str, Any], event_type: str
) -> None:
    """Given GET /openapi.json, when an integrator looks up an event type, then
    components.schemas has it, with its payload fields as properties, a description and
    an example of that very type."""
    schemas = document["components"]["schemas"]
    assert event_type in schemas
    schema = schemas[event_type]
    assert {"event_id", "type", "stream_id", "occurred_at"} <= set(schema["properties"])
    assert schema.get("description")
    examples = schema.get("examples") or ([schema["example"]] if "example" in schema else [])
    assert examples, f"{event_type} has no example"
    for example in examples:
        assert example["type"] == event_type
        assert set(example) <= set(schema["properties"])
        for field in schema.get("required", []):
            assert field in example, f"the {event_type} example lacks required `{field}`"


def test_given_the_openapi_document_when_read_then_filing_paths_take_those_events(
    document: dict[str, Any],
) -> None:
    """Given GET /openapi.json, when an integrator reads POST /v1/events and /v1/sync,
    then their request bodies refer to schemas that reach every event type."""
    text = str(document["paths"]["/v1/events"]["post"]["requestBody"])
    assert "#/components/schemas/" in text
    schemas = document["components"]["schemas"]
    event_schema = str(schemas.get("Event", schemas))
    for event_type in FILED_TYPES:
        assert f"#/components/schemas/{event_type}" in event_schema
    assert "#/components/schemas/" in str(document["paths"]["/v1/sync"]["post"]["requestBody"])


def test_given_the_openapi_document_when_read_then_every_contract_path_is_there(
    document: dict[str, Any],
) -> None:
    """Given GET /openapi.json, when read, then every path and method of the contract's
    HTTP table is documented, with bearer authentication declared."""
    for path, methods in CONTRACT_PATHS.items():
        assert path in document["paths"], path
        assert methods <= set(document["paths"][path]), path
    schemes = document["components"]["securitySchemes"]
    assert any(s.get("scheme") == "bearer" for s in schemes.values())


def test_given_the_server_when_docs_are_asked_for_then_an_html_page_answers(
    demo_api: tuple[TestClient, Tokens],
) -> None:
    """Given the server, when a browser asks for /docs, then it answers 200 with HTML
    pointing at the OpenAPI document."""
    client, _ = demo_api
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "openapi.json" in response.text

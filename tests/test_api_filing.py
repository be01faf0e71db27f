"""Filing one event: POST /v1/events answers stored, duplicate, conflict or invalid.

Given the demo stories and a token per role, a tablet (or the office) files events;
every refusal is an RFC 9457 problem naming the field and the rule, carries the
event's ids and result, and stores nothing (the log's head does not move).
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from incidents.demo import (
    CARDIAC_ID,
    COMMENDATION_SCENIC_ID,
    DROWNING_ID,
    PATROL_ID,
    demo_events,
    demo_id,
)
from tests.conftest import assert_problem, head_position, incident_opened, new_event

Tokens = dict[str, dict[str, str]]
STORED_KEYS = {"event_id", "stream_id", "version", "position", "result"}


# One demo store per store kind for the whole module: every test files fresh events
# (new ids) and asserts relative to what it read first, so none depends on another.
@pytest.fixture
def client(demo_api: tuple[TestClient, Tokens]) -> TestClient:
    return demo_api[0]


@pytest.fixture
def tokens(demo_api: tuple[TestClient, Tokens]) -> Tokens:
    return demo_api[1]


def observation(stream_id: str = DROWNING_ID, **extra: Any) -> dict[str, Any]:
    return new_event(
        "ObservationRecorded",
        stream_id,
        description="岸边围观群众协助疏散，保持救援通道畅通",
        **extra,
    )


def incident_version(client: TestClient, tokens: Tokens, incident_id: str) -> int:
    response = client.get(f"/v1/incidents/{incident_id}", headers=tokens["safety"])
    assert response.status_code == 200
    version: int = response.json()["version"]
    return version


def test_given_a_new_fact_when_the_crew_files_it_then_201_stored_with_version_and_position(
    client: TestClient, tokens: Tokens
) -> None:
    """Given the drowning incident at some version, when the crew's tablet files a new
    observation, then it answers 201 `stored` with the event's ids, the next version of
    the stream and the next position of the log, and the incident's events end with it."""
    version = incident_version(client, tokens, DROWNING_ID)
    head = head_position(client)
    event = observation()

    response = client.post("/v1/events", json=event, headers=tokens["crew"])

    assert response.status_code == 201, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) >= STORED_KEYS
    assert body["result"] == "stored"
    assert body["event_id"] == event["event_id"]
    assert body["stream_id"] == DROWNING_ID
    assert body["version"] == version + 1
    assert body["position"] == head + 1
    events = client.get(f"/v1/incidents/{DROWNING_ID}/events", headers=tokens["safety"]).json()
    last = events["items"][-1]
    assert (last["event_id"], last["version"], last["position"]) == (
        event["event_id"],
        version + 1,
        head + 1,
    )
    assert last["recorded_by"] == "crew:test-crew"  # {role}:{token name}


def test_given_a_stored_event_when_it_is_sent_again_then_200_duplicate_with_the_original_place(
    client: TestClient, tokens: Tokens
) -> None:
    """Given an event that was stored and then followed by other events, when the tablet
    sends it again — as is, with its time written in UTC or with milliseconds, with the
    default `time_certainty` spelled out, with a stale `expected_version`, with its UUID
    in capitals — then every resend answers 200 `duplicate` with the original version
    and position and nothing new is stored."""
    event = observation(occurred_at="2025-10-16T15:35:00+08:00")
    first = client.post("/v1/events", json=event, headers=tokens["crew"])
    assert first.status_code == 201
    original = first.json()
    assert client.post("/v1/events", json=observation(), headers=tokens["crew"]).status_code == 201
    head = head_position(client)

    for resend in (
        event,
        {**event, "occurred_at": "2025-10-16T07:35:00Z"},
        {**event, "occurred_at": "2025-10-16T15:35:00.000+08:00"},
        {**event, "time_certainty": "measured"},
        {**event, "expected_version": 1},
        {**event, "event_id": event["event_id"].upper()},
    ):
        again = client.post("/v1/events", json=resend, headers=tokens["crew"])
        assert again.status_code == 200, again.text
        body = again.json()
        assert body["result"] == "duplicate"
        assert (body["event_id"].lower(), body["stream_id"]) == (event["event_id"], DROWNING_ID)
        assert (body["version"], body["position"]) == (original["version"], original["position"])
    assert head_position(client) == head


def test_given_a_stored_event_when_its_id_is_reused_for_other_content_then_409_conflict(
    client: TestClient, tokens: Tokens
) -> None:
    """Given a stored event, when an event with the same `event_id` but another
    description (or another certainty) is sent, then it answers 409 with a problem whose
    result is `conflict` and which names the event, and nothing is stored."""
    event = observation()
    assert client.post("/v1/events", json=event, headers=tokens["crew"]).status_code == 201
    head = head_position(client)

    for other in (
        {**event, "description": "另一段描述"},
        {**event, "time_certainty": "estimated"},
        {**event, "occurred_at": "2025-10-16T15:36:00+08:00"},
    ):
        response = client.post("/v1/events", json=other, headers=tokens["crew"])
        body = assert_problem(response, 409, event=True)
        assert body["result"] == "conflict"
        assert (body["event_id"], body["stream_id"]) == (event["event_id"], DROWNING_ID)
        assert "event_id" in body["detail"]
    assert head_position(client) == head


def test_given_a_stale_expected_version_when_filing_then_409_naming_the_current_version(
    client: TestClient, tokens: Tokens
) -> None:
    """Given the drowning incident at version N, when the tablet files with
    `expected_version` N-1, then it answers 409 `conflict` with `current_version` N and
    stores nothing; with `expected_version` N the same event is stored as N+1."""
    version = incident_version(client, tokens, DROWNING_ID)
    head = head_position(client)
    event = observation()

    stale = client.post(
        "/v1/events", json={**event, "expected_version": version - 1}, headers=tokens["crew"]
    )

    body = assert_problem(stale, 409, event=True)
    assert body["result"] == "conflict"
    assert body["current_version"] == version
    assert "expected_version" in body["detail"]
    assert head_position(client) == head
    fresh = client.post(
        "/v1/events", json={**event, "expected_version": version}, headers=tokens["crew"]
    )
    assert fresh.status_code == 201, fresh.text
    assert fresh.json()["version"] == version + 1


def test_given_a_stream_id_in_use_when_a_stream_is_opened_on_it_then_409_conflict(
    client: TestClient, tokens: Tokens
) -> None:
    """Given the drowning incident exists, when the crew opens an incident under its
    stream_id, then it answers 409 `conflict`; opening a new stream with
    `expected_version` 0 is stored as version 1."""
    opened = incident_opened(DROWNING_ID)
    head = head_position(client)
    body = assert_problem(
        client.post("/v1/events", json=opened, headers=tokens["crew"]), 409, event=True
    )
    assert body["result"] == "conflict"
    assert head_position(client) == head

    fresh = {**opened, "stream_id": new_event("x", "x")["event_id"], "expected_version": 0}
    stored = client.post("/v1/events", json=fresh, headers=tokens["crew"])
    assert stored.status_code == 201, stored.text
    assert stored.json()["version"] == 1


INVALID_CASES = [
    pytest.param({"type": "IncidentClosed"}, "type", id="unknown-type"),
    pytest.param({"type": "PersonRegistered"}, "type", id="server-only-type"),
    pytest.param({"desciption": "typo"}, "desciption", id="unknown-field"),
    pytest.param({"recorded_at": "2025-10-16T07:35:00Z"}, "recorded_at", id="server-recorded_at"),
    pytest.param({"version": 3}, "version", id="server-version"),
    pytest.param({"position": 12}, "position", id="server-position"),
    pytest.param({"recorded_by": "crew:me"}, "recorded_by", id="server-recorded_by"),
    pytest.param({"time_certainty": "roughly"}, "time_certainty", id="bad-certainty-enum"),
    pytest.param({"occurred_at": "2025-10-16T15:35:00"}, "occurred_at", id="time-without-offset"),
    pytest.param({"occurred_at": "yesterday"}, "occurred_at", id="not-a-time"),
    pytest.param({"description": ""}, "description", id="empty-description"),
    pytest.param({"expected_version": -1}, "expected_version", id="negative-expected-version"),
    pytest.param({"event_id": "not-a-uuid"}, "event_id", id="event-id-not-uuid"),
    pytest.param(
        {"type": "EmergencyServicesCalled", "service": "police_911", "people": []},
        "service",
        id="bad-service-enum",
    ),
    pytest.param(
        {"type": "RescueActionTaken", "action": "swim", "people": ["zhou-lihui"]},
        "action",
        id="bad-action-enum",
    ),
    pytest.param(
        {"type": "RescueActionTaken", "action": "reach_with_pole", "people": ["stranger"]},
        "people",
        id="unregistered-person",
    ),
    pytest.param({"type": "OutcomeRecorded", "outcome": "fine"}, "outcome", id="bad-outcome-enum"),
    pytest.param({"type": "VictimHandedOver"}, "to", id="missing-required-field"),
]


@pytest.mark.parametrize(("change", "field"), INVALID_CASES)
def test_given_an_event_breaking_a_field_rule_when_filed_then_422_naming_the_field(
    client: TestClient, tokens: Tokens, change: dict[str, Any], field: str
) -> None:
    """Given an observation for the drowning incident with one field wrong (an unknown
    type or field, a server-owned field, a bad enum or time, a missing field), when the
    crew files it, then it answers 422 `invalid` with a detail naming the field, and
    nothing is stored."""
    event = {**observation(), **change}
    if change.get("type") not in (
        None,
        "ObservationRecorded",
        "IncidentClosed",
        "PersonRegistered",
    ):
        event.pop("description")
    head = head_position(client)

    response = client.post("/v1/events", json=event, headers=tokens["crew"])

    body = assert_problem(response, 422, event=True)
    assert body["result"] == "invalid"
    assert field in body["detail"], body["detail"]
    if field != "event_id":
        assert body["event_id"] == event["event_id"]
    assert head_position(client) == head


def test_given_a_stream_never_opened_when_an_event_is_filed_for_it_then_422_invalid(
    client: TestClient, tokens: Tokens
) -> None:
    """Given a stream id no IncidentOpened ever created, when the crew files an
    observation for it, then it answers 422 `invalid` naming `stream_id`, and nothing is
    stored."""
    stream_id = new_event("x", "x")["event_id"]
    head = head_position(client)

    body = assert_problem(
        client.post("/v1/events", json=observation(stream_id), headers=tokens["crew"]),
        422,
        event=True,
    )

    assert body["result"] == "invalid"
    assert body["stream_id"] == stream_id
    assert "stream_id" in body["detail"]
    assert head_position(client) == head


def _approval(commendation_id: str = COMMENDATION_SCENIC_ID) -> dict[str, Any]:
    return new_event(
        "CommendationApproved",
        commendation_id,
        "2025-10-25T10:00:00+08:00",
        award="见义勇为先进个人",
    )


FORBIDDEN = [
    pytest.param(
        "crew",
        lambda: new_event("IncidentReviewed", DROWNING_ID, findings="处置得当"),
        id="crew-files-IncidentReviewed",
    ),
    pytest.param(
        "crew",
        lambda: new_event("IncidentReopened", DROWNING_ID, reason="想再改一下"),
        id="crew-files-IncidentReopened",
    ),
    pytest.param(
        "other_crew",
        lambda: new_event("IncidentReviewed", CARDIAC_ID, findings="处置得当"),
        id="scenic-crew-files-IncidentReviewed",
    ),
    pytest.param(
        "hr",
        lambda: new_event(
            "IncidentOpened",
            new_event("x", "x")["event_id"],
            kind="fall",
            title="人事部门不能开事件",
            crew_id="chikan-mv-om",
            location={"place": "赤坎"},
        ),
        id="hr-files-IncidentOpened",
    ),
    pytest.param("safety", _approval, id="safety-files-CommendationApproved"),
    pytest.param("admin", _approval, id="admin-files-CommendationApproved"),
    pytest.param(
        "crew",
        lambda: _approval(demo_id("commendation/tan-river-crew")),
        id="crew-files-CommendationApproved",
    ),
    pytest.param(
        "crew",
        lambda: new_event("CommendationEndorsed", demo_id("commendation/tan-river-crew")),
        id="crew-files-CommendationEndorsed",
    ),
    pytest.param(
        "hr",
        lambda: new_event("CommendationEndorsed", COMMENDATION_SCENIC_ID),
        id="hr-files-CommendationEndorsed",
    ),
    pytest.param(
        "admin",
        lambda: new_event("CommendationRejected", COMMENDATION_SCENIC_ID, reason="重复"),
        id="admin-files-CommendationRejected",
    ),
    pytest.param(
        "crew",
        lambda: new_event(
            "EntryCorrected",
            DROWNING_ID,
            corrects_event_id=demo_id("event/incident/tan-river-drowning/review-1"),
            changes={"findings": "班组想改复核结论"},
            reason="不同意",
        ),
        id="crew-corrects-the-offices-entry",
    ),
]


@pytest.mark.parametrize(("token_key", "build"), FORBIDDEN)
def test_given_a_role_when_it_files_a_type_it_may_not_file_then_403_and_nothing_stored(
    client: TestClient, tokens: Tokens, token_key: str, build: Any
) -> None:
    """Given a role and an event type the roles table does not give it (a crew reviewing,
    hr opening an incident, the office approving a commendation), when it files the
    event, then it answers 403 with the event's ids and result `invalid`, and nothing is
    stored."""
    event = build()
    head = head_position(client)

    response = client.post("/v1/events", json=event, headers=tokens[token_key])

    body = assert_problem(response, 403, event=True)
    assert body["result"] == "invalid"
    assert (body["event_id"], body["stream_id"]) == (event["event_id"], event["stream_id"])
    assert event["type"] in body["detail"] or "crew" in body["detail"], body["detail"]
    assert head_position(client) == head


def test_given_hr_when_it_approves_an_endorsed_commendation_then_it_is_stored(
    client: TestClient, tokens: Tokens
) -> None:
    """Given the scenic commendation endorsed by the safety office, when hr approves it,
    then it is stored (201) and the commendation reads `approved` with the award."""
    approval = _approval()

    response = client.post("/v1/events", json=approval, headers=tokens["hr"])

    assert response.status_code == 201, response.text
    read = client.get(f"/v1/commendations/{COMMENDATION_SCENIC_ID}", headers=tokens["hr"]).json()
    assert (read["status"], read["award"]) == ("approved", "见义勇为先进个人")


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda: observation(CARDIAC_ID), id="observation-in-other-incident"),
        pytest.param(
            lambda: new_event("VictimDetailsRecorded", CARDIAC_ID, name="古镇游客（化名）", age=58),
            id="victim-details-in-other-incident",
        ),
        pytest.param(
            lambda: new_event(
                "EntryCorrected",
                CARDIAC_ID,
                corrects_event_id=demo_id("event/incident/chikan-town-cardiac-arrest/report"),
                changes={"occurred_at": "2025-10-19T10:33:00+08:00"},
                reason="改时间",
            ),
            id="correction-in-other-incident",
        ),
        pytest.param(
            lambda: new_event(
                "LineObservationRecorded",
                PATROL_ID,
                category="hazard",
                severity="high",
                description="别的班组的巡视",
            ),
            id="observation-in-other-patrol",
        ),
    ],
)
def test_given_another_crews_stream_when_a_crew_files_into_it_then_404_and_nothing_stored(
    client: TestClient, tokens: Tokens, build: Any
) -> None:
    """Given an incident or patrol of another crew, when a crew's tablet files an event
    into it, then it answers 404 (the stream's existence is not revealed), and nothing is
    stored."""
    event = build()
    token = "other_crew" if event["stream_id"] == PATROL_ID else "crew"
    head = head_position(client)

    response = client.post("/v1/events", json=event, headers=tokens[token])

    body = assert_problem(response, 404, event=True)
    assert body["event_id"] == event["event_id"]
    assert head_position(client) == head


def test_given_another_crews_incident_when_a_crew_nominates_for_it_then_as_for_a_missing_one(
    client: TestClient, tokens: Tokens
) -> None:
    """Given the scenic crew's incident, when the drowning crew nominates its people for a
    commendation on it, then it is refused exactly as for an incident that does not
    exist (same status), and nothing is stored."""

    def nomination(incident_id: str) -> dict[str, Any]:
        return new_event(
            "CommendationNominated",
            new_event("x", "x")["event_id"],
            "2025-10-22T10:00:00+08:00",
            nominees=["zhou-lihui"],
            incident_id=incident_id,
            citation="抢功",
        )

    head = head_position(client)
    other = client.post("/v1/events", json=nomination(CARDIAC_ID), headers=tokens["crew"])
    missing = client.post(
        "/v1/events", json=nomination(new_event("x", "x")["event_id"]), headers=tokens["crew"]
    )

    assert other.status_code in (404, 422)
    assert_problem(other, missing.status_code, event=True)
    assert head_position(client) == head


def test_given_a_crew_token_when_it_opens_an_incident_for_another_crew_then_refused(
    client: TestClient, tokens: Tokens
) -> None:
    """Given the drowning crew's token, when it opens an incident naming the scenic crew
    as `crew_id`, then it is refused (403) and nothing is stored."""
    opened = new_event(
        "IncidentOpened",
        new_event("x", "x")["event_id"],
        kind="fall",
        title="替别的班组开事件",
        crew_id="chikan-scenic",
        location={"place": "古镇"},
    )
    head = head_position(client)
    assert_problem(client.post("/v1/events", json=opened, headers=tokens["crew"]), 403, event=True)
    assert head_position(client) == head


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"{not json", id="broken"),
        pytest.param(b"", id="empty"),
        pytest.param(b'{"event_id": "a", ', id="truncated"),
        pytest.param('{"x": "\udcff"}'.encode("utf-8", "surrogatepass"), id="bad-utf8"),
    ],
)
def test_given_a_body_that_is_not_json_when_filed_then_400_problem(
    client: TestClient, tokens: Tokens, body: bytes
) -> None:
    """Given a request body that is not valid JSON, when it is posted to /v1/events, then
    it answers 400 with a problem document, and nothing is stored."""
    head = head_position(client)
    response = client.post(
        "/v1/events",
        content=body,
        headers={**tokens["crew"], "Content-Type": "application/json"},
    )
    assert_problem(response, 400)
    assert head_position(client) == head


@pytest.mark.parametrize(
    "body", [b"[]", b"42", b'"event"', b"null"], ids=["list", "number", "string", "null"]
)
def test_given_json_that_is_not_an_event_object_when_filed_then_422_invalid(
    client: TestClient, tokens: Tokens, body: bytes
) -> None:
    """Given valid JSON that is not an object, when it is posted to /v1/events, then it
    answers 422 `invalid` with a problem document, and nothing is stored."""
    head = head_position(client)
    response = client.post(
        "/v1/events",
        content=body,
        headers={**tokens["crew"], "Content-Type": "application/json"},
    )
    problem = assert_problem(response, 422)
    assert problem.get("result") == "invalid"
    assert head_position(client) == head


def test_given_the_demo_events_when_each_is_filed_again_by_its_filer_then_all_are_duplicates(
    client: TestClient, tokens: Tokens
) -> None:
    """Given the demo stories already stored, when every demo event is filed again over
    HTTP by a token of the role that filed it, then each answers 200 `duplicate` and the
    log does not grow (idempotency holds across the service and the API)."""
    token_of = {
        "crew:demo-loader-chikan-mv-om": "crew",
        "crew:demo-loader-chikan-scenic": "other_crew",
        "safety:demo-loader": "safety",
        "hr:demo-loader": "hr",
    }
    head = head_position(client)
    for actor, event in demo_events():
        response = client.post(
            "/v1/events", json=event, headers=tokens[token_of[actor.recorded_by]]
        )
        assert response.status_code == 200, (event["type"], response.text)
        assert response.json()["result"] == "duplicate"
    assert head_position(client) == head


def test_given_erased_personal_data_when_anyone_reads_it_or_files_more_then_erased_and_422(
    client: TestClient, tokens: Tokens
) -> None:
    """Given a new incident whose victim details were recorded and then erased (as
    `fieldlog erase-personal-data` does), when the office or the crew reads its events,
    then the details read `"personal_data": "erased"` with no name, a
    PersonalDataErased event follows, the other events are unchanged, and new
    VictimDetailsRecorded for it answers 422 `invalid`."""
    from uuid import UUID

    from incidents.roles import Actor

    incident_id = new_event("x", "x")["event_id"]
    opened = incident_opened(incident_id, "drowning", "潭江下游又有人落水", "潭江下游")
    victim = new_event("VictimDetailsRecorded", incident_id, name="落水者乙（化名）", age=40)
    for event in (opened, observation(incident_id), victim):
        assert client.post("/v1/events", json=event, headers=tokens["crew"]).status_code == 201
    path = f"/v1/incidents/{incident_id}/events"
    before = client.get(path, headers=tokens["safety"]).json()["items"]
    assert before[2]["name"] == "落水者乙（化名）"

    fieldlog = client.app.state.fieldlog  # type: ignore[attr-defined]
    fieldlog.erase_personal_data(UUID(incident_id), Actor("admin", "test-eraser"))

    for token_key in ("safety", "admin", "crew"):
        after = client.get(path, headers=tokens[token_key]).json()["items"]
        assert [e["type"] for e in after][-1] == "PersonalDataErased"
        erased = after[2]
        assert erased["personal_data"] == "erased"
        assert not {"name", "age", "phone"} & set(erased)
        assert "落水者乙" not in client.get(path, headers=tokens[token_key]).text
        assert len(after) == 4
    safety_after = client.get(path, headers=tokens["safety"]).json()["items"]
    assert safety_after[:2] == before[:2]
    again = new_event("VictimDetailsRecorded", incident_id, name="落水者乙（化名）")
    body = assert_problem(
        client.post("/v1/events", json=again, headers=tokens["safety"]), 422, event=True
    )
    assert body["result"] == "invalid"


def test_given_its_own_incident_when_a_crew_nominates_its_people_then_stored_and_readable(
    client: TestClient, tokens: Tokens
) -> None:
    """Given the drowning incident, when its crew nominates 关锦康 for a commendation, then
    it is stored (201) and the crew reads it back as `nominated`, resting on that
    incident; the other crew does not see it (404)."""
    commendation_id = new_event("x", "x")["event_id"]
    nomination = new_event(
        "CommendationNominated",
        commendation_id,
        "2025-10-22T10:00:00+08:00",
        nominees=["guan-jinkang"],
        incident_id=DROWNING_ID,
        citation="关锦康第一时间拨打 110 报警",
    )

    response = client.post("/v1/events", json=nomination, headers=tokens["crew"])

    assert response.status_code == 201, response.text
    read = client.get(f"/v1/commendations/{commendation_id}", headers=tokens["crew"]).json()
    assert (read["status"], read["nominees"], read["incident_id"]) == (
        "nominated",
        ["guan-jinkang"],
        DROWNING_ID,
    )
    path = f"/v1/commendations/{commendation_id}"
    assert_problem(client.get(path, headers=tokens["other_crew"]), 404)

"""A tablet's offline queue: POST /v1/sync processes events in capture order.

Given the drowning crew's tablet coming back online with a queue of events captured
offline — a new incident and its facts, with bad events among them — the server
answers 200 with one result per event, in order; a bad event never blocks, undoes or
reorders the good ones, and sending the queue again (or part of it, after a dropped
connection) answers `duplicate` with the original versions and positions.
"""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from incidents.demo import CARDIAC_ID
from tests.conftest import assert_problem, head_position, new_event

Tokens = dict[str, dict[str, str]]
RESULT_KEYS = {"event_id", "result", "stream_id", "version", "position", "detail"}


# One demo store per store kind for the whole module; each test files its own incident.
@pytest.fixture
def client(demo_api: tuple[TestClient, Tokens]) -> TestClient:
    return demo_api[0]


@pytest.fixture
def tokens(demo_api: tuple[TestClient, Tokens]) -> Tokens:
    return demo_api[1]


def good_queue(incident_id: str) -> list[dict[str, Any]]:
    """Five good events of a new incident of crew chikan-mv-om, in capture order."""
    day = "2025-11-02T09:"
    return [
        new_event(
            "IncidentOpened",
            incident_id,
            day + "00:00+08:00",
            kind="fall",
            title="巡视途中一名钓鱼者从堤岸跌落",
            crew_id="chikan-mv-om",
            location={"lat": 22.33, "lon": 112.59, "place": "潭江北岸堤防"},
        ),
        new_event(
            "ObservationRecorded", incident_id, day + "00:30+08:00", description="落水者抓住石块"
        ),
        new_event(
            "EmergencyServicesCalled",
            incident_id,
            day + "01:00+08:00",
            service="ambulance_120",
            people=["chen-yigao"],
        ),
        new_event(
            "RescueActionTaken",
            incident_id,
            day + "02:00+08:00",
            action="throw_flotation",
            people=["zhou-lihui"],
        ),
        new_event("OutcomeRecorded", incident_id, day + "20:00+08:00", outcome="recovered"),
    ]


def mixed_queue(incident_id: str) -> tuple[list[Any], list[str]]:
    """The good events with bad ones between them; answers the queue and the expected
    result of each event."""
    good = good_queue(incident_id)
    bad_field = new_event(
        "EmergencyServicesCalled",
        incident_id,
        "2025-11-02T09:01:10+08:00",
        service="police_110",
        people=[],
        phone_number="110",
    )
    reused_id = {**good[1], "description": "同一个 event_id，另一段内容"}
    review = new_event("IncidentReviewed", incident_id, findings="班组不能自己复核")
    other_crew = new_event("ObservationRecorded", CARDIAC_ID, description="别的班组的事件")
    stale = new_event(
        "ObservationRecorded", incident_id, description="基于旧版本", expected_version=1
    )
    queue = [
        good[0],
        good[1],
        bad_field,
        good[2],
        reused_id,
        review,
        other_crew,
        stale,
        42,
        good[3],
        good[4],
    ]
    expected = [
        "stored",
        "stored",
        "invalid",
        "stored",
        "conflict",
        "invalid",
        "invalid",
        "conflict",
        "invalid",
        "stored",
        "stored",
    ]
    return queue, expected


def sync(client: TestClient, token: dict[str, str], events: list[Any]) -> list[dict[str, Any]]:
    response = client.post(
        "/v1/sync", json={"device_id": "tablet-7", "events": events}, headers=token
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    results: list[dict[str, Any]] = response.json()["results"]
    assert len(results) == len(events)
    for event, result in zip(events, results, strict=True):
        assert set(result) <= RESULT_KEYS | {"current_version"}
        # an event without an id (or not an object) cannot be named: absent or null
        expected_id = event.get("event_id") if isinstance(event, dict) else None
        assert result.get("event_id") == expected_id
    return results


def test_given_bad_events_in_the_middle_of_a_queue_when_synced_then_the_good_ones_stored_in_order(
    client: TestClient, tokens: Tokens
) -> None:
    """Given a queue of five good events with an invalid one, a reused event_id, a
    review the crew may not file, an event for another crew's incident, a stale
    expected_version and a non-object between them, when the tablet syncs it, then it
    answers 200 with one result per event in order; the good ones are stored with
    versions 1..5 and increasing positions, each bad one is `invalid` or `conflict`
    with a detail, and the incident holds exactly the good ones in capture order."""
    incident_id = str(uuid4())
    queue, expected = mixed_queue(incident_id)
    head = head_position(client)

    results = sync(client, tokens["crew"], queue)

    assert [r["result"] for r in results] == expected
    stored = [r for r in results if r["result"] == "stored"]
    assert [r["version"] for r in stored] == [1, 2, 3, 4, 5]
    positions = [r["position"] for r in stored]
    assert positions == sorted(positions)
    assert positions[0] > head
    assert head_position(client) == head + 5
    for result in results:
        if result["result"] in ("invalid", "conflict"):
            assert result["detail"]
            assert "version" not in result
    assert "IncidentReviewed" in results[5]["detail"]
    assert results[7].get("current_version") in (None, 3)
    events = client.get(f"/v1/incidents/{incident_id}/events", headers=tokens["crew"]).json()
    assert [e["event_id"] for e in events["items"]] == [r["event_id"] for r in stored]
    assert [e["version"] for e in events["items"]] == [1, 2, 3, 4, 5]
    assert [e["position"] for e in events["items"]] == positions


def test_given_a_synced_queue_when_the_same_queue_is_sent_again_then_good_events_are_duplicates(
    client: TestClient, tokens: Tokens
) -> None:
    """Given a queue that was synced (its response lost), when the tablet sends the very
    same queue again, then every good event answers `duplicate` with its original
    version and position, the bad ones are refused again, and nothing new is stored."""
    queue, expected = mixed_queue(str(uuid4()))
    first = sync(client, tokens["crew"], queue)
    head = head_position(client)

    second = sync(client, tokens["crew"], queue)

    for before, after, wanted in zip(first, second, expected, strict=True):
        if wanted == "stored":
            assert after["result"] == "duplicate"
            assert (after["version"], after["position"]) == (before["version"], before["position"])
            assert after["stream_id"] == before["stream_id"]
        else:
            assert after["result"] in ("invalid", "conflict")
    assert head_position(client) == head


def test_given_a_dropped_connection_when_the_second_half_is_sent_again_then_those_are_duplicates(
    client: TestClient, tokens: Tokens
) -> None:
    """Given a whole queue stored although the tablet never saw the answer past the
    first half, when it sends the second half again, then those events answer
    `duplicate` with their original versions and positions."""
    queue = good_queue(str(uuid4()))
    first = sync(client, tokens["crew"], queue)
    head = head_position(client)

    again = sync(client, tokens["crew"], queue[2:])

    assert [r["result"] for r in again] == ["duplicate"] * 3
    assert [(r["version"], r["position"]) for r in again] == [
        (r["version"], r["position"]) for r in first[2:]
    ]
    assert head_position(client) == head


def test_given_only_the_first_half_arrived_when_the_whole_queue_is_resent_then_as_if_sent_once(
    client: TestClient, tokens: Tokens
) -> None:
    """Given the connection dropped after the server stored the first half of a queue,
    when the tablet resends the whole queue, then the first half answers `duplicate`,
    the second half is stored after it in capture order, and the incident holds each
    event once with versions 1..5."""
    incident_id = str(uuid4())
    queue = good_queue(incident_id)
    half = sync(client, tokens["crew"], queue[:2])
    assert [r["result"] for r in half] == ["stored", "stored"]

    whole = sync(client, tokens["crew"], queue)

    assert [r["result"] for r in whole] == ["duplicate"] * 2 + ["stored"] * 3
    assert [r["version"] for r in whole] == [1, 2, 3, 4, 5]
    assert [(r["version"], r["position"]) for r in whole[:2]] == [
        (r["version"], r["position"]) for r in half
    ]
    events = client.get(f"/v1/incidents/{incident_id}/events", headers=tokens["crew"]).json()
    assert [e["event_id"] for e in events["items"]] == [e["event_id"] for e in queue]


def test_given_a_queue_of_only_refusals_or_nothing_when_synced_then_still_200(
    client: TestClient, tokens: Tokens
) -> None:
    """Given an empty queue, or one whose every event is refused (hr filing incident
    events, which it may not), when synced, then the answer is still 200: an empty
    result list, or `invalid` with a reason for each, and nothing is stored."""
    head = head_position(client)
    assert sync(client, tokens["crew"], []) == []

    results = sync(client, tokens["hr"], good_queue(str(uuid4())))

    assert {r["result"] for r in results} == {"invalid"}
    assert all("hr" in r["detail"] for r in results)
    assert head_position(client) == head


def test_given_a_queue_of_exactly_1000_events_when_synced_then_it_is_accepted(
    client: TestClient, tokens: Tokens
) -> None:
    """Given a queue of exactly 1,000 events (here all malformed), when synced, then it
    answers 200 with 1,000 results (the limit is *more than* 1,000)."""
    results = sync(client, tokens["crew"], [{}] * 1000)
    assert {r["result"] for r in results} == {"invalid"}


def test_given_more_than_1000_events_when_synced_then_413_and_nothing_stored(
    client: TestClient, tokens: Tokens
) -> None:
    """Given a queue of 1,001 good events, when synced, then the whole request is refused
    with 413 (a problem document) and none of them is stored."""
    incident_id = str(uuid4())
    queue = good_queue(incident_id)[:1] + [
        new_event("ObservationRecorded", incident_id, description=f"第 {i} 条") for i in range(1000)
    ]
    head = head_position(client)

    response = client.post(
        "/v1/sync", json={"device_id": "tablet-7", "events": queue}, headers=tokens["crew"]
    )

    assert_problem(response, 413)
    assert head_position(client) == head


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"events": "GOOD"}, "device_id", id="no-device_id"),
        pytest.param({"device_id": "tablet-7"}, "events", id="no-events"),
        pytest.param({"device_id": "tablet-7", "events": {"0": 1}}, "events", id="events-not-list"),
        pytest.param({"device_id": "", "events": "GOOD"}, "device_id", id="empty-device_id"),
        pytest.param({"device_id": 7, "events": "GOOD"}, "device_id", id="device_id-not-text"),
        pytest.param("GOOD", "events", id="a-bare-list"),
    ],
)
def test_given_a_sync_request_without_device_id_or_events_when_sent_then_422_and_nothing_stored(
    client: TestClient, tokens: Tokens, body: Any, field: str
) -> None:
    """Given a sync request missing `device_id` or `events` (or with either of the wrong
    kind), when sent, then it answers 422 with a problem naming the field, and not even
    the good events it carries are stored."""
    good = good_queue(str(uuid4()))
    body = good if body == "GOOD" else {k: good if v == "GOOD" else v for k, v in body.items()}
    head = head_position(client)

    response = client.post("/v1/sync", json=body, headers=tokens["crew"])

    problem = assert_problem(response, 422)
    assert field in problem["detail"]
    assert head_position(client) == head


def test_given_a_sync_body_that_is_not_json_when_sent_then_400(
    client: TestClient, tokens: Tokens
) -> None:
    """Given a sync body that is not JSON (a cut-off upload), when sent, then it answers
    400 with a problem document."""
    response = client.post(
        "/v1/sync",
        content=b'{"device_id": "tablet-7", "events": [{"event_id": ',
        headers={**tokens["crew"], "Content-Type": "application/json"},
    )
    assert_problem(response, 400)


def test_given_the_office_when_it_syncs_a_type_it_may_not_file_then_that_event_is_invalid_only(
    client: TestClient, tokens: Tokens
) -> None:
    """Given the safety office syncing an observation for a crew's incident and a
    commendation approval (an HR decision), when synced, then the observation is stored
    and the approval is `invalid` with the reason, without blocking the other."""
    queue = good_queue(str(uuid4()))[:1]
    approval = new_event(
        "CommendationApproved", str(uuid4()), "2025-10-25T10:00:00+08:00", award="先进个人"
    )
    results = sync(client, tokens["safety"], [approval, *queue])
    assert [r["result"] for r in results] == ["invalid", "stored"]
    assert "CommendationApproved" in results[0]["detail"]


def test_given_one_event_twice_in_a_queue_when_synced_then_stored_then_duplicate(
    client: TestClient, tokens: Tokens
) -> None:
    """Given a queue holding the same event twice (a tablet's retry queued twice) and
    then its id with other content, when synced, then the first is stored, the second
    answers `duplicate` with the same version and position, and the third `conflict`."""
    opened, observed = good_queue(str(uuid4()))[:2]
    changed = {**observed, "description": "另一段内容"}

    results = sync(client, tokens["crew"], [opened, observed, observed, changed])

    assert [r["result"] for r in results] == ["stored", "stored", "duplicate", "conflict"]
    assert (results[2]["version"], results[2]["position"]) == (
        results[1]["version"],
        results[1]["position"],
    )

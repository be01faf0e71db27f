"""Timelines page by key, not by offset.

A safety officer pages through a crew's timeline while the crew keeps filing from the
field — including events that happened earlier than the page being read (a queue synced
late). Given a page and its cursor → when earlier events are filed meanwhile → then the
next page starts right after the last event seen: nothing repeated, nothing skipped.
"""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from fastapi.testclient import TestClient

from tests.conftest import assert_problem, new_event

Tokens = dict[str, dict[str, str]]
TIMELINE = "/v1/crews/chikan-mv-om/timeline"


def read(client: TestClient, path: str, token: dict[str, str], **params: Any) -> Any:
    response = client.get(path, params=params, headers=token)
    assert response.status_code == 200, response.text
    return response.json()


def file_earlier_incident(client: TestClient, tokens: Tokens) -> str:
    """An incident that happened before anything on the timeline, synced only now."""
    event = new_event(
        "IncidentOpened",
        str(uuid4()),
        "2025-10-01T09:00:00+08:00",
        kind="fall",
        title="巡线途中有村民从堤岸滑倒",
        crew_id="chikan-mv-om",
        location={"place": "潭江堤岸"},
    )
    response = client.post("/v1/events", json=event, headers=tokens["crew"])
    assert response.status_code == 201, response.text
    return str(event["event_id"])


def test_events_filed_earlier_than_the_page_do_not_shift_the_next_page(
    client: TestClient, tokens: Tokens
) -> None:
    first = read(client, TIMELINE, tokens["safety"], limit=3)
    assert len(first["items"]) == 3
    assert first["next_cursor"]

    late_event = file_earlier_incident(client, tokens)
    second = read(client, TIMELINE, tokens["safety"], limit=3, cursor=first["next_cursor"])

    whole = read(client, TIMELINE, tokens["safety"], limit=1000)["items"]
    ids = [e["event_id"] for e in whole]
    assert ids[0] == late_event  # it is on the timeline, in its place
    after_first = ids.index(first["items"][-1]["event_id"]) + 1
    assert [e["event_id"] for e in second["items"]] == ids[after_first : after_first + 3]


def test_a_window_and_a_cursor_together_keep_to_the_window(
    client: TestClient, tokens: Tokens
) -> None:
    day = {"from": "2025-10-16", "to": "2025-10-16"}
    whole = read(client, TIMELINE, tokens["crew"], limit=1000, **day)["items"]
    assert len(whole) > 2
    walked: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = read(
            client,
            TIMELINE,
            tokens["crew"],
            limit=2,
            **day,
            **({"cursor": cursor} if cursor else {}),
        )
        walked.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert walked == whole


def test_a_list_cursor_is_not_a_timeline_cursor(client: TestClient, tokens: Tokens) -> None:
    """A cursor from another collection names no place on a timeline: 400, not a guess."""
    listing = read(client, "/v1/incidents", tokens["safety"], limit=1)
    assert listing["next_cursor"]
    response = client.get(
        TIMELINE, params={"cursor": listing["next_cursor"]}, headers=tokens["safety"]
    )
    assert "cursor" in assert_problem(response, 400)["detail"]

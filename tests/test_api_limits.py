"""Request-body limits: 1 MiB per request, 8 MiB for a tablet's sync, refused with 413
before the body is parsed — also when the body streams in without (or with a false)
Content-Length.

The bodies are valid JSON padded with whitespace, so a refusal can only come from
their size, and an acceptance shows the limit is not lower than claimed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from incidents.demo import DROWNING_ID
from tests.conftest import assert_problem, head_position, new_event

Tokens = dict[str, dict[str, str]]
MIB = 1024 * 1024
EVENT_LIMIT = 1 * MIB
SYNC_LIMIT = 8 * MIB
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def client(demo_api: tuple[TestClient, Tokens]) -> TestClient:
    return demo_api[0]


@pytest.fixture
def tokens(demo_api: tuple[TestClient, Tokens]) -> Tokens:
    return demo_api[1]


def padded(document: Any, size: int) -> bytes:
    """`document` as JSON, padded with whitespace inside to exactly `size` bytes."""
    raw = json.dumps(document, ensure_ascii=False).encode()
    assert raw.startswith(b"{")
    pad = size - len(raw)
    assert pad >= 0
    return b"{" + b" " * pad + raw[1:]


def observation() -> dict[str, Any]:
    return new_event("ObservationRecorded", DROWNING_ID, description="补记：岸边有两名船民协助")


def chunks(body: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    """The body as a stream of chunks (sent chunked, without Content-Length)."""
    for start in range(0, len(body), size):
        yield body[start : start + size]


def test_given_an_event_body_of_exactly_1_mib_when_filed_then_it_is_stored(
    client: TestClient, tokens: Tokens
) -> None:
    """Given a valid event padded to exactly 1 MiB, when filed, then it is stored (201):
    only a body *over* 1 MiB is refused."""
    response = client.post(
        "/v1/events",
        content=padded(observation(), EVENT_LIMIT),
        headers={**tokens["crew"], **JSON},
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("streamed", [False, True], ids=["content-length", "chunked"])
def test_given_an_event_body_over_1_mib_when_filed_then_413_and_nothing_stored(
    client: TestClient, tokens: Tokens, streamed: bool
) -> None:
    """Given a valid event padded to 1 MiB + 1 byte, when filed with its Content-Length or
    streamed chunked without one, then it answers 413 with a problem document and nothing
    is stored."""
    body = padded(observation(), EVENT_LIMIT + 1)
    head = head_position(client)

    response = client.post(
        "/v1/events",
        content=chunks(body) if streamed else body,
        headers={**tokens["crew"], **JSON},
    )

    assert_problem(response, 413)
    assert head_position(client) == head


def test_given_a_lying_content_length_when_a_large_body_streams_in_then_413(
    client: TestClient, tokens: Tokens
) -> None:
    """Given a request declaring `Content-Length: 200` whose body streams in at 2 MiB,
    when it is posted to /v1/events, then it is still refused with 413 and nothing is
    stored (the limit counts the bytes that arrive, not the header)."""
    body = padded(observation(), 2 * MIB)
    head = head_position(client)

    response = client.post(
        "/v1/events",
        content=chunks(body),
        headers={**tokens["crew"], **JSON, "Content-Length": "200"},
    )

    assert_problem(response, 413)
    assert head_position(client) == head


def test_given_a_small_event_streamed_chunked_when_filed_then_it_is_stored(
    client: TestClient, tokens: Tokens
) -> None:
    """Given a small valid event streamed without Content-Length, when filed, then it is
    stored as usual (streaming is not refused as such)."""
    body = json.dumps(observation()).encode()
    response = client.post(
        "/v1/events", content=chunks(body, 16), headers={**tokens["crew"], **JSON}
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/v1/people"), ("POST", "/v1/crews"), ("POST", "/v1/crews/chikan-mv-om/members")],
)
def test_given_a_body_over_1_mib_on_another_write_path_when_sent_then_413(
    client: TestClient, tokens: Tokens, method: str, path: str
) -> None:
    """Given a registry write padded over 1 MiB, when the admin sends it, then it
    answers 413 (the 1 MiB limit is for every request but a sync)."""
    body = padded({"person_id": "someone-new", "name": "某人"}, EVENT_LIMIT + 1)
    head = head_position(client)
    response = client.request(method, path, content=body, headers={**tokens["admin"], **JSON})
    assert_problem(response, 413)
    assert head_position(client) == head


def sync_body(size: int) -> tuple[bytes, dict[str, Any]]:
    event = observation()
    return padded({"device_id": "tablet-7", "events": [event]}, size), event


@pytest.mark.parametrize("size", [2 * MIB, SYNC_LIMIT - 1], ids=["2-mib", "just-under-8-mib"])
def test_given_a_sync_body_over_1_mib_but_under_8_mib_when_synced_then_it_is_processed(
    client: TestClient, tokens: Tokens, size: int
) -> None:
    """Given a valid sync request padded to 2 MiB (and to just under 8 MiB), when the
    tablet syncs it, then it answers 200 and its event is stored: /v1/sync has the larger
    8 MiB limit."""
    body, event = sync_body(size)
    response = client.post("/v1/sync", content=body, headers={**tokens["crew"], **JSON})
    assert response.status_code == 200, response.text
    [result] = response.json()["results"]
    assert (result["event_id"], result["result"]) == (event["event_id"], "stored")


@pytest.mark.parametrize("streamed", [False, True], ids=["content-length", "chunked"])
def test_given_a_sync_body_over_8_mib_when_synced_then_413_and_nothing_stored(
    client: TestClient, tokens: Tokens, streamed: bool
) -> None:
    """Given a valid sync request padded to 8 MiB + 1 byte, when synced with its
    Content-Length or streamed chunked, then the whole request is refused with 413 and
    its event is not stored."""
    body, _ = sync_body(SYNC_LIMIT + 1)
    head = head_position(client)

    response = client.post(
        "/v1/sync",
        content=chunks(body, MIB) if streamed else body,
        headers={**tokens["crew"], **JSON},
    )

    assert_problem(response, 413)
    assert head_position(client) == head


def test_given_a_refused_body_when_the_tablet_sends_a_normal_one_next_then_it_is_stored(
    client: TestClient, tokens: Tokens
) -> None:
    """Given a request just refused with 413, when the same tablet then files a normal
    event, then it is stored: a refusal leaves the server answering."""
    assert_problem(
        client.post(
            "/v1/events",
            content=chunks(padded(observation(), 3 * MIB)),
            headers={**tokens["crew"], **JSON},
        ),
        413,
    )
    event = {**observation(), "event_id": str(uuid4())}
    assert client.post("/v1/events", json=event, headers=tokens["crew"]).status_code == 201

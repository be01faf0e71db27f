"""Who may call what: every role × every path of the contract's HTTP table × a record.

Given the demo stories (crew `chikan-mv-om` owns the drowning incident, its patrol and
commendations; crew `chikan-scenic` owns the cardiac-arrest incident), each token
calls each path on a record of each crew and on a missing record. The contract:

- 401 without a token, or with an unknown, revoked or expired one;
- 403 when the role may not use the path (before anything about the record);
- 404 for a missing record, and for another crew's record asked by a crew token (its
  existence is not revealed);
- lists for a crew token hold only its own crew's items; hr never gets incidents.

The SSE stream is only checked for refusals here (its 200 never ends); see
test_api_servers.py.

The whole module shares one demo store per store kind (`demo_api`): every request
here either reads, is refused, or leaves the stories as they were (duplicates,
and a member removed is put back).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import NAMESPACE_URL, uuid5

import pytest
from fastapi.testclient import TestClient

from incidents.demo import (
    CARDIAC_ID,
    COMMENDATION_CREW_ID,
    COMMENDATION_SCENIC_ID,
    DROWNING_ID,
    PATROL_ID,
)
from incidents.tokens import TokenBook
from tests.conftest import TOKEN_ROLES, assert_problem, head_position

MV, SCENIC, MISSING = "mv", "scenic", "missing"
RECORDS = (MV, SCENIC, MISSING)
RECORD_CREW = {MV: "chikan-mv-om", SCENIC: "chikan-scenic"}
TOKEN_KEYS = tuple(TOKEN_ROLES)  # admin, safety, hr, crew, other_crew
TOKEN_CREW = {key: crew for key, (_, crew) in TOKEN_ROLES.items() if crew}

MISSING_UUID = "6f1c3a56-0000-4000-8000-00000000dead"
SCENIC_PATROL_ID = str(uuid5(NAMESPACE_URL, "urn:fieldlog:test:patrol/chikan-scenic"))

ALL = frozenset({"admin", "safety", "hr", "crew"})
OFFICE = frozenset({"safety", "admin"})
FIELD = frozenset({"crew", "safety", "admin"})
PEOPLE_READERS = frozenset({"safety", "hr", "admin"})
ADMIN = frozenset({"admin"})

PERSON = {MV: "zhou-lihui", SCENIC: "cen-xumin", MISSING: "nobody-registered"}
CREW = {MV: "chikan-mv-om", SCENIC: "chikan-scenic", MISSING: "no-such-crew"}
PATROL = {MV: PATROL_ID, SCENIC: SCENIC_PATROL_ID, MISSING: MISSING_UUID}
INCIDENT = {MV: DROWNING_ID, SCENIC: CARDIAC_ID, MISSING: MISSING_UUID}
COMMENDATION = {MV: COMMENDATION_CREW_ID, SCENIC: COMMENDATION_SCENIC_ID, MISSING: MISSING_UUID}
CREW_NAMES = {MV: "赤坎供电所配电网中压运维班", SCENIC: "赤坎华侨古镇景区工作人员"}
CREW_MEMBERS = {
    MV: ["zhou-lihui", "guan-jinkang", "chen-yigao"],
    SCENIC: ["zhou-wang", "cen-xumin"],
}


def contract_role(token_key: str) -> str:
    return TOKEN_ROLES[token_key][0]


@dataclass(frozen=True)
class Route:
    """One row of the contract's HTTP table, as the matrix exercises it."""

    method: str
    template: str
    roles: frozenset[str]
    ids: Callable[[str], dict[str, str]] | None = None  # record -> path parameters
    body: Callable[[str], Any] | None = None  # record -> JSON body
    crew_scoped: bool = False  # another crew's record is 404 to a crew token
    ok: int = 200
    records: tuple[str | None, ...] = (None,)

    def path(self, record: str | None) -> str:
        if self.ids is None:
            return self.template
        assert record is not None
        return self.template.format(**self.ids(record))

    def expected(self, token_key: str, record: str | None) -> int:
        if contract_role(token_key) not in self.roles:
            return 403
        if record == MISSING:
            return 404
        crew = TOKEN_CREW.get(token_key)
        if self.crew_scoped and crew is not None and RECORD_CREW[record or ""] != crew:
            return 404
        return self.ok


def _with_ids(ids: Callable[[str], dict[str, str]], **kw: Any) -> dict[str, Any]:
    return {"ids": ids, "records": RECORDS, **kw}


ROUTES: tuple[Route, ...] = (
    # the registry (admin writes the same data again: 200 duplicate, nothing changes)
    Route(
        "POST",
        "/v1/people",
        ADMIN,
        body=lambda _: {"person_id": "zhou-lihui", "name": "周立辉"},
    ),
    Route("GET", "/v1/people", PEOPLE_READERS),
    Route(
        "GET",
        "/v1/people/{person_id}",
        PEOPLE_READERS,
        **_with_ids(lambda r: {"person_id": PERSON[r]}),
    ),
    Route(
        "GET",
        "/v1/people/{person_id}/timeline",
        PEOPLE_READERS,
        **_with_ids(lambda r: {"person_id": PERSON[r]}),
    ),
    Route(
        "POST",
        "/v1/crews",
        ADMIN,
        body=lambda _: {
            "crew_id": "chikan-mv-om",
            "name": CREW_NAMES[MV],
            "members": CREW_MEMBERS[MV],
        },
    ),
    Route("GET", "/v1/crews", ALL),
    Route(
        "GET",
        "/v1/crews/{crew_id}",
        ALL,
        crew_scoped=True,
        **_with_ids(lambda r: {"crew_id": CREW[r]}),
    ),
    Route(
        "POST",
        "/v1/crews/{crew_id}/members",
        ADMIN,
        body=lambda r: {"person_id": PERSON[MV if r == MISSING else r]},
        **_with_ids(lambda r: {"crew_id": CREW[r]}),
    ),
    Route(
        "DELETE",
        "/v1/crews/{crew_id}/members/{person_id}",
        ADMIN,
        **_with_ids(lambda r: {"crew_id": CREW[r], "person_id": PERSON[MV if r == MISSING else r]}),
    ),
    Route(
        "GET",
        "/v1/crews/{crew_id}/timeline",
        FIELD,
        crew_scoped=True,
        **_with_ids(lambda r: {"crew_id": CREW[r]}),
    ),
    # patrols, incidents, commendations
    Route("GET", "/v1/patrols", FIELD),
    Route(
        "GET",
        "/v1/patrols/{patrol_id}",
        FIELD,
        crew_scoped=True,
        **_with_ids(lambda r: {"patrol_id": PATROL[r]}),
    ),
    Route("GET", "/v1/incidents", FIELD),
    Route(
        "GET",
        "/v1/incidents/{incident_id}",
        FIELD,
        crew_scoped=True,
        **_with_ids(lambda r: {"incident_id": INCIDENT[r]}),
    ),
    Route(
        "GET",
        "/v1/incidents/{incident_id}/events",
        FIELD,
        crew_scoped=True,
        **_with_ids(lambda r: {"incident_id": INCIDENT[r]}),
    ),
    Route(
        "GET",
        "/v1/incidents/{incident_id}/replay",
        OFFICE,
        crew_scoped=True,
        **_with_ids(lambda r: {"incident_id": INCIDENT[r]}),
    ),
    Route("GET", "/v1/commendations", ALL),
    Route(
        "GET",
        "/v1/commendations/{commendation_id}",
        ALL,
        crew_scoped=True,
        **_with_ids(lambda r: {"commendation_id": COMMENDATION[r]}),
    ),
    Route("GET", "/v1/reports/recognition", PEOPLE_READERS),
    Route("GET", "/v1/feed", OFFICE),
    Route("GET", "/v1/integrity", OFFICE),
)
FILING = ("/v1/events", "/v1/sync")
# The SSE stream: refusals only (a 200 streams forever under the in-process client).
FEED_STREAM = Route("GET", "/v1/feed/stream", OFFICE)
UNAUTHENTICATED = ("/healthz", "/metrics")


@pytest.fixture(scope="module")
def api(demo_api: tuple[TestClient, dict[str, dict[str, str]]]) -> Any:
    """The demo store, plus a patrol of the scenic crew (the demo has none)."""
    client, tokens = demo_api
    started = client.post(
        "/v1/events",
        json={
            "event_id": str(uuid5(NAMESPACE_URL, "urn:fieldlog:test:event/scenic-patrol")),
            "type": "PatrolStarted",
            "stream_id": SCENIC_PATROL_ID,
            "occurred_at": "2025-10-19T08:00:00+08:00",
            "crew_id": "chikan-scenic",
            "line": "古镇景区巡查路线",
            "people": ["zhou-wang"],
        },
        headers=tokens["other_crew"],
    )
    assert started.status_code in (200, 201), started.text
    return client, tokens


def _call(client: TestClient, route: Route, path: str, headers: dict[str, str], record: Any) -> Any:
    body = route.body(record) if route.body else None
    return client.request(route.method, path, json=body, headers=headers)


MATRIX = [
    pytest.param(route, key, record, id=f"{key}-{route.method}-{route.template}-{record or 'list'}")
    for route in ROUTES
    for key in TOKEN_KEYS
    for record in route.records
]


@pytest.mark.parametrize(("route", "token_key", "record"), MATRIX)
def test_given_a_role_and_a_record_when_it_calls_a_path_then_the_contract_status_answers(
    api: Any, route: Route, token_key: str, record: str | None
) -> None:
    """Given a token of a role and a record of a crew (or none), when the role calls the
    path, then it answers the contract's status: 403 if the role may not use the path,
    404 for a missing record or another crew's record to a crew token, else success."""
    client, tokens = api
    expected = route.expected(token_key, record)
    path = route.path(record)
    before = head_position(client)

    response = _call(client, route, path, tokens[token_key], record)

    if expected >= 400:
        assert_problem(response, expected)
        assert head_position(client) == before, "a refused request stored something"
        return
    assert response.status_code == expected, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    if route.method == "DELETE":
        # put the member back so the stories stay as they were
        crew_id, person_id = route.ids(record).values()  # type: ignore[misc]
        rejoined = client.post(
            f"/v1/crews/{crew_id}/members", json={"person_id": person_id}, headers=tokens["admin"]
        )
        assert rejoined.status_code == 201, rejoined.text
    elif route.method == "POST":
        assert body["result"] == "duplicate"
        assert head_position(client) == before
    if route.ids is not None and route.method == "GET":
        # the record answered is the one asked for
        assert next(iter(route.ids(record).values())) in response.text  # type: ignore[arg-type]
    if route.template == "/v1/integrity":
        assert set(body) >= {"position", "hash", "signed_at", "public_key", "signature"}
    elif route.ids is None and route.method == "GET" and "/reports/" not in route.template:
        assert set(body) >= {"items", "next_cursor"}


FILING_MATRIX = [
    pytest.param(path, key, record, id=f"{key}-POST-{path}-{record}")
    for path in FILING
    for key in TOKEN_KEYS
    for record in RECORDS
]


def _filing_expectation(token_key: str, record: str) -> int:
    """ObservationRecorded into an incident: hr may not file it (403); a missing incident
    is `invalid` (422); another crew's incident is 404 to a crew token."""
    if contract_role(token_key) == "hr":
        return 403
    if record == MISSING:
        return 422
    crew = TOKEN_CREW.get(token_key)
    if crew is not None and RECORD_CREW[record] != crew:
        return 404
    return 201


@pytest.mark.parametrize(("path", "token_key", "record"), FILING_MATRIX)
def test_given_a_role_when_it_files_an_observation_into_an_incident_then_the_contract_answers(
    api: Any, path: str, token_key: str, record: str
) -> None:
    """Given a role and an incident of a crew (or a never-opened one), when the role files
    an ObservationRecorded there through /v1/events (or as a one-event /v1/sync), then the
    answer is 201 stored for the office and the owning crew, 404 for another crew, 403
    for hr, 422 for a stream that was never opened; /v1/sync answers 200 with the same
    result per event (refusals are `invalid` with a detail)."""
    client, tokens = api
    event = {
        "event_id": str(uuid5(NAMESPACE_URL, f"urn:fieldlog:test:{path}/{token_key}/{record}")),
        "type": "ObservationRecorded",
        "stream_id": INCIDENT[record],
        "occurred_at": "2025-10-21T12:00:00+08:00",
        "description": f"access matrix: {token_key} files into the {record} incident",
    }
    expected = _filing_expectation(token_key, record)
    before = head_position(client)

    if path == "/v1/events":
        response = client.post(path, json=event, headers=tokens[token_key])
        if expected == 201:
            assert response.status_code == 201, response.text
            assert response.json()["result"] == "stored"
            assert head_position(client) == before + 1
        else:
            body = assert_problem(response, expected, event=True)
            assert body["result"] == "invalid"
            assert body["event_id"] == event["event_id"]
            assert head_position(client) == before
        return

    response = client.post(
        path, json={"device_id": "matrix", "events": [event]}, headers=tokens[token_key]
    )
    assert response.status_code == 200, response.text
    [result] = response.json()["results"]
    assert result["event_id"] == event["event_id"]
    if expected == 201:
        assert result["result"] == "stored"
        assert head_position(client) == before + 1
    else:
        assert result["result"] == "invalid"
        assert result["detail"]
        assert head_position(client) == before


@pytest.mark.parametrize(
    "token_key", [k for k in TOKEN_KEYS if contract_role(k) not in FEED_STREAM.roles]
)
def test_given_a_role_outside_the_office_when_it_asks_for_the_feed_stream_then_403(
    api: Any, token_key: str
) -> None:
    """Given a token of hr or a crew, when it opens GET /v1/feed/stream, then it gets 403
    at once (the office's 200 stream is checked against a real server)."""
    client, tokens = api
    assert_problem(client.get(FEED_STREAM.template, headers=tokens[token_key]), 403)


@pytest.mark.parametrize("token_key", [None, *TOKEN_KEYS])
@pytest.mark.parametrize("path", UNAUTHENTICATED)
def test_given_any_caller_when_it_probes_liveness_or_metrics_then_no_token_is_needed(
    api: Any, path: str, token_key: str | None
) -> None:
    """Given any caller, with or without a token, when it asks for /healthz or /metrics,
    then it answers 200 (operations endpoints need no authentication)."""
    client, tokens = api
    response = client.get(path, headers=tokens[token_key] if token_key else {})
    assert response.status_code == 200
    if path == "/metrics":
        assert "fieldlog_log_head_position" in response.text


# --- authentication ------------------------------------------------------------------

ALL_ROUTES = (*ROUTES, FEED_STREAM, *(Route("POST", p, ALL, body=lambda _: {}) for p in FILING))


@pytest.fixture(scope="module")
def bad_credentials(api: Any) -> dict[str, dict[str, str]]:
    """Headers that must all answer 401: none, unknown, wrong scheme, revoked, expired."""
    client, _ = api
    book = TokenBook(client.app.state.fieldlog.store)
    revoked = book.create("admin", name="matrix-revoked")
    book.revoke("matrix-revoked")
    expired = book.create("safety", name="matrix-expired", expires_in=timedelta(seconds=-1))
    return {
        "no-header": {},
        "unknown-token": {"Authorization": "Bearer not-a-token-this-server-issued"},
        "empty-bearer": {"Authorization": "Bearer "},
        "basic-scheme": {"Authorization": "Basic YWRtaW46YWRtaW4="},
        "revoked-token": {"Authorization": f"Bearer {revoked.token}"},
        "expired-token": {"Authorization": f"Bearer {expired.token}"},
    }


CREDENTIALS = (
    "no-header",
    "unknown-token",
    "empty-bearer",
    "basic-scheme",
    "revoked-token",
    "expired-token",
)


@pytest.mark.parametrize("credential", CREDENTIALS)
@pytest.mark.parametrize("route", ALL_ROUTES, ids=[f"{r.method}-{r.template}" for r in ALL_ROUTES])
def test_given_no_valid_token_when_any_api_path_is_called_then_401_and_nothing_stored(
    api: Any, bad_credentials: dict[str, dict[str, str]], route: Route, credential: str
) -> None:
    """Given a request without a live bearer token (none, unknown, another scheme, revoked
    or expired), when it calls any /v1 path, then it answers 401 with a
    `WWW-Authenticate: Bearer` challenge, whatever the record, and stores nothing."""
    client, _ = api
    before = head_position(client)
    record = MV if route.ids else None
    response = _call(client, route, route.path(record), bad_credentials[credential], record)
    assert_problem(response, 401)
    assert response.headers.get("www-authenticate", "").lower().startswith("bearer")
    assert head_position(client) == before


# --- lists hold only the crew's own items -------------------------------------------

LISTS = {
    "/v1/crews": "crew_id",
    "/v1/patrols": "crew_id",
    "/v1/incidents": "crew_id",
    "/v1/commendations": "crew_id",
}


@pytest.mark.parametrize("token_key", ["crew", "other_crew"])
@pytest.mark.parametrize("path", tuple(LISTS))
def test_given_a_crew_token_when_it_lists_then_only_its_own_crews_items_are_listed(
    api: Any, path: str, token_key: str
) -> None:
    """Given a crew token, when it lists crews, patrols, incidents or commendations (also
    asking for the other crew by `crew_id` where the list filters on it), then every item
    is its own crew's and none of the other crew's shows."""
    client, tokens = api
    own = TOKEN_CREW[token_key]
    other = next(c for c in TOKEN_CREW.values() if c != own)

    listed = client.get(path, headers=tokens[token_key])
    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    assert items, f"{own} should see its own {path}"
    assert {item[LISTS[path]] for item in items} == {own}

    asked = client.get(path, params={"crew_id": other}, headers=tokens[token_key])
    assert asked.status_code in (200, 400)
    if asked.status_code == 200:
        assert all(item[LISTS[path]] == own for item in asked.json()["items"])


@pytest.mark.parametrize("token_key", ["admin", "safety"])
@pytest.mark.parametrize("path", tuple(LISTS))
def test_given_the_office_when_it_lists_then_both_crews_items_are_listed(
    api: Any, path: str, token_key: str
) -> None:
    """Given a safety or admin token, when it lists crews, patrols, incidents or
    commendations, then items of both demo crews are there."""
    client, tokens = api
    listed = client.get(path, headers=tokens[token_key])
    assert listed.status_code == 200, listed.text
    assert {item[LISTS[path]] for item in listed.json()["items"]} >= set(RECORD_CREW.values())


def test_given_hr_when_it_lists_commendations_then_it_sees_them_but_no_incident_path(
    api: Any,
) -> None:
    """Given hr, when it lists commendations, then it sees those of both crews, and every
    incident path answers 403 (hr never gets incidents)."""
    client, tokens = api
    listed = client.get("/v1/commendations", headers=tokens["hr"])
    assert listed.status_code == 200
    assert {c["commendation_id"] for c in listed.json()["items"]} >= {
        COMMENDATION_CREW_ID,
        COMMENDATION_SCENIC_ID,
    }
    for path in (
        "/v1/incidents",
        f"/v1/incidents/{DROWNING_ID}",
        f"/v1/incidents/{DROWNING_ID}/events",
        f"/v1/incidents/{DROWNING_ID}/replay",
    ):
        assert_problem(client.get(path, headers=tokens["hr"]), 403)


@pytest.mark.parametrize("token_key", ["crew", "other_crew"])
def test_given_a_crew_token_when_it_reads_its_own_timeline_then_only_its_streams_show(
    api: Any, token_key: str
) -> None:
    """Given a crew token, when it reads its crew's timeline, then every event belongs to
    one of its own patrols or incidents."""
    client, tokens = api
    own = TOKEN_CREW[token_key]
    own_streams = {INCIDENT[r] for r, c in RECORD_CREW.items() if c == own} | {
        PATROL[r] for r, c in RECORD_CREW.items() if c == own
    }
    timeline = client.get(f"/v1/crews/{own}/timeline", headers=tokens[token_key])
    assert timeline.status_code == 200
    items = timeline.json()["items"]
    assert items
    assert {e["stream_id"] for e in items} <= own_streams


@pytest.mark.parametrize(
    "path", ["/v1/incidents/not-a-uuid", "/v1/patrols/x", "/v1/commendations/1"]
)
def test_given_an_id_that_is_not_a_uuid_when_it_is_read_then_404(api: Any, path: str) -> None:
    """Given a path id that is not a UUID, when the office reads it, then it answers 404
    like any unknown record (not a 500 or a validation error)."""
    client, tokens = api
    assert_problem(client.get(path, headers=tokens["admin"]), 404)


def test_given_another_crews_stored_event_when_a_crew_resends_it_then_404_not_duplicate(
    api: Any,
) -> None:
    """Given an event stored in the drowning incident (crew chikan-mv-om), when the scenic
    crew's tablet sends the very same event, then it answers 404 like any other filing
    into another crew's incident — not 200 `duplicate`, which reveals that the incident
    exists and the event's version and position."""
    client, tokens = api
    sighting = client.get(f"/v1/incidents/{DROWNING_ID}/events", headers=tokens["crew"]).json()[
        "items"
    ][1]
    resent = {
        k: sighting[k]
        for k in ("event_id", "type", "stream_id", "occurred_at", "time_certainty", "description")
    }
    response = client.post("/v1/events", json=resent, headers=tokens["other_crew"])
    assert_problem(response, 404, event=True)


@pytest.mark.parametrize(
    "path",
    [
        f"/v1/incidents/{PATROL_ID}",
        f"/v1/incidents/{COMMENDATION_CREW_ID}/events",
        f"/v1/incidents/{PATROL_ID}/replay",
        f"/v1/patrols/{DROWNING_ID}",
        f"/v1/commendations/{DROWNING_ID}",
    ],
)
def test_given_the_id_of_another_kind_of_stream_when_it_is_read_then_404(
    api: Any, path: str
) -> None:
    """Given the id of a patrol, incident or commendation, when the office reads it as
    another kind of record, then it answers 404 (no such incident, patrol or
    commendation) rather than showing the other stream."""
    client, tokens = api
    assert_problem(client.get(path, headers=tokens["admin"]), 404)


NOT_JSON = b'{"person_id": "zhou-lihui", '
REGISTRY_WRITES = ["/v1/people", "/v1/crews", "/v1/crews/chikan-mv-om/members"]


NOT_JSON_CASES = [
    pytest.param("/v1/events", None, 401, id="events-no-token"),
    pytest.param("/v1/sync", None, 401, id="sync-no-token"),
    *(
        pytest.param(path, key, status, id=f"{path}-{key or 'no-token'}")
        for path in REGISTRY_WRITES
        for key, status in ((None, 401), ("crew", 403))
    ),
]


@pytest.mark.parametrize(("path", "token_key", "status"), NOT_JSON_CASES)
def test_given_a_caller_who_may_not_write_when_it_posts_a_body_that_is_not_json_then_refused_first(
    api: Any, path: str, token_key: str | None, status: int
) -> None:
    """Given a request without a token (or with a crew token on an admin-only path) whose
    body is not JSON, when it is posted, then it is refused for who sent it — 401 (403)
    — before anything is said about the body, as /v1/events and /v1/sync do."""
    client, tokens = api
    headers = {"Content-Type": "application/json", **(tokens[token_key] if token_key else {})}
    response = client.post(path, content=NOT_JSON, headers=headers)
    assert_problem(response, status)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/v1/no-such-thing", 404),
        ("GET", "/v1/incidents/x/y/z", 404),
        ("PUT", "/v1/incidents", 405),
        ("DELETE", f"/v1/incidents/{DROWNING_ID}", 405),
        ("PATCH", "/v1/events", 405),
    ],
)
def test_given_a_path_or_method_the_api_lacks_when_called_then_a_problem_document(
    api: Any, method: str, path: str, status: int
) -> None:
    """Given a path the API does not have, or a method a path does not take, when the
    office calls it, then the answer is still an RFC 9457 problem (404 / 405), with no
    stack trace."""
    client, tokens = api
    assert_problem(client.request(method, path, headers=tokens["admin"]), status)

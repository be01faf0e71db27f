"""Reading the log: incidents (lists, filters, paging, state, events, replay), personal
data, crews and people, commendations, timelines and the feed.

Given the demo stories plus two incidents filed here — an electrical incident of the
drowning crew opened just after midnight on 16 October (Asia/Shanghai; still the
15th in UTC), reviewed and then corrected, and a fall at the scenic area on the
morning of 20 October (still the 19th in UTC), filed *first* — the office and the
crews read what the contract promises. Every test here only reads, so the module
shares one store per store kind.

Incidents, newest `opened_at` first: LATE (10-20 07:30, scenic, open), CARDIAC
(10-19 10:32, scenic, open), DROWNING (10-16 15:20, mv, reviewed), EARLY (10-16 00:10,
mv, reviewed, corrected after its review).
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Any
from uuid import NAMESPACE_URL, uuid5
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from incidents.demo import (
    CARDIAC_ID,
    COMMENDATION_CREW_ID,
    COMMENDATION_LONE_ID,
    COMMENDATION_SCENIC_ID,
    DROWNING_ID,
    PATROL_ID,
    demo_id,
)
from tests.conftest import assert_problem, new_event

Tokens = dict[str, dict[str, str]]
SHANGHAI = ZoneInfo("Asia/Shanghai")


def fixed_id(name: str) -> str:
    return str(uuid5(NAMESPACE_URL, f"urn:fieldlog:test:reads/{name}"))


EARLY_ID = fixed_id("incident/early-electrical")
LATE_ID = fixed_id("incident/late-fall")
NEWEST_FIRST = [LATE_ID, CARDIAC_ID, DROWNING_ID, EARLY_ID]
VICTIM_NAME = "潭江落水者（化名）"
VICTIM_PHONE = "+86 000 0000 0000"
INTERVAL_KEYS = {
    "to_first_call_s",
    "to_first_action_s",
    "to_out_of_danger_s",
    "to_handover_s",
    "to_cpr_s",
    "to_first_shock_s",
}
INCIDENT_KEYS = {
    "incident_id",
    "status",
    "kind",
    "title",
    "crew_id",
    "location",
    "version",
    "opened_at",
    "new_since_review",
    "intervals",
    "interval_certainty",
}
STORED_EVENT_KEYS = {
    "event_id",
    "type",
    "stream_id",
    "version",
    "position",
    "occurred_at",
    "time_certainty",
    "recorded_at",
    "recorded_by",
}


def _early_events() -> list[tuple[str, dict[str, Any]]]:
    call = {
        **new_event(
            "EmergencyServicesCalled",
            EARLY_ID,
            "2025-10-16T00:11:00+08:00",
            service="police_110",
            people=["guan-jinkang"],
        ),
        "event_id": fixed_id("event/early/call"),
        "time_certainty": "estimated",
    }
    return [
        (
            "crew",
            {
                **new_event(
                    "IncidentOpened",
                    EARLY_ID,
                    "2025-10-16T00:10:00+08:00",
                    kind="electrical",
                    title="夜间抢修时发现有人触碰断落导线",
                    crew_id="chikan-mv-om",
                    location={"place": "江南路 #7 杆"},
                ),
                "event_id": fixed_id("event/early/opened"),
            },
        ),
        ("crew", call),
        (
            "crew",
            {
                **new_event(
                    "RescueActionTaken",
                    EARLY_ID,
                    "2025-10-16T00:15:00+08:00",
                    action="first_aid",
                    people=["zhou-lihui"],
                ),
                "event_id": fixed_id("event/early/first-aid"),
            },
        ),
        (
            "safety",
            {
                **new_event(
                    "IncidentReviewed",
                    EARLY_ID,
                    "2025-10-17T09:00:00+08:00",
                    findings="断电后施救，处置得当",
                ),
                "event_id": fixed_id("event/early/review"),
            },
        ),
        (
            "crew",
            {
                **new_event(
                    "EntryCorrected",
                    EARLY_ID,
                    "2025-10-18T10:00:00+08:00",
                    corrects_event_id=call["event_id"],
                    changes={
                        "occurred_at": "2025-10-16T00:12:00+08:00",
                        "time_certainty": "measured",
                    },
                    reason="按通话记录更正 110 时间",
                ),
                "event_id": fixed_id("event/early/correct-call"),
            },
        ),
    ]


@pytest.fixture(scope="module")
def api(demo_api: tuple[TestClient, Tokens]) -> tuple[TestClient, Tokens]:
    """The demo plus LATE (filed first) and EARLY, each event filed once."""
    client, tokens = demo_api
    late = {
        **new_event(
            "IncidentOpened",
            LATE_ID,
            "2025-10-20T07:30:00+08:00",
            kind="fall",
            title="清晨游客在骑楼台阶摔倒",
            crew_id="chikan-scenic",
            location={"place": "赤坎古镇骑楼街"},
        ),
        "event_id": fixed_id("event/late/opened"),
    }
    filings = [("other_crew", late), *_early_events()]
    for token_key, event in filings:
        response = client.post("/v1/events", json=event, headers=tokens[token_key])
        assert response.status_code == 201, response.text
    return client, tokens


@pytest.fixture
def client(api: tuple[TestClient, Tokens]) -> TestClient:
    return api[0]


@pytest.fixture
def tokens(api: tuple[TestClient, Tokens]) -> Tokens:
    return api[1]


def get(client: TestClient, path: str, token: dict[str, str], **params: Any) -> Any:
    response = client.get(path, params=params, headers=token)
    assert response.status_code == 200, response.text
    return response.json()


def incident_ids(client: TestClient, tokens: Tokens, **params: Any) -> list[str]:
    body = get(client, "/v1/incidents", tokens["safety"], **params)
    assert body["next_cursor"] is None
    return [i["incident_id"] for i in body["items"]]


def walk(client: TestClient, path: str, token: dict[str, str], limit: int) -> list[Any]:
    """Every item of a collection, page by page; checks the last page's null cursor."""
    items: list[Any] = []
    cursor = None
    for _ in range(10_000):
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        page = get(client, path, token, **params)
        assert len(page["items"]) <= limit
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items
        assert page["items"], "a page with a next_cursor must not be empty"
    raise AssertionError("paging never ended")


# --- the incident list -------------------------------------------------------------


def test_given_four_incidents_when_the_office_lists_them_then_newest_opened_at_comes_first(
    client: TestClient, tokens: Tokens
) -> None:
    """Given four incidents filed in another order than they happened, when the safety
    office lists incidents, then they come newest `opened_at` first, as incidents with
    the contract's keys."""
    body = get(client, "/v1/incidents", tokens["safety"])
    assert [i["incident_id"] for i in body["items"]] == NEWEST_FIRST
    assert body["next_cursor"] is None
    for item in body["items"]:
        assert set(item) >= INCIDENT_KEYS


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        pytest.param({"status": "reviewed"}, [DROWNING_ID, EARLY_ID], id="status-reviewed"),
        pytest.param({"status": "open"}, [LATE_ID, CARDIAC_ID], id="status-open"),
        pytest.param({"crew_id": "chikan-mv-om"}, [DROWNING_ID, EARLY_ID], id="crew-mv"),
        pytest.param({"crew_id": "chikan-scenic"}, [LATE_ID, CARDIAC_ID], id="crew-scenic"),
        pytest.param({"crew_id": "no-such-crew"}, [], id="crew-unknown"),
        pytest.param({"kind": "cardiac_arrest"}, [CARDIAC_ID], id="kind-cardiac"),
        pytest.param({"kind": "electrical"}, [EARLY_ID], id="kind-electrical"),
        pytest.param({"kind": "fire"}, [], id="kind-none"),
        pytest.param({"status": "open", "crew_id": "chikan-mv-om"}, [], id="status-and-crew-none"),
        pytest.param(
            {"status": "reviewed", "kind": "drowning"}, [DROWNING_ID], id="status-and-kind"
        ),
        # dates are calendar days in Asia/Shanghai; a date `to` holds its whole day
        pytest.param(
            {"from": "2025-10-16", "to": "2025-10-16"},
            [DROWNING_ID, EARLY_ID],
            id="one-shanghai-day",
        ),
        pytest.param({"to": "2025-10-15"}, [], id="to-date-before-all"),
        pytest.param(
            {"to": "2025-10-19"}, [CARDIAC_ID, DROWNING_ID, EARLY_ID], id="to-date-inclusive"
        ),
        pytest.param({"from": "2025-10-20"}, [LATE_ID], id="from-date-shanghai"),
        pytest.param({"from": "2025-10-17", "to": "2025-10-19"}, [CARDIAC_ID], id="date-range"),
        # timestamps: `from` inclusive, `to` exclusive, compared as instants
        pytest.param(
            {"from": "2025-10-19T10:32:00+08:00"}, [LATE_ID, CARDIAC_ID], id="from-ts-inclusive"
        ),
        pytest.param(
            {"to": "2025-10-19T10:32:00+08:00"}, [DROWNING_ID, EARLY_ID], id="to-ts-exclusive"
        ),
        pytest.param(
            {"from": "2025-10-16T07:20:00Z", "to": "2025-10-19T02:32:00Z"},
            [DROWNING_ID],
            id="utc-timestamps",
        ),
        pytest.param(
            {"from": "2025-10-15T16:10:00Z", "to": "2025-10-15T16:10:01Z"},
            [EARLY_ID],
            id="one-second-window",
        ),
    ],
)
def test_given_filters_when_the_office_lists_incidents_then_only_matching_ones_in_order(
    client: TestClient, tokens: Tokens, params: dict[str, str], expected: list[str]
) -> None:
    """Given the four incidents, when the office filters the list by status, crew, kind
    or an `opened_at` window (dates read in Asia/Shanghai, a date `to` holding its whole
    day; timestamps with `from` inclusive and `to` exclusive), then exactly the matching
    incidents come back, newest first."""
    assert incident_ids(client, tokens, **params) == expected


@pytest.mark.parametrize(
    ("params", "name"),
    [
        pytest.param({"from": "2025-13-01"}, "from", id="from-not-a-date"),
        pytest.param({"to": "2025-02-30"}, "to", id="to-not-a-date"),
        pytest.param({"from": "yesterday"}, "from", id="from-words"),
        pytest.param({"to": "2025-10-16T15:20:00"}, "to", id="to-without-offset"),
        pytest.param({"status": "closed"}, "status", id="status-unknown"),
        pytest.param({"kind": "flood"}, "kind", id="kind-unknown"),
        pytest.param({"limit": "0"}, "limit", id="limit-0"),
        pytest.param({"limit": "1001"}, "limit", id="limit-1001"),
        pytest.param({"limit": "abc"}, "limit", id="limit-abc"),
        pytest.param({"limit": "-1"}, "limit", id="limit-negative"),
        pytest.param({"limit": "2.5"}, "limit", id="limit-fraction"),
        pytest.param({"cursor": "zzz"}, "cursor", id="cursor-garbage"),
        pytest.param({"cursor": "!!!"}, "cursor", id="cursor-not-base64"),
    ],
)
def test_given_a_bad_query_parameter_when_listing_incidents_then_400_naming_it(
    client: TestClient, tokens: Tokens, params: dict[str, str], name: str
) -> None:
    """Given a bad date, a time without an offset, an unknown status or kind, a limit
    outside 1–1000 or a cursor this server never gave out, when the office lists
    incidents, then it answers 400 with a problem naming the parameter."""
    response = client.get("/v1/incidents", params=params, headers=tokens["safety"])
    assert name in assert_problem(response, 400)["detail"]


@pytest.mark.parametrize("limit", [1, 3, 1000])
def test_given_a_page_size_when_walking_the_incidents_then_every_item_once_in_order(
    client: TestClient, tokens: Tokens, limit: int
) -> None:
    """Given a page size, when the office walks the incident list with `limit` and each
    page's `next_cursor`, then it sees every incident once, in order, and the last page's
    `next_cursor` is null."""
    walked = walk(client, "/v1/incidents", tokens["safety"], limit)
    assert [i["incident_id"] for i in walked] == NEWEST_FIRST


def test_given_limit_one_when_listing_then_each_page_holds_one_and_a_cursor_until_the_last(
    client: TestClient, tokens: Tokens
) -> None:
    """Given limit=1, when the office pages through the four incidents, then pages one to
    three hold one incident and a cursor, and the fourth holds the last with a null
    cursor."""
    cursor = None
    cursors = []
    for expected in NEWEST_FIRST:
        params = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        page = get(client, "/v1/incidents", tokens["safety"], **params)
        assert [i["incident_id"] for i in page["items"]] == [expected]
        cursor = page["next_cursor"]
        cursors.append(cursor)
    assert all(isinstance(c, str) and c for c in cursors[:-1])
    assert cursors[-1] is None


PAGED = [
    pytest.param("/v1/incidents", "crew", id="incidents-crew"),
    pytest.param(f"/v1/incidents/{DROWNING_ID}/events", "crew", id="incident-events"),
    pytest.param("/v1/patrols", "safety", id="patrols"),
    pytest.param("/v1/people", "hr", id="people"),
    pytest.param("/v1/crews", "admin", id="crews"),
    pytest.param("/v1/commendations", "hr", id="commendations"),
    pytest.param("/v1/crews/chikan-mv-om/timeline", "crew", id="crew-timeline"),
    pytest.param("/v1/people/zhou-lihui/timeline", "hr", id="person-timeline"),
    pytest.param("/v1/feed", "admin", id="feed"),
]


@pytest.mark.parametrize(("path", "token_key"), PAGED)
def test_given_any_collection_when_walked_page_by_page_then_it_equals_the_whole(
    client: TestClient, tokens: Tokens, path: str, token_key: str
) -> None:
    """Given a collection, when a reader walks it two items at a time, then the pages put
    together equal the collection read at once (`{items, next_cursor}` everywhere)."""
    whole = get(client, path, tokens[token_key], limit=1000)
    assert set(whole) >= {"items", "next_cursor"}
    assert whole["next_cursor"] is None
    assert whole["items"]
    assert walk(client, path, tokens[token_key], 2) == whole["items"]


# --- one incident ---------------------------------------------------------------


def test_given_the_drowning_when_read_then_its_state_and_standard_intervals_are_there(
    client: TestClient, tokens: Tokens
) -> None:
    """Given the drowning story (opened 15:20 estimated; 110 called 15:21; pole 15:23;
    ashore 15:30; handed over 15:41; reviewed twice), when the office reads it, then it
    has the contract's keys and every interval key (CPR and shock null for a drowning),
    each non-null interval with the worse certainty of its ends."""
    incident = get(client, f"/v1/incidents/{DROWNING_ID}", tokens["safety"])

    assert set(incident) >= INCIDENT_KEYS
    assert incident["incident_id"] == DROWNING_ID
    assert (incident["status"], incident["kind"], incident["crew_id"]) == (
        "reviewed",
        "drowning",
        "chikan-mv-om",
    )
    assert incident["title"] == "潭江江南桥下有人溺水"
    assert incident["location"]["place"] == "潭江江南桥下"
    assert datetime.fromisoformat(incident["opened_at"]) == datetime.fromisoformat(
        "2025-10-16T15:20:00+08:00"
    )
    assert incident["version"] == 16
    assert incident["new_since_review"] == 0
    assert incident["intervals"] == {
        "to_first_call_s": 60,
        "to_first_action_s": 180,
        "to_out_of_danger_s": 600,
        "to_handover_s": 1260,
        "to_cpr_s": None,
        "to_first_shock_s": None,
    }
    assert incident["interval_certainty"] == {
        key: "estimated" for key, value in incident["intervals"].items() if value is not None
    }


def test_given_the_cardiac_arrest_when_read_then_the_utstein_intervals_are_filled(
    client: TestClient, tokens: Tokens
) -> None:
    """Given the cardiac arrest (collapse 10:32; reported 10:32:30; AED fetched 10:33;
    shock and CPR 10:36; ambulance 10:47), when read, then `to_cpr_s` and
    `to_first_shock_s` are 240 s (4 minutes) and the other intervals match."""
    incident = get(client, f"/v1/incidents/{CARDIAC_ID}", tokens["admin"])
    assert incident["intervals"] == {
        "to_first_call_s": 30,
        "to_first_action_s": 60,
        "to_out_of_danger_s": 240,
        "to_handover_s": 900,
        "to_cpr_s": 240,
        "to_first_shock_s": 240,
    }
    assert set(incident["interval_certainty"]) == INTERVAL_KEYS
    assert incident["status"] == "open"


def test_given_a_correction_after_a_review_when_the_incident_is_read_then_it_is_applied(
    client: TestClient, tokens: Tokens
) -> None:
    """Given the electrical incident (opened 00:10 measured) whose 110 call was first
    filed at 00:11 (estimated) and, after the review, corrected to 00:12 (measured),
    when read, then `to_first_call_s` is 120 with certainty `measured`, it is still
    `reviewed`, and `new_since_review` counts the correction."""
    incident = get(client, f"/v1/incidents/{EARLY_ID}", tokens["crew"])
    assert incident["intervals"]["to_first_call_s"] == 120
    assert incident["interval_certainty"]["to_first_call_s"] == "measured"
    assert incident["intervals"]["to_first_action_s"] == 300
    assert incident["intervals"]["to_out_of_danger_s"] is None
    assert set(incident["intervals"]) == INTERVAL_KEYS
    assert (incident["status"], incident["new_since_review"], incident["version"]) == (
        "reviewed",
        1,
        5,
    )


def test_given_an_incident_when_its_events_are_read_then_raw_events_in_version_order(
    client: TestClient, tokens: Tokens
) -> None:
    """Given the drowning incident, when its crew reads its events, then they are the
    stored events (with the envelope keys) in version order 1..16 with increasing
    positions; the corrected 120 call still shows the time first filed and the
    correction is an event of its own."""
    items = get(client, f"/v1/incidents/{DROWNING_ID}/events", tokens["crew"])["items"]

    assert [e["version"] for e in items] == list(range(1, 17))
    positions = [e["position"] for e in items]
    assert positions == sorted(positions)
    for event in items:
        assert set(event) >= STORED_EVENT_KEYS
        assert event["stream_id"] == DROWNING_ID
        assert datetime.fromisoformat(event["recorded_at"]).utcoffset() == timedelta(0)
        assert event["recorded_by"].split(":")[0] in ("crew", "safety", "hr", "admin")
    assert items[0]["type"] == "IncidentOpened"
    call_120 = next(
        e for e in items if e["event_id"] == demo_id("event/incident/tan-river-drowning/call-120")
    )
    assert datetime.fromisoformat(call_120["occurred_at"]) == datetime.fromisoformat(
        "2025-10-16T15:21:00+08:00"
    )
    assert call_120["time_certainty"] == "estimated"
    correction = next(e for e in items if e["type"] == "EntryCorrected")
    assert correction["corrects_event_id"] == call_120["event_id"]
    assert correction["recorded_by"].startswith("crew:")


# --- replay ---------------------------------------------------------------------


def test_given_an_incident_when_the_office_replays_it_then_one_step_per_event_in_version_order(
    client: TestClient, tokens: Tokens
) -> None:
    """Given the drowning incident, when the safety office replays it, then there is one
    step per event in version order, each with the stored event and the incident's state
    after it, and the replay's intervals are those of the last state (and of the
    incident as read)."""
    replay = get(client, f"/v1/incidents/{DROWNING_ID}/replay", tokens["safety"])
    events = get(client, f"/v1/incidents/{DROWNING_ID}/events", tokens["safety"])["items"]
    incident = get(client, f"/v1/incidents/{DROWNING_ID}", tokens["safety"])

    assert replay["incident_id"] == DROWNING_ID
    assert [s["version"] for s in replay["steps"]] == [e["version"] for e in events]
    for step, event in zip(replay["steps"], events, strict=True):
        assert step["event"] == event
        assert set(step["state"]) >= INCIDENT_KEYS
        assert step["state"]["version"] == step["version"]
    assert replay["steps"][0]["state"]["status"] == "open"
    assert replay["steps"][10]["state"]["status"] == "reviewed"  # after the first review
    assert replay["intervals"] == replay["steps"][-1]["state"]["intervals"]
    assert replay["intervals"] == incident["intervals"]
    assert replay["interval_certainty"] == incident["interval_certainty"]


def test_given_known_at_when_replaying_then_only_what_the_office_knew_then(
    client: TestClient, tokens: Tokens
) -> None:
    """Given the electrical incident, when the office replays it `known_at` the moment
    its third event was recorded, then only the events recorded by then are steps, and
    the intervals are those known then: the 110 call at 00:11, estimated (60 s),
    before the correction."""
    events = get(client, f"/v1/incidents/{EARLY_ID}/events", tokens["safety"])["items"]
    known_at = events[2]["recorded_at"]

    replay = get(client, f"/v1/incidents/{EARLY_ID}/replay", tokens["safety"], known_at=known_at)

    cutoff = datetime.fromisoformat(known_at)
    expected = [e["version"] for e in events if datetime.fromisoformat(e["recorded_at"]) <= cutoff]
    assert [s["version"] for s in replay["steps"]] == expected
    assert expected[:3] == [1, 2, 3]
    assert 5 not in expected
    assert replay["intervals"]["to_first_call_s"] == 60
    assert replay["interval_certainty"]["to_first_call_s"] == "estimated"


@pytest.mark.parametrize(
    ("as_of", "versions"),
    [
        # the 120 call, first filed at 15:21, was corrected to 15:22: as corrected, it and
        # its correction had not happened by 15:21:30
        pytest.param("2025-10-16T15:21:30+08:00", [1, 2, 3], id="before-corrected-call"),
        pytest.param("2025-10-16T15:22:00+08:00", [1, 2, 3, 4, 12], id="at-corrected-call"),
        pytest.param("2025-10-16T07:19:59Z", [], id="before-it-began"),
    ],
)
def test_given_as_of_when_replaying_then_steps_are_cut_on_the_corrected_time(
    client: TestClient, tokens: Tokens, as_of: str, versions: list[int]
) -> None:
    """Given the drowning incident, when the office replays it `as_of` a moment, then
    only events that had happened by then — by their time *as corrected* — are steps,
    with a correction kept with the event it corrects."""
    replay = get(client, f"/v1/incidents/{DROWNING_ID}/replay", tokens["admin"], as_of=as_of)
    assert [s["version"] for s in replay["steps"]] == versions


@pytest.mark.parametrize("param", ["as_of", "known_at"])
def test_given_a_bad_time_when_replaying_then_400(
    client: TestClient, tokens: Tokens, param: str
) -> None:
    """Given `as_of` or `known_at` that is not a time, when replaying, then 400 naming it."""
    response = client.get(
        f"/v1/incidents/{DROWNING_ID}/replay", params={param: "soon"}, headers=tokens["safety"]
    )
    assert param in assert_problem(response, 400)["detail"]


# --- personal data --------------------------------------------------------------


def test_given_victim_details_when_the_office_reads_them_then_it_sees_the_personal_data(
    client: TestClient, tokens: Tokens
) -> None:
    """Given the drowning victim's details (VictimDetailsRecorded), when safety or admin
    read the incident's events, its replay or the feed, then the name, age and phone
    are there."""
    for token_key in ("safety", "admin"):
        events = get(client, f"/v1/incidents/{DROWNING_ID}/events", tokens[token_key])["items"]
        victim = next(e for e in events if e["type"] == "VictimDetailsRecorded")
        assert (victim["name"], victim["age"], victim["phone"]) == (VICTIM_NAME, 67, VICTIM_PHONE)
        assert "personal_data" not in victim
        replay = get(client, f"/v1/incidents/{DROWNING_ID}/replay", tokens[token_key])
        assert VICTIM_NAME in str(replay)
        feed = get(client, "/v1/feed", tokens[token_key], limit=1000)
        assert any(e.get("name") == VICTIM_NAME for e in feed["items"])


def test_given_victim_details_when_the_crew_reads_its_incident_then_they_are_withheld(
    client: TestClient, tokens: Tokens
) -> None:
    """Given the drowning victim's details, when the crew that filed them reads the
    incident's events, then that event reads `"personal_data": "withheld"` without name,
    age or phone — and the name appears in none of the crew's reads."""
    events = get(client, f"/v1/incidents/{DROWNING_ID}/events", tokens["crew"])["items"]
    victim = next(e for e in events if e["type"] == "VictimDetailsRecorded")
    assert victim["personal_data"] == "withheld"
    assert not {"name", "age", "phone"} & set(victim)
    assert set(victim) >= STORED_EVENT_KEYS
    for path in (
        "/v1/incidents",
        f"/v1/incidents/{DROWNING_ID}",
        f"/v1/incidents/{DROWNING_ID}/events",
        "/v1/crews/chikan-mv-om/timeline",
        "/v1/commendations",
    ):
        text = client.get(path, headers=tokens["crew"]).text
        assert VICTIM_NAME not in text, path
        assert VICTIM_PHONE not in text, path


def test_given_victim_details_when_hr_reads_what_it_may_then_no_personal_data_shows(
    client: TestClient, tokens: Tokens
) -> None:
    """Given the drowning victim's details, when hr reads people, their timelines,
    commendations and the recognition report (JSON and CSV), then the victim's name and
    phone appear nowhere."""
    paths = [
        "/v1/people",
        "/v1/commendations",
        "/v1/reports/recognition",
        "/v1/reports/recognition?format=csv",
        *(f"/v1/people/{p}/timeline" for p in ("zhou-lihui", "guan-jinkang", "chen-yigao")),
    ]
    for path in paths:
        response = client.get(path, headers=tokens["hr"])
        assert response.status_code == 200, path
        assert VICTIM_NAME not in response.text, path
        assert VICTIM_PHONE not in response.text, path


# --- crews, people, commendations ------------------------------------------------


def test_given_the_demo_crews_when_read_then_each_has_its_members_with_names_and_since(
    client: TestClient, tokens: Tokens
) -> None:
    """Given the two demo crews, when the drowning crew reads its own crew and the office
    reads both, then each reads `{crew_id, name, members: [{person_id, name, since}]}`
    with the registered names."""
    own = get(client, "/v1/crews/chikan-mv-om", tokens["crew"])
    assert {"crew_id", "name", "members"} <= set(own)
    assert (own["crew_id"], own["name"]) == ("chikan-mv-om", "赤坎供电所配电网中压运维班")
    assert {m["person_id"]: m["name"] for m in own["members"]} == {
        "zhou-lihui": "周立辉",
        "guan-jinkang": "关锦康",
        "chen-yigao": "陈奕高",
    }
    for member in own["members"]:
        assert set(member) >= {"person_id", "name", "since"}
        assert datetime.fromisoformat(member["since"]).tzinfo is not None
    crews = get(client, "/v1/crews", tokens["safety"])["items"]
    assert {c["crew_id"]: len(c["members"]) for c in crews} == {
        "chikan-mv-om": 3,
        "chikan-scenic": 2,
    }


def test_given_the_demo_people_when_hr_reads_them_then_names_and_crews(
    client: TestClient, tokens: Tokens
) -> None:
    """Given the five demo people, when hr lists people and reads one, then each has its
    registered name and the one read names its crew."""
    people = get(client, "/v1/people", tokens["hr"])["items"]
    assert {p["person_id"]: p["name"] for p in people} == {
        "zhou-lihui": "周立辉",
        "guan-jinkang": "关锦康",
        "chen-yigao": "陈奕高",
        "zhou-wang": "周旺",
        "cen-xumin": "岑旭敏",
    }
    person = get(client, "/v1/people/cen-xumin", tokens["hr"])
    assert (person["person_id"], person["name"]) == ("cen-xumin", "岑旭敏")
    assert "chikan-scenic" in str(person)


def test_given_the_demo_commendations_when_read_then_status_nominees_citation_award_incident(
    client: TestClient, tokens: Tokens
) -> None:
    """Given the crew's approved commendation, the lone nomination HR rejected and the
    scenic staff's endorsed one, when hr lists and reads them, then each shows its
    status, nominees, citation, award and the incident it rests on."""
    listed = get(client, "/v1/commendations", tokens["hr"])["items"]
    by_id = {c["commendation_id"]: c for c in listed}
    assert {k: by_id[k]["status"] for k in by_id} == {
        COMMENDATION_CREW_ID: "approved",
        COMMENDATION_LONE_ID: "rejected",
        COMMENDATION_SCENIC_ID: "endorsed",
    }
    crew = get(client, f"/v1/commendations/{COMMENDATION_CREW_ID}", tokens["hr"])
    assert crew == by_id[COMMENDATION_CREW_ID]
    assert crew["nominees"] == ["zhou-lihui", "guan-jinkang", "chen-yigao"]
    assert crew["award"] == "见义勇为先进集体（班组嘉奖）"
    assert crew["incident_id"] == DROWNING_ID
    assert "竹竿" in crew["citation"]
    scenic = by_id[COMMENDATION_SCENIC_ID]
    assert (scenic["award"], scenic["incident_id"]) == (None, CARDIAC_ID)
    lone = get(client, f"/v1/commendations/{COMMENDATION_LONE_ID}", tokens["crew"])
    assert (lone["status"], lone["nominees"]) == ("rejected", ["zhou-lihui"])


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("approved", [COMMENDATION_CREW_ID]),
        ("rejected", [COMMENDATION_LONE_ID]),
        ("nominated", []),
    ],
)
def test_given_commendations_when_listed_by_status_then_only_those_a_page_at_a_time(
    client: TestClient, tokens: Tokens, status: str, expected: list[str]
) -> None:
    """Given the demo's approved, rejected and endorsed commendations, when hr lists one
    status a page of one at a time, then the pages hold exactly that status's ones (the
    filter is applied before the page is cut, so no page comes back short or empty)."""
    listed: list[Any] = []
    params: dict[str, Any] = {"status": status, "limit": 1}
    while True:
        page = get(client, "/v1/commendations", tokens["hr"], **params)
        listed.extend(page["items"])
        if page["next_cursor"] is None:
            break
        assert page["items"], "a page with a next_cursor must not be empty"
        params["cursor"] = page["next_cursor"]
    assert [c["commendation_id"] for c in listed] == expected
    assert listed == [get(client, f"/v1/commendations/{c}", tokens["hr"]) for c in expected]


def test_given_a_crew_when_it_lists_commendations_then_those_of_its_incidents(
    client: TestClient, tokens: Tokens
) -> None:
    """Given commendations on both crews' incidents, when each crew lists commendations,
    then it gets exactly those resting on its own incidents."""
    mv = {c["commendation_id"] for c in get(client, "/v1/commendations", tokens["crew"])["items"]}
    scenic = {
        c["commendation_id"]
        for c in get(client, "/v1/commendations", tokens["other_crew"])["items"]
    }
    assert mv == {COMMENDATION_CREW_ID, COMMENDATION_LONE_ID}
    assert scenic == {COMMENDATION_SCENIC_ID}


def test_given_the_demo_patrol_when_read_then_it_holds_its_observations(
    client: TestClient, tokens: Tokens
) -> None:
    """Given the drowning crew's patrol (a vegetation observation, then ended), when the
    crew reads it and lists open patrols, then the patrol shows its observation and is
    not among the open ones."""
    patrol = get(client, f"/v1/patrols/{PATROL_ID}", tokens["crew"])
    assert patrol["crew_id"] == "chikan-mv-om"
    assert patrol["status"] == "ended"
    assert [o["category"] for o in patrol["observations"]] == ["vegetation"]
    open_patrols = get(client, "/v1/patrols", tokens["crew"], status="open")["items"]
    assert PATROL_ID not in {p["patrol_id"] for p in open_patrols}


# --- timelines and feed -----------------------------------------------------------


def _instants(items: list[dict[str, Any]]) -> list[tuple[datetime, int]]:
    return [(datetime.fromisoformat(e["occurred_at"]), e["position"]) for e in items]


def test_given_a_crew_when_its_timeline_is_read_then_events_by_occurred_at_as_stored(
    client: TestClient, tokens: Tokens
) -> None:
    """Given the drowning crew's patrol and two incidents, when its timeline is read,
    then every event of them is there — whoever filed it, the safety office's reviews
    included — ordered by `occurred_at` (ties by position), shown as stored: the
    corrected call keeps its first time and the correction is an event of its own."""
    items = get(client, "/v1/crews/chikan-mv-om/timeline", tokens["crew"], limit=1000)["items"]
    assert _instants(items) == sorted(_instants(items))
    streams = {e["stream_id"] for e in items}
    assert streams == {PATROL_ID, DROWNING_ID, EARLY_ID}
    assert any(e["recorded_by"].startswith("safety:") for e in items)
    call = next(e for e in items if e["event_id"] == fixed_id("event/early/call"))
    assert datetime.fromisoformat(call["occurred_at"]) == datetime.fromisoformat(
        "2025-10-16T00:11:00+08:00"
    )
    assert any(e["type"] == "EntryCorrected" for e in items)


def test_given_a_date_window_when_a_crew_timeline_is_read_then_only_that_shanghai_day(
    client: TestClient, tokens: Tokens
) -> None:
    """Given the drowning crew's timeline, when read `from` and `to` 2025-10-16, then every
    event happened on that day in Asia/Shanghai, the first minutes after midnight
    included (the electrical incident)."""
    items = get(
        client,
        "/v1/crews/chikan-mv-om/timeline",
        tokens["safety"],
        **{"from": "2025-10-16", "to": "2025-10-16"},
    )["items"]
    days = {datetime.fromisoformat(e["occurred_at"]).astimezone(SHANGHAI).date() for e in items}
    assert {str(d) for d in days} == {"2025-10-16"}
    assert fixed_id("event/early/opened") in {e["event_id"] for e in items}
    assert _instants(items) == sorted(_instants(items))


def test_given_a_person_when_their_timeline_is_read_then_events_naming_them_in_order(
    client: TestClient, tokens: Tokens
) -> None:
    """Given 周立辉 (pole, pull ashore, first aid on the electrical incident, two
    nominations), when hr reads his timeline, then every event names him in `people` or
    `nominees`, in `occurred_at` order, nominations included."""
    items = get(client, "/v1/people/zhou-lihui/timeline", tokens["hr"], limit=1000)["items"]
    assert items
    for event in items:
        assert "zhou-lihui" in (event.get("people") or []) + (event.get("nominees") or [])
    assert _instants(items) == sorted(_instants(items))
    assert {"RescueActionTaken", "CommendationNominated"} <= {e["type"] for e in items}
    assert fixed_id("event/early/first-aid") in {e["event_id"] for e in items}


def test_given_a_position_when_the_office_reads_the_feed_after_it_then_the_rest_in_order(
    client: TestClient, tokens: Tokens
) -> None:
    """Given the log, when the office reads the feed after a position, then it gets the
    stored events from the next position on, in global order with no gaps, registry
    events included; after the head it gets nothing; a bad position is 400."""
    whole = get(client, "/v1/feed", tokens["admin"], limit=1000)["items"]
    positions = [e["position"] for e in whole]
    assert positions == list(range(1, len(whole) + 1))
    assert {"PersonRegistered", "CrewRegistered"} <= {e["type"] for e in whole}
    for event in whole:
        assert set(event) >= STORED_EVENT_KEYS

    after = get(client, "/v1/feed", tokens["safety"], after=10, limit=1000)["items"]
    assert after == whole[10:]
    assert get(client, "/v1/feed", tokens["safety"], after=len(whole))["items"] == []
    for bad in ("-1", "abc", "1.5"):
        assert_problem(client.get("/v1/feed", params={"after": bad}, headers=tokens["admin"]), 400)


def test_given_the_recognition_report_when_hr_downloads_csv_then_utf8_bom_and_header(
    client: TestClient, tokens: Tokens
) -> None:
    """Given the demo, when hr downloads the recognition report as CSV, then it is UTF-8
    with a BOM, a header row of the people columns in the contract's order, and one
    row per registered person with the Chinese names intact."""
    response = client.get("/v1/reports/recognition", params={"format": "csv"}, headers=tokens["hr"])
    assert response.status_code == 200
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == [
        "person_id",
        "name",
        "crew_id",
        "rescues",
        "commendations_nominated",
        "commendations_approved",
        "thanks",
    ]
    assert {r[1] for r in rows[1:]} == {"周立辉", "关锦康", "陈奕高", "周旺", "岑旭敏"}


def test_given_a_feed_page_that_holds_the_last_event_when_read_then_its_next_cursor_is_null(
    client: TestClient, tokens: Tokens
) -> None:
    """Given the log's head at position N, when the office reads the feed with
    `limit=N` (one full page holding every event), then `next_cursor` is null, as on
    the last page of every collection."""
    head = client.get("/healthz").json()["head_position"]
    page = get(client, "/v1/feed", tokens["admin"], limit=head)
    assert len(page["items"]) == head
    assert page["next_cursor"] is None


def test_given_the_server_when_metrics_are_scraped_then_head_and_projection_lag_are_there(
    client: TestClient, tokens: Tokens
) -> None:
    """Given the log, when Prometheus scrapes /metrics (no token), then it reads the log's
    head position (as /healthz reports it) and, for each projection, its position and
    lag, as Prometheus text."""
    import re

    get(client, "/v1/incidents", tokens["safety"])  # lets the projections catch up
    head = client.get("/healthz").json()["head_position"]
    text = client.get("/metrics").text

    assert re.search(rf"^fieldlog_log_head_position {head}$", text, re.MULTILINE)
    gauge = r'^fieldlog_projection_{}\{{projection="(\w+)"\}} (\d+)$'
    positions = dict(re.findall(gauge.format("position"), text, re.MULTILINE))
    lags = dict(re.findall(gauge.format("lag"), text, re.MULTILINE))
    assert positions
    assert set(positions) == set(lags)
    for name, position in positions.items():
        assert int(position) + int(lags[name]) >= head

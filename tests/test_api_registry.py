"""The registry over HTTP: the admin registers people and crews, members join and leave.

Given the demo registry, the admin registers new people and crews (each test its own
ids, so the module shares one store per store kind): the same data again answers 200
`duplicate`, other data 409, an unregistered member 422; a member joins and leaves
from now on; registry facts are events of the same log and feed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from tests.conftest import assert_problem, head_position

Tokens = dict[str, dict[str, str]]


@pytest.fixture
def client(demo_api: tuple[TestClient, Tokens]) -> TestClient:
    return demo_api[0]


@pytest.fixture
def tokens(demo_api: tuple[TestClient, Tokens]) -> Tokens:
    return demo_api[1]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid4().hex[:8]}"


def register_person(client: TestClient, tokens: Tokens, person_id: str, name: str) -> Any:
    return client.post(
        "/v1/people", json={"person_id": person_id, "name": name}, headers=tokens["admin"]
    )


def register_crew(
    client: TestClient, tokens: Tokens, crew_id: str, name: str, members: list[str]
) -> Any:
    return client.post(
        "/v1/crews",
        json={"crew_id": crew_id, "name": name, "members": members},
        headers=tokens["admin"],
    )


def test_given_a_new_person_when_registered_then_201_and_again_200_duplicate_and_other_name_409(
    client: TestClient, tokens: Tokens
) -> None:
    """Given a person not yet registered, when the admin registers them, then 201 and
    they read back with their name; registering the same again answers 200 `duplicate`
    storing nothing; registering the id with another name answers 409 and the name
    stays."""
    person_id = unique("li-ming")

    first = register_person(client, tokens, person_id, "黎明")
    assert first.status_code == 201, first.text
    assert first.json()["result"] == "stored"
    head = head_position(client)

    again = register_person(client, tokens, person_id, "黎明")
    assert again.status_code == 200, again.text
    assert again.json()["result"] == "duplicate"
    assert head_position(client) == head

    other = register_person(client, tokens, person_id, "黎明明")
    assert_problem(other, 409)
    assert head_position(client) == head

    person = client.get(f"/v1/people/{person_id}", headers=tokens["hr"]).json()
    assert (person["person_id"], person["name"]) == (person_id, "黎明")
    listed = client.get("/v1/people", params={"limit": 1000}, headers=tokens["safety"]).json()
    assert person_id in {p["person_id"] for p in listed["items"]}


def test_given_new_people_when_a_crew_is_registered_with_them_then_it_reads_with_members(
    client: TestClient, tokens: Tokens
) -> None:
    """Given two newly registered people, when the admin registers a crew with them, then
    201 and the crew reads `{crew_id, name, members: [{person_id, name, since}]}`; the
    same crew again is 200 `duplicate`; another name or other members is 409."""
    a, b = unique("wu-fang"), unique("he-jun")
    register_person(client, tokens, a, "吴芳")
    register_person(client, tokens, b, "何军")
    crew_id = unique("kaiping-lv")

    created = register_crew(client, tokens, crew_id, "开平低压运维班", [a, b])

    assert created.status_code == 201, created.text
    crew = client.get(f"/v1/crews/{crew_id}", headers=tokens["safety"]).json()
    assert (crew["crew_id"], crew["name"]) == (crew_id, "开平低压运维班")
    assert {m["person_id"]: m["name"] for m in crew["members"]} == {a: "吴芳", b: "何军"}
    for member in crew["members"]:
        assert datetime.fromisoformat(member["since"]).tzinfo is not None
    head = head_position(client)
    again = register_crew(client, tokens, crew_id, "开平低压运维班", [a, b])
    assert again.status_code == 200, again.text
    assert again.json()["result"] == "duplicate"
    assert_problem(register_crew(client, tokens, crew_id, "另一个名字", [a, b]), 409)
    assert_problem(register_crew(client, tokens, crew_id, "开平低压运维班", [a]), 409)
    assert head_position(client) == head


def test_given_an_unregistered_member_when_a_crew_is_registered_then_422_and_nothing_stored(
    client: TestClient, tokens: Tokens
) -> None:
    """Given a person id nobody registered, when the admin registers a crew listing them,
    then it answers 422 naming `members`, and neither the crew nor anything else is
    stored."""
    crew_id = unique("ghost-crew")
    head = head_position(client)

    response = register_crew(client, tokens, crew_id, "幽灵班组", ["zhou-lihui", "nobody-at-all"])

    assert "members" in assert_problem(response, 422)["detail"]
    assert head_position(client) == head
    assert_problem(client.get(f"/v1/crews/{crew_id}", headers=tokens["admin"]), 404)


def test_given_a_crew_when_a_member_joins_and_leaves_then_the_crew_reads_so_from_then_on(
    client: TestClient, tokens: Tokens
) -> None:
    """Given a new crew of one, when 周立辉 (already in chikan-mv-om) joins it, then 201 and
    he is a member of both crews (a person may belong to several); joining again is 200;
    when he leaves, then 200 and he is no longer listed; leaving again is 404."""
    founder = unique("ou-yang")
    register_person(client, tokens, founder, "欧阳")
    crew_id = unique("joint-crew")
    assert register_crew(client, tokens, crew_id, "联合抢修组", [founder]).status_code == 201
    members_path = f"/v1/crews/{crew_id}/members"

    joined = client.post(members_path, json={"person_id": "zhou-lihui"}, headers=tokens["admin"])

    assert joined.status_code == 201, joined.text
    crew = client.get(f"/v1/crews/{crew_id}", headers=tokens["admin"]).json()
    assert [m["person_id"] for m in crew["members"]] == [founder, "zhou-lihui"]
    person = client.get("/v1/people/zhou-lihui", headers=tokens["hr"]).json()
    assert {"chikan-mv-om", crew_id} <= set(person["crews"])
    again = client.post(members_path, json={"person_id": "zhou-lihui"}, headers=tokens["admin"])
    assert again.status_code == 200, again.text
    assert again.json()["result"] == "duplicate"

    left = client.delete(f"{members_path}/zhou-lihui", headers=tokens["admin"])

    assert left.status_code == 200, left.text
    crew = client.get(f"/v1/crews/{crew_id}", headers=tokens["admin"]).json()
    assert [m["person_id"] for m in crew["members"]] == [founder]
    assert_problem(client.delete(f"{members_path}/zhou-lihui", headers=tokens["admin"]), 404)
    own = client.get("/v1/crews/chikan-mv-om", headers=tokens["crew"]).json()
    assert "zhou-lihui" in {m["person_id"] for m in own["members"]}


def test_given_a_crew_when_an_unregistered_person_joins_or_a_missing_crew_is_named_then_refused(
    client: TestClient, tokens: Tokens
) -> None:
    """Given the demo crew, when the admin adds an unregistered person, then 422; when it
    adds someone to a crew that does not exist, then 404; nothing is stored."""
    head = head_position(client)
    unregistered = client.post(
        "/v1/crews/chikan-mv-om/members",
        json={"person_id": "nobody-at-all"},
        headers=tokens["admin"],
    )
    assert "person_id" in assert_problem(unregistered, 422)["detail"]
    missing = client.post(
        "/v1/crews/no-such-crew/members", json={"person_id": "zhou-lihui"}, headers=tokens["admin"]
    )
    assert_problem(missing, 404)
    assert head_position(client) == head


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        pytest.param("/v1/people", {"person_id": "x-1"}, "name", id="person-without-name"),
        pytest.param("/v1/people", {"name": "某人"}, "person_id", id="person-without-id"),
        pytest.param(
            "/v1/people", {"person_id": "x 1", "name": "某人"}, "person_id", id="id-with-space"
        ),
        pytest.param(
            "/v1/people", {"person_id": "x/1", "name": "某人"}, "person_id", id="id-with-slash"
        ),
        pytest.param("/v1/people", {"person_id": "x-1", "name": "   "}, "name", id="blank-name"),
        pytest.param(
            "/v1/people",
            {"person_id": "x-1", "name": "某人", "phone": "1"},
            "phone",
            id="unknown-field",
        ),
        pytest.param(
            "/v1/crews", {"crew_id": "c-1", "name": "班组"}, "members", id="crew-without-members"
        ),
        pytest.param("/v1/crews/chikan-mv-om/members", {}, "person_id", id="member-without-person"),
    ],
)
def test_given_a_registry_body_breaking_a_rule_when_sent_then_422_naming_the_field(
    client: TestClient, tokens: Tokens, path: str, body: dict[str, Any], field: str
) -> None:
    """Given a registry request with a field missing, blank, malformed or unknown, when
    the admin sends it, then it answers 422 with a problem naming the field, storing
    nothing."""
    head = head_position(client)
    response = client.post(path, json=body, headers=tokens["admin"])
    assert field in assert_problem(response, 422)["detail"]
    assert head_position(client) == head


def test_given_a_registry_body_that_is_not_json_when_sent_then_400(
    client: TestClient, tokens: Tokens
) -> None:
    """Given a body that is not JSON, when the admin posts it to /v1/people, then 400."""
    response = client.post(
        "/v1/people",
        content=b'{"person_id": ',
        headers={**tokens["admin"], "Content-Type": "application/json"},
    )
    assert_problem(response, 400)


def test_given_registry_changes_when_the_office_reads_the_feed_then_they_are_events_there(
    client: TestClient, tokens: Tokens
) -> None:
    """Given a person registered, a crew registered with them, and the person leaving,
    when the office reads the feed after the head it saw before, then it finds
    PersonRegistered, CrewRegistered and MemberLeftCrew, on streams named by the person
    and crew ids, recorded by the admin token."""
    head = head_position(client)
    person_id = unique("tan-hui")
    crew_id = unique("feed-crew")
    register_person(client, tokens, person_id, "谭慧")
    register_crew(client, tokens, crew_id, "汛期巡查组", [person_id])
    client.delete(f"/v1/crews/{crew_id}/members/{person_id}", headers=tokens["admin"])

    items = client.get("/v1/feed", params={"after": head}, headers=tokens["safety"]).json()["items"]

    assert [(e["type"], e["stream_id"]) for e in items] == [
        ("PersonRegistered", person_id),
        ("CrewRegistered", crew_id),
        ("MemberLeftCrew", crew_id),
    ]
    assert {e["recorded_by"] for e in items} == {"admin:test-admin"}
    assert [e["position"] for e in items] == [head + 1, head + 2, head + 3]


def test_given_a_crew_and_a_person_with_no_events_when_their_timelines_are_read_then_empty(
    client: TestClient, tokens: Tokens
) -> None:
    """Given a crew and a person just registered (nothing filed for them yet), when their
    timelines are read, then each is an empty page; an unknown crew or person is 404,
    and a window that holds none of a busy crew's events is an empty page too."""
    person_id, crew_id = unique("lin-jing"), unique("quiet-water")
    assert register_person(client, tokens, person_id, "林静").status_code == 201
    assert register_crew(client, tokens, crew_id, "静水巡线班", [person_id]).status_code == 201
    empty = {"items": [], "next_cursor": None}
    for path in (f"/v1/crews/{crew_id}/timeline", f"/v1/people/{person_id}/timeline"):
        response = client.get(path, headers=tokens["safety"])
        assert (response.status_code, response.json()) == (200, empty)
    for path in ("/v1/crews/no-such-crew/timeline", "/v1/people/no-such-person/timeline"):
        assert_problem(client.get(path, headers=tokens["safety"]), 404)
    quiet_day = {"from": "2001-01-01", "to": "2001-01-01"}
    response = client.get(
        "/v1/crews/chikan-mv-om/timeline", params=quiet_day, headers=tokens["safety"]
    )
    assert (response.status_code, response.json()) == (200, empty)

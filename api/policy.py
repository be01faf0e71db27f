"""The contract's role table for every path, in one place; anything unlisted is denied."""

from __future__ import annotations

from incidents.roles import Role

ALL: frozenset[Role] = frozenset({"crew", "safety", "hr", "admin"})
OFFICE: frozenset[Role] = frozenset({"safety", "admin"})
FIELD: frozenset[Role] = frozenset({"crew", "safety", "admin"})
PEOPLE_READERS: frozenset[Role] = frozenset({"safety", "hr", "admin"})
ADMIN: frozenset[Role] = frozenset({"admin"})

POLICY: dict[tuple[str, str], frozenset[Role]] = {
    ("GET", "/v1/whoami"): ALL,
    ("POST", "/v1/people"): ADMIN,
    ("GET", "/v1/people"): PEOPLE_READERS,
    ("GET", "/v1/people/{person_id}"): PEOPLE_READERS,
    ("GET", "/v1/people/{person_id}/timeline"): PEOPLE_READERS,
    ("POST", "/v1/crews"): ADMIN,
    ("GET", "/v1/crews"): ALL,
    ("GET", "/v1/crews/{crew_id}"): ALL,
    ("POST", "/v1/crews/{crew_id}/members"): ADMIN,
    ("DELETE", "/v1/crews/{crew_id}/members/{person_id}"): ADMIN,
    ("GET", "/v1/crews/{crew_id}/timeline"): FIELD,
    ("POST", "/v1/events"): ALL,
    ("POST", "/v1/sync"): ALL,
    ("GET", "/v1/patrols"): FIELD,
    ("GET", "/v1/patrols/{patrol_id}"): FIELD,
    ("GET", "/v1/incidents"): FIELD,
    ("GET", "/v1/incidents/{incident_id}"): FIELD,
    ("GET", "/v1/incidents/{incident_id}/events"): FIELD,
    ("GET", "/v1/incidents/{incident_id}/replay"): OFFICE,
    ("GET", "/v1/commendations"): ALL,
    ("GET", "/v1/commendations/{commendation_id}"): ALL,
    ("GET", "/v1/reports/recognition"): PEOPLE_READERS,
    ("GET", "/v1/feed"): OFFICE,
    ("GET", "/v1/feed/stream"): OFFICE,
    ("GET", "/v1/integrity"): OFFICE,
}


def allowed_roles(method: str, path_template: str) -> frozenset[Role]:
    return POLICY.get((method.upper(), path_template), frozenset())

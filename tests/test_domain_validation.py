"""Field rules of the published language: typos never become immutable facts.

Each refused event answers `invalid` with a detail that names the field, and
stores nothing. (SQLite only: see the `db_url` fixture below.)
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from incidents.application import FieldLog
from incidents.roles import Actor
from tests.scenario import (
    CHIKAN,
    HR,
    SAFETY,
    Drowning,
    given,
    head,
    register_seed,
    without,
)


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """Field rules are checked before the store is read or written, the same on every
    store: these run on SQLite only, to keep the suite fast."""
    return f"sqlite:///{tmp_path}/fieldlog.sqlite"


@pytest.fixture
def story(app: FieldLog) -> Drowning:
    """A patrol, an incident and a commendation of the 潭江 rescue, all open."""
    register_seed(app)
    opened = Drowning()
    given(app, opened.patrol_started(), opened.incident_opened(), opened.nominated())
    return opened


def refused(app: FieldLog, raw: object, actor: Actor = CHIKAN) -> str:
    """File an event that must be refused as invalid; answer its detail."""
    before = head(app)
    outcome = app.submit(raw, actor)
    assert outcome.result == "invalid", outcome
    assert head(app) == before
    return outcome.detail or ""


# --- enumerations -------------------------------------------------------------

Builder = Callable[[Drowning], dict[str, Any]]
ENUMS: list[tuple[Builder, str, Actor]] = [
    (Drowning.line_observation, "category", CHIKAN),
    (Drowning.line_observation, "severity", CHIKAN),
    (Drowning.police_called, "service", CHIKAN),
    (Drowning.reached_with_pole, "action", CHIKAN),
    (Drowning.outcome, "outcome", CHIKAN),
    (Drowning.sighting, "time_certainty", CHIKAN),
]


@pytest.mark.parametrize(("build", "field", "actor"), ENUMS, ids=[f for _, f, _ in ENUMS])
@pytest.mark.parametrize("bad", ["Drowning", "溺水", ""])
def test_enumerated_fields_take_only_their_published_values(
    app: FieldLog, story: Drowning, build: Builder, field: str, actor: Actor, bad: str
) -> None:
    detail = refused(app, build(story) | {field: bad}, actor)

    assert f"`{field}`" in detail
    assert "must be one of" in detail


def test_the_incident_kind_is_enumerated(app: FieldLog) -> None:
    register_seed(app)
    fresh = Drowning()

    detail = refused(app, fresh.incident_opened(kind="flood"))

    assert "`kind`" in detail


@pytest.mark.parametrize(
    "kind",
    ["drowning", "cardiac_arrest", "fall", "electrical", "fire", "traffic", "other"],
)
def test_every_published_incident_kind_is_accepted(app: FieldLog, kind: str) -> None:
    register_seed(app)

    outcome = app.submit(Drowning().incident_opened(kind=kind), CHIKAN)

    assert outcome.result == "stored"


# --- unknown and server-owned fields -------------------------------------------


@pytest.mark.parametrize("typo", ["servcie", "peopel", "Description", "notes"])
def test_a_field_not_defined_for_the_type_is_invalid(
    app: FieldLog, story: Drowning, typo: str
) -> None:
    detail = refused(app, story.police_called() | {typo: "x"})

    assert f"`{typo}`" in detail
    assert "not a field" in detail


def test_a_field_of_another_event_type_is_invalid(app: FieldLog, story: Drowning) -> None:
    detail = refused(app, story.sighting() | {"people": ["zhou-lihui"]})

    assert "`people`" in detail


@pytest.mark.parametrize("field", ["version", "position", "recorded_at", "recorded_by"])
def test_server_owned_fields_may_not_be_sent(app: FieldLog, story: Drowning, field: str) -> None:
    value = "crew:chikan-tablet" if field == "recorded_by" else 7
    detail = refused(app, story.sighting() | {field: value})

    assert f"`{field}`" in detail
    assert "server" in detail


@pytest.mark.parametrize(
    "kind",
    ["PersonalDataErased", "PersonRegistered", "CrewRegistered", "MemberJoinedCrew"],
)
def test_event_types_the_server_records_cannot_be_filed(
    app: FieldLog, story: Drowning, kind: str
) -> None:
    detail = refused(app, story.sighting() | {"type": kind}, SAFETY)

    assert "server" in detail


@pytest.mark.parametrize("kind", ["IncidentClosed", "observationrecorded", None, 3])
def test_an_unknown_type_is_invalid(app: FieldLog, story: Drowning, kind: object) -> None:
    detail = refused(app, story.sighting() | {"type": kind})

    assert "`type`" in detail


@pytest.mark.parametrize("raw", [[], "IncidentOpened", None, 42])
def test_an_event_must_be_a_json_object(app: FieldLog, raw: object) -> None:
    outcome = app.submit(raw, CHIKAN)

    assert outcome.result == "invalid"
    assert (outcome.event_id, outcome.stream_id) == (None, None)


# --- envelope -------------------------------------------------------------------


@pytest.mark.parametrize("field", ["event_id", "stream_id", "occurred_at"])
def test_the_envelope_is_required(app: FieldLog, story: Drowning, field: str) -> None:
    detail = refused(app, without(story.sighting(), field))

    assert f"`{field}`" in detail
    assert "required" in detail


@pytest.mark.parametrize("field", ["event_id", "stream_id"])
@pytest.mark.parametrize("bad", ["incident-1", "", "12345678-1234-1234-1234-12345678901"])
def test_ids_are_uuids(app: FieldLog, story: Drowning, field: str, bad: str) -> None:
    detail = refused(app, story.sighting() | {field: bad})

    assert field in detail
    assert "UUID" in detail


@pytest.mark.parametrize(
    "when",
    ["2025-10-16T15:20:00", "2025-10-16", "16/10/2025 15:20", "", None],
    ids=["no_offset", "date_only", "local_format", "empty", "null"],
)
def test_occurred_at_is_rfc3339_with_an_offset(
    app: FieldLog, story: Drowning, when: object
) -> None:
    detail = refused(app, story.sighting() | {"occurred_at": when})

    assert "`occurred_at`" in detail


@pytest.mark.parametrize(
    "when", [1760599200, 1760599200.5, "1760599200"], ids=["int", "float", "numeric_string"]
)
def test_occurred_at_is_not_a_unix_timestamp(app: FieldLog, story: Drowning, when: object) -> None:
    detail = refused(app, story.sighting() | {"occurred_at": when})

    assert "`occurred_at`" in detail


@pytest.mark.parametrize("version", [-1, "two", 1.5])
def test_expected_version_is_a_whole_number_from_zero(
    app: FieldLog, story: Drowning, version: object
) -> None:
    detail = refused(app, story.sighting() | {"expected_version": version})

    assert "`expected_version`" in detail


def test_the_refusal_echoes_the_ids_it_could_read(app: FieldLog, story: Drowning) -> None:
    raw = story.police_called(service="police")

    outcome = app.submit(raw, CHIKAN)

    assert (outcome.event_id, outcome.stream_id) == (raw["event_id"], raw["stream_id"])


# --- payload rules --------------------------------------------------------------

REQUIRED: list[tuple[Builder, str, Actor]] = [
    (Drowning.patrol_started, "line", CHIKAN),
    (Drowning.patrol_started, "people", CHIKAN),
    (Drowning.line_observation, "description", CHIKAN),
    (Drowning.incident_opened, "title", CHIKAN),
    (Drowning.incident_opened, "location", CHIKAN),
    (Drowning.incident_opened, "crew_id", SAFETY),
    (Drowning.police_called, "people", CHIKAN),
    (Drowning.handed_over, "to", CHIKAN),
    (Drowning.victim_details, "name", CHIKAN),
    (Drowning.thanks, "from", CHIKAN),
    (Drowning.reviewed, "findings", SAFETY),
    (Drowning.reopened, "reason", SAFETY),
    (Drowning.nominated, "nominees", CHIKAN),
    (Drowning.nominated, "citation", CHIKAN),
    (Drowning.approved, "award", HR),
    (Drowning.rejected, "reason", HR),
]


@pytest.mark.parametrize(
    ("build", "field", "actor"),
    REQUIRED,
    ids=[f"{b.__name__}.{f}" for b, f, _ in REQUIRED],
)
def test_required_payload_fields(
    app: FieldLog, story: Drowning, build: Builder, field: str, actor: Actor
) -> None:
    raw = without(build(story), field)

    detail = refused(app, raw, actor)

    assert f"`{field}`" in detail


def test_a_location_needs_coordinates_or_a_place(app: FieldLog, story: Drowning) -> None:
    detail = refused(app, Drowning().incident_opened(location={}))

    assert "location" in detail


@pytest.mark.parametrize(
    "location",
    [{"lat": 91, "lon": 112.57}, {"lat": 22.37, "lon": 181}, {"place": "江南桥", "alt": 3}],
    ids=["lat_out_of_range", "lon_out_of_range", "unknown_key"],
)
def test_a_location_is_lat_lon_place(
    app: FieldLog, story: Drowning, location: dict[str, Any]
) -> None:
    detail = refused(app, Drowning().incident_opened(location=location))

    assert "location" in detail


@pytest.mark.parametrize(
    "location",
    [{"lat": 22.3781, "lon": 112.5702}, {"place": "江南桥下"}, {"lat": 22.3781}],
    ids=["coordinates", "place", "latitude_only"],
)
def test_each_part_of_a_location_is_optional(
    app: FieldLog, story: Drowning, location: dict[str, Any]
) -> None:
    outcome = app.submit(Drowning().incident_opened(location=location), CHIKAN)

    assert outcome.result == "stored"


@pytest.mark.parametrize("title", ["", "   ", "长" * 201])
def test_titles_are_short_non_empty_text(app: FieldLog, story: Drowning, title: str) -> None:
    detail = refused(app, Drowning().incident_opened(title=title))

    assert "`title`" in detail


def test_descriptions_are_at_most_4000_characters(app: FieldLog, story: Drowning) -> None:
    detail = refused(app, story.sighting(description="水" * 4001))

    assert "4000" in detail


def test_a_commendation_names_at_least_one_nominee(app: FieldLog, story: Drowning) -> None:
    detail = refused(app, Drowning(incident_id=story.incident_id).nominated(nominees=[]))

    assert "`nominees`" in detail


@pytest.mark.parametrize("age", [-1, 151, "sixty"])
def test_victim_age_is_plausible(app: FieldLog, story: Drowning, age: object) -> None:
    detail = refused(app, story.victim_details(age=age))

    assert "`age`" in detail


def test_victim_phone_is_a_phone_number(app: FieldLog, story: Drowning) -> None:
    detail = refused(app, story.victim_details(phone="call his son"))

    assert "`phone`" in detail


def test_people_may_be_empty_when_only_outsiders_acted(app: FieldLog, story: Drowning) -> None:
    boatmen = story.reached_with_pole(people=[], description="途经的船民用竹竿施救")

    outcome = app.submit(boatmen, CHIKAN)

    assert outcome.result == "stored"


def test_optional_fields_may_be_left_out(app: FieldLog, story: Drowning) -> None:
    bare = [
        without(story.line_observation(), "location"),
        without(story.patrol_ended(), "summary"),
        without(story.police_called(), "description"),
        without(story.helpers_joined(), "people"),
        without(story.outcome(), "detail"),
        without(story.victim_details(), "age", "phone"),
        without(story.thanks(), "via", "message"),
    ]

    outcomes = [app.submit(raw, CHIKAN) for raw in bare]

    assert [o.result for o in outcomes] == ["stored"] * len(bare)

"""The demo data: the two stories of the seed page, loaded through the service, twice."""

from __future__ import annotations

from uuid import UUID

import pytest

from incidents.application import FieldLog
from incidents.commendation import Commendation
from incidents.demo import (
    CARDIAC_ID,
    COMMENDATION_CREW_ID,
    COMMENDATION_LONE_ID,
    COMMENDATION_SCENIC_ID,
    DEMO_CREWS,
    DEMO_PEOPLE,
    DROWNING_ID,
    PATROL_ID,
    demo_events,
    example_for,
    load_demo,
)
from incidents.incident import Incident
from incidents.patrol import Patrol
from incidents.submissions import MODELS, parse_submission


def test_loading_the_demo_stores_every_event_of_both_stories(app: FieldLog) -> None:
    summary = load_demo(app)

    assert summary.stored == len(demo_events())
    assert summary.duplicate == 0
    assert summary.registry_stored == len(DEMO_PEOPLE) + len(DEMO_CREWS)
    for person in DEMO_PEOPLE:
        registered = app.get_person(person.person_id)
        assert registered is not None
        assert registered.name == person.name
    for crew in DEMO_CREWS:
        registered_crew = app.get_crew(crew.crew_id)
        assert registered_crew is not None
        assert sorted(registered_crew.members) == sorted(crew.members)
    assert set(summary.incident_ids) == {DROWNING_ID, CARDIAC_ID}
    assert set(summary.crew_ids) == {"chikan-mv-om", "chikan-scenic"}


def test_after_loading_the_stories_stand_where_the_demo_pages_need_them(app: FieldLog) -> None:
    load_demo(app)

    patrol = app.get_stream(UUID(PATROL_ID), Patrol)
    assert patrol is not None
    assert patrol.ended
    drowning = app.get_stream(UUID(DROWNING_ID), Incident)
    cardiac = app.get_stream(UUID(CARDIAC_ID), Incident)
    assert drowning is not None
    assert cardiac is not None
    assert (drowning.crew_id, drowning.status) == ("chikan-mv-om", "reviewed")
    assert (cardiac.crew_id, cardiac.status) == ("chikan-scenic", "open")

    statuses = {}
    for commendation_id in (COMMENDATION_CREW_ID, COMMENDATION_LONE_ID, COMMENDATION_SCENIC_ID):
        commendation = app.get_stream(UUID(commendation_id), Commendation)
        assert commendation is not None
        statuses[commendation_id] = commendation.status
    assert statuses == {
        COMMENDATION_CREW_ID: "approved",
        COMMENDATION_LONE_ID: "rejected",
        COMMENDATION_SCENIC_ID: "endorsed",  # pending: for HR to decide on the HR page
    }


def test_loading_the_demo_again_stores_nothing(app: FieldLog) -> None:
    load_demo(app)
    head = app.recorder.max_notification_id()

    again = load_demo(app)

    assert again.stored == 0
    assert again.duplicate == len(demo_events())
    assert again.registry_stored == 0
    assert again.registry_duplicate == len(DEMO_PEOPLE) + len(DEMO_CREWS)
    assert app.recorder.max_notification_id() == head


def test_demo_ids_are_fixed_and_unique() -> None:
    first, second = demo_events(), demo_events()

    assert first == second
    event_ids = [event["event_id"] for _, event in first]
    assert len(set(event_ids)) == len(event_ids)
    for _, event in first:
        assert UUID(event["event_id"]).version == 5
        assert UUID(event["stream_id"]).version == 5


def test_every_demo_event_is_valid_wire_format_in_china_time() -> None:
    for actor, event in demo_events():
        filed = parse_submission(event)
        assert event["occurred_at"].endswith("+08:00")
        actor.check_may_file(filed.type)
        if actor.is_crew:
            assert actor.crew_id in {crew.crew_id for crew in DEMO_CREWS}


def test_every_event_type_has_a_valid_example() -> None:
    for event_type in MODELS:
        example = example_for(event_type)

        assert example["type"] == event_type
        assert parse_submission(example).type == event_type


def test_an_example_is_a_copy_and_unknown_types_have_none() -> None:
    example_for("IncidentOpened")["title"] = "changed"

    assert example_for("IncidentOpened")["title"] != "changed"
    with pytest.raises(KeyError):
        example_for("NoSuchEvent")

"""Stored events are public schema: an incident opened before `patrol_id` existed
(IncidentOpened v1) still loads, reads `patrol_id` as null and takes new facts.

Given a v1 `IncidentOpened` written straight into the store, as an older release
wrote it → when the incident is loaded → then the upcaster has added `patrol_id`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from incidents.application import FieldLog
from incidents.incident import Incident, IncidentOpened
from tests.scenario import (
    CHIKAN,
    SAFETY,
    UNDER_JIANGNAN_BRIDGE,
    Drowning,
    register_seed,
    stream_types,
)

CST = timezone(timedelta(hours=8))


def write_v1_opening(app: FieldLog, story: Drowning) -> str:
    """Write IncidentOpened as release 1 stored it: no `patrol_id`, no `class_version`."""
    event_id = "0b6f0a8e-1c53-4a53-9a52-2a1f0c0e1016"
    state: dict[str, Any] = {
        "timestamp": datetime(2025, 10, 16, 7, 35, 12, 250000, tzinfo=UTC),
        "originator_topic": get_topic(Incident),
        "event_id": event_id,
        "occurred_at": datetime(2025, 10, 16, 15, 20, tzinfo=CST),
        "time_certainty": "measured",
        "recorded_by": CHIKAN.recorded_by,
        "kind": "drowning",
        "title": "潭江江南桥下有人溺水呼救",
        "crew_id": "chikan-mv",
        "location": UNDER_JIANGNAN_BRIDGE,
    }
    app.recorder.insert_events(
        [
            StoredEvent(
                originator_id=UUID(story.incident_id),
                originator_version=1,
                topic=get_topic(IncidentOpened),
                state=app.mapper.transcoder.encode(state),
            )
        ]
    )
    return event_id


@pytest.fixture
def story(app: FieldLog) -> Drowning:
    register_seed(app)
    return Drowning()


def test_a_v1_opening_loads_with_patrol_id_null(app: FieldLog, story: Drowning) -> None:
    event_id = write_v1_opening(app, story)

    [(opened, position)] = app.get_facts(UUID(story.incident_id))

    assert isinstance(opened, IncidentOpened)
    assert opened.patrol_id is None
    assert opened.payload() == {
        "kind": "drowning",
        "title": "潭江江南桥下有人溺水呼救",
        "crew_id": "chikan-mv",
        "location": UNDER_JIANGNAN_BRIDGE,
        "patrol_id": None,
    }
    assert opened.event_id == event_id
    assert opened.occurred_at == datetime(2025, 10, 16, 15, 20, tzinfo=CST)
    assert opened.occurred_at.utcoffset() == timedelta(hours=8)
    assert position == app.recorder.max_notification_id()


def test_a_v1_incident_takes_new_facts_and_corrections(app: FieldLog, story: Drowning) -> None:
    event_id = write_v1_opening(app, story)
    opening = {"event_id": event_id}

    outcomes = [
        app.submit(story.police_called(expected_version=1), CHIKAN),
        app.submit(story.correction(opening, {"title": "潭江江南桥下溺水救援"}), CHIKAN),
        app.submit(story.reviewed(), SAFETY),
    ]

    assert [(o.result, o.version) for o in outcomes] == [
        ("stored", 2),
        ("stored", 3),
        ("stored", 4),
    ]
    incident = app.get_stream(UUID(story.incident_id), Incident)
    assert incident is not None
    assert (incident.crew_id, incident.status) == ("chikan-mv", "reviewed")
    assert incident.entries[event_id].content["patrol_id"] is None
    assert incident.entries[event_id].content["title"] == "潭江江南桥下溺水救援"


def test_a_v1_incident_can_be_linked_to_its_patrol_by_a_correction(
    app: FieldLog, story: Drowning
) -> None:
    event_id = write_v1_opening(app, story)
    assert app.submit(story.patrol_started(), CHIKAN).result == "stored"

    outcome = app.submit(
        story.correction({"event_id": event_id}, {"patrol_id": story.patrol_id}), CHIKAN
    )

    assert outcome.result == "stored"
    assert stream_types(app, story.incident_id) == ["IncidentOpened", "EntryCorrected"]


def test_new_openings_are_stored_as_v2(app: FieldLog, story: Drowning) -> None:
    assert app.submit(story.incident_opened(patrol_id=None), CHIKAN).result == "stored"

    [stored] = app.recorder.select_events(UUID(story.incident_id))
    state = app.mapper.transcoder.decode(stored.state)

    assert stored.topic == get_topic(IncidentOpened)
    assert state["class_version"] == 2
    assert "patrol_id" in state

"""The crew and person timelines.

Given patrol, incident and commendation events (some synced late, some at the same
instant, some corrected) → when projected → then a timeline holds every event of the
crew's patrols and incidents (or every event naming the person), as stored, ordered by
`occurred_at` with ties by `position`, within [`from`, `to`): a date `to` includes its
whole day in Asia/Shanghai, a timestamp `to` is excluded. Corrections are events of
their own. Run against every read-model implementation on both stores.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import pytest

from incidents.application import FieldLog
from tests.scenario import (
    ADMIN,
    CHEN,
    CHIKAN,
    CHIKAN_MV,
    GUAN,
    HR,
    OTHER_CREW,
    SAFETY,
    SCENIC,
    ZHOU,
    Collapse,
    Drowning,
    given,
    register_seed,
)
from tests.test_projections_support import IMPLEMENTATIONS, Reader, make_reader, window


@pytest.fixture(params=IMPLEMENTATIONS)
def reader(request: pytest.FixtureRequest, app: FieldLog) -> Reader:
    register_seed(app)
    return make_reader(app, request.param)


def event_ids(events: list[dict[str, Any]]) -> list[str]:
    return [e["event_id"] for e in events]


def test_the_crew_timeline_orders_by_occurred_at_then_position(
    app: FieldLog, reader: Reader
) -> None:
    """The tablet syncs the line observation and the 120 call late; an observation made
    at the very instant of the 110 call (sent with a UTC offset) is filed after it."""
    d = Drowning()
    c = Collapse()
    started, opened, sighting = d.patrol_started(), d.incident_opened(), d.sighting()
    police, pole = d.police_called(), d.reached_with_pole()
    observation, ambulance = d.line_observation(), d.ambulance_called()
    same_instant = d.sighting(description="船民划船靠近", occurred_at="2025-10-16T07:21:00Z")
    review = d.reviewed()
    given(app, started, opened, sighting, police, pole, observation, ambulance, same_instant)
    given(app, review, actor=SAFETY)  # whoever filed it
    given(app, c.patrol_started(), c.incident_opened(), c.aed_shock(), actor=OTHER_CREW)
    given(app, d.nominated())  # a commendation is not a crew-timeline event

    timeline = reader().crew_timeline(CHIKAN_MV, window(), SAFETY)

    expected = [started, observation, opened, sighting, police, same_instant, ambulance, pole]
    assert event_ids(timeline) == event_ids([*expected, review])
    positions = [e["position"] for e in timeline]
    assert positions[4] < positions[5]  # the tie, by position
    assert timeline[-1]["recorded_by"] == "safety:test-safety"
    assert {e["stream_id"] for e in timeline} == {d.patrol_id, d.incident_id}
    for event in timeline:
        assert {"event_id", "type", "version", "position", "occurred_at", "recorded_at"} <= set(
            event
        )


def test_the_crew_timeline_as_the_crew_reads_it(app: FieldLog, reader: Reader) -> None:
    d = Drowning()
    c = Collapse()
    given(app, d.incident_opened(), d.police_called())
    given(app, c.incident_opened(), actor=OTHER_CREW)

    model = reader()

    assert [e["type"] for e in model.crew_timeline(CHIKAN_MV, window(), CHIKAN)] == [
        "IncidentOpened",
        "EmergencyServicesCalled",
    ]
    assert [e["stream_id"] for e in model.crew_timeline(SCENIC, window(), OTHER_CREW)] == [
        c.incident_id
    ]


INSTANTS = {
    "late on the 15th": "2025-10-15T23:59:59+08:00",
    "midnight, in UTC": "2025-10-15T16:00:00Z",
    "noon": "2025-10-16T12:00:00+08:00",
    "last microsecond": "2025-10-16T23:59:59.999999+08:00",
    "next midnight, in UTC": "2025-10-16T16:00:00Z",
    "next midnight": "2025-10-17T00:00:00+08:00",
}
WINDOWS = [
    (("2025-10-16", "2025-10-16"), ["midnight, in UTC", "noon", "last microsecond"]),
    (
        ("2025-10-16", None),
        ["midnight, in UTC", "noon", "last microsecond", "next midnight, in UTC", "next midnight"],
    ),
    ((None, "2025-10-15"), ["late on the 15th"]),
    (("2025-10-16", "2025-10-16T12:00:00+08:00"), ["midnight, in UTC"]),
    (("2025-10-16T04:00:00Z", "2025-10-17T00:00:00+08:00"), ["noon", "last microsecond"]),
    (("2025-10-17", "2025-10-17"), ["next midnight, in UTC", "next midnight"]),
    (("2025-10-18", None), []),
]


def test_timeline_windows(app: FieldLog, reader: Reader) -> None:
    """Events around the day of the rescue, each naming 关锦康: `from` is inclusive, a
    date `to` takes in its whole day in Asia/Shanghai, a timestamp `to` is excluded."""
    d = Drowning()
    given(app, d.incident_opened(occurred_at=INSTANTS["late on the 15th"]))
    filed = {"late on the 15th": None}
    for name, instant in INSTANTS.items():
        if name == "late on the 15th":
            continue
        raw = d.helpers_joined(occurred_at=instant, description=name, people=[GUAN])
        given(app, raw)
        filed[name] = raw
    model = reader()

    for (start, end), expected in WINDOWS:
        span = window(start, end)
        crew = [
            e.get("description", "late on the 15th")
            for e in model.crew_timeline(CHIKAN_MV, span, SAFETY)
        ]
        person = [e["description"] for e in model.person_timeline(GUAN, span, HR)]
        assert crew == expected, (start, end)
        assert person == [n for n in expected if n != "late on the 15th"], (start, end)


def test_corrections_appear_as_events_of_their_own(app: FieldLog, reader: Reader) -> None:
    """The 120 call was first logged at 15:21:20; the crew lead corrects it to 15:22 and
    drops 陈奕高 from the helpers. The timeline shows both entries as stored, and each
    correction where it happened (18:00)."""
    d = Drowning()
    ambulance, helpers = d.ambulance_called(), d.helpers_joined()
    given(app, d.incident_opened(), ambulance, d.reached_with_pole(), helpers)
    fix_time = d.correction(ambulance, {"occurred_at": "2025-10-16T15:22:00+08:00"})
    fix_people = d.correction(helpers, {"people": [GUAN]}, occurred_at="2025-10-16T18:05:00+08:00")
    given(app, fix_time, fix_people)

    model = reader()

    timeline = model.crew_timeline(CHIKAN_MV, window(), SAFETY)
    assert [e["type"] for e in timeline] == [
        "IncidentOpened",
        "EmergencyServicesCalled",
        "RescueActionTaken",
        "HelperJoined",
        "EntryCorrected",
        "EntryCorrected",
    ]
    assert timeline[1]["occurred_at"] == "2025-10-16T15:21:20+08:00"  # as stored
    assert timeline[4]["corrects_event_id"] == ambulance["event_id"]
    assert timeline[4]["changes"] == {"occurred_at": "2025-10-16T15:22:00+08:00"}
    assert timeline[5]["corrects_event_id"] == helpers["event_id"]
    evening = model.crew_timeline(CHIKAN_MV, window("2025-10-16T18:00:00+08:00", None), SAFETY)
    assert event_ids(evening) == event_ids([fix_time, fix_people])
    # 陈奕高's timeline keeps the HelperJoined as it was stored, naming him.
    chen = model.person_timeline(CHEN, window(), HR)
    assert event_ids(chen) == event_ids([ambulance, helpers])
    assert chen[1]["people"] == [GUAN, CHEN]


def test_the_person_timeline_holds_every_event_naming_them(app: FieldLog, reader: Reader) -> None:
    d = Drowning()
    c = Collapse()
    started, police, pole = d.patrol_started(), d.police_called(), d.reached_with_pole()
    helpers, ashore, nominated = d.helpers_joined(), d.pulled_ashore(), d.nominated()
    given(app, started, d.incident_opened(), d.sighting(), police, d.ambulance_called())
    given(app, pole, helpers, ashore, d.handed_over(), d.thanks())
    given(app, c.incident_opened(), c.aed_shock(), actor=OTHER_CREW)
    given(app, nominated, d.endorsed(), actor=SAFETY)

    model = reader()

    guan = model.person_timeline(GUAN, window(), HR)
    assert event_ids(guan) == event_ids([started, police, helpers, ashore, nominated])
    zhou = model.person_timeline(ZHOU, window(), SAFETY)
    assert event_ids(zhou) == event_ids([started, pole, ashore, nominated])
    late = model.person_timeline(ZHOU, window("2025-10-17", None), HR)
    assert event_ids(late) == event_ids([nominated])
    assert model.person_timeline("nobody", window(), HR) == []


def test_victim_details_in_the_crew_timeline_are_shown_to_the_office_only(
    app: FieldLog, reader: Reader
) -> None:
    d = Drowning()
    given(app, d.incident_opened(), d.victim_details())

    model = reader()

    office = model.crew_timeline(CHIKAN_MV, window(), SAFETY)[-1]
    crew = model.crew_timeline(CHIKAN_MV, window(), CHIKAN)[-1]
    assert office["name"] == "落水老人（姓名待家属确认）"
    assert office["age"] == 68
    assert crew["personal_data"] == "withheld"
    assert "name" not in crew
    assert "phone" not in crew


def test_erased_victim_details_read_erased_in_the_crew_timeline_for_everyone(
    app: FieldLog, reader: Reader
) -> None:
    d = Drowning()
    given(app, d.incident_opened(), d.victim_details())
    reader()  # the views have seen the details before the erasure
    assert app.erase_personal_data(UUID(d.incident_id), ADMIN).result == "stored"

    model = reader()

    for actor in (SAFETY, CHIKAN):
        details = [
            e
            for e in model.crew_timeline(CHIKAN_MV, window(), actor)
            if e["type"] == "VictimDetailsRecorded"
        ]
        assert len(details) == 1
        assert details[0]["personal_data"] == "erased", actor.role
        assert "name" not in details[0]


def test_a_timeline_reads_in_instants_not_text(app: FieldLog, reader: Reader) -> None:
    """Offsets differ between tablets: 15:30+08:00 is after 07:20Z (15:20+08:00)."""
    d = Drowning()
    late = d.sighting(occurred_at="2025-10-16T15:30:00+08:00")
    early = d.police_called(occurred_at="2025-10-16T07:20:30Z")
    given(app, d.incident_opened(), late, early)

    timeline = reader().crew_timeline(CHIKAN_MV, window(), SAFETY)

    assert event_ids(timeline)[1:] == event_ids([early, late])
    stamps = [datetime.fromisoformat(e["occurred_at"]) for e in timeline]
    assert stamps == sorted(stamps)

"""Every event type is read back exactly as it was filed, on both stores.

Given the whole seed story filed, every published event type once → when it is read
back with `get_facts` → then its type, payload, `occurred_at` (instant *and* the
tablet's offset), certainty, ids, version, position and `recorded_by` are those filed.
The stored events are encoded with the orjson transcoder: see test_store_transcoding.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from incidents.application import FieldLog
from incidents.facts import AnyFact
from incidents.outcome import Outcome
from incidents.roles import Actor
from tests.scenario import (
    ADMIN,
    CHEN,
    CHIKAN,
    CHIKAN_MV,
    GUAN,
    HR,
    SAFETY,
    ZHOU,
    Drowning,
    head,
    new_id,
    payload_of,
    register_seed,
    without,
)


@dataclass
class Filed:
    raw: dict[str, Any]
    actor: Actor
    outcome: Outcome


def the_whole_story(story: Drowning) -> list[tuple[dict[str, Any], Actor]]:
    """Every published event type once, in the order the story happened, with
    tablet clocks on +08:00, on UTC, with fractions of a second and every certainty."""
    call = story.police_called()
    second = Drowning(incident_id=story.incident_id, commendation_id=new_id())
    return [
        (story.patrol_started(), CHIKAN),
        (story.line_observation(), CHIKAN),
        (story.incident_opened(patrol_id=story.patrol_id), CHIKAN),
        (story.sighting(occurred_at="2025-10-16T15:20:30.125+08:00"), CHIKAN),
        (call, CHIKAN),
        (story.reached_with_pole(), CHIKAN),
        (story.helpers_joined(time_certainty="estimated"), CHIKAN),
        (story.pulled_ashore(), CHIKAN),
        (story.handed_over(), CHIKAN),
        (story.outcome(), CHIKAN),
        (story.victim_details(), CHIKAN),
        (
            story.correction(
                call,
                {
                    "occurred_at": "2025-10-16T15:20:50+08:00",
                    "time_certainty": "estimated",
                    "people": [GUAN, CHEN],
                },
            ),
            CHIKAN,
        ),
        (story.patrol_ended(), CHIKAN),
        (story.reviewed(occurred_at="2025-10-20T01:30:00Z"), SAFETY),
        (story.thanks(time_certainty="unknown"), CHIKAN),
        (story.reopened(occurred_at="2025-10-28T03:00:00+00:00"), SAFETY),
        (story.nominated(), CHIKAN),
        (story.endorsed(), SAFETY),
        (story.approved(), HR),
        (second.nominated(nominees=[ZHOU]), CHIKAN),
        (second.rejected(), HR),
    ]


@pytest.fixture
def filed(app: FieldLog) -> dict[str, Filed]:
    register_seed(app)
    story = Drowning()
    by_type: dict[str, Filed] = {}
    for raw, actor in the_whole_story(story):
        outcome = app.submit(raw, actor)
        assert outcome.result == "stored", (raw["type"], outcome)
        by_type.setdefault(raw["type"], Filed(raw, actor, outcome))
    return by_type


def read_back(app: FieldLog, raw: dict[str, Any]) -> tuple[AnyFact, int]:
    facts = app.get_facts(UUID(raw["stream_id"]))
    [found] = [(f, p) for f, p in facts if f.event_id == raw["event_id"]]
    return found


EVERY_TYPE = [raw["type"] for raw, _ in the_whole_story(Drowning())]
EVERY_TYPE = sorted(set(EVERY_TYPE), key=EVERY_TYPE.index)


def test_the_story_holds_every_published_event_type() -> None:
    assert len(EVERY_TYPE) == 19


@pytest.mark.parametrize("kind", EVERY_TYPE)
def test_an_event_reads_back_as_it_was_filed(
    app: FieldLog, filed: dict[str, Filed], kind: str
) -> None:
    raw, actor, outcome = filed[kind].raw, filed[kind].actor, filed[kind].outcome
    sent_at = datetime.fromisoformat(raw["occurred_at"])

    fact, position = read_back(app, raw)

    assert type(fact).__name__ == kind
    assert fact.payload() == payload_of(raw)
    assert fact.event_id == raw["event_id"]
    assert fact.originator_id == UUID(raw["stream_id"])
    assert (fact.originator_version, position) == (outcome.version, outcome.position)
    assert fact.time_certainty == raw.get("time_certainty", "measured")
    assert fact.recorded_by == actor.recorded_by
    # occurred_at keeps the instant and the tablet's offset
    assert fact.occurred_at == sent_at
    assert fact.occurred_at.utcoffset() == sent_at.utcoffset()
    assert fact.occurred_at.isoformat() == sent_at.isoformat()


def test_recorded_at_is_the_servers_utc_clock(app: FieldLog, filed: dict[str, Filed]) -> None:
    fact, _ = read_back(app, filed["IncidentOpened"].raw)

    assert fact.timestamp.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - fact.timestamp) < timedelta(minutes=1)


def test_positions_are_the_global_order_of_storing(app: FieldLog, filed: dict[str, Filed]) -> None:
    story_positions = sorted(f.outcome.position or 0 for f in filed.values())
    seen = [read_back(app, f.raw)[1] for f in filed.values()]

    assert sorted(seen) == story_positions
    assert len(set(seen)) == len(seen)
    assert max(seen) == head(app)


def test_left_out_optional_fields_read_back_as_null(app: FieldLog) -> None:
    register_seed(app)
    story = Drowning()
    bare = [
        story.incident_opened(),
        without(story.police_called(), "description", "time_certainty"),
        without(story.helpers_joined(), "people"),
        without(story.victim_details(), "age", "phone"),
        without(story.thanks(), "via", "message"),
    ]
    for raw in bare:
        assert app.submit(raw, CHIKAN).result == "stored"

    facts = [fact for fact, _ in app.get_facts(UUID(story.incident_id))]

    assert facts[0].payload()["patrol_id"] is None
    assert facts[1].payload()["description"] is None
    assert facts[1].time_certainty == "measured"
    assert facts[2].payload()["people"] is None
    assert (facts[3].payload()["age"], facts[3].payload()["phone"]) == (None, None)
    assert (facts[4].payload()["via"], facts[4].payload()["message"]) == (None, None)


def test_a_location_without_some_parts_reads_back_without_them(app: FieldLog) -> None:
    register_seed(app)
    story = Drowning()
    raw = story.incident_opened(location={"place": "江南桥下", "lat": None})
    assert app.submit(raw, CHIKAN).result == "stored"

    [(fact, _)] = app.get_facts(UUID(story.incident_id))

    assert fact.payload()["location"] == {"place": "江南桥下"}


def test_text_is_stored_as_filed_trimmed_of_surrounding_blanks(app: FieldLog) -> None:
    register_seed(app)
    story = Drowning()
    raw = story.incident_opened(title="  潭江溺水 🚨 «江南桥» \t")
    assert app.submit(raw, CHIKAN).result == "stored"

    [(fact, _)] = app.get_facts(UUID(story.incident_id))

    assert fact.payload()["title"] == "潭江溺水 🚨 «江南桥»"


def test_registry_events_read_back_as_registered(app: FieldLog) -> None:
    register_seed(app)
    app.join_crew("scenic-staff", ZHOU, ADMIN)
    app.leave_crew(CHIKAN_MV, CHEN, ADMIN)
    crew = app.get_crew(CHIKAN_MV)
    person = app.get_person(ZHOU)
    assert crew is not None
    assert person is not None

    crew_facts = [fact for fact, _ in app.get_facts(crew.id)]
    [(registered, _)] = app.get_facts(person.id)

    assert [type(f).__name__ for f in crew_facts] == ["CrewRegistered", "MemberLeftCrew"]
    assert crew_facts[0].payload() == {
        "crew_id": CHIKAN_MV,
        "name": "赤坎供电所配电网中压运维班",
        "members": [ZHOU, GUAN, CHEN],
    }
    assert crew_facts[1].payload() == {"crew_id": CHIKAN_MV, "person_id": CHEN}
    assert registered.payload() == {"person_id": ZHOU, "name": "周立辉"}
    assert registered.recorded_by == ADMIN.recorded_by
    assert registered.occurred_at.utcoffset() is not None


def test_a_days_backlog_in_queues_of_500_is_stored_with_every_position(app: FieldLog) -> None:
    """Given a tablet's backlog of 3,000 events (patrols, observations, rescues), when it
    is filed as six queues of 500, then each event is stored once, at the position its
    answer gives, in capture order. (On PostgreSQL a queue's statements are pipelined: an
    answer read before the pipeline was synced once handed back another statement's.)"""
    import itertools

    from bench.bulk import BulkWriter
    from bench.workload import make_registry, tablet_queue

    registry = make_registry(1)
    BulkWriter(app).register(registry)
    crew = registry.crews[0]
    raws = [p.raw for p in itertools.islice(tablet_queue(crew, seed=7), 3000)]
    outcomes = []
    for start in range(0, len(raws), 500):
        outcomes += app.submit_many(raws[start : start + 500], crew.tablet)

    assert [o.result for o in outcomes] == ["stored"] * len(raws)
    positions = [o.position for o in outcomes]
    assert positions == sorted(positions)
    stored = {n.id: n for n in app.recorder.select_notifications(positions[0], 3000)}
    for raw, outcome in zip(raws, outcomes, strict=True):
        assert outcome.position is not None
        assert b'"event_id":"' + raw["event_id"].encode() in stored[outcome.position].state

"""Stream lifecycles: how patrols, incidents and commendations begin, move and end.

Each test: given these stored events → when one more is filed → then its result,
and what the stream holds afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

import pytest

from incidents.application import FieldLog
from incidents.commendation import Commendation
from incidents.incident import Incident
from incidents.patrol import Patrol
from incidents.roles import Actor
from tests.scenario import (
    CHIKAN,
    HR,
    SAFETY,
    Drowning,
    given,
    head,
    register_seed,
    stream_types,
)


@pytest.fixture
def story(app: FieldLog) -> Drowning:
    register_seed(app)
    return Drowning()


# --- a stream starts only with its opening event ------------------------------

NOT_OPENINGS: list[tuple[Callable[[Drowning], dict[str, Any]], Actor]] = [
    (Drowning.line_observation, CHIKAN),
    (Drowning.patrol_ended, CHIKAN),
    (Drowning.sighting, CHIKAN),
    (Drowning.police_called, CHIKAN),
    (Drowning.thanks, CHIKAN),
    (Drowning.victim_details, CHIKAN),
    (Drowning.reviewed, SAFETY),
    (Drowning.endorsed, SAFETY),
    (Drowning.approved, HR),
    (Drowning.rejected, HR),
]


@pytest.mark.parametrize(
    ("build", "actor"), NOT_OPENINGS, ids=[b.__name__ for b, _ in NOT_OPENINGS]
)
def test_an_event_on_a_stream_that_was_never_opened_is_invalid(
    app: FieldLog, story: Drowning, build: Callable[[Drowning], dict[str, Any]], actor: Actor
) -> None:
    before = head(app)

    outcome = app.submit(build(story), actor)

    assert outcome.result == "invalid"
    assert "stream_id" in (outcome.detail or "")
    assert head(app) == before


def test_a_correction_on_an_incident_that_was_never_opened_is_invalid(
    app: FieldLog, story: Drowning
) -> None:
    phantom = story.sighting()

    outcome = app.submit(story.correction(phantom, {"description": "x"}), CHIKAN)

    assert outcome.result == "invalid"


def test_an_incident_event_on_a_patrol_stream_is_invalid(app: FieldLog, story: Drowning) -> None:
    given(app, story.patrol_started())
    on_the_patrol = story.sighting(stream_id=story.patrol_id)

    outcome = app.submit(on_the_patrol, CHIKAN)

    assert outcome.result == "invalid"
    assert stream_types(app, story.patrol_id) == ["PatrolStarted"]


def test_a_patrol_event_on_an_incident_stream_is_invalid(app: FieldLog, story: Drowning) -> None:
    given(app, story.incident_opened())

    outcome = app.submit(story.line_observation(stream_id=story.incident_id), CHIKAN)

    assert outcome.result == "invalid"
    assert stream_types(app, story.incident_id) == ["IncidentOpened"]


OPENINGS = ["patrol_started", "incident_opened", "nominated"]


@pytest.mark.parametrize("opening", OPENINGS)
def test_opening_a_stream_that_exists_is_a_conflict_naming_its_version(
    app: FieldLog, story: Drowning, opening: str
) -> None:
    given(app, story.patrol_started(), story.line_observation())
    given(app, story.incident_opened(), story.sighting(), story.police_called())
    given(app, story.nominated())
    versions = {"patrol_started": 2, "incident_opened": 3, "nominated": 1}
    before = head(app)

    again = getattr(story, opening)()  # same stream id, a new event id
    outcome = app.submit(again, CHIKAN)

    assert outcome.result == "conflict"
    assert outcome.current_version == versions[opening]
    assert "already exists" in (outcome.detail or "")
    assert head(app) == before


def test_opening_an_incident_under_a_patrols_stream_id_is_a_conflict(
    app: FieldLog, story: Drowning
) -> None:
    given(app, story.patrol_started())

    outcome = app.submit(story.incident_opened(stream_id=story.patrol_id), CHIKAN)

    assert outcome.result == "conflict"
    assert outcome.current_version == 1


def test_an_opening_may_say_the_stream_must_not_exist_yet(app: FieldLog, story: Drowning) -> None:
    outcome = app.submit(story.incident_opened(expected_version=0), CHIKAN)

    assert (outcome.result, outcome.version) == ("stored", 1)


def test_an_opening_expecting_an_existing_version_is_a_conflict(
    app: FieldLog, story: Drowning
) -> None:
    outcome = app.submit(story.incident_opened(expected_version=2), CHIKAN)

    assert outcome.result == "conflict"
    assert outcome.current_version == 0
    assert "expected_version" in (outcome.detail or "")
    assert app.get_stream(UUID(story.incident_id), Incident) is None


def test_an_event_expecting_the_current_version_is_stored(app: FieldLog, story: Drowning) -> None:
    given(app, story.incident_opened(), story.sighting())

    outcome = app.submit(story.police_called(expected_version=2), CHIKAN)

    assert (outcome.result, outcome.version) == ("stored", 3)


@pytest.mark.parametrize("stale", [0, 1, 3])
def test_an_event_expecting_another_version_is_a_conflict_naming_the_current_one(
    app: FieldLog, story: Drowning, stale: int
) -> None:
    given(app, story.incident_opened(), story.sighting())

    outcome = app.submit(story.police_called(expected_version=stale), CHIKAN)

    assert outcome.result == "conflict"
    assert outcome.current_version == 2
    assert stream_types(app, story.incident_id) == ["IncidentOpened", "ObservationRecorded"]


# --- patrols ------------------------------------------------------------------


def test_a_patrol_records_observations_until_it_ends(app: FieldLog, story: Drowning) -> None:
    given(app, story.patrol_started(), story.line_observation(), story.patrol_ended())

    patrol = app.get_stream(UUID(story.patrol_id), Patrol)

    assert patrol is not None
    assert (patrol.crew_id, patrol.ended, patrol.version) == ("chikan-mv", True, 3)


@pytest.mark.parametrize("after_end", ["line_observation", "patrol_ended"])
def test_nothing_may_follow_patrol_ended(app: FieldLog, story: Drowning, after_end: str) -> None:
    given(app, story.patrol_started(), story.patrol_ended())

    outcome = app.submit(getattr(story, after_end)(), SAFETY)

    assert outcome.result == "invalid"
    assert "PatrolEnded" in (outcome.detail or "")
    assert stream_types(app, story.patrol_id) == ["PatrolStarted", "PatrolEnded"]


# --- incidents: open ↔ reviewed -------------------------------------------------


def test_a_review_marks_the_incident_reviewed(app: FieldLog, story: Drowning) -> None:
    given(app, *story.rescue())
    given(app, story.reviewed(), actor=SAFETY)

    incident = app.get_stream(UUID(story.incident_id), Incident)

    assert incident is not None
    assert incident.status == "reviewed"


def test_a_second_review_without_a_reopen_is_invalid(app: FieldLog, story: Drowning) -> None:
    given(app, story.incident_opened())
    given(app, story.reviewed(), actor=SAFETY)

    outcome = app.submit(story.reviewed(findings="再次复核"), SAFETY)

    assert outcome.result == "invalid"
    assert "IncidentReopened" in (outcome.detail or "")
    assert stream_types(app, story.incident_id) == ["IncidentOpened", "IncidentReviewed"]


def test_reopening_an_open_incident_is_invalid(app: FieldLog, story: Drowning) -> None:
    given(app, story.incident_opened(), story.sighting())

    outcome = app.submit(story.reopened(), SAFETY)

    assert outcome.result == "invalid"
    assert stream_types(app, story.incident_id) == ["IncidentOpened", "ObservationRecorded"]


def test_a_reopened_incident_can_be_reviewed_again(app: FieldLog, story: Drowning) -> None:
    given(app, story.incident_opened())
    given(app, story.reviewed(), story.reopened(), actor=SAFETY)

    outcome = app.submit(story.reviewed(findings="补充致谢记录后复核完毕"), SAFETY)

    assert (outcome.result, outcome.version) == ("stored", 4)
    incident = app.get_stream(UUID(story.incident_id), Incident)
    assert incident is not None
    assert incident.status == "reviewed"


def test_a_review_does_not_lock_the_incident_against_late_facts(
    app: FieldLog, story: Drowning
) -> None:
    given(app, *story.rescue())
    given(app, story.reviewed(), actor=SAFETY)

    late = [story.victim_details(), story.thanks()]
    outcomes = [app.submit(raw, CHIKAN) for raw in late]

    assert [o.result for o in outcomes] == ["stored", "stored"]
    incident = app.get_stream(UUID(story.incident_id), Incident)
    assert incident is not None
    assert incident.status == "reviewed"


def test_the_crew_is_fixed_when_the_incident_is_opened(app: FieldLog, story: Drowning) -> None:
    opened = story.incident_opened()
    given(app, opened)

    outcome = app.submit(story.correction(opened, {"crew_id": "scenic-staff"}), SAFETY)

    assert outcome.result == "invalid"
    assert "crew_id" in (outcome.detail or "")
    incident = app.get_stream(UUID(story.incident_id), Incident)
    assert incident is not None
    assert incident.crew_id == "chikan-mv"


# --- commendations: nominated → endorsed → approved | rejected -------------------


@pytest.fixture
def nominated(app: FieldLog, story: Drowning) -> Drowning:
    given(app, *story.rescue(), story.nominated())
    return story


def commendation_status(app: FieldLog, story: Drowning) -> str:
    commendation = app.get_stream(UUID(story.commendation_id), Commendation)
    assert commendation is not None
    return commendation.status


def test_a_commendation_is_nominated_endorsed_then_approved(
    app: FieldLog, nominated: Drowning
) -> None:
    assert commendation_status(app, nominated) == "nominated"

    given(app, nominated.endorsed(), actor=SAFETY)
    assert commendation_status(app, nominated) == "endorsed"

    given(app, nominated.approved(), actor=HR)
    assert commendation_status(app, nominated) == "approved"
    assert stream_types(app, nominated.commendation_id) == [
        "CommendationNominated",
        "CommendationEndorsed",
        "CommendationApproved",
    ]


def test_approval_without_endorsement_is_invalid(app: FieldLog, nominated: Drowning) -> None:
    outcome = app.submit(nominated.approved(), HR)

    assert outcome.result == "invalid"
    assert "CommendationEndorsed" in (outcome.detail or "")
    assert commendation_status(app, nominated) == "nominated"


def test_endorsing_twice_is_invalid(app: FieldLog, nominated: Drowning) -> None:
    given(app, nominated.endorsed(), actor=SAFETY)

    outcome = app.submit(nominated.endorsed(note="重复"), SAFETY)

    assert outcome.result == "invalid"


@pytest.mark.parametrize("endorsed_first", [False, True], ids=["from_nominated", "from_endorsed"])
def test_hr_may_reject_a_nominated_or_endorsed_commendation(
    app: FieldLog, nominated: Drowning, endorsed_first: bool
) -> None:
    if endorsed_first:
        given(app, nominated.endorsed(), actor=SAFETY)

    outcome = app.submit(nominated.rejected(), HR)

    assert outcome.result == "stored"
    assert commendation_status(app, nominated) == "rejected"


FINAL_DECISIONS: dict[str, list[tuple[str, Actor]]] = {
    "approved": [("endorsed", SAFETY), ("approved", HR)],
    "rejected": [("rejected", HR)],
}
AFTER_FINAL: list[tuple[str, Actor]] = [
    ("endorsed", SAFETY),
    ("approved", HR),
    ("rejected", HR),
]


@pytest.mark.parametrize("decision", list(FINAL_DECISIONS))
@pytest.mark.parametrize(("after", "actor"), AFTER_FINAL, ids=[a for a, _ in AFTER_FINAL])
def test_approved_and_rejected_are_final(
    app: FieldLog, nominated: Drowning, decision: str, after: str, actor: Actor
) -> None:
    for step, by in FINAL_DECISIONS[decision]:
        given(app, getattr(nominated, step)(), actor=by)
    before = head(app)

    outcome = app.submit(getattr(nominated, after)(), actor)

    assert outcome.result == "invalid"
    assert "final" in (outcome.detail or "")
    assert commendation_status(app, nominated) == decision
    assert head(app) == before


def test_a_commendation_needs_an_existing_incident(app: FieldLog, story: Drowning) -> None:
    outcome = app.submit(story.nominated(), SAFETY)

    assert outcome.result == "invalid"
    assert "incident_id" in (outcome.detail or "")


def test_a_commendation_names_an_incident_not_a_patrol(app: FieldLog, story: Drowning) -> None:
    given(app, story.patrol_started())

    outcome = app.submit(story.nominated(incident_id=story.patrol_id), SAFETY)

    assert outcome.result == "invalid"
    assert "incident_id" in (outcome.detail or "")

"""Who may file what, for which crew, and what the events may refer to.

Given the registry of the seed page (the 赤坎供电所 crew and the scenic-area staff)
→ when a token files an event → then it is stored, or refused as `forbidden`
(the role or crew may not), `not_found` (another crew's record) or `invalid`.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from incidents.application import FieldLog
from incidents.errors import InvalidEventError, NotFoundError, RegistryConflictError
from incidents.incident import Incident
from incidents.registry import Crew, Person
from tests.scenario import (
    ADMIN,
    CEN,
    CHEN,
    CHIKAN,
    CHIKAN_MV,
    GUAN,
    HR,
    OTHER_CREW,
    SAFETY,
    SCENIC,
    ZHOU,
    ZHOU_WANG,
    Collapse,
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


# --- the role table -------------------------------------------------------------

EVERY_TYPE = {
    "PatrolStarted": Drowning.patrol_started,
    "LineObservationRecorded": Drowning.line_observation,
    "PatrolEnded": Drowning.patrol_ended,
    "IncidentOpened": Drowning.incident_opened,
    "ObservationRecorded": Drowning.sighting,
    "EmergencyServicesCalled": Drowning.police_called,
    "RescueActionTaken": Drowning.reached_with_pole,
    "HelperJoined": Drowning.helpers_joined,
    "VictimHandedOver": Drowning.handed_over,
    "OutcomeRecorded": Drowning.outcome,
    "VictimDetailsRecorded": Drowning.victim_details,
    "ThanksReceived": Drowning.thanks,
    "IncidentReviewed": Drowning.reviewed,
    "IncidentReopened": Drowning.reopened,
    "CommendationNominated": Drowning.nominated,
    "CommendationEndorsed": Drowning.endorsed,
    "CommendationApproved": Drowning.approved,
    "CommendationRejected": Drowning.rejected,
}
HR_DECISIONS = {"CommendationApproved", "CommendationRejected"}
OFFICE_ONLY = {"IncidentReviewed", "IncidentReopened", "CommendationEndorsed"}
# The contract's table, written out: what each role may NOT file.
FORBIDDEN = {
    "crew": HR_DECISIONS | OFFICE_ONLY,
    "safety": HR_DECISIONS,
    "hr": set(EVERY_TYPE) - HR_DECISIONS | {"EntryCorrected"},
    "admin": HR_DECISIONS,
}
ACTORS = {"crew": CHIKAN, "safety": SAFETY, "hr": HR, "admin": ADMIN}


@pytest.mark.parametrize("role", list(ACTORS))
def test_each_role_files_exactly_the_types_of_the_role_table(
    app: FieldLog, story: Drowning, role: str
) -> None:
    actor = ACTORS[role]
    raws = [build(Drowning()) for build in EVERY_TYPE.values()]
    raws.append(story.correction(story.sighting(), {"description": "x"}))
    before = head(app)

    outcomes = {raw["type"]: app.submit(raw, actor) for raw in raws}

    forbidden = {kind for kind, o in outcomes.items() if o.refusal == "forbidden"}
    assert forbidden == FORBIDDEN[role]
    for kind in forbidden:
        assert outcomes[kind].result == "invalid"
        assert kind in (outcomes[kind].detail or "")
    # Nothing forbidden was stored (the others may or may not be, on empty streams).
    stored = {kind for kind, o in outcomes.items() if o.result == "stored"}
    assert not stored & forbidden
    assert head(app) == before + len(stored)


def test_the_safety_office_files_the_whole_rescue_for_a_crew(
    app: FieldLog, story: Drowning
) -> None:
    outcomes = [app.submit(raw, SAFETY) for raw in story.rescue()]

    assert [o.result for o in outcomes] == ["stored"] * len(outcomes)
    assert [o.version for o in outcomes] == list(range(1, len(outcomes) + 1))


def test_the_whole_seed_story_is_filed_by_the_roles_that_own_each_step(
    app: FieldLog, story: Drowning
) -> None:
    given(app, story.patrol_started(), story.line_observation())
    given(app, *story.rescue(), story.victim_details(), story.patrol_ended())
    given(app, story.reviewed(), actor=SAFETY)
    given(app, story.thanks(), story.nominated())
    given(app, story.endorsed(), actor=SAFETY)
    given(app, story.approved(), actor=HR)

    assert len(stream_types(app, story.patrol_id)) == 3
    assert len(stream_types(app, story.incident_id)) == 12
    assert stream_types(app, story.commendation_id)[-1] == "CommendationApproved"


# --- a crew token and other crews ---------------------------------------------------


@pytest.mark.parametrize("opening", ["patrol_started", "incident_opened"])
def test_a_crew_token_files_only_for_its_own_crew(
    app: FieldLog, story: Drowning, opening: str
) -> None:
    raw = getattr(Drowning(crew_id=SCENIC), opening)()
    before = head(app)

    outcome = app.submit(raw, CHIKAN)

    assert (outcome.result, outcome.refusal) == ("invalid", "forbidden")
    assert "crew_id" in (outcome.detail or "")
    assert head(app) == before


@pytest.fixture
def scenic(app: FieldLog, story: Drowning) -> Collapse:
    """The scenic-area staff's own patrol and incident, filed by their tablet."""
    collapse = Collapse()
    given(app, collapse.patrol_started(), collapse.incident_opened(), actor=OTHER_CREW)
    return collapse


def test_a_crew_token_cannot_write_to_another_crews_incident(
    app: FieldLog, scenic: Collapse
) -> None:
    before = head(app)

    outcome = app.submit(scenic.aed_shock(people=[ZHOU]), CHIKAN)

    assert (outcome.result, outcome.refusal) == ("invalid", "not_found")
    assert "scenic" not in (outcome.detail or "")
    assert head(app) == before


def test_a_crew_token_cannot_write_to_another_crews_patrol(app: FieldLog, scenic: Collapse) -> None:
    on_their_patrol = Drowning(patrol_id=scenic.patrol_id).line_observation()

    outcome = app.submit(on_their_patrol, CHIKAN)

    assert (outcome.result, outcome.refusal) == ("invalid", "not_found")


def test_a_crew_token_cannot_correct_another_crews_entry(app: FieldLog, scenic: Collapse) -> None:
    theirs = scenic.aed_shock()
    given(app, theirs, actor=OTHER_CREW)
    correction = Drowning(incident_id=scenic.incident_id).correction(theirs, {"people": []})

    outcome = app.submit(correction, CHIKAN)

    assert (outcome.result, outcome.refusal) == ("invalid", "not_found")
    assert stream_types(app, scenic.incident_id)[-1] == "RescueActionTaken"


def test_a_crew_token_cannot_nominate_for_another_crews_incident(
    app: FieldLog, scenic: Collapse
) -> None:
    nomination = Drowning(incident_id=scenic.incident_id).nominated(nominees=[CEN])
    unknown = Drowning().nominated(nominees=[CEN])

    theirs = app.submit(nomination, CHIKAN)
    missing = app.submit(unknown, CHIKAN)

    assert theirs.result == "invalid"
    # Answered exactly as an incident that does not exist: its existence is not revealed.
    assert (theirs.detail or "").replace(scenic.incident_id, "?") == (missing.detail or "").replace(
        unknown["incident_id"], "?"
    )


def test_the_office_writes_to_every_crews_incident(app: FieldLog, scenic: Collapse) -> None:
    outcome = app.submit(scenic.aed_shock(), SAFETY)

    assert outcome.result == "stored"


def test_a_crew_nominates_its_own_people_for_its_own_incident(
    app: FieldLog, story: Drowning
) -> None:
    given(app, story.incident_opened())

    outcome = app.submit(story.nominated(), CHIKAN)

    assert (outcome.result, outcome.version) == ("stored", 1)


# --- references must be registered ------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda s: s.patrol_started(people=[ZHOU, "passing-boatman"]), "people"),
        (lambda s: s.police_called(people=["li-si"]), "people"),
        (lambda s: s.reached_with_pole(people=[ZHOU, "boatman-1"]), "people"),
        (lambda s: s.helpers_joined(people=["colleague-x"]), "people"),
        (lambda s: s.nominated(nominees=[ZHOU, "unknown-hero"]), "nominees"),
    ],
    ids=["patrol", "call", "rescue_action", "helpers", "nominees"],
)
def test_people_named_in_events_must_be_registered(
    app: FieldLog, story: Drowning, build: Any, field: str
) -> None:
    given(app, story.incident_opened())
    before = head(app)

    outcome = app.submit(build(story), CHIKAN)

    assert outcome.result == "invalid"
    assert f"`{field}`" in (outcome.detail or "")
    assert "registered" in (outcome.detail or "")
    assert head(app) == before


def test_a_person_of_another_crew_may_be_named(app: FieldLog, story: Drowning) -> None:
    given(app, story.incident_opened())

    outcome = app.submit(story.helpers_joined(people=[CEN]), CHIKAN)

    assert outcome.result == "stored"


def test_the_crew_of_an_incident_must_be_registered(app: FieldLog, story: Drowning) -> None:
    outcome = app.submit(Drowning(crew_id="kaiping-substation").incident_opened(), SAFETY)

    assert outcome.result == "invalid"
    assert "crew_id" in (outcome.detail or "")
    assert "registered" in (outcome.detail or "")


def test_an_incident_may_name_the_patrol_its_crew_was_on(app: FieldLog, story: Drowning) -> None:
    given(app, story.patrol_started())

    outcome = app.submit(story.incident_opened(patrol_id=story.patrol_id), CHIKAN)

    assert outcome.result == "stored"
    incident = app.get_stream(UUID(story.incident_id), Incident)
    assert incident is not None
    opened = incident.entries[next(iter(incident.entries))]
    assert opened.content["patrol_id"] == story.patrol_id


def test_the_patrol_of_an_incident_must_be_of_the_same_crew(
    app: FieldLog, story: Drowning, scenic: Collapse
) -> None:
    outcome = app.submit(story.incident_opened(patrol_id=scenic.patrol_id), SAFETY)

    assert outcome.result == "invalid"
    assert "patrol_id" in (outcome.detail or "")


@pytest.mark.parametrize("target", ["missing", "incident"])
def test_the_patrol_of_an_incident_must_be_a_patrol(
    app: FieldLog, story: Drowning, target: str
) -> None:
    other = Drowning()
    given(app, other.incident_opened())
    patrol_id = other.incident_id if target == "incident" else other.patrol_id

    outcome = app.submit(story.incident_opened(patrol_id=patrol_id), CHIKAN)

    assert outcome.result == "invalid"
    assert "patrol_id" in (outcome.detail or "")


# --- the registry ---------------------------------------------------------------------


def test_registering_the_same_person_twice_is_a_duplicate(app: FieldLog) -> None:
    first, _ = app.register_person(ZHOU, "周立辉", ADMIN)
    before = head(app)

    again, person = app.register_person(ZHOU, "周立辉", ADMIN)

    assert (first, again) == ("stored", "duplicate")
    assert isinstance(person, Person)
    assert (person.person_id, person.name) == (ZHOU, "周立辉")
    assert head(app) == before


def test_registering_a_person_under_another_name_is_a_conflict(app: FieldLog) -> None:
    app.register_person(ZHOU, "周立辉", ADMIN)
    before = head(app)

    with pytest.raises(RegistryConflictError, match="周立辉"):
        app.register_person(ZHOU, "周利辉", ADMIN)

    assert head(app) == before
    person = app.get_person(ZHOU)
    assert person is not None
    assert person.name == "周立辉"


def test_registering_the_same_crew_twice_is_a_duplicate_in_any_member_order(
    app: FieldLog, story: Drowning
) -> None:
    before = head(app)

    again, crew = app.register_crew(
        CHIKAN_MV, "赤坎供电所配电网中压运维班", [CHEN, ZHOU, GUAN], ADMIN
    )

    assert again == "duplicate"
    assert isinstance(crew, Crew)
    assert set(crew.members) == {ZHOU, GUAN, CHEN}
    assert head(app) == before


@pytest.mark.parametrize(
    ("name", "members"),
    [("赤坎供电所", [ZHOU, GUAN, CHEN]), ("赤坎供电所配电网中压运维班", [ZHOU, GUAN])],
    ids=["other_name", "other_members"],
)
def test_registering_a_crew_with_other_data_is_a_conflict(
    app: FieldLog, story: Drowning, name: str, members: list[str]
) -> None:
    with pytest.raises(RegistryConflictError):
        app.register_crew(CHIKAN_MV, name, members, ADMIN)


def test_crew_members_must_be_registered(app: FieldLog) -> None:
    app.register_person(ZHOU, "周立辉", ADMIN)

    with pytest.raises(InvalidEventError, match="guan-jinkang"):
        app.register_crew(CHIKAN_MV, "赤坎供电所配电网中压运维班", [ZHOU, GUAN], ADMIN)

    assert app.get_crew(CHIKAN_MV) is None


def test_a_crew_lists_each_member_once(app: FieldLog) -> None:
    app.register_person(ZHOU, "周立辉", ADMIN)

    with pytest.raises(InvalidEventError, match="members"):
        app.register_crew(CHIKAN_MV, "赤坎供电所配电网中压运维班", [ZHOU, ZHOU], ADMIN)


def test_a_person_may_belong_to_several_crews(app: FieldLog, story: Drowning) -> None:
    result, crew = app.join_crew(SCENIC, ZHOU, ADMIN)

    assert result == "stored"
    assert set(crew.members) == {ZHOU_WANG, CEN, ZHOU}
    chikan = app.get_crew(CHIKAN_MV)
    assert chikan is not None
    assert ZHOU in chikan.members


def test_joining_twice_is_a_duplicate_and_leaving_twice_is_not_found(
    app: FieldLog, story: Drowning
) -> None:
    assert app.join_crew(CHIKAN_MV, ZHOU, ADMIN)[0] == "duplicate"

    crew = app.leave_crew(CHIKAN_MV, CHEN, ADMIN)

    assert set(crew.members) == {ZHOU, GUAN}
    with pytest.raises(NotFoundError):
        app.leave_crew(CHIKAN_MV, CHEN, ADMIN)


def test_joining_needs_a_registered_crew_and_person(app: FieldLog, story: Drowning) -> None:
    with pytest.raises(NotFoundError):
        app.join_crew("kaiping-substation", ZHOU, ADMIN)
    with pytest.raises(InvalidEventError):
        app.join_crew(CHIKAN_MV, "passing-boatman", ADMIN)


def test_the_registry_lists_every_registered_id(app: FieldLog, story: Drowning) -> None:
    assert app.registry_ids(Person) == sorted([ZHOU, GUAN, CHEN, ZHOU_WANG, CEN])
    assert app.registry_ids(Crew) == sorted([CHIKAN_MV, SCENIC])


def test_registry_events_are_recorded_by_the_admin(app: FieldLog, story: Drowning) -> None:
    person = app.get_person(ZHOU)
    assert person is not None

    facts = app.get_facts(person.id)

    assert [type(f).__name__ for f, _ in facts] == ["PersonRegistered"]
    assert facts[0][0].recorded_by == "admin:test-admin"

"""EntryCorrected: a mistake is fixed by a new fact that names the entry and why.

Given the crew's record of the 潭江 rescue → when a correction is filed → then it is
stored and the entry reads corrected, or it is refused and nothing changes.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from incidents.application import FieldLog
from incidents.incident import Incident
from tests.scenario import (
    CHEN,
    CHIKAN,
    GUAN,
    SAFETY,
    ZHOU,
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


def entry(app: FieldLog, story: Drowning, raw: dict[str, Any]) -> dict[str, Any]:
    """The entry as it now stands, corrections applied."""
    incident = app.get_stream(UUID(story.incident_id), Incident)
    assert incident is not None
    return incident.entries[raw["event_id"]].content


def test_a_crew_corrects_the_time_of_its_own_entry(app: FieldLog, story: Drowning) -> None:
    call = story.police_called()
    given(app, story.incident_opened(), call)

    outcome = app.submit(
        story.correction(
            call,
            {"occurred_at": "2025-10-16T15:20:45+08:00", "time_certainty": "estimated"},
        ),
        CHIKAN,
    )

    assert (outcome.result, outcome.version) == ("stored", 3)
    corrected = entry(app, story, call)
    assert corrected["occurred_at"] == "2025-10-16T15:20:45+08:00"
    assert corrected["time_certainty"] == "estimated"
    assert corrected["service"] == "police_110"


def test_the_safety_office_corrects_who_acted(app: FieldLog, story: Drowning) -> None:
    pole = story.reached_with_pole()
    given(app, story.incident_opened(), pole)

    outcome = app.submit(story.correction(pole, {"people": [ZHOU, GUAN]}), SAFETY)

    assert outcome.result == "stored"
    assert entry(app, story, pole)["people"] == [ZHOU, GUAN]


def test_the_from_field_of_thanks_is_correctable(app: FieldLog, story: Drowning) -> None:
    thanks = story.thanks()
    given(app, story.incident_opened(), thanks)

    outcome = app.submit(story.correction(thanks, {"from": "获救者的两名子女"}), CHIKAN)

    assert outcome.result == "stored"
    assert entry(app, story, thanks)["from"] == "获救者的两名子女"


def test_the_opening_can_be_corrected_except_its_crew(app: FieldLog, story: Drowning) -> None:
    opened = story.incident_opened()
    given(app, opened)

    outcome = app.submit(
        story.correction(opened, {"location": {"place": "江南桥东侧潭江"}, "kind": "drowning"}),
        CHIKAN,
    )

    assert outcome.result == "stored"
    assert entry(app, story, opened)["location"] == {"place": "江南桥东侧潭江"}


def test_a_correction_may_link_the_incident_to_the_crews_patrol(
    app: FieldLog, story: Drowning
) -> None:
    opened = story.incident_opened()
    given(app, story.patrol_started(), opened)

    outcome = app.submit(story.correction(opened, {"patrol_id": story.patrol_id}), CHIKAN)

    assert outcome.result == "stored"
    assert entry(app, story, opened)["patrol_id"] == story.patrol_id


def test_a_correction_may_not_link_another_crews_patrol(app: FieldLog, story: Drowning) -> None:
    scenic = Collapse()
    given(app, scenic.patrol_started(), actor=SAFETY)
    opened = story.incident_opened()
    given(app, opened)

    outcome = app.submit(story.correction(opened, {"patrol_id": scenic.patrol_id}), SAFETY)

    assert outcome.result == "invalid"
    assert "patrol_id" in (outcome.detail or "")


# --- what a correction may name ------------------------------------------------


def test_a_correction_must_name_an_event_of_this_incident(app: FieldLog, story: Drowning) -> None:
    given(app, story.incident_opened())
    never_filed = story.sighting()

    outcome = app.submit(story.correction(never_filed, {"description": "x"}), CHIKAN)

    assert outcome.result == "invalid"
    assert "corrects_event_id" in (outcome.detail or "")


def test_a_correction_may_not_name_an_event_of_another_incident(
    app: FieldLog, story: Drowning
) -> None:
    other = Drowning()
    elsewhere = other.sighting()
    given(app, other.incident_opened(), elsewhere)
    given(app, story.incident_opened())

    outcome = app.submit(story.correction(elsewhere, {"description": "x"}), CHIKAN)

    assert outcome.result == "invalid"
    assert "corrects_event_id" in (outcome.detail or "")
    assert stream_types(app, other.incident_id) == ["IncidentOpened", "ObservationRecorded"]


def test_a_correction_may_not_name_a_patrol_event(app: FieldLog, story: Drowning) -> None:
    sighting_on_patrol = story.line_observation()
    given(app, story.patrol_started(), sighting_on_patrol, story.incident_opened())

    outcome = app.submit(story.correction(sighting_on_patrol, {"severity": "high"}), CHIKAN)

    assert outcome.result == "invalid"


def test_a_correction_may_not_be_corrected(app: FieldLog, story: Drowning) -> None:
    call = story.police_called()
    first = story.correction(call, {"people": [GUAN, CHEN]})
    given(app, story.incident_opened(), call, first)

    outcome = app.submit(story.correction(first, {"reason": "改正理由"}), CHIKAN)

    assert outcome.result == "invalid"
    assert "EntryCorrected" in (outcome.detail or "")


def test_victim_details_are_superseded_not_corrected(app: FieldLog, story: Drowning) -> None:
    details = story.victim_details()
    given(app, story.incident_opened(), details)

    outcome = app.submit(story.correction(details, {"age": 70}), SAFETY)

    assert outcome.result == "invalid"
    assert "VictimDetailsRecorded" in (outcome.detail or "")


def test_a_crew_may_not_correct_the_offices_entries(app: FieldLog, story: Drowning) -> None:
    review = story.reviewed()
    given(app, story.incident_opened())
    given(app, review, actor=SAFETY)

    outcome = app.submit(story.correction(review, {"findings": "改写复核结论"}), CHIKAN)

    assert outcome.result == "invalid"
    assert outcome.refusal == "forbidden"


# --- what a correction may change ----------------------------------------------


@pytest.mark.parametrize(
    "field",
    ["crew_id", "kind_of_help", "event_id", "type", "stream_id", "recorded_by", "version"],
)
def test_only_payload_fields_and_times_are_correctable(
    app: FieldLog, story: Drowning, field: str
) -> None:
    pole = story.reached_with_pole()
    given(app, story.incident_opened(), pole)
    before = head(app)

    outcome = app.submit(story.correction(pole, {field: "x"}), SAFETY)

    assert outcome.result == "invalid"
    assert f"changes.{field}" in (outcome.detail or "")
    assert head(app) == before


def test_a_field_of_another_event_type_is_not_correctable(app: FieldLog, story: Drowning) -> None:
    sighting = story.sighting()
    given(app, story.incident_opened(), sighting)

    outcome = app.submit(story.correction(sighting, {"people": [ZHOU]}), CHIKAN)

    assert outcome.result == "invalid"
    assert "changes.people" in (outcome.detail or "")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"action": "swim_out"}, "action"),
        ({"people": ["a boatman"]}, "people"),
        ({"people": ["passing-boatman"]}, "people"),
        ({"description": ""}, "description"),
        ({"occurred_at": "2025-10-16T15:22:10"}, "occurred_at"),
        ({"occurred_at": "yesterday afternoon"}, "occurred_at"),
        ({"occurred_at": 1760599330}, "occurred_at"),
        ({"time_certainty": "roughly"}, "time_certainty"),
    ],
    ids=[
        "bad_enum",
        "bad_person_id",
        "unregistered_person",
        "empty_text",
        "no_offset",
        "not_a_time",
        "unix_seconds",
        "bad_certainty",
    ],
)
def test_the_corrected_entry_must_still_be_valid(
    app: FieldLog, story: Drowning, changes: dict[str, Any], field: str
) -> None:
    pole = story.reached_with_pole()
    given(app, story.incident_opened(), pole)
    before = head(app)

    outcome = app.submit(story.correction(pole, changes), SAFETY)

    assert outcome.result == "invalid"
    assert field in (outcome.detail or "")
    assert head(app) == before
    assert entry(app, story, pole)["action"] == "reach_with_pole"


def test_a_corrected_location_must_still_say_where(app: FieldLog, story: Drowning) -> None:
    opened = story.incident_opened()
    given(app, opened)

    outcome = app.submit(story.correction(opened, {"location": {}}), CHIKAN)

    assert outcome.result == "invalid"
    assert "location" in (outcome.detail or "")


def test_null_removes_an_optional_field(app: FieldLog, story: Drowning) -> None:
    pole = story.reached_with_pole()
    given(app, story.incident_opened(), pole)

    outcome = app.submit(story.correction(pole, {"description": None}), CHIKAN)

    assert outcome.result == "stored"
    assert "description" not in entry(app, story, pole)
    assert entry(app, story, pole)["action"] == "reach_with_pole"


def test_null_time_certainty_falls_back_to_measured(app: FieldLog, story: Drowning) -> None:
    call = story.police_called(time_certainty="estimated")
    given(app, story.incident_opened(), call)

    outcome = app.submit(story.correction(call, {"time_certainty": None}), CHIKAN)

    assert outcome.result == "stored"


@pytest.mark.parametrize("required", ["action", "people", "occurred_at"])
def test_null_does_not_remove_a_required_field(
    app: FieldLog, story: Drowning, required: str
) -> None:
    pole = story.reached_with_pole()
    given(app, story.incident_opened(), pole)

    outcome = app.submit(story.correction(pole, {required: None}), CHIKAN)

    assert outcome.result == "invalid"
    assert required in (outcome.detail or "")
    assert required in entry(app, story, pole)


def test_null_does_not_remove_the_location_of_the_opening(app: FieldLog, story: Drowning) -> None:
    opened = story.incident_opened()
    given(app, opened)

    outcome = app.submit(story.correction(opened, {"location": None}), CHIKAN)

    assert outcome.result == "invalid"


def test_a_correction_needs_at_least_one_change_and_a_reason(
    app: FieldLog, story: Drowning
) -> None:
    call = story.police_called()
    given(app, story.incident_opened(), call)

    no_changes = app.submit(story.correction(call, {}), CHIKAN)
    no_reason = story.correction(call, {"people": [GUAN, CHEN]})
    del no_reason["reason"]

    assert no_changes.result == "invalid"
    assert "changes" in (no_changes.detail or "")
    assert app.submit(no_reason, CHIKAN).result == "invalid"


def test_corrections_stack_in_order(app: FieldLog, story: Drowning) -> None:
    outcome_fact = story.outcome(outcome="hospitalised")
    given(
        app,
        story.incident_opened(),
        outcome_fact,
        story.correction(outcome_fact, {"outcome": "recovered"}),
        story.correction(outcome_fact, {"detail": "经心肺复苏恢复意识，已出院"}),
    )

    corrected = entry(app, story, outcome_fact)

    assert corrected["outcome"] == "recovered"
    assert corrected["detail"] == "经心肺复苏恢复意识，已出院"
    assert stream_types(app, story.incident_id)[-2:] == ["EntryCorrected", "EntryCorrected"]

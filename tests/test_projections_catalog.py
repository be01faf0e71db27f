"""The catalog read model: the incident, patrol and commendation lists.

Given patrol, incident and commendation events → when projected → then the lists
answer as the contract says (incidents newest `opened_at` first, filters on status,
crew, kind and a window on `opened_at`; corrections applied; review status and
`new_since_review`; a crew sees only its own). Run against every read-model
implementation on both stores.
"""

from __future__ import annotations

from typing import Any

import pytest

from incidents.application import FieldLog
from projections.queries import IncidentFilters
from tests.scenario import (
    CHIKAN,
    CHIKAN_MV,
    HR,
    OTHER_CREW,
    SAFETY,
    SCENIC,
    Collapse,
    Drowning,
    given,
    register_seed,
)
from tests.test_projections_support import IMPLEMENTATIONS, Reader, by_id, make_reader, window


@pytest.fixture(params=IMPLEMENTATIONS)
def reader(request: pytest.FixtureRequest, app: FieldLog) -> Reader:
    register_seed(app)
    return make_reader(app, request.param)


def ids(items: list[dict[str, Any]], key: str = "incident_id") -> list[str]:
    return [item[key] for item in items]


class Stories:
    """Three incidents: the 潭江 drowning (16 Oct 15:20, O&M crew), the car-park collapse
    (16 Oct 10:02, scenic staff) and a later fall (18 Oct 09:00, O&M crew)."""

    def __init__(self, app: FieldLog) -> None:
        self.drowning = Drowning()
        self.collapse = Collapse()
        self.fall = Drowning()
        self.drowning_opened = self.drowning.incident_opened()
        given(app, self.drowning_opened, self.drowning.police_called())
        given(app, self.collapse.incident_opened(), self.collapse.aed_shock(), actor=OTHER_CREW)
        given(
            app,
            self.fall.incident_opened(
                kind="fall", title="巡线途中路人摔倒", occurred_at="2025-10-18T09:00:00+08:00"
            ),
        )


def test_incidents_are_listed_newest_opened_at_first(app: FieldLog, reader: Reader) -> None:
    # Filed oldest-last: the order comes from opened_at, not from filing order.
    s = Stories(app)

    listed = reader().incidents(SAFETY, IncidentFilters())

    assert ids(listed) == [s.fall.incident_id, s.drowning.incident_id, s.collapse.incident_id]
    first = listed[1]
    assert first["status"] == "open"
    assert first["kind"] == "drowning"
    assert first["crew_id"] == CHIKAN_MV
    assert first["title"] == "潭江江南桥下有人溺水呼救"
    assert first["opened_at"] == "2025-10-16T15:20:00+08:00"
    assert first["version"] == 2
    assert first["new_since_review"] == 0
    assert "victim" not in first


FILTER_CASES: list[tuple[dict[str, Any], list[str]]] = [
    ({}, ["fall", "drowning", "collapse"]),
    ({"crew_id": CHIKAN_MV}, ["fall", "drowning"]),
    ({"crew_id": SCENIC}, ["collapse"]),
    ({"kind": "drowning"}, ["drowning"]),
    ({"kind": "fire"}, []),
    ({"status": "open"}, ["fall", "drowning", "collapse"]),
    ({"status": "reviewed"}, []),
    ({"window": ("2025-10-16", "2025-10-16")}, ["drowning", "collapse"]),
    ({"window": ("2025-10-17", None)}, ["fall"]),
    ({"window": (None, "2025-10-17")}, ["drowning", "collapse"]),
    # `from` is inclusive, a timestamp `to` exclusive
    ({"window": ("2025-10-16T15:20:00+08:00", None)}, ["fall", "drowning"]),
    ({"window": (None, "2025-10-16T15:20:00+08:00")}, ["collapse"]),
    ({"window": ("2025-10-16T02:02:00Z", "2025-10-16T07:20:00.000001Z")}, ["drowning", "collapse"]),
    ({"window": ("2025-10-16T02:02:00.000001Z", None)}, ["fall", "drowning"]),
    ({"crew_id": CHIKAN_MV, "window": ("2025-10-16", "2025-10-16")}, ["drowning"]),
    ({"crew_id": SCENIC, "kind": "cardiac_arrest", "status": "open"}, ["collapse"]),
]


def test_incident_filters_on_status_crew_kind_and_opened_at(app: FieldLog, reader: Reader) -> None:
    s = Stories(app)
    names = {
        s.drowning.incident_id: "drowning",
        s.collapse.incident_id: "collapse",
        s.fall.incident_id: "fall",
    }

    model = reader()

    for case, expected in FILTER_CASES:
        filters = {**case, "window": window(*case["window"])} if "window" in case else case
        listed = model.incidents(SAFETY, IncidentFilters(**filters))
        assert [names[i] for i in ids(listed)] == expected, case


def test_a_corrected_opening_time_moves_the_incident_in_order_and_window(
    app: FieldLog, reader: Reader
) -> None:
    """The drowning was first recorded as starting on the 16th; the crew lead corrects it
    to the evening before: it now sorts after the collapse and falls in the 15th."""
    s = Stories(app)
    before = reader().incidents(SAFETY, IncidentFilters())
    given(
        app,
        s.drowning.correction(
            s.drowning_opened,
            {"occurred_at": "2025-10-15T20:00:00+08:00", "time_certainty": "estimated"},
        ),
    )

    model = reader()

    after = model.incidents(SAFETY, IncidentFilters())
    assert ids(before)[:2] == [s.fall.incident_id, s.drowning.incident_id]
    assert ids(after) == [s.fall.incident_id, s.collapse.incident_id, s.drowning.incident_id]
    moved = by_id(after, "incident_id")[s.drowning.incident_id]
    assert moved["opened_at"] == "2025-10-15T20:00:00+08:00"
    assert moved["version"] == 3
    assert len(moved["corrections"]) == 1
    on_the_15th = model.incidents(
        SAFETY, IncidentFilters(window=window("2025-10-15", "2025-10-15"))
    )
    on_the_16th = model.incidents(
        SAFETY, IncidentFilters(window=window("2025-10-16", "2025-10-16"))
    )
    assert ids(on_the_15th) == [s.drowning.incident_id]
    assert ids(on_the_16th) == [s.collapse.incident_id]


def test_review_status_and_events_recorded_since_the_review(app: FieldLog, reader: Reader) -> None:
    d = Drowning()
    given(app, *d.rescue())
    given(app, d.reviewed(), actor=SAFETY)

    reviewed = reader().incidents(SAFETY, IncidentFilters(status="reviewed"))
    assert ids(reviewed) == [d.incident_id]
    assert reviewed[0]["new_since_review"] == 0

    # A review does not lock the incident: thanks days later are stored and counted.
    given(app, d.thanks(), d.victim_details())
    late = reader().incidents(SAFETY, IncidentFilters())[0]
    assert (late["status"], late["new_since_review"]) == ("reviewed", 2)

    given(app, d.reopened(), actor=SAFETY)
    model = reader()
    assert model.incidents(SAFETY, IncidentFilters(status="reviewed")) == []
    reopened = model.incidents(SAFETY, IncidentFilters(status="open"))
    assert ids(reopened) == [d.incident_id]

    given(app, d.reviewed(occurred_at="2025-10-29T09:00:00+08:00"), actor=SAFETY)
    again = reader().incidents(SAFETY, IncidentFilters())[0]
    assert (again["status"], again["new_since_review"]) == ("reviewed", 0)
    assert len(again["reviews"]) == 2


def test_patrols_are_listed_with_their_observations_and_status(
    app: FieldLog, reader: Reader
) -> None:
    d = Drowning()
    c = Collapse()
    given(app, d.patrol_started(), d.line_observation())
    given(app, c.patrol_started(), actor=OTHER_CREW)

    model = reader()
    listed = model.patrols(SAFETY, None, None)
    assert ids(listed, "patrol_id") == [d.patrol_id, c.patrol_id]  # newest start first
    patrol = listed[0]
    assert (patrol["crew_id"], patrol["status"], patrol["ended_at"]) == (CHIKAN_MV, "open", None)
    assert [o["category"] for o in patrol["observations"]] == ["vegetation"]
    assert patrol["observations"][0]["location"]["place"] == "江南桥北岸"

    given(app, d.line_observation(category="hazard", severity="high"), d.patrol_ended())

    model = reader()
    ended = by_id(model.patrols(SAFETY, None, None), "patrol_id")[d.patrol_id]
    assert ended["status"] == "ended"
    assert ended["ended_at"] == "2025-10-16T17:10:00+08:00"
    assert ended["summary"].startswith("巡视中断")
    assert [o["category"] for o in ended["observations"]] == ["vegetation", "hazard"]
    assert ended["version"] == 4
    assert ids(model.patrols(SAFETY, None, "open"), "patrol_id") == [c.patrol_id]
    assert ids(model.patrols(SAFETY, None, "ended"), "patrol_id") == [d.patrol_id]
    assert ids(model.patrols(SAFETY, SCENIC, None), "patrol_id") == [c.patrol_id]


def test_commendation_status_moves_through_its_lifecycle(app: FieldLog, reader: Reader) -> None:
    d = Drowning()
    given(app, *d.rescue())
    given(app, d.nominated(), actor=SAFETY)

    def status() -> dict[str, Any]:
        return by_id(reader().commendations(HR), "commendation_id")[d.commendation_id]

    nominated = status()
    assert nominated["status"] == "nominated"
    assert nominated["incident_id"] == d.incident_id
    assert nominated["crew_id"] == CHIKAN_MV
    assert sorted(nominated["nominees"]) == sorted(d.nominated()["nominees"])
    assert nominated["award"] is None

    given(app, d.endorsed(), actor=SAFETY)
    assert status()["status"] == "endorsed"

    given(app, d.approved(), actor=HR)
    approved = status()
    assert (approved["status"], approved["award"]) == ("approved", "见义勇为先进个人")
    assert approved["decided_at"] == "2025-11-05T09:00:00+08:00"

    other = Drowning(incident_id=d.incident_id)
    given(app, other.nominated(occurred_at="2025-10-30T10:00:00+08:00"), actor=SAFETY)
    given(app, other.rejected(), actor=HR)
    listed = by_id(reader().commendations(HR), "commendation_id")
    assert listed[other.commendation_id]["status"] == "rejected"
    assert listed[other.commendation_id]["reason"] == "已由市里统一表彰，不重复表彰"
    assert listed[d.commendation_id]["status"] == "approved"


def test_a_crew_sees_only_its_own_patrols_incidents_and_commendations(
    app: FieldLog, reader: Reader
) -> None:
    d = Drowning()
    c = Collapse()
    given(app, d.patrol_started(), *d.rescue(), d.nominated())
    given(app, c.patrol_started(), c.incident_opened(), c.aed_shock(), actor=OTHER_CREW)
    scenic = Drowning(incident_id=c.incident_id)
    given(app, scenic.nominated(nominees=["cen-xumin"]), actor=OTHER_CREW)

    model = reader()

    assert ids(model.incidents(CHIKAN, IncidentFilters())) == [d.incident_id]
    assert ids(model.incidents(OTHER_CREW, IncidentFilters())) == [c.incident_id]
    assert model.incidents(CHIKAN, IncidentFilters(crew_id=SCENIC)) == []
    assert ids(model.patrols(CHIKAN, None, None), "patrol_id") == [d.patrol_id]
    assert model.patrols(CHIKAN, SCENIC, None) == []
    assert ids(model.commendations(CHIKAN), "commendation_id") == [d.commendation_id]
    assert ids(model.commendations(OTHER_CREW), "commendation_id") == [scenic.commendation_id]
    assert len(model.incidents(SAFETY, IncidentFilters())) == 2
    assert len(model.commendations(SAFETY)) == 2

"""The directory read model: people, crews with their current members, and who was in
which crew when (for the recognition report's `crew_id`).

Given registry events → when projected → then the people and crews lists answer as
the contract says; run against every read-model implementation on both stores.
"""

from __future__ import annotations

import time
from datetime import datetime

import pytest

from incidents.application import FieldLog
from projections.window import Window
from tests.scenario import (
    ADMIN,
    CEN,
    CHEN,
    CHIKAN,
    CHIKAN_MV,
    GUAN,
    OTHER_CREW,
    PEOPLE,
    SCENIC,
    ZHOU,
    ZHOU_WANG,
    register_seed,
)
from tests.test_projections_support import (
    IMPLEMENTATIONS,
    Reader,
    by_id,
    make_reader,
    now,
    register_backdated,
    rows,
    window,
)


@pytest.fixture(params=IMPLEMENTATIONS)
def reader(request: pytest.FixtureRequest, app: FieldLog) -> Reader:
    return make_reader(app, request.param)


def tick() -> datetime:
    """An instant strictly between two registry events (stamped by the server clock)."""
    time.sleep(0.005)
    instant = now()
    time.sleep(0.005)
    return instant


def members(crew: dict[str, object]) -> list[str]:
    return sorted(m["person_id"] for m in crew["members"])  # type: ignore[attr-defined, index]


def test_every_registered_person_is_listed_with_their_current_crews(
    app: FieldLog, reader: Reader
) -> None:
    register_seed(app)

    people = reader().people()

    assert [p["person_id"] for p in people] == sorted(PEOPLE)
    found = by_id(people, "person_id")
    assert {pid: p["name"] for pid, p in found.items()} == PEOPLE
    assert found[ZHOU]["crews"] == [CHIKAN_MV]
    assert found[CEN]["crews"] == [SCENIC]


def test_a_crew_lists_its_members_with_names_and_since(app: FieldLog, reader: Reader) -> None:
    before = tick()
    register_seed(app)
    after = tick()

    crews = by_id(reader().crews(ADMIN), "crew_id")

    assert sorted(crews) == sorted([CHIKAN_MV, SCENIC])
    assert crews[CHIKAN_MV]["name"] == "赤坎供电所配电网中压运维班"
    assert members(crews[CHIKAN_MV]) == sorted([ZHOU, GUAN, CHEN])
    assert members(crews[SCENIC]) == sorted([ZHOU_WANG, CEN])
    for member in crews[CHIKAN_MV]["members"]:
        assert member["name"] == PEOPLE[member["person_id"]]
        assert before < datetime.fromisoformat(member["since"]) < after


def test_a_member_who_joins_later_is_listed_since_joining(app: FieldLog, reader: Reader) -> None:
    register_seed(app)
    before = tick()
    app.join_crew(SCENIC, ZHOU, ADMIN)
    after = tick()

    model = reader()

    scenic = by_id(model.crews(ADMIN), "crew_id")[SCENIC]
    assert members(scenic) == sorted([ZHOU_WANG, CEN, ZHOU])
    since = {m["person_id"]: m["since"] for m in scenic["members"]}
    assert before < datetime.fromisoformat(since[ZHOU]) < after
    assert datetime.fromisoformat(since[CEN]) < before
    assert by_id(model.people(), "person_id")[ZHOU]["crews"] == sorted([CHIKAN_MV, SCENIC])


def test_a_member_who_leaves_is_no_longer_listed(app: FieldLog, reader: Reader) -> None:
    register_seed(app)
    app.leave_crew(CHIKAN_MV, GUAN, ADMIN)

    model = reader()

    crews = by_id(model.crews(ADMIN), "crew_id")
    assert members(crews[CHIKAN_MV]) == sorted([ZHOU, CHEN])
    assert by_id(model.people(), "person_id")[GUAN]["crews"] == []
    assert GUAN in by_id(model.people(), "person_id")  # still registered


def test_a_member_who_leaves_and_rejoins_is_listed_since_rejoining(
    app: FieldLog, reader: Reader
) -> None:
    register_seed(app)
    app.leave_crew(CHIKAN_MV, GUAN, ADMIN)
    rejoined = tick()
    app.join_crew(CHIKAN_MV, GUAN, ADMIN)

    crew = by_id(reader().crews(ADMIN), "crew_id")[CHIKAN_MV]

    since = {m["person_id"]: m["since"] for m in crew["members"]}
    assert members(crew) == sorted([ZHOU, GUAN, CHEN])
    assert datetime.fromisoformat(since[GUAN]) > rejoined


def test_a_crew_token_reads_only_its_own_crew(app: FieldLog, reader: Reader) -> None:
    register_seed(app)

    model = reader()

    assert [c["crew_id"] for c in model.crews(CHIKAN)] == [CHIKAN_MV]
    assert [c["crew_id"] for c in model.crews(OTHER_CREW)] == [SCENIC]
    assert members(model.crews(CHIKAN)[0]) == sorted([ZHOU, GUAN, CHEN])


def test_the_report_names_the_crew_a_person_was_in_at_its_end(
    app: FieldLog, reader: Reader
) -> None:
    """周立辉 leaves the O&M crew and later joins the scenic-area staff: a report ending
    while he was still in the O&M crew names it; one ending between the two names
    none; one with no end names his current crew."""
    register_seed(app)
    in_om_crew = tick()
    app.leave_crew(CHIKAN_MV, ZHOU, ADMIN)
    in_no_crew = tick()
    app.join_crew(SCENIC, ZHOU, ADMIN)
    in_scenic = tick()

    model = reader()

    def crew_at(end: datetime | None) -> str | None:
        crew_id: str | None = rows(model.recognition(Window(None, end)))[ZHOU]["crew_id"]
        return crew_id

    assert crew_at(None) == SCENIC
    assert crew_at(in_scenic) == SCENIC
    assert crew_at(in_no_crew) is None
    assert crew_at(in_om_crew) == CHIKAN_MV


def test_the_report_names_the_first_crew_by_id_when_a_person_is_in_several(
    app: FieldLog, reader: Reader
) -> None:
    register_seed(app)
    app.join_crew(SCENIC, GUAN, ADMIN)  # "chikan-mv" < "scenic-staff"
    app.join_crew(CHIKAN_MV, CEN, ADMIN)

    report = reader().recognition(Window())

    assert rows(report)[GUAN]["crew_id"] == CHIKAN_MV
    assert rows(report)[CEN]["crew_id"] == CHIKAN_MV
    assert rows(report)[ZHOU_WANG]["crew_id"] == SCENIC


def test_a_past_report_names_the_crew_of_someone_who_has_left_since(
    app: FieldLog, reader: Reader
) -> None:
    """The crews existed before the log (registered backdated to 1 Oct); 关锦康 leaves the
    O&M crew today. October's report, run now, still names his October crew."""
    register_backdated(app)
    app.leave_crew(CHIKAN_MV, GUAN, ADMIN)

    model = reader()

    report = rows(model.recognition(window("2025-10-01", "2025-10-31")))
    assert report[GUAN]["crew_id"] == CHIKAN_MV
    assert report[ZHOU]["crew_id"] == CHIKAN_MV
    assert rows(model.recognition(Window()))[GUAN]["crew_id"] is None
    assert rows(model.recognition(window("2025-09-01", "2025-09-30")))[ZHOU]["crew_id"] is None

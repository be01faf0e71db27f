"""The recognition report's counting rules, exactly as the contract states them.

Over the window [`from`, `to`):
- a person's `rescues`: distinct incidents with an `EmergencyServicesCalled` or
  `RescueActionTaken` naming them whose `occurred_at` is in the window;
- `thanks`: `ThanksReceived` in the window on incidents they took part in;
- `commendations_nominated` / `commendations_approved`: commendations naming them whose
  `CommendationNominated` / `CommendationApproved` is in the window;
- a crew's row counts its own incidents the same way;
- every registered person is listed, zeros included.
Corrections apply: an act's people and time are read as corrected.

Run against every read-model implementation on both stores.
"""

from __future__ import annotations

import pytest

from incidents.application import FieldLog
from tests.scenario import (
    ADMIN,
    CEN,
    CHEN,
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
)
from tests.test_projections_support import (
    IMPLEMENTATIONS,
    Reader,
    counters,
    counts,
    crew_rows,
    make_reader,
    register_backdated,
    rows,
    window,
)

OCTOBER = ("2025-10-01", "2025-10-31")
NOVEMBER = ("2025-11-01", "2025-11-30")


@pytest.fixture(params=IMPLEMENTATIONS)
def reader(request: pytest.FixtureRequest, app: FieldLog) -> Reader:
    """The seed registry, backdated to before the stories (crews that existed before
    the log), so past reports name the crews."""
    register_backdated(app)
    return make_reader(app, request.param)


@pytest.fixture
def stories(app: FieldLog) -> tuple[Drowning, Collapse]:
    """The 潭江 rescue with its thanks (28 Oct) and the crew's commendation (nominated
    29 Oct, approved 5 Nov); the car-park collapse (岑旭敏's AED shock)."""
    d = Drowning()
    c = Collapse()
    given(app, *d.rescue(), d.thanks())
    given(app, c.incident_opened(), c.aed_shock(), actor=OTHER_CREW)
    given(app, d.nominated(), d.endorsed(), actor=SAFETY)
    given(app, d.approved(), actor=HR)
    return d, c


def report_for(reader: Reader, start: str | None = None, end: str | None = None) -> dict:  # type: ignore[type-arg]
    return reader().recognition(window(start, end))


def test_a_month_of_rescues_thanks_and_nominations(
    reader: Reader, stories: tuple[Drowning, Collapse]
) -> None:
    report = report_for(reader, *OCTOBER)

    assert counters(report) == {
        # two calls and an action by three people: one incident each
        ZHOU: counts(rescues=1, nominated=1, thanks=1),
        GUAN: counts(rescues=1, nominated=1, thanks=1),
        CHEN: counts(rescues=1, nominated=1, thanks=1),
        CEN: counts(rescues=1),
        ZHOU_WANG: counts(),  # registered, did nothing: listed with zeros
    }
    assert crew_rows(report) == {
        CHIKAN_MV: {"rescues": 1, "commendations_approved": 0, "thanks": 1},
        SCENIC: {"rescues": 1, "commendations_approved": 0, "thanks": 0},
    }
    assert (report["from"], report["to"]) == OCTOBER  # the period as asked
    assert {pid: r["crew_id"] for pid, r in rows(report).items()} == {
        ZHOU: CHIKAN_MV,
        GUAN: CHIKAN_MV,
        CHEN: CHIKAN_MV,
        CEN: SCENIC,
        ZHOU_WANG: SCENIC,
    }
    assert {r["person_id"]: r["name"] for r in report["people"]}[ZHOU] == "周立辉"


def test_approval_counts_in_the_month_it_was_decided(
    reader: Reader, stories: tuple[Drowning, Collapse]
) -> None:
    report = report_for(reader, *NOVEMBER)

    assert counters(report) == {
        ZHOU: counts(approved=1),
        GUAN: counts(approved=1),
        CHEN: counts(approved=1),
        CEN: counts(),
        ZHOU_WANG: counts(),
    }
    assert crew_rows(report)[CHIKAN_MV] == {"rescues": 0, "commendations_approved": 1, "thanks": 0}


def test_a_report_without_bounds_counts_everything_and_names_current_crews(
    reader: Reader, stories: tuple[Drowning, Collapse]
) -> None:
    report = report_for(reader)

    assert counters(report)[ZHOU] == counts(rescues=1, nominated=1, approved=1, thanks=1)
    assert {pid: r["crew_id"] for pid, r in rows(report).items()} == {
        ZHOU: CHIKAN_MV,
        GUAN: CHIKAN_MV,
        CHEN: CHIKAN_MV,
        CEN: SCENIC,
        ZHOU_WANG: SCENIC,
    }
    assert (report["from"], report["to"]) == (None, None)


# 110 by 关锦康 at 15:21:00, 120 by 陈奕高 at 15:21:20, pole by 周立辉 at 15:22:10, all
# three pull ashore at 15:27:40; 岑旭敏's shock at 10:06 the same day.
RESCUE_WINDOWS: list[tuple[str | None, str | None, set[str]]] = [
    ("2025-10-16", "2025-10-16T15:21:00+08:00", {CEN}),
    ("2025-10-16", "2025-10-16T15:21:00.000001+08:00", {CEN, GUAN}),
    ("2025-10-16T15:21:00+08:00", "2025-10-16T15:22:10+08:00", {GUAN, CHEN}),
    ("2025-10-16T07:21:20Z", "2025-10-16T15:27:40+08:00", {CHEN, ZHOU}),
    ("2025-10-16T15:27:40+08:00", "2025-10-16", {ZHOU, GUAN, CHEN}),
    ("2025-10-17", None, set()),
    (None, "2025-10-15", set()),
]


def test_rescues_count_acts_whose_time_is_in_the_window(
    reader: Reader, stories: tuple[Drowning, Collapse]
) -> None:
    model = reader()

    for start, end, rescuers in RESCUE_WINDOWS:
        report = model.recognition(window(start, end))
        people = counters(report)
        assert {pid for pid, c in people.items() if c["rescues"]} == rescuers, (start, end)
        assert all(c["rescues"] <= 1 for c in people.values())
        om = crew_rows(report)[CHIKAN_MV]["rescues"]
        assert om == (1 if rescuers - {CEN} else 0), (start, end)
        assert crew_rows(report)[SCENIC]["rescues"] == (1 if CEN in rescuers else 0)


def test_rescues_are_distinct_incidents(app: FieldLog, reader: Reader) -> None:
    first, second = Drowning(), Drowning()
    given(app, *first.rescue())  # 周立辉: the pole and pulling ashore
    given(
        app,
        second.incident_opened(occurred_at="2025-10-20T08:00:00+08:00"),
        second.reached_with_pole(occurred_at="2025-10-20T08:01:00+08:00"),
        second.pulled_ashore(occurred_at="2025-10-20T08:05:00+08:00", people=[ZHOU]),
    )

    report = report_for(reader, *OCTOBER)

    assert counters(report)[ZHOU]["rescues"] == 2
    assert counters(report)[GUAN]["rescues"] == 1
    assert crew_rows(report)[CHIKAN_MV]["rescues"] == 2


def test_thanks_count_on_incidents_the_person_took_part_in(app: FieldLog, reader: Reader) -> None:
    """Thanks count for everyone named in the incident (calls, actions, helpers), when
    the thanks arrive in the window, whenever they took part."""
    first, second = Drowning(), Drowning()
    given(app, *first.rescue(), first.thanks())  # all three took part; thanks on 28 Oct
    given(
        app,
        second.incident_opened(occurred_at="2025-10-20T08:00:00+08:00"),
        second.police_called(occurred_at="2025-10-20T08:01:00+08:00"),  # 关锦康 only
        second.thanks(occurred_at="2025-10-28T12:00:00+08:00"),
        second.thanks(occurred_at="2025-11-02T12:00:00+08:00"),
    )
    c = Collapse()
    given(app, c.incident_opened(), actor=OTHER_CREW)
    given(app, Drowning(incident_id=c.incident_id).thanks(), actor=OTHER_CREW)  # nobody named

    on_the_28th = report_for(reader, "2025-10-28", "2025-10-28")
    all_time = report_for(reader)

    assert {pid: c["thanks"] for pid, c in counters(on_the_28th).items()} == {
        ZHOU: 1,
        GUAN: 2,
        CHEN: 1,
        CEN: 0,
        ZHOU_WANG: 0,
    }
    assert {pid: c["rescues"] for pid, c in counters(on_the_28th).items()} == dict.fromkeys(
        counters(on_the_28th), 0
    )
    assert counters(all_time)[GUAN]["thanks"] == 3
    assert crew_rows(on_the_28th)[CHIKAN_MV]["thanks"] == 2
    assert crew_rows(on_the_28th)[SCENIC]["thanks"] == 1
    assert crew_rows(all_time)[CHIKAN_MV]["thanks"] == 3


def test_a_helper_named_only_in_helper_joined_is_thanked_but_did_not_rescue(
    app: FieldLog, reader: Reader
) -> None:
    d = Drowning()
    given(app, d.incident_opened(), d.reached_with_pole(), d.helpers_joined(people=[CEN]))
    given(app, d.thanks())

    report = report_for(reader)

    assert counters(report)[CEN] == counts(thanks=1)
    assert counters(report)[ZHOU] == counts(rescues=1, thanks=1)


def test_nominations_and_approvals_count_by_the_date_of_those_events(
    app: FieldLog, reader: Reader
) -> None:
    team, lone = Drowning(), Drowning()
    lone.incident_id = team.incident_id
    given(app, *team.rescue())
    given(app, team.nominated(occurred_at="2025-10-30T09:00:00+08:00"), actor=SAFETY)
    given(app, team.endorsed(occurred_at="2025-10-31T09:00:00+08:00"), actor=SAFETY)
    given(app, team.approved(occurred_at="2025-11-03T09:00:00+08:00"), actor=HR)
    given(app, lone.nominated(nominees=[ZHOU], occurred_at="2025-11-01T09:00:00+08:00"))
    given(app, lone.rejected(occurred_at="2025-11-04T09:00:00+08:00"), actor=HR)

    october, november = report_for(reader, *OCTOBER), report_for(reader, *NOVEMBER)

    assert counters(october)[ZHOU] == counts(rescues=1, nominated=1)
    assert counters(october)[GUAN] == counts(rescues=1, nominated=1)
    assert counters(november)[ZHOU] == counts(nominated=1, approved=1)  # the rejected one
    assert counters(november)[GUAN] == counts(approved=1)
    assert crew_rows(october)[CHIKAN_MV]["commendations_approved"] == 0
    assert crew_rows(november)[CHIKAN_MV]["commendations_approved"] == 1


def test_a_correction_that_removes_a_person_removes_their_rescue_and_thanks(
    app: FieldLog, reader: Reader
) -> None:
    """周立辉 was logged as reaching with the pole; it was in fact 关锦康."""
    d = Drowning()
    pole = d.reached_with_pole()
    given(app, d.incident_opened(), pole, d.thanks())
    before = report_for(reader)
    given(app, d.correction(pole, {"people": [GUAN]}))

    after = report_for(reader)

    assert counters(before)[ZHOU] == counts(rescues=1, thanks=1)
    assert counters(before)[GUAN] == counts()
    assert counters(after)[ZHOU] == counts()
    assert counters(after)[GUAN] == counts(rescues=1, thanks=1)
    assert crew_rows(after)[CHIKAN_MV] == {"rescues": 1, "commendations_approved": 0, "thanks": 1}


def test_a_corrected_time_moves_the_rescue_and_the_thanks_between_windows(
    app: FieldLog, reader: Reader
) -> None:
    """The tablet's clock read the 17th for 岑旭敏's shock; the thanks were logged on the
    day the letter was filed, not the day it arrived."""
    c = Collapse()
    shock = c.aed_shock(occurred_at="2025-10-17T10:06:00+08:00")
    thanks = Drowning(incident_id=c.incident_id).thanks(occurred_at="2025-11-02T10:00:00+08:00")
    given(app, c.incident_opened(), shock, thanks, actor=OTHER_CREW)
    on_the_16th = ("2025-10-16", "2025-10-16")
    before = report_for(reader, *on_the_16th), report_for(reader, *OCTOBER)
    fix = Drowning(incident_id=c.incident_id)
    given(
        app,
        fix.correction(shock, {"occurred_at": "2025-10-16T10:06:00+08:00"}),
        fix.correction(thanks, {"occurred_at": "2025-10-30T10:00:00+08:00"}),
        actor=OTHER_CREW,
    )

    after = report_for(reader, *on_the_16th), report_for(reader, *OCTOBER)

    assert counters(before[0])[CEN] == counts()
    assert counters(before[1])[CEN] == counts(rescues=1)
    assert counters(after[0])[CEN] == counts(rescues=1)
    assert counters(after[1])[CEN] == counts(rescues=1, thanks=1)
    assert crew_rows(after[1])[SCENIC] == {"rescues": 1, "commendations_approved": 0, "thanks": 1}


def test_every_registered_person_and_crew_is_listed_with_zeros(
    app: FieldLog, reader: Reader
) -> None:
    app.register_person("li-si", "李四", ADMIN)  # in no crew
    app.register_crew("night-shift", "夜班", [], ADMIN)

    report = report_for(reader, *OCTOBER)

    assert [r["person_id"] for r in report["people"]] == sorted(
        [ZHOU, GUAN, CHEN, CEN, ZHOU_WANG, "li-si"]
    )
    assert all(counters(report)[pid] == counts() for pid in counters(report))
    assert rows(report)["li-si"]["crew_id"] is None
    assert crew_rows(report_for(reader))["night-shift"] == {
        "rescues": 0,
        "commendations_approved": 0,
        "thanks": 0,
    }
    assert sorted(crew_rows(report)) == sorted([CHIKAN_MV, SCENIC, "night-shift"])

"""Shared helpers for the read-model suites (no tests here).

A *reader* is one implementation of the read side over one store: the projected read
model (views kept by a `ProjectionWorker`; "when projected" is a catch-up) or the log
read model (answers computed from the log itself; nothing to project). Contract tests
run the same given → when → then against both.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from incidents.application import FieldLog
from incidents.config import Settings
from incidents.roles import Actor
from projections.projected import ProjectedReadModel
from projections.queries import IncidentFilters, LogReadModel, ReadModel
from projections.runner import ProjectionWorker
from projections.window import Window
from tests.scenario import (
    ADMIN,
    CEN,
    CHEN,
    CHIKAN,
    CREWS,
    GUAN,
    HR,
    OTHER_CREW,
    PEOPLE,
    SAFETY,
    SCENIC,
    ZHOU,
    ZHOU_WANG,
    Collapse,
    Drowning,
    given,
)

TZ = ZoneInfo("Asia/Shanghai")
IMPLEMENTATIONS = ("projected", "log")


# PostgreSQL needs the master secret every process shares (tests/conftest.py sets one).
FALLBACK_SECRET_KEY = "ZmllbGRsb2ctdGVzdC1zZWNyZXQta2V5LTMyYnl0ZXM="


def store_settings(url: str) -> Settings:
    """Settings for a store of this suite's own (a module's, an example's, a CLI's)."""
    secret = os.environ.get("FIELDLOG_SECRET_KEY") or FALLBACK_SECRET_KEY
    return Settings.from_env({"FIELDLOG_DB": url, "FIELDLOG_SECRET_KEY": secret})


def window(start: str | None = None, end: str | None = None) -> Window:
    """A `from`/`to` pair as the API reads it (dates in Asia/Shanghai)."""
    return Window.parse(start, end, TZ)


def now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Reader:
    """One read-model implementation over one store."""

    name: str
    model: ReadModel
    project: Callable[[], object]
    worker: ProjectionWorker | None = None

    def __call__(self) -> ReadModel:
        """When projected: bring the views up to the log's head, then answer."""
        self.project()
        return self.model


def make_reader(app: FieldLog, name: str) -> Reader:
    if name == "projected":
        worker = ProjectionWorker(app)
        return Reader(name, ProjectedReadModel(worker), worker.catch_up, worker)
    if name == "log":
        return Reader(name, LogReadModel(app), lambda: None)
    raise ValueError(name)


def by_id(items: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    return {item[key]: item for item in items}


def rows(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A recognition report's people rows by person id, without the names."""
    return {
        r["person_id"]: {k: v for k, v in r.items() if k not in ("person_id", "name")}
        for r in report["people"]
    }


def crew_rows(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        r["crew_id"]: {k: v for k, v in r.items() if k not in ("crew_id", "name")}
        for r in report["crews"]
    }


def counts(
    rescues: int = 0, nominated: int = 0, approved: int = 0, thanks: int = 0
) -> dict[str, int]:
    """A person's counters in a recognition report (crew_id left out)."""
    return {
        "rescues": rescues,
        "commendations_nominated": nominated,
        "commendations_approved": approved,
        "thanks": thanks,
    }


def counters(report: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Each person's counters, without the crew."""
    return {
        pid: {k: v for k, v in row.items() if k != "crew_id"} for pid, row in rows(report).items()
    }


def normalized_crews(crews: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Members in (since, person_id) order: the contract leaves the order of members who
    joined at the same instant (a crew's registration) open."""
    return [
        {**c, "members": sorted(c["members"], key=lambda m: (m["since"], m["person_id"]))}
        for c in crews
    ]


# --- every answer of the read side, for comparing implementations ------------------

ACTORS: tuple[Actor, ...] = (SAFETY, CHIKAN, OTHER_CREW)
DEFAULT_WINDOWS: tuple[tuple[str | None, str | None], ...] = (
    (None, None),
    ("2025-10-16", "2025-10-16"),
    ("2025-10-16T15:21:00+08:00", "2025-10-16T15:27:40+08:00"),
    ("2025-10-17", None),
    (None, "2025-10-20"),
    ("2025-10-21", "2025-10-31"),
    ("2025-11-01", "2025-11-30"),
)
Windows = tuple[tuple[str | None, str | None], ...]


@dataclass
class Questions:
    """What to ask every implementation: who asks, about which crews, people, periods."""

    crews: list[str]
    people: list[str]
    actors: tuple[Actor, ...] = ACTORS
    windows: Windows = DEFAULT_WINDOWS


def people_answers(model: ReadModel, q: Questions) -> dict[str, Any]:
    out: dict[str, Any] = {"people": model.people()}
    for person_id in q.people:
        out[f"person {person_id}"] = model.person(person_id)
    return out


def crews_answers(model: ReadModel, q: Questions) -> dict[str, Any]:
    out: dict[str, Any] = {
        f"crews {a.recorded_by}": normalized_crews(model.crews(a)) for a in q.actors
    }
    for crew_id in q.crews:
        crew = model.crew(crew_id)
        out[f"crew {crew_id}"] = normalized_crews([crew])[0] if crew else None
    return out


def patrols_answers(model: ReadModel, q: Questions) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for actor in q.actors:
        for status in (None, "open", "ended"):
            out[f"patrols {actor.recorded_by} {status}"] = model.patrols(actor, None, status)
        for crew_id in q.crews:
            out[f"patrols {actor.recorded_by} crew={crew_id}"] = model.patrols(actor, crew_id, None)
    return out


def incidents_answers(model: ReadModel, q: Questions) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for actor in q.actors:
        who = actor.recorded_by
        for status in (None, "open", "reviewed"):
            out[f"incidents {who} {status}"] = model.incidents(actor, IncidentFilters(status))
        for kind in ("drowning", "cardiac_arrest", "fall"):
            out[f"incidents {who} {kind}"] = model.incidents(actor, IncidentFilters(kind=kind))
        for crew_id in q.crews:
            filters = IncidentFilters(crew_id=crew_id)
            out[f"incidents {who} crew={crew_id}"] = model.incidents(actor, filters)
        for start, end in q.windows:
            filters = IncidentFilters(window=window(start, end))
            out[f"incidents {who} {start}..{end}"] = model.incidents(actor, filters)
            filters = IncidentFilters(status="open", window=window(start, end))
            out[f"incidents {who} open {start}..{end}"] = model.incidents(actor, filters)
    return out


def commendations_answers(model: ReadModel, q: Questions) -> dict[str, Any]:
    return {f"commendations {a.recorded_by}": model.commendations(a) for a in (*q.actors, HR)}


def crew_timeline_answers(model: ReadModel, q: Questions) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for start, end in q.windows:
        for crew_id in q.crews:
            for actor in q.actors:
                if actor.owns(crew_id):
                    key = f"crew timeline {crew_id} {actor.recorded_by} {start}..{end}"
                    out[key] = model.crew_timeline(crew_id, window(start, end), actor)
    return out


def person_timeline_answers(model: ReadModel, q: Questions) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for start, end in q.windows:
        for person_id in q.people:
            for actor in (HR, SAFETY):
                key = f"person timeline {person_id} {actor.recorded_by} {start}..{end}"
                out[key] = model.person_timeline(person_id, window(start, end), actor)
    return out


def recognition_answers(model: ReadModel, q: Questions) -> dict[str, Any]:
    return {
        f"recognition {start}..{end}": model.recognition(window(start, end))
        for start, end in q.windows
    }


VIEWS: dict[str, Callable[[ReadModel, Questions], dict[str, Any]]] = {
    "people": people_answers,
    "crews": crews_answers,
    "patrols": patrols_answers,
    "incidents": incidents_answers,
    "commendations": commendations_answers,
    "crew timelines": crew_timeline_answers,
    "person timelines": person_timeline_answers,
    "recognition": recognition_answers,
}


def answers(model: ReadModel, q: Questions) -> dict[str, Any]:
    """Every list, timeline and report the read side answers, keyed by question."""
    out: dict[str, Any] = {}
    for view in VIEWS.values():
        out.update(view(model, q))
    return out


def differences(left: dict[str, Any], right: dict[str, Any]) -> list[str]:
    """The questions two implementations answer differently (empty when they agree)."""
    return [k for k in sorted(left.keys() | right.keys()) if left.get(k) != right.get(k)]


# --- a history with something of everything ------------------------------------------

BEFORE_THE_STORIES = datetime(2025, 10, 1, tzinfo=TZ)


def register_backdated(app: FieldLog) -> None:
    """The seed registry, as crews that existed before the log (since 1 October)."""
    for person_id, name in PEOPLE.items():
        app.register_person(person_id, name, ADMIN, since=BEFORE_THE_STORIES)
    for crew_id, (name, members) in CREWS.items():
        app.register_crew(crew_id, name, members, ADMIN, since=BEFORE_THE_STORIES)


def file_stories(app: FieldLog) -> None:
    """Both stories with late syncs, corrections, reviews, thanks, victim details (one
    incident's erased) and commendations, plus a later fall; 周立辉 also joins the
    scenic-area staff, and 岑旭敏 leaves it after the stories."""
    register_backdated(app)
    app.join_crew(SCENIC, ZHOU, ADMIN)
    d = Drowning()
    ambulance, helpers = d.ambulance_called(), d.helpers_joined()
    given(app, d.patrol_started(), d.incident_opened(patrol_id=d.patrol_id), d.sighting())
    given(app, d.police_called(), d.reached_with_pole(), helpers)
    given(app, d.line_observation(), ambulance, d.pulled_ashore())  # synced late
    given(app, d.handed_over(), d.outcome(), d.victim_details(), d.patrol_ended())
    given(
        app,
        d.correction(ambulance, {"occurred_at": "2025-10-16T15:22:00+08:00"}),
        d.correction(helpers, {"people": [GUAN]}, occurred_at="2025-10-16T18:05:00+08:00"),
    )
    given(app, d.reviewed(), actor=SAFETY)
    given(app, d.thanks())
    given(app, d.reopened(), d.reviewed(occurred_at="2025-10-29T08:00:00+08:00"), actor=SAFETY)
    given(app, d.nominated(), d.endorsed(), actor=SAFETY)
    given(app, d.approved(), actor=HR)
    lone = Drowning(incident_id=d.incident_id)
    given(app, lone.nominated(nominees=[ZHOU], occurred_at="2025-10-29T10:00:00+08:00"))
    given(app, lone.rejected(occurred_at="2025-11-05T10:00:00+08:00"), actor=HR)

    c = Collapse()
    opened = c.incident_opened()
    given(app, c.patrol_started(), opened, c.aed_shock(), actor=OTHER_CREW)
    scenic = Drowning(incident_id=c.incident_id)
    given(
        app,
        scenic.correction(
            opened, {"occurred_at": "2025-10-16T10:01:30+08:00", "time_certainty": "estimated"}
        ),
        scenic.thanks(occurred_at="2025-10-25T10:00:00+08:00"),
        scenic.victim_details(name="游客（化名）", occurred_at="2025-10-16T11:00:00+08:00"),
        actor=OTHER_CREW,
    )
    app.leave_crew(SCENIC, CEN, ADMIN)  # after the stories: past reports still name it
    # The drowning's personal data is erased; the collapse's is kept.
    assert app.erase_personal_data(UUID(d.incident_id), ADMIN).result == "stored"
    given(
        app,
        scenic.nominated(nominees=[CEN, ZHOU_WANG], occurred_at="2025-10-20T09:00:00+08:00"),
        scenic.endorsed(occurred_at="2025-10-21T09:00:00+08:00"),
        actor=SAFETY,
    )

    f = Drowning()
    given(
        app,
        f.incident_opened(
            kind="fall", title="巡线途中路人摔倒", occurred_at="2025-10-18T09:00:00+08:00"
        ),
        f.police_called(people=[ZHOU, CHEN], occurred_at="2025-10-18T09:01:00+08:00"),
        f.reached_with_pole(action="first_aid", people=[], occurred_at="2025-10-18T09:02:00+08:00"),
        f.thanks(occurred_at="2025-11-02T10:00:00+08:00"),
    )

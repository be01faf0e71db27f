"""Property: for any history, the views built incrementally equal a full rebuild, and
both equal the answers computed straight from the log.

Histories are random: three crews, five people, incidents of every kind with calls,
actions, helpers, thanks, victim details, corrections of times and people, reviews and
reopenings, commendations through their lifecycle, patrols, members joining crews.
Events are filed through `FieldLog.submit` (a lifecycle-breaking one is refused as
`invalid` and stores nothing), and the worker catches up at random points in between.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incidents.application import FieldLog
from incidents.roles import Actor
from tests.conftest import POSTGRES_URL, reset_postgres
from tests.scenario import ADMIN, CHIKAN, CHIKAN_MV, HR, PEOPLE, SAFETY, SCENIC
from tests.test_projections_support import (
    TZ,
    Questions,
    answers,
    differences,
    make_reader,
    register_backdated,
    store_settings,
)

NOT_TARGETED = ("EntryCorrected", "VictimDetailsRecorded", "IncidentReviewed", "IncidentReopened")
NIGHT = "night-shift"
NIGHT_TABLET = Actor("crew", "night-tablet", NIGHT)
CREW_IDS = (CHIKAN_MV, SCENIC, NIGHT)
PERSON_IDS = tuple(sorted(PEOPLE))
START = datetime(2025, 10, 16, tzinfo=TZ)
QUESTIONS = Questions(
    crews=list(CREW_IDS),
    people=list(PERSON_IDS),
    actors=(SAFETY, CHIKAN, NIGHT_TABLET),
    windows=(
        (None, None),
        ("2025-10-16", "2025-10-18"),
        ("2025-10-19T08:30:00+08:00", "2025-10-24T12:00:00+08:00"),
    ),
)

minutes = st.integers(min_value=0, max_value=60 * 24 * 12)  # twelve days from the 16th
people = st.lists(st.sampled_from(PERSON_IDS), max_size=3, unique=True)
index = st.integers(min_value=0, max_value=1000)

ACT = st.tuples(
    st.just("act"),
    index,
    st.sampled_from(["EmergencyServicesCalled", "RescueActionTaken"]),
    people,
    minutes,
)
CORRECT = st.tuples(
    st.just("correct"),
    index,
    index,
    st.sampled_from(["time", "people", "certainty"]),
    people,
    minutes,
)
OPS = st.one_of(
    st.tuples(
        st.just("open"),
        st.sampled_from(CREW_IDS),
        st.sampled_from(["drowning", "cardiac_arrest", "fall", "electrical"]),
        minutes,
    ),
    ACT,
    ACT,
    CORRECT,
    CORRECT,
    st.tuples(st.just("helpers"), index, people, minutes),
    st.tuples(st.just("observation"), index, minutes),
    st.tuples(st.just("thanks"), index, minutes),
    st.tuples(st.just("victim"), index, minutes),
    st.tuples(st.just("review"), index, minutes),
    st.tuples(st.just("reopen"), index, minutes),
    st.tuples(st.just("nominate"), index, people, minutes),
    st.tuples(st.just("decide"), index, st.sampled_from(["endorse", "approve", "reject"]), minutes),
    st.tuples(st.just("patrol"), st.sampled_from(CREW_IDS), people, minutes),
    st.tuples(st.just("patrol_event"), index, st.sampled_from(["observe", "end"]), minutes),
    st.tuples(st.just("join"), st.sampled_from(CREW_IDS), st.sampled_from(PERSON_IDS)),
    st.tuples(st.just("project")),
)


@dataclass
class History:
    """Files random operations and remembers what it filed, to aim the next ones."""

    app: FieldLog
    incidents: list[str] = field(default_factory=list)
    entries: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    commendations: list[str] = field(default_factory=list)
    patrols: list[str] = field(default_factory=list)
    filed: int = 0

    def at(self, minute: int) -> str:
        # Every time is unique (a millisecond per filing): orders never hang on ties the
        # contract leaves open (patrols and commendations with the same start).
        self.filed += 1
        instant = START + timedelta(minutes=minute, milliseconds=self.filed)
        return instant.isoformat()

    def submit(self, raw: dict[str, Any], actor: Actor = SAFETY) -> bool:
        outcome = self.app.submit(raw, actor)
        assert outcome.result in ("stored", "invalid"), (raw, outcome)
        return outcome.result == "stored"

    def event(self, event_type: str, stream: str, minute: int, /, **payload: Any) -> dict[str, Any]:
        return {
            "event_id": str(uuid4()),
            "type": event_type,
            "stream_id": stream,
            "occurred_at": self.at(minute),
            **payload,
        }

    def pick(self, items: list[str], i: int) -> str | None:
        return items[i % len(items)] if items else None

    def on_incident(self, i: int, kind: str, minute: int, /, **payload: Any) -> None:
        incident = self.pick(self.incidents, i)
        if incident is None:
            return
        raw = self.event(kind, incident, minute, **payload)
        correctable = kind not in NOT_TARGETED
        if self.submit(raw) and correctable:
            self.entries[incident].append(raw)

    def run(self, op: tuple[Any, ...], project: Any) -> None:
        name, *args = op
        if name == "open":
            crew, kind, minute = args
            stream = str(uuid4())
            raw = self.event(
                "IncidentOpened",
                stream,
                minute,
                kind=kind,
                title=f"{kind} #{len(self.incidents)}",
                crew_id=crew,
                location={"place": "潭江"},
            )
            assert self.submit(raw)
            self.incidents.append(stream)
            self.entries[stream] = [raw]
        elif name == "act":
            i, kind, who, minute = args
            field_ = (
                {"service": "police_110"}
                if kind == "EmergencyServicesCalled"
                else {"action": "reach_with_pole"}
            )
            self.on_incident(i, kind, minute, people=who, **field_)
        elif name == "helpers":
            i, who, minute = args
            extra = {"people": who} if who else {}
            self.on_incident(i, "HelperJoined", minute, description="船民加入救援", **extra)
        elif name == "observation":
            self.on_incident(args[0], "ObservationRecorded", args[1], description="水流湍急")
        elif name == "thanks":
            self.on_incident(args[0], "ThanksReceived", args[1], **{"from": "家属"})
        elif name == "victim":
            self.on_incident(args[0], "VictimDetailsRecorded", args[1], name="落水者", age=60)
        elif name == "correct":
            i, j, what, who, minute = args
            incident = self.pick(self.incidents, i)
            if incident is None:
                return
            target = self.entries[incident][j % len(self.entries[incident])]
            if what == "time":
                changes: dict[str, Any] = {"occurred_at": self.at(minute)}
            elif what == "certainty":
                changes = {"time_certainty": "estimated"}
            elif target["type"] in ("EmergencyServicesCalled", "RescueActionTaken"):
                changes = {"people": who}
            elif target["type"] == "HelperJoined":
                changes = {"people": who or None}
            else:
                changes = {"occurred_at": self.at(minute), "time_certainty": "unknown"}
            self.on_incident(
                i,
                "EntryCorrected",
                minute,
                corrects_event_id=target["event_id"],
                changes=changes,
                reason="核对后更正",
            )
        elif name == "review":
            self.on_incident(args[0], "IncidentReviewed", args[1], findings="处置得当")
        elif name == "reopen":
            self.on_incident(args[0], "IncidentReopened", args[1], reason="补充记录")
        elif name == "nominate":
            i, who, minute = args
            incident = self.pick(self.incidents, i)
            if incident is None or not who:
                return
            stream = str(uuid4())
            raw = self.event(
                "CommendationNominated",
                stream,
                minute,
                nominees=who,
                incident_id=incident,
                citation="见义勇为",
            )
            assert self.submit(raw)
            self.commendations.append(stream)
        elif name == "decide":
            i, decision, minute = args
            commendation = self.pick(self.commendations, i)
            if commendation is None:
                return
            if decision != "reject":  # an approval needs an endorsement first
                self.submit(self.event("CommendationEndorsed", commendation, minute, note="同意"))
            if decision != "endorse":
                kind, payload = {
                    "approve": ("CommendationApproved", {"award": "嘉奖"}),
                    "reject": ("CommendationRejected", {"reason": "重复"}),
                }[decision]
                self.submit(self.event(kind, commendation, minute + 60, **payload), HR)
        elif name == "patrol":
            crew, who, minute = args
            stream = str(uuid4())
            raw = self.event("PatrolStarted", stream, minute, crew_id=crew, line="10kV", people=who)
            assert self.submit(raw)
            self.patrols.append(stream)
        elif name == "patrol_event":
            i, what, minute = args
            patrol = self.pick(self.patrols, i)
            if patrol is None:
                return
            if what == "observe":
                raw = self.event(
                    "LineObservationRecorded",
                    patrol,
                    minute,
                    category="hazard",
                    severity="high",
                    description="树障",
                )
            else:
                raw = self.event("PatrolEnded", patrol, minute, summary="巡视完成")
            self.submit(raw)
        elif name == "join":
            crew, person = args
            self.app.join_crew(crew, person, ADMIN)
        elif name == "project":
            project()


@contextmanager
def fresh_store(kind: str) -> Iterator[FieldLog]:
    with tempfile.TemporaryDirectory() as folder:
        if kind == "sqlite":
            url = f"sqlite:///{folder}/fieldlog.sqlite"
        else:
            reset_postgres(POSTGRES_URL)
            url = POSTGRES_URL
        app = FieldLog(store_settings(url))
        try:
            register_backdated(app)
            app.register_crew(NIGHT, "夜班抢修", [], ADMIN)
            yield app
        finally:
            app.close()


def check_history(kind: str, ops: list[tuple[Any, ...]]) -> None:
    with fresh_store(kind) as app:
        projected = make_reader(app, "projected")
        worker = projected.worker
        assert worker is not None
        history = History(app)
        for op in ops:
            history.run(op, worker.catch_up)

        incremental = answers(projected(), QUESTIONS)
        worker.rebuild()
        rebuilt = answers(projected.model, QUESTIONS)
        from_the_log = answers(make_reader(app, "log")(), QUESTIONS)

        assert differences(incremental, rebuilt) == []
        assert differences(rebuilt, from_the_log) == []
        assert set(worker.positions().values()) == {worker.head()}


FIRST_INCIDENTS = st.lists(
    st.tuples(st.just("open"), st.sampled_from(CREW_IDS), st.just("drowning"), minutes),
    min_size=1,
    max_size=3,
)
HISTORIES = st.builds(
    lambda first, rest: first + rest, FIRST_INCIDENTS, st.lists(OPS, min_size=20, max_size=45)
)
PROPERTY = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@PROPERTY
@given(ops=HISTORIES)
def test_incremental_views_equal_a_rebuild_and_the_log_on_sqlite(
    ops: list[tuple[Any, ...]],
) -> None:
    check_history("sqlite", ops)


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_URL, reason="FIELDLOG_TEST_POSTGRES is not set")
@settings(PROPERTY, max_examples=5)
@given(ops=HISTORIES)
def test_incremental_views_equal_a_rebuild_and_the_log_on_postgres(
    ops: list[tuple[Any, ...]],
) -> None:
    check_history("postgres", ops)

"""A stateful property of the incident and commendation lifecycles, against a model.

Hypothesis drives a `RuleBasedStateMachine` that files random moves through
`FieldLog.submit` (and tablet queues through `FieldLog.submit_many`) with the actors
of the contract's role table: both crews' tablets, the safety office, the operator
and HR. The moves are valid and invalid alike: incidents opened, observations,
calls, rescue actions, reviews, reopens, corrections (of every kind of entry, with
allowed and forbidden changes), nominations, endorsements, approvals, rejections,
resends of stored events (same content: `duplicate`; other content: `conflict`),
stale `expected_version`, events for streams that do not exist, and every move by a
role that may not make it.

A simple model predicts each answer: `stored` (at which version), `duplicate` (with
the original version and position), `conflict` or `invalid` (and whether the API
shows it as 403 `forbidden` or 404 `not_found`). After every step:

- each stream's version is the number of its stored events, 1..n, and its events are
  the ones the model stored, in order;
- `incidents.replay.incident_state` over the incident's stored events agrees with
  the model: status `open`/`reviewed`, `new_since_review`, version, corrections,
  and the occurred_at of every entry as corrected;
- each commendation's status is the model's;
- a refused move stores nothing: the log's head grows only by the stored events.

Impossible moves are therefore refused: a second review without a reopen, a reopen
of an open incident, an approval without an endorsement, anything after an approval
or a rejection.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from incidents.application import FieldLog
from incidents.commendation import Commendation
from incidents.outcome import Outcome
from incidents.replay import corrected_entries, incident_state
from incidents.roles import MAY_FILE, Actor
from projections.queries import LogReadModel
from tests.conftest import ADMIN, CHIKAN, HR, OTHER_CREW, POSTGRES_URL, SAFETY, reset_postgres
from tests.conftest import test_settings as store_settings
from tests.scenario import CEN, CHEN, CHIKAN_MV, GUAN, SCENIC, ZHOU, ZHOU_WANG, register_seed

ACTORS = (CHIKAN, OTHER_CREW, SAFETY, ADMIN, HR)
MEMBERS = {CHIKAN_MV: (ZHOU, GUAN, CHEN), SCENIC: (ZHOU_WANG, CEN)}
CST = timezone(timedelta(hours=8))
START = datetime(2025, 10, 16, 15, 20, tzinfo=CST)
UNCORRECTABLE = ("EntryCorrected", "VictimDetailsRecorded", "PersonalDataErased")
FACT_TYPES = (
    "ObservationRecorded",
    "EmergencyServicesCalled",
    "RescueActionTaken",
    "HelperJoined",
    "VictimHandedOver",
    "OutcomeRecorded",
    "ThanksReceived",
)
DECISIONS = ("CommendationEndorsed", "CommendationApproved", "CommendationRejected")
# correctable changes (by target type) and changes a correction may never make
ENVELOPE_CHANGES = ("occurred_at", "time_certainty")
FORBIDDEN_CHANGES = ({"crew_id": SCENIC}, {"recorded_by": "admin:x"}, {"no_such_field": 1})


def payload_for(kind: str, crew_id: str, n: int) -> dict[str, Any]:
    person = MEMBERS[crew_id][n % len(MEMBERS[crew_id])]
    return {
        "ObservationRecorded": {"description": f"现场记录 {n}"},
        "EmergencyServicesCalled": {"service": "ambulance_120", "people": [person]},
        "RescueActionTaken": {"action": "reach_with_pole", "people": [person]},
        "HelperJoined": {"description": "途经的船民加入救援"},
        "VictimHandedOver": {"to": "120 救护车"},
        "OutcomeRecorded": {"outcome": "recovered"},
        "ThanksReceived": {"from": "获救者家属", "via": "赤坎派出所"},
        "IncidentReviewed": {"findings": f"复核 {n}：处置得当"},
        "IncidentReopened": {"reason": f"补充记录 {n}"},
        "CommendationEndorsed": {"note": "同意推荐"},
        "CommendationApproved": {"award": "见义勇为先进个人"},
        "CommendationRejected": {"reason": "不重复表彰"},
    }[kind]


# --- the model -------------------------------------------------------------------


@dataclass
class Entry:
    type: str
    crew_filed: bool
    occurred_at: datetime


@dataclass
class IncidentModel:
    incident_id: str
    crew_id: str
    status: str = "open"
    entries: dict[str, Entry] = field(default_factory=dict)  # in version order
    last_review: int | None = None
    corrections: int = 0

    @property
    def version(self) -> int:
        return len(self.entries)


@dataclass
class CommendationModel:
    commendation_id: str
    incident_id: str
    crew_id: str
    status: str = "nominated"
    event_ids: list[str] = field(default_factory=list)

    @property
    def version(self) -> int:
        return len(self.event_ids)


@dataclass
class Sent:
    """A stored event: what was sent, by whom, and where it landed."""

    raw: dict[str, Any]
    actor: Actor
    stream_id: str
    version: int
    position: int | None = None


@dataclass
class Expected:
    result: str
    refusal: str | None = None
    version: int | None = None
    duplicate_of: str | None = None


def content(raw: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in raw.items() if k != "expected_version"}


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


class Lifecycles(RuleBasedStateMachine):
    """One fresh store per example; the model lives beside it."""

    db_url: str = ""  # set by the test (a fresh SQLite file per example, or PostgreSQL)

    def __init__(self) -> None:
        super().__init__()
        self.workdir: str | None = None
        url = self.db_url
        if url == "sqlite":
            self.workdir = tempfile.mkdtemp(prefix="fieldlog-stateful-")
            url = f"sqlite:///{self.workdir}/fieldlog.sqlite"
        else:
            reset_postgres(url)
        self.app = FieldLog(store_settings(url))
        register_seed(self.app)
        self.base_head = self.head()
        self.incidents: dict[str, IncidentModel] = {}
        self.commendations: dict[str, CommendationModel] = {}
        self.sent: dict[str, Sent] = {}
        self.last_position = self.base_head
        self.counter = 0

    def teardown(self) -> None:
        self.app.close()
        if self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def head(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    # --- building moves ---------------------------------------------------------

    def envelope(self, data: st.DataObject, kind: str, stream_id: str) -> dict[str, Any]:
        self.counter += 1
        minutes = data.draw(st.integers(0, 600), label="minutes")
        return {
            "event_id": str(uuid4()),
            "type": kind,
            "stream_id": stream_id,
            "occurred_at": (START + timedelta(minutes=minutes)).isoformat(),
        }

    def expected_version(self, data: st.DataObject, current: int) -> dict[str, Any]:
        choice = data.draw(
            st.sampled_from(["none", "none", "none", "none", "right", "stale", "ahead"]), label="ev"
        )
        if choice == "none":
            return {}
        return {
            "expected_version": {"right": current, "stale": current - 1, "ahead": current + 1}[
                choice
            ]
        }

    def pick_incident(self, data: st.DataObject) -> IncidentModel:
        return self.incidents[data.draw(st.sampled_from(list(self.incidents)), label="incident")]

    def pick_commendation(self, data: st.DataObject) -> CommendationModel:
        key = data.draw(st.sampled_from(list(self.commendations)), label="commendation")
        return self.commendations[key]

    def build_open(self, data: st.DataObject, actor: Actor) -> dict[str, Any]:
        crew_id = data.draw(st.sampled_from([CHIKAN_MV, SCENIC]), label="crew")
        raw = self.envelope(data, "IncidentOpened", str(uuid4()))
        extra = data.draw(
            st.sampled_from([{}, {}, {"expected_version": 0}, {"expected_version": 1}])
        )
        return (
            raw
            | extra
            | {
                "kind": data.draw(st.sampled_from(["drowning", "cardiac_arrest"]), label="kind"),
                "title": f"事件 {self.counter}",
                "crew_id": crew_id,
                "location": {"place": "江南桥下"},
            }
        )

    def build_reopen_existing_stream(self, data: st.DataObject, actor: Actor) -> dict[str, Any]:
        """IncidentOpened again on an existing incident the actor may see. (Another
        crew's incident answers 404: the test at the end of this module.)"""
        mine = [i for i in self.incidents.values() if actor.owns(i.crew_id)]
        if not mine:
            return self.build_open(data, actor)
        incident = data.draw(st.sampled_from(mine), label="incident")
        raw = self.envelope(data, "IncidentOpened", incident.incident_id)
        return raw | {
            "kind": "drowning",
            "title": "重复开立",
            "crew_id": incident.crew_id,
            "location": {"place": "江南桥下"},
        }

    def build_fact(self, data: st.DataObject, actor: Actor) -> dict[str, Any]:
        incident = self.pick_incident(data)
        kind = data.draw(st.sampled_from(FACT_TYPES), label="type")
        raw = self.envelope(data, kind, incident.incident_id)
        return (
            raw
            | self.expected_version(data, incident.version)
            | payload_for(kind, incident.crew_id, self.counter)
        )

    def build_lifecycle(self, data: st.DataObject, actor: Actor) -> dict[str, Any]:
        incident = self.pick_incident(data)
        kind = data.draw(st.sampled_from(["IncidentReviewed", "IncidentReopened"]), label="type")
        raw = self.envelope(data, kind, incident.incident_id)
        return (
            raw
            | self.expected_version(data, incident.version)
            | payload_for(kind, incident.crew_id, self.counter)
        )

    def build_correction(self, data: st.DataObject, actor: Actor) -> dict[str, Any]:
        incident = self.pick_incident(data)
        targets = [*incident.entries, str(uuid4())]  # and one that is not there
        target = data.draw(st.sampled_from(targets), label="target")
        change = data.draw(st.sampled_from(["occurred_at", "time_certainty", "forbidden"]))
        if change == "occurred_at":
            minutes = data.draw(st.integers(0, 600), label="corrected")
            offset = data.draw(st.sampled_from([8, 0, -5]), label="offset")
            at = (START + timedelta(minutes=minutes)).astimezone(timezone(timedelta(hours=offset)))
            changes: dict[str, Any] = {"occurred_at": at.isoformat()}
        elif change == "time_certainty":
            changes = {"time_certainty": data.draw(st.sampled_from(["estimated", "unknown"]))}
        else:
            changes = data.draw(st.sampled_from(FORBIDDEN_CHANGES))
        raw = self.envelope(data, "EntryCorrected", incident.incident_id)
        return raw | {"corrects_event_id": target, "changes": changes, "reason": "核对后更正"}

    def build_nomination(self, data: st.DataObject, actor: Actor) -> dict[str, Any]:
        incident = self.pick_incident(data)
        raw = self.envelope(data, "CommendationNominated", str(uuid4()))
        return raw | {
            "nominees": list(MEMBERS[incident.crew_id]),
            "incident_id": incident.incident_id,
            "citation": "见义勇为",
        }

    def build_decision(
        self, data: st.DataObject, actor: Actor, kinds: tuple[str, ...] = DECISIONS
    ) -> dict[str, Any]:
        commendation = self.pick_commendation(data)
        kind = data.draw(st.sampled_from(kinds), label="type")
        raw = self.envelope(data, kind, commendation.commendation_id)
        return (
            raw
            | self.expected_version(data, commendation.version)
            | payload_for(kind, CHIKAN_MV, self.counter)
        )

    def build_resend(self, data: st.DataObject, actor: Actor) -> dict[str, Any]:
        """A stored event again: the same content (any expected_version), or changed."""
        sent = self.sent[data.draw(st.sampled_from(list(self.sent)), label="resent")]
        raw = dict(sent.raw)
        raw.pop("expected_version", None)
        raw |= data.draw(st.sampled_from([{}, {"expected_version": 0}, {"expected_version": 7}]))
        how = data.draw(st.sampled_from(["same", "same", "other_clock", "changed"]), label="how")
        if how == "other_clock":  # the same instant on another clock is the same content
            raw["occurred_at"] = instant(raw["occurred_at"]).astimezone(UTC).isoformat()
        elif how == "changed":
            raw["occurred_at"] = (instant(raw["occurred_at"]) + timedelta(minutes=1)).isoformat()
        return raw

    def build_orphan(self, data: st.DataObject, actor: Actor) -> dict[str, Any]:
        """An event for a stream that was never opened."""
        kind = data.draw(st.sampled_from([*FACT_TYPES, "CommendationEndorsed"]), label="type")
        raw = self.envelope(data, kind, str(uuid4()))
        return raw | payload_for(kind, CHIKAN_MV, self.counter)

    def builders(self) -> list[Any]:
        found: list[Any] = [self.build_open, self.build_orphan]
        if self.incidents:
            found += [
                self.build_fact,
                self.build_lifecycle,
                self.build_correction,
                self.build_nomination,
                self.build_reopen_existing_stream,
            ]
        if self.commendations:
            found.append(self.build_decision)
        if self.sent:
            found.append(self.build_resend)
        return found

    # --- predicting -------------------------------------------------------------

    def owner_of(self, stream_id: str) -> str | None:
        if stream_id in self.incidents:
            return self.incidents[stream_id].crew_id
        if stream_id in self.commendations:
            return self.commendations[stream_id].crew_id
        return None

    def predict(self, raw: dict[str, Any], actor: Actor) -> Expected:  # noqa: PLR0911
        """The answer the contract gives; a stored move is applied to the model."""
        kind, stream_id, event_id = raw["type"], raw["stream_id"], raw["event_id"]
        if kind not in MAY_FILE[actor.role]:
            return Expected("invalid", "forbidden")
        if event_id in self.sent:
            sent = self.sent[event_id]
            if actor.is_crew and self.owner_of(sent.stream_id) != actor.crew_id:
                return Expected("invalid", "not_found")
            same = {**content(raw), "occurred_at": instant(raw["occurred_at"])} == {
                **content(sent.raw),
                "occurred_at": instant(sent.raw["occurred_at"]),
            }
            if not same:
                return Expected("conflict")
            return Expected("duplicate", version=sent.version, duplicate_of=event_id)
        expected_version = raw.get("expected_version")
        if kind in ("IncidentOpened", "CommendationNominated"):
            if stream_id in self.incidents or stream_id in self.commendations:
                if actor.is_crew and self.owner_of(stream_id) != actor.crew_id:
                    return Expected("invalid", "not_found")  # 404: existence unrevealed
                return Expected("conflict")
            if expected_version not in (None, 0):
                return Expected("conflict")
            if kind == "IncidentOpened":
                if actor.is_crew and raw["crew_id"] != actor.crew_id:
                    return Expected("invalid", "forbidden")
                incident = IncidentModel(stream_id, raw["crew_id"])
                self.incidents[stream_id] = incident
                return self.stored(raw, actor, incident)
            target = self.incidents.get(raw["incident_id"])
            if target is None or (actor.is_crew and target.crew_id != actor.crew_id):
                return Expected("invalid")
            commendation = CommendationModel(stream_id, target.incident_id, target.crew_id)
            self.commendations[stream_id] = commendation
            return self.stored(raw, actor, commendation)

        if kind.startswith("Commendation"):
            commendation = self.commendations.get(stream_id)
            if commendation is None:
                return Expected("invalid")
            if actor.is_crew and commendation.crew_id != actor.crew_id:
                return Expected("invalid", "not_found")
            if expected_version is not None and expected_version != commendation.version:
                return Expected("conflict")
            if commendation.status in ("approved", "rejected"):
                return Expected("invalid")
            if kind == "CommendationEndorsed" and commendation.status != "nominated":
                return Expected("invalid")
            if kind == "CommendationApproved" and commendation.status != "endorsed":
                return Expected("invalid")
            commendation.status = {
                "CommendationEndorsed": "endorsed",
                "CommendationApproved": "approved",
                "CommendationRejected": "rejected",
            }[kind]
            return self.stored(raw, actor, commendation)

        incident = self.incidents.get(stream_id)
        if incident is None:
            return Expected("invalid")
        if actor.is_crew and incident.crew_id != actor.crew_id:
            return Expected("invalid", "not_found")
        if expected_version is not None and expected_version != incident.version:
            return Expected("conflict")
        if kind == "IncidentReviewed":
            if incident.status == "reviewed":
                return Expected("invalid")
            incident.status = "reviewed"
            incident.last_review = incident.version + 1
        elif kind == "IncidentReopened":
            if incident.status != "reviewed":
                return Expected("invalid")
            incident.status = "open"
        elif kind == "EntryCorrected":
            target = incident.entries.get(raw["corrects_event_id"])
            if target is None or target.type in UNCORRECTABLE:
                return Expected("invalid")
            if actor.is_crew and not target.crew_filed:
                return Expected("invalid", "forbidden")
            if not set(raw["changes"]) <= set(ENVELOPE_CHANGES):
                return Expected("invalid")
            if "occurred_at" in raw["changes"]:
                target.occurred_at = instant(raw["changes"]["occurred_at"])
            incident.corrections += 1
        return self.stored(raw, actor, incident)

    def stored(
        self, raw: dict[str, Any], actor: Actor, stream: IncidentModel | CommendationModel
    ) -> Expected:
        if isinstance(stream, IncidentModel):
            stream.entries[raw["event_id"]] = Entry(
                raw["type"], actor.is_crew, instant(raw["occurred_at"])
            )
        else:
            stream.event_ids.append(raw["event_id"])
        self.sent[raw["event_id"]] = Sent(raw, actor, raw["stream_id"], stream.version)
        return Expected("stored", version=stream.version)

    def check(self, raw: dict[str, Any], expected: Expected, outcome: Outcome) -> None:
        seen = (outcome.result, outcome.refusal if outcome.result == "invalid" else None)
        event(f"{raw['type']}: {expected.result} {expected.refusal or ''}".strip())
        assert seen == (expected.result, expected.refusal), (raw, outcome)
        assert outcome.event_id == raw["event_id"]
        if expected.result == "stored":
            assert outcome.version == expected.version, (raw, outcome)
            assert outcome.position is not None
            assert outcome.position > self.last_position, "positions only grow"
            self.last_position = outcome.position
            self.sent[raw["event_id"]].position = outcome.position
        elif expected.result == "duplicate":
            assert expected.duplicate_of is not None
            original = self.sent[expected.duplicate_of]
            assert (outcome.version, outcome.position) == (original.version, original.position)
        elif expected.result == "conflict":
            assert outcome.detail

    # --- rules ------------------------------------------------------------------

    @rule(data=st.data(), actor=st.sampled_from(ACTORS))
    def open_incident(self, data: st.DataObject, actor: Actor) -> None:
        self.file_one(self.build_open(data, actor), actor)

    @precondition(lambda self: self.incidents)
    @rule(data=st.data(), actor=st.sampled_from(ACTORS))
    def file_fact(self, data: st.DataObject, actor: Actor) -> None:
        self.file_one(self.build_fact(data, actor), actor)

    @precondition(lambda self: self.incidents)
    @rule(data=st.data(), actor=st.sampled_from(ACTORS))
    def review_or_reopen(self, data: st.DataObject, actor: Actor) -> None:
        self.file_one(self.build_lifecycle(data, actor), actor)

    @precondition(lambda self: self.incidents)
    @rule(data=st.data(), actor=st.sampled_from((SAFETY, ADMIN)))
    def office_review_or_reopen(self, data: st.DataObject, actor: Actor) -> None:
        """The office's moves are the ones that change status: drawn more often."""
        self.file_one(self.build_lifecycle(data, actor), actor)

    @precondition(lambda self: self.incidents)
    @rule(data=st.data(), actor=st.sampled_from(ACTORS))
    def correct(self, data: st.DataObject, actor: Actor) -> None:
        self.file_one(self.build_correction(data, actor), actor)

    @precondition(lambda self: self.incidents)
    @rule(data=st.data(), who=st.sampled_from(["tablet", "safety", "admin", "hr"]))
    def open_an_existing_incident_again(self, data: st.DataObject, who: str) -> None:
        """By its own crew's tablet or the office: a conflict (HR may not file it)."""
        raw = self.build_reopen_existing_stream(data, SAFETY)
        incident = self.incidents[raw["stream_id"]]
        tablet = CHIKAN if incident.crew_id == CHIKAN_MV else OTHER_CREW
        actor = {"tablet": tablet, "safety": SAFETY, "admin": ADMIN, "hr": HR}[who]
        self.file_one(raw, actor)

    @precondition(lambda self: self.incidents)
    @rule(data=st.data())
    def its_crew_files(self, data: st.DataObject) -> None:
        """The tablet of the incident's crew files a fact: the common case."""
        raw = self.build_fact(data, CHIKAN)
        crew_id = self.incidents[raw["stream_id"]].crew_id
        self.file_one(raw, CHIKAN if crew_id == CHIKAN_MV else OTHER_CREW)

    @precondition(lambda self: self.incidents)
    @rule(data=st.data(), actor=st.sampled_from(ACTORS))
    def nominate(self, data: st.DataObject, actor: Actor) -> None:
        self.file_one(self.build_nomination(data, actor), actor)

    @precondition(lambda self: self.commendations)
    @rule(data=st.data(), actor=st.sampled_from(ACTORS))
    def decide(self, data: st.DataObject, actor: Actor) -> None:
        self.file_one(self.build_decision(data, actor), actor)

    @precondition(lambda self: self.commendations)
    @rule(data=st.data(), actor=st.sampled_from((SAFETY, ADMIN)))
    def office_endorses(self, data: st.DataObject, actor: Actor) -> None:
        self.file_one(self.build_decision(data, actor, DECISIONS[:1]), actor)

    @precondition(lambda self: self.commendations)
    @rule(data=st.data())
    def hr_decides(self, data: st.DataObject) -> None:
        """HR's moves are the ones that end a commendation: drawn more often."""
        self.file_one(self.build_decision(data, HR, DECISIONS[1:]), HR)

    @precondition(lambda self: self.sent)
    @rule(data=st.data(), actor=st.sampled_from(ACTORS))
    def resend(self, data: st.DataObject, actor: Actor) -> None:
        raw = self.build_resend(data, actor)
        original = self.sent[raw["event_id"]].actor
        who = data.draw(st.sampled_from(["original", "original", "drawn"]), label="who")
        self.file_one(raw, original if who == "original" else actor)

    @rule(data=st.data(), actor=st.sampled_from(ACTORS))
    def orphan(self, data: st.DataObject, actor: Actor) -> None:
        self.file_one(self.build_orphan(data, actor), actor)

    @rule(data=st.data(), actor=st.sampled_from(ACTORS), size=st.integers(1, 5))
    def sync_queue(self, data: st.DataObject, actor: Actor, size: int) -> None:
        """A tablet's queue through submit_many: each move decided after the previous."""
        raws, expectations = [], []
        for _ in range(size):
            build = data.draw(st.sampled_from(self.builders()), label="move")
            raw = build(data, actor)
            raws.append(raw)
            expectations.append(self.predict(raw, actor))
        outcomes = self.app.submit_many(raws, actor)
        assert len(outcomes) == len(raws)
        for raw, expected, outcome in zip(raws, expectations, outcomes, strict=True):
            self.check(raw, expected, outcome)

    def file_one(self, raw: dict[str, Any], actor: Actor) -> None:
        expected = self.predict(raw, actor)
        self.check(raw, expected, self.app.submit(raw, actor))

    # --- invariants -------------------------------------------------------------

    @invariant()
    def nothing_but_the_stored_events_in_the_log(self) -> None:
        stored = sum(i.version for i in self.incidents.values()) + sum(
            c.version for c in self.commendations.values()
        )
        assert self.head() == self.base_head + stored

    @invariant()
    def incidents_read_as_the_model(self) -> None:
        reads = LogReadModel(self.app)
        for incident in self.incidents.values():
            events = reads.incident_events(UUID(incident.incident_id), ADMIN)
            assert events is not None
            assert [e["version"] for e in events] == list(range(1, incident.version + 1))
            assert [e["event_id"] for e in events] == list(incident.entries)
            state = incident_state(events)
            assert state["version"] == incident.version
            assert state["status"] == incident.status, incident
            expected_new = (
                0 if incident.last_review is None else incident.version - incident.last_review
            )
            assert state["new_since_review"] == expected_new
            assert len(state["corrections"]) == incident.corrections
            corrected = {
                e["event_id"]: instant(e["occurred_at"]) for e in corrected_entries(events)
            }
            assert corrected == {k: e.occurred_at for k, e in incident.entries.items()}

    @invariant()
    def commendations_read_as_the_model(self) -> None:
        for commendation in self.commendations.values():
            stream = self.app.get_stream(UUID(commendation.commendation_id), Commendation)
            assert stream is not None
            assert stream.status == commendation.status
            assert stream.version == commendation.version
            facts = self.app.get_facts(UUID(commendation.commendation_id))
            assert [f.event_id for f, _ in facts] == commendation.event_ids


RUN = settings(
    max_examples=25,
    stateful_step_count=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def test_given_random_moves_of_every_role_then_the_lifecycles_follow_the_model_on_sqlite() -> None:
    """Given a fresh SQLite store per example, random valid and invalid moves by every
    role answer as the model predicts and leave the store as the model holds it."""
    Lifecycles.db_url = "sqlite"
    run_state_machine_as_test(Lifecycles, settings=RUN)


@pytest.mark.postgres
@pytest.mark.slow
def test_given_random_moves_of_every_role_then_the_lifecycles_follow_the_model_on_postgres() -> (
    None
):
    """The same on PostgreSQL (each example resets the schema)."""
    if not POSTGRES_URL:
        pytest.skip("FIELDLOG_TEST_POSTGRES is not set")
    Lifecycles.db_url = POSTGRES_URL
    run_state_machine_as_test(Lifecycles, settings=RUN)


@pytest.mark.parametrize("opening", ["IncidentOpened", "CommendationNominated", "PatrolStarted"])
def test_given_another_crews_incident_when_a_crew_opens_a_stream_under_its_id_then_not_found(
    tmp_path: Path, opening: str
) -> None:
    """Given the chikan crew's incident, when the scenic crew's tablet opens a stream
    under the same id, then the answer is the one for any record of another crew:
    `invalid`/not_found (404), not a `conflict` naming the incident's version."""
    from tests.scenario import Collapse, Drowning

    app = FieldLog(store_settings(f"sqlite:///{tmp_path}/fieldlog.sqlite"))
    try:
        register_seed(app)
        drowning = Drowning()
        assert app.submit(drowning.incident_opened(), CHIKAN).result == "stored"
        theirs = Collapse(incident_id=drowning.incident_id)
        own = Collapse()
        assert app.submit(own.incident_opened(), OTHER_CREW).result == "stored"
        raw = {
            "IncidentOpened": theirs.incident_opened,
            "PatrolStarted": Collapse(patrol_id=drowning.incident_id).patrol_started,
            "CommendationNominated": lambda: Drowning(
                commendation_id=drowning.incident_id
            ).nominated(incident_id=own.incident_id, nominees=[ZHOU_WANG]),
        }[opening]()
        outcome = app.submit(raw, OTHER_CREW)
        assert outcome.current_version is None, outcome
        assert (outcome.result, outcome.refusal) == ("invalid", "not_found"), outcome
    finally:
        app.close()

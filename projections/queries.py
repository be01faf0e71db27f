"""The query side behind one interface, so the routes never know how a read is answered.

`LogReadModel` answers from the log itself (per-stream reads from the stream, lists by a
scan); it is the reference the projected read models are checked against.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from incidents.application import FieldLog
from incidents.commendation import Commendation
from incidents.facts import AnyFact
from incidents.incident import Incident, IncidentOpened
from incidents.patrol import Patrol
from incidents.presentation import stored_event
from incidents.registry import Crew, Person
from incidents.replay import corrected_entries, incident_state, replay
from incidents.roles import Actor
from projections.paging import TimelineKey
from projections.views import micros
from projections.window import Window

SCAN_BATCH = 1000


class ReadModel(Protocol):
    # A bounded read may be answered on the event loop, not in a worker thread (see
    # `api.loop_reads`): true where the store is a local file.
    answers_on_the_loop: bool

    def people(self) -> list[dict[str, Any]]: ...
    def person(self, person_id: str) -> dict[str, Any] | None: ...
    def crews(self, actor: Actor) -> list[dict[str, Any]]: ...
    def crew(self, crew_id: str) -> dict[str, Any] | None: ...
    def patrols(
        self,
        actor: Actor,
        crew_id: str | None,
        status: str | None,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[dict[str, Any]]: ...
    def patrol(self, patrol_id: UUID, actor: Actor) -> dict[str, Any] | None: ...
    def incidents(
        self, actor: Actor, filters: IncidentFilters, offset: int = 0, limit: int | None = None
    ) -> list[dict[str, Any]]: ...
    def incident(self, incident_id: UUID, actor: Actor) -> dict[str, Any] | None: ...
    def incident_events(self, incident_id: UUID, actor: Actor) -> list[dict[str, Any]] | None: ...
    def incident_replay(
        self, incident_id: UUID, actor: Actor, as_of: datetime | None, known_at: datetime | None
    ) -> dict[str, Any] | None: ...
    def commendations(
        self,
        actor: Actor,
        status: str | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[dict[str, Any]]: ...
    def commendation(self, commendation_id: UUID, actor: Actor) -> dict[str, Any] | None: ...
    def feed(self, after: int, limit: int, actor: Actor) -> list[dict[str, Any]]: ...
    def crew_timeline(
        self,
        crew_id: str,
        window: Window,
        actor: Actor,
        after: TimelineKey | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]: ...
    def person_timeline(
        self,
        person_id: str,
        window: Window,
        actor: Actor,
        after: TimelineKey | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]: ...
    def recognition(self, window: Window) -> dict[str, Any]: ...
    def head_position(self) -> int: ...


class IncidentFilters:
    def __init__(
        self,
        status: str | None = None,
        crew_id: str | None = None,
        kind: str | None = None,
        window: Window | None = None,
    ) -> None:
        self.status = status
        self.crew_id = crew_id
        self.kind = kind
        self.window = window or Window()

    def keep(self, incident: dict[str, Any]) -> bool:
        return (
            (self.status is None or incident["status"] == self.status)
            and (self.crew_id is None or incident["crew_id"] == self.crew_id)
            and (self.kind is None or incident["kind"] == self.kind)
            and self.window.holds(datetime.fromisoformat(incident["opened_at"]))
        )


def _sliced(items: list[Any], offset: int, limit: int | None) -> list[Any]:
    return items[offset:] if limit is None else items[offset : offset + limit]


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value)


class LogReadModel:
    """Reads answered straight from the event log."""

    answers_on_the_loop = False  # lists are scans of the whole log

    def __init__(self, app: FieldLog) -> None:
        self.app = app

    # --- the log --------------------------------------------------------------

    def scan(self, after: int = 0, limit: int | None = None) -> Iterator[tuple[AnyFact, int]]:
        start = after + 1
        seen = 0
        while True:
            batch = self.app.recorder.select_notifications(start, SCAN_BATCH)
            for n in batch:
                yield self.app.mapper.to_domain_event(n), n.id  # type: ignore[misc]
                seen += 1
                if limit is not None and seen >= limit:
                    return
            if len(batch) < SCAN_BATCH:
                return
            start = batch[-1].id + 1

    def head_position(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    def _stream_events(self, stream_id: UUID, actor: Actor) -> list[dict[str, Any]]:
        return self._presented(self.app.get_facts(stream_id), actor)

    @staticmethod
    def _presented(facts: list[tuple[AnyFact, int]], actor: Actor) -> list[dict[str, Any]]:
        erased = any(type(f).__name__ == "PersonalDataErased" for f, _ in facts)
        return [
            stored_event(f, p, sees_personal_data=actor.sees_personal_data(), erased=erased)
            for f, p in facts
        ]

    def _all_streams(self, actor: Actor) -> dict[str, list[dict[str, Any]]]:
        """Every stream's stored events, in log order, personal data guarded."""
        streams: dict[str, list[dict[str, Any]]] = {}
        for fact, position in self.scan():
            event = stored_event(fact, position, sees_personal_data=actor.sees_personal_data())
            streams.setdefault(event["stream_id"], []).append(event)
        for events in streams.values():
            if any(e["type"] == "PersonalDataErased" for e in events):
                for e in events:
                    if e["type"] == "VictimDetailsRecorded":
                        for k in ("name", "age", "phone"):
                            e.pop(k, None)
                        e["personal_data"] = "erased"
        return streams

    # --- registry -------------------------------------------------------------

    def people(self) -> list[dict[str, Any]]:
        return [p for pid in self.app.registry_ids(Person) if (p := self.person(pid))]

    def person(self, person_id: str) -> dict[str, Any] | None:
        person = self.app.get_person(person_id)
        if person is None:
            return None
        crews = [
            cid
            for cid in self.app.registry_ids(Crew)
            if (c := self.app.get_crew(cid)) and person_id in c.members
        ]
        return {"person_id": person.person_id, "name": person.name, "crews": crews}

    def crews(self, actor: Actor) -> list[dict[str, Any]]:
        ids = self.app.registry_ids(Crew)
        return [c for cid in ids if actor.owns(cid) and (c := self.crew(cid))]

    def crew(self, crew_id: str) -> dict[str, Any] | None:
        crew = self.app.get_crew(crew_id)
        if crew is None:
            return None
        members = []
        order = {p: i for i, p in enumerate(crew.registered_members)}
        ranked = sorted(crew.members.items(), key=lambda m: (m[1], order.get(m[0], 0), m[0]))
        for person_id, since in ranked:
            person = self.app.get_person(person_id)
            members.append(
                {
                    "person_id": person_id,
                    "name": person.name if person else None,
                    "since": since.isoformat(),
                }
            )
        return {"crew_id": crew.crew_id, "name": crew.name, "members": members}

    # --- patrols --------------------------------------------------------------

    def patrols(
        self,
        actor: Actor,
        crew_id: str | None,
        status: str | None,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        found = [
            self._patrol_view(events)
            for events in self._all_streams(actor).values()
            if events[0]["type"] == "PatrolStarted"
        ]
        kept = sorted(
            (
                p
                for p in found
                if actor.owns(p["crew_id"])
                and (crew_id is None or p["crew_id"] == crew_id)
                and (status is None or p["status"] == status)
            ),
            key=lambda p: (_instant(p["started_at"]), p["patrol_id"]),
            reverse=True,
        )
        return _sliced(kept, offset, limit)

    def patrol(self, patrol_id: UUID, actor: Actor) -> dict[str, Any] | None:
        patrol = self.app.get_stream(patrol_id, Patrol)
        if patrol is None or not actor.owns(patrol.crew_id):
            return None
        return self._patrol_view(self._stream_events(patrol_id, actor))

    @staticmethod
    def _patrol_view(events: list[dict[str, Any]]) -> dict[str, Any]:
        started = events[0]
        ended = next((e for e in events if e["type"] == "PatrolEnded"), None)
        return {
            "patrol_id": started["stream_id"],
            "crew_id": started["crew_id"],
            "line": started["line"],
            "people": started["people"],
            "status": "ended" if ended else "open",
            "started_at": started["occurred_at"],
            "ended_at": ended["occurred_at"] if ended else None,
            "summary": ended.get("summary") if ended else None,
            "version": events[-1]["version"],
            "observations": [e for e in events if e["type"] == "LineObservationRecorded"],
        }

    # --- incidents ------------------------------------------------------------

    def incidents(
        self, actor: Actor, filters: IncidentFilters, offset: int = 0, limit: int | None = None
    ) -> list[dict[str, Any]]:
        states = [
            incident_state(events)
            for events in self._all_streams(actor).values()
            if events[0]["type"] == "IncidentOpened"
        ]
        for state in states:
            state.pop("victim", None)  # lists never carry personal data
        kept = [s for s in states if actor.owns(s["crew_id"]) and filters.keep(s)]
        ordered = sorted(
            kept, key=lambda s: (_instant(s["opened_at"]), s["incident_id"]), reverse=True
        )
        return _sliced(ordered, offset, limit)

    def _own_incident_events(self, incident_id: UUID, actor: Actor) -> list[dict[str, Any]] | None:
        """One read of the stream: its opening says whose it is (no crew ever changes)."""
        facts = self.app.get_facts(incident_id)
        if not facts or not isinstance(facts[0][0], IncidentOpened):
            return None
        if not actor.owns(facts[0][0].crew_id):
            return None
        return self._presented(facts, actor)

    def incident(self, incident_id: UUID, actor: Actor) -> dict[str, Any] | None:
        events = self._own_incident_events(incident_id, actor)
        return incident_state(events) if events else None

    def incident_events(self, incident_id: UUID, actor: Actor) -> list[dict[str, Any]] | None:
        return self._own_incident_events(incident_id, actor)

    def incident_replay(
        self, incident_id: UUID, actor: Actor, as_of: datetime | None, known_at: datetime | None
    ) -> dict[str, Any] | None:
        events = self._own_incident_events(incident_id, actor)
        if events is None:
            return None
        return replay(events, as_of=as_of, known_at=known_at)

    # --- commendations --------------------------------------------------------

    def commendations(
        self,
        actor: Actor,
        status: str | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        streams = self._all_streams(actor)
        crews = {
            sid: ev[0]["crew_id"]
            for sid, ev in streams.items()
            if ev[0]["type"] == "IncidentOpened"
        }
        views = [
            self._commendation_view(events, crews.get(events[0]["incident_id"], ""))
            for events in streams.values()
            if events[0]["type"] == "CommendationNominated"
        ]
        kept = [
            v
            for v in views
            if actor.owns(v["crew_id"]) and (status is None or v["status"] == status)
        ]
        newest = sorted(
            kept, key=lambda v: (_instant(v["nominated_at"]), v["commendation_id"]), reverse=True
        )
        return _sliced(newest, offset, limit)

    def commendation(self, commendation_id: UUID, actor: Actor) -> dict[str, Any] | None:
        commendation = self.app.get_stream(commendation_id, Commendation)
        if commendation is None:
            return None
        crew_id = self.app.crew_of(commendation)
        if not actor.owns(crew_id):
            return None
        return self._commendation_view(self._stream_events(commendation_id, actor), crew_id)

    @staticmethod
    def _commendation_view(events: list[dict[str, Any]], crew_id: str) -> dict[str, Any]:
        nominated = events[0]
        view: dict[str, Any] = {
            "commendation_id": nominated["stream_id"],
            "status": "nominated",
            "nominees": nominated["nominees"],
            "citation": nominated["citation"],
            "incident_id": nominated["incident_id"],
            "crew_id": crew_id,
            "award": None,
            "reason": None,
            "nominated_at": nominated["occurred_at"],
            "endorsed_at": None,
            "decided_at": None,
            "version": events[-1]["version"],
        }
        for e in events[1:]:
            if e["type"] == "CommendationEndorsed":
                view.update(status="endorsed", endorsed_at=e["occurred_at"], note=e.get("note"))
            elif e["type"] == "CommendationApproved":
                view.update(status="approved", award=e["award"], decided_at=e["occurred_at"])
            elif e["type"] == "CommendationRejected":
                view.update(status="rejected", reason=e["reason"], decided_at=e["occurred_at"])
        return view

    # --- feed and timelines ---------------------------------------------------

    def feed(self, after: int, limit: int, actor: Actor) -> list[dict[str, Any]]:
        erased: dict[str, bool] = {}
        items = []
        for fact, position in self.scan(after, limit):
            stream = str(fact.originator_id)
            if type(fact).__name__ == "VictimDetailsRecorded" and stream not in erased:
                erased[stream] = self._is_erased(fact.originator_id)
            items.append(
                stored_event(
                    fact,
                    position,
                    sees_personal_data=actor.sees_personal_data(),
                    erased=erased.get(stream, False),
                )
            )
        return items

    def _is_erased(self, incident_id: UUID) -> bool:
        incident = self.app.get_stream(incident_id, Incident)
        return incident is not None and incident.personal_data_erased

    def crew_timeline(
        self,
        crew_id: str,
        window: Window,
        actor: Actor,
        after: TimelineKey | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        streams = self._all_streams(actor)
        crew_streams = {
            sid
            for sid, events in streams.items()
            if events[0]["type"] in ("PatrolStarted", "IncidentOpened")
            and events[0]["crew_id"] == crew_id
        }
        events = [e for sid in crew_streams for e in streams[sid]]
        return _timeline(events, window, after, limit)

    def person_timeline(
        self,
        person_id: str,
        window: Window,
        actor: Actor,
        after: TimelineKey | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        events = [
            e
            for stream in self._all_streams(actor).values()
            for e in stream
            if person_id in (e.get("people") or []) or person_id in (e.get("nominees") or [])
        ]
        return _timeline(events, window, after, limit)

    # --- recognition ----------------------------------------------------------

    def _membership_history(self) -> list[tuple[str, str, datetime, datetime | None]]:
        """(crew, person, since, until) for every membership the registry ever recorded."""
        spans: list[list[Any]] = []
        for fact, _ in self.scan():
            kind, state = type(fact).__name__, vars(fact)
            if kind == "CrewRegistered":
                spans += [[state["crew_id"], m, fact.occurred_at, None] for m in state["members"]]
            elif kind == "MemberJoinedCrew":
                spans.append([state["crew_id"], state["person_id"], fact.occurred_at, None])
            elif kind == "MemberLeftCrew":
                for span in spans:
                    if (
                        span[0] == state["crew_id"]
                        and span[1] == state["person_id"]
                        and span[3] is None
                    ):
                        span[3] = fact.occurred_at
        return [(c, p, s, u) for c, p, s, u in spans]

    def recognition(self, window: Window) -> dict[str, Any]:
        streams = self._all_streams(Actor("hr", "report"))
        incidents = {
            sid: corrected_entries(ev)
            for sid, ev in streams.items()
            if ev[0]["type"] == "IncidentOpened"
        }
        commendations = [ev for ev in streams.values() if ev[0]["type"] == "CommendationNominated"]
        people = {p["person_id"]: p["name"] for p in self.people()}
        crews = {c: self.app.get_crew(c) for c in self.app.registry_ids(Crew)}
        history = self._membership_history()
        person_rows: dict[str, dict[str, Any]] = {
            pid: {
                "person_id": pid,
                "name": name,
                "crew_id": _crew_at(pid, history, window),
                "rescues": 0,
                "commendations_nominated": 0,
                "commendations_approved": 0,
                "thanks": 0,
            }
            for pid, name in people.items()
        }
        crew_rows: dict[str, dict[str, Any]] = {
            cid: {
                "crew_id": cid,
                "name": c.name if c else cid,
                "rescues": 0,
                "commendations_approved": 0,
                "thanks": 0,
            }
            for cid, c in crews.items()
        }
        for entries in incidents.values():
            crew_id = entries[0]["crew_id"]
            rescuers, took_part = set(), set()
            crew_rescue = False
            thanks = [
                e
                for e in entries
                if e["type"] == "ThanksReceived" and window.holds(_instant(e["occurred_at"]))
            ]
            for e in entries:
                named = set(e.get("people") or [])
                took_part |= named
                if e["type"] in ("EmergencyServicesCalled", "RescueActionTaken") and window.holds(
                    _instant(e["occurred_at"])
                ):
                    rescuers |= named
                    crew_rescue = True
            for pid in rescuers & person_rows.keys():
                person_rows[pid]["rescues"] += 1
            for pid in took_part & person_rows.keys():
                person_rows[pid]["thanks"] += len(thanks)
            if crew_id in crew_rows:
                crew_rows[crew_id]["rescues"] += int(crew_rescue)
                crew_rows[crew_id]["thanks"] += len(thanks)
        for events in commendations:
            nominated = events[0]
            approved = next((e for e in events if e["type"] == "CommendationApproved"), None)
            approved_in = approved is not None and window.holds(_instant(approved["occurred_at"]))
            for pid in set(nominated["nominees"]) & person_rows.keys():
                if window.holds(_instant(nominated["occurred_at"])):
                    person_rows[pid]["commendations_nominated"] += 1
                if approved_in:
                    person_rows[pid]["commendations_approved"] += 1
            crew_id = incidents.get(nominated["incident_id"], [{}])[0].get("crew_id")
            if approved_in and crew_id in crew_rows:
                crew_rows[crew_id]["commendations_approved"] += 1
        return {
            "from": window.asked_from,
            "to": window.asked_to,
            "people": [person_rows[k] for k in sorted(person_rows)],
            "crews": [crew_rows[k] for k in sorted(crew_rows)],
        }


def _crew_at(
    person_id: str, history: list[tuple[str, str, datetime, datetime | None]], window: Window
) -> str | None:
    """The person's crew at the window's end (the first by id if several)."""
    crews = [
        crew_id
        for crew_id, member, since, until in history
        if member == person_id
        and (window.end is None or since < window.end)
        and (until is None or (window.end is not None and until >= window.end))
    ]
    return min(crews, default=None)


def _timeline(
    events: list[dict[str, Any]], window: Window, after: TimelineKey | None, limit: int | None
) -> list[dict[str, Any]]:
    kept = [e for e in events if window.holds(_instant(e["occurred_at"]))]
    if after is not None:
        kept = [e for e in kept if (micros(e["occurred_at"]), e["position"]) > after]
    return sorted(kept, key=lambda e: (_instant(e["occurred_at"]), e["position"]))[:limit]

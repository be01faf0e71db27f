"""Deciding one filed event: the checks that span streams, then the stream's own rules.

A `Filing` remembers the streams it loaded, so a tablet's queue is decided in capture
order against the state its own earlier events produced, and saved in one transaction.

A `cached` filing decides on the process's cached copies of the streams without
reading the store (a single event's filing, first try). A copy may be behind the
store, if another process wrote since; that is safe: of the other streams a decision
uses only what never changes (that they exist, their crew), the save's version check
refuses an event decided on a stale copy of its own stream (the caller then files it
again, reading afresh), and a refusal is decided again on what the store holds.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING
from uuid import UUID

from incidents import submissions as sub
from incidents.commendation import Commendation
from incidents.errors import (
    DomainError,
    EventConflictError,
    InvalidEventError,
    NotFoundError,
    NotPermittedError,
)
from incidents.incident import Incident
from incidents.outcome import Outcome
from incidents.patrol import Patrol
from incidents.roles import Actor
from incidents.store import ClientEvent
from incidents.streams import Stream

if TYPE_CHECKING:
    from incidents.application import FieldLog

STREAM_OF_TYPE: dict[str, type[Stream]] = {
    **{t: Patrol for t in sub.PATROL_TYPES},
    **{t: Incident for t in sub.INCIDENT_TYPES},
    **{t: Commendation for t in sub.COMMENDATION_TYPES},
}


class Filing:
    def __init__(
        self,
        app: FieldLog,
        known_ids: dict[str, ClientEvent] | None = None,
        cached: bool = False,
    ) -> None:
        self.app = app
        self.streams: dict[UUID, Stream | None] = {}
        self.known_ids = known_ids
        self.cached = cached

    def find(self, stream_id: UUID, to_open: bool = False) -> Stream | None:
        """`to_open`: a cached filing takes a stream it has not cached for absent (the
        save's unique key on the stream's first version refuses the opening if not)."""
        if stream_id not in self.streams:
            found = self.app.cached_stream(stream_id) if self.cached else None
            if found is None and not (self.cached and to_open):
                found = self.app.find_stream(stream_id)
            self.streams[stream_id] = found
        return self.streams[stream_id]

    def read_afresh(self) -> None:
        """Forget the streams decided on; read them from the store from now on."""
        self.cached = False
        self.streams.clear()

    def known_absent(self, stream_ids: Iterable[UUID]) -> None:
        """Streams the store was just asked about and does not hold."""
        for stream_id in stream_ids:
            self.streams.setdefault(stream_id, None)

    def opened(self, stream: Stream) -> None:
        self.streams[stream.id] = stream

    def client_event(self, event_id: str, fresh: bool = False) -> ClientEvent | None:
        if self.known_ids is not None and not fresh:
            return self.known_ids.get(event_id)
        return self.app.store.find_client_event(event_id)

    def decide_unless_known(
        self, filed: sub.Submission, fingerprint: str, actor: Actor, look_first: bool = True
    ) -> Outcome | Stream:
        """The answer for a resent event, else the stream with the new event decided.

        A refusal is looked at once more: the same event resent to another process at
        the same moment may have been stored after this one looked it up (the stream
        then "already exists"), and a resend must answer `duplicate`, not `conflict`.
        Without `look_first` the client id is only looked up on a refusal; the caller
        then looks it up when the save meets the client-id table's unique key.
        """
        known = self.known(filed, fingerprint, actor) if look_first else None
        if known is not None:
            return known
        try:
            return self.decide(filed, actor)
        except DomainError:
            if self.cached:  # refused on copies that may be behind the store: look again
                self.read_afresh()
                return self.decide_unless_known(filed, fingerprint, actor, look_first)
            again = self.known(filed, fingerprint, actor, fresh=True)
            if again is None:
                raise
            return again

    def known(
        self, filed: sub.Submission, fingerprint: str, actor: Actor, fresh: bool = False
    ) -> Outcome | None:
        """A resent event: `duplicate` if it is the same fact, `conflict` otherwise.

        Another crew's event is not revealed to a crew token, not even as a duplicate.
        `fresh` reads the store again instead of what this filing looked up before.
        """
        found = self.client_event(filed.event_id, fresh)
        if found is None:
            return None
        if fresh and self.streams.get(found.stream_id) is None:
            self.streams.pop(found.stream_id, None)  # it was missing then; it is stored now
        if actor.is_crew:
            stream = self.find(found.stream_id)
            if stream is None or not actor.owns(self.crew_of(stream)):
                raise NotFoundError(f"no such event or stream for crew {actor.crew_id}")
        if isinstance(filed, sub.VictimDetailsRecorded):
            incident = self.find(found.stream_id)
            if isinstance(incident, Incident) and incident.personal_data_erased:
                # Never confirm or deny a guess at erased personal data.
                incident.check_personal_data_not_erased()
        if found.fingerprint != fingerprint:
            raise EventConflictError(
                f"event_id {filed.event_id} was already used for a different event; "
                "a new fact needs a new event_id"
            )
        return Outcome(
            filed.event_id, str(found.stream_id), "duplicate", found.version, found.position
        )

    def decide(self, filed: sub.Submission, actor: Actor) -> Stream:
        """Load the stream and let its aggregate decide, after the cross-stream checks."""
        if filed.type in sub.OPENING_TYPES:
            opened = self._open(filed, actor)
            self.opened(opened)
            return opened
        stream = self._existing(filed, actor)
        if filed.expected_version is not None and filed.expected_version != stream.version:
            raise EventConflictError(
                f"field `expected_version`: the stream is at version {stream.version}, "
                f"not {filed.expected_version}; reload it and file again",
                current_version=stream.version,
            )
        self._check_references(filed, stream, actor)
        stream.append(filed, actor.recorded_by)
        return stream

    def _open(self, filed: sub.Submission, actor: Actor) -> Stream:
        existing = self.find(filed.stream_uuid, to_open=True)
        if existing is not None and not actor.owns(self.crew_of(existing)):
            raise NotFoundError(f"no such stream for crew {actor.crew_id}")
        if existing is not None:
            raise EventConflictError(
                f"stream {filed.stream_id} already exists; {filed.type} opens a new stream "
                "and needs a new stream_id",
                current_version=existing.version,
            )
        if filed.expected_version not in (None, 0):
            raise EventConflictError(
                f"field `expected_version`: stream {filed.stream_id} does not exist yet "
                f"(version 0), not {filed.expected_version}",
                current_version=0,
            )
        by = actor.recorded_by
        if isinstance(filed, sub.PatrolStarted):
            self._check_crew_filing(filed.crew_id, actor)
            self.check_people(filed.people)
            return Patrol.start(filed, by)
        if isinstance(filed, sub.IncidentOpened):
            self._check_crew_filing(filed.crew_id, actor)
            self._check_patrol_link(filed.patrol_id, filed.crew_id)
            return Incident.open(filed, by)
        assert isinstance(filed, sub.CommendationNominated)
        self._own_incident(filed.incident_id, actor, "incident_id")
        self.check_people(filed.nominees, "nominees")
        return Commendation.nominate(filed, by)

    def _existing(self, filed: sub.Submission, actor: Actor) -> Stream:
        kind = STREAM_OF_TYPE[filed.type]
        stream = self.find(filed.stream_uuid)
        noun = kind.__name__.lower()
        if stream is None or not isinstance(stream, kind):
            raise InvalidEventError(
                f"field `stream_id`: no {noun} {filed.stream_id}; "
                f"it must be opened first with {kind.opening.__name__}"
            )
        if not actor.owns(self.crew_of(stream)):
            raise NotFoundError(f"no {noun} {filed.stream_id}")
        return stream

    def _check_references(self, filed: sub.Submission, stream: Stream, actor: Actor) -> None:
        if isinstance(filed, sub.EntryCorrected) and isinstance(stream, Incident):
            target = stream.entries.get(filed.corrects_event_id)
            merged = stream.corrected_content(filed, actor.recorded_by)
            assert target is not None
            if target.type == "IncidentOpened":
                self._check_patrol_link(merged.get("patrol_id"), stream.crew_id)
            self.check_people(merged.get("people") or [])
            return
        people = filed.people_named
        if people:
            self.check_people(people)

    # --- cross-stream rules ---------------------------------------------------

    def _check_crew_filing(self, crew_id: str, actor: Actor) -> None:
        if actor.is_crew and crew_id != actor.crew_id:
            raise NotPermittedError(
                f"field `crew_id`: this token files for crew {actor.crew_id} only"
            )
        if self.app.unregistered("crew", [crew_id]):
            raise InvalidEventError(f"field `crew_id`: crew {crew_id} is not registered")

    def check_people(self, people: Iterable[str], field: str = "people") -> None:
        missing = self.app.unregistered("person", people)
        if missing:
            raise InvalidEventError(
                f"field `{field}`: {missing[0]} is not a registered person; "
                "register them first, or name outsiders in `description`"
            )

    def _check_patrol_link(self, patrol_id: str | None, crew_id: str) -> None:
        if patrol_id is None:
            return
        patrol = self.find(UUID(patrol_id))
        if not isinstance(patrol, Patrol) or patrol.crew_id != crew_id:
            raise InvalidEventError(
                f"field `patrol_id`: {patrol_id} is not a patrol of crew {crew_id}"
            )

    def _own_incident(self, incident_id: str, actor: Actor, field: str) -> Incident:
        incident = self.find(UUID(incident_id))
        if not isinstance(incident, Incident) or not actor.owns(incident.crew_id):
            raise InvalidEventError(f"field `{field}`: no incident {incident_id}")
        return incident

    def crew_of(self, stream: Stream) -> str:
        """The crew a patrol, incident or commendation belongs to."""
        if isinstance(stream, (Patrol, Incident)):
            return stream.crew_id
        if isinstance(stream, Commendation):
            incident = self.find(UUID(stream.incident_id))
            return incident.crew_id if isinstance(incident, Incident) else ""
        return ""

"""The application service: the one door through which the API, the CLI and the demo
file facts, register people and crews, and read streams back."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import (
    JSONTranscoder,
    Mapper,
    RecordConflictError,
    Recording,
    Transcoder,
)
from eventsourcing.utils import get_topic

from incidents import submissions as sub
from incidents.commendation import Commendation
from incidents.config import Settings
from incidents.errors import (
    DomainError,
    EventConflictError,
    InvalidEventError,
    NotFoundError,
    NotPermittedError,
)
from incidents.facts import AnyFact
from incidents.incident import Incident
from incidents.keys import master_key
from incidents.outcome import Outcome
from incidents.patrol import Patrol
from incidents.personal_data import SealedMapper, Sealer
from incidents.registry import Crew, CrewRegistered, Person, PersonRegistered
from incidents.roles import Actor
from incidents.store import FieldlogRecorder, fieldlog_recorder, schema_lock
from incidents.streams import Stream, registry_stream_id, server_fact_kwargs
from incidents.transcoding import OrjsonTranscoder

S = TypeVar("S", bound=Stream)

STREAM_OF_TYPE: dict[str, type[Stream]] = {
    **{t: Patrol for t in sub.PATROL_TYPES},
    **{t: Incident for t in sub.INCIDENT_TYPES},
    **{t: Commendation for t in sub.COMMENDATION_TYPES},
}
MAX_RACE_RETRIES = 8


class FieldLog(Application[UUID]):
    """One instance per process (built in the FastAPI lifespan or by a CLI command)."""

    name = "FieldLog"

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings.from_env()
        with schema_lock(self.settings):
            super().__init__(env=self.settings.eventsourcing_env())
        self.store: FieldlogRecorder = fieldlog_recorder(self.recorder)
        self.on_saved: list[Callable[[], None]] = []
        self.master_key = master_key(self.settings)
        self.store.sealer = Sealer(self.master_key)
        self.store.check_master_key()
        assert isinstance(self.mapper, SealedMapper)
        self.mapper.keys = self.store.incident_key
        check = getattr(self.store, "check_durability", None)
        if check is not None:
            check()

    def construct_mapper(self) -> Mapper[UUID]:
        return self.factory.mapper(
            transcoder=self.construct_transcoder(), mapper_class=SealedMapper
        )

    def construct_transcoder(self) -> Transcoder:
        transcoder = OrjsonTranscoder()
        self.register_transcodings(transcoder)
        return transcoder

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)

    def _notify(self, recordings: list[Recording[UUID]]) -> None:
        """Wake in-process followers (the projection worker) after every save."""
        for callback in list(self.on_saved):
            callback()

    # --- filing ---------------------------------------------------------------

    def submit(self, raw: Mapping[str, Any] | object, actor: Actor) -> Outcome:
        """File one event; never raises for a bad event, answers with its result."""
        event_id, stream_id = _ids_of(raw)
        try:
            filed = sub.parse_submission(raw)
            actor.check_may_file(filed.type)
            return self._store(filed, actor)
        except EventConflictError as e:
            return Outcome(
                event_id, stream_id, "conflict", detail=e.detail, current_version=e.current_version
            )
        except NotPermittedError as e:
            return Outcome(event_id, stream_id, "invalid", detail=e.detail, refusal="forbidden")
        except NotFoundError as e:
            return Outcome(event_id, stream_id, "invalid", detail=e.detail, refusal="not_found")
        except InvalidEventError as e:
            return Outcome(event_id, stream_id, "invalid", detail=e.detail)

    def submit_many(self, raws: Iterable[object], actor: Actor) -> list[Outcome]:
        """A tablet's queue, in capture order; a bad event never blocks the good ones."""
        return [self.submit(raw, actor) for raw in raws]

    def _store(self, filed: sub.Submission, actor: Actor) -> Outcome:
        stream_id = UUID(filed.stream_id)
        fingerprint = filed.fingerprint()
        for _ in range(MAX_RACE_RETRIES):
            known = self._known(filed, fingerprint, actor)
            if known is not None:
                return known
            stream = self._decide(filed, actor)
            client_event = (filed.event_id, stream_id, stream.version, fingerprint)
            try:
                recordings = self.save(stream, client_events=[client_event])
            except RecordConflictError:
                continue  # another writer got there first: look again
            position = recordings[-1].notification.id
            return Outcome(filed.event_id, filed.stream_id, "stored", stream.version, position)
        raise EventConflictError("the stream is busy with other writers; send the event again")

    def _known(self, filed: sub.Submission, fingerprint: str, actor: Actor) -> Outcome | None:
        """A resent event: `duplicate` if it is the same fact, `conflict` otherwise.

        Another crew's event is not revealed to a crew token, not even as a duplicate.
        """
        found = self.store.find_client_event(filed.event_id)
        if found is None:
            return None
        if actor.is_crew:
            stream = self._find(found.stream_id)
            if stream is None or not actor.owns(self.crew_of(stream)):
                raise NotFoundError(f"no such event or stream for crew {actor.crew_id}")
        if found.fingerprint != fingerprint:
            raise EventConflictError(
                f"event_id {filed.event_id} was already used for a different event; "
                "a new fact needs a new event_id"
            )
        return Outcome(
            filed.event_id, str(found.stream_id), "duplicate", found.version, found.position
        )

    def _decide(self, filed: sub.Submission, actor: Actor) -> Stream:
        """Load the stream and let its aggregate decide, after the cross-stream checks."""
        if filed.type in sub.OPENING_TYPES:
            return self._open(filed, actor)
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
        stream_id = UUID(filed.stream_id)
        existing = self._find(stream_id)
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
            self._check_people(filed.people)
            return Patrol.start(filed, by)
        if isinstance(filed, sub.IncidentOpened):
            self._check_crew_filing(filed.crew_id, actor)
            self._check_patrol_link(filed.patrol_id, filed.crew_id)
            return Incident.open(filed, by)
        assert isinstance(filed, sub.CommendationNominated)
        self._own_incident(filed.incident_id, actor, "incident_id")
        self._check_people(filed.nominees, "nominees")
        return Commendation.nominate(filed, by)

    def _existing(self, filed: sub.Submission, actor: Actor) -> Stream:
        kind = STREAM_OF_TYPE[filed.type]
        stream = self._find(UUID(filed.stream_id))
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
            self._check_people(merged.get("people") or [])
            return
        people = getattr(filed, "people", None)
        if people:
            self._check_people(people)

    # --- cross-stream rules ---------------------------------------------------

    def _check_crew_filing(self, crew_id: str, actor: Actor) -> None:
        if actor.is_crew and crew_id != actor.crew_id:
            raise NotPermittedError(
                f"field `crew_id`: this token files for crew {actor.crew_id} only"
            )
        if self._find(registry_stream_id("crew", crew_id)) is None:
            raise InvalidEventError(f"field `crew_id`: crew {crew_id} is not registered")

    def _check_people(self, people: Iterable[str], field: str = "people") -> None:
        for person_id in people:
            if self._find(registry_stream_id("person", person_id)) is None:
                raise InvalidEventError(
                    f"field `{field}`: {person_id} is not a registered person; "
                    "register them first, or name outsiders in `description`"
                )

    def _check_patrol_link(self, patrol_id: str | None, crew_id: str) -> None:
        if patrol_id is None:
            return
        patrol = self._find(UUID(patrol_id))
        if not isinstance(patrol, Patrol) or patrol.crew_id != crew_id:
            raise InvalidEventError(
                f"field `patrol_id`: {patrol_id} is not a patrol of crew {crew_id}"
            )

    def _own_incident(self, incident_id: str, actor: Actor, field: str) -> Incident:
        incident = self._find(UUID(incident_id))
        if not isinstance(incident, Incident) or not actor.owns(incident.crew_id):
            raise InvalidEventError(f"field `{field}`: no incident {incident_id}")
        return incident

    def crew_of(self, stream: Stream) -> str:
        """The crew a patrol, incident or commendation belongs to."""
        if isinstance(stream, (Patrol, Incident)):
            return stream.crew_id
        if isinstance(stream, Commendation):
            incident = self._find(UUID(stream.incident_id))
            return incident.crew_id if isinstance(incident, Incident) else ""
        return ""

    # --- personal data --------------------------------------------------------

    def erase_personal_data(self, incident_id: UUID, actor: Actor) -> Outcome:
        """Destroy the incident's key and record `PersonalDataErased`, in one transaction."""
        incident = self.get_stream(incident_id, Incident)
        if incident is None:
            raise NotFoundError(f"no incident {incident_id}")
        if incident.personal_data_erased:
            return Outcome(None, str(incident_id), "duplicate", incident.version)
        incident.erase_personal_data(**self._server_envelope(actor))
        recordings = self.save(incident, erase_keys=[incident_id])
        return Outcome(
            recordings[-1].domain_event.__dict__["event_id"],
            str(incident_id),
            "stored",
            incident.version,
            recordings[-1].notification.id,
        )

    # --- registry -------------------------------------------------------------

    def register_person(
        self, person_id: str, name: str, actor: Actor, since: datetime | None = None
    ) -> tuple[str, Person]:
        """Answers ("stored" | "duplicate", person); other data is a RegistryConflictError."""
        for _ in range(MAX_RACE_RETRIES):
            person = self.get_person(person_id)
            if person is not None:
                person.check_same_registration(name)
                return "duplicate", person
            person = Person.register(person_id, name, **self._server_envelope(actor, since))
            try:
                self.save(person)
            except RecordConflictError:
                continue
            return "stored", person
        raise EventConflictError("the registry is busy; try again")

    def register_crew(
        self,
        crew_id: str,
        name: str,
        members: list[str],
        actor: Actor,
        since: datetime | None = None,
    ) -> tuple[str, Crew]:
        """`since` backdates the membership (loading a crew that existed before the log)."""
        for _ in range(MAX_RACE_RETRIES):
            crew = self.get_crew(crew_id)
            if crew is not None:
                crew.check_same_registration(name, members)
                return "duplicate", crew
            self._check_people(members, "members")
            if len(set(members)) != len(members):
                raise InvalidEventError("field `members`: a person is listed twice")
            crew = Crew.register(crew_id, name, members, **self._server_envelope(actor, since))
            try:
                self.save(crew)
            except RecordConflictError:
                continue
            return "stored", crew
        raise EventConflictError("the registry is busy; try again")

    def join_crew(self, crew_id: str, person_id: str, actor: Actor) -> tuple[str, Crew]:
        crew = self._registered_crew(crew_id)
        self._check_people([person_id], "person_id")
        if person_id in crew.members:
            return "duplicate", crew
        crew.join(person_id, **self._server_envelope(actor))
        self.save(crew)
        return "stored", crew

    def leave_crew(self, crew_id: str, person_id: str, actor: Actor) -> Crew:
        crew = self._registered_crew(crew_id)
        if person_id not in crew.members:
            raise NotFoundError(f"{person_id} is not a member of crew {crew_id}")
        crew.leave(person_id, **self._server_envelope(actor))
        self.save(crew)
        return crew

    def _registered_crew(self, crew_id: str) -> Crew:
        crew = self.get_crew(crew_id)
        if crew is None:
            raise NotFoundError(f"no crew {crew_id}")
        return crew

    @staticmethod
    def _server_envelope(actor: Actor, since: datetime | None = None) -> dict[str, Any]:
        return server_fact_kwargs(uuid4(), since or datetime.now(UTC), actor.recorded_by)

    # --- reading --------------------------------------------------------------

    def _find(self, stream_id: UUID) -> Stream | None:
        try:
            stream: object = self.repository.get(stream_id)
        except AggregateNotFoundError:
            return None
        assert isinstance(stream, Stream)
        return stream

    def get_person(self, person_id: str) -> Person | None:
        found = self._find(registry_stream_id("person", person_id))
        return found if isinstance(found, Person) else None

    def get_crew(self, crew_id: str) -> Crew | None:
        found = self._find(registry_stream_id("crew", crew_id))
        return found if isinstance(found, Crew) else None

    def get_stream(self, stream_id: UUID, kind: type[S]) -> S | None:
        found = self._find(stream_id)
        return found if isinstance(found, kind) else None

    def get_facts(self, stream_id: UUID) -> list[tuple[AnyFact, int]]:
        """A stream's events in version order, each with its global position."""
        positions = self.store.positions_of(stream_id)
        return [
            (event, positions[event.originator_version])  # type: ignore[misc]
            for event in self.events.get(stream_id)
        ]

    def registry_ids(self, kind: type[Person] | type[Crew]) -> list[str]:
        """Every registered person or crew id (read from the log until the read models land)."""
        opening = PersonRegistered if kind is Person else CrewRegistered
        topic = get_topic(opening)
        ids: list[str] = []
        start = 1
        while True:
            batch = self.recorder.select_notifications(start, 500, topics=[topic])
            for n in batch:
                state = vars(self.mapper.to_domain_event(n))
                ids.append(state.get("person_id") or state["crew_id"])
            if len(batch) < 500:
                return sorted(ids)
            start = batch[-1].id + 1


def _ids_of(raw: object) -> tuple[str | None, str | None]:
    """Best-effort ids to echo in a refusal, even when the event is malformed."""
    if not isinstance(raw, Mapping):
        return None, None
    event_id, stream_id = raw.get("event_id"), raw.get("stream_id")
    return (
        event_id if isinstance(event_id, str) else None,
        stream_id if isinstance(stream_id, str) else None,
    )


__all__ = ["DomainError", "FieldLog"]

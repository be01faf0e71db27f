"""The application service: the one door through which the API, the CLI and the demo
file facts, register people and crews, and read streams back."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from copy import deepcopy
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.persistence import (
    JSONTranscoder,
    Mapper,
    RecordConflictError,
    Recording,
    Transcoder,
)
from eventsourcing.utils import get_topic

from incidents import submissions as sub
from incidents.collector import collector_paused
from incidents.config import Settings
from incidents.errors import (
    DomainError,
    EventConflictError,
    InvalidEventError,
    NotFoundError,
)
from incidents.facts import AnyFact, Fact, Opening
from incidents.filing import Filing
from incidents.group_commit import GroupCommit
from incidents.incident import Incident
from incidents.keys import master_key
from incidents.outcome import Outcome, refused
from incidents.personal_data import SealedMapper, Sealer
from incidents.registry import Crew, CrewRegistered, Person, PersonRegistered
from incidents.roles import Actor
from incidents.store import FieldlogRecorder, fieldlog_recorder, schema_lock
from incidents.streams import Stream, registry_stream_id, server_fact_kwargs
from incidents.sync import Queue
from incidents.transcoding import OrjsonTranscoder

S = TypeVar("S", bound=Stream)

MAX_RACE_RETRIES = 8


def mutated(aggregate: Any, events: Iterable[Any]) -> Any:
    """The library's `project_aggregate` without its per-event `isinstance` check against
    a runtime Protocol, which cost ~5% of filing one event (every fact here can mutate)."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


def filed_fact_classes() -> frozenset[type]:
    """The fact classes a client files: built from validated submissions only."""
    from incidents.commendation import Commendation
    from incidents.patrol import Patrol

    streams: tuple[type[Stream], ...] = (Patrol, Incident, Commendation)
    classes = [c for s in streams for c in (s.opening, *s.facts.values())]
    return frozenset(c for c in classes if c.__name__ in sub.MODELS)


class FieldLog(Application[UUID]):
    """One instance per process (built in the FastAPI lifespan or by a CLI command)."""

    name = "FieldLog"

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings.from_env()
        with schema_lock(self.settings):
            super().__init__(env=self.settings.eventsourcing_env())
        self.store: FieldlogRecorder = fieldlog_recorder(self.recorder)
        self.on_saved: list[Callable[[], None]] = []
        self.group_commit = GroupCommit(self._save_facts, self.remember_saved)
        # The ids of people and crews seen registered, by kind.
        self._registered: dict[str, set[str]] = {"person": set(), "crew": set()}
        self.master_key = master_key(self.settings)
        self.store.sealer = Sealer(self.master_key)
        self.store.check_master_key()
        assert isinstance(self.mapper, SealedMapper)
        self.mapper.keys = self.store.incident_key
        self.mapper.filed_classes = filed_fact_classes()
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

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """The library's `save`, collecting our streams and facts by their own classes:
        its collection tests each object against two runtime Protocols, which cost ~9%
        of filing a queue of 500 events. Anything else goes the library's way."""
        if not all(isinstance(obj, (Stream, Fact, Opening)) for obj in objs):
            return super().save(*objs, **kwargs)
        processing_event: ProcessingEvent[UUID] = ProcessingEvent()
        for obj in objs:
            if isinstance(obj, Stream):
                processing_event.events.extend(obj.collect_events())
                processing_event.aggregates[obj.id] = obj
            else:
                processing_event.events.append(obj)
        processing_event.saved_kwargs.update(kwargs)
        recordings = self._record(processing_event)
        self.remember_saved(obj for obj in objs if isinstance(obj, Stream))
        self._take_snapshots(processing_event)
        self._notify(recordings)
        return recordings

    def _save_facts(
        self, facts: Sequence[Any], client_events: Sequence[tuple[Any, ...]]
    ) -> list[Recording[UUID]]:
        return self.save(*facts, client_events=list(client_events))

    def remember_saved(self, streams: Iterable[Stream]) -> None:
        """Cache a copy of each stream as just saved, so the next event on it is decided
        without a read. (With fast-forwarding on, the library leaves the cache at the
        version before the save, and every next read fetched the event just saved.)
        A copy, because the caller may go on changing the stream it saved."""
        cache = self.repository.cache
        if cache is None:
            return
        for stream in streams:
            kept = deepcopy(stream)
            if kept.collect_events():
                raise AssertionError(f"stream {stream.id} has events not saved yet")
            cache.put(stream.id, kept)

    def _notify(self, recordings: list[Recording[UUID]]) -> None:
        """Wake in-process followers (the projection worker) after every save."""
        for callback in list(self.on_saved):
            callback()

    # --- filing ---------------------------------------------------------------

    def submit(self, raw: Mapping[str, Any] | object, actor: Actor) -> Outcome:
        """File one event; never raises for a bad event, answers with its result."""
        try:
            filed = sub.parse_submission(raw)
            actor.check_may_file(filed.type)
            return self._store(filed, actor)
        except DomainError as e:
            return refused(e, raw)

    def _store(self, filed: sub.Submission, actor: Actor) -> Outcome:
        stream_id = filed.stream_uuid
        fingerprint = filed.fingerprint()
        for attempt in range(MAX_RACE_RETRIES):
            # A resend is rare: rather than a look-up before every event, the client-id
            # table's unique key refuses it in the save, and then it is looked up. The
            # first try decides on the process's cached streams (see `Filing`).
            filing = Filing(self, cached=attempt == 0)
            stream = filing.decide_unless_known(filed, fingerprint, actor, look_first=False)
            if isinstance(stream, Outcome):
                return stream
            client_event = (filed.event_id, stream_id, stream.version, fingerprint)
            try:
                # Saved with the filings of concurrent requests (`GroupCommit`).
                recording = self.group_commit.save_one(stream, client_event)
            except RecordConflictError:
                decided_on_cache = filing.cached
                filing.read_afresh()
                known = filing.known(filed, fingerprint, actor, fresh=True)
                if known is not None:
                    return known
                # Another writer got there first, or the cached copy was behind: look
                # again (after a random pause, so two writers on one stream do not
                # collide in step).
                if not decided_on_cache:
                    time.sleep(random.uniform(0.001, 0.02))  # noqa: S311 - jitter, not a secret
                continue
            position = recording.notification.id
            return Outcome(filed.event_id, filed.stream_id, "stored", stream.version, position)
        raise EventConflictError("the stream is busy with other writers; send the event again")

    def submit_many(self, raws: Sequence[object], actor: Actor) -> list[Outcome]:
        """A tablet's queue, in capture order; a bad event never blocks the good ones.

        The queue is decided event by event against the state its own earlier events
        produced, and the good ones are stored in one transaction. If that transaction
        meets another writer, the queue falls back to filing its events one by one.
        """
        with collector_paused():
            queue = Queue(self, actor, raws)
            queue.decide()
            if queue.pending:
                try:
                    queue.save()
                except RecordConflictError:
                    queue.refile_one_by_one()
            outcomes = queue.outcomes()
            # Freed by reference counting before the collector is back on: alive, the
            # queue's objects would be walked by the collection its allocations are due.
            del queue
        return outcomes

    def crew_of(self, stream: Stream) -> str:
        """The crew a patrol, incident or commendation belongs to."""
        return Filing(self).crew_of(stream)

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
            Filing(self).check_people(members, "members")
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
        Filing(self).check_people([person_id], "person_id")
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

    def find_stream(self, stream_id: UUID) -> Stream | None:
        try:
            stream: object = self.repository.get(stream_id, projector_func=mutated)
        except AggregateNotFoundError:
            return None
        assert isinstance(stream, Stream)
        return stream

    def cached_stream(self, stream_id: UUID) -> Stream | None:
        """A copy of the stream as this process last read or saved it, without reading
        the store (None if it is not cached); it may be behind the store."""
        cache = self.repository.cache
        if cache is None:
            return None
        try:
            stream = cache.get(stream_id)
        except KeyError:
            return None
        assert isinstance(stream, Stream)
        return deepcopy(stream)

    def unregistered(self, kind: str, keys: Iterable[str]) -> list[str]:
        """Which of these people (`kind` "person") or crews ("crew") are not registered.
        Remembered by the process, by id: nothing is ever unregistered, so a filing
        checks its people without a read (and without hashing a UUID in Python)."""
        known = self._registered[kind]
        missing = [key for key in keys if key not in known]
        if missing:
            streams = {registry_stream_id(kind, key): key for key in missing}
            known.update(streams[s] for s in self.store.existing_streams(list(streams)))
            missing = [key for key in missing if key not in known]
        return missing

    def get_person(self, person_id: str) -> Person | None:
        found = self.find_stream(registry_stream_id("person", person_id))
        return found if isinstance(found, Person) else None

    def get_crew(self, crew_id: str) -> Crew | None:
        found = self.find_stream(registry_stream_id("crew", crew_id))
        return found if isinstance(found, Crew) else None

    def get_stream(self, stream_id: UUID, kind: type[S]) -> S | None:
        found = self.find_stream(stream_id)
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


__all__ = ["DomainError", "FieldLog"]

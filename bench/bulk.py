"""Writes a large log fast, with exactly the bytes the product would store.

Each planned event goes through the product's own parsing (`parse_submission`), its
fingerprint, and its aggregates' own methods (`Patrol.start`, `Incident.open`,
`stream.append`, which keep every lifecycle rule), on streams held in memory; the
domain events are turned into StoredEvents by `app.mapper` and inserted in big batches
by `app.recorder.insert_events(..., client_events=...)`, so the client-id table, the
sealing of victim details and the integrity chain are written as by the API. What it
skips is only the per-event store look-ups (the streams are in memory) and the
cross-stream checks, which the generated work satisfies by construction.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.persistence import StoredEvent

from bench.workload import REGISTERED_SINCE, Planned, Registry
from incidents import submissions as sub
from incidents.application import FieldLog
from incidents.commendation import Commendation
from incidents.filing import STREAM_OF_TYPE
from incidents.incident import Incident
from incidents.patrol import Patrol
from incidents.registry import Crew, Person
from incidents.roles import Actor
from incidents.streams import Stream, server_fact_kwargs

ADMIN = Actor("admin", "bench-loader")
OPENERS: dict[str, Callable[[Any, str], Stream]] = {
    "PatrolStarted": Patrol.start,
    "IncidentOpened": Incident.open,
    "CommendationNominated": Commendation.nominate,
}


class BulkWriter:
    def __init__(self, app: FieldLog, batch: int = 5000) -> None:
        self.app = app
        self.batch = batch
        self.streams: dict[UUID, Stream] = {}
        self.stored: list[StoredEvent] = []
        self.client_rows: list[tuple[str, UUID, int, str]] = []
        self.written = 0
        self.insert_seconds = 0.0

    def register(self, registry: Registry) -> None:
        """The people and crews, as `register_person` / `register_crew` would record them."""
        for person_id, name in registry.people:
            person = Person.register(person_id, name, **self._envelope())
            self._collect(person)
        for crew in registry.crews:
            self._collect(
                Crew.register(crew.crew_id, crew.name, list(crew.members), **self._envelope())
            )
        self.flush()

    @staticmethod
    def _envelope() -> dict[str, Any]:
        return server_fact_kwargs(uuid4(), REGISTERED_SINCE, ADMIN.recorded_by)

    def decide(self, planned: Planned) -> tuple[Stream, sub.Submission, str]:
        """The product's own decision for one event, on the streams held in memory."""
        filed = sub.parse_submission(planned.raw)
        planned.actor.check_may_file(filed.type)
        fingerprint = filed.fingerprint()
        stream_id = UUID(filed.stream_id)
        opener = OPENERS.get(filed.type)
        if opener is not None:
            stream = opener(filed, planned.actor.recorded_by)
            self.streams[stream_id] = stream
        else:
            stream = self.streams[stream_id]
            assert isinstance(stream, STREAM_OF_TYPE[filed.type])
            stream.append(filed, planned.actor.recorded_by)
        if planned.last:
            del self.streams[stream_id]
        return stream, filed, fingerprint

    def add(self, planned: Planned) -> None:
        stream, filed, fingerprint = self.decide(planned)
        self.client_rows.append((filed.event_id, stream.id, stream.version, fingerprint))
        self._collect(stream)
        if len(self.stored) >= self.batch:
            self.flush()

    def _collect(self, stream: Stream) -> None:
        for domain_event in stream.collect_events():
            self.stored.append(self.app.mapper.to_stored_event(domain_event))

    def flush(self) -> None:
        if not self.stored:
            return
        started = time.perf_counter()
        self.app.recorder.insert_events(self.stored, client_events=self.client_rows)
        self.insert_seconds += time.perf_counter() - started
        self.written += len(self.stored)
        self.stored, self.client_rows = [], []

    def write(
        self, planned: Iterable[Planned], count: int, on_progress: Callable[[int], None] | None
    ) -> int:
        """Write events until `count` are in the log (registry included); returns the count."""
        for item in planned:
            if self.written + len(self.stored) >= count:
                break
            self.add(item)
            if on_progress and len(self.stored) == 0:
                on_progress(self.written)
        self.flush()
        return self.written


def decided_events(app: FieldLog, planned: Iterable[Planned]) -> list[tuple[Any, tuple]]:
    """Domain events decided in memory, each with its client-id row, ready to be saved
    one by one through `app.save` (the direct-save ceiling of the ingest benchmark)."""
    writer = BulkWriter(app)
    out = []
    for item in planned:
        stream, filed, fingerprint = writer.decide(item)
        (domain_event,) = stream.collect_events()
        out.append((domain_event, (filed.event_id, stream.id, stream.version, fingerprint)))
    return out


def utc_now() -> datetime:
    return datetime.now(UTC)

"""A tablet's offline queue: decided in capture order, stored in one transaction.

Each event gets its own answer; a bad event never blocks, undoes or reorders the good
ones. Events are decided against the state the queue's own earlier events produced;
the good ones are then saved together (one transaction, one integrity-chain walk). If
that transaction meets another writer, every good event is filed again on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple
from uuid import UUID

from incidents import submissions as sub
from incidents.errors import DomainError, EventConflictError
from incidents.facts import AnyFact
from incidents.filing import Filing
from incidents.outcome import Outcome, refused
from incidents.roles import Actor

if TYPE_CHECKING:
    from incidents.application import FieldLog


class Pending(NamedTuple):
    slot: int  # where in the queue (its answer goes there)
    filed: sub.Submission
    fingerprint: str
    event: AnyFact


class Queue:
    def __init__(self, app: FieldLog, actor: Actor, raws: Sequence[object]) -> None:
        self.app = app
        self.actor = actor
        self.raws = list(raws)
        self.results: list[Outcome | None] = [None] * len(self.raws)
        self.pending: list[Pending] = []
        self.same_as: dict[int, int] = {}
        self.filing: Filing | None = None

    def decide(self) -> None:
        ids = [
            r["event_id"]
            for r in self.raws
            if isinstance(r, dict) and isinstance(r.get("event_id"), str)
        ]
        filing = Filing(self.app, known_ids=self.app.store.find_client_events(_canonical(ids)))
        self.filing = filing
        opened = _opened_streams(self.raws)
        filing.known_absent(opened - self.app.store.existing_streams(list(opened)))
        first_seen: dict[str, tuple[int, str]] = {}
        for index, raw in enumerate(self.raws):
            try:
                self._decide_one(filing, first_seen, index, raw)
            except DomainError as e:
                self.results[index] = refused(e, raw)

    def _decide_one(
        self, filing: Filing, first_seen: dict[str, tuple[int, str]], index: int, raw: object
    ) -> None:
        filed = sub.parse_submission(raw)
        self.actor.check_may_file(filed.type)
        fingerprint = filed.fingerprint()
        if filed.event_id in first_seen:
            first, first_fingerprint = first_seen[filed.event_id]
            if first_fingerprint != fingerprint:
                raise EventConflictError(
                    f"event_id {filed.event_id} is used twice in this queue for different events"
                )
            self.same_as[index] = first
            return
        stream = filing.decide_unless_known(filed, fingerprint, self.actor)
        if isinstance(stream, Outcome):
            self.results[index] = stream
            return
        (event,) = stream.collect_events()
        self.pending.append(Pending(index, filed, fingerprint, event))  # type: ignore[arg-type]
        first_seen[filed.event_id] = (index, fingerprint)

    def save(self) -> None:
        client_events = [
            (p.filed.event_id, p.event.originator_id, p.event.originator_version, p.fingerprint)
            for p in self.pending
        ]
        recordings = self.app.save(*(p.event for p in self.pending), client_events=client_events)
        # Saved event by event (capture order across streams), so the streams are
        # remembered here: each now stands as the queue's good events left it.
        assert self.filing is not None  # decided first
        saved = {p.event.originator_id for p in self.pending}
        self.app.remember_saved(s for i, s in self.filing.streams.items() if i in saved and s)
        for p, recording in zip(self.pending, recordings, strict=True):
            self.results[p.slot] = Outcome(
                p.filed.event_id,
                p.filed.stream_id,
                "stored",
                p.event.originator_version,
                recording.notification.id,
            )

    def refile_one_by_one(self) -> None:
        for p in self.pending:
            self.results[p.slot] = self.app.submit(self.raws[p.slot], self.actor)

    def outcomes(self) -> list[Outcome]:
        for index, first in self.same_as.items():
            answer = self.results[first]
            if answer is not None and answer.result in ("stored", "duplicate"):
                self.results[index] = Outcome(
                    answer.event_id, answer.stream_id, "duplicate", answer.version, answer.position
                )
            else:
                self.results[index] = self.app.submit(self.raws[index], self.actor)
        return [r for r in self.results if r is not None]


def _opened_streams(raws: Sequence[object]) -> set[UUID]:
    """The streams the queue opens (whatever else is wrong with those events)."""
    found = set()
    for raw in raws:
        if isinstance(raw, dict) and raw.get("type") in sub.OPENING_TYPES:
            try:
                found.add(UUID(str(raw.get("stream_id"))))
            except ValueError:
                continue
    return found


def _canonical(ids: list[str]) -> list[str]:
    out = []
    for event_id in ids:
        try:
            out.append(sub.canonical_uuid(event_id, "event_id"))
        except ValueError:
            continue
    return out


__all__: list[Any] = ["Queue"]

"""Concurrent single filings saved together: one transaction for the events of the
requests that arrived while the last transaction was being written.

Sixteen tablets filing at once queue for the store's single writer (SQLite's, or the
log's table lock on PostgreSQL), each paying a transaction of its own: begin, the
integrity chain's head, the commit's flush. Here the first filing to arrive saves at
once; filings that arrive while it saves wait, and the first of them then saves them
all in one transaction (group commit). Nothing waits on purpose: alone, a filing is
saved as before, and under load the groups form by themselves.

Each filing is decided on its own before it gets here, so a group's events are
independent facts, one per stream; their order in the log is the order they arrived.
If the group's transaction is refused (a stream's next version or an event id taken,
whoever took it) or fails, every filing of the group is saved again on its own, so each
gets its own answer: the one at fault its conflict or error, the others stored.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.persistence import Recording

from incidents.streams import Stream

MAX_GROUP = 200  # events in one transaction at most (a group, not a sync's backlog)


Store = Callable[[Sequence[Any], Sequence[tuple[Any, ...]]], list[Recording[Any]]]


@dataclass(eq=False)
class Waiting:
    """One decided filing waiting for its save: the stream and the event it decided."""

    stream: Stream
    event: Any
    client_event: tuple[Any, ...]
    done: threading.Event = field(default_factory=threading.Event)
    leads: bool = False  # woken to save the next group, not with an answer
    recording: Recording[Any] | None = None
    error: BaseException | None = None


class GroupCommit:
    """`store(events, client_events)` saves events in one transaction and answers their
    recordings in order; `remember(streams)` keeps the saved streams for the next
    decision (the application's save and its cache)."""

    def __init__(self, store: Store, remember: Callable[[Sequence[Stream]], None]) -> None:
        self.store = store
        self.remember = remember
        self.lock = threading.Lock()
        self.waiting: list[Waiting] = []
        self.saving = False  # a group is being saved: new filings wait for the next

    def save_one(self, stream: Stream, client_event: tuple[Any, ...]) -> Recording[Any]:
        """Save the one event decided on `stream`; raises `RecordConflictError` as a save
        would (and the stream is then no longer to be saved: decide again)."""
        (event,) = stream.collect_events()
        filing = Waiting(stream, event, client_event)
        with self.lock:
            self.waiting.append(filing)
            leads = not self.saving
            if leads:
                self.saving = True
        if not leads:
            filing.done.wait()
            if not filing.leads:
                return self._answer(filing)
        self._save_next_group()
        return self._answer(filing)

    def _save_next_group(self) -> None:
        """Save the filings waiting now (this caller's among them, first), then hand the
        turn to the first filing that arrived meanwhile, or end it."""
        with self.lock:
            group = _next_group(self.waiting)
            del self.waiting[: len(group)]
        try:
            self._save(group)
        finally:
            for filing in group:
                filing.done.set()
            with self.lock:
                if self.waiting:
                    following = self.waiting[0]
                    following.leads = True
                    following.done.set()
                else:
                    self.saving = False

    def _save(self, group: list[Waiting]) -> None:
        if len(group) > 1:
            try:
                self._store(group)
                return
            except Exception:  # noqa: S110 - saved again one by one below: own answers
                pass
            except BaseException as e:  # an interrupt is everyone's
                for filing in group:
                    filing.error = e
                return
        for filing in group:
            try:
                self._store([filing])
            except BaseException as e:
                filing.error = e

    def _store(self, group: list[Waiting]) -> None:
        recordings = self.store([f.event for f in group], [f.client_event for f in group])
        self.remember([f.stream for f in group])
        for filing, recording in zip(group, recordings, strict=True):
            filing.recording = recording

    @staticmethod
    def _answer(filing: Waiting) -> Recording[Any]:
        if filing.error is not None:
            raise filing.error
        assert filing.recording is not None, "a filing answered without its save"
        return filing.recording


def _next_group(waiting: list[Waiting]) -> list[Waiting]:
    """The filings waiting, in order, up to `MAX_GROUP` and up to the first that touches
    a stream already in the group: two events decided on one stream's same version would
    fail the group on the stream's unique key (on PostgreSQL after drawing positions,
    leaving a gap in the log); apart, the second is decided again on the first."""
    group: list[Waiting] = []
    streams: set[Any] = set()
    for filing in waiting[:MAX_GROUP]:
        if filing.stream.id in streams:
            break
        group.append(filing)
        streams.add(filing.stream.id)
    return group

"""What every fieldlog projection shares: dispatch on the event's published type.

Handlers take the event in its published form (`incidents.published`): the JSON every
reader but the office sees, built once per event for all the views, straight from the
stored JSON.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection

from incidents.published import published_fact
from projections.views import Tx, View


class StaleTrackingError(Exception):
    """The view's position is not the one this worker read: someone else moved it
    (another worker, or a rebuild). Re-read positions before applying anything more."""


Published = dict[str, Any]


class FieldlogProjection(Projection[Any]):
    """Handlers are methods named `on_<EventType>(tx, event, position)` taking the
    published event; an event with no handler still advances the tracking position (in
    the same transaction)."""

    schema: ClassVar[Sequence[str]] = ()
    tables: ClassVar[Sequence[str]] = ()
    # Raise it with every change to the schema or to what the handlers write: a view of
    # another version is emptied at start and rebuilt from the log.
    schema_version: ClassVar[int] = 1
    retired: ClassVar[Sequence[str]] = ()  # tables earlier versions made, dropped on reset

    def __init__(self, view: View) -> None:
        super().__init__(view)

    def begin_run(self) -> None:
        """Forget what an earlier run held in memory (it may have failed half-way)."""

    def end_run(self, tx: Tx) -> None:
        """Write what the run's handlers held back, in the run's transaction."""

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        """The library's entry point, for a domain event: applied in its published form."""
        event = published_fact(domain_event, tracking.notification_id)
        self.apply([(event, tracking.notification_id)], tracking.application_name, None)

    def apply(
        self, events: Sequence[tuple[Published, int]], application_name: str, after: int | None
    ) -> None:
        """Apply a run of events and the last one's position in one transaction. One
        transaction per run, not per event: each commit is a disk flush, and a rebuild
        is a million events."""
        self.view.transact(
            [Tracking(application_name, events[-1][1])],
            lambda tx: self.apply_within(tx, events, application_name, after),
        )

    def apply_within(
        self,
        tx: Tx,
        events: Sequence[tuple[Published, int]],
        application_name: str,
        after: int | None,
    ) -> None:
        """The run's rows, in the caller's transaction; with `after`, only if the view is
        still at that position (so no event is ever skipped, whoever else writes it)."""
        if after is not None:
            current = self.view.tracked(tx, application_name)
            if current != after:
                raise StaleTrackingError(f"{self.name} is at {current}, not {after}")
        self.begin_run()
        # Each type's handler looked up once a run: a `getattr` that misses raises and
        # catches inside, and most events (observations) miss two of the three views.
        handlers: dict[str, Any] = {}
        for event, position in events:
            kind = event["type"]
            if kind in handlers:
                handler = handlers[kind]
            else:
                handler = handlers[kind] = getattr(self, f"on_{kind}", None)
            if handler is not None:
                handler(tx, event, position)
        self.end_run(tx)

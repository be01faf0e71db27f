"""What every fieldlog projection shares: dispatch on the event's published type."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection

from incidents.presentation import stored_event
from projections.views import Tx, View


class FieldlogProjection(Projection[Any]):
    """Handlers are methods named `on_<EventType>(tx, event, position)`; an event with no
    handler still advances the tracking position (in the same transaction)."""

    schema: ClassVar[Sequence[str]] = ()
    tables: ClassVar[Sequence[str]] = ()

    def __init__(self, view: View) -> None:
        super().__init__(view)

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        handler = getattr(self, f"on_{type(domain_event).__name__}", None)

        def work(tx: Tx) -> None:
            if handler is not None:
                handler(tx, domain_event, tracking.notification_id)

        self.view.transact(tracking, work)


def published(event: Any, position: int) -> dict[str, Any]:
    """The stored event as everyone but the office sees it: no personal data kept here."""
    return stored_event(event, position, sees_personal_data=False)

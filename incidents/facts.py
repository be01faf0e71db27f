"""The envelope every fact carries, and the vocabularies of the published language.

Event classes live at module level (not nested in their aggregate) so that their
stored topics read as the published type names, e.g. ``incidents.incident:ObservationRecorded``.
Stored topics are public schema: a rename must go through ``register_topic``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from eventsourcing.domain import AggregateCreated, AggregateEvent

TimeCertainty = Literal["measured", "estimated", "unknown"]
TIME_CERTAINTIES: tuple[str, ...] = ("measured", "estimated", "unknown")

# Stored attribute names that differ from the published field names
# (``from`` is a Python keyword).
PUBLISHED_NAMES: dict[str, str] = {"from_": "from"}
STORED_NAMES: dict[str, str] = {v: k for k, v in PUBLISHED_NAMES.items()}

ENVELOPE_FIELDS = ("event_id", "occurred_at", "time_certainty", "recorded_by")
LIBRARY_FIELDS = ("originator_id", "originator_version", "timestamp", "originator_topic")


class Fact(AggregateEvent):
    """A fact as filed: the client's envelope plus the server's `recorded_by`.

    The library's ``timestamp`` is the server's `recorded_at` (UTC).
    """

    event_id: str
    occurred_at: datetime
    time_certainty: str
    recorded_by: str

    @property
    def type_name(self) -> str:
        return type(self).__name__

    def payload(self) -> dict[str, Any]:
        """The published payload fields of this fact (no envelope)."""
        return payload_of(self)


class Opening(AggregateCreated):
    """The first fact of a stream: it creates the stream under the client's UUID."""

    event_id: str
    occurred_at: datetime
    time_certainty: str
    recorded_by: str

    @property
    def type_name(self) -> str:
        return type(self).__name__

    def payload(self) -> dict[str, Any]:
        return payload_of(self)


AnyFact = Fact | Opening


def payload_of(event: object) -> dict[str, Any]:
    skip = set(ENVELOPE_FIELDS) | set(LIBRARY_FIELDS)
    return {PUBLISHED_NAMES.get(k, k): v for k, v in vars(event).items() if k not in skip}

"""A crew's line patrol: what it saw along the line, from start to end."""

from __future__ import annotations

from typing import Any

from incidents import submissions as sub
from incidents.errors import InvalidEventError
from incidents.facts import Fact, Opening
from incidents.streams import Stream, fact_kwargs


class PatrolStarted(Opening):
    crew_id: str
    line: str
    people: list[str]

    def apply(self, aggregate: Any) -> None:
        aggregate.crew_id = self.crew_id
        aggregate.ended = False


class LineObservationRecorded(Fact):
    category: str
    severity: str
    description: str
    location: dict[str, Any] | None


class PatrolEnded(Fact):
    summary: str | None

    def apply(self, aggregate: Any) -> None:
        aggregate.ended = True


class Patrol(Stream):
    """Invariant: nothing may follow `PatrolEnded`."""

    opening = PatrolStarted
    facts = {"LineObservationRecorded": LineObservationRecorded, "PatrolEnded": PatrolEnded}

    def __init__(self) -> None:
        self.crew_id: str = ""
        self.ended = False

    @classmethod
    def start(cls, filed: sub.PatrolStarted, recorded_by: str) -> Patrol:
        return cls._create(PatrolStarted, id=filed.stream_uuid, **fact_kwargs(filed, recorded_by))

    def append(self, filed: sub.Submission, recorded_by: str) -> None:
        self.check_not_ended()
        super().append(filed, recorded_by)

    def check_not_ended(self) -> None:
        if self.ended:
            raise InvalidEventError(
                "this patrol has ended (PatrolEnded): nothing may follow it; start a new patrol"
            )

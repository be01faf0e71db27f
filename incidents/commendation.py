"""A commendation: nominated for an incident, endorsed, then approved or rejected by HR."""

from __future__ import annotations

from typing import Any

from incidents import submissions as sub
from incidents.errors import InvalidEventError
from incidents.facts import Fact, Opening
from incidents.streams import Stream, fact_kwargs

FINAL = ("approved", "rejected")


class CommendationNominated(Opening):
    nominees: list[str]
    incident_id: str
    citation: str

    def apply(self, aggregate: Any) -> None:
        aggregate.status = "nominated"
        aggregate.incident_id = self.incident_id


class CommendationEndorsed(Fact):
    note: str | None

    def apply(self, aggregate: Any) -> None:
        aggregate.status = "endorsed"


class CommendationApproved(Fact):
    award: str

    def apply(self, aggregate: Any) -> None:
        aggregate.status = "approved"


class CommendationRejected(Fact):
    reason: str

    def apply(self, aggregate: Any) -> None:
        aggregate.status = "rejected"


class Commendation(Stream):
    """Lifecycle: nominated → endorsed → approved; rejected from nominated or endorsed."""

    opening = CommendationNominated
    facts = {
        "CommendationEndorsed": CommendationEndorsed,
        "CommendationApproved": CommendationApproved,
        "CommendationRejected": CommendationRejected,
    }

    def __init__(self) -> None:
        self.status = "nominated"
        self.incident_id = ""

    @classmethod
    def nominate(cls, filed: sub.CommendationNominated, recorded_by: str) -> Commendation:
        return cls._create(
            CommendationNominated, id=filed.stream_uuid, **fact_kwargs(filed, recorded_by)
        )

    def append(self, filed: sub.Submission, recorded_by: str) -> None:
        self.check_not_final()
        if filed.type == "CommendationEndorsed":
            self.check_can_endorse()
        if filed.type == "CommendationApproved":
            self.check_can_approve()
        super().append(filed, recorded_by)

    def check_not_final(self) -> None:
        if self.status in FINAL:
            raise InvalidEventError(
                f"this commendation is already {self.status}; that decision is final"
            )

    def check_can_endorse(self) -> None:
        if self.status != "nominated":
            raise InvalidEventError("this commendation is already endorsed")

    def check_can_approve(self) -> None:
        if self.status != "endorsed":
            raise InvalidEventError("approval needs an endorsement first (CommendationEndorsed)")

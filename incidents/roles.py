"""Who may file what: the contract's role table, deny by default."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from incidents.errors import NotPermittedError
from incidents.submissions import COMMENDATION_TYPES, INCIDENT_TYPES, PATROL_TYPES

Role = Literal["crew", "safety", "hr", "admin"]
ROLES: tuple[Role, ...] = ("crew", "safety", "hr", "admin")

HR_DECISIONS = ("CommendationApproved", "CommendationRejected")
OFFICE_ONLY = ("IncidentReviewed", "IncidentReopened")
ALL_FILED = PATROL_TYPES + INCIDENT_TYPES + COMMENDATION_TYPES

MAY_FILE: dict[Role, frozenset[str]] = {
    "crew": frozenset(
        PATROL_TYPES
        + tuple(t for t in INCIDENT_TYPES if t not in OFFICE_ONLY)
        + ("CommendationNominated",)
    ),
    "safety": frozenset(t for t in ALL_FILED if t not in HR_DECISIONS),
    "hr": frozenset(HR_DECISIONS),
    "admin": frozenset(t for t in ALL_FILED if t not in HR_DECISIONS),
}


@dataclass(frozen=True)
class Actor:
    """Who is acting: a token's role and name, and for `crew` the crew it is bound to."""

    role: Role
    name: str
    crew_id: str | None = None

    @property
    def recorded_by(self) -> str:
        return f"{self.role}:{self.name}"

    @property
    def is_crew(self) -> bool:
        return self.role == "crew"

    def sees_personal_data(self) -> bool:
        return self.role in ("safety", "admin")

    def check_may_file(self, event_type: str) -> None:
        if event_type not in MAY_FILE[self.role]:
            raise NotPermittedError(f"the {self.role} role may not file {event_type}")

    def owns(self, crew_id: str) -> bool:
        """Whether this actor may see a record of this crew (non-crew roles see all)."""
        return not self.is_crew or crew_id == self.crew_id

"""An incident: an emergency a crew met, from the first sighting to the family's thanks.

The aggregate guards the lifecycle (open ↔ reviewed), corrections and the
personal-data rules; the incident *as it reads* (corrections applied,
intervals) is a pure fold in `incidents.replay`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from incidents import submissions as sub
from incidents.errors import InvalidEventError, NotPermittedError
from incidents.facts import Fact, Opening, payload_of
from incidents.streams import Stream, fact_kwargs

UNCORRECTABLE = ("EntryCorrected", "VictimDetailsRecorded", "PersonalDataErased")
CORRECTABLE_ENVELOPE = ("occurred_at", "time_certainty")


@dataclass(frozen=True)
class Entry:
    """An entry of the incident as it now stands, for checking corrections (frozen, and
    its content never changed in place: a cached incident is copied a level deep)."""

    type: str
    recorded_by: str
    content: dict[str, Any] = field(default_factory=dict)


def entry_of(event: Fact | Opening) -> Entry:
    """The entry as filed; victim details stay out (they cannot be corrected, and the
    aggregate may be cached in memory)."""
    content = {
        "event_id": event.event_id,
        "type": type(event).__name__,
        "stream_id": str(event.originator_id),
        "occurred_at": event.occurred_at.isoformat(),
        "time_certainty": event.time_certainty,
        **payload_of(event),
    }
    if type(event).__name__ == "VictimDetailsRecorded":
        content = {k: v for k, v in content.items() if k not in ("name", "age", "phone")}
    return Entry(type=type(event).__name__, recorded_by=event.recorded_by, content=content)


class IncidentFact(Fact):
    def apply(self, aggregate: Any) -> None:
        aggregate.entries[self.event_id] = entry_of(self)


class IncidentOpened(Opening):
    """Schema v2 added `patrol_id` (the patrol the crew was on)."""

    class_version = 2

    kind: str
    title: str
    crew_id: str
    location: dict[str, Any]
    patrol_id: str | None

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["patrol_id"] = None

    def apply(self, aggregate: Any) -> None:
        aggregate.crew_id = self.crew_id
        aggregate.entries[self.event_id] = entry_of(self)


class ObservationRecorded(IncidentFact):
    description: str


class EmergencyServicesCalled(IncidentFact):
    service: str
    people: list[str]
    description: str | None


class RescueActionTaken(IncidentFact):
    action: str
    people: list[str]
    description: str | None


class HelperJoined(IncidentFact):
    description: str
    people: list[str] | None


class VictimHandedOver(IncidentFact):
    to: str


class OutcomeRecorded(IncidentFact):
    outcome: str
    detail: str | None


class VictimDetailsRecorded(IncidentFact):
    """Personal data of a member of the public (encrypted at rest, erasable)."""

    name: str
    age: int | None
    phone: str | None


class ThanksReceived(IncidentFact):
    from_: str
    via: str | None
    message: str | None


class EntryCorrected(IncidentFact):
    corrects_event_id: str
    changes: dict[str, Any]
    reason: str

    def apply(self, aggregate: Any) -> None:
        super().apply(aggregate)
        target: Entry = aggregate.entries[self.corrects_event_id]
        aggregate.entries[self.corrects_event_id] = replace(
            target, content=apply_changes(target.content, self.changes)
        )


class IncidentReviewed(IncidentFact):
    findings: str

    def apply(self, aggregate: Any) -> None:
        super().apply(aggregate)
        aggregate.status = "reviewed"


class IncidentReopened(IncidentFact):
    reason: str

    def apply(self, aggregate: Any) -> None:
        super().apply(aggregate)
        aggregate.status = "open"


class PersonalDataErased(IncidentFact):
    """Recorded by the server when the incident's personal-data key is destroyed."""

    def apply(self, aggregate: Any) -> None:
        super().apply(aggregate)
        aggregate.personal_data_erased = True


def apply_changes(content: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """A `null` change removes an optional field; anything else replaces it."""
    merged = dict(content)
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


class Incident(Stream):
    """Invariants: the crew is fixed at opening; a review needs an open incident and a
    reopen a reviewed one; corrections name an earlier, correctable entry of this
    incident and leave it valid; no personal data after erasure."""

    opening = IncidentOpened
    facts = {
        cls.__name__: cls
        for cls in (
            ObservationRecorded,
            EmergencyServicesCalled,
            RescueActionTaken,
            HelperJoined,
            VictimHandedOver,
            OutcomeRecorded,
            VictimDetailsRecorded,
            ThanksReceived,
            EntryCorrected,
            IncidentReviewed,
            IncidentReopened,
        )
    }

    def __init__(self) -> None:
        self.crew_id = ""
        self.status = "open"
        self.personal_data_erased = False
        self.entries: dict[str, Entry] = {}

    @classmethod
    def open(cls, filed: sub.IncidentOpened, recorded_by: str) -> Incident:
        return cls._create(IncidentOpened, id=filed.stream_uuid, **fact_kwargs(filed, recorded_by))

    def append(self, filed: sub.Submission, recorded_by: str) -> None:
        if isinstance(filed, sub.IncidentReviewed):
            self.check_can_review()
        elif isinstance(filed, sub.IncidentReopened):
            self.check_can_reopen()
        elif isinstance(filed, sub.VictimDetailsRecorded):
            self.check_personal_data_not_erased()
        elif isinstance(filed, sub.EntryCorrected):
            self.corrected_content(filed, recorded_by)
        super().append(filed, recorded_by)

    def erase_personal_data(self, **envelope: Any) -> None:
        self.trigger_event(PersonalDataErased, **envelope)

    def check_can_review(self) -> None:
        if self.status == "reviewed":
            raise InvalidEventError(
                "this incident is already reviewed; file IncidentReopened before reviewing again"
            )

    def check_can_reopen(self) -> None:
        if self.status != "reviewed":
            raise InvalidEventError("only a reviewed incident can be reopened; it is open")

    def check_personal_data_not_erased(self) -> None:
        if self.personal_data_erased:
            raise InvalidEventError(
                "this incident's personal data was erased; no new victim details may be recorded"
            )

    def corrected_content(self, filed: sub.EntryCorrected, recorded_by: str) -> dict[str, Any]:
        """The corrected entry's content after the changes, checked against every rule."""
        target = self.entries.get(filed.corrects_event_id)
        if target is None:
            raise InvalidEventError(
                f"field `corrects_event_id`: no event {filed.corrects_event_id} "
                "in this incident to correct"
            )
        if target.type in UNCORRECTABLE:
            raise InvalidEventError(
                f"field `corrects_event_id`: a {target.type} cannot be corrected"
            )
        if recorded_by.startswith("crew:") and not target.recorded_by.startswith("crew:"):
            raise NotPermittedError("a crew may correct only entries its own crew filed")
        self.check_changes_allowed(target, filed.changes)
        merged = apply_changes(target.content, filed.changes)
        sub.revalidate(target.type, merged)
        return merged

    @staticmethod
    def check_changes_allowed(target: Entry, changes: dict[str, Any]) -> None:
        allowed = set(sub.MODELS[target.type].model_fields) - set(sub.Submission.model_fields)
        allowed = {"from" if k == "from_" else k for k in allowed}
        allowed |= set(CORRECTABLE_ENVELOPE)
        if "crew_id" in changes:
            raise InvalidEventError("field `changes.crew_id`: an incident's crew cannot change")
        for key in changes:
            if key not in allowed:
                raise InvalidEventError(
                    f"field `changes.{key}`: not a correctable field of {target.type}; "
                    f"use one of {', '.join(sorted(allowed))}"
                )

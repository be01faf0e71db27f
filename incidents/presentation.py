"""Stored facts as clients read them: the envelope, the payload, personal data guarded."""

from __future__ import annotations

from typing import Any

from incidents.facts import AnyFact

PERSONAL_FIELDS = ("name", "age", "phone")
REGISTRY_KEYS = {"PersonRegistered": "person_id", "CrewRegistered": "crew_id"}


def stream_name(event: AnyFact) -> str:
    """Registry streams are named by the person or crew id; the others by their UUID."""
    kind = type(event).__name__
    if kind in REGISTRY_KEYS:
        return str(getattr(event, REGISTRY_KEYS[kind]))
    if kind in ("MemberJoinedCrew", "MemberLeftCrew"):
        return str(vars(event)["crew_id"])
    return str(event.originator_id)


def stored_event(
    event: AnyFact, position: int, *, sees_personal_data: bool, erased: bool = False
) -> dict[str, Any]:
    """`{event_id, type, stream_id, version, position, occurred_at, time_certainty,
    recorded_at, recorded_by, ...payload}` with victim details withheld or erased."""
    body: dict[str, Any] = {
        "event_id": event.event_id,
        "type": type(event).__name__,
        "stream_id": stream_name(event),
        "version": event.originator_version,
        "position": position,
        "occurred_at": event.occurred_at.isoformat(),
        "time_certainty": event.time_certainty,
        "recorded_at": event.timestamp.isoformat(),
        "recorded_by": event.recorded_by,
    }
    payload = event.payload()
    if body["type"] == "VictimDetailsRecorded" and (erased or not sees_personal_data):
        payload = {k: v for k, v in payload.items() if k not in PERSONAL_FIELDS}
        payload["personal_data"] = "erased" if erased else "withheld"
    body.update(payload)
    return body

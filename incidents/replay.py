"""An incident as it stood after each of its events: a pure fold, no storage.

Corrections are applied to the entries they name; the incident's state and its
standard intervals are always derived from the entries as corrected so far.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from incidents.incident import apply_changes

CERTAINTY_ORDER = {"measured": 0, "estimated": 1, "unknown": 2}
INTERVAL_KEYS = (
    "to_first_call_s",
    "to_first_action_s",
    "to_out_of_danger_s",
    "to_handover_s",
    "to_cpr_s",
    "to_first_shock_s",
)


def corrected_entries(events: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The stored events with every correction among them applied to its target."""
    entries: list[dict[str, Any]] = []
    by_id: dict[str, int] = {}
    for event in events:
        entry = dict(event)
        by_id[entry["event_id"]] = len(entries)
        entries.append(entry)
        if entry["type"] == "EntryCorrected" and entry["corrects_event_id"] in by_id:
            i = by_id[entry["corrects_event_id"]]
            entries[i] = apply_changes(entries[i], entry["changes"])
    return entries


def incident_state(events: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The incident after these stored events (version order), corrections applied."""
    entries = corrected_entries(events)
    opened = entries[0]
    state: dict[str, Any] = {
        "incident_id": opened["stream_id"],
        "status": "open",
        "kind": opened["kind"],
        "title": opened["title"],
        "crew_id": opened["crew_id"],
        "location": opened.get("location"),
        "patrol_id": opened.get("patrol_id"),
        "version": entries[-1]["version"],
        "position": max(e["position"] for e in entries),
        "opened_at": opened["occurred_at"],
        "opened_at_certainty": opened.get("time_certainty", "measured"),
        "recorded_at": opened["recorded_at"],
        "new_since_review": 0,
        "outcome": None,
        "handed_over_to": None,
        "people": [],
        "thanks": [],
        "victim": None,
        "corrections": [],
        "reviews": [],
    }
    people: list[str] = []
    last_review_version = None
    for entry in entries[1:]:
        kind = entry["type"]
        if kind == "IncidentReviewed":
            state["status"] = "reviewed"
            last_review_version = entry["version"]
            state["reviews"].append({"findings": entry["findings"], "version": entry["version"]})
        elif kind == "IncidentReopened":
            state["status"] = "open"
        elif kind == "OutcomeRecorded":
            state["outcome"] = {"outcome": entry["outcome"], "detail": entry.get("detail")}
        elif kind == "VictimHandedOver":
            state["handed_over_to"] = entry["to"]
        elif kind == "ThanksReceived":
            state["thanks"].append(
                {k: entry.get(k) for k in ("from", "via", "message", "occurred_at")}
            )
        elif kind == "VictimDetailsRecorded":
            state["victim"] = {
                k: v for k, v in entry.items() if k in ("name", "age", "phone", "personal_data")
            }
        elif kind == "EntryCorrected":
            state["corrections"].append(
                {k: entry[k] for k in ("event_id", "corrects_event_id", "changes", "reason")}
            )
        for person in entry.get("people") or []:
            if person not in people:
                people.append(person)
    state["people"] = people
    if last_review_version is not None:
        state["new_since_review"] = sum(1 for e in entries if e["version"] > last_review_version)
    intervals, certainty = standard_intervals(entries)
    state["intervals"] = intervals
    state["interval_certainty"] = certainty
    return state


def standard_intervals(
    entries: Sequence[dict[str, Any]],
) -> tuple[dict[str, int | None], dict[str, str]]:
    """Whole seconds from the emergency's start to each milestone (earliest occurrence)."""
    opened = entries[0]
    start = (_instant(opened["occurred_at"]), opened.get("time_certainty", "measured"))

    def first(*matches: tuple[str, str | None]) -> tuple[datetime, str] | None:
        found = [
            (_instant(e["occurred_at"]), e.get("time_certainty", "measured"))
            for e in entries
            for kind, action in matches
            if e["type"] == kind and (action is None or e.get("action") == action)
        ]
        return min(found, key=lambda f: f[0]) if found else None

    ends = {
        "to_first_call_s": first(("EmergencyServicesCalled", None)),
        "to_first_action_s": first(("RescueActionTaken", None)),
        "to_out_of_danger_s": first(
            ("RescueActionTaken", "pull_ashore"), ("RescueActionTaken", "aed_shock")
        ),
        "to_handover_s": first(("VictimHandedOver", None)),
        "to_cpr_s": None,
        "to_first_shock_s": None,
    }
    if opened["kind"] == "cardiac_arrest":
        ends["to_cpr_s"] = first(("RescueActionTaken", "cpr_started"))
        ends["to_first_shock_s"] = first(("RescueActionTaken", "aed_shock"))
    intervals: dict[str, int | None] = {}
    certainty: dict[str, str] = {}
    for key in INTERVAL_KEYS:
        end = ends[key]
        if end is None:
            intervals[key] = None
            continue
        intervals[key] = int((end[0] - start[0]).total_seconds())
        certainty[key] = max(start[1], end[1], key=lambda c: CERTAINTY_ORDER.get(c, 2))
    return intervals, certainty


def replay(
    events: Sequence[dict[str, Any]],
    *,
    as_of: datetime | None = None,
    known_at: datetime | None = None,
) -> dict[str, Any]:
    """`{incident_id, steps: [{version, event, state}], intervals, interval_certainty}`.

    `known_at` keeps what was recorded by then (what the office knew); `as_of` then keeps
    what had happened by then, on the corrected occurred-at axis.
    """
    kept = [e for e in events if known_at is None or _instant(e["recorded_at"]) <= known_at]
    if as_of is not None and kept:
        corrected = {e["event_id"]: e for e in corrected_entries(kept)}
        happened = {
            event_id
            for event_id, e in corrected.items()
            if e["type"] != "EntryCorrected" and _instant(e["occurred_at"]) <= as_of
        }
        kept = [
            e
            for e in kept
            if e["event_id"] in happened
            or (e["type"] == "EntryCorrected" and e["corrects_event_id"] in happened)
        ]
    if kept and kept[0]["type"] != "IncidentOpened":
        kept = []
    steps = [
        {"version": e["version"], "event": e, "state": incident_state(kept[: i + 1])}
        for i, e in enumerate(kept)
    ]
    last = steps[-1]["state"] if steps else None
    return {
        "incident_id": events[0]["stream_id"] if events else None,
        "steps": steps,
        "intervals": last["intervals"] if last else dict.fromkeys(INTERVAL_KEYS),
        "interval_certainty": last["interval_certainty"] if last else {},
    }


def _instant(value: str | datetime) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)
